// Independent float64 reference forward pass of a sentence-transformers BERT
// model (Transformer → Pooling → optional Dense → optional Normalize).
// Written from the BERT / sentence-transformers definitions, used only to
// check the project's ONNX compiler: it must not import anything from src/.

import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readSafetensors, type ReferenceTensor } from './safetensors-read.js';

// ---------------------------------------------------------------------------
// Model description

type Activation = (x: number) => number;

interface LayerWeights {
  qW: Float64Array;
  qB: Float64Array;
  kW: Float64Array;
  kB: Float64Array;
  vW: Float64Array;
  vB: Float64Array;
  attnOutW: Float64Array;
  attnOutB: Float64Array;
  attnLnW: Float64Array;
  attnLnB: Float64Array;
  interW: Float64Array;
  interB: Float64Array;
  outW: Float64Array;
  outB: Float64Array;
  outLnW: Float64Array;
  outLnB: Float64Array;
}

interface BertModule {
  kind: 'transformer';
  hidden: number;
  heads: number;
  intermediate: number;
  eps: number;
  vocab: number;
  maxPositions: number;
  act: Activation;
  word: Float64Array;
  position: Float64Array;
  tokenType: Float64Array;
  embLnW: Float64Array;
  embLnB: Float64Array;
  layers: LayerWeights[];
}

interface PoolingModule {
  kind: 'pooling';
  cls: boolean;
  max: boolean;
  mean: boolean;
  meanSqrtLen: boolean;
  weightedMean: boolean;
  lastToken: boolean;
}

interface DenseModule {
  kind: 'dense';
  inFeatures: number;
  outFeatures: number;
  weight: Float64Array; // [out, in]
  bias: Float64Array | null;
  act: Activation;
}

interface NormalizeModule {
  kind: 'normalize';
}

type ReferenceModule = BertModule | PoolingModule | DenseModule | NormalizeModule;

// ---------------------------------------------------------------------------
// Scalar math

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_ODD = (() => {
  const t = new Float64Array(256);
  for (let n = 0; n < t.length; n++) t[n] = 1 / (2 * n + 1);
  return t;
})();

/**
 * Error function in float64. For |x| < 6 uses the all-positive series
 * erf(x) = 2/√π · e^{-x²} · Σ_n 2^n x^{2n+1} / (2n+1)!!  (no cancellation);
 * beyond that erf(x) = ±1 to double precision (erfc(6) ≈ 2e-17).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < INV_ODD.length; n++) {
    term *= x2 * INV_ODD[n];
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}

const INV_SQRT2 = 1 / Math.SQRT2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

const geluErf: Activation = (x) => 0.5 * x * (1 + erf(x * INV_SQRT2));
const geluTanh: Activation = (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
const relu: Activation = (x) => (x > 0 ? x : 0);
const sigmoid: Activation = (x) => 1 / (1 + Math.exp(-x));
const silu: Activation = (x) => x / (1 + Math.exp(-x));
const identity: Activation = (x) => x;

function hiddenActivation(name: string): Activation {
  switch (name) {
    case 'gelu':
    case 'gelu_python':
      return geluErf;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'relu':
      return relu;
    case 'silu':
    case 'swish':
      return silu;
    case 'quick_gelu':
      return (x) => x * sigmoid(1.702 * x);
    default:
      throw new Error(`reference: unsupported hidden_act ${JSON.stringify(name)}`);
  }
}

function denseActivation(name: string): Activation {
  const last = name.split('.').pop() ?? name;
  switch (last) {
    case 'Identity':
      return identity;
    case 'Tanh':
      return Math.tanh;
    case 'ReLU':
      return relu;
    case 'Sigmoid':
      return sigmoid;
    case 'GELU':
      return geluErf;
    case 'SiLU':
      return silu;
    default:
      throw new Error(`reference: unsupported Dense activation_function ${JSON.stringify(name)}`);
  }
}

// ---------------------------------------------------------------------------
// Loading

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function num(config: Record<string, unknown>, key: string, fallback?: number): number {
  const v = config[key];
  if (typeof v === 'number') return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new Error(`reference: config key ${key} missing or not a number`);
}

function takeTensor(tensors: Map<string, ReferenceTensor>, names: string[], shape: number[]): Float64Array {
  for (const name of names) {
    const t = tensors.get(name);
    if (!t) continue;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`reference: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.data;
  }
  throw new Error(`reference: missing tensor ${names.join(' / ')}`);
}

async function loadTransformer(path: string): Promise<BertModule> {
  const config = await readJson(join(path, 'config.json'));
  const positionType = config['position_embedding_type'];
  if (positionType !== undefined && positionType !== 'absolute') {
    throw new Error(`reference: unsupported position_embedding_type ${JSON.stringify(positionType)}`);
  }
  const hidden = num(config, 'hidden_size');
  const heads = num(config, 'num_attention_heads');
  const layerCount = num(config, 'num_hidden_layers');
  const intermediate = num(config, 'intermediate_size');
  const eps = num(config, 'layer_norm_eps', 1e-12);
  const vocab = num(config, 'vocab_size');
  const maxPositions = num(config, 'max_position_embeddings');
  const typeVocab = num(config, 'type_vocab_size', 2);
  const actName = config['hidden_act'] ?? 'gelu';
  if (typeof actName !== 'string') throw new Error('reference: hidden_act must be a string');
  if (hidden % heads !== 0) throw new Error('reference: hidden_size not divisible by num_attention_heads');

  const weightsPath = join(path, 'model.safetensors');
  if (!(await exists(weightsPath)))
    throw new Error(`reference: ${weightsPath} not found (only safetensors is supported)`);
  const { tensors } = await readSafetensors(weightsPath);

  // Find the prefix ("", "bert.", ...) from the word embedding table.
  const wordKey = [...tensors.keys()].find((k) => k.endsWith('embeddings.word_embeddings.weight'));
  if (wordKey === undefined) throw new Error('reference: no embeddings.word_embeddings.weight tensor');
  const prefix = wordKey.slice(0, wordKey.length - 'embeddings.word_embeddings.weight'.length);
  const p = (name: string): string => prefix + name;
  const ln = (base: string, n: number): [Float64Array, Float64Array] => [
    takeTensor(tensors, [p(`${base}.weight`), p(`${base}.gamma`)], [n]),
    takeTensor(tensors, [p(`${base}.bias`), p(`${base}.beta`)], [n]),
  ];
  const linear = (base: string, out: number, inp: number): [Float64Array, Float64Array] => [
    takeTensor(tensors, [p(`${base}.weight`)], [out, inp]),
    takeTensor(tensors, [p(`${base}.bias`)], [out]),
  ];

  const [embLnW, embLnB] = ln('embeddings.LayerNorm', hidden);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < layerCount; i++) {
    const b = `encoder.layer.${i}`;
    const [qW, qB] = linear(`${b}.attention.self.query`, hidden, hidden);
    const [kW, kB] = linear(`${b}.attention.self.key`, hidden, hidden);
    const [vW, vB] = linear(`${b}.attention.self.value`, hidden, hidden);
    const [attnOutW, attnOutB] = linear(`${b}.attention.output.dense`, hidden, hidden);
    const [attnLnW, attnLnB] = ln(`${b}.attention.output.LayerNorm`, hidden);
    const [interW, interB] = linear(`${b}.intermediate.dense`, intermediate, hidden);
    const [outW, outB] = linear(`${b}.output.dense`, hidden, intermediate);
    const [outLnW, outLnB] = ln(`${b}.output.LayerNorm`, hidden);
    layers.push({
      qW,
      qB,
      kW,
      kB,
      vW,
      vB,
      attnOutW,
      attnOutB,
      attnLnW,
      attnLnB,
      interW,
      interB,
      outW,
      outB,
      outLnW,
      outLnB,
    });
  }

  return {
    kind: 'transformer',
    hidden,
    heads,
    intermediate,
    eps,
    vocab,
    maxPositions,
    act: hiddenActivation(actName),
    word: takeTensor(tensors, [p('embeddings.word_embeddings.weight')], [vocab, hidden]),
    position: takeTensor(tensors, [p('embeddings.position_embeddings.weight')], [maxPositions, hidden]),
    tokenType: takeTensor(tensors, [p('embeddings.token_type_embeddings.weight')], [typeVocab, hidden]),
    embLnW,
    embLnB,
    layers,
  };
}

async function loadPooling(path: string): Promise<PoolingModule> {
  const c = await readJson(join(path, 'config.json'));
  const flag = (k: string): boolean => c[k] === true;
  const m: PoolingModule = {
    kind: 'pooling',
    cls: flag('pooling_mode_cls_token'),
    max: flag('pooling_mode_max_tokens'),
    mean: flag('pooling_mode_mean_tokens'),
    meanSqrtLen: flag('pooling_mode_mean_sqrt_len_tokens'),
    weightedMean: flag('pooling_mode_weightedmean_tokens'),
    lastToken: flag('pooling_mode_lasttoken'),
  };
  if (!(m.cls || m.max || m.mean || m.meanSqrtLen || m.weightedMean || m.lastToken)) {
    throw new Error('reference: pooling config enables no pooling mode');
  }
  return m;
}

async function loadDense(path: string): Promise<DenseModule> {
  const c = await readJson(join(path, 'config.json'));
  const inFeatures = num(c, 'in_features');
  const outFeatures = num(c, 'out_features');
  const hasBias = c['bias'] !== false;
  const actName = c['activation_function'] ?? 'torch.nn.modules.activation.Tanh';
  if (typeof actName !== 'string') throw new Error('reference: Dense activation_function must be a string');
  const weightsPath = join(path, 'model.safetensors');
  if (!(await exists(weightsPath)))
    throw new Error(`reference: ${weightsPath} not found (only safetensors is supported)`);
  const { tensors } = await readSafetensors(weightsPath);
  return {
    kind: 'dense',
    inFeatures,
    outFeatures,
    weight: takeTensor(tensors, ['linear.weight'], [outFeatures, inFeatures]),
    bias: hasBias ? takeTensor(tensors, ['linear.bias'], [outFeatures]) : null,
    act: denseActivation(actName),
  };
}

async function loadModel(dir: string): Promise<ReferenceModule[]> {
  const raw = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as unknown;
  if (!Array.isArray(raw)) throw new Error('reference: modules.json must be an array');
  const entries = (raw as { idx?: number; type: string; path?: string }[])
    .slice()
    .sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0));
  const modules: ReferenceModule[] = [];
  for (const entry of entries) {
    const kind = entry.type.split('.').pop();
    const path = join(dir, entry.path ?? '');
    switch (kind) {
      case 'Transformer':
        modules.push(await loadTransformer(path));
        break;
      case 'Pooling':
        modules.push(await loadPooling(path));
        break;
      case 'Dense':
        modules.push(await loadDense(path));
        break;
      case 'Normalize':
        modules.push({ kind: 'normalize' });
        break;
      default:
        throw new Error(`reference: unsupported module type ${entry.type}`);
    }
  }
  if (modules[0]?.kind !== 'transformer') throw new Error('reference: first module must be a Transformer');
  return modules;
}

const cache = new Map<string, Promise<ReferenceModule[]>>();

function loadCached(dir: string): Promise<ReferenceModule[]> {
  const key = resolve(dir);
  let p = cache.get(key);
  if (!p) {
    p = loadModel(key);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forgets loaded weights (all directories, or one). */
export function clearReferenceCache(dir?: string): void {
  if (dir === undefined) cache.clear();
  else cache.delete(resolve(dir));
}

// ---------------------------------------------------------------------------
// Tensor ops (row-major, float64)

/** y[t, o] = b[o] + Σ_i W[o, i] · x[t, i]   (torch Linear, W is [out, in]). */
function linear(
  x: Float64Array,
  tokens: number,
  inDim: number,
  w: Float64Array,
  b: Float64Array | null,
  outDim: number,
): Float64Array {
  const y = new Float64Array(tokens * outDim);
  // Plain dot products, blocked over 2 outputs × 4 tokens only so that each
  // loaded weight / activation is used several times (speed, not semantics).
  let o = 0;
  for (; o + 2 <= outDim; o += 2) {
    const w0 = o * inDim;
    const w1 = w0 + inDim;
    let t = 0;
    for (; t + 4 <= tokens; t += 4) {
      const x0 = t * inDim,
        x1 = x0 + inDim,
        x2 = x1 + inDim,
        x3 = x2 + inDim;
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0,
        c0 = 0,
        c1 = 0,
        c2 = 0,
        c3 = 0;
      for (let i = 0; i < inDim; i++) {
        const u = w[w0 + i],
          v = w[w1 + i];
        const p0 = x[x0 + i],
          p1 = x[x1 + i],
          p2 = x[x2 + i],
          p3 = x[x3 + i];
        a0 += u * p0;
        a1 += u * p1;
        a2 += u * p2;
        a3 += u * p3;
        c0 += v * p0;
        c1 += v * p1;
        c2 += v * p2;
        c3 += v * p3;
      }
      y[t * outDim + o] = a0;
      y[(t + 1) * outDim + o] = a1;
      y[(t + 2) * outDim + o] = a2;
      y[(t + 3) * outDim + o] = a3;
      y[t * outDim + o + 1] = c0;
      y[(t + 1) * outDim + o + 1] = c1;
      y[(t + 2) * outDim + o + 1] = c2;
      y[(t + 3) * outDim + o + 1] = c3;
    }
    for (; t < tokens; t++) {
      const xt = t * inDim;
      let a = 0,
        c = 0;
      for (let i = 0; i < inDim; i++) {
        a += w[w0 + i] * x[xt + i];
        c += w[w1 + i] * x[xt + i];
      }
      y[t * outDim + o] = a;
      y[t * outDim + o + 1] = c;
    }
  }
  for (; o < outDim; o++) {
    const wo = o * inDim;
    for (let t = 0; t < tokens; t++) {
      const xt = t * inDim;
      let a = 0;
      for (let i = 0; i < inDim; i++) a += w[wo + i] * x[xt + i];
      y[t * outDim + o] = a;
    }
  }
  if (b) for (let t = 0; t < tokens; t++) for (let j = 0; j < outDim; j++) y[t * outDim + j] += b[j];
  return y;
}

/** In place: x[t] = LayerNorm(x[t]) with biased variance. */
function layerNorm(x: Float64Array, tokens: number, dim: number, w: Float64Array, b: Float64Array, eps: number): void {
  for (let t = 0; t < tokens; t++) {
    const off = t * dim;
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[off + i];
    mean /= dim;
    let variance = 0;
    for (let i = 0; i < dim; i++) {
      const d = x[off + i] - mean;
      variance += d * d;
    }
    variance /= dim;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < dim; i++) x[off + i] = (x[off + i] - mean) * inv * w[i] + b[i];
  }
}

function addInPlace(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

function selfAttention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  n: number,
  hidden: number,
  heads: number,
): Float64Array {
  const dh = hidden / heads;
  const scale = 1 / Math.sqrt(dh);
  const ctx = new Float64Array(n * hidden);
  const scores = new Float64Array(n);
  for (let h = 0; h < heads; h++) {
    const ho = h * dh;
    for (let i = 0; i < n; i++) {
      const qi = i * hidden + ho;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        const kj = j * hidden + ho;
        let s = 0;
        for (let d = 0; d < dh; d++) s += q[qi + d] * k[kj + d];
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let denom = 0;
      for (let j = 0; j < n; j++) {
        scores[j] = Math.exp(scores[j] - max);
        denom += scores[j];
      }
      const ci = i * hidden + ho;
      for (let j = 0; j < n; j++) {
        const p = scores[j] / denom;
        const vj = j * hidden + ho;
        for (let d = 0; d < dh; d++) ctx[ci + d] += p * v[vj + d];
      }
    }
  }
  return ctx;
}

function bertForward(m: BertModule, ids: readonly number[]): Float64Array {
  const n = ids.length;
  const H = m.hidden;
  if (n === 0) throw new Error('reference: empty token sequence');
  if (n > m.maxPositions)
    throw new Error(`reference: sequence of ${n} tokens exceeds max_position_embeddings ${m.maxPositions}`);

  // Embeddings: word + position + token type 0, then LayerNorm.
  const x = new Float64Array(n * H);
  for (let t = 0; t < n; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= m.vocab)
      throw new Error(`reference: token id ${id} outside vocabulary`);
    for (let i = 0; i < H; i++) {
      x[t * H + i] = m.word[id * H + i] + m.position[t * H + i] + m.tokenType[i];
    }
  }
  layerNorm(x, n, H, m.embLnW, m.embLnB, m.eps);

  let hs: Float64Array = x;
  for (const L of m.layers) {
    const q = linear(hs, n, H, L.qW, L.qB, H);
    const k = linear(hs, n, H, L.kW, L.kB, H);
    const v = linear(hs, n, H, L.vW, L.vB, H);
    const ctx = selfAttention(q, k, v, n, H, m.heads);
    const attn = linear(ctx, n, H, L.attnOutW, L.attnOutB, H);
    addInPlace(attn, hs);
    layerNorm(attn, n, H, L.attnLnW, L.attnLnB, m.eps);

    const inter = linear(attn, n, H, L.interW, L.interB, m.intermediate);
    for (let i = 0; i < inter.length; i++) inter[i] = m.act(inter[i]);
    const out = linear(inter, n, m.intermediate, L.outW, L.outB, H);
    addInPlace(out, attn);
    layerNorm(out, n, H, L.outLnW, L.outLnB, m.eps);
    hs = out;
  }
  return hs;
}

/** sentence-transformers Pooling, concatenated in its order: cls, max, mean, mean_sqrt_len, weightedmean, lasttoken. */
function pool(p: PoolingModule, hs: Float64Array, n: number, H: number): Float64Array {
  const parts: Float64Array[] = [];
  if (p.cls) parts.push(hs.slice(0, H));
  if (p.max) {
    const mx = new Float64Array(H).fill(-Infinity);
    for (let t = 0; t < n; t++) for (let i = 0; i < H; i++) mx[i] = Math.max(mx[i], hs[t * H + i]);
    parts.push(mx);
  }
  if (p.mean || p.meanSqrtLen) {
    const sum = new Float64Array(H);
    for (let t = 0; t < n; t++) for (let i = 0; i < H; i++) sum[i] += hs[t * H + i];
    if (p.mean) parts.push(sum.map((s) => s / n));
    if (p.meanSqrtLen) parts.push(sum.map((s) => s / Math.sqrt(n)));
  }
  if (p.weightedMean) {
    // Position weights 1..n.
    const acc = new Float64Array(H);
    for (let t = 0; t < n; t++) for (let i = 0; i < H; i++) acc[i] += (t + 1) * hs[t * H + i];
    const total = (n * (n + 1)) / 2;
    parts.push(acc.map((s) => s / total));
  }
  if (p.lastToken) parts.push(hs.slice((n - 1) * H, n * H));
  const out = new Float64Array(parts.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const part of parts) {
    out.set(part, off);
    off += part.length;
  }
  return out;
}

function l2Normalize(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.max(Math.sqrt(s), 1e-12);
  return v.map((x) => x / norm);
}

function embedOne(modules: ReferenceModule[], ids: readonly number[]): Float64Array {
  const bert = modules[0] as BertModule;
  let hs: Float64Array = bertForward(bert, ids);
  let pooled = false;
  for (const m of modules.slice(1)) {
    switch (m.kind) {
      case 'transformer':
        throw new Error('reference: only one Transformer module is supported');
      case 'pooling':
        hs = pool(m, hs, ids.length, bert.hidden);
        pooled = true;
        break;
      case 'dense': {
        if (!pooled) throw new Error('reference: Dense before Pooling is not supported');
        if (hs.length !== m.inFeatures)
          throw new Error(`reference: Dense expects ${m.inFeatures} features, got ${hs.length}`);
        const y = linear(hs, 1, m.inFeatures, m.weight, m.bias, m.outFeatures);
        for (let i = 0; i < y.length; i++) y[i] = m.act(y[i]);
        hs = y;
        break;
      }
      case 'normalize':
        if (!pooled) throw new Error('reference: Normalize before Pooling is not supported');
        hs = l2Normalize(hs);
        break;
    }
  }
  if (!pooled) throw new Error('reference: modules.json has no Pooling module');
  return hs;
}

/**
 * Float64 sentence-transformers embedding of each token-id sequence, each run
 * on its own (no padding, token_type_ids 0, positions 0..len-1). With
 * `normalize` (default true) the result is additionally L2-normalised.
 */
export async function referenceEmbed(
  dir: string,
  batch: number[][],
  options?: { normalize?: boolean },
): Promise<Float64Array[]> {
  const modules = await loadCached(dir);
  const normalize = options?.normalize ?? true;
  return batch.map((ids) => {
    const v = embedOne(modules, ids);
    return normalize ? l2Normalize(v) : v;
  });
}

/** Float64 BERT last hidden state of each token-id sequence, run on its own: [tokens × hidden], row-major. */
export async function referenceHiddenStates(dir: string, batch: number[][]): Promise<Float64Array[]> {
  const bert = (await loadCached(dir))[0] as BertModule;
  return batch.map((ids) => bertForward(bert, ids));
}
