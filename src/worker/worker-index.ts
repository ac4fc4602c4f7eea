import type { CosineIndex } from '../search/cosine-index.js';
import type { IndexStats, JsonValue, SearchHit, StorageKind, VectorBatch, VectorsOptions } from '../search/types.js';
import { DimMismatchError, InvalidInputError } from '../errors.js';
import type { WireImportOptions, WireIndexSource } from '../protocol/index-import.js';
import type { HandleSearchOptions, IndexApi, IndexImportOptions, IndexSource, Metadata } from '../protocol/messages.js';
import type { IndexModelIdentity } from '../search/index-file.js';
import { checkStorage } from '../protocol/validate.js';

/** What a WorkerIndex needs from the worker: the index slot by name, its call queue, the search module, the model. */
export interface IndexHost {
  /**
   * The in-memory index `name`; when absent (e.g. after drop()) created empty (with `storage`, else 'f32') if
   * `create`, else undefined. With `check`, an open index of another storage than `storage` is INDEX_OPTIONS_CONFLICT.
   */
  slot(
    name: string,
    storage: StorageKind | undefined,
    check: boolean,
    create: boolean,
  ): Promise<CosineIndex | undefined>;
  /** Runs `task` after every task queued before it for `name` has settled (FIFO; a failure does not block the next). */
  turn<T>(name: string, task: () => Promise<T>): Promise<T>;
  /** Runs a store operation of `name` after the store operations queued before it (saves, loads, deletes in order). */
  store<T>(name: string, task: () => Promise<T>): Promise<T>;
  /** An empty index for the id and metadata checks that do not depend on an index's contents. */
  checker(): Promise<CosineIndex>;
  replace(name: string, index: CosineIndex): void;
  drop(name: string): boolean;
  searchModule(): Promise<typeof import('../search/cosine-index.js')>;
  embed(texts: string[]): Promise<Float32Array>;
  modelDim(): number | undefined;
  save(name: string, bytes: ArrayBuffer): Promise<void>;
  loadBytes(name: string): Promise<ArrayBuffer | undefined>;
  deleteSaved(name: string): Promise<boolean>;
  /** The loaded model's identity, as index files record it. */
  modelIdentity(): IndexModelIdentity;
  /** An index file's bytes from an import source: downloaded (streamed, checked, cached) or given. */
  importBytes(
    source: IndexSource | WireIndexSource,
    options: (IndexImportOptions & WireImportOptions) | undefined,
  ): Promise<Uint8Array>;
}

/** What a method does at its turn: a result, or a result that also waits for work left running after the turn. */
type Effect<T> = { value: T } | { after: Promise<T> };

/**
 * The IndexApi of one named index, made per `indexCall`. It holds no CosineIndex itself: it reads the worker's slot at
 * each call's turn, so rebuild(), load() and drop() through any page handle are seen by all handles.
 *
 * Call order: every method joins the name's queue when it is called (before any await) and takes effect at its turn,
 * so calls apply in the order they were issued, as if each had been awaited; handles of one name share the queue.
 * Embedding is the exception that keeps throughput: a text is embedded as soon as its call arrives (embeds overlap),
 * and its result is applied at the call's turn.
 */
export class WorkerIndex implements IndexApi {
  constructor(
    private host: IndexHost,
    readonly name: string,
    private storage: StorageKind | undefined,
    private check = false,
  ) {}

  addTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats> {
    return this.putTexts(ids, texts, metadata, false);
  }

  upsertTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats> {
    return this.putTexts(ids, texts, metadata, true);
  }

  addVectors(
    ids: readonly string[],
    vectors: Float32Array,
    metadata?: Metadata,
    options?: VectorsOptions,
  ): Promise<IndexStats> {
    return this.turn((idx) => {
      idx.addVectors(ids, vectors, metadata, options);
      return { value: idx.stats() };
    });
  }

  upsertVectors(
    ids: readonly string[],
    vectors: Float32Array,
    metadata?: Metadata,
    options?: VectorsOptions,
  ): Promise<IndexStats> {
    return this.turn((idx) => {
      idx.upsertVectors(ids, vectors, metadata, options);
      return { value: idx.stats() };
    });
  }

  /** A keyword search embeds nothing: the text goes to the index as it is. */
  search(query: string | Float32Array, k: number, options?: HandleSearchOptions): Promise<SearchHit[]> {
    const mode = options?.mode;
    if (mode === 'keyword') return this.turn((idx) => ({ value: idx.search(query, k, options) }));
    const vector = typeof query === 'string' ? this.embedEarly(Promise.resolve(), [query]) : undefined;
    // A hybrid search of a text uses the text for its keyword half (unless `text` says otherwise).
    const opts =
      mode === 'hybrid' && typeof query === 'string' ? { ...options, text: options?.text ?? query } : options;
    return this.turn(async (idx) => ({
      value: await idx.searchAsync((vector ? await vector : query) as Float32Array, k, opts), // threads where they pay,
    }));
  }

  searchMany(
    queries: readonly (string | Float32Array)[] | Float32Array,
    k: number,
    options?: HandleSearchOptions,
  ): Promise<SearchHit[][]> {
    if (options?.mode === 'keyword')
      return this.turn((idx) => ({ value: idx.searchMany(queries as readonly string[], k, options) }));
    const opts =
      options?.mode === 'hybrid' && options.texts === undefined && Array.isArray(queries)
        ? { ...options, texts: queries.map((q) => (typeof q === 'string' ? q : undefined)) as string[] }
        : options;
    // The texts among the queries are embedded in one batch, at once; the scan runs at the call's turn.
    const texts = Array.isArray(queries) ? queries.filter((q): q is string => typeof q === 'string') : [];
    const vectors = texts.length > 0 ? this.embedEarly(Promise.resolve(), texts) : undefined;
    return this.turn(async (idx) => {
      let batch: VectorBatch = queries as Float32Array;
      if (Array.isArray(queries)) {
        const embedded = vectors ? await vectors : undefined;
        const dim = embedded ? embedded.length / texts.length : 0;
        let t = 0;
        batch = queries.map((q) => (typeof q === 'string' ? embedded!.subarray(t * dim, ++t * dim) : q));
      }
      return { value: await idx.searchManyAsync(batch, k, opts) };
    });
  }

  remove(ids: readonly string[]): Promise<number> {
    return this.turn((idx) => ({ value: idx.remove(ids) }));
  }

  has(id: string): Promise<boolean> {
    return this.turn((idx) => ({ value: idx.has(id) }));
  }

  ids(): Promise<string[]> {
    return this.turn((idx) => ({ value: idx.ids() }));
  }

  metadata(id: string): Promise<JsonValue | undefined> {
    return this.turn((idx) => ({ value: idx.get(id)?.metadata }));
  }

  stats(): Promise<IndexStats> {
    return this.turn((idx) => ({ value: idx.stats() }));
  }

  /** CosineIndex.rebuild at this call's turn; the old index is replaced only once the new one is complete. */
  rebuild(storage: StorageKind): Promise<IndexStats> {
    return this.turn((old) => {
      checkStorage(storage);
      if (old.storage === storage) return { value: old.stats() };
      const next = old.rebuild(storage);
      this.host.replace(this.name, next);
      return { value: next.stats() };
    });
  }

  /** Deletes the saved snapshot at this call's turn: after the saves issued before it, before those issued after. */
  deleteSaved(): Promise<boolean> {
    return this.turn(() => ({ after: this.host.store(this.name, () => this.host.deleteSaved(this.name)) }), false);
  }

  /** Snapshots the index at this call's turn; the write runs in store order while later calls go on in memory. */
  save(): Promise<IndexStats> {
    return this.turn((idx) => {
      const bytes = idx.serialize();
      const stats = idx.stats();
      return { after: this.host.store(this.name, () => this.host.save(this.name, bytes)).then(() => stats) };
    });
  }

  /** Replaces memory with the snapshot at this call's turn, after the saves issued before it have been written. */
  load(): Promise<boolean> {
    return this.turn(async () => {
      const bytes = await this.host.store(this.name, () => this.host.loadBytes(this.name));
      if (!bytes) return { value: false };
      const { CosineIndex } = await this.host.searchModule();
      const loaded = CosineIndex.deserialize(bytes);
      const dim = this.host.modelDim();
      if (dim !== undefined && loaded.dim !== dim) {
        throw new DimMismatchError(dim, loaded.dim, 'saved index', {
          message: `saved index "${this.name}" holds ${loaded.dim}-d vectors but the model gives ${dim}-d.`,
        });
      }
      loaded.enableKeywords(); // a snapshot from before keywords: its entries get terms when upserted with texts
      this.host.replace(this.name, loaded);
      return { value: true };
    }, false);
  }

  drop(): Promise<boolean> {
    return this.turn(() => ({ value: this.host.drop(this.name) }), false);
  }

  /**
   * Downloads and parses at once (like an embed), replaces the index at this call's turn: calls issued before it see
   * the old index, calls after it the imported one; a failure (MODEL_MISMATCH, INDEX_INTEGRITY, …) changes nothing.
   */
  import(source: IndexSource | WireIndexSource, options?: IndexImportOptions & WireImportOptions): Promise<IndexStats> {
    const ready = (async () => {
      const model = this.host.modelIdentity();
      const bytes = await this.host.importBytes(source, options);
      const { CosineIndex } = await this.host.searchModule();
      const imported = CosineIndex.import(bytes, { model });
      // A handle opened with { storage } keeps it: the file's rows are converted (as rebuild() does).
      return this.storage && imported.storage !== this.storage ? imported.rebuild(this.storage) : imported;
    })();
    ready.catch(() => {}); // awaited at the turn
    return this.turn(async () => {
      const next = await ready;
      next.enableKeywords(); // a file built without keywords: hybrid search works (on its vectors) as after load()
      this.host.replace(this.name, next);
      return { value: next.stats() };
    }, false);
  }

  /** The index file of the index as it is at this call's turn (an empty index if none is open). */
  export(): Promise<ArrayBuffer> {
    return this.turn((idx) => ({ value: idx.export(this.host.modelIdentity()) }));
  }

  /**
   * Joins the name's queue now (synchronously: nothing may await before this, or calls would reorder) and runs
   * `effect` at the turn on the index as it is then (`open`: created when absent; load(), drop(), deleteSaved() create none).
   */
  private turn<T>(effect: (idx: CosineIndex) => Effect<T> | Promise<Effect<T>>, open = true): Promise<T> {
    const done = this.host.turn(this.name, async () => {
      const idx = await this.host.slot(this.name, this.storage, this.check, open);
      return effect(idx as CosineIndex); // undefined only where `open` is false, and then unused
    });
    return done.then((e) => {
      if (!('after' in e)) return e.value;
      e.after.catch(() => {}); // the caller gets it below; a store failure is not an unhandled rejection meanwhile
      return e.after;
    });
  }

  /** Starts embedding at once, after `first` (a check) succeeds; the result is awaited at the call's turn. */
  private embedEarly(first: Promise<unknown>, texts: readonly string[]): Promise<Float32Array> {
    const vectors = first.then(() => this.host.embed(texts as string[]));
    vectors.catch(() => {}); // rejected before its turn awaits it: not an unhandled rejection
    return vectors;
  }

  private putTexts(
    ids: readonly string[],
    texts: readonly string[],
    metadata: Metadata | undefined,
    upsert: boolean,
  ): Promise<IndexStats> {
    const op = upsert ? 'upsert' : 'add';
    // The checks that do not depend on the index's contents run before the embed, so a bad batch costs no inference;
    // addVectors()/upsertVectors() run every check again at the turn, against the index as it is then: one rule, in one place.
    const checked = (async () => {
      if (!Array.isArray(ids) || !Array.isArray(texts) || ids.length !== texts.length) {
        throw new InvalidInputError(
          `${op}Texts needs as many ids as texts (got ${Array.isArray(ids) ? ids.length : typeof ids} ids, ${Array.isArray(texts) ? texts.length : typeof texts} texts).`,
        );
      }
      (await this.host.checker()).checkBatch(ids, metadata, op);
    })();
    const vectors = this.embedEarly(checked, texts);
    return this.turn(async (idx) => {
      const v = await vectors;
      // An index that keeps keywords gets the texts' terms too.
      const options = idx.hasKeywords ? { texts } : undefined;
      if (upsert) idx.upsertVectors(ids, v, metadata, options);
      else idx.addVectors(ids, v, metadata, options);
      return { value: idx.stats() };
    });
  }
}
