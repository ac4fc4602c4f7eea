import { describe, expect, it } from 'vitest';
import { termSpans, terms } from '../../../src/search/keywords/terms.js';

/** Every span's original slice, normalised the same way, is its term. */
function spansAgree(text: string): void {
  for (const s of termSpans(text)) {
    expect(text.slice(s.start, s.end).normalize('NFKC').toLowerCase()).toBe(s.term);
  }
  expect(termSpans(text).map((s) => s.term)).toEqual(terms(text));
}

describe('terms', () => {
  it('splits on anything outside letters, numbers and marks, lower-cased, repeats kept', () => {
    expect(terms('The fs.readFileSync(path) ERR_INVALID_ARG_TYPE, the end.')).toEqual([
      'the',
      'fs',
      'readfilesync',
      'path',
      'err',
      'invalid',
      'arg',
      'type',
      'the',
      'end',
    ]);
    expect(terms('  ...  ')).toEqual([]);
    expect(terms('')).toEqual([]);
  });

  it('drops stop words only when given', () => {
    expect(terms('the cat and the hat', new Set(['the', 'and']))).toEqual(['cat', 'hat']);
    expect(termSpans('The cat', new Set(['the']))).toEqual([{ term: 'cat', start: 4, end: 7 }]);
  });

  it('keeps CJK runs whole (no segmentation) and splits at CJK punctuation', () => {
    expect(terms('東京タワー、大阪城。')).toEqual(['東京タワー', '大阪城']);
    spansAgree('東京タワー、大阪城。');
  });

  it('keeps combining marks inside terms, composed or not', () => {
    expect(terms('cafe\u0301 café')).toEqual(['café', 'café']);
    const spans = termSpans('x cafe\u0301 y');
    expect(spans[1]).toEqual({ term: 'café', start: 2, end: 7 });
    spansAgree('नमस्ते दुनिया'); // Devanagari vowel signs and virama are marks
  });

  it('handles right-to-left scripts', () => {
    expect(terms('مرحبا بالعالم')).toEqual(['مرحبا', 'بالعالم']);
    expect(terms('שָׁלוֹם עולם')).toEqual(['שָׁלוֹם', 'עולם']);
    spansAgree('\u202bمرحبا\u202c بالعالم');
  });

  it('treats emoji as separators and keeps astral letters with correct offsets', () => {
    expect(terms('I❤JS 🎉done')).toEqual(['i', 'js', 'done']);
    // U+FE0F (emoji presentation selector) is a mark (Mn), so by the rule it starts the next run.
    expect(terms('I❤\ufe0fJS')).toEqual(['i', '\ufe0fjs']);
    spansAgree('I❤\ufe0fJS 👍🏽ok');
    const text = 'a𝐀b 😀 𐐀x';
    // 𝐀 (math bold A) is NFKC 'a'; 𐐀 (Deseret, astral) lower-cases to 𐐨.
    expect(terms(text)).toEqual(['aab', '𐐨x']);
    expect(termSpans(text)).toEqual([
      { term: 'aab', start: 0, end: 4 },
      { term: '𐐨x', start: 8, end: 11 },
    ]);
    spansAgree(text);
  });

  it('maps NFKC ligatures, full-width forms and compatibility characters back to the original', () => {
    const text = 'ﬁle ＡＢＣ１２ ① ㎏ x';
    expect(terms(text)).toEqual(['file', 'abc12', '1', 'kg', 'x']);
    expect(termSpans(text)).toEqual([
      { term: 'file', start: 0, end: 3 },
      { term: 'abc12', start: 4, end: 9 },
      { term: '1', start: 10, end: 11 },
      { term: 'kg', start: 12, end: 13 },
      { term: 'x', start: 14, end: 15 },
    ]);
  });

  it('maps lower-casing that changes length (İ) and composition across chunks (jamo, half-width kana)', () => {
    spansAgree('İstanbul İİ x');
    expect(termSpans('İx y')).toEqual([
      { term: 'i̇x', start: 0, end: 2 },
      { term: 'y', start: 3, end: 4 },
    ]);
    const jamo = '\u1100\u1161\u11a8 z'; // ᄀ ᅡ ᆨ → 각
    expect(terms(jamo)).toEqual(['각', 'z']);
    expect(termSpans(jamo)).toEqual([
      { term: '각', start: 0, end: 3 },
      { term: 'z', start: 4, end: 5 },
    ]);
    expect(termSpans('ｶﾞｷ q')).toEqual([
      { term: 'ガキ', start: 0, end: 3 },
      { term: 'q', start: 4, end: 5 },
    ]);
  });

  it('uses the Greek final sigma of the whole string', () => {
    expect(terms('ΟΔΟΣ ΟΔΟΣ')).toEqual(['οδος', 'οδος']);
    spansAgree('ΟΔΟΣ');
  });
});
