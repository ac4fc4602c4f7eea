// Threaded exact search (issue 20): CosineIndex.searchAsync / searchManyAsync on 1, 2 and all hardware threads, f32 and
// int8, each p50 a ratio to the single-thread streaming floor over the same bytes measured in the same run (search.bench
// floorMs); the crossover size where threads start to pay (HPD_BENCH_SIZES, default 10k, 30k, 100k, 1M); and where a
// single-thread int8 scan spends its time (kernel, candidate selection, rescoring). Prints the CPU model and the load
// average; writes bench/results/search-threads.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');

const DIM = 128;
const K = 10;
const BATCH = 16;
const SIZES = (process.env.HPD_BENCH_SIZES ?? '10000,30000,100000,1000000').split(',').map(Number);
const QUERIES = Number(process.env.HPD_BENCH_QUERIES ?? '24');
const here = dirname(fileURLToPath(import.meta.url));

/** One row of bench/results/search-threads.json. */
export interface ThreadRow {
  storage: string;
  n: number;
  /** Threads asked for (1: the sync single-thread search). */
  threads: number;
  /** The path searchAsync reported ('single' for the sync rows). */
  path: string;
  p50_ms: number;
  p95_ms: number;
  floor_ms: number;
  p50_over_floor: number;
  many_p50_ms: number;
  /** searchMany(16) p50 / search p50 on the same path. */
  many_over_one: number;
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};

interface AsyncIndex {
  search(q: Float32Array, k: number): unknown;
  searchMany(q: Float32Array, k: number): unknown;
  searchAsync(q: Float32Array, k: number): Promise<unknown>;
  searchManyAsync(q: Float32Array, k: number): Promise<unknown>;
}

/** Rounds of one search per query then one searchMany of the first 16, after a warm-up round; times in ms. */
async function time(index: AsyncIndex, queries: Float32Array, threaded: boolean, rounds: number) {
  const one: number[] = [];
  const many: number[] = [];
  const count = queries.length / DIM;
  const batch = queries.subarray(0, BATCH * DIM);
  for (let round = 0; round <= rounds; round++) {
    for (let i = 0; i < count; i++) {
      const q = queries.subarray(i * DIM, i * DIM + DIM);
      const t = performance.now();
      if (threaded) await index.searchAsync(q, K);
      else index.search(q, K);
      if (round > 0) one.push(performance.now() - t);
    }
    const t = performance.now();
    if (threaded) await index.searchManyAsync(batch, K);
    else index.searchMany(batch, K);
    if (round > 0) many.push(performance.now() - t);
  }
  return { one, many };
}

export async function run(): Promise<void> {
  const { CosineIndex } = await import('../src/search/index.js');
  const { unitVectors, floorMs } = await import('./search.bench.js');
  const { addInChunks } = await import('./timing.js');
  const { hasRelaxedSimd } = await import('../src/search/simd.js');
  const hw = availableParallelism();
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'}, ${hw} hardware threads`;
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  console.log(
    `node ${process.version}; ${cpu}; relaxed SIMD: ${hasRelaxedSimd() ? 'yes' : 'no'}; load average ${load()}\n` +
      `ratios: p50 / single-thread streaming floor over the same bytes (same run); searchMany(${BATCH}) / one search on the same path`,
  );
  const threadCounts = [...new Set([1, 2, hw])].filter((t) => t <= hw);
  const rows: ThreadRow[] = [];
  const queries = unitVectors(Math.max(QUERIES, BATCH), 7);
  for (const n of SIZES) {
    const data = unitVectors(n, 1000 + n);
    const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
    const rounds = n >= 1_000_000 ? 3 : 5;
    for (const storage of ['int8', 'f32'] as const) {
      const floor = floorMs(storage, data, n);
      for (const threads of threadCounts) {
        const index = new CosineIndex({ dim: DIM, storage, searchThreads: threads, searchThreadsMinRows: 0 });
        addInChunks(index, ids, data, DIM, 10_000);
        const threaded = threads > 1;
        if (threaded) await index.searchAsync(queries.subarray(0, DIM), K); // rows move to shared memory once
        const { one, many } = await time(index, queries, threaded, rounds);
        const p50 = pct(one, 0.5);
        const row: ThreadRow = {
          storage,
          n,
          threads,
          path: threaded ? (index.threads.last?.path ?? '?') : 'single',
          p50_ms: r4(p50),
          p95_ms: r4(pct(one, 0.95)),
          floor_ms: r4(floor),
          p50_over_floor: r4(p50 / floor),
          many_p50_ms: r4(pct(many, 0.5)),
          many_over_one: r4(pct(many, 0.5) / p50),
        };
        rows.push(row);
        console.log(
          `${storage.padEnd(4)} n=${String(n).padStart(7)} threads ${threads} (${row.path.padEnd(7)})  p50 ${p50.toFixed(2).padStart(7)} ms = ${row.p50_over_floor.toFixed(2)}× floor ${floor.toFixed(2)} ms  p95 ${row.p95_ms.toFixed(2)} ms  ` +
            `searchMany(${BATCH}) ${row.many_p50_ms.toFixed(2)} ms = ${row.many_over_one.toFixed(2)}× one  [load ${load()}]`,
        );
      }
    }
  }
  const breakdown = await int8Breakdown();
  const out = join(here, 'results', 'search-threads.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    JSON.stringify({ machine: cpu, runtime: `node ${process.version}`, load: load(), rows, breakdown }, null, 2) + '\n',
  );
  console.log(`wrote ${out}`);
}

/**
 * One int8 scan's time split, before and after the in-kernel bar test, same run: the old path (dot_rows_i8 on every
 * row, then the JS selection loop over all n scores) and the new one (pick_rows_i8: the kernel drops rows whose dot
 * cannot reach the bar, JS selects among the rest); each kernel alone, kernel + selection, and the whole search
 * (adds quantising the query and rescoring the candidates).
 */
export async function int8Breakdown(): Promise<Record<string, number | string>[]> {
  const n = Number(process.env.HPD_BENCH_BREAKDOWN_N ?? '1000000');
  const ROUNDS = Number(process.env.HPD_BENCH_BREAKDOWN_ROUNDS ?? '15');
  const { CosineIndex } = await import('../src/search/index.js');
  const { unitVectors } = await import('./search.bench.js');
  const { addInChunks } = await import('./timing.js');
  const { SCAN_BLOCK, pickArea, writeInt8Batch } = await import('../src/search/scan-many.js');
  const { I32_MAX } = await import('../src/search/pick-bounds.js');
  const { quantizeRow } = await import('../src/search/quantize.js');
  const { writeInt8Query } = await import('../src/search/simd.js');
  const { TopK } = await import('../src/search/topk.js');
  const data = unitVectors(n, 1000 + n);
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const q = unitVectors(1, 7);
  const out: Record<string, number | string>[] = [];
  for (const kernel of ['auto', 'simd'] as const) {
    const index = new CosineIndex({ dim: DIM, storage: 'int8', kernel });
    addInChunks(index, ids, data, DIM, 10_000);
    // The index's own store and kernel (internals, read for the split only).
    const rows = (
      index as unknown as {
        rows: {
          kernel: import('../src/search/kernel-memory.js').KernelMemory;
          scales: Float32Array;
          maxScale: number;
        };
      }
    ).rows;
    const mem = rows.kernel;
    const { qOff, outOff, rowsOff, manyQOff, manyOutOff } = mem.layout;
    index.search(q, K); // writes the query (pick_rows_i8's layout) into the kernel's memory
    // The old kernel's query layout (int8 codes for 'simd') in the otherwise idle batch area.
    const codes = new Int8Array(DIM);
    quantizeRow(Float64Array.from(q), 0, DIM, codes, 0);
    writeInt8Query(mem.scan.memory.buffer, manyQOff, codes, 0, DIM, mem.int8Kind, false);
    const c = Math.max(4 * K, K + 32);
    const heap = new TopK(64);
    const oldKernel = (): number => {
      for (let start = 0; start < n; start += SCAN_BLOCK)
        mem.int8.dotRowsI8(manyQOff, rowsOff + start * DIM, DIM, Math.min(SCAN_BLOCK, n - start), outOff);
      return 0;
    };
    const oldWithSelection = (): number => {
      const out32 = mem.outI32;
      const scales = rows.scales;
      heap.reset(c, null);
      let bar = -Infinity;
      for (let start = 0; start < n; start += SCAN_BLOCK) {
        const end = Math.min(n, start + SCAN_BLOCK);
        mem.int8.dotRowsI8(manyQOff, rowsOff + start * DIM, DIM, end - start, outOff);
        for (let i = 0, row = start; row < end; i++, row++) {
          const s = out32[i] * scales[row];
          if (s >= bar) {
            heap.offer(s, row);
            if (heap.full) bar = heap.threshold;
          }
        }
      }
      return bar;
    };
    const finalBar = oldWithSelection();
    const a = pickArea(manyOutOff);
    let kept = 0;
    // The new kernel alone, at the scan's final bar (what most blocks of a long scan see).
    const scalesOff = rows.scales.byteOffset;
    const pickKernel = (): number => {
      for (let start = 0; start < n; start += SCAN_BLOCK) {
        const cnt = Math.min(SCAN_BLOCK, n - start);
        mem.int8.pickRowsI8(qOff, rowsOff + start * DIM, DIM, cnt, a.out, finalBar, a.idx, scalesOff + start * 4);
      }
      return 0;
    };
    const pickWithSelection = (): number => {
      const buf = mem.scan.memory.buffer;
      const out32 = new Int32Array(buf, a.out, SCAN_BLOCK);
      const idx = new Int32Array(buf, a.idx, SCAN_BLOCK);
      const scales = rows.scales;
      heap.reset(c, null);
      let bar = -Infinity;
      kept = 0;
      for (let start = 0; start < n; start += SCAN_BLOCK) {
        const end = Math.min(n, start + SCAN_BLOCK);
        const got = mem.int8.pickRowsI8(
          qOff,
          rowsOff + start * DIM,
          DIM,
          end - start,
          a.out,
          bar,
          a.idx,
          scalesOff + start * 4,
        );
        kept += got;
        for (let k = 0; k < got; k++) {
          const row = start + idx[k];
          const s = out32[k] * scales[row];
          if (s >= bar) {
            heap.offer(s, row);
            if (heap.full) bar = heap.threshold;
          }
        }
      }
      return bar;
    };
    if (pickWithSelection() !== finalBar) throw new Error('pick_rows_i8 selection disagrees with the full selection');
    // Rounds of every variant in turn, best of each: a burst of load on this shared machine hits all of them alike.
    // The floor here: one streaming pass over the same rows in the same memory (search.bench's floorMs, in the rounds).
    const floorPass = (): number => mem.scan.sumI8(rowsOff, n * DIM);
    const fns = [floorPass, oldKernel, pickKernel, oldWithSelection, pickWithSelection, () => index.search(q, K)];
    const mins = fns.map(() => Infinity);
    for (let round = 0; round < ROUNDS + 2; round++) {
      fns.forEach((fn, i) => {
        const t = performance.now();
        fn();
        if (round >= 2) mins[i] = Math.min(mins[i], performance.now() - t);
      });
    }
    const [floor, ok, pk, oks, pks, full] = mins;
    // The 16-query kernel alone (no query's bar reached: pure kernel time), against the one-query kernel, in rounds.
    const codes16 = new Int8Array(BATCH * DIM);
    const qs = unitVectors(BATCH, 8);
    for (let i = 0; i < BATCH; i++) quantizeRow(qs, i * DIM, DIM, codes16, i * DIM);
    writeInt8Batch(mem, codes16, BATCH, DIM);
    new Int32Array(mem.scan.memory.buffer, a.mins, BATCH).fill(I32_MAX);
    const manyKernel = (): number => {
      for (let start = 0; start < n; start += SCAN_BLOCK) {
        const cnt = Math.min(SCAN_BLOCK, n - start);
        mem.int8.pickRowsI8x4(manyQOff, BATCH / 4, rowsOff + start * DIM, DIM, cnt, a.out, a.mins, a.idx);
      }
      return 0;
    };
    let mk = Infinity;
    let pk2 = Infinity;
    for (let round = 0; round < ROUNDS + 2; round++) {
      let t = performance.now();
      manyKernel();
      if (round >= 2) mk = Math.min(mk, performance.now() - t);
      t = performance.now();
      pickKernel();
      if (round >= 2) pk2 = Math.min(pk2, performance.now() - t);
    }
    const row = {
      kernel: mem.int8Kind,
      n,
      floor_ms: r4(floor),
      old_kernel_ms: r4(ok),
      old_selection_ms: r4(oks - ok),
      old_kernel_selection_over_floor: r4(oks / floor),
      kernel_ms: r4(pk),
      selection_ms: r4(pks - pk),
      rows_to_js: kept,
      rescore_and_rest_ms: r4(full - pks),
      search_ms: r4(full),
      kernel_over_floor: r4(pk / floor),
      kernel_selection_over_floor: r4(pks / floor),
      search_over_floor: r4(full / floor),
      many16_kernel_ms: r4(mk),
      many16_kernel_over_one_kernel: r4(mk / pk2),
      many16_ns_per_query_row: r4((mk * 1e6) / (n * BATCH)),
    };
    out.push(row);
    console.log(
      `int8 breakdown (${row.kernel}, n=${n}, best of ${ROUNDS} interleaved rounds, floor ${floor.toFixed(2)} ms): ` +
        `before: dot_rows_i8 ${ok.toFixed(2)} ms (${(ok / floor).toFixed(2)}×) + selection over all rows ${(oks - ok).toFixed(2)} ms = ${(oks / floor).toFixed(2)}×; ` +
        `after: pick_rows_i8 ${pk.toFixed(2)} ms (${row.kernel_over_floor.toFixed(2)}×) + selection over ${kept} rows ${(pks - pk).toFixed(2)} ms = ${row.kernel_selection_over_floor.toFixed(2)}×; ` +
        `+ quantise/rescore/rest ${(full - pks).toFixed(2)} ms = search ${full.toFixed(2)} ms (${row.search_over_floor.toFixed(2)}×); ` +
        `16-query kernel pick_rows_i8_x4 ${mk.toFixed(2)} ms = ${row.many16_kernel_over_one_kernel.toFixed(2)}× the one-query kernel (${row.many16_ns_per_query_row.toFixed(2)} ns per query and row)`,
    );
  }
  return out;
}
