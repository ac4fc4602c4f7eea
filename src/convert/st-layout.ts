import { ConvertError } from '../errors.js';
import type { PoolingMode } from '../bundle/manifest.js';
import { unsafePathReason } from '../bundle/path.js';
import type { FileSource } from '../bundle/source.js';
import { readJson, readOptionalJson } from './read-file.js';

/** The BERT encoder's hyper-parameters, from config.json. */
export interface BertConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: 'gelu';
}

export type { PoolingMode };

interface DenseModule {
  path: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  activation: 'tanh' | 'identity';
}

/** Everything about a sentence-transformers checkpoint except its weights. */
export interface CheckpointLayout {
  bert: BertConfig;
  /** Pooling modes in sentence-transformers' concatenation order (cls, max, mean, mean_sqrt_len). */
  pooling: PoolingMode[];
  dense: DenseModule[];
  normalize: boolean;
  maxTokens: number;
  outputDim: number;
}

interface HfConfig {
  model_type?: string;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  vocab_size?: number;
  max_position_embeddings?: number;
  type_vocab_size?: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  position_embedding_type?: string;
}

interface StModule {
  idx?: number;
  name?: string;
  path: string;
  type: string;
}

const POOLING_FLAGS: [string, PoolingMode][] = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len'],
];
const UNSUPPORTED_POOLING = ['pooling_mode_weightedmean_tokens', 'pooling_mode_lasttoken'];

const ACTIVATIONS: Record<string, DenseModule['activation']> = {
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.linear.Identity': 'identity',
};

const invalid = (src: FileSource, what: string) => new ConvertError('CHECKPOINT_INVALID', `${src.label}: ${what}`);

/** Reads modules.json and the per-module configs of a sentence-transformers checkpoint. */
export async function readLayout(src: FileSource): Promise<CheckpointLayout> {
  const config = await readJson<HfConfig>(src, 'config.json', 'the encoder configuration');
  const modules = await readJson<StModule[]>(src, 'modules.json', 'the sentence-transformers module list');
  if (!Array.isArray(modules) || modules.length === 0) throw invalid(src, 'modules.json lists no modules.');
  if (modules.length > 64)
    throw invalid(src, `modules.json lists ${modules.length} modules; a sentence encoder has a handful.`);
  for (const m of modules) {
    if (!m || typeof m !== 'object' || typeof m.type !== 'string')
      throw invalid(src, 'every modules.json entry needs a type and a path.');
    // A served checkpoint names these folders: they must stay inside it (no file: URLs, other hosts or "..").
    const unsafe = unsafePathReason(m.path, true);
    if (unsafe)
      throw invalid(
        src,
        `modules.json path ${JSON.stringify(m.path)} is refused: ${unsafe}; module paths must be relative folders inside the checkpoint.`,
      );
  }

  const bert = readBertConfig(src, config);
  const transformer = modules[0];
  if (!transformer.type.endsWith('models.Transformer')) {
    throw invalid(src, `the first module must be a Transformer, found ${transformer.type}.`);
  }
  const stConfig = await readOptionalJson<{ max_seq_length?: number }>(src, 'sentence_bert_config.json');
  const seq = stConfig?.max_seq_length ?? bert.maxPositions;
  if (!(typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 2))
    throw invalid(src, 'sentence_bert_config.json max_seq_length must be an integer ≥ 2.');
  const maxTokens = Math.min(seq, bert.maxPositions);

  let pooling: PoolingMode[] | undefined;
  const dense: DenseModule[] = [];
  let normalize = false;
  let width = bert.hiddenSize;
  for (const m of modules.slice(1)) {
    const kind = m.type.split('.').pop();
    if (kind === 'Pooling') {
      if (pooling) throw invalid(src, 'modules.json has more than one Pooling module.');
      pooling = await readPooling(src, m.path, bert.hiddenSize);
      width = bert.hiddenSize * pooling.length;
    } else if (kind === 'Dense') {
      if (!pooling) throw invalid(src, 'a Dense module comes before Pooling.');
      const d = await readDense(src, m.path);
      if (d.inFeatures !== width) {
        throw new ConvertError(
          'DIM_MISMATCH',
          `${src.label}: ${m.path} expects ${d.inFeatures} inputs but the previous module gives ${width}.`,
        );
      }
      dense.push(d);
      width = d.outFeatures;
    } else if (kind === 'Normalize') {
      normalize = true;
    } else {
      throw invalid(src, `module type ${m.type} is not supported (supported: Transformer, Pooling, Dense, Normalize).`);
    }
  }
  if (!pooling) throw invalid(src, 'modules.json has no Pooling module.');
  return { bert, pooling, dense, normalize, maxTokens, outputDim: width };
}

function readBertConfig(src: FileSource, c: HfConfig): BertConfig {
  if (c.model_type !== undefined && c.model_type !== 'bert') {
    throw invalid(
      src,
      `config.json model_type "${c.model_type}" is not supported; only BERT encoders (model_type "bert") compile.`,
    );
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw invalid(src, 'config.json must be a JSON object.');
  const need = (key: keyof HfConfig): number => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || !(v > 0))
      throw invalid(src, `config.json needs a positive integer ${key}.`);
    return v;
  };
  const act = c.hidden_act ?? 'gelu';
  if (act !== 'gelu') {
    throw new ConvertError(
      'UNSUPPORTED_ACTIVATION',
      `${src.label}: hidden_act "${act}" is not supported; only exact "gelu" is.`,
    );
  }
  if (c.position_embedding_type !== undefined && c.position_embedding_type !== 'absolute') {
    throw invalid(src, `position_embedding_type "${c.position_embedding_type}" is not supported; only "absolute" is.`);
  }
  const cfg: BertConfig = {
    hiddenSize: need('hidden_size'),
    numLayers: need('num_hidden_layers'),
    numHeads: need('num_attention_heads'),
    intermediateSize: need('intermediate_size'),
    vocabSize: need('vocab_size'),
    maxPositions: need('max_position_embeddings'),
    typeVocabSize: c.type_vocab_size ?? 2,
    layerNormEps: c.layer_norm_eps ?? 1e-12,
    hiddenAct: 'gelu',
  };
  if (!(Number.isSafeInteger(cfg.typeVocabSize) && cfg.typeVocabSize > 0))
    throw invalid(src, 'config.json type_vocab_size must be a positive integer.');
  // Every later size check derives from these, so they must describe a model that fits one ONNX file (2 GiB of f32).
  if (bertParams(cfg) * 4 > MAX_WEIGHT_BYTES) {
    throw invalid(
      src,
      `config.json describes ${bertParams(cfg)} parameters, more than a single ONNX file can hold (${MAX_WEIGHT_BYTES / 4}).`,
    );
  }
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new ConvertError(
      'DIM_MISMATCH',
      `${src.label}: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}.`,
    );
  }
  return cfg;
}

/** The ONNX protobuf limit: no compilable model has more f32 weight bytes than this. */
export const MAX_WEIGHT_BYTES = 2 ** 31;

/** Parameters of a BERT encoder with this config (embeddings, layers), as the weights reader expects them. */
export function bertParams(b: BertConfig): number {
  const H = b.hiddenSize,
    F = b.intermediateSize;
  return (
    (b.vocabSize + b.maxPositions + b.typeVocabSize + 2) * H +
    b.numLayers * (4 * H * H + 4 * H + 2 * H * F + F + H + 4 * H)
  );
}

async function readPooling(src: FileSource, dir: string, hidden: number): Promise<PoolingMode[]> {
  const path = `${dir}/config.json`;
  const c = await readJson<Record<string, unknown>>(src, path, 'the pooling configuration');
  if (typeof c.word_embedding_dimension === 'number' && c.word_embedding_dimension !== hidden) {
    throw new ConvertError(
      'DIM_MISMATCH',
      `${src.label}: ${path} pools ${c.word_embedding_dimension}-d token vectors but the encoder gives ${hidden}.`,
    );
  }
  // Newer sentence-transformers may also store a single `pooling_mode` string.
  if (typeof c.pooling_mode === 'string') {
    const named: Record<string, PoolingMode> = {
      cls: 'cls',
      max: 'max',
      mean: 'mean',
      mean_sqrt_len_tokens: 'mean_sqrt_len',
    };
    const mode = named[c.pooling_mode];
    if (!mode)
      throw new ConvertError(
        'UNSUPPORTED_POOLING',
        `${src.label}: pooling mode "${c.pooling_mode}" is not supported (cls, max, mean, mean_sqrt_len_tokens).`,
      );
    return [mode];
  }
  for (const flag of UNSUPPORTED_POOLING) {
    if (c[flag] === true)
      throw new ConvertError(
        'UNSUPPORTED_POOLING',
        `${src.label}: ${path} sets ${flag}, which is not supported (cls, max, mean, mean_sqrt_len).`,
      );
  }
  const modes = POOLING_FLAGS.filter(([flag]) => c[flag] === true).map(([, mode]) => mode);
  if (modes.length === 0)
    throw new ConvertError('UNSUPPORTED_POOLING', `${src.label}: ${path} enables no pooling mode.`);
  return modes;
}

async function readDense(src: FileSource, dir: string): Promise<DenseModule> {
  const c = await readJson<{
    in_features?: number;
    out_features?: number;
    bias?: boolean;
    activation_function?: string;
  }>(src, `${dir}/config.json`, 'the Dense layer configuration');
  const dim = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= 1 << 20;
  if (!(dim(c.in_features) && dim(c.out_features)) || c.in_features! * c.out_features! * 4 > MAX_WEIGHT_BYTES) {
    throw invalid(src, `${dir}/config.json needs in_features and out_features (positive integers).`);
  }
  const actName = c.activation_function ?? 'torch.nn.modules.activation.Tanh';
  const activation = ACTIVATIONS[actName];
  if (!activation) {
    throw new ConvertError(
      'UNSUPPORTED_ACTIVATION',
      `${src.label}: ${dir} uses activation ${actName}; supported: ${Object.keys(ACTIVATIONS).join(', ')}.`,
    );
  }
  return { path: dir, inFeatures: c.in_features!, outFeatures: c.out_features!, bias: c.bias ?? true, activation };
}
