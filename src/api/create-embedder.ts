import { InvalidInputError } from '../errors.js';
import { Embedder, type EmbedderOptions } from './embedder.js';
import { crashLatch, type WorkerHost } from './host.js';
import { folderUrl, resolveModelSpec, type ModelSpec } from '../model/spec.js';

export interface BrowserEmbedderOptions extends EmbedderOptions {
  /**
   * Starts the worker yourself (a custom bundler setup, an extension's packaged file): it must run
   * hpd-embed's worker entry (`hpd-embed/worker`). Default: a module worker bundled beside this file.
   */
  worker?: () => Worker;
}

/** Wraps a DedicatedWorker: an uncaught error in it counts as a crash. */
function browserHost(worker: Worker, url?: string): WorkerHost {
  const latch = crashLatch();
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    latch.fire(e.message || 'uncaught error in the worker');
  });
  return {
    endpoint: worker,
    onCrash: latch.onCrash,
    terminate: () => {
      latch.stop();
      worker.terminate();
    },
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
  if (!options || typeof options !== 'object')
    return Promise.reject(new InvalidInputError('createEmbedder() needs an options object with a model.'));
  const { worker, ...rest } = options;
  let model: ModelSpec;
  try {
    // A path means "relative to this page", not to the worker script: resolved here, before it crosses.
    model = resolveModelSpec(rest.model, (path) => folderUrl(path, globalThis.location?.href));
  } catch (e) {
    return Promise.reject(e);
  }
  return Embedder.start(() => (worker ? browserHost(worker()) : browserHost(defaultWorker(), DEFAULT_WORKER_LABEL)), {
    ...rest,
    model,
  });
}
