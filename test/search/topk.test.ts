import { describe, expect, it } from 'vitest';
import { TopK } from '../../src/search/topk.js';
import { seededRandom } from '../reference/naive-cosine.js';

describe('TopK', () => {
  it('keeps the k largest of a random stream, best first', () => {
    const rand = seededRandom(11);
    const heap = new TopK(4);
    for (const k of [1, 2, 5, 16, 100]) {
      for (const n of [0, 1, k - 1, k, k + 1, 1000]) {
        if (n < 0) continue;
        const scores = Array.from({ length: n }, () => Math.round(rand() * 50) / 10);
        heap.reset(k, (a, b) => a - b);
        for (let i = 0; i < n; i++) heap.offer(scores[i], i);
        const rows = new Int32Array(k);
        const out = new Float64Array(k);
        const got = heap.drainSorted(rows, out);
        const ref = scores
          .map((s, i) => ({ s, i }))
          .sort((a, b) => b.s - a.s || a.i - b.i)
          .slice(0, k);
        expect(got).toBe(ref.length);
        expect(Array.from(rows.subarray(0, got))).toEqual(ref.map((r) => r.i));
        expect(Array.from(out.subarray(0, got))).toEqual(ref.map((r) => r.s));
        expect(heap.size).toBe(0);
      }
    }
  });

  it('reports its threshold and refuses what it would not keep', () => {
    const heap = new TopK(2);
    heap.reset(2);
    expect(heap.threshold).toBe(-Infinity);
    expect(heap.offer(1, 0)).toBe(true);
    expect(heap.offer(3, 1)).toBe(true);
    expect(heap.full).toBe(true);
    expect(heap.threshold).toBe(1);
    expect(heap.accepts(0.5, 2)).toBe(false);
    expect(heap.offer(0.5, 2)).toBe(false);
    expect(heap.offer(1, 3)).toBe(false); // no tie-break: an equal score does not displace
    expect(heap.offer(2, 4)).toBe(true);
    expect(heap.threshold).toBe(2);
  });
});
