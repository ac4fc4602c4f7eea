import { describe, expect, it } from 'vitest';
import { CosineIndex, type CosineIndexOptions } from '../../src/search/cosine-index.js';
import { MANY_BATCH } from '../../src/search/scan-many.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const D = 64;
type Meta = { even: boolean };

/** Builds an index with ties (300 identical rows, exact duplicates of a query), removals and upserts. */
function build(opts: CosineIndexOptions): { index: CosineIndex<Meta>; flat: Float32Array } {
  const rand = seededRandom(31);
  const index = new CosineIndex<Meta>(opts);
  const n = 3000;
  const flat = randomVectors(rand, n, D);
  const ids = Array.from({ length: n }, (_, i) => `v${String(i).padStart(5, '0')}`);
  index.addVectors(
    ids,
    flat,
    ids.map((_, i) => ({ even: i % 2 === 0 })),
  );
  index.remove(ids.slice(200, 260));
  const same = flat.slice(D, 2 * D);
  // More identical rows than any candidate list holds, ids descending in row order: which tied rows survive depends on
  // the candidate heap's tie policy.
  const tied = Array.from({ length: 300 }, (_, i) => `tie-${String(299 - i).padStart(3, '0')}`);
  index.addVectors(
    tied,
    tied.map(() => same),
    tied.map((_, i) => ({ even: i % 3 === 0 })),
  );
  index.upsertVectors(['v00005', 'tie-007'], randomVectors(seededRandom(4), 2, D));
  return { index, flat };
}

const MODES: [string, CosineIndexOptions][] = [];
for (const kernel of ['auto', 'js'] as const) {
  MODES.push([`f32 ${kernel}`, { dim: D, storage: 'f32', kernel }]);
  for (const rescore of ['residual', 'dequantized', 'f32'] as const)
    MODES.push([`int8/${rescore} ${kernel}`, { dim: D, storage: 'int8', rescore, kernel }]);
}

describe('CosineIndex.searchMany (one pass per batch of queries)', () => {
  it.each(MODES)('%s: equals one-by-one search (ids, scores, ties, filter, minScore, k > n)', (_, opts) => {
    const { index, flat } = build(opts);
    const rand = seededRandom(8);
    // 2.3 batches: full batches, a remainder that is not a multiple of 4, and queries equal to stored (tied) rows.
    const queries: Float32Array[] = [flat.subarray(D, 2 * D), flat.subarray(0, D), flat.subarray(D, 2 * D)];
    while (queries.length < 2 * MANY_BATCH + 5) queries.push(randomVectors(rand, 1, D));
    const flatQ = new Float32Array(queries.length * D);
    queries.forEach((q, i) => flatQ.set(q, i * D));
    const filtered = { filter: (_id: string, m: Meta | undefined) => m?.even === true, minScore: 0.05 };
    for (const k of [1, 10, 57]) {
      const one = queries.map((q) => index.search(q, k));
      expect(index.searchMany(queries, k)).toEqual(one);
      expect(index.searchMany(flatQ, k)).toEqual(one);
      expect(index.searchMany(queries, k, filtered)).toEqual(queries.map((q) => index.search(q, k, filtered)));
    }
    // The 300 tied rows outnumber the candidates, so this checks that the same tied rows win.
    expect(index.searchMany(queries.slice(0, 7), 40).map((h) => h.map((x) => x.id))).toEqual(
      queries.slice(0, 7).map((q) => index.search(q, 40).map((x) => x.id)),
    );
    expect(index.searchMany(queries.slice(0, 3), 5000)).toEqual(queries.slice(0, 3).map((q) => index.search(q, 5000)));
    for (const m of [1, 2, 4, 5, 16, 17])
      expect(index.searchMany(queries.slice(0, m), 10)).toEqual(queries.slice(0, m).map((q) => index.search(q, 10)));
  });

  it('agrees across kernels: js and wasm give the same batched results for every storage mode', () => {
    for (const [storage, rescore] of [
      ['f32', undefined],
      ['int8', 'residual'],
      ['int8', 'dequantized'],
      ['int8', 'f32'],
    ] as const) {
      const opts = { dim: D, storage, ...(rescore ? { rescore } : {}) };
      const a = build({ ...opts, kernel: 'auto' }).index;
      const b = build({ ...opts, kernel: 'js' }).index;
      const qs = randomVectors(seededRandom(3), 20, D);
      expect(a.searchMany(qs, 10)).toEqual(b.searchMany(qs, 10));
    }
  });

  it('validates every query before scanning and handles empty inputs', () => {
    const { index } = build({ dim: D, storage: 'int8' });
    const good = randomVectors(seededRandom(1), 1, D);
    expect(() => index.searchMany([good, new Float32Array(D)], 3)).toThrow(/zero vector/);
    expect(() => index.searchMany([good, new Float32Array(D + 1)], 3)).toThrow();
    expect(index.searchMany([], 3)).toEqual([]);
    const empty = new CosineIndex({ dim: D, storage: 'int8' });
    expect(empty.searchMany([good, good], 3)).toEqual([[], []]);
  });
});
