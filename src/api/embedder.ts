import { releaseProxy, proxy, wrap, type Remote } from 'comlink';
import type { DeviceInfo } from '../engine/device.js';
import type { EmbedResult, EngineOptions, ModelInfo } from '../engine/engine.js';
import { HpdError, InvalidInputError } from '../errors.js';
import type { CacheEntry } from '../model/cache.js';
import type { LoadProgress } from '../model/progress.js';
import {
  INDEX_METHODS,
  type IndexApi,
  type IndexOptions,
  type Ready,
  type WorkerEngineOptions,
  type WorkerProtocol,
} from '../protocol/messages.js';
import { installErrorHandler } from '../protocol/transfer.js';
import { checkIndexName, checkIndexOptions, validateTexts } from '../protocol/validate.js';
import type { WorkerHost } from './host.js';

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

/** Diagnostics that cost time; not for production. */
export interface DebugOptions {
  /** Record ORT's execution-provider placement into `device.placement` (verbose log; slower start). */
  capturePlacement?: boolean;
}

/**
 * Options for createEmbedder (browser and Node): the engine's options, passed to the worker, plus page-side lifecycle.
 * (A device loss reaches page code as DEVICE_LOST on the pending calls, not as a callback.)
 */
export type EmbedderOptions = Omit<EngineOptions, 'capturePlacement' | 'onDeviceLost'> &
  LifecycleOptions & { debug?: DebugOptions };

/** A named index in the worker (see IndexApi in src/protocol/messages.ts): the worker's object, seen from the page. */
export type IndexHandle = IndexApi & { readonly name: string };

interface Live {
  host: WorkerHost;
  remote: Remote<WorkerProtocol>;
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

  // `options` may hold in-memory model files: kept (by reference, not copied) so a crashed worker can be restarted,
  // released by dispose(). The worker's cache is no home for them: it is persistent storage, and they are the user's.
  private constructor(
    private spawn: () => WorkerHost,
    private options: EmbedderOptions | undefined,
    private baseUrl: string | undefined,
    first: Live,
    ready: Ready,
  ) {
    this.live = first;
    this.current = ready;
  }

  /**
   * Starts a worker and loads the model in it; resolves when the embedder is ready (or rejects with ABORTED on `signal`).
   * @internal createEmbedder (browser or Node) is the public way in; a WorkerHost is comlink plumbing.
   */
  static async start(spawn: () => WorkerHost, options: EmbedderOptions, baseUrl?: string): Promise<Embedder> {
    checkOptions(options);
    const { signal } = options;
    if (signal?.aborted) throw aborted(signal);
    const live = startWorker(spawn, options, baseUrl);
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
      return new Embedder(spawn, options, baseUrl, live, ready);
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
    if (typeof text !== 'string')
      throw new InvalidInputError(`embedOne() takes a string, got ${text === null ? 'null' : typeof text}.`);
    return this.embed([text]);
  }

  /**
   * A named cosine index that lives in the worker beside the model; vectors never cross to the page. The same name
   * and options (or none) give the same index; another `storage` than the open index's rejects the first call with
   * INDEX_OPTIONS_CONFLICT.
   */
  index(name: string, options: IndexOptions = {}): IndexHandle {
    checkIndexName(name);
    const opts = checkIndexOptions(options);
    // The worker's index proxy, opened once per handle and worker: a call is then a single round trip. Per handle, so
    // a new handle always meets the open check (another storage than the open index's is refused).
    let opened: { live: Live; remote: Promise<Remote<IndexApi>> } | undefined;
    const open = (r: Remote<WorkerProtocol>, live: Live): Promise<Remote<IndexApi>> => {
      if (opened?.live !== live) {
        const remote: Promise<Remote<IndexApi>> = r.index(name, opts);
        const mine = { live, remote };
        opened = mine;
        remote.catch(() => opened === mine && (opened = undefined)); // a failed open is tried again on the next call
      }
      return opened.remote;
    };
    const handle: Record<string, unknown> = { name };
    for (const m of INDEX_METHODS) {
      handle[m] = (...args: unknown[]) =>
        this.call(async (r, live) => ((await open(r, live))[m] as (...a: unknown[]) => Promise<unknown>)(...args));
    }
    return handle as unknown as IndexHandle;
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
    this.options = undefined; // in-memory model files are no longer needed for a restart
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
    (live.remote as Remote<WorkerProtocol> | undefined)?.[releaseProxy](); // undefined when the worker never spawned
    live.kill(err);
  }

  private async call<T>(fn: (r: Remote<WorkerProtocol>, live: Live) => Promise<T> | T): Promise<T> {
    if (this.disposed || !this.options) throw new HpdError('DISPOSED', 'This embedder was disposed; create a new one.');
    if (!this.live || this.live.dead) {
      this.live = startWorker(this.spawn, this.options, this.baseUrl);
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

function startWorker(spawn: () => WorkerHost, options: EmbedderOptions, baseUrl: string | undefined): Live {
  installErrorHandler();
  // Only what can be cloned crosses: functions and the signal stay here.
  const {
    onProgress,
    signal: _signal,
    startTimeoutMs,
    stallTimeoutMs,
    debug,
    onDeviceLost: _lost,
    ...rest
  } = options as EmbedderOptions & Pick<EngineOptions, 'onDeviceLost'>;
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
  const remote = wrap<WorkerProtocol>(host.endpoint);
  let crash: (e: unknown) => void = () => {};
  const crashedP = new Promise<never>((_, reject) => (crash = reject));
  crashedP.catch(() => {});
  let started = false;
  let lastSeen = Date.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  let pinging = false;
  let handshake: ReturnType<typeof setTimeout> | undefined;
  const live: Live = {
    host,
    remote,
    pending: new Set(),
    dead: false,
    ready: undefined as never,
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
        timer = setInterval(
          () => {
            // Until the handshake answers, the start timeout is in charge.
            if (started && Date.now() - lastSeen > stallMs) {
              live.kill(
                new HpdError(
                  'WORKER_CRASHED',
                  `The embedding worker stopped answering (nothing for ${stallMs} ms; killed, e.g. out of memory?). Pending calls were rejected; the next call starts a fresh worker.`,
                ),
              );
              return;
            }
            if (pinging) return;
            pinging = true;
            remote
              .ping()
              .then(
                () => (lastSeen = Date.now()),
                () => {},
              )
              .finally(() => (pinging = false));
          },
          Math.max(10, Math.min(stallMs / 4, 5000)),
        );
        (timer as { unref?: () => void }).unref?.(); // the watchdog alone never keeps a Node process alive
      } else if (!want && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
  host.onCrash((why) => {
    // An error before the worker ever answered means its script did not load or start.
    live.kill(
      started
        ? new HpdError(
            'WORKER_CRASHED',
            `The embedding worker crashed (${why}). Pending calls were rejected; the next call starts a fresh worker.`,
          )
        : startFailed(host.url, why),
    );
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
  const workerOptions: WorkerEngineOptions = {
    ...rest,
    ...(debug?.capturePlacement ? { capturePlacement: true } : {}),
  };
  const progress = (p: LoadProgress) => {
    lastSeen = Date.now();
    onProgress?.(p);
  };
  const deviceLost = (why: string) =>
    live.kill(
      new HpdError(
        'DEVICE_LOST',
        `The WebGPU device was lost (${why}). Pending calls were rejected; the next call starts afresh (under device "auto", on wasm if WebGPU is gone).`,
      ),
    );
  live.ready = Promise.race([
    remote.init({ engine: workerOptions, ...(baseUrl ? { baseUrl } : {}) }, proxy(progress), proxy(deviceLost)),
    crashedP,
  ]);
  live.ready.catch(() => {});
  return live;
}

/** A Live whose worker never started: every call on it rejects with `err`. */
function deadLive(err: HpdError): Live {
  const ready = Promise.reject(err);
  ready.catch(() => {});
  const live: Live = {
    host: { endpoint: undefined as never, onCrash: () => {}, terminate: () => {} },
    remote: undefined as never,
    pending: new Set(),
    dead: true,
    deadError: err,
    ready,
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
  return new HpdError('ABORTED', `createEmbedder() was cancelled: ${why}. The worker was stopped.`, {
    cause: signal.reason,
  });
}

function crashed(e: unknown): unknown {
  return e instanceof HpdError && e.code === 'WORKER_CRASHED'
    ? e
    : new HpdError('WORKER_CRASHED', `The embedding worker crashed: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
}

function checkOptions(o: EmbedderOptions): void {
  if (!o || typeof o !== 'object')
    throw new InvalidInputError('createEmbedder() needs an options object with a model.');
  if (o.model === undefined || o.model === null || o.model === '')
    throw new InvalidInputError(
      'createEmbedder(): `model` is required (a bundle URL, a Hugging Face repo id, or { files }).',
    );
  if (o.device !== undefined && !['auto', 'webgpu', 'wasm'].includes(o.device))
    throw new InvalidInputError(`device must be "auto", "webgpu" or "wasm", got "${String(o.device)}".`);
  for (const key of ['startTimeoutMs', 'stallTimeoutMs'] as const) {
    const v = o[key];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 2 ** 31 - 1))
      throw new InvalidInputError(`${key} must be a positive number of milliseconds, got ${String(v)}.`);
  }
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal))
    throw new InvalidInputError('signal must be an AbortSignal.');
}
