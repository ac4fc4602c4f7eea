// The CPU runtime the Node tools (CLI convert, models fetch, the demo's stand-in) record golden probes with.
import type { ProbeRuntime } from '../engine/build-bundle.js';

/** onnxruntime-web's wasm build (its Node entry), one thread: the same runtime everywhere, no native install needed. */
export async function wasmProbes(): Promise<ProbeRuntime> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  return { ort, ep: 'wasm' };
}
