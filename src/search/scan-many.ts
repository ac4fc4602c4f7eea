// Many-query scan: one pass over the rows for a batch of queries. Each block of SCAN_BLOCK rows is scored against
// every query of the batch while it sits in cache, so memory is read once per batch instead of once per query; the
// per-query candidate logic is the single-query scan's, on the same scores, so results equal one-by-one search.
import { dotRowF32, dotRowsF32, dotRowsInt8 } from './kernels.js';
import { I32_MAX, minDot, shadowBar } from './pick-bounds.js';
import { writeInt8Many, type Int8KernelKind, type SimdScan } from './simd.js';
import type { TopK } from './topk.js';

/** Rows scored per kernel call: small enough to stay in L1/L2, large enough to amortise the call. */
export const SCAN_BLOCK = 256;
/** Queries per pass: 16 × 128-d f32 queries (8 KB) stay in L1 beside the row being scored. */
export const MANY_BATCH = 16;

/** Bytes of a pick area's scores, and of its indices: at most SCAN_BLOCK rows × MANY_BATCH queries of 4 bytes. */
const PICK_BYTES = MANY_BATCH * SCAN_BLOCK * 4;

/** A pick area at byte offset `base` (manyOutOff, or a scan thread's area): compacted scores, their indices, the minimums. */
export const pickArea = (base: number): { out: number; idx: number; mins: number } => ({
  out: base,
  idx: base + PICK_BYTES,
  mins: base + 2 * PICK_BYTES,
});

/**
 * Byte offsets in the kernel's memory: single query, its output block, the batch's queries, the calling thread's
 * pick area (at manyOutOff: the batch's outputs, indices and minimums, see pickArea), the threads' areas, then the rows.
 */
export interface WasmLayout {
  qOff: number;
  outOff: number;
  manyQOff: number;
  manyOutOff: number;
  /** Scan threads' output areas (threadStride bytes each, `threads` of them); none outside shared memory. */
  threadOff: number;
  threadStride: number;
  threads: number;
  rowsOff: number;
}

const align64 = (x: number): number => (x + 63) & ~63;

/** `threads`: output areas for that many scan threads (src/search/threads/), placed before the rows. */
export function wasmLayout(dim: number, threads = 0): WasmLayout {
  // Queries are int8 for both kinds (f32 rows scan their int8 shadow): at most 2 bytes a value (i16, or two 7-bit
  // halves) and pick_rows_i8's i32 after them.
  const qBytes = dim * 2 + 16;
  const outOff = align64(qBytes);
  const manyQOff = align64(outOff + SCAN_BLOCK * 4);
  const manyOutOff = align64(manyQOff + MANY_BATCH * qBytes);
  const areaBytes = align64(2 * PICK_BYTES + MANY_BATCH * 4);
  const threadOff = manyOutOff + areaBytes;
  const threadStride = areaBytes;
  const rowsOff = threadOff + threads * threadStride;
  return { qOff: 0, outOff, manyQOff, manyOutOff, threadOff, threadStride, threads, rowsOff };
}

/** What a batched pass reads; `accept(row)` applies the caller's filter (null: none). */
export interface ManyScanInput {
  /** First row of the pass (0 unless a scan thread takes a slice). */
  start: number;
  /** End of the pass (exclusive). */
  n: number;
  dim: number;
  /** Queries in this pass (<= MANY_BATCH). */
  nq: number;
  /** Unit queries, nq × dim (f32 scans). */
  qf: Float64Array;
  /** int8 query codes, nq × dim (int8 scans). */
  codes: Int8Array;
  /** One heap per query, already reset to its capacity and tie-break. */
  heaps: readonly TopK[];
  /** Per-query starting bar: a score must reach it to be considered. */
  bars: Float64Array;
  accept: ((row: number) => boolean) | null;
}

/** The kernel's memory and where things sit in it. */
export interface WasmScanTarget {
  scan: SimdScan;
  layout: WasmLayout;
  int8Kind: Int8KernelKind;
}

/**
 * Offers row `row` with score `s` to a heap the way the f32 single-query scan does (`>=` so ties reach the
 * id tie-break); returns the new bar.
 */
function offerTie(heap: TopK, s: number, row: number, bar: number, accept: ((row: number) => boolean) | null): number {
  if (!heap.accepts(s, row)) return bar;
  if (accept !== null && !accept(row)) return bar;
  heap.offer(s, row);
  return heap.full ? heap.threshold : bar;
}

/** f32 rows in JS memory: the JS kernel per query on each block (bit-identical to the single-query JS scan). */
export function scanManyF32Js(data: Float32Array, input: ManyScanInput, block: Float64Array): void {
  const { n, dim, nq, heaps, bars, accept } = input;
  const qs: Float64Array[] = [];
  for (let i = 0; i < nq; i++) qs.push(input.qf.subarray(i * dim, i * dim + dim));
  for (let start = input.start; start < n; start += SCAN_BLOCK) {
    const end = Math.min(n, start + SCAN_BLOCK);
    for (let qi = 0; qi < nq; qi++) {
      dotRowsF32(data, qs[qi], dim, start, end, block);
      const heap = heaps[qi];
      let bar = bars[qi];
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = block[i];
        if (s >= bar) bar = offerTie(heap, s, row, bar, accept);
      }
      bars[qi] = bar;
    }
  }
}

/**
 * Queries loaded for the f32 rows' int8 shadow pass (F32WasmScan in scan.ts): their int8 codes sit in the kernel's
 * query area, their float form scores the rows the pass keeps, exactly. pick-bounds.ts shadowBar turns a bar on exact
 * scores into one on shadow scores from these numbers.
 */
export interface ShadowQuery {
  nq: number;
  /** The unit queries (nq × dim, f64) the exact scores use. */
  qf: Float64Array;
  /** Each query's int8 scale, and the L1 norm of its codes. */
  qScale: Float64Array;
  qL1: Float64Array;
  /** The shadow codes' byte offset in the kernel memory, and the scales'. */
  codesOff: number;
  scalesOff: number;
  /** The rows' bounds when the queries were loaded: every scale and every row's L1 norm at most these. */
  maxScale: number;
  maxL1: number;
}

/** f32 rows scanned through their int8 shadow: the rows that score exactly and the queries loaded for the pass. */
export interface ShadowScoring {
  data: Float32Array;
  query: ShadowQuery;
}

/** Offers an int8 block's scores for one query the way the int8 single-query scan does (`>=`, ties by the heap's tie-break). */
function drainInt8(
  heap: TopK,
  block: Float64Array,
  start: number,
  end: number,
  bar: number,
  accept: ((row: number) => boolean) | null,
): number {
  for (let i = 0, row = start; row < end; i++, row++) {
    const s = block[i];
    if (s >= bar) {
      if (!heap.accepts(s, row)) continue;
      if (accept !== null && !accept(row)) continue;
      heap.offer(s, row);
      if (heap.full) bar = heap.threshold;
    }
  }
  return bar;
}

/** int8 codes in JS memory: the JS kernel per query on each block. */
export function scanManyInt8Js(
  codes: Int8Array,
  scales: Float32Array,
  input: ManyScanInput,
  block: Float64Array,
): void {
  const { n, dim, nq, heaps, bars, accept } = input;
  const qs: Int32Array[] = [];
  for (let i = 0; i < nq; i++) qs.push(Int32Array.from(input.codes.subarray(i * dim, i * dim + dim)));
  for (let start = input.start; start < n; start += SCAN_BLOCK) {
    const end = Math.min(n, start + SCAN_BLOCK);
    for (let qi = 0; qi < nq; qi++) {
      dotRowsInt8(codes, scales, qs[qi], dim, start, end, block);
      bars[qi] = drainInt8(heaps[qi], block, start, end, bars[qi], accept);
    }
  }
}

/** Writes `nq` queries' int8 codes into the batch area in pick_rows_i8_x4's layout (see writeInt8Many). */
export function writeInt8Batch(target: WasmScanTarget, codes: Int8Array, nq: number, dim: number): void {
  const { scan, layout, int8Kind } = target;
  writeInt8Many(scan.memory.buffer, layout.manyQOff, codes, nq, dim, int8Kind);
}

/**
 * int8 codes in wasm memory (int8 rows at `codesOff`, or f32 rows' shadow): pick_rows_i8_x4 (SIMD128 or relaxed SIMD)
 * scores 4 queries per row load (queries written first by writeInt8Batch) and hands back only the (row, group) pairs
 * where some query's dot reaches minDot of its bar at the block's start. The int8 score is the dot times the row's
 * scale (`maxScale` bounds them all): for int8 rows the score the single-query scan ranks; with `shadow`, compared with
 * the bar lowered by shadowBar, and a row that reaches it is scored exactly (dotRowF32) before the heap sees it.
 */
export function scanManyInt8Wasm(
  target: WasmScanTarget,
  codesOff: number,
  scales: Float32Array,
  maxScale: number,
  input: ManyScanInput,
  shadow: ShadowScoring | null,
): void {
  const { n, dim, nq, heaps, bars, accept } = input;
  const { scan, layout, int8Kind } = target;
  const kernels = int8Kind === 'relaxed' && scan.relaxed !== null ? scan.relaxed : scan;
  const ng = (nq + 3) >> 2;
  const nqp = ng * 4;
  const a = pickArea(layout.manyOutOff);
  const buf = scan.memory.buffer;
  const out = new Int32Array(buf, a.out, SCAN_BLOCK * nqp);
  const idx = new Int32Array(buf, a.idx, SCAN_BLOCK * ng);
  const mins = new Int32Array(buf, a.mins, MANY_BATCH);
  // The bars the int8 scores must reach: the bars themselves, or with a shadow the bars lowered by shadowBar.
  const pass = shadow === null ? bars : new Float64Array(nq);
  const q = shadow?.query;
  const lower = (qi: number): void => {
    if (q !== undefined) pass[qi] = shadowBar(bars[qi], q.qScale[qi], q.qL1[qi], q.maxScale, q.maxL1);
  };
  const qs: Float64Array[] = [];
  for (let qi = 0; qi < nq; qi++) {
    lower(qi);
    if (q !== undefined) qs.push(q.qf.subarray(qi * dim, qi * dim + dim));
  }
  // Padding queries (zero codes) never reach the maximum.
  for (let qi = nq; qi < nqp; qi++) mins[qi] = I32_MAX;
  for (let start = input.start; start < n; start += SCAN_BLOCK) {
    const end = Math.min(n, start + SCAN_BLOCK);
    for (let qi = 0; qi < nq; qi++) mins[qi] = minDot(pass[qi], maxScale);
    const c = kernels.pickRowsI8x4(layout.manyQOff, ng, codesOff + start * dim, dim, end - start, a.out, a.mins, a.idx);
    // Pairs come row by row, so each query still sees its rows in ascending order, as the per-query loop did.
    for (let k = 0; k < c; k++) {
      const e = idx[k];
      const row = start + (e >> 2);
      const q0 = (e & 3) << 2;
      const sc = scales[row];
      for (let qi = q0, o = k << 2; qi < q0 + 4 && qi < nq; qi++, o++) {
        const d = out[o] * sc;
        if (!(d >= pass[qi])) continue;
        const s = shadow === null ? d : dotRowF32(shadow.data, row * dim, qs[qi], dim);
        if (s >= bars[qi]) {
          const heap = heaps[qi];
          if (!heap.accepts(s, row)) continue;
          if (accept !== null && !accept(row)) continue;
          heap.offer(s, row);
          if (heap.full) {
            bars[qi] = heap.threshold;
            lower(qi);
          }
        }
      }
    }
  }
}
