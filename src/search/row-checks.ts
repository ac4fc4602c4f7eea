// What add() can store, checked when a file is loaded: a checksum proves the bytes are the ones written, not that a
// save wrote them. Each check is one pass over the rows, allocates nothing per row, and returns a fault or undefined.
import { INT8_MAX_CODE, quantizeRow, RESIDUAL_DIVISOR } from './quantize.js';

/**
 * How far Σx² of a stored f32 row may be from 1. add() writes x = fl32(v / ‖v‖): rounding each value to float32
 * moves Σx² by at most 2·2⁻²⁴ ≈ 1.2e-7 whatever the dim; the rest is margin.
 */
export const UNIT_NORM2_TOLERANCE = 1e-6;

/** A row that is not what add() writes: its number and why. */
export interface RowFault {
  row: number;
  why: string;
}

/** The first f32 row (of `count`) whose squared length is not 1 within UNIT_NORM2_TOLERANCE (NaN and ±Infinity fail). */
export function f32RowsFault(rows: Float32Array, count: number, dim: number): RowFault | undefined {
  for (let i = 0, base = 0; i < count; i++, base += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[base + j] * rows[base + j];
    // Squares of float32 values cannot overflow a double: a non-finite sum means a non-finite value.
    if (!(Math.abs(s - 1) <= UNIT_NORM2_TOLERANCE))
      return {
        row: i,
        why: Number.isFinite(s)
          ? `has squared length ${s}, not 1 (add() stores unit vectors)`
          : 'holds a value that is not finite',
      };
  }
  return undefined;
}

/**
 * The first int8 row whose codes or scale differ from what quantizeRow makes of its float32 row: with rescore rows
 * the codes are derived data, so they must match exactly (`scratch`: dim codes of room).
 */
export function int8MatchesF32Fault(
  codes: Int8Array,
  scales: Float32Array,
  exact: Float32Array,
  count: number,
  dim: number,
): RowFault | undefined {
  const scratch = new Int8Array(dim);
  for (let i = 0, base = 0; i < count; i++, base += dim) {
    if (quantizeRow(exact, base, dim, scratch, 0) !== scales[i])
      return { row: i, why: `has scale ${scales[i]}, not the one its float32 row quantises to` };
    let diff = 0; // branch-free compare; the position is looked up only on a fault
    for (let j = 0; j < dim; j++) diff |= scratch[j] ^ codes[base + j];
    if (diff !== 0) {
      let j = 0;
      while (scratch[j] === codes[base + j]) j++;
      return { row: i, why: `has int8 code ${codes[base + j]} at ${j}, not the one its float32 row quantises to` };
    }
  }
  return undefined;
}

/**
 * The first int8 row (codes + scale, and residual codes when `res` is given) that quantizeRow / quantizeResidualRow
 * cannot have made from a unit vector:
 * - scale = fl32(max|x| / 127) with 1/√dim ≤ max|x| ≤ 1;
 * - codes in −127..127 and the largest |code| exactly 127 (the largest value maps to it);
 * - residual codes in −127..127, and ≤ 0 in the direction of a ±127 code (no value exceeds the largest one);
 * - the row it decodes to within quantisation error of unit length: each value is off by at most scale/2
 *   (scale/508 with residual codes), so the length by at most √dim × that.
 */
export function int8RowsFault(
  codes: Int8Array,
  scales: Float32Array,
  res: Int8Array | null,
  count: number,
  dim: number,
): RowFault | undefined {
  // One function per form keeps each hot loop small and monomorphic (V8 optimised the merged loop ~3× slower).
  return res === null ? codesFault(codes, scales, count, dim) : residualFault(codes, scales, res, count, dim);
}

const scaleRange = (dim: number): [number, number] => [
  (1 - 1e-6) / (INT8_MAX_CODE * Math.sqrt(dim)),
  (1 + 1e-6) / INT8_MAX_CODE,
];

/** Why a row with scale `s`, largest |code| `top` and decoded length `length` is not quantisation output, or undefined. */
function rowWhy(s: number, top: number, length: number, maxError: number): string | undefined {
  // -128 is the only code with |q| > 127, so `top` catches it too.
  if (top !== INT8_MAX_CODE)
    return `has largest |int8 code| ${top}, not ${INT8_MAX_CODE} (quantisation spans the full range)`;
  if (!(Math.abs(length - 1) <= s * maxError + 1e-6))
    return `decodes to length ${length}, farther from 1 than quantisation error allows`;
  return undefined;
}

/** Codes + scales alone: each value is off by at most scale/2. */
function codesFault(codes: Int8Array, scales: Float32Array, count: number, dim: number): RowFault | undefined {
  const [lo, hi] = scaleRange(dim);
  const maxError = Math.sqrt(dim) * 0.5 * (1 + 1e-6);
  for (let i = 0, base = 0; i < count; i++, base += dim) {
    const s = scales[i];
    if (!(s >= lo && s <= hi))
      return { row: i, why: `has scale ${s}, outside the ${lo}..${hi} a unit vector of dim ${dim} quantises to` };
    // Branch-free (a data-dependent branch per value costs several times the loop).
    let top = 0;
    let n2 = 0;
    for (let j = 0; j < dim; j++) {
      const q = codes[base + j];
      const a = Math.abs(q);
      top = a > top ? a : top;
      n2 += q * q;
    }
    const why = rowWhy(s, top, s * Math.sqrt(n2), maxError);
    if (why !== undefined) return { row: i, why };
  }
  return undefined;
}

/**
 * Codes + residual codes: in steps of scale/254 a value is e = 254q + r, off by at most half a step. |e| ≤ 254·126 + 127
 * < 254·127 for |q| < 127, and for q = ±127 the residual points inward (no value exceeds the largest), so |e| > 254·127
 * is exactly a residual quantisation never writes; so is r = -128.
 */
function residualFault(
  codes: Int8Array,
  scales: Float32Array,
  res: Int8Array,
  count: number,
  dim: number,
): RowFault | undefined {
  const [lo, hi] = scaleRange(dim);
  const maxError = (Math.sqrt(dim) / (2 * RESIDUAL_DIVISOR)) * (1 + 1e-6);
  const divisor = RESIDUAL_DIVISOR; // a local: an imported binding is re-read (and hole-checked) on every use
  const limit = divisor * INT8_MAX_CODE;
  for (let i = 0, base = 0; i < count; i++, base += dim) {
    const s = scales[i];
    if (!(s >= lo && s <= hi))
      return { row: i, why: `has scale ${s}, outside the ${lo}..${hi} a unit vector of dim ${dim} quantises to` };
    let top = 0;
    let topE = 0;
    let minus128 = 0; // (r + 127) >> 31 is -1 only at r = -128
    let n2 = 0;
    for (let j = 0; j < dim; j++) {
      const q = codes[base + j];
      const r = res[base + j];
      const a = Math.abs(q);
      top = a > top ? a : top;
      const e = q * divisor + r;
      const ae = Math.abs(e);
      topE = ae > topE ? ae : topE;
      minus128 |= (r + 127) >> 31;
      n2 += e * e;
    }
    if (top === INT8_MAX_CODE && (minus128 !== 0 || topE > limit)) {
      const j = badResidualAt(codes, res, base, dim);
      return {
        row: i,
        why: `has residual code ${res[base + j]} at ${j}, which quantisation never writes after code ${codes[base + j]}`,
      };
    }
    const why = rowWhy(s, top, (s * Math.sqrt(n2)) / RESIDUAL_DIVISOR, maxError);
    if (why !== undefined) return { row: i, why };
  }
  return undefined;
}

/** The position in a row whose residual code is -128 or points beyond a ±127 code (the row has one). */
function badResidualAt(codes: Int8Array, res: Int8Array, base: number, dim: number): number {
  for (let j = 0; j < dim; j++) {
    const q = codes[base + j];
    const r = res[base + j];
    if (r === -128 || ((q === INT8_MAX_CODE || q === -INT8_MAX_CODE) && q * r > 0)) return j;
  }
  return 0;
}
