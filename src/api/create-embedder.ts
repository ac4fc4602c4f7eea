import { HpdError } from '../errors.js';
import { parseRepoId } from '../model/hub.js';
import { Embedder, type EmbedderOptions, type WorkerHost } from './embedder.js';

export interface BrowserEmbedderOptions extends EmbedderOptions {
  /**
   * Starts the worker yourself (a custom bundler setup, an extension's packaged file): it must run
   * hpd-embed's worker entry (`hpd-embed/worker`). Default: a module worker bundled beside this file.
   */
  worker?: () => Worker;
}

/** Wraps a DedicatedWorker: an uncaught error in it counts as a crash. */
export function browserHost(worker: Worker, url?: string): WorkerHost {
  let crashCb: ((why: string) => void) | undefined;
  let crashed: string | undefined;
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    if (crashed !== undefined) return;
    crashed = e.message || 'uncaught error in the worker';
    crashCb?.(crashed);
  });
  return {
    endpoint: worker,
    onCrash: (cb) => {
      crashCb = cb;
      if (crashed !== undefined) cb(crashed);
    },
    terminate: () => worker.terminate(),
    ...(url ? { url } : {}),
  };
}

// Only the literal `new Worker(new URL('…', import.meta.url))` form below is bundled by Vite and webpack, so the
// error messages name the worker by how it is resolved rather than computing a second URL.
const DEFAULT_WORKER_LABEL = `hpd-embed's worker, ../worker/worker.js resolved against ${import.meta.url}`;

function defaultWorker(): Worker {
  return new Worker(new URL('../worker/worker.js', import.meta.url), { type: 'module', name: 'hpd-embed' });
}

/**
 * Starts a Web Worker, loads the model in it (fetching, compiling a checkpoint if needed, caching)
 * and resolves with a ready Embedder.
 */
export function createEmbedder(options: BrowserEmbedderOptions): Promise<Embedder> {
  if (!options || typeof options !== 'object') return Promise.reject(new HpdError('INVALID_INPUT', 'createEmbedder() needs an options object with a model.'));
  const { worker, ...rest } = options;
  // Relative bundle URLs mean "relative to this page", not to the worker script.
  const model = typeof rest.model === 'string' && rest.model !== '' && !parseRepoId(rest.model) ? new URL(rest.model, globalThis.location?.href).href : rest.model;
  return Embedder.start(() => (worker ? browserHost(worker()) : browserHost(defaultWorker(), DEFAULT_WORKER_LABEL)), { ...rest, model });
}
