import { transfer } from 'comlink';
import { Engine, type EmbedResult, type EngineOptions, type ModelInfo, type Platform } from '../engine/engine.js';
import type { DeviceInfo } from '../engine/device.js';
import { HpdError } from '../errors.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import type { CosineIndex } from '../search/cosine-index.js';
import type { JsonValue, SearchHit, StorageKind } from '../search/types.js';

let searchModule: Promise<typeof import('../search/cosine-index.js')> | undefined;
/** The index code loads on the first index call (one shared promise, so calls keep their order): a worker that only embeds never pays for it. */
const loadSearch = () => (searchModule ??= import('../search/cosine-index.js'));

/** Where named indexes are saved: IndexedDB in a browser, a folder in Node. */
export interface IndexStore {
  saveBytes(name: string, bytes: ArrayBuffer): Promise<unknown>;
  loadBytes(name: string): Promise<ArrayBuffer | undefined>;
  /** Deletes a saved snapshot; true if one existed. */
  delete?(name: string): Promise<boolean>;
  /** What backs it, for display ('opfs', 'indexeddb', 'folder'). */
  readonly kind?: string;
}

/** Engine options that can cross a worker boundary (progress is passed separately, as a proxy). */
export type WorkerEngineOptions = Omit<EngineOptions, 'onProgress' | 'onDeviceLost'>;

export interface IndexSearchOptions {
  minScore?: number;
  /** Keep only hits whose metadata has these exact top-level values (functions cannot cross to the worker). */
  where?: Record<string, JsonValue>;
  /** Return each hit's metadata with it, in the same round trip (instead of one `metadata(id)` call per hit). */
  withMetadata?: boolean;
}

/** A search hit; `metadata` is present when the search asked for `withMetadata`. */
export interface IndexHit extends SearchHit {
  metadata?: JsonValue;
}

export interface IndexStats {
  name: string;
  size: number;
  storage: StorageKind;
  bytes: number;
}

/**
 * Everything the worker exposes over comlink: the engine and named cosine indexes living beside it,
 * so texts go in, vectors stay in the worker, and only ids and scores come back.
 */
export class WorkerApi {
  private engine: Engine | undefined;
  private indexes = new Map<string, CosineIndex>();

  constructor(private platform: Platform, private store: () => Promise<IndexStore>) {}

  /** The start handshake and the page's heartbeat: answered at once by a live worker. */
  ping(): true {
    return true;
  }

  async init(options: WorkerEngineOptions, onProgress?: (p: LoadProgress) => void, onDeviceLost?: (why: string) => void): Promise<{ info: ModelInfo; device: DeviceInfo }> {
    if (this.engine) await this.engine.dispose();
    // Progress goes out on the callback's own port: await the last event so it arrives before init's result.
    let last: unknown;
    this.engine = await Engine.create(this.platform, {
      ...options,
      ...(onProgress ? { onProgress: (p) => void (last = onProgress(p)) } : {}),
      ...(onDeviceLost ? { onDeviceLost: (why) => void onDeviceLost(why) } : {}),
    });
    await last;
    return { info: this.engine.info, device: this.engine.device };
  }

  async embed(texts: string[]): Promise<EmbedResult> {
    const r = await this.ready().embed(texts);
    return transfer(r, [r.vectors.buffer]);
  }

  // --- named indexes -------------------------------------------------------

  async indexOpen(name: string, storage: StorageKind = 'f32'): Promise<IndexStats> {
    await this.index(name, storage);
    return await this.indexStats(name);
  }

  async indexAddTexts(name: string, ids: string[], texts: string[], metadata?: (JsonValue | undefined)[], upsert = false): Promise<IndexStats> {
    const idx = await this.index(name);
    if (!Array.isArray(ids) || !Array.isArray(texts) || ids.length !== texts.length) {
      throw new HpdError('INVALID_INPUT', `addTexts needs as many ids as texts (got ${Array.isArray(ids) ? ids.length : typeof ids} ids, ${Array.isArray(texts) ? texts.length : typeof texts} texts).`);
    }
    // Validate everything the index checks before spending time on the model.
    if (!upsert) {
      const seen = new Set<string>();
      for (const id of ids) {
        if (typeof id !== 'string') throw new HpdError('INVALID_INPUT', 'ids must be strings.');
        if (seen.has(id) || idx.has(id)) throw new HpdError('DUPLICATE_ID', `id "${id}" is ${seen.has(id) ? 'repeated in this call' : 'already in the index'}; use upsertTexts to replace it.`);
        seen.add(id);
      }
    }
    const { vectors } = await this.ready().embed(texts);
    if (upsert) idx.upsert(ids, vectors, metadata);
    else idx.add(ids, vectors, metadata);
    return await this.indexStats(name);
  }

  async indexAddVectors(name: string, ids: string[], vectors: Float32Array, metadata?: (JsonValue | undefined)[], upsert = false): Promise<IndexStats> {
    const idx = await this.index(name);
    if (upsert) idx.upsert(ids, vectors, metadata);
    else idx.add(ids, vectors, metadata);
    return await this.indexStats(name);
  }

  async indexSearch(name: string, query: string | Float32Array, k: number, options: IndexSearchOptions = {}): Promise<IndexHit[]> {
    const vector = typeof query === 'string' ? (await this.ready().embed([query])).vectors : query;
    const idx = await this.index(name); // after the embed: a rebuild or load meanwhile replaced the instance
    const where = options.where;
    const filter = where ? (_: string, meta: JsonValue | undefined) => matches(meta, where) : undefined;
    const hits: IndexHit[] = idx.search(vector, k, { ...(options.minScore !== undefined ? { minScore: options.minScore } : {}), ...(filter ? { filter } : {}) });
    if (options.withMetadata) for (const h of hits) h.metadata = idx.get(h.id)?.metadata;
    return hits;
  }

  /**
   * Rebuilds the index with another storage from its stored vectors, without the model (int8 → f32 starts from the
   * dequantised vectors, within ~1e-5 of the originals). The old index is replaced only once the new one is complete.
   */
  async indexRebuild(name: string, storage: StorageKind): Promise<IndexStats> {
    if (storage !== 'f32' && storage !== 'int8') throw new HpdError('INVALID_INPUT', `storage must be "f32" or "int8", got "${String(storage)}".`);
    const old = await this.index(name);
    if (old.storage === storage) return await this.indexStats(name);
    const { CosineIndex } = await loadSearch();
    const next = new CosineIndex({ dim: old.dim, storage, capacity: Math.max(1, old.size) });
    const ids = old.ids();
    const CHUNK = 1024;
    const vectors = new Float32Array(Math.min(CHUNK, ids.length) * old.dim);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const part = ids.slice(i, i + CHUNK);
      const meta: (JsonValue | undefined)[] = new Array<JsonValue | undefined>(part.length);
      part.forEach((id, j) => {
        const e = old.get(id)!;
        vectors.set(e.vector, j * old.dim);
        meta[j] = e.metadata;
      });
      next.add(part, part.length * old.dim === vectors.length ? vectors : vectors.subarray(0, part.length * old.dim), meta);
    }
    this.indexes.set(name, next);
    return await this.indexStats(name);
  }

  async indexRemove(name: string, ids: string[]): Promise<number> {
    return (await this.index(name)).remove(ids);
  }

  async indexHas(name: string, id: string): Promise<boolean> {
    return (await this.index(name)).has(id);
  }

  /** Every id in the index (storage order), e.g. to skip texts already indexed without one call per id. */
  async indexIds(name: string): Promise<string[]> {
    return (await this.index(name)).ids();
  }

  async indexMetadata(name: string, id: string): Promise<JsonValue | undefined> {
    return (await this.index(name)).get(id)?.metadata;
  }

  async indexStats(name: string): Promise<IndexStats> {
    const idx = await this.index(name);
    return { name, size: idx.size, storage: idx.storage, bytes: idx.byteLength };
  }

  async indexSave(name: string): Promise<IndexStats> {
    // Snapshot before the first await, so overlapping saves and mutations apply in call order; the store serialises the writes.
    const bytes = (await this.index(name)).serialize();
    const store = await this.store();
    await store.saveBytes(name, bytes);
    return await this.indexStats(name);
  }

  /** Replaces the in-memory index with the saved snapshot; false (and nothing changed) if none exists. */
  async indexLoad(name: string): Promise<boolean> {
    const bytes = await (await this.store()).loadBytes(name);
    if (!bytes) return false;
    const { CosineIndex } = await loadSearch();
    const loaded = CosineIndex.deserialize(bytes);
    if (this.engine && loaded.dim !== this.engine.dim) {
      throw new HpdError('DIM_MISMATCH', `saved index "${name}" holds ${loaded.dim}-d vectors but the model gives ${this.engine.dim}-d.`);
    }
    this.indexes.set(name, loaded);
    return true;
  }

  indexDrop(name: string): boolean {
    return this.indexes.delete(name);
  }

  /** Deletes the saved snapshot of `name` (the in-memory index stays); true if one existed. */
  async indexDeleteSaved(name: string): Promise<boolean> {
    if (typeof name !== 'string' || !name) throw new HpdError('INVALID_INPUT', 'index name must be a non-empty string.');
    const store = await this.store();
    if (!store.delete) throw new HpdError('PERSIST_FAILED', `this index store (${store.kind ?? 'custom'}) cannot delete snapshots.`);
    return store.delete(name);
  }

  /** What saved indexes live in: 'opfs', 'indexeddb', 'folder', or 'custom'. */
  async indexStoreKind(): Promise<string> {
    return (await this.store()).kind ?? 'custom';
  }

  // --- cache ---------------------------------------------------------------

  cacheList(): Promise<CacheEntry[]> {
    return this.platform.cache.list();
  }

  cacheClear(prefix?: string): Promise<number> {
    return this.platform.cache.clear(prefix);
  }

  async dispose(): Promise<void> {
    await this.engine?.dispose();
    this.engine = undefined;
    this.indexes.clear();
  }

  private ready(): Engine {
    if (!this.engine) throw new HpdError('DISPOSED', 'The embedder is not initialised or was disposed.');
    return this.engine;
  }

  private async index(name: string, storage?: StorageKind): Promise<CosineIndex> {
    const { CosineIndex } = await loadSearch();
    if (typeof name !== 'string' || !name) throw new HpdError('INVALID_INPUT', 'index name must be a non-empty string.');
    let idx = this.indexes.get(name);
    if (!idx) {
      idx = new CosineIndex({ dim: this.ready().dim, storage: storage ?? 'f32' });
      this.indexes.set(name, idx);
    }
    return idx;
  }
}

function matches(meta: JsonValue | undefined, where: Record<string, JsonValue>): boolean {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return false;
  for (const [k, v] of Object.entries(where)) {
    if (JSON.stringify(meta[k]) !== JSON.stringify(v)) return false;
  }
  return true;
}
