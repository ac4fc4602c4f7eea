// Windowed sentence segmentation gives exactly the sentences (and so the passages) of one Intl.Segmenter pass.
import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import { SEGMENT_MARGIN, SEGMENT_WINDOW, sentenceRanges } from '../../src/text/sentences.js';
import { splitPassages } from '../../src/text/passages.js';

/** The plain segmentation: one Intl.Segmenter pass over the whole text. */
function plainRanges(text: string): { start: number; end: number }[] {
  const seg = new Intl.Segmenter(undefined, { granularity: 'sentence' });
  return Array.from(seg.segment(text), (s) => ({ start: s.index, end: s.index + s.segment.length }));
}

const PIECES = [
  'The quick brown fox jumps over the lazy dog.',
  'Mr. Smith went to Washington, D.C. on Monday.',
  'It costs $3.14, e.g. less than a coffee.',
  'Wait... what?!',
  '"Hello!" she said. "Goodbye."',
  '(This is in parentheses.)',
  'see etc. and so on',
  'U.S.A. is a country.',
  '这是一个句子。这是另一个！',
  '日本語の文です。次の文？',
  'Emoji 😀 are fine 👍🏽.',
  'Zürich café, naïve résumé.',
  'line one\u2028line two\u2028',
  'para\u2029next',
  'no punctuation at all here',
  'Version 1.2.3 shipped; see http://example.com/a.b?c=d.',
  'A.\tB.',
  'end.)  Next',
  '?',
  '   ',
  '\n',
];

function variedText(seed: number, length: number): string {
  const r = seededRandom(seed);
  let s = '';
  while (s.length < length) {
    const k = r();
    if (k < 0.03)
      s += 'lorem ipsum dolor '.repeat(1 + Math.floor(r() * 400)); // a long run without punctuation
    else if (k < 0.05)
      s += 'x'.repeat(1 + Math.floor(r() * 3000)); // a giant word
    else if (k < 0.08) s += ' '.repeat(1 + Math.floor(r() * 40));
    else s += PIECES[Math.floor(r() * PIECES.length)] + (r() < 0.8 ? ' ' : '');
  }
  return s;
}

describe('sentenceRanges: bounded windows, the same sentences as one pass', () => {
  it('matches Intl.Segmenter over the whole text, for the default and for small windows', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const text = variedText(seed, 3_000 + seed * 3_000);
      const want = plainRanges(text);
      for (const [w, m] of [
        [SEGMENT_WINDOW, SEGMENT_MARGIN],
        [1024, 128],
        [300, 64],
      ])
        expect(sentenceRanges(text, w, m), `seed ${seed}, window ${w}`).toEqual(want);
    }
  });

  it('covers the text with consecutive ranges: U+2028 lines, one unpunctuated run, empty text', () => {
    for (const text of ['a line\u2028'.repeat(3000), 'word '.repeat(5000), '']) {
      const got = sentenceRanges(text, 512, 64);
      expect(got).toEqual(plainRanges(text));
      let at = 0;
      for (const r of got) (expect(r.start).toBe(at), (at = r.end));
      expect(at).toBe(text.length);
    }
  });
});

describe('splitPassages with windowed segmentation gives the passages of the plain one', () => {
  it('on varied text, with the default and an exact-style token counter', async () => {
    vi.resetModules();
    vi.doMock('../../src/text/sentences.js', () => ({ sentenceRanges: plainRanges }));
    const plain = await import('../../src/text/passages.js');
    vi.doUnmock('../../src/text/sentences.js');
    expect(plain.splitPassages).not.toBe(splitPassages);
    const chars = (t: string) => Math.ceil(t.length / 4);
    for (let seed = 20; seed < 28; seed++) {
      const doc = variedText(seed, 20_000).replace(/ {30}/g, '\n\n'); // some paragraphs too
      for (const options of [{}, { maxTokens: 40, overlapTokens: 8 }, { countTokens: chars }])
        expect(splitPassages(doc, options), `seed ${seed}`).toEqual(plain.splitPassages(doc, options));
    }
  });
});
