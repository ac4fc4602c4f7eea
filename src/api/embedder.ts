import { releaseProxy, transfer, type Remote } from 'comlink';
import type { DeviceInfo } from '../engine/device.js';
import type { EmbedResult, ModelInfo } from '../engine/engine.js';
import { HpdError, InvalidInputError } from '../errors.js';
import type { CacheEntry } from '../model/cache.js';
import type { IndexPersistence } from '../search/index-store.js';
import {
  INDEX_METHODS,
  type IndexApi,
  type IndexImportOptions,
  type IndexOptions,
  type IndexSource,
  type Ready,
  type WorkerProtocol,
} from '../protocol/messages.js';
import { indexCallArgs } from '../protocol/index-args.js';
import { importToWire } from '../protocol/index-import.js';
import { checkIndexName, checkIndexOptions, validateTexts } from '../protocol/validate.js';
import type { WorkerHost } from './host.js';
import { aborted, crashed, startWorker, type Live } from './live-worker.js';
import { checkOptions, type EmbedderOptions } from './options.js';

export type { DebugOptions, EmbedderOptions, LifecycleOptions } from './options.js';

/** postMessage's DataCloneError for a value indexCallArgs let through (a Proxy, say), as the typed error it stands for. */
function cloneFailure(method: string, e: unknown): unknown {
  if ((e as { name?: unknown } | null)?.name !== 'DataCloneError') return e;
  return new InvalidInputError(
    `${method}(): an argument cannot be sent to the worker (${(e as Error).message}); pass plain data.`,
    { cause: e },
  );
}

/** A named index in the worker (see IndexApi in src/protocol/messages.ts): the worker's object, seen from the page. */
export type IndexHandle = IndexApi & { readonly name: string };

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
    // Every call goes over the worker's own port, posted synchronously when the worker is ready, so calls reach the
    // worker (and its per-name queue) in the order they were issued, across handles too. The options are checked
    // against the open index until one call of this handle on this worker has passed the check (or a new worker).
    let checked: Live | undefined;
    const handle: Record<string, unknown> = { name };
    for (const m of INDEX_METHODS) {
      handle[m] = (...given: unknown[]) => {
        // Checked and copied here, before the call is queued: a typed error naming the field, never a DataCloneError.
        let sent: unknown[];
        let progressDone: Promise<void> | undefined;
        try {
          if (m === 'import') {
            // A Response body and onProgress cross as a transferred stream and port, posted with the call (in order).
            const wire = importToWire(given[0] as IndexSource, given[1] as IndexImportOptions | undefined);
            sent = transfer(wire.args, wire.transfer);
            progressDone = wire.progressDone;
          } else sent = indexCallArgs(m, given);
        } catch (e) {
          return Promise.reject(e);
        }
        return this.call((r, live) => {
          const check = checked !== live;
          const call = (r.indexCall as (...a: unknown[]) => Promise<unknown>)(name, opts, check, m, sent);
          if (check) {
            const pass = () => void (checked = live);
            call.then(pass, (e: unknown) => (e as { code?: unknown })?.code !== 'INDEX_OPTIONS_CONFLICT' && pass());
          }
          return progressDone ? call.then(async (r) => (await progressDone, r)) : call;
        }).catch((e: unknown) => {
          throw cloneFailure(m, e);
        });
      };
    }
    return handle as unknown as IndexHandle;
  }

  /** What saved indexes live in: 'opfs' or 'indexeddb' in browsers, 'folder' in Node. */
  persistence(): Promise<IndexPersistence> {
    return this.call((r) => r.persistence());
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
