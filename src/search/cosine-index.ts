// Flat exact cosine index: the public API and the id map. Rows live in a row store (row-store.ts: f32 or int8,
// in a wasm kernel's memory where there is one), scans are chosen once per index (scan.ts), inputs are checked in
// validate.ts and metadata copied in metadata.ts. Vectors are unit length on the way in, so cosine is a dot product.
import { DuplicateIdError, InvalidInputError } from './errors.js';
import { KernelMemory } from './kernel-memory.js';
import { Bm25Index, type StagedTerms } from './keywords/bm25.js';
import { fuseRanks } from './keywords/fuse.js';
import { checkSearchMode, queryText, type ModePlan } from './keywords/search-mode.js';
import { termSpans } from './keywords/terms.js';
import { checkMetadataShape, copyMetadataIn, copyMetadataOut } from './metadata.js';
import { F32Rows, Int8Rows, type RowArrays, type RowStore } from './row-store.js';
import { createScanner, type Accept, type Scanner } from './scan.js';
import { MANY_BATCH } from './scan-many.js';
import { checkIndexModel, readIndexFile, writeIndexFile, type IndexModelIdentity } from './index-file.js';
import { checkDecodedRows, checkUniqueIds, encodeIndex, parseIndex } from './serialize.js';
import { TopK } from './topk.js';
import { threadState, type SearchThreadsInfo, type ThreadHost, type ThreadState } from './threads/support.js';
import type { IndexThreads } from './threads/index-threads.js';
import type {
  CosineIndexOptions,
  IndexEntry,
  HitSources,
  IndexStats,
  Int8Rescore,
  KeywordOptions,
  JsonValue,
  SearchHit,
  SearchOptions,
  StorageKind,
  TextSpan,
  VectorBatch,
  VectorsOptions,
} from './types.js';
import {
  batchLength,
  checkBatchIds,
  checkIndexOptions,
  checkK,
  checkOptions,
  checkRemoveIds,
  unitQueries,
  unitQuery,
  unitRows,
} from './validate.js';

export type { CosineIndexOptions, IndexEntry } from './types.js';
export type { SearchThreadsInfo } from './threads/support.js';

/** The threads' code, loaded on the first threaded search (a bundle that never searches on threads never fetches it). */
let threadsModule: typeof import('./threads/index-threads.js') | null = null;

/** Exact (f32) or quantised (int8) flat cosine index with string ids and optional JSON metadata. */
export class CosineIndex<M extends JsonValue = JsonValue> {
  readonly dim: number;
  readonly storage: StorageKind;
  /** int8 only: what candidates are rescored against; 'f32' storage always reports 'f32'. */
  readonly rescore: Int8Rescore;

  private count = 0;
  private readonly rows: RowStore;
  private scanner: Scanner;
  /** row → id; kept in lock-step with idToRow. */
  private readonly rowIds: string[] = [];
  /** row → metadata (undefined when none). */
  private readonly rowMeta: (M | undefined)[] = [];
  private readonly idToRow = new Map<string, number>();
  /** BM25 statistics of each row's text, by the same row numbers (null: the index keeps no keywords). */
  private keywords: Bm25Index | null;
  private readonly kwHeap = new TopK(16);
  /** True while a scan runs a caller's filter: rows, ids and the scratch below must not change under it. */
  private scanning = false;
  private readonly heap = new TopK(16);
  // Scratch reused across searches so a query allocates only its result.
  private readonly qf: Float64Array;
  private outRows = new Int32Array(16);
  private outScores = new Float64Array(16);
  /** Scan threads (src/search/threads/): their state here, their code loaded by the first async search that runs them. */
  private readonly thr: ThreadState;
  private readonly byId = (a: number, b: number): number => {
    const x = this.rowIds[a];
    const y = this.rowIds[b];
    return x < y ? -1 : x > y ? 1 : 0;
  };

  constructor(options: CosineIndexOptions) {
    const { dim, storage, rescore, capacity } = checkIndexOptions(options);
    this.dim = dim;
    this.storage = storage;
    this.rescore = rescore;
    this.qf = new Float64Array(dim);
    const kernel =
      options.kernel === 'js'
        ? null
        : KernelMemory.create(storage === 'f32' ? 'f32' : 'i8', dim, options.kernel !== 'simd');
    this.rows = storage === 'f32' ? new F32Rows(dim, kernel) : new Int8Rows(dim, rescore, kernel);
    // Always allocate, so serialisation of an empty index records its layout.
    this.rows.grow(capacity, 0);
    this.scanner = createScanner(this.rows, this.byId);
    this.thr = threadState(options, kernel !== null);
    const kw = options.keywords ?? false;
    if (typeof kw !== 'boolean' && (kw === null || typeof kw !== 'object'))
      throw new InvalidInputError('keywords must be true, false, or BM25 options { k1?, b?, stopWords? }.');
    this.keywords = kw === false ? null : new Bm25Index(kw === true ? {} : kw);
  }

  /** Scan threads: how many were asked for, whether they can run here (and why not), and the last async search's path. */
  get threads(): SearchThreadsInfo {
    const { requested, minRows, unavailable, last } = this.thr;
    return { requested, minRows, unavailable, last };
  }

  /** Whether this index keeps a keyword (BM25) index for 'keyword' and 'hybrid' search. */
  get hasKeywords(): boolean {
    return this.keywords !== null;
  }

  /**
   * Starts keeping keywords (an index made or saved without them): existing entries have no terms until upserted with
   * texts. Does nothing when the index already keeps keywords.
   */
  enableKeywords(options: KeywordOptions = {}): void {
    this.idle('enableKeywords');
    if (this.keywords !== null) return;
    const keywords = new Bm25Index(options);
    for (let i = 0; i < this.count; i++) keywords.add(NO_TERMS);
    this.keywords = keywords;
  }

  /** Number of stored vectors. */
  get size(): number {
    return this.count;
  }

  /** Size, storage and bytes held by vector storage (allocated capacity, not just used rows): an index handle's shape. */
  stats(): IndexStats {
    const { requested, minRows, unavailable } = this.thr;
    const stats: IndexStats = {
      size: this.count,
      storage: this.storage,
      bytes: this.rows.byteLength,
      threads: { requested, minRows, unavailable },
    };
    if (this.keywords !== null) stats.keywordBytes = this.keywords.byteLength;
    return stats;
  }

  has(id: string): boolean {
    return this.idToRow.has(id);
  }

  /** The stored vector (a copy) and metadata for `id`, or undefined. */
  get(id: string): IndexEntry<M> | undefined {
    const row = this.idToRow.get(id);
    if (row === undefined) return undefined;
    return { vector: this.rows.read(row), metadata: copyMetadataOut(this.rowMeta[row], id) };
  }

  /** Ids in storage order (which changes on removal). */
  ids(): string[] {
    return this.rowIds.slice(0, this.count);
  }

  /**
   * Adds new entries; all or nothing. Throws DuplicateIdError if an id is repeated in the batch or
   * already stored (use `upsertVectors` to replace), DimMismatchError / InvalidInputError for bad vectors.
   */
  addVectors(
    ids: readonly string[],
    vectors: VectorBatch,
    metadata?: readonly (M | undefined)[],
    options?: VectorsOptions,
  ): void {
    this.idle('addVectors');
    const staged = this.stage(ids, vectors, metadata, 'addVectors', options);
    this.checkFresh(ids);
    this.commit(ids, staged);
  }

  /**
   * The checks addVectors() (or upsertVectors()) makes on ids and metadata, without the vectors; changes nothing. Lets a
   * caller refuse a batch before paying to embed it; addVectors()/upsertVectors() run them again: the index stays the one judge.
   */
  checkBatch(ids: readonly string[], metadata: readonly (M | undefined)[] | undefined, op: 'add' | 'upsert'): void {
    checkBatchIds(ids, op);
    checkMetadataShape(metadata, ids.length, op);
    copyMetadataIn(metadata, ids); // validates the values (JSON, no cycles); the copy is dropped
    if (op === 'add') this.checkFresh(ids);
  }

  private checkFresh(ids: readonly string[]): void {
    for (const id of ids) {
      if (this.idToRow.has(id))
        throw new DuplicateIdError(
          id,
          `id "${id}" is already in the index; use upsertVectors() to replace it, or remove() it first.`,
        );
    }
  }

  /** Adds new entries and replaces existing ones (vector and metadata); all or nothing. */
  upsertVectors(
    ids: readonly string[],
    vectors: VectorBatch,
    metadata?: readonly (M | undefined)[],
    options?: VectorsOptions,
  ): void {
    this.idle('upsertVectors');
    this.commit(ids, this.stage(ids, vectors, metadata, 'upsertVectors', options));
  }

  /**
   * A new index with `storage` holding this one's entries (ids, metadata, vectors: int8 → f32 starts from the
   * dequantised vectors, within ~1e-5 of the originals); this index is unchanged. An index handle's rebuild() uses it.
   */
  rebuild(storage: StorageKind): CosineIndex<M> {
    this.idle('rebuild');
    const next = new CosineIndex<M>({ dim: this.dim, storage, capacity: Math.max(1, this.count) });
    const CHUNK = 1024;
    const dim = this.dim;
    const vectors = new Float32Array(Math.min(CHUNK, this.count) * dim);
    for (let i = 0; i < this.count; i += CHUNK) {
      const n = Math.min(CHUNK, this.count - i);
      const ids = this.rowIds.slice(i, i + n);
      for (let j = 0; j < n; j++) vectors.set(this.rows.read(i + j), j * dim);
      next.addVectors(
        ids,
        n * dim === vectors.length ? vectors : vectors.subarray(0, n * dim),
        this.rowMeta.slice(i, i + n),
      );
    }
    // Rows were copied in order, so the keyword statistics carry over as they are.
    if (this.keywords !== null) next.keywords = Bm25Index.deserialize(this.keywords.serialize(), this.count);
    return next;
  }

  /** Removes the given ids in O(1) each (the last row moves into the hole); unknown ids are ignored. Returns how many were removed. */
  remove(ids: readonly string[]): number {
    this.idle('remove');
    checkRemoveIds(ids);
    let removed = 0;
    const swaps: number[] = [];
    for (const id of ids) {
      const row = this.idToRow.get(id);
      if (row === undefined) continue;
      const last = this.count - 1;
      swaps.push(row, last);
      if (row !== last) {
        this.rows.move(last, row);
        const movedId = this.rowIds[last];
        this.rowIds[row] = movedId;
        this.rowMeta[row] = this.rowMeta[last];
        this.idToRow.set(movedId, row);
      }
      this.rowIds.length = last;
      this.rowMeta.length = last;
      this.idToRow.delete(id);
      this.count = last;
      removed++;
    }
    this.keywords?.removeSwaps(swaps);
    return removed;
  }

  /** Removes everything; keeps the allocated storage. */
  clear(): void {
    this.idle('clear');
    this.count = 0;
    this.rowIds.length = 0;
    this.rowMeta.length = 0;
    this.idToRow.clear();
    this.keywords?.clear();
  }

  /**
   * The k best entries for `query`, best first (ties: lower id first): by cosine ('vector', the default), by BM25 over
   * the entries' texts ('keyword': a string query, or `text`), or both fused by reciprocal rank ('hybrid': a vector
   * query and its `text`).
   */
  search(query: ArrayLike<number> | string, k: number, options: SearchOptions<M> = {}): SearchHit<M>[] {
    this.idle('search');
    checkK(k);
    const { filter, where, floor } = checkOptions(options);
    const plan = checkSearchMode(options as SearchOptions<never>, this.keywords !== null);
    if (plan.mode !== 'vector') {
      const text = queryText(query, options.text, `a '${plan.mode}' search`);
      if (plan.mode === 'hybrid') unitQuery(query as ArrayLike<number>, this.dim, this.qf);
      this.scanning = filter !== undefined;
      try {
        return this.textSearch(
          plan,
          this.qf,
          text,
          k,
          floor,
          this.accept(filter, where),
          options.withMetadata === true,
        );
      } finally {
        this.scanning = false;
      }
    }
    if (typeof query === 'string')
      throw new InvalidInputError(
        "a string query needs mode 'keyword' (a CosineIndex cannot embed): pass { mode: 'keyword' }, or a vector.",
      );
    unitQuery(query, this.dim, this.qf);
    const n = this.count;
    if (n === 0) return [];
    const kk = Math.min(k, n);
    this.scanning = filter !== undefined;
    try {
      this.heap.reset(kk, this.byId);
      this.scanner.one(this.qf, n, kk, floor, this.accept(filter, where), this.heap);
      return this.hits(this.heap, kk, options.withMetadata === true);
    } finally {
      this.scanning = false;
    }
  }

  /**
   * `search` for each query (same results); all queries are validated before any is run. Queries are scanned
   * MANY_BATCH at a time in one pass over the rows, so rows are read from memory once per batch.
   */
  searchMany(queries: VectorBatch | readonly string[], k: number, options: SearchOptions<M> = {}): SearchHit<M>[][] {
    this.idle('searchMany');
    checkK(k);
    const { filter, where, floor } = checkOptions(options);
    const plan = checkSearchMode(options as SearchOptions<never>, this.keywords !== null);
    if (plan.mode !== 'vector') return this.textSearchMany(plan, queries, k, options);
    const dim = this.dim;
    const n = batchLength(queries as VectorBatch, dim, 'queries');
    const qf = new Float64Array(n * dim);
    unitQueries(queries as VectorBatch, n, dim, qf); // validates every query before any work
    const out: SearchHit<M>[][] = [];
    if (this.count === 0) {
      for (let i = 0; i < n; i++) out.push([]);
      return out;
    }
    const kk = Math.min(k, this.count);
    const accept = this.accept(filter, where);
    const withMetadata = options.withMetadata === true;
    const emit = (_i: number, heap: TopK): void => void out.push(this.hits(heap, kk, withMetadata));
    this.scanning = filter !== undefined;
    try {
      for (let b = 0; b < n; b += MANY_BATCH) {
        const nq = Math.min(MANY_BATCH, n - b);
        const batch = qf.subarray(b * dim, (b + nq) * dim);
        if (nq > 1) this.scanner.many(batch, nq, this.count, kk, floor, accept, emit);
        else {
          this.heap.reset(kk, this.byId);
          this.scanner.one(batch, this.count, kk, floor, accept, this.heap);
          emit(0, this.heap);
        }
      }
    } finally {
      this.scanning = false;
    }
    return out;
  }

  /**
   * `search` on several threads where memory can be shared and the index has at least `searchThreadsMinRows` rows
   * (results identical to `search`); else it runs `search`. `threads.last` says which path ran and why. Until it
   * settles, calls that change the index, and sync searches, throw INVALID_INPUT: await it first (the worker's
   * per-index queue does). Async searches on one index run one after another.
   */
  searchAsync(query: ArrayLike<number> | string, k: number, options: SearchOptions<M> = {}): Promise<SearchHit<M>[]> {
    // A text query is keyword search: it has no scan to share out.
    if (typeof query === 'string') return new Promise((resolve) => resolve(this.search(query, k, options)));
    return this.viaThreads(
      options,
      () => this.search(query, k, options),
      (t, one) => t.one(query, k, options, one) as Promise<SearchHit<M>[]>,
    );
  }

  /** `searchMany` on threads, as `searchAsync` is `search` on threads (same results as one-by-one `search`). */
  searchManyAsync(
    queries: VectorBatch | readonly string[],
    k: number,
    options: SearchOptions<M> = {},
  ): Promise<SearchHit<M>[][]> {
    if (Array.isArray(queries) && queries.some((q) => typeof q === 'string'))
      return new Promise((resolve) => resolve(this.searchMany(queries, k, options)));
    return this.viaThreads(
      options,
      () => this.searchMany(queries, k, options),
      (t, one) => t.many(queries as VectorBatch, k, options, one) as Promise<SearchHit<M>[][]>,
    );
  }

  private viaThreads<T>(
    options: SearchOptions<M>,
    single: () => T,
    threaded: (t: IndexThreads<M>, single: () => T) => Promise<T>,
  ): Promise<T> {
    const s = this.thr;
    try {
      if (
        s.inFlight === 0 &&
        (s.unavailable !== null ||
          options?.filter !== undefined ||
          options?.where !== undefined ||
          (options?.mode ?? 'vector') !== 'vector' ||
          this.count < s.minRows)
      ) {
        s.last = {
          path: 'single',
          threads: 1,
          reason:
            s.unavailable ??
            (options?.filter || options?.where
              ? 'filter'
              : (options?.mode ?? 'vector') !== 'vector'
                ? `${options?.mode} mode`
                : 'below searchThreadsMinRows'),
        };
        return Promise.resolve(single());
      }
      this.idle('searchAsync', true);
    } catch (e) {
      return Promise.reject(e);
    }
    s.inFlight++;
    const host: ThreadHost<M> = {
      index: this,
      rows: this.rows,
      tie: this.byId,
      heap: this.heap,
      count: () => this.count,
      scanner: () => this.scanner,
      rescan: () => (this.scanner = createScanner(this.rows, this.byId)),
      hits: (heap, kk, withMetadata) => this.hits(heap, kk, withMetadata),
      single: (fn) => {
        const n = s.inFlight;
        s.inFlight = 0;
        try {
          return fn();
        } finally {
          s.inFlight = n;
        }
      },
    };
    const run = s.tail.then(async () => {
      // The threads' code loads on the first threaded search; later ones skip the import's promise round trips.
      threadsModule ??= await import('./threads/index-threads.js');
      s.ready ??= await threadsModule.indexThreads(s, host);
      return threaded(s.ready as IndexThreads<M>, () => host.single(single));
    });
    s.tail = run.catch(() => undefined);
    return run.finally(() => void s.inFlight--);
  }

  /** Serialises to the versioned binary format (see serialize.ts). */
  serialize(): ArrayBuffer {
    return encodeIndex({
      dim: this.dim,
      storage: this.storage,
      count: this.count,
      ids: this.rowIds,
      metadata: this.rowMeta,
      ...this.rows.arrays(),
      keywords: this.keywords?.serialize() ?? null,
    });
  }

  /** Rebuilds an index from `serialize()` output; throws CorruptIndexError on a truncated or altered buffer. */
  static deserialize<M extends JsonValue = JsonValue>(buffer: ArrayBuffer | ArrayBufferView): CosineIndex<M> {
    const raw = parseIndex(buffer);
    const rescore: Int8Rescore =
      raw.storage === 'f32' || raw.f32 !== null ? 'f32' : raw.res !== null ? 'residual' : 'dequantized';
    const index = new CosineIndex<M>({ dim: raw.dim, storage: raw.storage, rescore });
    // One copy, straight into the kept storage (the wasm kernel's memory where there is one); the row checks read it there.
    index.rows.adopt(raw);
    checkDecodedRows({ ...raw, ...index.rows.arrays() });
    const { ids, metadata, count } = raw;
    const idToRow = index.idToRow;
    for (let i = 0; i < count; i++) idToRow.set(ids[i], i);
    checkUniqueIds(ids, idToRow.size);
    index.count = count;
    for (let i = 0; i < count; i++) {
      index.rowIds.push(ids[i]);
      index.rowMeta.push(metadata[i] as M | undefined);
    }
    if (raw.keywords) index.keywords = Bm25Index.deserialize(raw.keywords, raw.count);
    return index;
  }

  /**
   * The index as a portable index file (index-file.ts: the serialised index plus the model that made it), in a fresh
   * ArrayBuffer; `model` is the model whose vectors this index holds (e.g. from the embedder's `info`).
   */
  export(model: IndexModelIdentity): ArrayBuffer {
    if (model?.dim !== this.dim)
      throw new InvalidInputError(
        `export(model): the model gives ${String(model?.dim)}-d vectors but this index holds ${this.dim}-d ones; pass the model that made them.`,
      );
    return writeIndexFile({ model, index: this.serialize() });
  }

  /**
   * An index from an index file (export() or `hpd-embed index build` output). With `model`, a file built by another
   * model, or a bare serialize() output that names none, is MODEL_MISMATCH; without it, any index file (and a bare
   * serialised index) loads.
   */
  static import<M extends JsonValue = JsonValue>(
    bytes: ArrayBuffer | ArrayBufferView,
    options: { model?: IndexModelIdentity } = {},
  ): CosineIndex<M> {
    const file = readIndexFile(bytes);
    if (options.model !== undefined) checkIndexModel(file.model, options.model);
    return CosineIndex.deserialize<M>(file.index);
  }

  // ---- internals ----

  /** searchMany in 'keyword'/'hybrid' mode: every query checked first, then one textSearch each. */
  private textSearchMany(
    plan: ModePlan,
    queries: VectorBatch | readonly string[],
    k: number,
    options: SearchOptions<M>,
  ): SearchHit<M>[][] {
    const { filter, where, floor } = checkOptions(options);
    const strings = Array.isArray(queries) && queries.every((q) => typeof q === 'string');
    const texts = options.texts ?? (strings ? (queries as readonly string[]) : undefined);
    const what = `a '${plan.mode}' searchMany`;
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string'))
      throw new InvalidInputError(`${what} needs the queries' texts: pass string queries, or { texts } with vectors.`);
    const dim = this.dim;
    let qf: Float64Array | null = null;
    if (plan.mode === 'hybrid') {
      if (strings)
        throw new InvalidInputError(`${what} needs vector queries (a CosineIndex cannot embed) and { texts }.`);
      const n = batchLength(queries as VectorBatch, dim, 'queries');
      if (n !== texts.length) throw new InvalidInputError(`${what} got ${n} queries but ${texts.length} texts.`);
      qf = new Float64Array(n * dim);
      unitQueries(queries as VectorBatch, n, dim, qf);
    }
    const accept = this.accept(filter, where);
    const withMetadata = options.withMetadata === true;
    const out: SearchHit<M>[][] = [];
    this.scanning = filter !== undefined;
    try {
      for (let i = 0; i < texts.length; i++) {
        const q = qf === null ? this.qf : qf.subarray(i * dim, (i + 1) * dim);
        out.push(this.textSearch(plan, q, texts[i], k, floor, accept, withMetadata));
      }
    } finally {
      this.scanning = false;
    }
    return out;
  }

  /** One 'keyword' or 'hybrid' search; hybrid fuses the two lists, each cut at max(k, 100), by RRF. */
  private textSearch(
    plan: ModePlan,
    qf: Float64Array,
    text: string,
    k: number,
    floor: number,
    accept: Accept,
    withMetadata: boolean,
  ): SearchHit<M>[] {
    const keywords = this.keywords as Bm25Index;
    const n = this.count;
    if (n === 0) return [];
    const qterms = keywords.queryTerms(text);
    const depth = Math.min(plan.mode === 'keyword' ? k : Math.max(k, 100), n);
    keywords.search(qterms, depth, accept, this.kwHeap, this.byId);
    const keywordList = this.hits(this.kwHeap, depth, false);
    let ranked: { id: string; score: number; sources: HitSources }[];
    if (plan.mode === 'keyword') {
      ranked = keywordList.map((h, i) => ({ ...h, sources: { keyword: { rank: i + 1, score: h.score } } }));
    } else {
      this.heap.reset(depth, this.byId);
      this.scanner.one(qf, n, depth, -Infinity, accept, this.heap);
      const vectorList = this.hits(this.heap, depth, false);
      ranked = fuseRanks({ vector: vectorList, keyword: keywordList }, k, plan.weights);
    }
    const out: SearchHit<M>[] = [];
    for (const { id, score, sources } of ranked) {
      if (score < floor) continue;
      const row = this.idToRow.get(id) as number;
      const terms = keywords.matched(qterms, row);
      const hit: SearchHit<M> = { id, score, sources, terms };
      const meta = this.rowMeta[row];
      const highlights = spansIn(meta, terms, keywords);
      if (highlights) hit.highlights = highlights;
      if (withMetadata) hit.metadata = copyMetadataOut(meta, id);
      out.push(hit);
    }
    return out;
  }

  /** Refuses a call from inside a search's filter that would change the rows (or reuse the scratch) under the scan. */
  private idle(op: string, async = false): void {
    if (this.thr.inFlight > 0 && !async)
      throw new InvalidInputError(
        `${op}() was called while a searchAsync() on this index is in flight; await it first.`,
      );
    if (this.scanning)
      throw new InvalidInputError(
        `${op}() was called from a search filter on the same index; a filter must only read its arguments. Collect the ids in the filter and ${op}() after the search returns.`,
      );
  }

  /** The filter and the `where` pairs (key, wanted value as JSON) as one row predicate for the scans (null: none). */
  private accept(filter: SearchOptions<M>['filter'], where: [string, string | undefined][] | undefined): Accept {
    const has =
      where === undefined
        ? null
        : (row: number): boolean => {
            const meta = this.rowMeta[row];
            if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return false;
            for (const [key, want] of where) if (JSON.stringify(meta[key]) !== want) return false;
            return true;
          };
    if (filter === undefined) return has;
    const passes = (row: number): boolean => filter(this.rowIds[row], this.rowMeta[row]);
    return has === null ? passes : (row) => has(row) && passes(row);
  }

  /** Drains a final top-k heap into hits, best first. */
  private hits(heap: TopK, kk: number, withMetadata: boolean): SearchHit<M>[] {
    if (this.outRows.length < kk) {
      this.outRows = new Int32Array(kk);
      this.outScores = new Float64Array(kk);
    }
    const got = heap.drainSorted(this.outRows, this.outScores);
    const hits: SearchHit<M>[] = new Array<SearchHit<M>>(got);
    for (let i = 0; i < got; i++) {
      const row = this.outRows[i];
      const id = this.rowIds[row];
      hits[i] = withMetadata
        ? { id, score: this.outScores[i], metadata: copyMetadataOut(this.rowMeta[row], id) }
        : { id, score: this.outScores[i] };
    }
    return hits;
  }

  /** Validates and encodes a batch into fresh arrays without touching the index. */
  private stage(
    ids: readonly string[],
    vectors: VectorBatch,
    metadata: readonly (M | undefined)[] | undefined,
    op: string,
    options: VectorsOptions | undefined,
  ): Staged<M> {
    checkBatchIds(ids, op);
    const n = ids.length;
    const count = batchLength(vectors, this.dim, 'vectors');
    if (count !== n) throw new InvalidInputError(`${op}() got ${n} ids but ${count} vectors; pass one vector per id.`);
    checkMetadataShape(metadata, n, op);
    const flat = unitRows(vectors, ids, this.dim);
    const meta = copyMetadataIn(metadata, ids);
    return { rows: this.rows.encode(flat, n), meta, terms: this.stageTexts(options, n, op) };
  }

  /** Tokenises the batch's texts for the keyword index (null: none given), before anything is written. */
  private stageTexts(options: VectorsOptions | undefined, n: number, op: string): StagedTerms[] | null {
    if (options === undefined) return null;
    if (options === null || typeof options !== 'object')
      throw new InvalidInputError(`${op}() options must be an object { texts? }.`);
    const { texts } = options;
    if (texts === undefined) return null;
    if (!Array.isArray(texts) || texts.length !== n)
      throw new InvalidInputError(`${op}() got ${n} ids but texts is not an array of ${n} (strings or undefined).`);
    if (this.keywords === null)
      throw new InvalidInputError(
        `${op}() got texts but this index keeps no keywords: create it with { keywords: true }, or drop texts.`,
      );
    const keywords = this.keywords;
    return texts.map((t: string | undefined, i) => keywords.stage(t, `texts[${i}]`));
  }

  /** Writes a validated batch; only growth can throw (out of memory), and it runs before any write. */
  private commit(ids: readonly string[], staged: Staged<M>): void {
    let fresh = 0;
    for (const id of ids) if (!this.idToRow.has(id)) fresh++;
    if (this.count + fresh > this.rows.capacity) {
      this.rows.grow(this.count + fresh, this.count);
      // Growth drops the kernel only at the wasm memory limit; the scan then moves to JS once.
      if (this.rows.kernel !== this.scanner.kernel) this.scanner = createScanner(this.rows, this.byId);
    }
    const replaced: number[] = [];
    const replacedTerms: StagedTerms[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      let row = this.idToRow.get(id);
      if (row === undefined) {
        row = this.count++;
        this.idToRow.set(id, row);
        this.rowIds.push(id);
        this.rowMeta.push(staged.meta[i]);
        this.keywords?.add(staged.terms?.[i] ?? NO_TERMS);
      } else {
        this.rowMeta[row] = staged.meta[i];
        if (staged.terms) (replaced.push(row), replacedTerms.push(staged.terms[i]));
      }
      this.rows.write(row, staged.rows, i);
    }
    this.keywords?.replace(replaced, replacedTerms);
  }
}

/** A validated batch ready to be written. */
interface Staged<M> {
  rows: RowArrays;
  meta: (M | undefined)[];
  /** One entry per id for the keyword index; null when no texts were given. */
  terms: StagedTerms[] | null;
}

const NO_TERMS: StagedTerms = { terms: [], tf: [] };

/** Where `terms` occur in metadata's string `text`, if it has one. */
function spansIn(meta: JsonValue | undefined, terms: string[], keywords: Bm25Index): TextSpan[] | undefined {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta) || terms.length === 0) return undefined;
  const text = meta.text;
  if (typeof text !== 'string') return undefined;
  const out: TextSpan[] = [];
  for (const s of termSpans(text, keywords.stop)) if (terms.includes(s.term)) out.push({ start: s.start, end: s.end });
  return out;
}
