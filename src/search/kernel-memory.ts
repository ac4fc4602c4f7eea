// One index's wasm SIMD kernel and its memory: the query and output areas (layout from scan-many.ts), then the
// rows, which grow in place, then their tail: for i8 rows their scales; for f32 rows their int8 shadow (codes, then
// scales) that the one-query pass scans. Views into the memory are rebuilt here whenever growth replaces its buffer.
import { SCAN_BLOCK, wasmLayout, type WasmLayout, type WasmScanTarget } from './scan-many.js';
import {
  createSimdScan,
  SIMD_DIM_MULTIPLE,
  WASM_PAGE,
  type Int8KernelKind,
  type Int8Kernels,
  type SimdScan,
} from './simd.js';

export type RowKind = 'f32' | 'i8';

export class KernelMemory implements WasmScanTarget {
  readonly scan: SimdScan;
  readonly layout: WasmLayout;
  /** Which int8 kernels scan ('relaxed' where the engine has working relaxed SIMD). */
  readonly int8Kind: Int8KernelKind;
  /** The int8 kernels `int8Kind` names. */
  readonly int8: Int8Kernels;
  private readonly rowBytes: number;
  /** Tail bytes a row: i8 rows' scale, or f32 rows' shadow codes and scale. */
  private readonly tailRowBytes: number;
  private buffer: ArrayBuffer | null = null;
  private outI32View = new Int32Array(0);

  private constructor(
    scan: SimdScan,
    readonly kind: RowKind,
    readonly dim: number,
    threads = 0,
  ) {
    this.scan = scan;
    this.layout = wasmLayout(dim, threads);
    this.int8Kind = scan.relaxed !== null ? 'relaxed' : 'simd';
    this.int8 = scan.relaxed ?? scan;
    this.rowBytes = kind === 'f32' ? dim * 4 : dim;
    this.tailRowBytes = kind === 'f32' ? dim + 4 : 4;
  }

  /** A kernel for rows of `kind`, or null where wasm SIMD cannot run or dim is not a multiple of SIMD_DIM_MULTIPLE. */
  static create(kind: RowKind, dim: number, relaxed: boolean): KernelMemory | null {
    if (dim % SIMD_DIM_MULTIPLE !== 0) return null;
    const scan = createSimdScan({ relaxed });
    return scan === null ? null : new KernelMemory(scan, kind, dim);
  }

  /** A kernel on `scan` (instantiated on a shared memory by src/search/threads/) with output areas for `threads` scan threads. */
  static onScan(scan: SimdScan, kind: RowKind, dim: number, threads: number): KernelMemory {
    return new KernelMemory(scan, kind, dim, threads);
  }

  /**
   * Grows the memory to hold `cap` rows (existing rows keep their offset) and their tail after them (see scalesF32 and
   * shadowI8; moveTail carries the tail to the new end); false at the 4 GiB wasm limit.
   */
  reserve(cap: number): boolean {
    const mem = this.scan.memory;
    const needPages = Math.ceil((this.tailOff(cap) + cap * this.tailRowBytes) / WASM_PAGE);
    const havePages = mem.buffer.byteLength / WASM_PAGE;
    try {
      if (needPages > havePages) mem.grow(needPages - havePages);
      return true;
    } catch {
      return false;
    }
  }

  /** The first `values` row values as f32 (f32 kernels) — a view valid until the next `reserve`. */
  rowsF32(values: number): Float32Array {
    return new Float32Array(this.scan.memory.buffer, this.layout.rowsOff, values);
  }

  /** The first `values` row codes (i8 kernels) — a view valid until the next `reserve`. */
  rowsI8(values: number): Int8Array {
    return new Int8Array(this.scan.memory.buffer, this.layout.rowsOff, values);
  }

  /** f32 rows' int8 shadow codes, right after a capacity of `cap` rows — a view of `cap` rows, valid until the next `reserve`. */
  shadowI8(cap: number): Int8Array {
    return new Int8Array(this.scan.memory.buffer, this.tailOff(cap), cap * this.dim);
  }

  /**
   * The f32 scales the pick kernels read (i8 rows' scales, or f32 rows' shadow scales after the shadow codes): in the
   * tail after a capacity of `cap` rows, so they move when the capacity grows (moveTail) — a view of `cap` scales,
   * valid until the next `reserve`.
   */
  scalesF32(cap: number): Float32Array {
    const codes = this.kind === 'f32' ? cap * this.dim : 0;
    return new Float32Array(this.scan.memory.buffer, this.tailOff(cap) + codes, cap);
  }

  /** Moves the first `count` rows' tail from its place after `fromCap` rows to its place after `toCap` rows (after reserve(toCap)). */
  moveTail(fromCap: number, toCap: number, count: number): void {
    if (fromCap === toCap || count === 0) return;
    const bytes = new Uint8Array(this.scan.memory.buffer);
    // Scales first: they sit above the shadow codes at both ends, so neither move overwrites what the other reads.
    const from = this.scalesF32(fromCap).byteOffset;
    bytes.copyWithin(this.scalesF32(toCap).byteOffset, from, from + count * 4);
    if (this.kind === 'f32') {
      const codes = this.tailOff(fromCap);
      bytes.copyWithin(this.tailOff(toCap), codes, codes + count * this.dim);
    }
  }

  /** Where the tail starts for a capacity of `cap` rows. */
  private tailOff(cap: number): number {
    return this.layout.rowsOff + cap * this.rowBytes;
  }

  /** The single-query output block as i32 dots. */
  get outI32(): Int32Array {
    this.sync();
    return this.outI32View;
  }

  /** Rebuilds the views when growth has replaced the memory's buffer (the old views are detached). */
  private sync(): void {
    const buf = this.scan.memory.buffer;
    if (this.buffer === buf) return;
    this.buffer = buf;
    this.outI32View = new Int32Array(buf, this.layout.outOff, SCAN_BLOCK);
  }
}
