import { ConvertError } from '../errors.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Parses vocab.txt (one token a line, id = line number). */
export function parseVocab(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Builds the tokenizer.json that Hugging Face's BertTokenizerFast writes for a WordPiece vocabulary
 * (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] … [SEP] template), for checkpoints that ship only vocab.txt.
 */
export function wordpieceTokenizerJson(vocab: string[], lowercase = true): string {
  const ids = new Map(vocab.map((t, i) => [t, i]));
  for (const s of ['[UNK]', '[CLS]', '[SEP]']) {
    if (!ids.has(s))
      throw new ConvertError(
        'CHECKPOINT_INVALID',
        `The WordPiece vocabulary (${vocab.length} tokens) lacks ${s}; a BERT vocab.txt needs [UNK], [CLS] and [SEP].`,
      );
  }
  const special = (id: string) => ({ id, ids: [ids.get(id)!], tokens: [id] });
  const tok = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.filter((s) => ids.has(s)).map((content) => ({
      id: ids.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
  return JSON.stringify(tok);
}
