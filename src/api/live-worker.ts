// One spawned worker seen from the page: the start handshake (WORKER_START_FAILED), the heartbeat watchdog and crash
// detection (WORKER_CRASHED), device loss (DEVICE_LOST); Embedder replaces a dead one on its next call.
import { proxy, wrap, type Remote } from 'comlink';
import type { EngineOptions } from '../engine/engine.js';
import { HpdError } from '../errors.js';
import type { LoadProgress } from '../model/progress.js';
import type { Ready, WorkerEngineOptions, WorkerProtocol } from '../protocol/messages.js';
import { installErrorHandler } from '../protocol/transfer.js';
import type { WorkerHost } from './host.js';
import type { EmbedderOptions } from './options.js';

export interface Live {
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

const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_STALL_TIMEOUT_MS = 120_000;

export function startWorker(spawn: () => WorkerHost, options: EmbedderOptions): Live {
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
  live.ready = Promise.race([remote.init({ engine: workerOptions }, proxy(progress), proxy(deviceLost)), crashedP]);
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

export function aborted(signal: AbortSignal): HpdError {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  const why = reason?.name === 'TimeoutError' ? 'it timed out' : reason?.message ? reason.message : 'it was aborted';
  return new HpdError('ABORTED', `createEmbedder() was cancelled: ${why}. The worker was stopped.`, {
    cause: signal.reason,
  });
}

export function crashed(e: unknown): unknown {
  return e instanceof HpdError && e.code === 'WORKER_CRASHED'
    ? e
    : new HpdError('WORKER_CRASHED', `The embedding worker crashed: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
}
