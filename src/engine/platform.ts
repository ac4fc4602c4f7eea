// What the engine needs from its host (a browser worker or Node), in its own file so session.ts and engine.ts share it
// without an import cycle.
import type { ModelCache } from '../model/cache.js';
import type { FetchLike } from '../model/fetch.js';
import type { AdapterProbe } from './device.js';
import type { Ort } from './ort-types.js';

/** What differs between a browser worker and Node: the ORT build, storage, network and GPU access. */
export interface Platform {
  ort: Ort;
  cache: ModelCache;
  fetch: FetchLike;
  gpu: AdapterProbe;
  /** Threads the CPU path may use (wasm: 1 unless crossOriginIsolated in a browser). */
  wasmThreads: number;
  /** A native CPU runtime (onnxruntime-node) that replaces wasm for the non-WebGPU path under device 'auto'. */
  nativeCpu?: Ort;
  /** Why there is no native CPU runtime and how to add one (Node only); appended to device.reason on wasm. */
  nativeCpuMissing?: string;
}
