// Scans: top-k over a row store, for one query or a batch (scan-many.ts). `createScanner` picks one of four once,
// from the store's kind and whether its rows live in a wasm kernel: JS f32 (exact in one pass), wasm f32, JS int8
// and wasm int8 (a candidate pass, then exact rescoring of the candidates).
import { dotRowF32, dotRowsF32, dotRowsInt8 } from './kernels.js';
import type { KernelMemory } from './kernel-memory.js';
import { quantizeRow } from './quantize.js';
import type { F32Rows, Int8Rows, RowStore } from './row-store.js';
import { shadowBar } from './pick-bounds.js';
import {
  MANY_BATCH,
  pickArea,
  SCAN_BLOCK,
  scanManyF32Js,
  scanManyInt8Js,
  scanManyInt8Wasm,
  writeInt8Batch,
  type ManyScanInput,
  type ShadowQuery,
} from './scan-many.js';
import { writeInt8Query } from './simd.js';
import { TopK, type RowTieBreak } from './topk.js';

/** The caller's filter on a row, or null for none. */
export type Accept = ((row: number) => boolean) | null;

export interface Scanner {
  /** The kernel it scans with (null: JS), so the index can tell when growth dropped it. */
  readonly kernel: KernelMemory | null;
  /** Fills `heap` (reset by the caller to kk, ties by id) with the top rows among `n` for the unit query `qf`, scores >= floor. */
  one(qf: Float64Array, n: number, kk: number, floor: number, accept: Accept, heap: TopK): void;
  /** `one` for `nq` (<= MANY_BATCH) queries back to back in `qf`, in one pass over the rows; `emit(i, heap)` gets each query's top-k in order. */
  many(
    qf: Float64Array,
    nq: number,
    n: number,
    kk: number,
    floor: number,
    accept: Accept,
    emit: (i: number, heap: TopK) => void,
  ): void;
}

/**
 * A wasm scan split into its stages, so src/search/threads/ can run the candidate pass over slices on several threads
 * and merge: load the queries into the kernel's memory, pass over [start, end) into candidate heaps (reset by the
 * caller to `candidates(kk, n)` with the row tie-break: the candidate set is the top c by (pass score, id)), then
 * rescore the candidates exactly. `one`/`many` are these stages over [0, n).
 */
export interface RangeScan extends Scanner {
  readonly kernel: KernelMemory;
  /** 'f32' (scores are the f32 sums) or 'i8' (integer dots × the row's scale). */
  readonly kind: 'f32' | 'i8';
  /** The row tie-break the candidate heaps use. */
  readonly tie: RowTieBreak;
  candidates(kk: number, n: number): number;
  /** The candidate pass's starting bar for a caller's floor. */
  bar(floor: number): number;
  /** Writes `nq` unit queries (back to back in qf) into the kernel's query area: the single area for 1, else the batch area. */
  load(qf: Float64Array, nq: number): void;
  passRange(start: number, end: number, bar: number, accept: Accept, cand: TopK): void;
  passManyRange(
    start: number,
    end: number,
    nq: number,
    heaps: readonly TopK[],
    bars: Float64Array,
    accept: Accept,
  ): void;
  /** Drains `cand` (c candidates) and offers each, rescored against query qf[qOff..qOff+dim), to `heap` when >= floor. */
  rescore(c: number, cand: TopK, qf: Float64Array, qOff: number, floor: number, heap: TopK): void;
  /** The scales array pick_rows_i8 multiplies by: int8 rows' scales, or f32 rows' shadow scales. */
  readonly scales: Float32Array | null;
  /** A bound on every row's scale in `scales` (see minDot). */
  readonly maxScale: number;
  /** f32: the queries loaded for the shadow pass (after load); null for int8. */
  shadowQuery(): ShadowQuery | null;
}

/** Candidates kept by the int8 pass before exact rescoring: enough slack that quantisation noise rarely evicts a true top-k hit. */
function int8CandidateCount(k: number): number {
  return Math.max(4 * k, k + 32);
}

/** The scanner for `rows`, chosen once (and again only if growth drops the kernel); `tie` orders equal scores by id. */
export function createScanner(rows: RowStore, tie: RowTieBreak): Scanner | RangeScan {
  if (rows.storage === 'f32')
    return rows.kernel !== null ? new F32WasmScan(rows, rows.kernel, tie) : new F32JsScan(rows, tie);
  return rows.kernel !== null ? new Int8WasmScan(rows, rows.kernel, tie) : new Int8JsScan(rows, tie);
}

/** Scratch shared by the scans: reused across searches so a query allocates only its result. */
abstract class ScanBase {
  protected readonly block = new Float64Array(SCAN_BLOCK);
  protected readonly cand = new TopK(64);
  /** searchMany: one heap per query of a batch. */
  protected readonly heaps: TopK[] = [];
  protected candRows = new Int32Array(64);
  protected candScores = new Float64Array(64);

  constructor(readonly tie: RowTieBreak) {}

  /** Drains a candidate heap, best first, into candRows/candScores (grown as needed); returns the count. */
  protected drain(c: number, heap: TopK): number {
    if (this.candRows.length < c) {
      this.candRows = new Int32Array(c);
      this.candScores = new Float64Array(c);
    }
    return heap.drainSorted(this.candRows, this.candScores);
  }

  /** `nq` heaps reset to `c` with tie-break `tie`, and each query's starting bar. */
  protected batch(nq: number, c: number, tie: RowTieBreak | null, bar: number): { heaps: TopK[]; bars: Float64Array } {
    while (this.heaps.length < nq) this.heaps.push(new TopK(64));
    for (let i = 0; i < nq; i++) this.heaps[i].reset(c, tie);
    return { heaps: this.heaps, bars: new Float64Array(nq).fill(bar) };
  }
}

/** f32 rows in JS memory: one exact pass straight into the final heap. */
class F32JsScan extends ScanBase implements Scanner {
  readonly kernel = null;

  constructor(
    private readonly rows: F32Rows,
    tie: RowTieBreak,
  ) {
    super(tie);
  }

  /** Exact single pass in blocks: the kernel fills a small score buffer, then rows below the heap's bar cost one compare. */
  one(qf: Float64Array, n: number, _kk: number, floor: number, accept: Accept, heap: TopK): void {
    const data = this.rows.data;
    const dim = this.rows.dim;
    const block = this.block;
    let bar = floor;
    for (let start = 0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      dotRowsF32(data, qf, dim, start, end, block);
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = block[i];
        // `>=` so equal scores reach the heap's id tie-break.
        if (s >= bar) {
          if (!heap.accepts(s, row)) continue;
          if (accept !== null && !accept(row)) continue;
          heap.offer(s, row);
          if (heap.full) bar = heap.threshold;
        }
      }
    }
  }

  many(
    qf: Float64Array,
    nq: number,
    n: number,
    kk: number,
    floor: number,
    accept: Accept,
    emit: (i: number, heap: TopK) => void,
  ): void {
    const { heaps, bars } = this.batch(nq, kk, this.tie, floor);
    const input: ManyScanInput = {
      start: 0,
      n,
      dim: this.rows.dim,
      nq,
      qf,
      codes: new Int8Array(0),
      heaps,
      bars,
      accept,
    };
    scanManyF32Js(this.rows.data, input, this.block);
    for (let i = 0; i < nq; i++) emit(i, heaps[i]);
  }
}

/**
 * f32 rows in wasm memory: pick_rows_i8 (one query) or pick_rows_i8_x4 (a batch) passes over the rows' int8 shadow, a
 * quarter of the bytes, against bars lowered by the quantisation bound (pick-bounds.ts shadowBar), and each row that
 * could reach a bar is scored exactly, like the JS kernel: the candidates are the exact top c, ties by id.
 */
class F32WasmScan extends ScanBase implements RangeScan {
  readonly kind = 'f32';
  private readonly codes: Int8Array;
  private readonly query: ShadowQuery;

  constructor(
    private readonly rows: F32Rows,
    readonly kernel: KernelMemory,
    tie: RowTieBreak,
  ) {
    super(tie);
    this.codes = new Int8Array(MANY_BATCH * rows.dim);
    this.query = {
      nq: 0,
      qf: new Float64Array(0),
      qScale: new Float64Array(MANY_BATCH),
      qL1: new Float64Array(MANY_BATCH),
      codesOff: 0,
      scalesOff: 0,
      maxScale: 0,
      maxL1: 0,
    };
  }

  get scales(): Float32Array | null {
    return this.rows.shadowScales;
  }

  get maxScale(): number {
    return this.rows.maxScale;
  }

  /** The pass scores exactly, so k candidates are the answer. */
  candidates(kk: number, n: number): number {
    return Math.min(kk, n);
  }

  bar(floor: number): number {
    return floor;
  }

  shadowQuery(): ShadowQuery {
    return this.query;
  }

  load(qf: Float64Array, nq: number): void {
    const mem = this.kernel;
    const { dim, shadow, shadowScales, maxScale, maxL1 } = this.rows;
    const codes = this.codes;
    const q = this.query;
    for (let i = 0; i < nq; i++) {
      q.qScale[i] = quantizeRow(qf, i * dim, dim, codes, i * dim);
      let l1 = 0;
      for (let j = i * dim; j < i * dim + dim; j++) l1 += Math.abs(codes[j]);
      q.qL1[i] = l1;
    }
    if (nq === 1) writeInt8Query(mem.scan.memory.buffer, mem.layout.qOff, codes, 0, dim, mem.int8Kind, true);
    else writeInt8Batch(mem, codes, nq, dim);
    q.nq = nq;
    q.qf = qf;
    q.codesOff = (shadow as Int8Array).byteOffset;
    q.scalesOff = (shadowScales as Float32Array).byteOffset;
    q.maxScale = maxScale;
    q.maxL1 = maxL1;
  }

  one(qf: Float64Array, n: number, kk: number, floor: number, accept: Accept, heap: TopK): void {
    const c = this.candidates(kk, n);
    this.cand.reset(c, this.tie);
    this.load(qf, 1);
    this.passRange(0, n, this.bar(floor), accept, this.cand);
    this.rescore(c, this.cand, qf, 0, floor, heap);
  }

  passRange(start0: number, n: number, bar: number, accept: Accept, cand: TopK): void {
    const mem = this.kernel;
    const q = this.query;
    const { data, dim } = this.rows;
    const qScale = q.qScale[0];
    const qL1 = q.qL1[0];
    const a = pickArea(mem.layout.manyOutOff);
    const idx = new Int32Array(mem.scan.memory.buffer, a.idx, SCAN_BLOCK);
    let pass = shadowBar(bar, qScale, qL1, q.maxScale, q.maxL1);
    for (let start = start0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      // The kernel keeps the rows whose shadow score could reach the bar as it stands now (the bar only rises).
      const c = mem.int8.pickRowsI8(
        mem.layout.qOff,
        q.codesOff + start * dim,
        dim,
        end - start,
        a.out,
        pass,
        a.idx,
        q.scalesOff + start * 4,
      );
      for (let k = 0; k < c; k++) {
        const row = start + idx[k];
        const s = dotRowF32(data, row * dim, q.qf, dim);
        if (s >= bar) {
          if (!cand.accepts(s, row)) continue;
          if (accept !== null && !accept(row)) continue;
          cand.offer(s, row);
          if (cand.full) {
            bar = cand.threshold;
            pass = shadowBar(bar, qScale, qL1, q.maxScale, q.maxL1);
          }
        }
      }
    }
  }

  passManyRange(
    start: number,
    end: number,
    nq: number,
    heaps: readonly TopK[],
    bars: Float64Array,
    accept: Accept,
  ): void {
    const dim = this.rows.dim;
    const { data, shadowScales, maxScale } = this.rows;
    const input = { start, n: end, dim, nq, qf: this.query.qf, codes: this.codes, heaps, bars, accept };
    const shadow = { data, query: this.query };
    scanManyInt8Wasm(this.kernel, this.query.codesOff, shadowScales as Float32Array, maxScale, input, shadow);
  }

  many(
    qf: Float64Array,
    nq: number,
    n: number,
    kk: number,
    floor: number,
    accept: Accept,
    emit: (i: number, heap: TopK) => void,
  ): void {
    const dim = this.rows.dim;
    const c = this.candidates(kk, n);
    const { heaps, bars } = this.batch(nq, c, this.tie, this.bar(floor));
    this.load(qf, nq);
    this.passManyRange(0, n, nq, heaps, bars, accept);
    for (let i = 0; i < nq; i++) {
      this.cand.reset(kk, this.tie);
      this.rescore(c, heaps[i], qf, i * dim, floor, this.cand);
      emit(i, this.cand);
    }
  }

  rescore(c: number, cand: TopK, qf: Float64Array, qOff: number, floor: number, heap: TopK): void {
    const got = this.drain(c, cand);
    const data = this.rows.data;
    const dim = this.rows.dim;
    const q = qOff === 0 ? qf : qf.subarray(qOff, qOff + dim);
    for (let i = 0; i < got; i++) {
      const row = this.candRows[i];
      const s = dotRowF32(data, row * dim, q, dim);
      if (s >= floor) heap.offer(s, row);
    }
  }
}

/** int8 rows: an integer-dot pass picks int8CandidateCount(k) candidates (ties by id), which the store rescores with the float query. */
abstract class Int8Scan extends ScanBase implements Scanner {
  abstract readonly kernel: KernelMemory | null;
  /** int8 codes of the batch's queries (the single query uses the first dim). */
  protected readonly codes: Int8Array;
  protected readonly final = new TopK(16);

  constructor(
    protected readonly rows: Int8Rows,
    tie: RowTieBreak,
  ) {
    super(tie);
    this.codes = new Int8Array(MANY_BATCH * rows.dim);
  }

  /** The candidate pass over rows [start, end) for the query whose codes are in codes[0..dim): offers (score, row) to `cand`. */
  protected abstract pass(start: number, end: number, bar: number, accept: Accept, cand: TopK): void;
  /** The candidate pass for a batch (codes back to back). */
  protected abstract passMany(input: ManyScanInput): void;
  /** Hands the single query's codes (codes[0..dim)) to the pass. */
  protected abstract loadOne(): void;

  candidates(kk: number, n: number): number {
    return Math.min(int8CandidateCount(kk), n);
  }

  bar(): number {
    return -Infinity;
  }

  get scales(): Float32Array {
    return this.rows.scales;
  }

  get maxScale(): number {
    return this.rows.maxScale;
  }

  one(qf: Float64Array, n: number, kk: number, floor: number, accept: Accept, heap: TopK): void {
    const c = this.candidates(kk, n);
    const cand = this.cand;
    cand.reset(c, this.tie);
    // The query's own scale is common to every row, so it is left out of the ranking score.
    quantizeRow(qf, 0, this.rows.dim, this.codes, 0);
    this.loadOne();
    this.pass(0, n, -Infinity, accept, cand);
    this.rescore(c, cand, qf, 0, floor, heap);
  }

  rescore(c: number, cand: TopK, qf: Float64Array, qOff: number, floor: number, heap: TopK): void {
    const got = this.drain(c, cand); // before reading candRows: draining may replace it
    const dim = this.rows.dim;
    this.rows.rescoreInto(this.candRows, got, qOff === 0 ? qf : qf.subarray(qOff, qOff + dim), floor, heap);
  }

  many(
    qf: Float64Array,
    nq: number,
    n: number,
    kk: number,
    floor: number,
    accept: Accept,
    emit: (i: number, heap: TopK) => void,
  ): void {
    const dim = this.rows.dim;
    const c = this.candidates(kk, n);
    const { heaps, bars } = this.batch(nq, c, this.tie, -Infinity);
    for (let i = 0; i < nq; i++) quantizeRow(qf, i * dim, dim, this.codes, i * dim);
    this.passMany({ start: 0, n, dim, nq, qf, codes: this.codes, heaps, bars, accept });
    for (let i = 0; i < nq; i++) {
      this.final.reset(kk, this.tie);
      this.rescore(c, heaps[i], qf, i * dim, floor, this.final);
      emit(i, this.final);
    }
  }
}

/** int8 codes in JS memory. */
class Int8JsScan extends Int8Scan {
  readonly kernel = null;
  private readonly qi: Int32Array;

  constructor(rows: Int8Rows, tie: RowTieBreak) {
    super(rows, tie);
    this.qi = new Int32Array(rows.dim);
  }

  protected loadOne(): void {
    for (let j = 0; j < this.rows.dim; j++) this.qi[j] = this.codes[j];
  }

  protected pass(start0: number, n: number, bar: number, accept: Accept, cand: TopK): void {
    const { codes, scales, dim } = this.rows;
    const qi = this.qi;
    const block = this.block;
    for (let start = start0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      dotRowsInt8(codes, scales, qi, dim, start, end, block);
      // `>=` so equal scores reach the heap's id tie-break.
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = block[i];
        if (s >= bar) {
          if (!cand.accepts(s, row)) continue;
          if (accept !== null && !accept(row)) continue;
          cand.offer(s, row);
          if (cand.full) bar = cand.threshold;
        }
      }
    }
  }

  protected passMany(input: ManyScanInput): void {
    scanManyInt8Js(this.rows.codes, this.rows.scales, input, this.block);
  }
}

/** int8 codes in wasm memory (SIMD128, or relaxed SIMD where the engine has it). */
class Int8WasmScan extends Int8Scan implements RangeScan {
  readonly kind = 'i8';

  shadowQuery(): null {
    return null;
  }

  constructor(
    rows: Int8Rows,
    readonly kernel: KernelMemory,
    tie: RowTieBreak,
  ) {
    super(rows, tie);
  }

  load(qf: Float64Array, nq: number): void {
    const dim = this.rows.dim;
    for (let i = 0; i < nq; i++) quantizeRow(qf, i * dim, dim, this.codes, i * dim);
    if (nq === 1) this.loadOne();
    else writeInt8Batch(this.kernel, this.codes, nq, dim);
  }

  protected loadOne(): void {
    const mem = this.kernel;
    // pick_rows_i8's layout ('relaxed' has one layout for every kernel).
    writeInt8Query(mem.scan.memory.buffer, mem.layout.qOff, this.codes, 0, this.rows.dim, mem.int8Kind, true);
  }

  passRange(start: number, end: number, bar: number, accept: Accept, cand: TopK): void {
    this.pass(start, end, bar, accept, cand);
  }

  passManyRange(
    start: number,
    end: number,
    nq: number,
    heaps: readonly TopK[],
    bars: Float64Array,
    accept: Accept,
  ): void {
    const dim = this.rows.dim;
    const input = { start, n: end, dim, nq, qf: new Float64Array(0), codes: this.codes, heaps, bars, accept };
    scanManyInt8Wasm(this.kernel, this.kernel.layout.rowsOff, this.rows.scales, this.rows.maxScale, input, null);
  }

  protected pass(start0: number, n: number, bar: number, accept: Accept, cand: TopK): void {
    const mem = this.kernel;
    const { scales, dim } = this.rows;
    const { qOff, rowsOff, manyOutOff } = mem.layout;
    const a = pickArea(manyOutOff);
    const buf = mem.scan.memory.buffer;
    const out = new Int32Array(buf, a.out, SCAN_BLOCK);
    const idx = new Int32Array(buf, a.idx, SCAN_BLOCK);
    const scalesOff = scales.byteOffset; // the scales live in the kernel's memory with the codes
    for (let start = start0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      // Same exact integer dots as the JS kernel; the kernel drops rows whose `dot * scale` misses the bar as it
      // stands now (the same f64 product as below), and the bar only rises, so those rows would fail the test below.
      const c = mem.int8.pickRowsI8(
        qOff,
        rowsOff + start * dim,
        dim,
        end - start,
        a.out,
        bar,
        a.idx,
        scalesOff + start * 4,
      );
      for (let k = 0; k < c; k++) {
        const row = start + idx[k];
        const s = out[k] * scales[row];
        if (s >= bar) {
          if (!cand.accepts(s, row)) continue;
          if (accept !== null && !accept(row)) continue;
          cand.offer(s, row);
          if (cand.full) bar = cand.threshold;
        }
      }
    }
  }

  protected passMany(input: ManyScanInput): void {
    writeInt8Batch(this.kernel, input.codes, input.nq, input.dim);
    scanManyInt8Wasm(this.kernel, this.kernel.layout.rowsOff, this.rows.scales, this.rows.maxScale, input, null);
  }
}
