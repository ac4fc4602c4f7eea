import { expose, transfer, type Endpoint } from 'comlink';
import { Engine, type EmbedResult, type Platform } from '../engine/engine.js';
import { HpdError, InvalidInputError, PersistError } from '../errors.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import {
  INDEX_METHODS,
  type IndexApi,
  type IndexMethod,
  type IndexOptions,
  type InitOptions,
  type Ready,
  type WorkerProtocol,
} from '../protocol/messages.js';
import { guardErrors, installErrorHandler } from '../protocol/transfer.js';
import { checkIndexName, checkIndexOptions, validateTexts } from '../protocol/validate.js';
import type { CosineIndex } from '../search/cosine-index.js';
import type { IndexPersistence, IndexStore } from '../search/index-store.js';
import type { StorageKind } from '../search/types.js';
import { WorkerIndex, type IndexHost } from './worker-index.js';

let searchModule: Promise<typeof import('../search/cosine-index.js')> | undefined;
/** The index code loads on the first index call (one shared promise, so calls keep their order): a worker that only embeds never pays for it. */
const loadSearch = () => (searchModule ??= import('../search/cosine-index.js'));

/**
 * Everything the worker exposes over comlink: the engine and named cosine indexes living beside it, so texts go
 * in, vectors stay in the worker, and only ids and scores come back. Expose it through `exposeWorkerApi`.
 */
export class WorkerApi implements WorkerProtocol {
  private engine: Engine | undefined;
  private indexes = new Map<string, CosineIndex>();
  /** One FIFO per index name: every call on that name, through any handle, takes effect in arrival order. */
  private readonly calls = new KeyedMutex();
  /** One FIFO per name for its saved snapshot: saves, loads and deletes reach the store in call order. */
  private readonly storeOps = new KeyedMutex();
  private checker: Promise<CosineIndex> | undefined;
  private host: IndexHost;

  constructor(
    private platform: Platform,
    private store: () => Promise<IndexStore>,
  ) {
    this.host = {
      slot: async (name, storage, check, create) => this.slot(await loadSearch(), name, storage, check, create),
      turn: (name, task) => this.calls.run(name, task),
      store: (name, task) => this.storeOps.run(name, task),
      checker: () => (this.checker ??= loadSearch().then((s) => new s.CosineIndex({ dim: 1, kernel: 'js' }))),
      replace: (name, index) => void this.indexes.set(name, index),
      drop: (name) => this.indexes.delete(name),
      searchModule: loadSearch,
      embed: async (texts) => (await this.ready().embed(texts)).vectors,
      modelDim: () => this.engine?.dim,
      modelIdentity: () => {
        const { name, dim, dtype, sha256 } = this.ready().info;
        return { name, dim, dtype, sha256 };
      },
      // The download code loads on the first import (a worker that never imports an index never pays for it).
      importBytes: async (source, options) =>
        (await import('./index-import.js')).readIndexSource(source, options, {
          fetch: this.platform.fetch,
          cache: this.platform.cache,
        }),
      save: async (name, bytes) => void (await (await this.store()).saveBytes(name, bytes)),
      loadBytes: async (name) => (await this.store()).loadBytes(name),
      deleteSaved: async (name) => {
        const store = await this.store();
        if (!store.delete)
          throw new PersistError(`this index store (${store.persistence ?? 'custom'}) cannot delete snapshots.`);
        return store.delete(name);
      },
    };
  }

  ping(): true {
    return true;
  }

  async init(
    options: InitOptions,
    onProgress?: (p: LoadProgress) => void,
    onDeviceLost?: (why: string) => void,
  ): Promise<Ready> {
    if (this.engine) await this.engine.dispose();
    // Progress goes out on the callback's own port: await the last event so it arrives before init's result.
    let last: unknown;
    this.engine = await Engine.create(this.platform, {
      ...options.engine,
      ...(onProgress ? { onProgress: (p) => void (last = onProgress(p)) } : {}),
      ...(onDeviceLost ? { onDeviceLost: (why) => void onDeviceLost(why) } : {}),
    });
    await last;
    return { info: this.engine.info, device: this.engine.device };
  }

  async embed(texts: string[]): Promise<EmbedResult> {
    validateTexts(texts);
    const r = await this.ready().embed(texts);
    return transfer(r, [r.vectors.buffer]);
  }

  /**
   * One IndexApi call on the index `name` (opened empty when not in memory), queued at once: nothing awaits before
   * the method joins the name's queue. With `check`, an explicit storage other than the open index's is
   * INDEX_OPTIONS_CONFLICT at the call's turn, and nothing changes.
   */
  async indexCall<M extends IndexMethod>(
    name: string,
    options: IndexOptions | undefined,
    check: boolean,
    method: M,
    args: Parameters<IndexApi[M]>,
  ): Promise<Awaited<ReturnType<IndexApi[M]>>> {
    checkIndexName(name);
    const { storage } = checkIndexOptions(options);
    if (!(INDEX_METHODS as readonly string[]).includes(method) || !Array.isArray(args))
      throw new InvalidInputError(
        `indexCall: unknown index method ${String(method)} or arguments that are not an array.`,
      );
    const index = new WorkerIndex(this.host, name, storage, check === true);
    const result = await (index[method] as (...a: unknown[]) => Promise<Awaited<ReturnType<IndexApi[M]>>>)(...args);
    // export()'s file is moved to the page, not copied.
    return result instanceof ArrayBuffer ? transfer(result, [result]) : result;
  }

  async persistence(): Promise<IndexPersistence> {
    return (await this.store()).persistence ?? 'custom';
  }

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

  /**
   * The in-memory index `name`, created empty (with `storage`, else 'f32') when absent and `create`. With `check`, an
   * open index of another explicit storage is INDEX_OPTIONS_CONFLICT, and nothing changes.
   */
  private slot(
    search: typeof import('../search/cosine-index.js'),
    name: string,
    storage: StorageKind | undefined,
    check: boolean,
    create: boolean,
  ): CosineIndex | undefined {
    let idx = this.indexes.get(name);
    if (idx && check && storage !== undefined && idx.storage !== storage) {
      throw new HpdError(
        'INDEX_OPTIONS_CONFLICT',
        `index "${name}" is open with storage "${idx.storage}", not "${storage}": omit storage to use it as it is, rebuild("${storage}") to convert it, or drop() it first.`,
        { details: { name, storage: idx.storage, requested: storage } },
      );
    }
    if (!idx && create) {
      idx = new search.CosineIndex({ dim: this.ready().dim, storage: storage ?? 'f32', keywords: true });
      this.indexes.set(name, idx);
    }
    return idx;
  }

  private ready(): Engine {
    if (!this.engine) throw new HpdError('DISPOSED', 'The embedder is not initialised or was disposed.');
    return this.engine;
  }
}

/** Serves `api` on `endpoint` (default: the worker's global scope), with errors crossing as their own classes. */
export function exposeWorkerApi(api: WorkerApi, endpoint?: Endpoint): void {
  installErrorHandler();
  expose(guardErrors(api), endpoint);
}
