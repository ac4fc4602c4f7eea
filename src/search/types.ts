// Public value types of the search module, kept apart so serialisation and persistence need no index class.

/** A value that survives JSON.stringify → JSON.parse unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How vectors are stored: float32 (exact), or int8 with one float32 scale per vector. */
export type StorageKind = 'f32' | 'int8';

/**
 * What int8 candidates are rescored against: 'residual' (default) a second int8 code per value holding the
 * first code's rounding error (+128 B per 128-d vector, scores within ~1e-5 of float32); 'dequantized' the
 * codes alone (most compact, recall@10 ~0.98 on isotropic random data); 'f32' kept float32 rows (exact).
 */
export type Int8Rescore = 'residual' | 'dequantized' | 'f32';

/** One search result. */
export interface SearchHit {
  id: string;
  /** Cosine similarity to the query (for int8 storage: against the dequantised vector). */
  score: number;
}

/** Options for `search` and `searchMany`. */
export interface SearchOptions<M extends JsonValue = JsonValue> {
  /**
   * Keeps only rows for which it returns true. It is called lazily, only for rows that score high
   * enough to enter the current top-k, so it must be pure and cheap.
   */
  filter?: (id: string, metadata: M | undefined) => boolean;
  /** Drops hits scoring below this (inclusive bound). */
  minScore?: number;
}

/** A batch of vectors: one flat array of `count × dim` values, or one array per vector. */
export type VectorBatch = Float32Array | Float64Array | readonly ArrayLike<number>[];

/** The index contents in row order, as serialisation reads and writes them. */
export interface RawIndex {
  dim: number;
  storage: StorageKind;
  count: number;
  ids: readonly string[];
  metadata: readonly (JsonValue | undefined)[];
  /** f32 storage, or int8 with f32 rescore: at least `count × dim` values, row-major; null otherwise. */
  f32: Float32Array | null;
  /** int8 storage: at least `count × dim` codes, row-major. */
  i8: Int8Array | null;
  /** int8 storage: at least `count` per-row scales. */
  scales: Float32Array | null;
  /** int8 storage with 'residual' rescore: at least `count × dim` residual codes, row-major; null otherwise. */
  res: Int8Array | null;
}
