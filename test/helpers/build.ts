// loadModel's `build` for tests: the engine's buildBundle with onnxruntime-web's wasm computing the probes.
import { buildBundle } from '../../src/engine/build-bundle.js';
import type { BuildBundle } from '../../src/model/load.js';
import { wasmProbes } from '../../src/node/probe-runtime.js';

export const wasmBuild: BuildBundle = async (src, options) =>
  buildBundle(src, { ...options, probes: await wasmProbes() });
