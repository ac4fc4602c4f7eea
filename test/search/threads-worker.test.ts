// Threaded scans through the worker's per-index queue: searches (on threads: the spy below lowers the worker's indexes'
// searchThreadsMinRows, whose default would need 393k rows at this dim) issued without awaiting, interleaved with adds that grow the shared memory, removals and upserts, give what the same
// calls give applied one after another to a single-thread index.
import { describe, expect, it, vi } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';
import { DIM, rig } from '../worker/in-process-worker.js';

describe('threaded scans race nothing through the worker queue', () => {
  for (const storage of ['f32', 'int8'] as const) {
    it(`${storage}: searches, adds (growth), removes and upserts issued at once apply in order`, async () => {
      const rand = seededRandom(storage === 'f32' ? 71 : 72);
      // Records which path each of the worker's searches took.
      const paths: string[] = [];
      const original = CosineIndex.prototype.searchAsync;
      vi.spyOn(CosineIndex.prototype, 'searchAsync').mockImplementation(async function (this: CosineIndex, ...a) {
        (this as unknown as { thr: { minRows: number } }).thr.minRows = 1000; // the worker makes its indexes itself
        const r = await original.apply(this, a);
        paths.push(this.threads.last!.path);
        return r;
      });
      const { embedder } = await rig(7);
      const idx = embedder.index(`race-${storage}`, { storage });
      const ref = new CosineIndex({ dim: DIM, storage, kernel: 'js' });
      const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `w${from + i}`);
      const first = randomVectors(rand, 24_000, DIM);
      await idx.addVectors(ids(0, 24_000), first);
      ref.addVectors(ids(0, 24_000), first);
      const q = randomVectors(rand, 3, DIM);
      const q0 = q.subarray(0, DIM);
      const more = randomVectors(rand, 30_000, DIM);
      const upserted = randomVectors(rand, 50, DIM);
      // Issued together; each takes effect at its turn.
      const calls: Promise<unknown>[] = [
        idx.search(q0, 10),
        idx.addVectors(ids(24_000, 30_000), more),
        idx.search(q0, 10),
        idx.remove(ids(0, 12_000).filter((_, i) => i % 2 === 0)),
        idx.searchMany(q, 10),
        idx.upsertVectors(ids(30_000, 50), upserted),
        idx.search(q0, 10),
      ];
      const got = await Promise.all(calls);
      const want: unknown[] = [];
      want.push(ref.search(q0, 10));
      ref.addVectors(ids(24_000, 30_000), more);
      want.push(ref.search(q0, 10));
      ref.remove(ids(0, 12_000).filter((_, i) => i % 2 === 0));
      want.push(ref.searchMany(q, 10));
      ref.upsertVectors(ids(30_000, 50), upserted);
      want.push(ref.search(q0, 10));
      const hits = (x: unknown) => (x as { id: string; score: number }[]).map((h) => [h.id, h.score]);
      expect(hits(got[0])).toEqual(hits(want[0]));
      expect(hits(got[2])).toEqual(hits(want[1]));
      expect((got[4] as unknown[]).map(hits)).toEqual((want[2] as unknown[]).map(hits));
      expect(hits(got[6])).toEqual(hits(want[3]));
      expect(paths).toEqual(['threads', 'threads', 'threads']);
    });
  }
});
