import { Tokenizer } from '@huggingface/tokenizers';
import { HpdError } from '../errors.js';

// Long texts are cut at a pre-token boundary (whitespace, punctuation, CJK) before tokenising: every token before
// the cut is exactly what the whole text gives, so truncation stays exact while a 1e6-char text costs ~nothing.
const CHARS_PER_TOKEN_BUDGET = 12;
// Past this many characters the text is cut hard, even mid-word: a bound on CPU for texts with no usable boundary.
const HARD_CHAR_BUDGET = 1 << 16;
// Where BERT's pre-tokenizer surely splits: plain whitespace (not \v, \f or U+FEFF, which its normalizer deletes),
// ASCII and Unicode punctuation, and CJK ideographs (each its own token).
const BOUNDARY = /[\t\n\r \u00a0\u2000-\u200a\u3000!-/:-@[-`{-~\p{P}\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;

/** The last index ≤ `limit` (and > 0) where a pre-token starts, or -1. */
function boundaryBefore(text: string, limit: number): number {
  for (let i = Math.min(limit, text.length - 1); i > 0; i--) if (BOUNDARY.test(text[i])) return i;
  return -1;
}

/** Wraps @huggingface/tokenizers with what it lacks: truncation that keeps special tokens. */
export class TextTokenizer {
  private tok: Tokenizer;
  private cls: number;
  private sep: number;

  constructor(
    tokenizerJson: object,
    tokenizerConfig: object,
    readonly maxTokens: number,
  ) {
    try {
      this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
      this.tok.encode('Probe, 中文 text!', { add_special_tokens: false }); // a malformed pipeline fails here, not on the first embed
    } catch (cause) {
      throw new HpdError(
        'MODEL_INVALID',
        `tokenizer.json cannot be used: ${(cause as Error)?.message ?? String(cause)}.`,
        { cause },
      );
    }
    const cls = this.tok.token_to_id('[CLS]');
    const sep = this.tok.token_to_id('[SEP]');
    if (cls === undefined || sep === undefined) {
      throw new HpdError(
        'MODEL_INVALID',
        'tokenizer.json has no [CLS]/[SEP] tokens; only BERT WordPiece tokenizers are supported.',
      );
    }
    if (maxTokens < 2)
      throw new HpdError('MODEL_INVALID', `maxTokens ${maxTokens} leaves no room for [CLS] and [SEP].`);
    this.cls = cls;
    this.sep = sep;
  }

  encode(text: string): { ids: Int32Array; truncated: boolean } {
    const room = this.maxTokens - 2;
    // Tokenise growing prefixes that end at a boundary until one yields enough tokens; past the hard budget, cut mid-word.
    for (let limit = room * CHARS_PER_TOKEN_BUDGET + 256; limit < text.length; limit *= 2) {
      const hard = limit >= HARD_CHAR_BUDGET;
      const cut = hard ? HARD_CHAR_BUDGET : boundaryBefore(text, limit);
      if (cut <= 0) continue;
      const body = this.body(text.slice(0, cut));
      // Enough tokens before the cut: the first `room` of them are final.
      if (body.length >= room || hard)
        return { ids: this.wrap(body, room), truncated: body.length > room || /\S/.test(text.slice(cut)) };
    }
    const body = this.body(text);
    return { ids: this.wrap(body, room), truncated: body.length > room };
  }

  private body(text: string): number[] {
    try {
      return this.tok.encode(text, { add_special_tokens: false }).ids;
    } catch (cause) {
      // Only a malformed tokenizer.json makes the tokenizer throw on a string.
      throw new HpdError(
        'MODEL_INVALID',
        `tokenizer.json failed on a text: ${(cause as Error)?.message ?? String(cause)}.`,
        { cause },
      );
    }
  }

  private wrap(body: number[], room: number): Int32Array {
    const n = Math.min(body.length, room);
    const out = new Int32Array(n + 2);
    out[0] = this.cls;
    for (let i = 0; i < n; i++) out[i + 1] = body[i];
    out[n + 1] = this.sep;
    return out;
  }
}
