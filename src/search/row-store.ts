// Row stores: the vectors of an index in row order, as float32 rows or int8 codes (+ scales, residual codes or
// float32 rescore rows). Each owns its arrays, their growth (scanned rows in the kernel's wasm memory when there is
// one), swap-remove and the arrays serialisation reads; the id map and metadata stay with the index.
import { dotRowF32 } from './kernels.js';
import type { KernelMemory } from './kernel-memory.js';
import { dequantizeRow, quantizeResidualRow, quantizeRow, RESIDUAL_DIVISOR } from './quantize.js';
import type { TopK } from './topk.js';
import type { Int8Rescore, RawIndex } from './types.js';

/** Row arrays as serialisation reads and writes them; also a batch encoded for a store but not yet written. */
export type RowArrays = Pick<RawIndex, 'f32' | 'i8' | 'scales' | 'res'>;

const MIN_CAPACITY = 16;

/** Geometric growth: ×2, at least `needed` and MIN_CAPACITY. */
function nextCapacity(needed: number, capacity: number): number {
  return Math.max(needed, capacity * 2, MIN_CAPACITY);
}

interface RowStoreBase {
  readonly dim: number;
  /** Rows allocated. */
  readonly capacity: number;
  /** Bytes allocated for rows (capacity, not just used rows). */
  readonly byteLength: number;
  /** The kernel whose memory holds the scanned rows, or null (JS memory); dropped only when growth meets the wasm limit. */
  readonly kernel: KernelMemory | null;
  /** Encodes `n` validated unit rows into fresh arrays in this store's form; nothing is stored yet. */
  encode(flat: Float32Array, n: number): RowArrays;
  /** Room for at least `needed` rows, keeping the first `count`; allocates before swapping, so a failure changes nothing. */
  grow(needed: number, count: number): void;
  /** Stores row `i` of an `encode` result at `row` (< capacity). */
  write(row: number, enc: RowArrays, i: number): void;
  /** Copies row `from` over row `to` (swap-remove). */
  move(from: number, to: number): void;
  /** A copy of row `row` as float32 (dequantised for int8). */
  read(row: number): Float32Array;
  /** The arrays serialisation writes (row-major, at least `count` rows). */
  arrays(): RowArrays;
  /** Copies in the rows of a decoded index (which may be views into the caller's buffer). */
  adopt(raw: RawIndex): void;
  /** Moves the scanned arrays into another kernel's memory (threads: a shared one), already reserved for the capacity. */
  moveInto(kernel: KernelMemory): void;
}

/**
 * Float32 rows: exact scores. In a kernel's memory each row also has an int8 shadow (codes and scale, simd-kernel.wat
 * shade_rows) that the wasm scans pass over, reading a quarter of the bytes; pick-bounds.ts shadowBar bounds how far a
 * shadow score can sit from the exact one, so rows it drops could not have reached the bar.
 */
export class F32Rows implements RowStoreBase {
  readonly storage = 'f32';
  data: Float32Array = new Float32Array(0);
  /** The shadow codes, dim a row (null without a kernel). */
  shadow: Int8Array | null = null;
  /** The shadow scales, one a row (null without a kernel). */
  shadowScales: Float32Array | null = null;
  /** At least every stored row's shadow scale (only ever raised). */
  maxScale = 0;
  /** At least every stored row's L1 norm (only ever raised): see shadowBar. */
  maxL1 = 0;
  capacity = 0;

  constructor(
    readonly dim: number,
    public kernel: KernelMemory | null,
  ) {}

  get byteLength(): number {
    return this.data.byteLength + (this.shadow?.byteLength ?? 0) + (this.shadowScales?.byteLength ?? 0);
  }

  encode(flat: Float32Array): RowArrays {
    return { f32: flat, i8: null, scales: null, res: null };
  }

  grow(needed: number, count: number): void {
    const cap = nextCapacity(needed, this.capacity);
    const dim = this.dim;
    const kernel = this.kernel;
    if (kernel !== null) {
      // In wasm memory the rows grow in place and the shadow moves to the new end of the capacity (KernelMemory.moveTail);
      // at the 4 GiB limit the rows move to JS memory and the kernel and shadow are dropped.
      if (kernel.reserve(cap)) {
        kernel.moveTail(this.capacity, cap, count);
        this.data = kernel.rowsF32(cap * dim);
        this.shadow = kernel.shadowI8(cap);
        this.shadowScales = kernel.scalesF32(cap);
        this.capacity = cap;
        return;
      }
      this.data = this.data.slice(0, count * dim);
      this.kernel = null;
      this.shadow = null;
      this.shadowScales = null;
    }
    const next = new Float32Array(cap * dim);
    next.set(this.data.subarray(0, count * dim));
    this.data = next;
    this.capacity = cap;
  }

  write(row: number, enc: RowArrays, i: number): void {
    const dim = this.dim;
    this.data.set((enc.f32 as Float32Array).subarray(i * dim, i * dim + dim), row * dim);
    this.shade(row, row + 1);
  }

  move(from: number, to: number): void {
    const dim = this.dim;
    this.data.copyWithin(to * dim, from * dim, from * dim + dim);
    if (this.shadow !== null && this.shadowScales !== null) {
      this.shadow.copyWithin(to * dim, from * dim, from * dim + dim);
      this.shadowScales[to] = this.shadowScales[from];
    }
  }

  read(row: number): Float32Array {
    return this.data.slice(row * this.dim, row * this.dim + this.dim);
  }

  arrays(): RowArrays {
    return { f32: this.data, i8: null, scales: null, res: null };
  }

  adopt(raw: RawIndex): void {
    const src = raw.f32 as Float32Array;
    if (this.kernel !== null) {
      this.grow(Math.max(raw.count, MIN_CAPACITY), 0);
      this.data.set(src.subarray(0, raw.count * this.dim));
      this.shade(0, raw.count);
    } else {
      this.data = src.slice(0, raw.count * this.dim);
      this.capacity = raw.count;
    }
  }

  /** Copies the rows (the whole capacity) and their shadow into `kernel`'s memory, already reserved for them, and scans there. */
  moveInto(kernel: KernelMemory): void {
    const dim = this.dim;
    const data = kernel.rowsF32(this.capacity * dim);
    data.set(this.data.subarray(0, data.length));
    const shadow = kernel.shadowI8(this.capacity);
    const scales = kernel.scalesF32(this.capacity);
    // Rows in a kernel always have their shadow (only such stores move: ThreadedSearch.open).
    shadow.set(this.shadow as Int8Array);
    scales.set(this.shadowScales as Float32Array);
    this.data = data;
    this.shadow = shadow;
    this.shadowScales = scales;
    this.kernel = kernel;
  }

  /** Quantises rows [start, end) of `data` into the shadow (in wasm) and raises maxScale/maxL1 to cover them (no-op without one). */
  private shade(start: number, end: number): void {
    const { shadow, shadowScales, kernel, dim } = this;
    if (shadow === null || shadowScales === null || kernel === null || end <= start) return;
    const l1 = kernel.scan.shadeRows(
      this.data.byteOffset + start * dim * 4,
      end - start,
      dim,
      shadow.byteOffset + start * dim,
      shadowScales.byteOffset + start * 4,
    );
    // The kernel sums |x| in f32, dim / 4 terms a lane: relative error under (dim / 4 + 2) · 2^-24; round up past it.
    const bound = l1 * (1 + 1e-6 + dim * 1e-7);
    if (bound > this.maxL1) this.maxL1 = bound;
    for (let row = start; row < end; row++) if (shadowScales[row] > this.maxScale) this.maxScale = shadowScales[row];
  }
}

/** int8 codes with one float32 scale per row, scanned with integer dots; candidates are rescored per `rescore`. */
export class Int8Rows implements RowStoreBase {
  readonly storage = 'int8';
  codes: Int8Array = new Int8Array(0);
  scales: Float32Array = new Float32Array(0);
  /** At least every stored row's scale (only ever raised): the scan's pre-filter bound, see pick-bounds.ts minDot. */
  maxScale = 0;
  /** 'residual': each code's rounding error, in steps of scale / RESIDUAL_DIVISOR. */
  res: Int8Array | null = null;
  /** 'f32': the float32 rows, for exact rescoring. */
  exact: Float32Array | null = null;
  capacity = 0;

  constructor(
    readonly dim: number,
    readonly rescore: Int8Rescore,
    public kernel: KernelMemory | null,
  ) {}

  get byteLength(): number {
    return this.codes.byteLength + this.scales.byteLength + (this.res?.byteLength ?? 0) + (this.exact?.byteLength ?? 0);
  }

  encode(flat: Float32Array, n: number): RowArrays {
    const dim = this.dim;
    const codes = new Int8Array(n * dim);
    const scales = new Float32Array(n);
    const res = this.rescore === 'residual' ? new Int8Array(n * dim) : null;
    for (let i = 0; i < n; i++) {
      scales[i] = quantizeRow(flat, i * dim, dim, codes, i * dim);
      if (res !== null) quantizeResidualRow(flat, i * dim, dim, codes, i * dim, scales[i], res, i * dim);
    }
    return { f32: this.rescore === 'f32' ? flat : null, i8: codes, scales, res };
  }

  grow(needed: number, count: number): void {
    const cap = nextCapacity(needed, this.capacity);
    const dim = this.dim;
    const used = count * dim;
    const kernel = this.kernel;
    let inWasm = false;
    if (kernel !== null) {
      // In wasm memory the scales sit after the codes' capacity (the pick kernels read them): see KernelMemory.scalesF32.
      inWasm = kernel.reserve(cap);
      // Growth detached the old views: re-view codes and scales now, so a failed allocation below leaves them readable.
      if (inWasm) {
        this.codes = kernel.rowsI8(this.capacity * dim);
        this.scales = kernel.scalesF32(this.capacity);
      } else {
        // The wasm limit: codes and scales move to JS memory, the kernel is dropped.
        this.codes = this.codes.slice(0, used);
        this.scales = this.scales.slice(0, count);
        this.kernel = null;
      }
    }
    // Allocate everything first: if any allocation throws, nothing has been replaced.
    const codes = inWasm ? null : new Int8Array(cap * dim);
    const scales = inWasm ? null : new Float32Array(cap);
    const res = this.rescore === 'residual' ? new Int8Array(cap * dim) : null;
    const exact = this.rescore === 'f32' ? new Float32Array(cap * dim) : null;
    if (codes !== null) codes.set(this.codes.subarray(0, used));
    if (scales !== null) scales.set(this.scales.subarray(0, count));
    if (res !== null && this.res !== null) res.set(this.res.subarray(0, used));
    if (exact !== null && this.exact !== null) exact.set(this.exact.subarray(0, used));
    if (kernel !== null && inWasm) {
      kernel.moveTail(this.capacity, cap, count);
      this.codes = kernel.rowsI8(cap * dim);
      this.scales = kernel.scalesF32(cap);
    } else {
      this.codes = codes as Int8Array;
      this.scales = scales as Float32Array;
    }
    this.res = res;
    this.exact = exact;
    this.capacity = cap;
  }

  write(row: number, enc: RowArrays, i: number): void {
    const dim = this.dim;
    this.codes.set((enc.i8 as Int8Array).subarray(i * dim, i * dim + dim), row * dim);
    const scale = (enc.scales as Float32Array)[i];
    this.scales[row] = scale;
    if (scale > this.maxScale) this.maxScale = scale;
    if (this.res !== null) this.res.set((enc.res as Int8Array).subarray(i * dim, i * dim + dim), row * dim);
    if (this.exact !== null) this.exact.set((enc.f32 as Float32Array).subarray(i * dim, i * dim + dim), row * dim);
  }

  move(from: number, to: number): void {
    const dim = this.dim;
    this.codes.copyWithin(to * dim, from * dim, from * dim + dim);
    this.scales[to] = this.scales[from];
    if (this.res !== null) this.res.copyWithin(to * dim, from * dim, from * dim + dim);
    if (this.exact !== null) this.exact.copyWithin(to * dim, from * dim, from * dim + dim);
  }

  read(row: number): Float32Array {
    const dim = this.dim;
    if (this.exact !== null) return this.exact.slice(row * dim, row * dim + dim);
    const out = new Float32Array(dim);
    dequantizeRow(this.codes, row * dim, dim, this.scales[row], out, 0, this.res);
    return out;
  }

  arrays(): RowArrays {
    return { f32: this.exact, i8: this.codes, scales: this.scales, res: this.res };
  }

  adopt(raw: RawIndex): void {
    const codes = raw.i8 as Int8Array;
    const scales = raw.scales as Float32Array;
    for (let i = 0; i < raw.count; i++) if (scales[i] > this.maxScale) this.maxScale = scales[i];
    if (this.kernel !== null) {
      const n = raw.count * this.dim;
      this.grow(Math.max(raw.count, MIN_CAPACITY), 0);
      this.codes.set(codes.subarray(0, n));
      this.scales.set(scales.subarray(0, raw.count));
      if (raw.res !== null && this.res !== null) this.res.set(raw.res.subarray(0, n));
      if (raw.f32 !== null && this.exact !== null) this.exact.set(raw.f32.subarray(0, n));
    } else {
      const n = raw.count * this.dim;
      this.codes = codes.slice(0, n);
      this.scales = scales.slice(0, raw.count);
      this.res = raw.res?.slice(0, n) ?? null;
      this.exact = raw.f32?.slice(0, n) ?? null;
      this.capacity = raw.count;
    }
  }

  /** Copies the codes and scales (the whole capacity) into `kernel`'s memory, already reserved for them, and scans there. */
  moveInto(kernel: KernelMemory): void {
    const codes = kernel.rowsI8(this.capacity * this.dim);
    codes.set(this.codes.subarray(0, codes.length));
    const scales = kernel.scalesF32(this.capacity);
    scales.set(this.scales.subarray(0, scales.length));
    this.codes = codes;
    this.scales = scales;
    this.kernel = kernel;
  }

  /** Offers candidate rows[0..got) to `heap`, each rescored with the float query `qf` (see `rescore`); drops scores below `floor`. */
  rescoreInto(rows: Int32Array, got: number, qf: Float64Array, floor: number, heap: TopK): void {
    const { codes, scales, res, exact, dim } = this;
    for (let i = 0; i < got; i++) {
      const row = rows[i];
      const base = row * dim;
      let s = 0;
      if (exact !== null) s = dotRowF32(exact, base, qf, dim);
      else if (res !== null) {
        let r = 0;
        for (let j = 0; j < dim; j++) {
          s += codes[base + j] * qf[j];
          r += res[base + j] * qf[j];
        }
        s = (s + r / RESIDUAL_DIVISOR) * scales[row];
      } else {
        for (let j = 0; j < dim; j++) s += codes[base + j] * qf[j];
        s *= scales[row];
      }
      if (s >= floor) heap.offer(s, row);
    }
  }
}

/** An index's rows: float32 or int8. */
export type RowStore = F32Rows | Int8Rows;
