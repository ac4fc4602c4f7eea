import { describe, expect, it } from 'vitest';
import { averageRanks, pearson, spearman } from '../../src/eval/correlation.js';
import { seededRandom } from '../../src/seeded-random.js';

/** Naive reference: rank of x = (number of values < x) + (number equal to x + 1) / 2, O(n²); then Pearson from its definition. */
function naiveSpearman(a: number[], b: number[]): number {
  const rank = (v: number[]) => v.map((x) => v.filter((y) => y < x).length + (v.filter((y) => y === x).length + 1) / 2);
  const ra = rank(a),
    rb = rank(b);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra),
    mb = mean(rb);
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe('correlation', () => {
  it('average ranks share the mean rank across ties', () => {
    expect(Array.from(averageRanks([10, 20, 20, 5, 20, 10]))).toEqual([2.5, 5, 5, 1, 5, 2.5]);
  });

  it('Spearman with heavy crafted ties equals the naive reference', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 2, 2, 3, 3, 3, 4],
        [5, 5, 1, 2, 2, 9, 9],
      ],
      [
        [0, 0, 0, 1, 1, 1],
        [1, 2, 3, 1, 2, 3],
      ],
      [
        [4.2, 4.2, 4.2, 0.5, 2.0, 2.0, 5.0, 5.0],
        [0.9, 0.9, 0.1, 0.1, 0.5, 0.7, 0.7, 0.7],
      ],
    ];
    const rand = seededRandom(3);
    for (let c = 0; c < 20; c++) {
      // Gold scores on a 0..5 grid in steps of 0.2 (as STS-B's), similarities rounded to 2 decimals: many ties on both sides.
      const n = 30 + Math.floor(rand() * 60);
      const a = Array.from({ length: n }, () => Math.round(rand() * 25) / 5);
      const b = a.map((x) => Math.round((x / 5 + 0.3 * (rand() - 0.5)) * 100) / 100);
      cases.push([a, b]);
    }
    for (const [a, b] of cases) expect(spearman(a, b)).toBeCloseTo(naiveSpearman(a, b), 12);
  });

  it('ordinal ranks (ties broken by position) would give a different answer on these ties', () => {
    const a = [1, 1, 1, 2, 2],
      b = [3, 1, 2, 5, 4];
    const ordinal = (v: number[]) =>
      v
        .map((_, i) => i)
        .sort((x, y) => v[x] - v[y] || x - y)
        .reduce((r, idx, k) => ((r[idx] = k + 1), r), [] as number[]);
    expect(spearman(a, b)).toBeCloseTo(naiveSpearman(a, b), 12);
    expect(Math.abs(pearson(ordinal(a), ordinal(b)) - spearman(a, b))).toBeGreaterThan(0.05);
  });

  it('Pearson matches its definition; bad input is a typed error', () => {
    expect(pearson([1, 2, 3], [2, 4, 6.5])).toBeCloseTo(4.5 / Math.sqrt(2 * (366 / 36)), 12); // Σdx·dy = 4.5, Σdx² = 2, Σdy² = 366/36
    expect(() => spearman([1, 2], [1])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => pearson([1, NaN], [1, 2])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
