import { describe, expect, it } from 'vitest';
import { fillInputs, planBatches, type Row } from '../../src/engine/batcher.js';

const row = (n: number, tag: number): Row => ({
  ids: Int32Array.from({ length: n }, (_, i) => tag * 100 + i),
  out: new Float32Array(1),
  offset: tag,
});

describe('planBatches', () => {
  it('sorts by length, caps rows and padded tokens, and keeps every row once', () => {
    const rows = [5, 1, 9, 3, 3, 7, 2, 8, 6, 4].map((n, i) => row(n, i));
    const batches = planBatches(rows, 3, 16);
    expect(
      batches
        .flatMap((b) => b.rows)
        .map((r) => r.offset)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let prevMax = 0;
    for (const b of batches) {
      expect(b.rows.length).toBeLessThanOrEqual(3);
      expect(b.rows.length * b.seqLen).toBeLessThanOrEqual(16);
      expect(b.seqLen).toBe(Math.max(...b.rows.map((r) => r.ids.length)));
      expect(Math.min(...b.rows.map((r) => r.ids.length))).toBeGreaterThanOrEqual(prevMax);
      prevMax = b.seqLen;
    }
  });

  it('puts a row longer than the token cap in a batch of its own', () => {
    const batches = planBatches([row(2, 0), row(40, 1)], 8, 16);
    expect(batches.map((b) => b.rows.length)).toEqual([1, 1]);
  });
});

describe('fillInputs', () => {
  it('writes right-padded int64 ids and mask', () => {
    const batch = { rows: [row(2, 1), row(4, 2)], seqLen: 4 };
    const ids = new BigInt64Array(16).fill(99n);
    const mask = new BigInt64Array(16).fill(99n);
    fillInputs(batch, ids, mask);
    expect(Array.from(ids.subarray(0, 8))).toEqual([100n, 101n, 0n, 0n, 200n, 201n, 202n, 203n]);
    expect(Array.from(mask.subarray(0, 8))).toEqual([1n, 1n, 0n, 0n, 1n, 1n, 1n, 1n]);
  });
});

describe('planBatches: token budget and provenance', () => {
  it('short rows fill more rows per batch than long rows under the same padded-token budget', () => {
    const rows = [
      ...Array.from({ length: 12 }, (_, i) => row(4, i)),
      ...Array.from({ length: 4 }, (_, i) => row(20, 12 + i)),
    ];
    const batches = planBatches(rows, 100, 40);
    expect(batches.map((b) => [b.rows.length, b.seqLen])).toEqual([
      [10, 4],
      [2, 4],
      [2, 20],
      [2, 20],
    ]);
    for (const b of batches) expect(b.rows.length * b.seqLen).toBeLessThanOrEqual(40);
  });

  it("each batch's index names its rows' positions in the input, and equal lengths keep input order", () => {
    const rows = [3, 1, 3, 2, 1].map((n, i) => row(n, i));
    const batches = planBatches(rows, 2, 100);
    for (const b of batches) b.rows.forEach((r, k) => expect(rows[b.index[k]]).toBe(r));
    expect(batches.flatMap((b) => Array.from(b.index))).toEqual([1, 4, 3, 0, 2]);
  });
});
