// Symmetric per-vector int8 quantisation: q = round(x / scale), scale = max|x| / 127, so zero maps to zero
// and every row uses the full [-127, 127] range whatever its magnitude.
// Same rule as convert/weight-dtype.ts's quantizeInt8 (per-column ONNX weights), kept apart: this one writes one contiguous,
// never-zero vector into caller-owned buffers (no allocation per row) and quantises against the stored float32 scale.

/** Largest magnitude an int8 code takes; -128 is unused so the range is symmetric. */
export const INT8_MAX_CODE = 127;

/**
 * Math.round (ties toward +∞), without its data-dependent branch: 10× faster in V8 on codes, and index loads re-quantise
 * rows. floor(x + 0.5) is exact for |x| < 2⁵² except at 0.5 − 2⁻⁵⁴, where the sum itself rounds up to 1.
 */
export const roundHalfUp = (x: number): number => Math.floor(x + 0.5) - (x === 0.49999999999999994 ? 1 : 0);

/**
 * Quantises `dim` values of `src` starting at `srcOff` into `dst` at `dstOff`; returns the scale.
 * The caller guarantees the values are finite and not all zero.
 */
export function quantizeRow(
  src: ArrayLike<number>,
  srcOff: number,
  dim: number,
  dst: Int8Array,
  dstOff: number,
): number {
  let maxAbs = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(src[srcOff + j]);
    maxAbs = a > maxAbs ? a : maxAbs;
  }
  // Math.fround: the scale is stored as float32, so quantise with the value that will be stored.
  const scale = Math.fround(maxAbs / INT8_MAX_CODE);
  const inv = 1 / scale;
  for (let j = 0; j < dim; j++) {
    let q = roundHalfUp(src[srcOff + j] * inv);
    if (q > INT8_MAX_CODE) q = INT8_MAX_CODE;
    else if (q < -INT8_MAX_CODE) q = -INT8_MAX_CODE;
    dst[dstOff + j] = q;
  }
  return scale;
}

/** Writes the dequantised row (`code × scale`, plus `residual × scale / 254` when given) into `dst` at `dstOff`. */
export function dequantizeRow(
  src: Int8Array,
  srcOff: number,
  dim: number,
  scale: number,
  dst: Float32Array,
  dstOff: number,
  residual: Int8Array | null = null,
): void {
  if (residual === null) {
    for (let j = 0; j < dim; j++) dst[dstOff + j] = src[srcOff + j] * scale;
    return;
  }
  const step = scale / RESIDUAL_DIVISOR;
  for (let j = 0; j < dim; j++) dst[dstOff + j] = src[srcOff + j] * scale + residual[srcOff + j] * step;
}

/** Residual codes step 1/RESIDUAL_DIVISOR of a row's scale: the first code's rounding error is at most scale/2. */
export const RESIDUAL_DIVISOR = 254;

/**
 * Writes residual codes r = round((x - code × scale) / (scale / 254)) for a row already quantised with
 * `quantizeRow`, so x ≈ scale × (code + r / 254) to within scale / 508.
 */
export function quantizeResidualRow(
  src: ArrayLike<number>,
  srcOff: number,
  dim: number,
  codes: Int8Array,
  codesOff: number,
  scale: number,
  dst: Int8Array,
  dstOff: number,
): void {
  const inv = RESIDUAL_DIVISOR / scale;
  for (let j = 0; j < dim; j++) {
    let r = roundHalfUp((src[srcOff + j] - codes[codesOff + j] * scale) * inv);
    if (r > INT8_MAX_CODE) r = INT8_MAX_CODE;
    else if (r < -INT8_MAX_CODE) r = -INT8_MAX_CODE;
    dst[dstOff + j] = r;
  }
}
