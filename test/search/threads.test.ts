// The threaded scan (src/search/threads/) against the single-thread scan on the same index: every storage mode, 2 and
// 3 threads, random and adversarial rows (long runs of identical rows whose ids run against row order, all-equal
// rows, one-hot and extreme vectors), single and batched queries, k from 1 to past n, minScore; then the rule that
// keeps rows still under a scan in flight, and growth, removal and upserts between threaded scans.
import { describe, expect, it, vi } from 'vitest';
import { ScanPool } from '../../src/search/threads/pool.js';
import type { ScanReply } from '../../src/search/threads/scan-worker.js';
import { CosineIndex, type CosineIndexOptions } from '../../src/search/cosine-index.js';
import type { KernelMemory } from '../../src/search/kernel-memory.js';
import type { RangeScan } from '../../src/search/scan.js';
import { TopK, type RowTieBreak } from '../../src/search/topk.js';
import { unitQueries } from '../../src/search/validate.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const D = 32;

const MODES: [string, Omit<CosineIndexOptions, 'dim'>][] = [
  ['f32', { storage: 'f32' }],
  ['f32 simd128', { storage: 'f32', kernel: 'simd' }],
  ['int8/residual', { storage: 'int8', rescore: 'residual' }],
  ['int8/dequantized', { storage: 'int8', rescore: 'dequantized' }],
  ['int8/f32', { storage: 'int8', rescore: 'f32' }],
  ['int8/residual simd128', { storage: 'int8', rescore: 'residual', kernel: 'simd' }],
];

const pad = (i: number) => String(i).padStart(5, '0');

/** Random rows, then adversarial blocks: identical rows (ids descending in row order), one-hots, extremes. */
function rows(rand: () => number, n: number): { ids: string[]; flat: Float32Array } {
  const ids: string[] = [];
  const flat = new Float32Array(n * D);
  flat.set(randomVectors(rand, n, D));
  for (let i = 0; i < n; i++) ids.push(`r${pad(i)}`);
  const block = Math.floor(n / 5);
  const same = randomVectors(rand, 1, D);
  // Identical rows with ids running against row order: which of them are kept is decided by the id tie-break alone.
  for (let i = 0; i < block; i++) {
    flat.set(same, (n - 1 - i) * D);
    ids[n - 1 - i] = `a${pad(i)}`;
  }
  // One-hot rows (±1 on one axis) and rows with one huge and many tiny components.
  for (let i = 0; i < block; i++) {
    const r = block + i;
    flat.fill(0, r * D, r * D + D);
    if (i % 2 === 0) flat[r * D + (i % D)] = i % 4 === 0 ? 1 : -1;
    else {
      flat.fill(1e-6, r * D, r * D + D);
      flat[r * D + ((i * 7) % D)] = 1e6;
    }
  }
  return { ids, flat };
}

function opts(mode: Omit<CosineIndexOptions, 'dim'>, threads: number): CosineIndexOptions {
  return { dim: D, ...mode, searchThreads: threads, searchThreadsMinRows: 0 };
}

describe('shared-memory kernels', () => {
  it('the committed bytes are the shared-memory builds of simd-kernel.wat and simd-relaxed-kernel.wat', async () => {
    const { readFile } = await import('node:fs/promises');
    const { sharedBytesModule } = await import('../../scripts/build-wasm.js');
    const committed = await readFile(
      new URL('../../src/search/threads/shared-kernel-bytes.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(await sharedBytesModule());
  });
});

describe('threaded scan = single-thread scan', () => {
  for (const [name, mode] of MODES) {
    for (const threads of [2, 3]) {
      it(`${name}, ${threads} threads: search and searchMany on random and adversarial rows`, async () => {
        const rand = seededRandom(threads * 100 + name.length);
        const n = 2500;
        const { ids, flat } = rows(rand, n);
        const index = new CosineIndex({ ...opts(mode, threads) });
        index.addVectors(ids, flat);
        index.remove(ids.slice(100, 140));
        const queries = [
          ...Array.from({ length: 6 }, (_, i) => flat.subarray(i * 211 * D, i * 211 * D + D)),
          flat.subarray((n - 1) * D, n * D), // the identical block's vector: a run of exact ties
          flat.subarray((n / 5) * D, (n / 5) * D + D), // a one-hot row
          randomVectors(rand, 1, D),
        ];
        for (const k of [1, 10, 100, 600, n + 5]) {
          for (const q of queries) {
            const want = index.search(q, k);
            expect(await index.searchAsync(q, k)).toEqual(want);
          }
          const want = index.searchMany(queries, k);
          expect(await index.searchManyAsync(queries, k)).toEqual(want);
        }
        const floor = { minScore: 0.2 };
        expect(await index.searchAsync(queries[0], 50, floor)).toEqual(index.search(queries[0], 50, floor));
        expect(await index.searchManyAsync(queries, 50, floor)).toEqual(index.searchMany(queries, 50, floor));
        // 17 queries: a full batch of 16, then a batch of one.
        const many = Array.from({ length: 17 }, (_, i) => queries[i % queries.length]);
        expect(await index.searchManyAsync(many, 10)).toEqual(index.searchMany(many, 10));
        expect(index.threads.last).toEqual({ path: 'threads', threads: expect.any(Number), reason: null });
        expect(index.threads.last!.threads).toBeGreaterThanOrEqual(2);
      });
    }
  }

  it('all-equal rows: lowest ids first, as on one thread', async () => {
    for (const storage of ['f32', 'int8'] as const) {
      const index = new CosineIndex(opts({ storage }, 2));
      const v = randomVectors(seededRandom(5), 1, D);
      const n = 1200;
      // Ids in a shuffled order, so row order says nothing about id order.
      const ids = Array.from({ length: n }, (_, i) => `e${pad((i * 7919) % n)}`);
      index.addVectors(
        ids,
        ids.map(() => v),
      );
      for (const k of [1, 7, 64, n]) {
        const got = await index.searchAsync(v, k);
        expect(got).toEqual(index.search(v, k));
        expect(got.map((h) => h.id)).toEqual([...ids].sort().slice(0, k));
      }
    }
  });
});

describe('which path ran', () => {
  it('reports threads, and one thread with the reason below minRows, with a filter, or without a wasm kernel', async () => {
    const flat = randomVectors(seededRandom(9), 300, D);
    const ids = Array.from({ length: 300 }, (_, i) => `x${i}`);
    const index = new CosineIndex({ dim: D, searchThreads: 2, searchThreadsMinRows: 200 });
    index.addVectors(ids.slice(0, 100), flat.subarray(0, 100 * D));
    await index.searchAsync(flat.subarray(0, D), 3);
    expect(index.threads.last).toMatchObject({ path: 'single', threads: 1 });
    expect(index.threads.last!.reason).toMatch(/searchThreadsMinRows/);
    index.addVectors(ids.slice(100), flat.subarray(100 * D));
    await index.searchAsync(flat.subarray(0, D), 3);
    expect(index.threads.last).toEqual({ path: 'threads', threads: 2, reason: null });
    await index.searchAsync(flat.subarray(0, D), 3, { filter: () => true });
    expect(index.threads.last!.reason).toMatch(/filter/);

    const js = new CosineIndex({ dim: D, kernel: 'js', searchThreadsMinRows: 0 });
    js.addVectors(ids, flat);
    expect(js.threads.unavailable).toMatch(/wasm SIMD kernel/);
    expect(await js.searchAsync(flat.subarray(0, D), 5)).toEqual(js.search(flat.subarray(0, D), 5));
    expect(js.threads.last).toMatchObject({ path: 'single' });

    const one = new CosineIndex({ dim: D, searchThreads: 1 });
    expect(one.threads.unavailable).toBe('searchThreads is 1');
    expect(js.stats().threads).toEqual({ requested: 0, minRows: 0, unavailable: js.threads.unavailable });
    expect(index.stats().threads).toEqual({ requested: 2, minRows: 200, unavailable: null });
  });

  it('a page without cross-origin isolation: stats() says why, and async searches run on one thread', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      const flat = randomVectors(seededRandom(10), 64, D);
      const index = new CosineIndex({ dim: D, searchThreadsMinRows: 0 });
      index.addVectors(
        Array.from({ length: 64 }, (_, i) => `p${i}`),
        flat,
      );
      expect(index.stats().threads.unavailable).toMatch(/COOP\/COEP/);
      expect(await index.searchAsync(flat.subarray(0, D), 5)).toEqual(index.search(flat.subarray(0, D), 5));
      expect(index.threads.last).toMatchObject({ path: 'single', threads: 1 });
    } finally {
      delete g.crossOriginIsolated;
    }
  });

  it('by default, threads start where the scanned rows fill 24 MiB', () => {
    const minRows = (dim: number, storage: 'f32' | 'int8') => new CosineIndex({ dim, storage }).threads.minRows;
    expect(minRows(128, 'int8')).toBe(196_608);
    expect(minRows(128, 'f32')).toBe(196_608); // the scan reads the int8 shadow
    expect(minRows(384, 'f32')).toBe(65_536);
    expect(new CosineIndex({ dim: 128, storage: 'int8', searchThreadsMinRows: 0 }).threads.minRows).toBe(0);
  });

  it('never runs more threads than the hardware has; refuses a bad searchThreads', async () => {
    const { availableParallelism } = await import('node:os');
    const index = new CosineIndex({ dim: D, searchThreads: 64, searchThreadsMinRows: 0 });
    index.addVectors(['a', 'b'], randomVectors(seededRandom(2), 2, D));
    await index.searchAsync(randomVectors(seededRandom(3), 1, D), 1);
    const last = index.threads.last!;
    if (availableParallelism() < 2) expect(last.path).toBe('single');
    else expect(last.threads).toBeLessThanOrEqual(availableParallelism());
    for (const bad of [0, 1.5, -1, Number.NaN])
      expect(() => new CosineIndex({ dim: D, searchThreads: bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
  });
});

describe('a scan thread that dies', () => {
  it('threads that cannot start (e.g. a CSP refusing blob: workers): one thread, the same results, the reason', async () => {
    const spy = vi.spyOn(ScanPool, 'create').mockRejectedValue(new Error('workers refused'));
    try {
      const flat = randomVectors(seededRandom(43), 500, D);
      const ids = Array.from({ length: 500 }, (_, i) => `c${i}`);
      const index = new CosineIndex({ dim: D, searchThreads: 2, searchThreadsMinRows: 0 });
      index.addVectors(ids, flat);
      const q = flat.subarray(0, D);
      expect(await index.searchAsync(q, 7)).toEqual(index.search(q, 7));
      expect(index.threads.last).toMatchObject({ path: 'single', reason: expect.stringMatching(/workers refused/) });
      expect(index.threads.unavailable).toMatch(/could not start/);
      expect(await index.searchManyAsync([q, q], 7)).toEqual(index.searchMany([q, q], 7));
    } finally {
      spy.mockRestore();
    }
  });

  it.each(MODES)(
    '%s: a thread woken by the doorbell alone scans every row (the caller takes no chunk), one query and a batch',
    async (_label, mode) => {
      const { ids, flat } = rows(seededRandom(43), 1500);
      const index = new CosineIndex(opts(mode, 2));
      index.addVectors(ids, flat);
      const q = flat.subarray(0, 3 * D);
      expect(await index.searchAsync(q.subarray(0, D), 5)).toEqual(index.search(q.subarray(0, D), 5));
      // Internals: the threaded search, driven by hand so that only the thread claims chunks.
      type Dispatched = { chunks: number; finish: () => Promise<ScanReply[]> };
      type Threaded = {
        current(): RangeScan;
        dispatch(s: RangeScan, nq: number, n: number, c: number, bars: Float64Array, qOff: number): Dispatched;
        control: Int32Array;
        epoch: number;
        kernel: KernelMemory;
      };
      const inner = index as unknown as { thr: { runner: Promise<{ search: Threaded }> }; rowIds: string[] };
      const ts = (await inner.thr.runner).search;
      for (const nq of [1, 3]) {
        const qf = new Float64Array(nq * D);
        unitQueries(q, nq, D, qf);
        const scan = ts.current();
        const k = 5;
        const c = scan.candidates(k, ids.length);
        scan.load(qf, nq);
        const { qOff, manyQOff } = ts.kernel.layout;
        const bars = new Float64Array(nq).fill(scan.bar(-Infinity));
        const d = ts.dispatch(scan, nq, ids.length, c, bars, nq === 1 ? qOff : manyQOff);
        // Wait for the thread's claim (the doorbell must wake it), then collect its reply.
        while (Atomics.load(ts.control, 1) !== ts.epoch * 4 + 1) await new Promise((r) => setTimeout(r, 1));
        const replies = await d.finish();
        expect(replies).toHaveLength(1);
        expect(Atomics.load(ts.control, 0)).toBeGreaterThanOrEqual(d.chunks); // every chunk claimed, by the thread
        const hits = [];
        for (let i = 0; i < nq; i++) {
          const cand = new TopK(c);
          cand.reset(c, scan.tie as RowTieBreak);
          let o = 0;
          for (let j = 0; j < i; j++) o += replies[0].counts[j];
          for (let j = o; j < o + replies[0].counts[i]; j++) cand.offer(replies[0].scores[j], replies[0].rows[j]);
          const final = new TopK(k);
          final.reset(k, scan.tie as RowTieBreak);
          scan.rescore(c, cand, qf, i * D, -Infinity, final);
          const outRows = new Int32Array(k);
          const outScores = new Float64Array(k);
          const got = final.drainSorted(outRows, outScores);
          hits.push(Array.from({ length: got }, (_, j) => ({ id: inner.rowIds[outRows[j]], score: outScores[j] })));
        }
        expect(hits).toEqual(index.searchMany(q.subarray(0, nq * D), k));
      }
    },
  );

  it('fails no search for good: later async searches run on one thread and say why', async () => {
    const flat = randomVectors(seededRandom(41), 2000, D);
    const ids = Array.from({ length: 2000 }, (_, i) => `d${i}`);
    const index = new CosineIndex({ dim: D, storage: 'int8', searchThreads: 2, searchThreadsMinRows: 0 });
    index.addVectors(ids, flat);
    const q = flat.subarray(0, D);
    expect(await index.searchAsync(q, 5)).toEqual(index.search(q, 5));
    expect(index.threads.last!.path).toBe('threads');
    // Internals: the pool's first thread, terminated from outside.
    const thr = (
      index as unknown as { thr: { runner: Promise<{ search: { pool: { ports: { terminate(): void }[] } } }> } }
    ).thr;
    (await thr.runner).search.pool.ports[0].terminate();
    let last = index.threads.last;
    for (let i = 0; i < 50 && last?.path !== 'single'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      expect(await index.searchAsync(q, 5)).toEqual(index.search(q, 5));
      last = index.threads.last;
    }
    expect(last).toMatchObject({ path: 'single', reason: expect.stringMatching(/scan thread 0 failed/) });
  });
});

describe('rows never change under a threaded scan', () => {
  it('add/upsert/remove/clear/search during a searchAsync throw INVALID_INPUT and change nothing', async () => {
    const rand = seededRandom(17);
    const flat = randomVectors(rand, 1000, D);
    const ids = Array.from({ length: 1000 }, (_, i) => `m${pad(i)}`);
    const index = new CosineIndex({ dim: D, storage: 'int8', searchThreads: 2, searchThreadsMinRows: 0 });
    index.addVectors(ids, flat);
    const q = flat.subarray(0, D);
    const before = index.search(q, 20);
    const pending = index.searchAsync(q, 20);
    const extra = randomVectors(rand, 1, D);
    for (const call of [
      () => index.addVectors(['new'], extra),
      () => index.upsertVectors([ids[0]], extra),
      () => index.remove([ids[0]]),
      () => index.clear(),
      () => index.search(q, 3),
      () => index.searchMany([q], 3),
    ])
      expect(call).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/await it/) }),
      );
    // Async searches queue behind it instead.
    const second = index.searchAsync(q, 20);
    expect(await pending).toEqual(before);
    expect(await second).toEqual(before);
    expect(index.size).toBe(1000);
    index.addVectors(['new'], extra); // settled: changes are allowed again
    expect(index.has('new')).toBe(true);
  });

  for (const storage of ['f32', 'int8'] as const) {
    it(`${storage}: growth (the shared memory grows, int8 scales are re-shared), removal and upserts between scans`, async () => {
      const rand = seededRandom(storage === 'f32' ? 21 : 22);
      const index = new CosineIndex({ dim: D, storage, searchThreads: 2, searchThreadsMinRows: 0 });
      let next = 0;
      const add = (count: number) => {
        const part = Array.from({ length: count }, () => `g${pad(next++)}`);
        index.addVectors(part, randomVectors(rand, count, D));
        return part;
      };
      add(500);
      const q = randomVectors(rand, 4, D);
      expect(await index.searchManyAsync(q, 15)).toEqual(index.searchMany(q, 15));
      const cap0 = index.stats().bytes;
      const grown = add(9000); // several doublings after the rows moved into shared memory
      expect(index.stats().bytes).toBeGreaterThan(cap0);
      expect(await index.searchManyAsync(q, 15)).toEqual(index.searchMany(q, 15));
      index.remove(grown.filter((_, i) => i % 3 === 0));
      index.upsertVectors(grown.slice(1, 40), randomVectors(rand, 39, D));
      for (let i = 0; i < 4; i++) {
        const qi = q.subarray(i * D, i * D + D);
        expect(await index.searchAsync(qi, 30)).toEqual(index.search(qi, 30));
      }
      // Interleaved without awaiting the searches first would throw; awaiting each in turn is the rule.
      const results = [];
      for (let round = 0; round < 5; round++) {
        add(700);
        results.push([await index.searchAsync(q.subarray(0, D), 10), index.search(q.subarray(0, D), 10)]);
      }
      for (const [a, b] of results) expect(a).toEqual(b);
      expect(index.threads.last).toMatchObject({ path: 'threads' });
    });
  }
});
