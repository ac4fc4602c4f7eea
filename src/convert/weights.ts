import { ConvertError } from '../errors.js';
import { readSafetensors } from './safetensors.js';
import type { FileSource } from '../bundle/source.js';
import { bertParams, type CheckpointLayout } from './st-layout.js';
import type { ReadLimits, Tensor, TensorMap } from './tensor.js';
import { readTorchCheckpoint } from './torch-pickle.js';

export interface Linear {
  weight: Tensor;
  bias?: Tensor;
}
interface LayerNormWeights {
  gamma: Tensor;
  beta: Tensor;
}

interface BertLayerWeights {
  query: Linear;
  key: Linear;
  value: Linear;
  attnOut: Linear;
  attnLn: LayerNormWeights;
  ffnIn: Linear;
  ffnOut: Linear;
  outLn: LayerNormWeights;
}

/** All parameters the compiled graph needs, in torch layout (Linear weights are [out, in]). */
export interface CheckpointWeights {
  wordEmbeddings: Tensor;
  positionEmbeddings: Tensor;
  tokenTypeEmbeddings: Tensor;
  embLn: LayerNormWeights;
  layers: BertLayerWeights[];
  dense: Linear[];
  /** Which file each module's weights came from. */
  files: string[];
}

export type WeightFormat = 'safetensors' | 'pytorch';

/** Reads one module's weight file: safetensors when present (or asked for), else pytorch_model.bin. */
async function readModuleWeights(
  src: FileSource,
  dir: string,
  prefer?: WeightFormat,
  limits?: ReadLimits,
): Promise<{ tensors: TensorMap; file: string }> {
  const join = (f: string) => (dir ? `${dir}/${f}` : f);
  const order: [WeightFormat, string][] =
    prefer === 'pytorch'
      ? [
          ['pytorch', 'pytorch_model.bin'],
          ['safetensors', 'model.safetensors'],
        ]
      : [
          ['safetensors', 'model.safetensors'],
          ['pytorch', 'pytorch_model.bin'],
        ];
  for (const [format, name] of order) {
    const path = join(name);
    const bytes = await src.read(path);
    if (!bytes) continue;
    const label = `${src.label}/${path}`;
    return {
      tensors:
        format === 'safetensors' ? readSafetensors(bytes, label, limits) : readTorchCheckpoint(bytes, label, limits),
      file: path,
    };
  }
  throw new ConvertError(
    'CHECKPOINT_MISSING_FILE',
    `${src.label}: no weights in ${dir || 'the checkpoint root'} (expected ${join('model.safetensors')} or ${join('pytorch_model.bin')}).`,
  );
}

export async function readCheckpointWeights(
  src: FileSource,
  layout: CheckpointLayout,
  prefer?: WeightFormat,
): Promise<CheckpointWeights> {
  const { bert } = layout;
  // Only the encoder's tensors are decoded, within twice their f32 size (a storage may be shared or hold more than its view).
  const main = await readModuleWeights(src, '', prefer, {
    want: (name) => {
      const n = name.startsWith('bert.') ? name.slice(5) : name;
      const layer = /^encoder\.layer\.(\d+)\./.exec(n);
      return n.startsWith('embeddings.') || (layer !== null && Number(layer[1]) < bert.numLayers);
    },
    maxBytes: 8 * bertParams(bert) + (1 << 20),
  });
  const H = bert.hiddenSize,
    F = bert.intermediateSize;
  const get = getter(src, main.file, main.tensors);
  const linear = (p: string, out: number, inp: number): Linear => ({
    weight: get(`${p}.weight`, [out, inp]),
    bias: get(`${p}.bias`, [out]),
  });
  const ln = (p: string): LayerNormWeights => ({
    gamma: get([`${p}.weight`, `${p}.gamma`], [H]),
    beta: get([`${p}.bias`, `${p}.beta`], [H]),
  });

  const weights: CheckpointWeights = {
    wordEmbeddings: get('embeddings.word_embeddings.weight', [bert.vocabSize, H]),
    positionEmbeddings: get('embeddings.position_embeddings.weight', [bert.maxPositions, H]),
    tokenTypeEmbeddings: get('embeddings.token_type_embeddings.weight', [bert.typeVocabSize, H]),
    embLn: ln('embeddings.LayerNorm'),
    layers: [],
    dense: [],
    files: [main.file],
  };
  for (let i = 0; i < bert.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    weights.layers.push({
      query: linear(`${p}.attention.self.query`, H, H),
      key: linear(`${p}.attention.self.key`, H, H),
      value: linear(`${p}.attention.self.value`, H, H),
      attnOut: linear(`${p}.attention.output.dense`, H, H),
      attnLn: ln(`${p}.attention.output.LayerNorm`),
      ffnIn: linear(`${p}.intermediate.dense`, F, H),
      ffnOut: linear(`${p}.output.dense`, H, F),
      outLn: ln(`${p}.output.LayerNorm`),
    });
  }
  for (const d of layout.dense) {
    const w = await readModuleWeights(src, d.path, prefer, {
      want: (name) => name === 'linear.weight' || name === 'linear.bias',
      maxBytes: 8 * (d.inFeatures + 1) * d.outFeatures + (1 << 20),
    });
    const g = getter(src, w.file, w.tensors);
    weights.dense.push({
      weight: g('linear.weight', [d.outFeatures, d.inFeatures]),
      ...(d.bias ? { bias: g('linear.bias', [d.outFeatures]) } : {}),
    });
    weights.files.push(w.file);
  }
  return weights;
}

/** Looks a parameter up by its Hugging Face name, with or without a `bert.` prefix, and checks its shape. */
function getter(src: FileSource, file: string, tensors: TensorMap) {
  return (names: string | string[], shape: number[]): Tensor => {
    const list = typeof names === 'string' ? [names] : names;
    for (const name of list) {
      const t = tensors.get(name) ?? tensors.get(`bert.${name}`);
      if (!t) continue;
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ConvertError(
          'DIM_MISMATCH',
          `${src.label}/${file}: ${name} has shape [${t.shape}] but the configuration implies [${shape}].`,
        );
      }
      return t;
    }
    throw new ConvertError(
      'CHECKPOINT_INVALID',
      `${src.label}/${file}: parameter ${list[0]} is missing (is this a BERT checkpoint matching config.json?).`,
    );
  };
}
