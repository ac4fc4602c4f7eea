import { describe, expect, it } from 'vitest';
import { INT8_MAX_CODE, dequantizeRow, quantizeRow, roundHalfUp } from '../../src/search/quantize.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

describe('int8 symmetric per-vector quantisation', () => {
  it('uses the full symmetric range and rounds to within half a step', () => {
    const rand = seededRandom(21);
    const dim = 128;
    const src = randomVectors(rand, 50, dim);
    const codes = new Int8Array(dim);
    const back = new Float32Array(dim);
    for (let r = 0; r < 50; r++) {
      const scale = quantizeRow(src, r * dim, dim, codes, 0);
      let maxAbs = 0;
      for (let j = 0; j < dim; j++) maxAbs = Math.max(maxAbs, Math.abs(src[r * dim + j]));
      expect(scale).toBe(Math.fround(maxAbs / INT8_MAX_CODE));
      expect(Math.max(...Array.from(codes, Math.abs))).toBe(INT8_MAX_CODE);
      expect(Math.min(...codes)).toBeGreaterThanOrEqual(-INT8_MAX_CODE);
      dequantizeRow(codes, 0, dim, scale, back, 0);
      for (let j = 0; j < dim; j++) expect(Math.abs(back[j] - src[r * dim + j])).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
  });

  it('maps zero to zero and a negated vector to negated codes', () => {
    const v = new Float32Array([0, 0.5, -0.25, 1]);
    const a = new Int8Array(4);
    const b = new Int8Array(4);
    quantizeRow(v, 0, 4, a, 0);
    quantizeRow(
      v.map((x) => -x),
      0,
      4,
      b,
      0,
    );
    expect(a[0]).toBe(0);
    expect(Array.from(b)).toEqual(Array.from(a, (x) => (x === 0 ? 0 : -x)));
  });

  it('roundHalfUp is Math.round on every value quantisation meets: edges, ties, and near-ties at every integer to ±300', () => {
    const same = (x: number) => expect([x, roundHalfUp(x)]).toEqual([x, Math.round(x) + 0]);
    for (const x of [0, -0, 0.5, -0.5, 0.49999999999999994, -0.49999999999999994, 0.5000000000000001, 1.5, -1.5, 2.5])
      same(x);
    for (let k = -300; k <= 300; k++) {
      for (const x of [k, k + 0.5, k - 0.5, k + 0.25])
        for (const y of [
          x,
          x + Number.EPSILON * Math.max(1, Math.abs(x)),
          x - Number.EPSILON * Math.max(1, Math.abs(x)),
        ])
          same(y);
    }
    const rand = seededRandom(22);
    for (let i = 0; i < 20000; i++) same((rand() * 2 - 1) * 300);
  });
});
