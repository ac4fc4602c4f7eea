import { ConvertError } from '../errors.js';
import { parseJsonBytes } from '../bundle/json.js';
import { buildSentenceGraph } from './bert-graph.js';
import {
  BUNDLE_FORMAT,
  MANIFEST_FILE,
  checkDtype,
  type BundleFile,
  type BundleManifest,
  type TeacherProjectionInfo,
  type WeightDtype,
} from '../bundle/manifest.js';
import { readSafetensors } from './safetensors.js';
import { encodeModel } from './onnx-writer.js';
import { sha256Hex } from '../bundle/sha256.js';
import type { FileSource } from '../bundle/source.js';
import { readOptionalJson } from './read-file.js';
import { readLayout } from './st-layout.js';
import { numel } from './tensor.js';
import { readCheckpointWeights, type WeightFormat } from './weights.js';
import { parseVocab, wordpieceTokenizerJson } from './wordpiece-tokenizer.js';

export type CompileStage = 'layout' | 'weights' | 'graph' | 'encode' | 'hash' | 'done';

export interface CompileProgress {
  stage: CompileStage;
  /** 0..1 across the whole compile. */
  fraction: number;
}

export interface CompileOptions {
  dtype?: WeightDtype;
  /** Manifest name; defaults to the source label's last segment. */
  name?: string;
  source?: { repo: string; revision: string };
  /** Which weight file to read when both exist (default: safetensors). */
  prefer?: WeightFormat;
  onProgress?: (p: CompileProgress) => void;
}

export interface CompiledBundle {
  manifest: BundleManifest;
  /** Relative path → bytes: model.onnx, tokenizer.json, [tokenizer_config.json], hpd.json. */
  files: Map<string, Uint8Array>;
  /** Parameters by tensor count, and wall time, for summaries. */
  stats: { params: number; millis: number; weightFiles: string[] };
}

/** config.json's flag on a checkpoint whose weights are random (`hpd-embed fixture` writes it); hpd.json carries it on. */
export const RANDOM_WEIGHTS_KEY = 'hpd_embed_random_weights';

const STAGE_AT: Record<CompileStage, number> = {
  layout: 0,
  weights: 0.05,
  graph: 0.45,
  encode: 0.75,
  hash: 0.9,
  done: 1,
};

/** Compiles a sentence-transformers BERT checkpoint into a model bundle, entirely in memory. */
export async function compileCheckpoint(src: FileSource, options: CompileOptions = {}): Promise<CompiledBundle> {
  const started = performance.now();
  const dtype = checkDtype(options.dtype ?? 'fp32');
  const report = (stage: CompileStage) => options.onProgress?.({ stage, fraction: STAGE_AT[stage] });

  report('layout');
  const layout = await readLayout(src);
  const tokenizer = await readTokenizer(src);
  const tokenizerConfig = await src.read('tokenizer_config.json');
  const randomWeights =
    (await readOptionalJson<Record<string, unknown>>(src, 'config.json'))?.[RANDOM_WEIGHTS_KEY] === true;

  report('weights');
  const weights = await readCheckpointWeights(src, layout, options.prefer);
  let params =
    numel(weights.wordEmbeddings.shape) +
    numel(weights.positionEmbeddings.shape) +
    numel(weights.tokenTypeEmbeddings.shape) +
    2 * layout.bert.hiddenSize;
  for (const L of weights.layers) {
    for (const lin of [L.query, L.key, L.value, L.attnOut, L.ffnIn, L.ffnOut])
      params += lin.weight.data.length + (lin.bias?.data.length ?? 0);
    params += 4 * layout.bert.hiddenSize;
  }
  for (const d of weights.dense) params += d.weight.data.length + (d.bias?.data.length ?? 0);

  report('graph');
  const graph = buildSentenceGraph(layout, weights, dtype);
  graph.metadata = {
    'hpd.dim': String(layout.outputDim),
    'hpd.dtype': dtype,
    'hpd.max_tokens': String(layout.maxTokens),
  };
  report('encode');
  const model = encodeModel(graph);

  const projection = await readCheckpointProjection(src, layout.outputDim);

  report('hash');
  const files = new Map<string, Uint8Array>([
    ['model.onnx', model],
    ['tokenizer.json', tokenizer],
  ]);
  if (tokenizerConfig) files.set('tokenizer_config.json', tokenizerConfig);
  if (projection) files.set(TEACHER_PROJECTION_FILE, projection.bytes);
  const entry = async (path: string): Promise<BundleFile> => {
    const bytes = files.get(path)!;
    return { path, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  };
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    name: options.name ?? src.label.split(/[\\/]/).filter(Boolean).pop() ?? 'model',
    ...(options.source ? { source: options.source } : {}),
    dim: layout.outputDim,
    maxTokens: layout.maxTokens,
    pooling: layout.pooling.length === 1 ? layout.pooling[0] : layout.pooling,
    normalized: true,
    dtype,
    compute: { precision: 'fp32', requiresShaderF16: false },
    params,
    files: {
      model: await entry('model.onnx'),
      tokenizer: await entry('tokenizer.json'),
      ...(tokenizerConfig ? { tokenizerConfig: await entry('tokenizer_config.json') } : {}),
    },
    ...(randomWeights ? { randomWeights: true } : {}),
    ...(projection ? { teacherProjection: { file: await entry(TEACHER_PROJECTION_FILE), ...projection.info } } : {}),
  };
  files.set(MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  report('done');
  return { manifest, files, stats: { params, millis: performance.now() - started, weightFiles: weights.files } };
}

const TEACHER_PROJECTION_FILE = 'teacher_projection.f32';

/** teacher_projection.safetensors (written by `python -m distill`): components [d, D] and mean [D] → bundle bytes + info. */
async function readCheckpointProjection(
  src: FileSource,
  outputDim: number,
): Promise<{ bytes: Uint8Array; info: Omit<TeacherProjectionInfo, 'file'> } | undefined> {
  const raw = await src.read('teacher_projection.safetensors');
  if (!raw) return undefined;
  const label = `${src.label}/teacher_projection.safetensors`;
  const t = readSafetensors(raw, label);
  const c = t.get('components'),
    mean = t.get('mean');
  if (!c || !mean || c.shape.length !== 2 || mean.shape.length !== 1 || mean.shape[0] !== c.shape[1]) {
    throw new ConvertError('CHECKPOINT_INVALID', `${label}: expected tensors "components" [d, D] and "mean" [D].`);
  }
  const [d, D] = c.shape;
  if (d !== outputDim)
    throw new ConvertError(
      'DIM_MISMATCH',
      `${label}: the projection maps to ${d} dimensions but the model outputs ${outputDim}.`,
    );
  const meta = safetensorsMetadata(raw);
  const all = new Float32Array(d * D + D);
  all.set(c.data);
  all.set(mean.data, d * D);
  return {
    bytes: new Uint8Array(all.buffer),
    info: {
      teacherDim: D,
      dim: d,
      center: meta.center === 'true',
      // `python -m distill --normalize` (its default) fitted the PCA on unit-length teacher vectors.
      normalizeInput: meta.normalized === 'true',
      ...(meta.teacher ? { teacher: meta.teacher } : {}),
    },
  };
}

/** A safetensors header's __metadata__ (string map), or {} (the file was already validated by readSafetensors). */
function safetensorsMetadata(raw: Uint8Array): Record<string, string> {
  const n = Number(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(0, true));
  const header = parseJsonBytes<{ __metadata__?: Record<string, string> }>(
    raw.subarray(8, 8 + n),
    'the teacher projection header',
    'WEIGHTS_CORRUPT',
    ConvertError,
  );
  return header.__metadata__ ?? {};
}

/** tokenizer.json as shipped, or built from vocab.txt when only that exists. */
async function readTokenizer(src: FileSource): Promise<Uint8Array> {
  const json = await src.read('tokenizer.json');
  if (json) return json;
  const vocab = await src.read('vocab.txt');
  if (!vocab) {
    throw new ConvertError(
      'CHECKPOINT_MISSING_FILE',
      `${src.label}: missing tokenizer.json (and no vocab.txt to build one from).`,
    );
  }
  const cfg = await readOptionalJson<{ do_lower_case?: boolean }>(src, 'tokenizer_config.json');
  return new TextEncoder().encode(
    wordpieceTokenizerJson(parseVocab(new TextDecoder().decode(vocab)), cfg?.do_lower_case ?? true),
  );
}
