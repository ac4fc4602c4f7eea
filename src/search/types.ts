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

/** One search result, from a CosineIndex or an embedder's index handle alike. */
export interface SearchHit<M extends JsonValue = JsonValue> {
  id: string;
  /** Cosine similarity to the query (for int8 storage: against the dequantised vector). */
  score: number;
  /** A copy of the entry's metadata; present only when the search asked for `withMetadata`. */
  metadata?: M | undefined;
  /**
   * Keyword and hybrid searches only: the list(s) that found this hit and its 1-based rank and own score there
   * (cosine for `vector`, BM25 for `keyword`), so a UI can say why it matched.
   */
  sources?: HitSources;
  /** Keyword and hybrid searches only: the query's terms (normalised, as `terms()` yields them) this entry holds. */
  terms?: string[];
  /**
   * Keyword and hybrid searches only, when the entry's metadata is an object with a string `text`: where `terms`
   * occur in that text (UTF-16 offsets into it, for highlighting). Otherwise compute them with `termSpans`.
   */
  highlights?: TextSpan[];
}

/** Which ranked lists found a hit, and where. */
export interface HitSources {
  vector?: { rank: number; score: number };
  keyword?: { rank: number; score: number };
}

/** A range of a text: `text.slice(start, end)`. */
export interface TextSpan {
  start: number;
  end: number;
}

/** 'vector' (default): cosine; 'keyword': BM25 over the entries' texts, no embedding; 'hybrid': both, fused by RRF. */
export type SearchMode = 'vector' | 'keyword' | 'hybrid';

/** Options for `search` and `searchMany`, on a CosineIndex and on an index handle (which takes all but `filter`). */
export interface SearchOptions<M extends JsonValue = JsonValue> {
  /** Drops hits scoring below this (inclusive bound). */
  minScore?: number;
  /** Keeps only rows whose metadata is an object with these exact top-level values (compared as JSON). */
  where?: Record<string, JsonValue>;
  /** Returns each hit's metadata with it (a copy), instead of one `get(id)` / `metadata(id)` per hit. */
  withMetadata?: boolean;
  /**
   * CosineIndex only (a function cannot cross to a worker; use `where` there). Keeps only rows for which it returns
   * true. It is called lazily, only for rows that score high enough to enter the current top-k, so it must be pure
   * and cheap. With `where`, a row must pass both.
   */
  filter?: (id: string, metadata: M | undefined) => boolean;
  /** 'vector' (default), 'keyword' or 'hybrid' (needs an index with keywords). `minScore` applies to the returned score. */
  mode?: SearchMode;
  /**
   * CosineIndex `search` with a vector query in 'keyword'/'hybrid' mode: the query's text (a string query is its own
   * text). An index handle uses it instead of the query string when given.
   */
  text?: string;
  /** The same for `searchMany`: one text per query. */
  texts?: readonly string[];
  /** 'hybrid' only: each list's weight in the fusion (default 1 each); 0 ignores a list. */
  weights?: { vector?: number; keyword?: number };
}

/** The optional last argument of `addVectors` / `upsertVectors`. */
export interface VectorsOptions {
  /**
   * An index with keywords: each entry's text for the keyword index (terms only are kept, not the text). Without
   * it new entries have no terms and replaced entries keep theirs.
   */
  texts?: readonly (string | undefined)[];
}

/** What `stats()` reports, on a CosineIndex and on an index handle alike. */
export interface IndexStats {
  /** Number of stored vectors. */
  size: number;
  storage: StorageKind;
  /** Bytes held by vector storage (allocated capacity, not just used rows). */
  bytes: number;
  /** Present when the index keeps keywords: bytes held by the keyword index (capacity, vocabulary estimated). */
  keywordBytes?: number;
  /**
   * The async searches' scan threads: `requested` (the searchThreads option, 0 the default min(hardwareConcurrency,
   * 4)), `minRows` (from which they run) and `unavailable`: why every scan runs on one thread (no shared memory, e.g. a
   * page without COOP/COEP, or no wasm kernel), null where threads can run or have not been tried yet.
   */
  threads: { requested: number; minRows: number; unavailable: string | null };
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
  /** The keyword index's own serialisation (keywords/bm25.ts), stored as an optional trailing section. */
  keywords?: Uint8Array | null;
}

/** Options for `new CosineIndex(...)`. */
export interface CosineIndexOptions {
  /** Vector length; every vector added or searched must have it. */
  dim: number;
  /** 'f32' (default): exact; 'int8': 4× smaller scan storage (see `rescore`). */
  storage?: StorageKind;
  /**
   * int8 only. 'residual' (default): a second int8 code per value holds the first code's rounding error, and
   * candidates are rescored against both (260 + 8 bytes per 128-d vector; scores within ~1e-5 of f32, recall@10 1.0).
   * 'dequantized': codes + scale only (128 + 4 bytes), candidates rescored against the dequantised rows (recall ~0.98).
   * 'f32': also keep the float32 rows (+512 bytes), so candidates are rescored exactly and the order matches f32.
   */
  rescore?: Int8Rescore;
  /** Rows to allocate up front (avoids regrowth when the final size is known). */
  capacity?: number;
  /**
   * Scan kernel: 'auto' (default) uses wasm SIMD when available and dim is a multiple of 16 (rows then live in
   * the kernel's wasm memory; candidates are rescored exactly, so results match the JS kernel), with relaxed SIMD
   * for int8 where the engine has it; 'simd' the same without relaxed SIMD; 'js' never uses wasm.
   */
  kernel?: 'auto' | 'simd' | 'js';
  /**
   * Threads for `searchAsync`/`searchManyAsync` where memory can be shared (Node, or a cross-origin isolated page):
   * default min(hardwareConcurrency, 4), never above hardwareConcurrency. Results equal the one-thread scan's.
   */
  searchThreads?: number;
  /**
   * Rows from which `searchAsync` uses the threads; below, waking them costs more than they save. Default: the rows
   * whose int8 codes fill 24 MiB (dim 128: 196,608 rows; f32 rows scan an int8 shadow too).
   */
  searchThreadsMinRows?: number;
  /**
   * Keep a BM25 keyword index beside the vectors (fed by the `texts` of addVectors/upsertVectors), for 'keyword' and
   * 'hybrid' search: true, or BM25 options. Default false here; an embedder's index handles turn it on.
   */
  keywords?: boolean | KeywordOptions;
}

/** BM25 parameters and stop words (matched after the same NFKC + lower-casing as the terms). */
export interface KeywordOptions {
  /** Term-frequency saturation; default 1.2 (Lucene's). */
  k1?: number;
  /** Length normalisation in [0, 1]; default 0.75 (Lucene's). */
  b?: number;
  /** Terms neither indexed nor searched; default none. */
  stopWords?: readonly string[];
}

/** One stored entry, as `get` returns it. */
export interface IndexEntry<M extends JsonValue = JsonValue> {
  /** A copy of the stored unit vector (dequantised for int8 storage). */
  vector: Float32Array;
  metadata: M | undefined;
}
