// Dot-product kernels for the scan. Four rows per step share each query load (the scan is bound by loads,
// not arithmetic, in JS), and they are plain module functions so V8 keeps them small and monomorphic.

/** out[i] = dot(row rowStart+i of `data`, q) for rows [rowStart, rowEnd). */
export function dotRowsF32(
  data: Float32Array,
  q: Float64Array,
  dim: number,
  rowStart: number,
  rowEnd: number,
  out: Float64Array,
): void {
  const d2 = 2 * dim;
  const d3 = 3 * dim;
  const dEven = dim - (dim & 1);
  let row = rowStart;
  let o = 0;
  for (; row + 4 <= rowEnd; row += 4, o += 4) {
    const base = row * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    let t3 = 0;
    let j = 0;
    for (; j < dEven; j += 2) {
      const x = q[j];
      const y = q[j + 1];
      const b = base + j;
      s0 += data[b] * x;
      s1 += data[b + dim] * x;
      s2 += data[b + d2] * x;
      s3 += data[b + d3] * x;
      t0 += data[b + 1] * y;
      t1 += data[b + dim + 1] * y;
      t2 += data[b + d2 + 1] * y;
      t3 += data[b + d3 + 1] * y;
    }
    if (j < dim) {
      const x = q[j];
      const b = base + j;
      s0 += data[b] * x;
      s1 += data[b + dim] * x;
      s2 += data[b + d2] * x;
      s3 += data[b + d3] * x;
    }
    out[o] = s0 + t0;
    out[o + 1] = s1 + t1;
    out[o + 2] = s2 + t2;
    out[o + 3] = s3 + t3;
  }
  for (; row < rowEnd; row++, o++) out[o] = dotRowF32(data, row * dim, q, dim);
}

/** One row's dot product, summed in exactly the order dotRowsF32 uses, so a row scores the same bits either way. */
export function dotRowF32(data: Float32Array, base: number, q: Float64Array, dim: number): number {
  const dEven = dim - (dim & 1);
  let s = 0;
  let t = 0;
  let j = 0;
  for (; j < dEven; j += 2) {
    s += data[base + j] * q[j];
    t += data[base + j + 1] * q[j + 1];
  }
  if (j < dim) s += data[base + j] * q[j];
  return s + t;
}

/** out[i] = integer dot(codes of row rowStart+i, q) × scales[row]; int32 sums cannot overflow below dim 133 000. */
export function dotRowsInt8(
  codes: Int8Array,
  scales: Float32Array,
  q: Int32Array,
  dim: number,
  rowStart: number,
  rowEnd: number,
  out: Float64Array,
): void {
  const d2 = 2 * dim;
  const d3 = 3 * dim;
  let row = rowStart;
  let o = 0;
  for (; row + 4 <= rowEnd; row += 4, o += 4) {
    const base = row * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < dim; j++) {
      const x = q[j];
      const b = base + j;
      s0 = (s0 + codes[b] * x) | 0;
      s1 = (s1 + codes[b + dim] * x) | 0;
      s2 = (s2 + codes[b + d2] * x) | 0;
      s3 = (s3 + codes[b + d3] * x) | 0;
    }
    out[o] = s0 * scales[row];
    out[o + 1] = s1 * scales[row + 1];
    out[o + 2] = s2 * scales[row + 2];
    out[o + 3] = s3 * scales[row + 3];
  }
  for (; row < rowEnd; row++, o++) {
    const base = row * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s = (s + codes[base + j] * q[j]) | 0;
    out[o] = s * scales[row];
  }
}
