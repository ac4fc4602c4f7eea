import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Embedder, type EmbedderOptions } from '../api/embedder.js';
import { crashLatch, type WorkerHost } from '../api/host.js';
import { resolveModelSpec, type ModelSpec } from '../model/spec.js';
import type { NodePlatformOptions } from './platform.js';

export interface NodeEmbedderOptions extends EmbedderOptions, NodePlatformOptions {
  /** Start the worker yourself (e.g. with extra execArgv); it must run hpd-embed's node-worker entry. */
  worker?: () => Worker;
}

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './node-worker.ts' : './node-worker.js', import.meta.url);

/** Starts the default worker thread; run from TypeScript sources (tests, dev), it registers tsx first. */
export function startNodeWorker(data: NodePlatformOptions): Worker {
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(fileURLToPath(WORKER_URL), { workerData: data });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
    /index\.cjs$/,
    'index.mjs',
  );
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** Wraps a worker_threads Worker as a WorkerHost: crash = 'error' or an unexpected 'exit'. */
function nodeHost(worker: Worker, url?: string): WorkerHost {
  const latch = crashLatch();
  worker.on('error', (e) => latch.fire(e.message));
  worker.on('exit', (code) => latch.fire(`worker thread exited with code ${code}`));
  worker.unref(); // an idle embedder never keeps the process alive
  return {
    endpoint: nodeEndpoint(worker as unknown as Parameters<typeof nodeEndpoint>[0]),
    onCrash: latch.onCrash,
    terminate: () => {
      latch.stop();
      void worker.terminate();
    },
    ...(url ? { url } : {}),
  };
}

/** Node: the same API as the browser's createEmbedder, with the engine in a worker thread. */
export function createEmbedder(options: NodeEmbedderOptions): Promise<Embedder> {
  const { cacheDir, indexDir, threads, backend, worker, ...rest } = options;
  const data: NodePlatformOptions = {
    ...(cacheDir ? { cacheDir } : {}),
    ...(indexDir ? { indexDir } : {}),
    ...(threads ? { threads } : {}),
    ...(backend ? { backend } : {}),
  };
  let model: ModelSpec;
  try {
    // The one rule of model/spec.ts: `owner/name` is a Hub id even when such a folder exists; paths start ./ ../ or /.
    model = resolveModelSpec(rest.model, (path) => pathToFileURL(`${resolve(path)}/`).href);
  } catch (e) {
    return Promise.reject(e);
  }
  return Embedder.start(() => (worker ? nodeHost(worker()) : nodeHost(startNodeWorker(data), WORKER_URL.href)), {
    ...rest,
    model,
  });
}
