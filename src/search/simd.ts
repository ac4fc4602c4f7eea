// Loads the wasm SIMD scan kernels (simd-kernel.wat, and simd-relaxed-kernel.wat where the engine has relaxed SIMD).
// Hand-written wasm: no library offers a few-kilobyte f32x4 / i8x16 dot-product scan, and it runs ~2.5× faster than
// the best JS loop. Where wasm or SIMD is unavailable (or a CSP forbids compiling wasm), callers get null and keep
// the JS kernels.
import { SIMD_KERNEL_BASE64 } from './simd-kernel-bytes.js';
import { SIMD_RELAXED_KERNEL_BASE64 } from './simd-relaxed-kernel-bytes.js';

/** int8 dot-product kernels (i32 outputs, exact integer sums); their query layout is the kernel's own. */
export interface Int8Kernels {
  /** out[i] = exact integer dot of int8 row i at `rows` with the query at `q`. */
  dotRowsI8(q: number, rows: number, dim: number, n: number, out: number): void;
  /** out[(r × ng + g) × 4 + k] = exact integer dot of row r with query 4g + k (ng groups of 4 queries at `q`). */
  dotRowsI8x4(q: number, ng: number, rows: number, dim: number, n: number, out: number): void;
  /**
   * dotRowsI8 with the candidate pass's bar test: writes out[c] = dot and idx[c] = row (0-based in the call) for the
   * rows it looks at, advancing c only where f64(dot) × f64(the row's f32 scale, at `scales` + 4 × row) >= bar (the
   * JS selection's `dot * scales[row] >= bar`, same rounding); returns c. The 'simd' kernel reads writeInt8Query's
   * pick layout.
   */
  pickRowsI8(
    q: number,
    rows: number,
    dim: number,
    n: number,
    out: number,
    bar: number,
    idx: number,
    scales: number,
  ): number;
  /** dotRowsI8x4 compacted: out[c] = a group's 4 dots (i32x4), idx[c] = row × 4 + group, kept where any dot >= its i32 at mins + 16g + 4k. */
  pickRowsI8x4(
    q: number,
    ng: number,
    rows: number,
    dim: number,
    n: number,
    out: number,
    mins: number,
    idx: number,
  ): number;
}

export interface SimdScan extends Int8Kernels {
  readonly memory: WebAssembly.Memory;
  /** Sum of `count` f32 at byte offset `ptr` (count a multiple of 16): one streaming pass. */
  sumF32(ptr: number, count: number): number;
  /** Sum of `count` int8 at `ptr` (count a multiple of 16). */
  sumI8(ptr: number, count: number): number;
  /**
   * f32 rows' int8 shadow (simd-kernel.wat shade_rows): n rows of dim f32 at `rows` → codes at `codes`, scales at
   * `scales`; returns the largest row L1 norm (f32 sum).
   */
  shadeRows(rows: number, n: number, dim: number, codes: number, scales: number): number;
  /** The relaxed-SIMD int8 kernels on the same memory, or null where the engine lacks relaxed SIMD. */
  readonly relaxed: Int8Kernels | null;
}

/** Which int8 kernel family writes a query: 'simd' (dotRowsI8: int8 codes; dotRowsI8x4: codes widened to i16) or 'relaxed' (7-bit halves p, m). */
export type Int8KernelKind = 'simd' | 'relaxed';

/** The kernel processes 16 floats per step. */
export const SIMD_DIM_MULTIPLE = 16;
export const WASM_PAGE = 65536;

const compiled = new Map<string, WebAssembly.Module | null>();

function compile(base64: string): WebAssembly.Module | null {
  const cached = compiled.get(base64);
  if (cached !== undefined) return cached;
  let mod: WebAssembly.Module | null;
  try {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // A few kilobytes: synchronous compilation is allowed even on a browser's main thread.
    mod = new WebAssembly.Module(bytes);
  } catch {
    mod = null;
  }
  compiled.set(base64, mod);
  return mod;
}

/** Whether this engine runs relaxed SIMD correctly (Chrome >= 114, Node >= 22; see selfCheck for Node 20's flag). */
export function hasRelaxedSimd(): boolean {
  return createSimdScan()?.relaxed != null;
}

/** Result of the relaxed kernels' self-check, once per process. */
let relaxedWorks: boolean | undefined;

/**
 * Runs both relaxed kernels on fixed rows and queries (extreme codes and mixed signs) in a fresh memory and compares
 * with exact integer dots: Node 20's --experimental-wasm-relaxed-simd computes relaxed_dot_i8x16_i7x16_add_s wrongly
 * (2× for a splat of 127s), so "it compiles" is not enough. Leaves the scratch bytes zeroed.
 */
function selfCheck(memory: WebAssembly.Memory, k: Int8Kernels): boolean {
  const dim = 32;
  const rowsN = 5;
  const buf = memory.buffer;
  const rows = new Int8Array(buf, 4096, rowsN * dim);
  const q = new Int8Array(4 * dim);
  let seed = 12345;
  const next = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % 255) - 127;
  for (let i = 0; i < rows.length; i++) rows[i] = next();
  for (let i = 0; i < q.length; i++) q[i] = next();
  rows.fill(127, 0, dim);
  rows.fill(-127, dim, 2 * dim);
  q.fill(127, 0, dim);
  q.fill(-127, dim, 2 * dim);
  const want = (r: number, i: number): number => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[r * dim + j] * q[i * dim + j];
    return s;
  };
  let ok = true;
  for (let i = 0; i < 4; i++) writeInt8Query(buf, i * 2 * dim, q, i * dim, dim, 'relaxed', true);
  k.dotRowsI8x4(0, 1, 4096, dim, rowsN, 8192);
  const many = new Int32Array(buf, 8192, rowsN * 4);
  for (let r = 0; r < rowsN; r++) for (let i = 0; i < 4; i++) if (many[r * 4 + i] !== want(r, i)) ok = false;
  for (let i = 0; ok && i < 4; i++) {
    k.dotRowsI8(i * 2 * dim, 4096, dim, rowsN, 8192);
    const one = new Int32Array(buf, 8192, rowsN);
    for (let r = 0; r < rowsN; r++) if (one[r] !== want(r, i)) ok = false;
    // Scales at 12288 (zeroed): every score is 0, so a bar of -Infinity keeps every row.
    if (k.pickRowsI8(i * 2 * dim, 4096, dim, rowsN, 8192, -Infinity, 8192 + rowsN * 4, 12288) !== rowsN) ok = false;
    for (let r = 0; r < rowsN; r++) if (one[r] !== want(r, i)) ok = false;
  }
  new Uint8Array(buf, 0, 8192 + rowsN * 16).fill(0); // covers pickRowsI8's idx too (8192 + rowsN × 8)
  return ok;
}

/**
 * A fresh kernel instance with its own memory, or null where wasm SIMD cannot run. `relaxed: false` leaves the
 * relaxed-SIMD kernels out even where the engine has them (for comparisons).
 */
export function createSimdScan(options: { relaxed?: boolean } = {}): SimdScan | null {
  const mod = typeof WebAssembly === 'object' ? compile(SIMD_KERNEL_BASE64) : null;
  if (!mod) return null;
  return instantiateSimdScan(mod, options.relaxed === false ? null : compile(SIMD_RELAXED_KERNEL_BASE64), null);
}

/** The base64 kernel compiled (cached per process), or null where this engine cannot compile it. */
export function compileKernelModule(base64: string): WebAssembly.Module | null {
  return typeof WebAssembly === 'object' ? compile(base64) : null;
}

/**
 * Instances of the kernel module `mod` and the relaxed module `rmod` (null: none) on one memory: `memory` when the
 * modules import theirs (the shared-memory builds of src/search/threads/), else the one `mod` defines. Null on failure.
 */
export function instantiateSimdScan(
  mod: WebAssembly.Module,
  rmod: WebAssembly.Module | null,
  memory: WebAssembly.Memory | null,
): SimdScan | null {
  try {
    const inst = new WebAssembly.Instance(mod, memory === null ? {} : { env: { memory } });
    const ex = inst.exports as {
      memory?: WebAssembly.Memory;
      sum_f32: SimdScan['sumF32'];
      dot_rows_i8: SimdScan['dotRowsI8'];
      dot_rows_i8_x4: SimdScan['dotRowsI8x4'];
      sum_i8: SimdScan['sumI8'];
      shade_rows: SimdScan['shadeRows'];
      pick_rows_i8: SimdScan['pickRowsI8'];
      pick_rows_i8_x4: SimdScan['pickRowsI8x4'];
    };
    const mem = memory ?? (ex.memory as WebAssembly.Memory);
    let relaxed: Int8Kernels | null = null;
    if (rmod) {
      try {
        const rex = new WebAssembly.Instance(rmod, { env: { memory: mem } }).exports as {
          dot_rows_i8: Int8Kernels['dotRowsI8'];
          dot_rows_i8_x4: Int8Kernels['dotRowsI8x4'];
          pick_rows_i8: Int8Kernels['pickRowsI8'];
          pick_rows_i8_x4: Int8Kernels['pickRowsI8x4'];
        };
        relaxed = {
          dotRowsI8: rex.dot_rows_i8,
          dotRowsI8x4: rex.dot_rows_i8_x4,
          pickRowsI8: rex.pick_rows_i8,
          pickRowsI8x4: rex.pick_rows_i8_x4,
        };
        if (relaxedWorks === undefined) relaxedWorks = selfCheck(mem, relaxed);
        if (!relaxedWorks) relaxed = null;
      } catch {
        relaxed = null;
      }
    }
    return {
      memory: mem,
      sumF32: ex.sum_f32,
      dotRowsI8: ex.dot_rows_i8,
      dotRowsI8x4: ex.dot_rows_i8_x4,
      sumI8: ex.sum_i8,
      shadeRows: ex.shade_rows,
      pickRowsI8: ex.pick_rows_i8,
      pickRowsI8x4: ex.pick_rows_i8_x4,
      relaxed,
    };
  } catch {
    return null;
  }
}

/**
 * Writes int8 query codes (in [-127, 127]) into kernel memory at byte offset `off`, in the layout the kernel
 * family expects: 'relaxed' → p = max(q, 0) then m = max(-q, 0); 'simd' with `pick` → pick_rows_i8's pairs (per
 * 16-code chunk, 8 i16 QA = q[2k] then 8 i16 QB = q[2k+1] - 256 q[2k]; then the i32 128 × the sum of the even codes
 * at off + 2 × dim; see simd-kernel.wat); 'simd' without → the codes as they are (dot_rows_i8).
 */
export function writeInt8Query(
  buffer: ArrayBuffer,
  off: number,
  codes: Int8Array,
  codesOff: number,
  dim: number,
  kind: Int8KernelKind,
  pick: boolean,
): void {
  if (kind === 'relaxed') {
    const p = new Int8Array(buffer, off, 2 * dim);
    for (let j = 0; j < dim; j++) {
      const c = codes[codesOff + j];
      p[j] = c > 0 ? c : 0;
      p[dim + j] = c < 0 ? -c : 0;
    }
  } else if (pick) {
    const q16 = new Int16Array(buffer, off, dim);
    let even = 0;
    for (let j = 0; j < dim; j += 2) {
      const e = codes[codesOff + j];
      const o = codes[codesOff + j + 1];
      const at = (j & ~15) + ((j & 15) >> 1);
      q16[at] = e;
      q16[at + 8] = o - 256 * e;
      even += e;
    }
    new Int32Array(buffer, off + 2 * dim, 1)[0] = 128 * even;
  } else {
    new Int8Array(buffer, off, dim).set(codes.subarray(codesOff, codesOff + dim));
  }
}

/**
 * Writes `nq` queries' int8 codes at byte offset `off` for pick_rows_i8_x4, padded to a multiple of 4 with zero queries
 * (their scores are never kept): 'relaxed' → each query's p then m halves back to back (2 × dim bytes a query);
 * 'simd' → widened to i16 and interleaved by 16-code chunk (group g at g × dim × 8 bytes, chunk c at + c × 128,
 * query k of the group at + 32k), so the kernel reaches a chunk's 8 loads from one pointer.
 */
export function writeInt8Many(
  buffer: ArrayBuffer,
  off: number,
  codes: Int8Array,
  nq: number,
  dim: number,
  kind: Int8KernelKind,
): void {
  const nqp = ((nq + 3) >> 2) * 4;
  if (kind === 'relaxed') {
    const zero = new Int8Array(dim);
    for (let i = 0; i < nqp; i++)
      writeInt8Query(buffer, off + i * 2 * dim, i < nq ? codes : zero, i < nq ? i * dim : 0, dim, kind, true);
    return;
  }
  const q16 = new Int16Array(buffer, off, nqp * dim);
  for (let i = 0; i < nqp; i++) {
    const base = (i >> 2) * dim * 4 + (i & 3) * 16;
    for (let j = 0; j < dim; j++) q16[base + (j >> 4) * 64 + (j & 15)] = i < nq ? codes[i * dim + j] : 0;
  }
}
