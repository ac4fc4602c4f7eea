import { releaseProxy, proxy, wrap, type Endpoint, type Remote } from 'comlink';
import type { DeviceInfo } from '../engine/device.js';
import type { EmbedResult, EngineOptions, ModelInfo } from '../engine/engine.js';
import { validateTexts } from '../engine/validate.js';
import { HpdError } from '../errors.js';
import { installErrorTransfer } from '../worker/error-transfer.js';
import type { CacheEntry } from '../model/cache.js';
import type { JsonValue, StorageKind } from '../search/types.js';
import type { IndexHit, IndexSearchOptions, IndexStats, WorkerApi, WorkerEngineOptions } from '../worker/worker-api.js';

/** Options for createEmbedder (browser and Node): the engine's options, passed to the worker. */
export type EmbedderOptions = EngineOptions;

/** A started worker, browser or Node, seen through a comlink endpoint. */
export interface WorkerHost {
  endpoint: Endpoint;
  /** Called at most once, when the worker dies or throws an uncaught error. */
  onCrash(cb: (why: string) => void): void;
  terminate(): void;
}

interface Live {
  /** Indexes already opened in this worker (a fresh worker after a crash starts with none). */
  opened: Set<string>;
  host: WorkerHost;
  remote: Remote<WorkerApi>;
  ready: Promise<{ info: ModelInfo; device: DeviceInfo }>;
  pending: Set<(e: unknown) => void>;
  dead: boolean;
}

/**
 * The page-side handle: calls cross to the worker with comlink, results come back as transferred
 * buffers. If the worker dies, pending calls reject with WORKER_CRASHED and the next call starts a fresh one.
 */
export class Embedder {
  private live: Live | undefined;
  private disposed = false;
  private current: { info: ModelInfo; device: DeviceInfo };

  private constructor(private spawn: () => WorkerHost, private options: EmbedderOptions, first: Live, ready: { info: ModelInfo; device: DeviceInfo }) {
    this.live = first;
    this.current = ready;
  }

  /** Starts a worker and loads the model in it; resolves when the embedder is ready. */
  static async start(spawn: () => WorkerHost, options: EmbedderOptions): Promise<Embedder> {
    checkOptions(options);
    const live = startWorker(spawn, options);
    try {
      const ready = await live.ready;
      return new Embedder(spawn, options, live, ready);
    } catch (e) {
      live.host.terminate();
      throw e;
    }
  }

  get info(): ModelInfo {
    return this.current.info;
  }

  /** What actually runs, and why. */
  get device(): DeviceInfo {
    return this.current.device;
  }

  get dim(): number {
    return this.current.info.dim;
  }

  /** N texts → N × dim unit vectors, row-major, in input order. */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    return (await this.embedDetailed(texts)).vectors;
  }

  /** Like `embed`, also telling which inputs were truncated to maxTokens. */
  embedDetailed(texts: readonly string[]): Promise<EmbedResult> {
    validateTexts(texts);
    return this.call((r) => r.embed(texts as string[]));
  }

  async embedOne(text: string): Promise<Float32Array> {
    if (typeof text !== 'string') throw new HpdError('INVALID_INPUT', `embedOne() takes a string, got ${text === null ? 'null' : typeof text}.`);
    return this.embed([text]);
  }

  /** A named cosine index that lives in the worker beside the model; vectors never cross to the page. */
  index(name: string, options: { storage?: StorageKind } = {}): IndexHandle {
    if (typeof name !== 'string' || !name) throw new HpdError('INVALID_INPUT', 'index name must be a non-empty string.');
    const storage = options.storage ?? 'f32';
    // Open the index once per worker, not once per call: a search is then a single round trip.
    const call = <T>(fn: (r: Remote<WorkerApi>) => Promise<T> | T) =>
      this.call(async (r, live) => {
        if (!live.opened.has(name)) {
          await r.indexOpen(name, storage);
          live.opened.add(name);
        }
        return fn(r);
      });
    return {
      name,
      addTexts: (ids, texts, metadata) => call((r) => r.indexAddTexts(name, [...ids], [...texts], metadata ? [...metadata] : undefined)),
      upsertTexts: (ids, texts, metadata) => call((r) => r.indexAddTexts(name, [...ids], [...texts], metadata ? [...metadata] : undefined, true)),
      addVectors: (ids, vectors, metadata) => call((r) => r.indexAddVectors(name, [...ids], vectors, metadata ? [...metadata] : undefined)),
      search: (query, k, opts) => call((r) => r.indexSearch(name, query, k, opts)),
      remove: (ids) => call((r) => r.indexRemove(name, [...ids])),
      has: (id) => call((r) => r.indexHas(name, id)),
      ids: () => call((r) => r.indexIds(name)),
      metadata: (id) => call((r) => r.indexMetadata(name, id) as Promise<JsonValue | undefined>),
      stats: () => call((r) => r.indexStats(name)),
      rebuild: (to) => call((r) => r.indexRebuild(name, to)),
      deleteSaved: () => call((r) => r.indexDeleteSaved(name)),
      save: () => call((r) => r.indexSave(name)),
      load: () => call((r) => r.indexLoad(name)),
      drop: () =>
        this.call(async (r, live) => {
          live.opened.delete(name);
          return r.indexDrop(name);
        }),
    };
  }

  /** What saved indexes live in: 'opfs' or 'indexeddb' in browsers, 'folder' in Node. */
  indexStoreKind(): Promise<string> {
    return this.call((r) => r.indexStoreKind());
  }

  /** Downloaded and compiled model files kept for offline loads. */
  readonly cache = {
    list: (): Promise<CacheEntry[]> => this.call((r) => r.cacheList()),
    clear: (prefix?: string): Promise<number> => this.call((r) => r.cacheClear(prefix)),
  };

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    try {
      if (!live.dead) await Promise.race([live.remote.dispose(), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // The worker is going away regardless.
    }
    live.remote[releaseProxy]();
    live.host.terminate();
    for (const reject of live.pending) reject(new HpdError('DISPOSED', 'The embedder was disposed.'));
  }

  private async call<T>(fn: (r: Remote<WorkerApi>, live: Live) => Promise<T> | T): Promise<T> {
    if (this.disposed) throw new HpdError('DISPOSED', 'This embedder was disposed; create a new one.');
    if (!this.live || this.live.dead) {
      this.live = startWorker(this.spawn, this.options);
    }
    const live = this.live;
    return new Promise<T>((resolve, reject) => {
      live.pending.add(reject);
      live.ready
        .then((ready) => {
          this.current = ready;
          return fn(live.remote, live);
        })
        .then(resolve, (e: unknown) => reject(live.dead ? crashed(e) : e))
        .finally(() => live.pending.delete(reject));
    });
  }
}

export interface IndexHandle {
  readonly name: string;
  /** Embeds and adds texts atomically; duplicate or existing ids are refused before anything is added. */
  addTexts(ids: readonly string[], texts: readonly string[], metadata?: readonly (JsonValue | undefined)[]): Promise<IndexStats>;
  upsertTexts(ids: readonly string[], texts: readonly string[], metadata?: readonly (JsonValue | undefined)[]): Promise<IndexStats>;
  addVectors(ids: readonly string[], vectors: Float32Array, metadata?: readonly (JsonValue | undefined)[]): Promise<IndexStats>;
  /** Top-k by cosine for a text (embedded in the worker) or a vector. */
  search(query: string | Float32Array, k: number, options?: IndexSearchOptions): Promise<IndexHit[]>;
  remove(ids: readonly string[]): Promise<number>;
  has(id: string): Promise<boolean>;
  /** Every id in the index, in one round trip. */
  ids(): Promise<string[]>;
  metadata(id: string): Promise<JsonValue | undefined>;
  stats(): Promise<IndexStats>;
  /** Re-indexes with another storage ('f32' | 'int8') from the stored vectors, without re-embedding. */
  rebuild(storage: StorageKind): Promise<IndexStats>;
  /** Deletes the saved snapshot (the in-memory index stays); true if one existed. */
  deleteSaved(): Promise<boolean>;
  /** Persists a snapshot (IndexedDB in browsers, a folder in Node); a failed save keeps the previous one. */
  save(): Promise<IndexStats>;
  /** Replaces the in-memory index with the saved snapshot; false if there is none. */
  load(): Promise<boolean>;
  /** Frees the in-memory index in the worker (a saved snapshot stays); the next call starts an empty one. */
  drop(): Promise<boolean>;
}

function startWorker(spawn: () => WorkerHost, options: EmbedderOptions): Live {
  installErrorTransfer();
  const host = spawn();
  const remote = wrap<WorkerApi>(host.endpoint);
  const live: Live = { host, remote, opened: new Set(), pending: new Set(), dead: false, ready: undefined as never };
  let crash: (e: unknown) => void = () => {};
  const crashedP = new Promise<never>((_, reject) => (crash = reject));
  crashedP.catch(() => {});
  host.onCrash((why) => {
    if (live.dead) return;
    live.dead = true;
    const err = new HpdError('WORKER_CRASHED', `The embedding worker crashed (${why}). Pending calls were rejected; the next call starts a fresh worker.`);
    crash(err);
    for (const reject of live.pending) reject(err);
    live.pending.clear();
    host.terminate();
  });
  const { onProgress, ...rest } = options;
  const workerOptions: WorkerEngineOptions = rest;
  live.ready = Promise.race([remote.init(workerOptions, onProgress ? proxy(onProgress) : undefined), crashedP]);
  return live;
}

function crashed(e: unknown): unknown {
  return e instanceof HpdError && e.code === 'WORKER_CRASHED' ? e : new HpdError('WORKER_CRASHED', `The embedding worker crashed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

function checkOptions(o: EmbedderOptions): void {
  if (!o || typeof o !== 'object') throw new HpdError('INVALID_INPUT', 'createEmbedder() needs an options object with a model.');
  if (o.model === undefined || o.model === null || o.model === '') throw new HpdError('INVALID_INPUT', 'createEmbedder(): `model` is required (a bundle URL, a Hugging Face repo id, or { files }).');
  if (o.device !== undefined && !['auto', 'webgpu', 'wasm'].includes(o.device)) throw new HpdError('INVALID_INPUT', `device must be "auto", "webgpu" or "wasm", got "${String(o.device)}".`);
}

