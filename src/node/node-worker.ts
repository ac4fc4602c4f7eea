import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';
import { WorkerApi, exposeWorkerApi } from '../worker/worker-api.js';
import { nodePlatform, type NodePlatformOptions } from './platform.js';

// The Node worker_threads entry: the same WorkerApi the browser worker exposes.
if (!parentPort)
  throw new InvalidInputError(
    'hpd-embed/node-worker must run in a worker thread (start it with startNodeWorker or new Worker), not be imported on the main thread.',
  );
const { platform, store } = await nodePlatform(workerData as NodePlatformOptions);
exposeWorkerApi(
  new WorkerApi(platform, async () => store),
  nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]),
);
