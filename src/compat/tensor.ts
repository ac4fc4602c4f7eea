// The part of transformers.js' Tensor that feature-extraction users read: data, dims, tolist().

/** N × dim float32 rows, row-major (what transformers.js' feature-extraction pipeline returns with pooling). */
export class EmbeddingTensor {
  readonly type = 'float32';
  readonly dims: [number, number];

  constructor(
    readonly data: Float32Array,
    dim: number,
  ) {
    this.dims = [data.length / dim, dim];
  }

  get size(): number {
    return this.data.length;
  }

  /** One number[] per row. */
  tolist(): number[][] {
    const [rows, dim] = this.dims;
    return Array.from({ length: rows }, (_, i) => Array.from(this.data.subarray(i * dim, (i + 1) * dim)));
  }
}
