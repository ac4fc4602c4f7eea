// The page↔worker contract, declared once: the worker's objects implement these interfaces and the page derives its
// handles from them (comlink's Remote<…>), so an operation cannot exist on one side only.
import type { DeviceInfo } from '../engine/device.js';
import type { EmbedResult, EngineOptions, ModelInfo } from '../engine/engine.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import type { IndexPersistence } from '../search/index-store.js';
import type { IndexStats, JsonValue, SearchHit, SearchOptions, StorageKind, VectorsOptions } from '../search/types.js';

/** Engine options that can cross a worker boundary (callbacks are passed separately, as proxies). */
export type WorkerEngineOptions = Omit<EngineOptions, 'onProgress' | 'onDeviceLost'>;

export interface InitOptions {
  /** `engine.model` arrives resolved: a path was turned into an absolute URL by the host (see model/spec.ts). */
  engine: WorkerEngineOptions;
}

export interface Ready {
  info: ModelInfo;
  device: DeviceInfo;
}

export interface IndexOptions {
  /**
   * Storage of a new index ('f32' default, or 'int8'). Opening an index that is already in memory with another
   * storage is an INDEX_OPTIONS_CONFLICT error (rebuild() converts); omitted, the open index is taken as it is.
   */
  storage?: StorageKind;
}

/** A handle's search options: CosineIndex's, less `filter` (a function cannot cross to the worker; `where` can). */
export type HandleSearchOptions = Omit<SearchOptions, 'filter'>;

export type Metadata = readonly (JsonValue | undefined)[];

/** Where `handle.import` reads an index file from: a URL (absolute, or relative to the page), a response, or bytes. */
export type IndexSource = string | URL | Response | Blob | ArrayBuffer | Uint8Array;

/** Bytes of an index file read so far; `fromCache` when they came from the cache, not the network. */
export interface IndexImportProgress {
  loaded: number;
  total?: number;
  fromCache: boolean;
}

export interface IndexImportOptions {
  /** SRI-style hash(es) the bytes must match, e.g. "sha256-…" (base64); a mismatch is INDEX_INTEGRITY. */
  integrity?: string;
  onProgress?: (p: IndexImportProgress) => void;
  /** Keep a downloaded file in the cache and read it from there on a revisit (default true; URLs only). */
  cache?: boolean;
}

/** A named cosine index living in the worker beside the model: vectors stay there, ids and scores come back. */
export interface IndexApi {
  /** Embeds and adds texts atomically; a duplicate or existing id is refused (DUPLICATE_ID) and nothing is added. */
  addTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats>;
  /** Embeds texts and adds or replaces their entries, atomically. */
  upsertTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats>;
  /**
   * Adds vectors (a flat ids.length × dim Float32Array) atomically; duplicate or existing ids are refused.
   * `options.texts` feeds the keyword index (handle indexes keep one; addTexts feeds it by itself).
   */
  addVectors(
    ids: readonly string[],
    vectors: Float32Array,
    metadata?: Metadata,
    options?: VectorsOptions,
  ): Promise<IndexStats>;
  /** Adds or replaces entries from vectors, atomically. */
  upsertVectors(
    ids: readonly string[],
    vectors: Float32Array,
    metadata?: Metadata,
    options?: VectorsOptions,
  ): Promise<IndexStats>;
  /**
   * Top-k for a text or a vector: by cosine (`mode: 'vector'`, the default; a text is embedded in the worker), by
   * BM25 (`'keyword'`: a text, never embedded) or both fused by reciprocal rank (`'hybrid'`).
   */
  search(query: string | Float32Array, k: number, options?: HandleSearchOptions): Promise<SearchHit[]>;
  /**
   * `search` for many queries in one round trip (same results, one list per query, in order): texts (embedded in
   * the worker in one batch) and vectors may be mixed, or pass one flat Float32Array of queries × dim.
   */
  searchMany(
    queries: readonly (string | Float32Array)[] | Float32Array,
    k: number,
    options?: HandleSearchOptions,
  ): Promise<SearchHit[][]>;
  remove(ids: readonly string[]): Promise<number>;
  has(id: string): Promise<boolean>;
  /** Every id in the index (storage order), in one round trip. */
  ids(): Promise<string[]>;
  metadata(id: string): Promise<JsonValue | undefined>;
  stats(): Promise<IndexStats>;
  /** Re-indexes with another storage ('f32' | 'int8') from the stored vectors (CosineIndex.rebuild), without re-embedding. */
  rebuild(storage: StorageKind): Promise<IndexStats>;
  /** Deletes the saved snapshot (the in-memory index stays); true if one existed. */
  deleteSaved(): Promise<boolean>;
  /** Persists a snapshot (OPFS or IndexedDB in browsers, a folder in Node); a failed save keeps the previous one. */
  save(): Promise<IndexStats>;
  /** Replaces the in-memory index with the saved snapshot; false (and nothing changed) if there is none. */
  load(): Promise<boolean>;
  /** Frees the in-memory index in the worker (a saved snapshot stays); the next call starts an empty one. */
  drop(): Promise<boolean>;
  /**
   * Replaces the in-memory index, atomically at this call's turn, with an index file (`hpd-embed index build`,
   * export()): a URL is streamed with progress, checked against `integrity` and kept in the cache (so a revisit
   * loads without the network). A file built by another model is MODEL_MISMATCH and changes nothing.
   */
  import(source: IndexSource, options?: IndexImportOptions): Promise<IndexStats>;
  /** The index as an index file naming this model (transferred, not copied), e.g. for a backup or a download. */
  export(): Promise<ArrayBuffer>;
}

/** Every IndexApi method, for the page's handle; the check below fails to compile when one is missing. */
export const INDEX_METHODS = [
  'addTexts',
  'upsertTexts',
  'addVectors',
  'upsertVectors',
  'search',
  'searchMany',
  'remove',
  'has',
  'ids',
  'metadata',
  'stats',
  'rebuild',
  'deleteSaved',
  'save',
  'load',
  'drop',
  'import',
  'export',
] as const;
export type IndexMethod = (typeof INDEX_METHODS)[number];
type Missing = Exclude<keyof IndexApi, IndexMethod>;
// Fails to compile, naming the method, when an IndexApi method is missing above.
true satisfies [Missing] extends [never] ? true : Missing;

/** What the worker exposes over comlink. */
export interface WorkerProtocol {
  /** The start handshake and the page's heartbeat: answered at once by a live worker. */
  ping(): true;
  init(
    options: InitOptions,
    onProgress?: (p: LoadProgress) => void,
    onDeviceLost?: (why: string) => void,
  ): Promise<Ready>;
  embed(texts: string[]): Promise<EmbedResult>;
  /**
   * One IndexApi call on the index `name` (opened, or created empty, on the first call), over the worker's own port:
   * so every call on every handle reaches the worker in the order it was issued (a comlink proxy per handle would
   * have a port each, and messages on different ports may overtake each other). With `check`, an open index of another storage than `options.storage` is
   * INDEX_OPTIONS_CONFLICT (a handle checks until one of its calls passes the check).
   */
  indexCall<M extends IndexMethod>(
    name: string,
    options: IndexOptions | undefined,
    check: boolean,
    method: M,
    args: Parameters<IndexApi[M]>,
  ): Promise<Awaited<ReturnType<IndexApi[M]>>>;
  /** What saved indexes live in: 'opfs', 'indexeddb', 'folder', or 'custom'. */
  persistence(): Promise<IndexPersistence>;
  cacheList(): Promise<CacheEntry[]>;
  cacheClear(prefix?: string): Promise<number>;
  dispose(): Promise<void>;
}
