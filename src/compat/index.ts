// `hpd-embed/compat` in browsers: transformers.js-shaped `pipeline` and `env` over createEmbedder (re-exports + binding).
import { createEmbedder } from '../api/create-embedder.js';
import { compatPipeline, type CompatEnv } from './pipeline.js';

/** transformers.js' defaults: remote models on, local models under /models/. */
export const env: CompatEnv = { allowRemoteModels: true, localModelPath: '/models/' };

/** `device: 'cpu'` runs on wasm. */
export const pipeline = compatPipeline(createEmbedder, env, 'wasm');

export type { CompatEnv, ExtractOptions, FeatureExtractionPipeline, PipelineOptions } from './pipeline.js';
export type { CompatDevice, CompatDtype } from './names.js';
export type { CompatProgress } from './progress.js';
export { EmbeddingTensor } from './tensor.js';
