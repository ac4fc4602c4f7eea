import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { generatedVocab } from '../../src/convert/fixture.js';
import { wordpieceTokenizerJson } from '../../src/convert/wordpiece-tokenizer.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { HpdError } from '../../src/errors.js';
import { seededRandom } from '../../src/seeded-random.js';
import { hasSharedData, SHARED_DATA } from '../helpers/fixtures.js';

const tokenizerJson = hasSharedData
  ? JSON.parse(readFileSync(join(SHARED_DATA, 'tokenizers/bert-base-uncased/tokenizer.json'), 'utf8'))
  : JSON.parse(wordpieceTokenizerJson(generatedVocab()));
if (!hasSharedData) console.warn('[skip-part] ../shared/data absent: tokenizer tests use the generated vocabulary');

describe('TextTokenizer', () => {
  const raw = new Tokenizer(tokenizerJson, {});
  const cls = raw.token_to_id('[CLS]')!;
  const sep = raw.token_to_id('[SEP]')!;

  it('matches the plain tokenizer on short texts, with [CLS] … [SEP]', () => {
    const t = new TextTokenizer(tokenizerJson, {}, 128);
    for (const s of ['Hello, World!', 'A man is playing a flute.', 'Café déjà-vu über naïve', '']) {
      expect(Array.from(t.encode(s).ids)).toEqual(raw.encode(s).ids);
      expect(t.encode(s).truncated).toBe(false);
    }
    expect(Array.from(t.encode('').ids)).toEqual([cls, sep]);
    expect(Array.from(t.encode('   \n\t ').ids)).toEqual([cls, sep]);
  });

  it('truncates to maxTokens keeping [CLS] and [SEP], exactly like tokenising the whole text', () => {
    const rnd = seededRandom(3);
    const words = [
      'the',
      'quick',
      'brown',
      'fox',
      'antidisestablishmentarianism',
      'x',
      'jumps',
      '!',
      'naïve',
      'cafés',
      'a' + 'b'.repeat(120),
    ];
    for (const maxTokens of [8, 32, 128]) {
      const t = new TextTokenizer(tokenizerJson, {}, maxTokens);
      for (let trial = 0; trial < 30; trial++) {
        const n = Math.floor(rnd() * 3000);
        const text = Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(
          rnd() < 0.5 ? ' ' : '  ',
        );
        const full = raw.encode(text).ids;
        const expected = full.length <= maxTokens ? full : [...full.slice(0, maxTokens - 1), sep];
        const got = t.encode(text);
        expect(Array.from(got.ids)).toEqual(expected);
        expect(got.truncated).toBe(full.length > maxTokens);
      }
    }
  });

  it('handles a 100k-character text without tokenising all of it', () => {
    const t = new TextTokenizer(tokenizerJson, {}, 128);
    const text = 'All work and no play makes Jack a dull boy. '.repeat(2300);
    expect(text.length).toBeGreaterThan(100_000);
    const got = t.encode(text);
    expect(got.ids.length).toBe(128);
    expect(got.truncated).toBe(true);
    expect(Array.from(got.ids)).toEqual([...raw.encode(text.slice(0, 5000)).ids.slice(0, 127), sep]);
    // One unbroken 100k-character "word" (no whitespace to cut at) still works.
    const blob = new TextTokenizer(tokenizerJson, {}, 16).encode('z'.repeat(100_000));
    expect(blob.ids[0]).toBe(cls);
    expect(blob.ids[blob.ids.length - 1]).toBe(sep);
  });

  it('keeps exact truncation when texts are cut at newlines, punctuation or CJK (issue 8)', () => {
    const rnd = seededRandom(11);
    const pieces = ['ab', 'cat', '\n', ',', '.', '!', '中', '文', '—', '«', 'naïve', '$', 'x'.repeat(150), '\t', 'dog'];
    for (const maxTokens of [8, 128]) {
      const t = new TextTokenizer(tokenizerJson, {}, maxTokens);
      for (let trial = 0; trial < 20; trial++) {
        const text = Array.from(
          { length: 500 + Math.floor(rnd() * 6000) },
          () => pieces[Math.floor(rnd() * pieces.length)],
        ).join('');
        const full = raw.encode(text).ids;
        const got = t.encode(text);
        expect(Array.from(got.ids)).toEqual(full.length <= maxTokens ? full : [...full.slice(0, maxTokens - 1), sep]);
        expect(got.truncated).toBe(full.length > maxTokens);
      }
    }
  });

  it('does not block on a 1e6-character text without spaces (issue 8: was 2-4 s)', () => {
    const t = new TextTokenizer(tokenizerJson, {}, 128);
    for (const [kind, text] of [
      ['newlines', 'ab\n'],
      ['punctuation', 'ab,'],
      ['CJK', '中'],
      ['one word', 'z'],
      ['words of 99k', `${'z'.repeat(99_999)}\v`],
    ] as const) {
      const long = text.repeat(Math.ceil(1e6 / text.length));
      const t0 = performance.now();
      const got = t.encode(long);
      const ms = performance.now() - t0;
      expect(got.ids[0], kind).toBe(cls);
      expect(got.ids[got.ids.length - 1], kind).toBe(sep);
      expect(got.truncated || kind === 'one word', kind).toBe(true);
      expect(ms, `${kind}: ${ms.toFixed(0)} ms`).toBeLessThan(1000); // a DoS bound, not a benchmark
    }
  });

  it('flags exactly the texts longer than maxTokens', () => {
    const t = new TextTokenizer(tokenizerJson, {}, 8);
    // Words that are single tokens in both the BERT and the generated vocabulary (a fresh clone has no ../shared).
    const b = ['the', 'one two three four five six seven eight nine', 'the cat'].map((x) => t.encode(x));
    expect(b.map((e) => e.truncated)).toEqual([false, true, false]);
    expect(b.map((e) => e.ids.length)).toEqual([3, 8, 4]);
  });

  it('rejects tokenizers without [CLS]/[SEP] and maxTokens < 2', () => {
    const bad = JSON.parse(JSON.stringify(tokenizerJson));
    delete bad.model.vocab['[CLS]'];
    bad.added_tokens = bad.added_tokens.filter((t: { content: string }) => t.content !== '[CLS]');
    expect(() => new TextTokenizer(bad, {}, 128)).toThrow(HpdError);
    expect(() => new TextTokenizer(tokenizerJson, {}, 1)).toThrow(HpdError);
  });
});
