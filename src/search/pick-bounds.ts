// Exact minimums for the pick_* kernels' bar test (simd-kernel.wat): a row the kernel drops must be one the JS
// selection would drop too, so candidate sets, ties included, stay those of testing every row.

/** Smallest and largest i32: "keep every row" and "keep none the kernel could produce". */
export const I32_MIN = -0x80000000;
export const I32_MAX = 0x7fffffff;

/**
 * The least integer dot an int8 row needs before the selection's `dot × scale >= bar` can hold, for rows whose scales
 * are all <= maxScale (> 0 when rows exist): every d below it has fl(d × maxScale) < bar, so fl(d × scale) < bar too
 * (rounding is monotone, and d <= 0 scores <= 0 < bar). Bars <= 0 (or NaN) keep every row.
 */
export function minDot(bar: number, maxScale: number): number {
  if (!(bar > 0)) return I32_MIN;
  let d = Math.ceil(bar / maxScale);
  if (!(d <= I32_MAX)) d = I32_MAX; // also NaN/Infinity (maxScale 0): no row reaches, bar the unreachable maximum
  if (d < 1) d = 1;
  // bar / maxScale is itself rounded: step to the least d with fl(d × maxScale) >= bar (a step or two at most).
  while (d > 1 && (d - 1) * maxScale >= bar) d--;
  while (d < I32_MAX && d * maxScale < bar) d++;
  return d;
}

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/** The largest float32 <= x (x not NaN): an f32 score s has s >= x exactly when s >= f32Below(x). */
export function f32Below(x: number): number {
  const f = Math.fround(x);
  if (f <= x) return f;
  f32[0] = f;
  // f > x: step one float32 toward -Infinity (f is never -Infinity here; +0 steps to the least negative subnormal).
  if (f > 0) bits[0] -= 1;
  else if (f === 0) bits[0] = 0x80000001 | 0;
  else bits[0] += 1;
  return f32[0];
}
