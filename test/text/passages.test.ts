import { describe, expect, it } from 'vitest';
import { estimateTokens, splitPassages } from '../../src/text/passages.js';
import { seededRandom } from '../../src/seeded-random.js';
import { estimateTokensReference } from '../reference/estimate-tokens.js';

const words = (n: number, rnd: () => number) =>
  Array.from(
    { length: n },
    () => 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do'.split(' ')[Math.floor(rnd() * 10)],
  ).join(' ');

describe('splitPassages', () => {
  it('keeps short paragraphs together and returns exact slices with offsets', () => {
    const doc = 'First paragraph here.\n\nSecond one, also short.\n\n\nThird.';
    const ps = splitPassages(doc, { maxTokens: 100 });
    expect(ps).toHaveLength(1);
    expect(ps[0].text).toBe(doc);
    for (const p of ps) expect(doc.slice(p.start, p.end)).toBe(p.text);
  });

  it('starts a new passage at a paragraph boundary when the next paragraph does not fit', () => {
    const rnd = seededRandom(1);
    const a = `${words(30, rnd)}.`;
    const b = `${words(30, rnd)}.`;
    const ps = splitPassages(`${a}\n\n${b}`, { maxTokens: 40 });
    expect(ps.map((p) => p.text)).toEqual([a, b]);
    expect(ps.map((p) => p.paragraph)).toEqual([0, 1]);
  });

  it('packs sentences of a long paragraph within the budget, with whole-sentence overlap', () => {
    const rnd = seededRandom(2);
    const sentences = Array.from({ length: 40 }, (_, i) => `Sentence ${i} says ${words(8, rnd)}.`);
    const doc = sentences.join(' ');
    const ps = splitPassages(doc, { maxTokens: 60, overlapTokens: 16 });
    expect(ps.length).toBeGreaterThan(5);
    for (const p of ps) {
      expect(estimateTokens(p.text)).toBeLessThanOrEqual(60);
      expect(doc.slice(p.start, p.end)).toBe(p.text);
      expect(p.text).toMatch(/^Sentence \d+/); // starts at a sentence
      expect(p.text.endsWith('.')).toBe(true); // ends at one
    }
    // Coverage: every sentence appears in some passage, and consecutive passages overlap or touch.
    for (const s of sentences) expect(ps.some((p) => p.text.includes(s))).toBe(true);
    for (let i = 1; i < ps.length; i++) {
      expect(ps[i].start).toBeGreaterThan(ps[i - 1].start);
      expect(ps[i].start).toBeLessThanOrEqual(ps[i - 1].end + 1);
    }
    expect(ps.some((p, i) => i > 0 && p.start < ps[i - 1].end)).toBe(true); // overlap happened
    const none = splitPassages(doc, { maxTokens: 60, overlapTokens: 0 });
    for (let i = 1; i < none.length; i++) expect(none[i].start).toBeGreaterThanOrEqual(none[i - 1].end);
  });

  it('cuts a sentence longer than the budget at words, and a giant word by characters', () => {
    const rnd = seededRandom(3);
    const long = words(500, rnd);
    const giant = 'x'.repeat(5000);
    const cjk = '漢字'.repeat(400);
    for (const doc of [long, giant, cjk, `${long} ${giant}`]) {
      const ps = splitPassages(doc, { maxTokens: 50, overlapTokens: 0 });
      expect(ps.length).toBeGreaterThan(1);
      let covered = 0;
      for (const p of ps) {
        expect(estimateTokens(p.text)).toBeLessThanOrEqual(50);
        expect(doc.slice(p.start, p.end)).toBe(p.text);
        covered += p.text.replace(/\s/g, '').length;
      }
      expect(covered).toBe(doc.replace(/\s/g, '').length);
    }
  });

  it('never splits a surrogate pair', () => {
    const doc = '😀'.repeat(300);
    const ps = splitPassages(doc, { maxTokens: 16, overlapTokens: 0, countTokens: (t) => t.length });
    for (const p of ps) expect(p.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    expect(ps.map((p) => p.text).join('')).toBe(doc);
  });

  it('uses a custom token counter and refuses bad options', () => {
    const doc = 'a b c d e f g h i j k l m n o p';
    const ps = splitPassages(doc, {
      maxTokens: 8,
      overlapTokens: 0,
      countTokens: (t) => t.split(/\s+/).filter(Boolean).length,
    });
    expect(ps.map((p) => p.text)).toEqual(['a b c d e f g h', 'i j k l m n o p']);
    expect(splitPassages('   \n\n  ')).toEqual([]);
    expect(() => splitPassages(doc, { maxTokens: 4 })).toThrow(/maxTokens/);
    expect(() => splitPassages(doc, { maxTokens: 20, overlapTokens: 10 })).toThrow(/overlapTokens/);
    expect(() => splitPassages(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('estimates WordPiece tokens: punctuation and CJK characters count one each', () => {
    expect(estimateTokens('Hello, world!')).toBe(4);
    expect(estimateTokens('漢字かな')).toBe(4);
    expect(estimateTokens('internationalization')).toBe(3);
  });

  it('estimateTokens (an allocation-free scanner) counts exactly as the regex form on any text', () => {
    const pool = [
      ...'aZ09 \t\n\r\v\f.,!?-_@[`{~\x1c\x7f',
      ...'éÅßøñ\u0301\u0308\u00a0\u0085\u2028\u2029\u3000\ufeff\u200b\u2003',
      ...'漢字かなカナ한국어。！',
      ...'١٢٣αβγжя',
      '😀',
      '👍🏽',
      '𝔘',
      '\ud800',
      '\udc00',
      'internationalization',
      '中文句子',
    ];
    const r = seededRandom(11);
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(r() * 40);
      const text = Array.from({ length: n }, () => pool[Math.floor(r() * pool.length)]).join('');
      expect(estimateTokens(text), JSON.stringify(text)).toBe(estimateTokensReference(text));
    }
  });
});
