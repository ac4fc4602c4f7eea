// `hpd-embed/compat` in Node (the package's "node" condition): the same API over the Node createEmbedder.
import { createEmbedder } from '../node/create-embedder.js';
import { compatPipeline, type CompatEnv } from './pipeline.js';

/** Remote models on, local models under ./models/ (relative to the working directory). */
export const env: CompatEnv = { allowRemoteModels: true, localModelPath: './models/' };

/** `device: 'cpu'` is Node's CPU path: onnxruntime-node when installed, else wasm (there is no WebGPU in Node). */
export const pipeline = compatPipeline(createEmbedder, env, 'auto');

export type { CompatEnv, ExtractOptions, FeatureExtractionPipeline, PipelineOptions } from './pipeline.js';
export type { CompatDevice, CompatDtype } from './names.js';
export type { CompatProgress } from './progress.js';
export { EmbeddingTensor } from './tensor.js';
