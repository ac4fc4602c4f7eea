// A strict TypeScript consumer with skipLibCheck: false: every published entry's .d.ts must compile as installed.
import { createEmbedder, type DeviceInfo, type Embedder } from 'hpd-embed';
import { env, pipeline, type FeatureExtractionPipeline } from 'hpd-embed/compat';
import * as convert from 'hpd-embed/convert';
import * as evaluation from 'hpd-embed/eval';
import { createEmbedder as createNodeEmbedder } from 'hpd-embed/node';
import { CosineIndex } from 'hpd-embed/search';

export async function browserStyle(): Promise<DeviceInfo> {
  const embedder: Embedder = await createEmbedder({ model: 'owner/name', device: 'auto' });
  const vectors: Float32Array = await embedder.embed(['a', 'b']);
  const index = new CosineIndex({ dim: embedder.dim });
  index.addVectors(['a', 'b'], vectors);
  return embedder.device;
}

export async function transformersStyle(): Promise<number[][]> {
  env.allowRemoteModels = false;
  const extractor: FeatureExtractionPipeline = await pipeline('feature-extraction', 'hpd', {
    device: 'cpu',
    dtype: 'q8',
  });
  const out = await extractor(['a'], { pooling: 'mean', normalize: true });
  const dims: number[] = out.dims;
  return dims.length === 2 ? out.tolist() : [];
}

export const entries: unknown[] = [createNodeEmbedder, convert, evaluation];
