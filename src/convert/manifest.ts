import type { PoolingMode } from './st-layout.js';
import type { WeightDtype } from './weight-dtype.js';

export const BUNDLE_FORMAT = 'hpd-embed/1';
export const MANIFEST_FILE = 'hpd.json';

export interface BundleFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** hpd.json: everything the engine needs to run a compiled model and nothing it can derive. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  name: string;
  source?: { repo: string; revision: string };
  dim: number;
  maxTokens: number;
  pooling: PoolingMode | PoolingMode[];
  normalized: true;
  dtype: WeightDtype;
  /** Weights are stored in `dtype` but computed in f32, so no adapter feature (e.g. `shader-f16`) is needed. */
  compute: { precision: 'fp32'; requiresShaderF16: boolean };
  params: number;
  files: { model: BundleFile; tokenizer: BundleFile; tokenizerConfig?: BundleFile };
}
