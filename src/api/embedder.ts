import { releaseProxy, proxy, wrap, type Endpoint, type Remote } from 'comlink';
import type { DeviceInfo } from '../engine/device.js';
import type { EmbedResult, EngineOptions, ModelInfo } from '../engine/engine.js';
import { validateTexts } from '../engine/validate.js';
import { HpdError } from '../errors.js';
import { installErrorTransfer } from '../worker/error-transfer.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import type { JsonValue, SearchHit, StorageKind } from '../search/types.js';
import type { IndexHit, IndexSearchOptions, IndexStats, WorkerApi, WorkerEngineOptions } from '../worker/worker-api.js';

/** Page-side lifecycle options: they stay on the page (they never cross to the worker). */
export interface LifecycleOptions {
  /** Cancels `createEmbedder` (e.g. `AbortSignal.timeout(60_000)`): it rejects with ABORTED and the worker is terminated. */
  signal?: AbortSignal;
  /** How long a freshly spawned worker may take to answer its first message before WORKER_START_FAILED (default 30 s). */
  startTimeoutMs?: number;
  /**
   * A call rejects with WORKER_CRASHED when the worker answers nothing (not even a heartbeat) for this long, e.g. after an
   * out-of-memory kill that fires no `error` event (default 120 s: generous, a busy worker answers between batches).
   */
  stallTimeoutMs?: number;
}

/** Options for createEmbedder (browser and Node): the engine's options, passed to the worker, plus page-side lifecycle. */
export type EmbedderOptions = EngineOptions & LifecycleOptions;

/** A started worker, browser or Node, seen through a comlink endpoint. */
export interface WorkerHost {
  endpoint: Endpoint;
  /** Called at most once, when the worker dies or throws an uncaught error. */
  onCrash(cb: (why: string) => void): void;
  terminate(): void;
  /** The worker script, for error messages (undefined for a caller-supplied worker). */
  url?: string;
}

type Ready = { info: ModelInfo; device: DeviceInfo };

interface Live {
  /** Indexes already opened in this worker (a fresh worker after a crash starts with none). */
  opened: Set<string>;
  host: WorkerHost;
  remote: Remote<WorkerApi>;
  ready: Promise<Ready>;
  pending: Set<(e: unknown) => void>;
  dead: boolean;
  /** Why it died (WORKER_CRASHED, WORKER_START_FAILED, DEVICE_LOST): what pending calls reject with. */
  deadError?: HpdError;
  /** Marks the worker dead, rejects pending calls with `err` and terminates it. */
  kill(err: HpdError): void;
  /** Starts or stops the heartbeat watchdog to match whether calls are pending. */
  watch(): void;
}

export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;

/**
 * The page-side handle: calls cross to the worker with comlink, results come back as transferred
 * buffers. If the worker dies, pending calls reject with WORKER_CRASHED and the next call starts a fresh one.
 */
export class Embedder {
  private live: Live | undefined;
  private disposed = false;
  private current: Ready;

  private constructor(private spawn: () => WorkerHost, private options: EmbedderOptions, first: Live, ready: Ready) {
    this.live = first;
    this.current = ready;
  }

  /** Starts a worker and loads the model in it; resolves when the embedder is ready (or rejects with ABORTED on `signal`). */
  static async start(spawn: () => WorkerHost, options: EmbedderOptions): Promise<Embedder> {
    checkOptions(options);
    const { signal } = options;
    if (signal?.aborted) throw aborted(signal);
    const live = startWorker(spawn, options);
    let onAbort: (() => void) | undefined;
    try {
      const ready = await new Promise<Ready>((resolve, reject) => {
        live.pending.add(reject);
        live.watch();
        if (signal) {
          onAbort = () => reject(aborted(signal));
          signal.addEventListener('abort', onAbort, { once: true });
        }
        live.ready.then(resolve, reject);
      });
      live.pending.clear();
      live.watch();
      return new Embedder(spawn, options, live, ready);
    } catch (e) {
      // Nothing keeps running after a failed or aborted start.
      live.kill(e instanceof HpdError ? e : new HpdError('WORKER_CRASHED', String(e)));
      throw e;
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
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

  /** Frees the worker. Calls still pending reject with DISPOSED at once (a busy worker is terminated, not waited for). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    const busy = live.pending.size > 0;
    const err = new HpdError('DISPOSED', 'The embedder was disposed.');
    for (const reject of live.pending) reject(err);
    live.pending.clear();
    live.watch();
    try {
      // An idle worker releases its session politely; a busy one would answer only after its current run.
      if (!live.dead && !busy) await Promise.race([live.remote.dispose(), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // The worker is going away regardless.
    }
    (live.remote as Remote<WorkerApi> | undefined)?.[releaseProxy](); // undefined when the worker never spawned
    live.kill(err);
  }

  private async call<T>(fn: (r: Remote<WorkerApi>, live: Live) => Promise<T> | T): Promise<T> {
    if (this.disposed) throw new HpdError('DISPOSED', 'This embedder was disposed; create a new one.');
    if (!this.live || this.live.dead) {
      this.live = startWorker(this.spawn, this.options);
    }
    const live = this.live;
    return new Promise<T>((resolve, reject) => {
      live.pending.add(reject);
      live.watch();
      live.ready
        .then(
          (ready) => {
            this.current = ready;
            return fn(live.remote, live);
          },
          (e: unknown) => {
            // A failed (re)start is not kept: the next call tries a fresh worker.
            if (this.live === live) this.live = undefined;
            live.kill(e instanceof HpdError ? e : new HpdError('WORKER_CRASHED', String(e)));
            throw e;
          },
        )
        .then(resolve, (e: unknown) => reject(live.dead ? (live.deadError ?? crashed(e)) : e))
        .finally(() => {
          live.pending.delete(reject);
          live.watch();
        });
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
  const { onProgress, signal: _signal, startTimeoutMs, stallTimeoutMs, ...rest } = options;
  const startMs = startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stallMs = stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  let host: WorkerHost;
  try {
    host = spawn();
  } catch (e) {
    // new Worker() itself can throw (an invalid URL, a CSP that forbids it in some browsers).
    const err = startFailed(undefined, (e as Error)?.message ?? String(e));
    return deadLive(err);
  }
  const remote = wrap<WorkerApi>(host.endpoint);
  let crash: (e: unknown) => void = () => {};
  const crashedP = new Promise<never>((_, reject) => (crash = reject));
  crashedP.catch(() => {});
  let started = false;
  let lastSeen = Date.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  let pinging = false;
  let handshake: ReturnType<typeof setTimeout> | undefined;
  const live: Live = {
    host, remote, opened: new Set(), pending: new Set(), dead: false, ready: undefined as never,
    kill(err) {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      clearTimeout(handshake);
      if (live.dead) return;
      live.dead = true;
      live.deadError = err;
      crash(err);
      for (const reject of live.pending) reject(err);
      live.pending.clear();
      host.terminate();
    },
    watch() {
      const want = !live.dead && live.pending.size > 0;
      if (want && timer === undefined) {
        lastSeen = Date.now();
        timer = setInterval(() => {
          // Until the handshake answers, the start timeout is in charge.
          if (started && Date.now() - lastSeen > stallMs) {
            live.kill(new HpdError('WORKER_CRASHED', `The embedding worker stopped answering (nothing for ${stallMs} ms; killed, e.g. out of memory?). Pending calls were rejected; the next call starts a fresh worker.`));
            return;
          }
          if (pinging) return;
          pinging = true;
          remote.ping().then(() => (lastSeen = Date.now()), () => {}).finally(() => (pinging = false));
        }, Math.max(10, Math.min(stallMs / 4, 5000)));
        (timer as { unref?: () => void }).unref?.(); // the watchdog alone never keeps a Node process alive
      } else if (!want && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
  host.onCrash((why) => {
    // An error before the worker ever answered means its script did not load or start.
    live.kill(started ? new HpdError('WORKER_CRASHED', `The embedding worker crashed (${why}). Pending calls were rejected; the next call starts a fresh worker.`) : startFailed(host.url, why));
  });
  // Handshake: a live worker answers ping() at once; one that never loaded answers nothing.
  handshake = setTimeout(() => {
    if (!started) live.kill(startFailed(host.url, `no answer within ${startMs} ms`));
  }, startMs);
  (handshake as { unref?: () => void }).unref?.();
  remote.ping().then(
    () => {
      started = true;
      lastSeen = Date.now();
      clearTimeout(handshake);
    },
    () => clearTimeout(handshake),
  );
  const workerOptions: WorkerEngineOptions = rest;
  const progress = (p: LoadProgress) => {
    lastSeen = Date.now();
    onProgress?.(p);
  };
  const deviceLost = (why: string) =>
    live.kill(new HpdError('DEVICE_LOST', `The WebGPU device was lost (${why}). Pending calls were rejected; the next call starts afresh (under device "auto", on wasm if WebGPU is gone).`));
  live.ready = Promise.race([remote.init(workerOptions, proxy(progress), proxy(deviceLost)), crashedP]);
  live.ready.catch(() => {});
  return live;
}

/** A Live whose worker never started: every call on it rejects with `err`. */
function deadLive(err: HpdError): Live {
  const ready = Promise.reject(err);
  ready.catch(() => {});
  const live: Live = {
    host: { endpoint: undefined as never, onCrash: () => {}, terminate: () => {} },
    remote: undefined as never, opened: new Set(), pending: new Set(), dead: true, deadError: err, ready,
    kill: () => {},
    watch: () => {},
  };
  return live;
}

function startFailed(url: string | undefined, why: string): HpdError {
  return new HpdError(
    'WORKER_START_FAILED',
    `The embedding worker ${url ? `(${url}) ` : '(options.worker) '}did not start: ${why}. Likely causes: the worker URL is wrong or not served ` +
      `(a 404, or an HTML page from a dev server's fallback); the bundler did not emit or transform the worker (check its worker/ESM settings); ` +
      `a Content-Security-Policy blocks it (worker-src / script-src); or the worker script threw while loading (see the worker's console).`,
  );
}

function aborted(signal: AbortSignal): HpdError {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  const why = reason?.name === 'TimeoutError' ? 'it timed out' : reason?.message ? reason.message : 'it was aborted';
  return new HpdError('ABORTED', `createEmbedder() was cancelled: ${why}. The worker was stopped.`, { cause: signal.reason });
}

function crashed(e: unknown): unknown {
  return e instanceof HpdError && e.code === 'WORKER_CRASHED' ? e : new HpdError('WORKER_CRASHED', `The embedding worker crashed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

function checkOptions(o: EmbedderOptions): void {
  if (!o || typeof o !== 'object') throw new HpdError('INVALID_INPUT', 'createEmbedder() needs an options object with a model.');
  if (o.model === undefined || o.model === null || o.model === '') throw new HpdError('INVALID_INPUT', 'createEmbedder(): `model` is required (a bundle URL, a Hugging Face repo id, or { files }).');
  if (o.device !== undefined && !['auto', 'webgpu', 'wasm'].includes(o.device)) throw new HpdError('INVALID_INPUT', `device must be "auto", "webgpu" or "wasm", got "${String(o.device)}".`);
  for (const key of ['startTimeoutMs', 'stallTimeoutMs'] as const) {
    const v = o[key];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 2 ** 31 - 1)) throw new HpdError('INVALID_INPUT', `${key} must be a positive number of milliseconds, got ${String(v)}.`);
  }
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw new HpdError('INVALID_INPUT', 'signal must be an AbortSignal.');
}

