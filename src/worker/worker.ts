// The browser worker entry: onnxruntime-web's native WebGPU EP build (wasm included), Cache Storage, IndexedDB.
import * as ort from 'onnxruntime-web/webgpu';
import type { Platform } from '../engine/engine.js';
import { cacheStorageCache, noCache } from '../model/cache.js';
import type { IndexStore } from '../search/index-store.js';
import { WorkerApi, exposeWorkerApi } from './worker-api.js';

const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
const platform: Platform = {
  ort,
  cache: typeof caches === 'undefined' ? noCache() : cacheStorageCache(),
  fetch: (url, init) => fetch(url, init),
  gpu: gpu ? { requestAdapter: () => gpu.requestAdapter() } : {},
  // Threads need SharedArrayBuffer, i.e. a cross-origin isolated page (COOP + COEP).
  wasmThreads: globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1,
};

let store: Promise<IndexStore> | undefined;
// OPFS where the browser has it (files, no structured-clone of large buffers), IndexedDB otherwise; loaded on the
// first save or load, so a worker that only embeds never fetches the store code.
const openStore = async (): Promise<IndexStore> => {
  const [{ OpfsIndexStore }, { IdbIndexStore }] = await Promise.all([
    import('../search/persist-opfs.js'),
    import('../search/persist-idb.js'),
  ]);
  return OpfsIndexStore.open().catch(() => IdbIndexStore.open());
};
exposeWorkerApi(new WorkerApi(platform, () => (store ??= openStore())));
