// The load-time row checks at their edges: every row quantisation writes passes, and the nearest rows it cannot write fail.
import { describe, expect, it } from 'vitest';
import { quantizeResidualRow, quantizeRow } from '../../src/search/quantize.js';
import { UNIT_NORM2_TOLERANCE, f32RowsFault, int8MatchesF32Fault, int8RowsFault } from '../../src/search/row-checks.js';

/** The unit f32 row add() stores for `v`, and its int8 forms. */
function stored(v: number[]) {
  const dim = v.length;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const f32 = Float32Array.from(v, (x) => x / norm);
  const codes = new Int8Array(dim);
  const res = new Int8Array(dim);
  const scales = Float32Array.of(quantizeRow(f32, 0, dim, codes, 0));
  quantizeResidualRow(f32, 0, dim, codes, 0, scales[0], res, 0);
  return { dim, f32, codes, res, scales };
}

describe('row checks', () => {
  it('pass the extreme rows quantisation writes: one-hot (largest scale), constant (smallest), alternating, dims 1..4096', () => {
    for (const dim of [1, 2, 3, 128, 1000, 4096]) {
      for (const v of [
        Array.from({ length: dim }, (_, j) => (j === 0 ? 1 : 0)),
        Array.from({ length: dim }, () => 1),
        Array.from({ length: dim }, (_, j) => (j % 2 ? -1 : 1) * (1 + j / dim)),
      ]) {
        const r = stored(v);
        expect(f32RowsFault(r.f32, 1, r.dim)).toBeUndefined();
        expect(int8RowsFault(r.codes, r.scales, null, 1, r.dim)).toBeUndefined();
        expect(int8RowsFault(r.codes, r.scales, r.res, 1, r.dim)).toBeUndefined();
        expect(int8MatchesF32Fault(r.codes, r.scales, r.f32, 1, r.dim)).toBeUndefined();
      }
    }
  });

  it('fail just past each bound', () => {
    const r = stored(Array.from({ length: 16 }, (_, j) => Math.sin(j + 1)));
    const longer = r.f32.map((x) => x * Math.sqrt(1 + 2 * UNIT_NORM2_TOLERANCE));
    expect(f32RowsFault(longer, 1, 16)?.why).toMatch(/squared length/);
    expect(int8RowsFault(r.codes, Float32Array.of(r.scales[0] * 1.01), r.res, 1, 16)?.why).toMatch(
      /decodes to length|scale/,
    );
    const flipped = r.codes.slice();
    flipped[3] += flipped[3] > 0 ? -1 : 1;
    expect(int8MatchesF32Fault(flipped, r.scales, r.f32, 1, 16)).toEqual({
      row: 0,
      why: expect.stringMatching(/int8 code .* at 3/),
    });
    const top = r.codes.findIndex((q) => Math.abs(q) === 127);
    const outward = r.res.slice();
    outward[top] = Math.sign(r.codes[top]);
    expect(int8RowsFault(r.codes, r.scales, outward, 1, 16)?.why).toMatch(new RegExp(`residual code -?1 at ${top}`));
  });
});
