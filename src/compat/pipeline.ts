// transformers.js' pipeline('feature-extraction', …) and env, mapped onto createEmbedder: no logic beyond the mapping.
import type { Embedder } from '../api/embedder.js';
import type { EmbedderOptions } from '../api/options.js';
import type { DeviceRequest } from '../engine/device.js';
import { InvalidInputError } from '../errors.js';
import { parseRepoId } from '../model/hub.js';
import { deviceFor, dtypeFor, type CompatDevice, type CompatDtype } from './names.js';
import { progressForwarder, type CompatProgress } from './progress.js';
import { EmbeddingTensor } from './tensor.js';

/** The part of transformers.js' `env` that maps onto model resolution. */
export interface CompatEnv {
  /** false: a model is read only from `${localModelPath}${model}/` (default true: a Hub repo id is fetched). */
  allowRemoteModels: boolean;
  /** The folder (a URL in a browser, a path in Node) local models live in. */
  localModelPath: string;
  /** The Hugging Face host (our `hubUrl`); default https://huggingface.co. */
  remoteHost?: string;
  /** Node only: the model cache folder (our `cacheDir`). */
  cacheDir?: string;
}

export interface PipelineOptions {
  /** 'cpu' is the CPU path everywhere (wasm in a browser, onnxruntime-node in Node); default 'auto'. */
  device?: CompatDevice;
  /** transformers.js' names; see README for what each maps to. */
  dtype?: CompatDtype;
  /** A Hub branch, tag or commit (our `owner/name@revision`). */
  revision?: string;
  /** Download events, at most one 'progress' per file per 100 ms, then 'ready'. */
  progress_callback?: (info: CompatProgress) => void;
}

export interface ExtractOptions {
  /** The model pools inside its graph (mean for HPD): 'mean' or omitted. */
  pooling?: 'mean';
  /** Vectors are always unit length (cosine similarity is the dot product either way). */
  normalize?: boolean;
}

/** What `pipeline('feature-extraction', …)` resolves to: call it with a text or texts. */
export interface FeatureExtractionPipeline {
  (texts: string | readonly string[], options?: ExtractOptions): Promise<EmbeddingTensor>;
  readonly task: 'feature-extraction';
  readonly model: string;
  /** The underlying hpd-embed handle (indexes, device info). */
  readonly embedder: Embedder;
  dispose(): Promise<void>;
}

/** createEmbedder of one environment (browser or Node). */
export type EmbedderFactory = (options: EmbedderOptions & { cacheDir?: string }) => Promise<Embedder>;

/** `model` as createEmbedder's spec: a local folder when remote models are off, else a repo id (with its revision). */
export function modelSpec(model: string, revision: string | undefined, env: CompatEnv): string {
  if (!env.allowRemoteModels) {
    const base = env.localModelPath.endsWith('/') ? env.localModelPath : `${env.localModelPath}/`;
    // A path must not read as a repo id ('models/x' would): make it relative explicitly.
    const local = /^(\.|\/|[a-z][a-z\d+.-]*:\/\/)/i.test(base) ? base : `./${base}`;
    return `${local}${model}/`;
  }
  return revision !== undefined && !model.includes('@') && parseRepoId(model) ? `${model}@${revision}` : model;
}

/** A `pipeline` bound to one environment's createEmbedder, `env`, and the device request its CPU path needs. */
export function compatPipeline(create: EmbedderFactory, env: CompatEnv, cpu: DeviceRequest) {
  return async function pipeline(
    task: 'feature-extraction' | 'embeddings',
    model: string,
    options: PipelineOptions = {},
  ): Promise<FeatureExtractionPipeline> {
    if (task !== 'feature-extraction' && task !== 'embeddings')
      throw new InvalidInputError(`hpd-embed/compat runs only the 'feature-extraction' task, not "${String(task)}".`);
    if (typeof model !== 'string' || model === '')
      throw new InvalidInputError(
        'pipeline(): model must be a Hub repo id, a URL or (with local models) a folder name.',
      );
    const device = deviceFor(options.device, cpu);
    const dtype = dtypeFor(options.dtype);
    const progress = options.progress_callback;
    const embedder = await create({
      model: modelSpec(model, options.revision, env),
      device,
      ...(dtype ? { dtype } : {}),
      ...(env.remoteHost ? { hubUrl: env.remoteHost } : {}),
      ...(env.cacheDir ? { cacheDir: env.cacheDir } : {}),
      ...(progress ? { onProgress: progressForwarder(progress, model) } : {}),
    });
    progress?.({ status: 'ready', task: 'feature-extraction', model });
    const extract = async (texts: string | readonly string[], o: ExtractOptions = {}) => {
      if (o.pooling !== undefined && o.pooling !== 'mean')
        throw new InvalidInputError(
          `pooling "${String(o.pooling)}" is not available: hpd-embed returns the model's sentence embeddings (pooling 'mean').`,
        );
      const list = typeof texts === 'string' ? [texts] : texts;
      return new EmbeddingTensor(await embedder.embed(list), embedder.dim);
    };
    return Object.assign(extract, {
      task: 'feature-extraction' as const,
      model,
      embedder,
      dispose: () => embedder.dispose(),
    });
  };
}
