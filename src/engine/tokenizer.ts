import { Tokenizer } from '@huggingface/tokenizers';
import { HpdError } from '../errors.js';

// Long texts are cut at a whitespace boundary before tokenising: every token before the cut is
// exactly what the whole text gives, so truncation stays exact while a 100k-char text costs ~nothing.
const CHARS_PER_TOKEN_BUDGET = 12;

/** Wraps @huggingface/tokenizers with what it lacks: truncation that keeps special tokens. */
export class TextTokenizer {
  private tok: Tokenizer;
  private cls: number;
  private sep: number;

  constructor(tokenizerJson: object, tokenizerConfig: object, readonly maxTokens: number) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    const cls = this.tok.token_to_id('[CLS]');
    const sep = this.tok.token_to_id('[SEP]');
    if (cls === undefined || sep === undefined) {
      throw new HpdError('MODEL_INVALID', 'tokenizer.json has no [CLS]/[SEP] tokens; only BERT WordPiece tokenizers are supported.');
    }
    if (maxTokens < 2) throw new HpdError('MODEL_INVALID', `maxTokens ${maxTokens} leaves no room for [CLS] and [SEP].`);
    this.cls = cls;
    this.sep = sep;
  }

  encode(text: string): { ids: Int32Array; truncated: boolean } {
    const room = this.maxTokens - 2;
    const budget = room * CHARS_PER_TOKEN_BUDGET + 64;
    if (text.length > budget) {
      const cut = text.lastIndexOf(' ', budget);
      if (cut > 0) {
        const body = this.body(text.slice(0, cut));
        // Enough tokens before the cut: the first `room` of them are final.
        if (body.length >= room) return { ids: this.wrap(body, room), truncated: body.length > room || /\S/.test(text.slice(cut)) };
      }
    }
    const body = this.body(text);
    return { ids: this.wrap(body, room), truncated: body.length > room };
  }

  private body(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
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
