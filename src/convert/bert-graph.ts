import { DataType, GraphBuilder, type OnnxModel, type OnnxValueInfo } from './onnx-graph.js';
import type { CheckpointLayout } from './st-layout.js';
import type { Tensor } from './tensor.js';
import type { WeightDtype } from '../bundle/manifest.js';
import { WeightEncoder } from './weight-dtype.js';
import type { CheckpointWeights, Linear } from './weights.js';

const IR_VERSION = 8;
const OPSET = 17;
const INPUT_IDS = 'input_ids';
const ATTENTION_MASK = 'attention_mask';
const OUTPUT = 'sentence_embedding';
/** The encoder-only graph's output, named as in Hugging Face's ONNX exports. */
export const LAST_HIDDEN_STATE = 'last_hidden_state';

export interface SentenceGraphOptions {
  /**
   * 'last_hidden_state' stops after the encoder ([batch, sequence, hidden]; no pooling, Dense or normalisation), the
   * layout an encoder-only ONNX export has: opt-in, for comparisons such as the browser bench's transformers.js row.
   */
  output?: typeof OUTPUT | typeof LAST_HIDDEN_STATE;
}

// Large but finite, so even a fully masked row stays NaN-free; exp() of it is exactly 0 in f32.
const MASK_BIAS = -1e9;

/** torch Linear weight [out, in] → MatMul right operand [in, out], optionally scaled. */
function transpose(w: Tensor, scale = 1): Float32Array {
  const [out, inp] = w.shape;
  const t = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w.data[o * inp + i] * scale;
  return t;
}

/**
 * Builds the sentence-embedding graph: BERT encoder → pooling → Dense layers → L2 normalisation.
 * Every op is one that onnxruntime-web's WebGPU EP runs (ARCHITECTURE.md): no shape arithmetic
 * (constant Reshape targets with 0/-1), an additive attention bias instead of a padding mask.
 */
export function buildSentenceGraph(
  layout: CheckpointLayout,
  w: CheckpointWeights,
  dtype: WeightDtype,
  options: SentenceGraphOptions = {},
): OnnxModel {
  const g = new GraphBuilder();
  const enc = new WeightEncoder(g, dtype);
  const { bert } = layout;
  const H = bert.hiddenSize,
    nh = bert.numHeads,
    hd = H / nh;
  const eps = { float: bert.layerNormEps };

  // Shared constants.
  const one = g.f32('one', [], [1]);
  const zero = g.f32('zero', [], [0]);
  const axes1 = g.i64('axes_1', [1], [1]);
  const axes2 = g.i64('axes_2', [1], [2]);
  const axes12 = g.i64('axes_1_2', [2], [1, 2]);
  const headsShape = g.i64('shape_heads', [4], [0, 0, nh, hd]);
  const mergedShape = g.i64('shape_merged', [3], [0, 0, H]);

  // Mask, in float: [B,S], its [B,1,1,S] additive bias, and [B,S,1] for pooling. Both come from a Gather
  // on a two-row table: the WebGPU EP places Cast-from-int64 on the CPU, but gathers with int64 indices.
  const maskF = g.op('Gather', [g.f32('mask_values', [2], [0, 1]), ATTENTION_MASK], 'mask_float', { axis: 0 });
  const bias2d = g.op('Gather', [g.f32('mask_bias_values', [2], [MASK_BIAS, 0]), ATTENTION_MASK], 'mask_bias', {
    axis: 0,
  });
  const attnBias = g.op('Unsqueeze', [bias2d, axes12], 'attention_bias');
  const mask3 = g.op('Unsqueeze', [maskF, axes2], 'mask_3d');

  // Embeddings. Positions 0..S-1 come from a cumulative sum of ones, which needs no Shape op.
  const ones = g.op('Add', [g.op('Mul', [maskF, zero], 'zeros'), one], 'ones');
  const positionsF = g.op(
    'Sub',
    [g.op('CumSum', [ones, g.i64('axis_1', [], [1])], 'position_count'), one],
    'positions_f',
  );
  const positions = g.op('Cast', [positionsF], 'position_ids', { to: DataType.INT32 });
  // Token type is always 0 here, so its row is folded into the position table.
  const posType = new Float32Array(w.positionEmbeddings.data);
  for (let p = 0; p < bert.maxPositions; p++)
    for (let h = 0; h < H; h++) posType[p * H + h] += w.tokenTypeEmbeddings.data[h];
  const wordTable = enc.matrix('word_embeddings', w.wordEmbeddings.data, bert.vocabSize, H, 0);
  const posTable = enc.matrix('position_embeddings', posType, bert.maxPositions, H, 0);
  const words = g.op('Gather', [wordTable, INPUT_IDS], 'word_lookup', { axis: 0 });
  const poss = g.op('Gather', [posTable, positions], 'position_lookup', { axis: 0 });
  let x = g.op(
    'LayerNormalization',
    [
      g.op('Add', [words, poss], 'embeddings_sum'),
      enc.vector('emb_ln_gamma', w.embLn.gamma.data),
      enc.vector('emb_ln_beta', w.embLn.beta.data),
    ],
    'embeddings_ln',
    { axis: -1, epsilon: eps },
  );

  const dense = (input: string, lin: Linear, name: string): string => {
    const [out, inp] = lin.weight.shape;
    const mm = enc.matmul(input, name, transpose(lin.weight), inp, out);
    return lin.bias ? g.op('Add', [mm, enc.vector(`${name}_b`, lin.bias.data)], `${name}_bias`) : mm;
  };

  w.layers.forEach((L, i) => {
    const p = `layer${i}`;
    // Fused QKV projection; 1/sqrt(head_dim) is folded into the query weights so no scale op remains.
    const s = 1 / Math.sqrt(hd);
    const qkvW = new Float32Array(H * 3 * H);
    const parts = [transpose(L.query.weight, s), transpose(L.key.weight), transpose(L.value.weight)];
    for (let r = 0; r < H; r++) parts.forEach((t, k) => qkvW.set(t.subarray(r * H, (r + 1) * H), r * 3 * H + k * H));
    const qkvB = new Float32Array(3 * H);
    qkvB.set(
      L.query.bias!.data.map((v) => v * s),
      0,
    );
    qkvB.set(L.key.bias!.data, H);
    qkvB.set(L.value.bias!.data, 2 * H);
    const qkv = g.op(
      'Add',
      [enc.matmul(x, `${p}_qkv`, qkvW, H, 3 * H), enc.vector(`${p}_qkv_b`, qkvB)],
      `${p}_qkv_bias`,
    );
    const [q, k, v] = g.opN('Split', [qkv], `${p}_qkv_split`, 3, { axis: -1 });
    const heads = (t: string, name: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, headsShape], `${name}_reshape`)], `${name}_transpose`, { perm });
    const qh = heads(q, `${p}_q`, [0, 2, 1, 3]); // [B, nh, S, hd]
    const kt = heads(k, `${p}_k`, [0, 2, 3, 1]); // [B, nh, hd, S]
    const vh = heads(v, `${p}_v`, [0, 2, 1, 3]); // [B, nh, S, hd]
    const scores = g.op('Add', [g.op('MatMul', [qh, kt], `${p}_scores`), attnBias], `${p}_scores_masked`);
    const probs = g.op('Softmax', [scores], `${p}_softmax`, { axis: -1 });
    const ctx = g.op('MatMul', [probs, vh], `${p}_context`);
    const merged = g.op(
      'Reshape',
      [g.op('Transpose', [ctx], `${p}_context_transpose`, { perm: [0, 2, 1, 3] }), mergedShape],
      `${p}_context_merge`,
    );
    const attn = dense(merged, L.attnOut, `${p}_attn_out`);
    x = g.op(
      'LayerNormalization',
      [
        g.op('Add', [attn, x], `${p}_attn_residual`),
        enc.vector(`${p}_attn_ln_gamma`, L.attnLn.gamma.data),
        enc.vector(`${p}_attn_ln_beta`, L.attnLn.beta.data),
      ],
      `${p}_attn_ln`,
      { axis: -1, epsilon: eps },
    );
    // FFN with exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
    const h = dense(x, L.ffnIn, `${p}_ffn_in`);
    const erf = g.op(
      'Erf',
      [g.op('Div', [h, g.f32(`${p}_sqrt2`, [], [Math.SQRT2])], `${p}_gelu_div`)],
      `${p}_gelu_erf`,
    );
    const gelu = g.op(
      'Mul',
      [g.op('Mul', [h, g.op('Add', [erf, one], `${p}_gelu_add`)], `${p}_gelu_mul`), g.f32(`${p}_half`, [], [0.5])],
      `${p}_gelu`,
    );
    const f = dense(gelu, L.ffnOut, `${p}_ffn_out`);
    x = g.op(
      'LayerNormalization',
      [
        g.op('Add', [f, x], `${p}_ffn_residual`),
        enc.vector(`${p}_out_ln_gamma`, L.outLn.gamma.data),
        enc.vector(`${p}_out_ln_beta`, L.outLn.beta.data),
      ],
      `${p}_out_ln`,
      { axis: -1, epsilon: eps },
    );
  });

  if (options.output === LAST_HIDDEN_STATE) {
    g.rename(x, LAST_HIDDEN_STATE);
    return model(g, 'bert_encoder', [
      { name: LAST_HIDDEN_STATE, elemType: DataType.FLOAT, shape: ['batch', 'sequence', H] },
    ]);
  }

  // Pooling, concatenated in sentence-transformers order.
  const pooled: string[] = [];
  let sum: string | undefined, count: string | undefined;
  const masked = () => {
    sum ??= g.op('ReduceSum', [g.op('Mul', [x, mask3], 'pool_masked'), axes1], 'pool_sum', { keepdims: 0 });
    count ??= g.op(
      'Max',
      [g.op('ReduceSum', [mask3, axes1], 'pool_count_raw', { keepdims: 0 }), g.f32('count_floor', [], [1e-9])],
      'pool_count',
    );
    return { sum, count };
  };
  for (const mode of layout.pooling) {
    if (mode === 'cls') {
      pooled.push(g.op('Gather', [x, g.i64('cls_index', [], [0])], 'pool_cls', { axis: 1 }));
    } else if (mode === 'max') {
      const maskBias = g.f32('mask_bias_value', [], [MASK_BIAS]);
      const padded = g.op(
        'Add',
        [x, g.op('Mul', [g.op('Sub', [one, mask3], 'pool_max_inv'), maskBias], 'pool_max_bias')],
        'pool_max_input',
      );
      pooled.push(g.op('ReduceMax', [padded], 'pool_max', { axes: [1], keepdims: 0 }));
    } else if (mode === 'mean') {
      const m = masked();
      pooled.push(g.op('Div', [m.sum, m.count], 'pool_mean'));
    } else {
      const m = masked();
      pooled.push(g.op('Div', [m.sum, g.op('Sqrt', [m.count], 'pool_sqrt_len')], 'pool_mean_sqrt_len'));
    }
  }
  let y = pooled.length === 1 ? pooled[0] : g.op('Concat', pooled, 'pool_concat', { axis: 1 });

  layout.dense.forEach((d, i) => {
    y = dense(y, w.dense[i], `dense${i}`);
    if (d.activation === 'tanh') y = g.op('Tanh', [y], `dense${i}_tanh`);
  });

  // L2 normalisation, as torch.nn.functional.normalize(p=2, eps=1e-12).
  const norm = g.op(
    'Sqrt',
    [g.op('ReduceSum', [g.op('Mul', [y, y], 'l2_square'), axes1], 'l2_sum', { keepdims: 1 })],
    'l2_norm',
  );
  const out = g.op('Div', [y, g.op('Max', [norm, g.f32('l2_eps', [], [1e-12])], 'l2_clamped')], 'l2_normalize');
  g.rename(out, OUTPUT);

  return model(g, 'sentence_embedding', [
    { name: OUTPUT, elemType: DataType.FLOAT, shape: ['batch', layout.outputDim] },
  ]);
}

/** The model around the built nodes, keeping only the nodes and initializers its outputs depend on. */
function model(g: GraphBuilder, graphName: string, outputs: OnnxValueInfo[]): OnnxModel {
  // Walked back from the outputs: the encoder-only graph leaves the pooling mask's nodes unused.
  const needed = new Set(outputs.map((o) => o.name));
  const keep = g.nodes.map(() => false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    if (!g.nodes[i].outputs.some((o) => needed.has(o))) continue;
    keep[i] = true;
    for (const input of g.nodes[i].inputs) needed.add(input);
  }
  const nodes = g.nodes.filter((_, i) => keep[i]);
  const initializers = g.initializers.filter((t) => needed.has(t.name));
  return {
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'hpd-embed',
    producerVersion: '0.1.0',
    graphName,
    metadata: {},
    nodes,
    initializers,
    inputs: [
      { name: INPUT_IDS, elemType: DataType.INT64, shape: ['batch', 'sequence'] },
      { name: ATTENTION_MASK, elemType: DataType.INT64, shape: ['batch', 'sequence'] },
    ],
    outputs,
  };
}
