import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort, workerData } from 'node:worker_threads';
import { installErrorTransfer } from '../worker/error-transfer.js';
import { WorkerApi } from '../worker/worker-api.js';
import { nodePlatform, type NodePlatformOptions } from './platform.js';

// The Node worker_threads entry: the same WorkerApi the browser worker exposes.
if (!parentPort) throw new Error('node-worker must run in a worker thread');
installErrorTransfer();
const { platform, store } = await nodePlatform(workerData as NodePlatformOptions);
expose(new WorkerApi(platform, async () => store), nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]));
