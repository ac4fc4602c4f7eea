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

/**
 * The bar for pick_rows_i8 over f32 rows' int8 shadow (row-store.ts F32Rows) such that every row whose exact score
 * (kernels.ts dotRowF32, in f64) is >= `bar` has fl(shadow dot × shadow scale) >= the result. With the query quantised
 * as q = t·c + a (quantize.ts quantizeRow: |a| <= t/2 per value) and a row as r = s·c' + b (simd-kernel.wat
 * shade_rows: |b| <= s·(1/2 + 2^-16)), |q·r − t·s·(c·c')| <= t·s·h·‖c‖₁ + t/2·‖r‖₁ <= t·h·(maxScale·qL1 + maxL1)
 * for h = (1/2)(1 + 2^-15); the f64 sums of the exact score add under 1e-13·maxL1. `qScale` is t, `qL1` is ‖c‖₁.
 * A bar of -Infinity keeps every row.
 */
export function shadowBar(bar: number, qScale: number, qL1: number, maxScale: number, maxL1: number): number {
  if (!(bar > -Infinity) || !(qScale > 0)) return -Infinity;
  // The bound, and the quotient below, rounded outward with wide margins (each rounding is below 1e-15 relative).
  const delta = 0.5 * qScale * (maxScale * qL1 + maxL1) * (1 + 1e-4) + 1e-12 * (1 + maxL1);
  const x = (bar - delta) / qScale;
  return x - Math.abs(x) * 1e-12 - 1e-300;
}
