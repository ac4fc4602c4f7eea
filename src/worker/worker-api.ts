import { expose, proxy, transfer, type Endpoint, type ProxyMarked } from 'comlink';
import { Engine, type EmbedResult, type Platform } from '../engine/engine.js';
import { HpdError, PersistError } from '../errors.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import type { IndexApi, IndexOptions, InitOptions, Ready, WorkerProtocol } from '../protocol/messages.js';
import { guardErrors, installErrorHandler } from '../protocol/transfer.js';
import { checkIndexName, checkIndexOptions, validateTexts } from '../protocol/validate.js';
import type { CosineIndex } from '../search/cosine-index.js';
import type { StorageKind } from '../search/types.js';
import { WorkerIndex, type IndexHost } from './worker-index.js';

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

/**
 * Everything the worker exposes over comlink: the engine and named cosine indexes living beside it, so texts go
 * in, vectors stay in the worker, and only ids and scores come back. Expose it through `exposeWorkerApi`.
 */
export class WorkerApi implements WorkerProtocol {
  private engine: Engine | undefined;
  private indexes = new Map<string, CosineIndex>();
  private host: IndexHost;

  constructor(
    private platform: Platform,
    private store: () => Promise<IndexStore>,
  ) {
    this.host = {
      slot: async (name, storage) => this.slot(await loadSearch(), name, storage),
      replace: (name, index) => void this.indexes.set(name, index),
      drop: (name) => this.indexes.delete(name),
      searchModule: loadSearch,
      embed: async (texts) => (await this.ready().embed(texts)).vectors,
      modelDim: () => this.engine?.dim,
      save: async (name, bytes) => void (await (await this.store()).saveBytes(name, bytes)),
      loadBytes: async (name) => (await this.store()).loadBytes(name),
      deleteSaved: async (name) => {
        const store = await this.store();
        if (!store.delete)
          throw new PersistError(`this index store (${store.kind ?? 'custom'}) cannot delete snapshots.`);
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
   * Opens `name` (created empty when not in memory) and hands out a proxy for it. The same options (or none) give the
   * same index; an explicit storage other than the open index's is INDEX_OPTIONS_CONFLICT, and nothing changes.
   */
  async index(name: string, options?: IndexOptions): Promise<IndexApi & ProxyMarked> {
    checkIndexName(name);
    const { storage } = checkIndexOptions(options);
    const search = await loadSearch();
    // From here to the slot's creation nothing awaits, so two concurrent opens cannot both see "not open".
    const open = this.indexes.get(name);
    if (open && storage !== undefined && open.storage !== storage) {
      throw new HpdError(
        'INDEX_OPTIONS_CONFLICT',
        `index "${name}" is open with storage "${open.storage}", not "${storage}": omit storage to use it as it is, rebuild("${storage}") to convert it, or drop() it first.`,
        {
          details: { name, storage: open.storage, requested: storage },
        },
      );
    }
    const kind: StorageKind = open?.storage ?? storage ?? 'f32';
    this.slot(search, name, kind);
    return proxy(guardErrors(new WorkerIndex(this.host, name, kind)));
  }

  async indexStoreKind(): Promise<string> {
    return (await this.store()).kind ?? 'custom';
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

  /** The in-memory index `name`, created empty with `storage` when absent. */
  private slot(search: typeof import('../search/cosine-index.js'), name: string, storage: StorageKind): CosineIndex {
    let idx = this.indexes.get(name);
    if (!idx) {
      idx = new search.CosineIndex({ dim: this.ready().dim, storage });
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
