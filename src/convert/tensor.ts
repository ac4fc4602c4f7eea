/** A float tensor as the converter sees it: row-major f32 values and a shape. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Named tensors from one weight file; non-float entries (e.g. int64 position_ids buffers) are skipped. */
export type TensorMap = Map<string, Tensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** What a weight reader may read: only tensors the model needs, and a byte budget derived from its config. */
export interface ReadLimits {
  /** Tensors to decode; others are checked but neither inflated nor decoded. Default: all. */
  want?: (name: string) => boolean;
  /** Upper bound on bytes inflated from a zip and on f32 bytes decoded. Default: derived from the file size. */
  maxBytes?: number;
}
