// createEmbedder's options (browser and Node) and their checks, run before any worker starts.
import type { EngineOptions } from '../engine/engine.js';
import { InvalidInputError } from '../errors.js';

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

export function checkOptions(o: EmbedderOptions): void {
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
