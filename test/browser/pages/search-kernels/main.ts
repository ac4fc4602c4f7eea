// Page for test/browser/search-kernels.test.ts and the browser bench: checks the wasm (relaxed SIMD, SIMD128) scans
// against the JS kernel in Chromium, and times search / searchMany against a streaming floor in the same page.
import { CosineIndex } from '../../../../src/search/index.js';
import type { CosineIndexOptions } from '../../../../src/search/cosine-index.js';
import { createSimdScan, hasRelaxedSimd, writeInt8Query } from '../../../../src/search/simd.js';
import { seededRandom } from '../../../../src/seeded-random.js';
import { addInChunks, median, timeSearchRounds } from '../../../../bench/timing.js';

export interface KernelCheck {
  relaxed: boolean;
  /** What differed from the JS kernel (empty when everything matched). */
  failures: string[];
}

export interface SearchBenchRow {
  storage: string;
  kernel: string;
  n: number;
  dim: number;
  k: number;
  single_p50_ms: number;
  many_queries: number;
  many_p50_ms: number;
  /** Streaming pass over the bytes per vector the scan must read: 128 (int8 codes) or 512 (f32). */
  floor_ms: number;
  floor_bytes_per_vector: number;
}

/** The threaded scan (searchAsync / searchManyAsync) against the single-thread scan in this page. */
export interface ThreadsCheck {
  isolated: boolean;
  hardwareConcurrency: number;
  /** The path and thread count the last threaded search reported, or its reason for one thread. */
  last: { path: string; threads: number; reason: string | null } | null;
  failures: string[];
}

/** One thread-count row: p50 of search (sync for 1 thread, searchAsync otherwise) and of searchMany(16). */
export interface ThreadBenchRow {
  cpu: string;
  storage: string;
  n: number;
  threads: number;
  path: string;
  p50_ms: number;
  many_p50_ms: number;
  /** Single-thread streaming pass over the bytes per vector the scan reads (128 int8, 512 f32). */
  floor_ms: number;
}

/** CosineIndex.import of an index file against a plain copy of the same bytes (issue 18's budget: 2× at 1M int8). */
export interface ImportBenchRow {
  storage: string;
  n: number;
  bytes: number;
  import_p50_ms: number;
  copy_p50_ms: number;
  import_over_copy: number;
}

export interface SearchKernelsApi {
  check(): KernelCheck;
  benchImport(n: number, rounds: number): ImportBenchRow[];
  bench(n: number, rounds: number): SearchBenchRow[];
  checkThreads(): Promise<ThreadsCheck>;
  benchThreads(n: number, rounds: number, cpu: string): Promise<ThreadBenchRow[]>;
}

declare global {
  interface Window {
    searchKernels: SearchKernelsApi;
  }
}

function vectors(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = r() - 0.5;
  return out;
}

function check(): KernelCheck {
  const failures: string[] = [];
  const relaxed = hasRelaxedSimd();
  const dim = 128;
  // Kernel level: exact integer dots, extreme codes included.
  const scan = createSimdScan();
  if (scan?.relaxed) {
    const n = 40;
    scan.memory.grow(2);
    const buf = scan.memory.buffer;
    const r = seededRandom(4);
    const rows = new Int8Array(buf, 65536, n * dim);
    for (let i = 0; i < rows.length; i++) rows[i] = Math.round(r() * 254) - 127;
    rows.fill(127, 0, dim);
    rows.fill(-127, dim, 2 * dim);
    const q = new Int8Array(8 * dim);
    for (let i = 0; i < q.length; i++) q[i] = Math.round(r() * 254) - 127;
    q.fill(127, 0, dim);
    q.fill(-127, dim, 2 * dim);
    for (let i = 0; i < 8; i++) writeInt8Query(buf, i * 2 * dim, q, i * dim, dim, 'relaxed', true);
    scan.relaxed.dotRowsI8x4(0, 2, 65536, dim, n, 32768);
    const out = new Int32Array(buf, 32768, n * 8);
    for (let row = 0; row < n; row++) {
      for (let i = 0; i < 8; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += rows[row * dim + j] * q[i * dim + j];
        if (out[row * 8 + i] !== s) failures.push(`dotRowsI8x4 row ${row} query ${i}: ${out[row * 8 + i]} != ${s}`);
      }
    }
    // pickRowsI8: rows kept where dot × scale >= bar (the JS product), at every count mod 4 (blocks of 4, then singles).
    const scales = new Float32Array(buf, 131072, n);
    for (let row = 0; row < n; row++) scales[row] = Math.fround(1e-4 + r() * 0.01);
    writeInt8Query(buf, 0, q, 0, dim, 'relaxed', true);
    const dots = Array.from({ length: n }, (_, row) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += rows[row * dim + j] * q[j];
      return s;
    });
    const scores = dots.map((d, row) => d * scales[row]);
    for (const count of [n, n - 1, n - 2, n - 3]) {
      for (const bar of [-Infinity, Infinity, 0, scores[count - 1], scores[7], ...scores.slice(0, 3)]) {
        const got = scan.relaxed.pickRowsI8(0, 65536, dim, count, 32768, bar, 40960, 131072);
        const want = scores.slice(0, count).flatMap((s, row) => (s >= bar ? [[row, dots[row]]] : []));
        const o = new Int32Array(buf, 32768, got);
        const ix = new Int32Array(buf, 40960, got);
        const have = Array.from({ length: got }, (_, k) => [ix[k], o[k]]);
        if (JSON.stringify(have) !== JSON.stringify(want))
          failures.push(`pickRowsI8 count ${count} bar ${bar}: ${JSON.stringify(have)} != ${JSON.stringify(want)}`);
      }
    }
  }
  // Index level: every storage mode and kernel returns the JS kernel's results, one by one and batched.
  const n = 8000;
  const flat = vectors(n, dim, 11);
  const ids = Array.from({ length: n }, (_, i) => `v${i}`);
  const queries = [flat.subarray(0, dim), ...Array.from({ length: 20 }, (_, i) => vectors(1, dim, 100 + i))];
  const modes: Omit<CosineIndexOptions, 'kernel'>[] = [
    { dim, storage: 'f32' },
    { dim, storage: 'int8', rescore: 'residual' },
    { dim, storage: 'int8', rescore: 'dequantized' },
    { dim, storage: 'int8', rescore: 'f32' },
  ];
  const filter = { filter: (id: string) => id.length % 2 === 0, minScore: 0.02 };
  for (const mode of modes) {
    const build = (kernel: 'auto' | 'simd' | 'js'): CosineIndex => {
      const idx = new CosineIndex({ ...mode, kernel });
      idx.addVectors(ids, flat);
      idx.addVectors(['dup-a', 'dup-b'], [flat.subarray(0, dim), flat.subarray(0, dim)]);
      idx.remove(ids.slice(5, 50));
      return idx;
    };
    const js = build('js');
    for (const kernel of ['auto', 'simd'] as const) {
      const idx = build(kernel);
      for (const k of [1, 10, 57]) {
        const want = JSON.stringify(queries.map((x) => js.search(x, k)));
        const label = `${mode.storage}/${mode.rescore ?? 'f32'} ${kernel} k=${k}`;
        if (JSON.stringify(queries.map((x) => idx.search(x, k))) !== want)
          failures.push(`${label}: search differs from the JS kernel`);
        if (JSON.stringify(idx.searchMany(queries, k)) !== want)
          failures.push(`${label}: searchMany differs from the JS kernel`);
        if (
          JSON.stringify(idx.searchMany(queries, k, filter)) !==
          JSON.stringify(queries.map((x) => js.search(x, k, filter)))
        )
          failures.push(`${label}: filtered searchMany differs`);
      }
    }
  }
  return { relaxed, failures };
}

/** Fastest of `reps` streaming passes (after a warm-up) over `bytesPerVector` × n bytes in wasm memory. */
function floorMs(n: number, dim: number, kind: 'i8' | 'f32', reps: number): number {
  const scan = createSimdScan();
  if (!scan) return NaN;
  const count = n * dim;
  const bytes = kind === 'i8' ? count : count * 4;
  scan.memory.grow(Math.ceil(bytes / 65536));
  new Uint8Array(scan.memory.buffer, 0, bytes).fill(3);
  const t: number[] = [];
  let sink = 0;
  for (let i = 0; i < reps + 2; i++) {
    const s = performance.now();
    sink += kind === 'i8' ? scan.sumI8(0, count) : scan.sumF32(0, count);
    if (i >= 2) t.push(performance.now() - s);
  }
  return sink === 0.5 ? 0 : Math.min(...t);
}

function bench(n: number, rounds: number): SearchBenchRow[] {
  const dim = 128;
  const k = 10;
  const batch = 16;
  const data = vectors(n, dim, 1000 + n);
  const queries = vectors(batch, dim, 7);
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const rows: SearchBenchRow[] = [];
  const relaxed = hasRelaxedSimd();
  const variants: { storage: 'int8' | 'f32'; kernel: 'auto' | 'simd'; label: string }[] = [
    { storage: 'int8', kernel: 'auto', label: relaxed ? 'relaxed-simd' : 'simd128' },
    ...(relaxed ? [{ storage: 'int8' as const, kernel: 'simd' as const, label: 'simd128' }] : []),
    // f32 rows scan their int8 shadow with the same int8 kernels, then score the rows kept exactly.
    { storage: 'f32', kernel: 'auto', label: relaxed ? 'relaxed-simd' : 'simd128' },
    ...(relaxed ? [{ storage: 'f32' as const, kernel: 'simd' as const, label: 'simd128' }] : []),
  ];
  for (const v of variants) {
    let index: CosineIndex | null = new CosineIndex({ dim, storage: v.storage, kernel: v.kernel, capacity: n });
    addInChunks(index, ids, data, dim, 50_000);
    const { single, many } = timeSearchRounds(index, queries, dim, k, rounds);
    index = null;
    const kind = v.storage === 'int8' ? 'i8' : 'f32';
    rows.push({
      storage: v.storage,
      kernel: v.label,
      n,
      dim,
      k,
      single_p50_ms: median(single),
      many_queries: batch,
      many_p50_ms: median(many),
      floor_ms: floorMs(n, dim, kind, 9),
      floor_bytes_per_vector: kind === 'i8' ? dim : dim * 4,
    });
  }
  return rows;
}

async function checkThreads(): Promise<ThreadsCheck> {
  const failures: string[] = [];
  const dim = 64;
  const n = 3000;
  const flat = vectors(n, dim, 21);
  // Ties: a block of identical rows whose ids run against row order.
  for (let i = 0; i < 400; i++) flat.set(flat.subarray(0, dim), (n - 1 - i) * dim);
  const ids = Array.from({ length: n }, (_, i) => (i >= n - 400 ? `a${String(n - i).padStart(4, '0')}` : `v${i}`));
  const queries = [flat.subarray(0, dim), ...Array.from({ length: 18 }, (_, i) => vectors(1, dim, 300 + i))];
  let last: ThreadsCheck['last'] = null;
  const modes: Omit<CosineIndexOptions, 'dim'>[] = [
    { storage: 'f32' },
    { storage: 'int8', rescore: 'residual' },
    { storage: 'int8', rescore: 'dequantized' },
    { storage: 'int8', rescore: 'f32' },
  ];
  for (const mode of modes) {
    const idx = new CosineIndex({ dim, ...mode, searchThreads: 2, searchThreadsMinRows: 0 });
    idx.addVectors(ids, flat);
    idx.remove(ids.slice(10, 40));
    for (const k of [1, 10, 500]) {
      const label = `${mode.storage}/${mode.rescore ?? 'f32'} k=${k}`;
      for (const q of queries)
        if (JSON.stringify(await idx.searchAsync(q, k)) !== JSON.stringify(idx.search(q, k)))
          failures.push(`${label}: searchAsync differs from search`);
      if (JSON.stringify(await idx.searchManyAsync(queries, k)) !== JSON.stringify(idx.searchMany(queries, k)))
        failures.push(`${label}: searchManyAsync differs from searchMany`);
    }
    last = idx.threads.last;
    failures.push(...doorbellWakes(idx, dim, queries[1]));
  }
  return { isolated: crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, last, failures };
}

/**
 * A Web Worker woken by the doorbell alone claims a scan while this thread never yields (a spin on the claim word):
 * Chromium runs a worker's messages through the page's task queue, so only Atomics can start it here. Internals on
 * purpose: the threaded search, driven by hand (threads.test.ts does the same in Node).
 */
function doorbellWakes(idx: CosineIndex, dim: number, query: Float32Array): string[] {
  type Threaded = {
    current(): {
      candidates(k: number, n: number): number;
      load(qf: Float64Array, nq: number): void;
      bar(f: number): number;
    };
    dispatch(
      s: unknown,
      nq: number,
      n: number,
      c: number,
      bars: Float64Array,
      qOff: number,
    ): { finish(): Promise<unknown> };
    control: Int32Array;
    epoch: number;
    kernel: { layout: { qOff: number } };
  };
  const runner = (idx as unknown as { thr: { ready: { search: Threaded | null } | null } }).thr.ready;
  if (runner?.search == null) return ['doorbell: the index has no running threads'];
  const ts = runner.search;
  const scan = ts.current();
  const qf = new Float64Array(dim);
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += query[j] * query[j];
  for (let j = 0; j < dim; j++) qf[j] = query[j] / Math.sqrt(norm);
  scan.load(qf, 1);
  const d = ts.dispatch(
    scan,
    1,
    idx.size,
    scan.candidates(5, idx.size),
    new Float64Array([scan.bar(-Infinity)]),
    ts.kernel.layout.qOff,
  );
  const t0 = performance.now();
  while (Atomics.load(ts.control, 1) !== ts.epoch * 4 + 1)
    if (performance.now() - t0 > 10_000) {
      void d.finish();
      return ['doorbell: no thread claimed the scan within 10 s while the page did not yield'];
    }
  void d.finish();
  return [];
}

async function benchThreads(n: number, rounds: number, cpu: string): Promise<ThreadBenchRow[]> {
  const dim = 128;
  const k = 10;
  const batch = 16;
  const data = vectors(n, dim, 1000 + n);
  const queries = vectors(batch, dim, 7);
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const hw = navigator.hardwareConcurrency;
  const rows: ThreadBenchRow[] = [];
  for (const storage of ['int8', 'f32'] as const) {
    const floor = floorMs(n, dim, storage === 'int8' ? 'i8' : 'f32', 9);
    for (const threads of [...new Set([1, 2, hw])].filter((t) => t <= hw)) {
      const index = new CosineIndex({ dim, storage, capacity: n, searchThreads: threads, searchThreadsMinRows: 0 });
      addInChunks(index, ids, data, dim, 50_000);
      const threaded = threads > 1;
      const one: number[] = [];
      const many: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        for (let i = 0; i < batch; i++) {
          const q = queries.subarray(i * dim, i * dim + dim);
          const t = performance.now();
          if (threaded) await index.searchAsync(q, k);
          else index.search(q, k);
          if (round > 0) one.push(performance.now() - t);
        }
        const t = performance.now();
        if (threaded) await index.searchManyAsync(queries, k);
        else index.searchMany(queries, k);
        if (round > 0) many.push(performance.now() - t);
      }
      rows.push({
        cpu,
        storage,
        n,
        threads,
        path: threaded ? (index.threads.last?.path ?? '?') : 'single',
        p50_ms: median(one),
        many_p50_ms: median(many),
        floor_ms: floor,
      });
    }
  }
  return rows;
}

function benchImport(n: number, rounds: number): ImportBenchRow[] {
  const dim = 128;
  const data = vectors(n, dim, 4242 + n);
  const ids = Array.from({ length: n }, (_, i) => `guide/page-${Math.floor(i / 8)}.md#${i % 8}`);
  const model = { name: 'bench', dim, dtype: 'fp32', sha256: '0'.repeat(64) };
  const rows: ImportBenchRow[] = [];
  for (const storage of ['int8', 'f32'] as const) {
    let index: CosineIndex | null = new CosineIndex({ dim, storage });
    addInChunks(index, ids, data, dim, 50_000);
    const file = new Uint8Array(index.export(model));
    index = null;
    const imp: number[] = [];
    const copy: number[] = [];
    // Round 0 warms up; copy and import alternate so load from other processes hits both alike.
    for (let r = 0; r <= rounds; r++) {
      let t = performance.now();
      const c = new Uint8Array(file.length);
      c.set(file);
      if (r > 0) copy.push(performance.now() - t);
      t = performance.now();
      const back = CosineIndex.import(c, { model });
      if (r > 0) imp.push(performance.now() - t);
      if (back.size !== n) throw new Error('import lost rows');
    }
    rows.push({
      storage,
      n,
      bytes: file.byteLength,
      import_p50_ms: median(imp),
      copy_p50_ms: median(copy),
      import_over_copy: median(imp) / median(copy),
    });
  }
  return rows;
}

window.searchKernels = { check, bench, benchImport, checkThreads, benchThreads };
const status = document.getElementById('status');
if (status) status.textContent = 'ready';
