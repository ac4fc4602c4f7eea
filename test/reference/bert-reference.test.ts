// Sanity tests of the float64 BERT reference itself, on tiny random
// checkpoints written by a safetensors writer local to this file.

import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erf, referenceEmbed } from './bert-reference.js';
import { parseSafetensors } from './safetensors-read.js';
import { seededRandom } from '../../src/seeded-random.js';

// ---------------------------------------------------------------------------
// Helpers: rng, rounding encoders, safetensors writer, checkpoint builder

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** float64 → binary16 with round-to-nearest-even; returns bits and the exact rounded value. */
function toHalf(x: number): { bits: number; value: number } {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const s = sign ? -1 : 1;
  const ax = Math.abs(x);
  if (ax < 2 ** -14) {
    const m = roundHalfEven(ax / 2 ** -24); // may round up to 0x400, the smallest normal
    return { bits: sign | m, value: s * m * 2 ** -24 };
  }
  let e = Math.floor(Math.log2(ax));
  while (2 ** e > ax) e--;
  while (2 ** (e + 1) <= ax) e++;
  let m = roundHalfEven(ax / 2 ** (e - 10));
  if (m === 2048) {
    m = 1024;
    e++;
  }
  if (e > 15) return { bits: sign | 0x7c00, value: s * Infinity };
  return { bits: sign | ((e + 15) << 10) | (m - 1024), value: s * m * 2 ** (e - 10) };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float64 → bfloat16 (via float32) with round-to-nearest-even. */
function toBf16(x: number): { bits: number; value: number } {
  f32[0] = x;
  const u = u32[0];
  const bits = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
  u32[0] = bits << 16;
  return { bits, value: f32[0] };
}

type Dtype = 'F32' | 'F16' | 'BF16';
type Tensors = Map<string, { shape: number[]; values: Float64Array }>;

/** Rounds every tensor in place to what `dtype` will store. */
function roundTo(tensors: Tensors, dtype: Dtype): void {
  for (const { values } of tensors.values()) {
    for (let i = 0; i < values.length; i++) {
      values[i] =
        dtype === 'F32' ? Math.fround(values[i]) : dtype === 'F16' ? toHalf(values[i]).value : toBf16(values[i]).value;
    }
  }
}

function encodeSafetensors(tensors: Tensors, dtype: Dtype, metadata?: Record<string, string>): Uint8Array {
  const width = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.values.length * width;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    for (const v of t.values) {
      if (dtype === 'F32') view.setFloat32(pos, v, true);
      else view.setUint16(pos, dtype === 'F16' ? toHalf(v).bits : toBf16(v).bits, true);
      pos += width;
    }
  }
  return out;
}

interface Spec {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  maxPos: number;
  eps: number;
  pooling: Partial<Record<'cls' | 'max' | 'mean' | 'mean_sqrt_len', boolean>>;
  dense?: { out: number; activation: string; bias: boolean };
  normalizeModule: boolean;
  dtype: Dtype;
  prefix: string;
  legacyLayerNorm: boolean;
  seed: number;
}

const baseSpec: Spec = {
  layers: 2,
  hidden: 8,
  heads: 2,
  ffn: 16,
  vocab: 50,
  maxPos: 32,
  eps: 1e-12,
  pooling: { mean: true },
  dense: { out: 4, activation: 'torch.nn.modules.activation.Tanh', bias: true },
  normalizeModule: true,
  dtype: 'F32',
  prefix: '',
  legacyLayerNorm: false,
  seed: 1,
};

/** Random BERT weights with HF names (no prefix), as float64 values. */
function randomBert(spec: Spec): Tensors {
  const r = seededRandom(spec.seed);
  const t: Tensors = new Map();
  const H = spec.hidden;
  const add = (name: string, shape: number[], scale: number, center = 0): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = center + scale * (2 * r() - 1);
    t.set(name, { shape, values });
  };
  add('embeddings.word_embeddings.weight', [spec.vocab, H], 1);
  add('embeddings.position_embeddings.weight', [spec.maxPos, H], 0.5);
  add('embeddings.token_type_embeddings.weight', [2, H], 0.5);
  add('embeddings.LayerNorm.weight', [H], 0.2, 1);
  add('embeddings.LayerNorm.bias', [H], 0.1);
  const ws = 1 / Math.sqrt(H);
  for (let i = 0; i < spec.layers; i++) {
    const b = `encoder.layer.${i}`;
    for (const qkv of ['query', 'key', 'value']) {
      add(`${b}.attention.self.${qkv}.weight`, [H, H], ws);
      add(`${b}.attention.self.${qkv}.bias`, [H], 0.1);
    }
    add(`${b}.attention.output.dense.weight`, [H, H], ws);
    add(`${b}.attention.output.dense.bias`, [H], 0.1);
    add(`${b}.attention.output.LayerNorm.weight`, [H], 0.2, 1);
    add(`${b}.attention.output.LayerNorm.bias`, [H], 0.1);
    add(`${b}.intermediate.dense.weight`, [spec.ffn, H], ws);
    add(`${b}.intermediate.dense.bias`, [spec.ffn], 0.1);
    add(`${b}.output.dense.weight`, [H, spec.ffn], 1 / Math.sqrt(spec.ffn));
    add(`${b}.output.dense.bias`, [H], 0.1);
    add(`${b}.output.LayerNorm.weight`, [H], 0.2, 1);
    add(`${b}.output.LayerNorm.bias`, [H], 0.1);
  }
  return t;
}

function poolingWidth(spec: Spec): number {
  const modes = ['cls', 'max', 'mean', 'mean_sqrt_len'] as const;
  return modes.filter((m) => spec.pooling[m]).length * spec.hidden;
}

function randomDense(spec: Spec): Tensors {
  const r = seededRandom(spec.seed + 1000);
  const inF = poolingWidth(spec);
  const out = spec.dense!.out;
  const t: Tensors = new Map();
  const w = new Float64Array(out * inF).map(() => (2 * r() - 1) / Math.sqrt(inF));
  t.set('linear.weight', { shape: [out, inF], values: w });
  if (spec.dense!.bias)
    t.set('linear.bias', { shape: [out], values: new Float64Array(out).map(() => 0.2 * (2 * r() - 1)) });
  return t;
}

let root = '';
let counter = 0;

/**
 * Writes a sentence-transformers checkpoint. Weights are rounded in place to
 * the stored dtype, so the returned tensors hold exactly what the file holds.
 */
async function writeCheckpoint(
  overrides: Partial<Spec> = {},
  mutate?: (bert: Tensors) => void,
): Promise<{ dir: string; spec: Spec; bert: Tensors; dense: Tensors | null }> {
  const spec: Spec = { ...baseSpec, ...overrides };
  const dir = join(root, `ckpt-${counter++}`);
  await mkdir(dir, { recursive: true });
  const bert = randomBert(spec);
  mutate?.(bert);
  roundTo(bert, spec.dtype);

  const stored: Tensors = new Map();
  for (const [name, t] of bert) {
    let n = name;
    if (spec.legacyLayerNorm)
      n = n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    stored.set(spec.prefix + n, t);
  }
  await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(stored, spec.dtype, { format: 'pt' }));
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: spec.hidden,
      num_attention_heads: spec.heads,
      num_hidden_layers: spec.layers,
      intermediate_size: spec.ffn,
      hidden_act: 'gelu',
      layer_norm_eps: spec.eps,
      vocab_size: spec.vocab,
      max_position_embeddings: spec.maxPos,
      type_vocab_size: 2,
      position_embedding_type: 'absolute',
    }),
  );

  const modules: { idx: number; name: string; path: string; type: string }[] = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  await mkdir(join(dir, '1_Pooling'));
  await writeFile(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: spec.hidden,
      pooling_mode_cls_token: spec.pooling.cls ?? false,
      pooling_mode_mean_tokens: spec.pooling.mean ?? false,
      pooling_mode_max_tokens: spec.pooling.max ?? false,
      pooling_mode_mean_sqrt_len_tokens: spec.pooling.mean_sqrt_len ?? false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: false,
      include_prompt: true,
    }),
  );

  let dense: Tensors | null = null;
  if (spec.dense) {
    dense = randomDense(spec);
    roundTo(dense, 'F32');
    modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
    await mkdir(join(dir, '2_Dense'));
    await writeFile(
      join(dir, '2_Dense', 'config.json'),
      JSON.stringify({
        in_features: poolingWidth(spec),
        out_features: spec.dense.out,
        bias: spec.dense.bias,
        activation_function: spec.dense.activation,
      }),
    );
    await writeFile(join(dir, '2_Dense', 'model.safetensors'), encodeSafetensors(dense, 'F32'));
  }
  if (spec.normalizeModule) {
    modules.push({
      idx: modules.length,
      name: String(modules.length),
      path: `${modules.length}_Normalize`,
      type: 'sentence_transformers.models.Normalize',
    });
  }
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
  return { dir, spec, bert, dense };
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

// Test-side LayerNorm (one vector).
function ln(x: number[], w: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] {
  const mean = x.reduce((a, c) => a + c, 0) / x.length;
  const variance = x.reduce((a, c) => a + (c - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]);
}

function rows(t: { shape: number[]; values: Float64Array }, r: number): number[] {
  const cols = t.shape[1];
  return Array.from(t.values.subarray(r * cols, (r + 1) * cols));
}

function embeddingRows(bert: Tensors, ids: number[], eps: number): number[][] {
  const word = bert.get('embeddings.word_embeddings.weight')!;
  const pos = bert.get('embeddings.position_embeddings.weight')!;
  const type = bert.get('embeddings.token_type_embeddings.weight')!;
  const w = bert.get('embeddings.LayerNorm.weight')!.values;
  const b = bert.get('embeddings.LayerNorm.bias')!.values;
  return ids.map((id, t) => {
    const wr = rows(word, id);
    const pr = rows(pos, t);
    const tr = rows(type, 0);
    return ln(
      wr.map((v, i) => v + pr[i] + tr[i]),
      w,
      b,
      eps,
    );
  });
}

function meanRows(x: number[][]): number[] {
  return x[0].map((_, i) => x.reduce((a, r) => a + r[i], 0) / x.length);
}

function setTensor(bert: Tensors, name: string, f: (index: number, shape: number[]) => number): void {
  const t = bert.get(name)!;
  for (let i = 0; i < t.values.length; i++) t.values[i] = f(i, t.shape);
}

/** Φ(x) by composite Simpson integration of the normal density (independent of erf). */
function normalCdf(x: number): number {
  const steps = 4000;
  const h = x / steps;
  const phi = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  let s = phi(0) + phi(x);
  for (let k = 1; k < steps; k++) s += (k % 2 === 1 ? 4 : 2) * phi(k * h);
  return 0.5 + (s * h) / 3;
}

// ---------------------------------------------------------------------------

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bert-reference-'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('erf', () => {
  it('matches tabulated values to ~1e-15', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.001, 0.0011283787909692365],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
      [5, 0.9999999999984626],
      [-0.7, -0.6778011938374184],
      [7, 1],
      [-9, -1],
    ];
    for (const [x, want] of table) expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(2e-15);
  });
});

describe('safetensors-read', () => {
  it('decodes known F16 and BF16 bit patterns exactly', () => {
    const half: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x7bff, 65504],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const bf: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x3eab, 0.333984375],
      [0x7f7f, 3.3895313892515355e38],
      [0x0001, 2 ** -133],
    ];
    const build = (dtype: string, items: [number, number][]): Uint8Array => {
      let json = JSON.stringify({
        __metadata__: { k: 'v' },
        t: { dtype, shape: [items.length], data_offsets: [0, 2 * items.length] },
      });
      while (json.length % 8 !== 0) json += ' ';
      const hb = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + hb.length + 2 * items.length);
      const v = new DataView(out.buffer);
      v.setBigUint64(0, BigInt(hb.length), true);
      out.set(hb, 8);
      items.forEach(([bits], i) => v.setUint16(8 + hb.length + 2 * i, bits, true));
      return out;
    };
    const h = parseSafetensors(build('F16', half));
    expect(h.metadata).toEqual({ k: 'v' });
    expect(Array.from(h.tensors.get('t')!.data)).toEqual(half.map(([, v]) => v));
    expect(h.tensors.get('t')!.shape).toEqual([half.length]);
    const b = parseSafetensors(build('BF16', bf));
    expect(Array.from(b.tensors.get('t')!.data)).toEqual(bf.map(([, v]) => v));
    const nan = parseSafetensors(build('F16', [[0x7e00, NaN]]));
    expect(Number.isNaN(nan.tensors.get('t')!.data[0])).toBe(true);
  });

  it('reads rounded F16 / BF16 / F32 values through the writer', () => {
    const values = new Float64Array([0.1, -1 / 3, 1e-6, 123.456, -7e-8, 0]);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const t: Tensors = new Map([['x', { shape: [2, 3], values: values.slice() }]]);
      const bytes = encodeSafetensors(t, dtype);
      roundTo(t, dtype);
      const got = parseSafetensors(bytes).tensors.get('x')!;
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual([2, 3]);
      expect(Array.from(got.data)).toEqual(Array.from(t.get('x')!.values));
      // The rounding really happened (the values are not representable).
      if (dtype !== 'F32') expect(got.data[0]).not.toBe(Math.fround(0.1));
    }
  });

  it('rejects a tensor whose byte range does not match its shape', () => {
    let json = JSON.stringify({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } });
    while (json.length % 8 !== 0) json += ' ';
    const hb = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + hb.length + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    expect(() => parseSafetensors(out)).toThrow(/bytes/);
  });
});

describe('referenceEmbed', () => {
  it('returns unit vectors of the Dense width, each sequence independent of its batch', async () => {
    const { dir } = await writeCheckpoint();
    const a = [1, 5, 9, 2];
    const b = [3, 4, 7, 11, 13, 17, 19, 23, 29, 2];
    const [ea, eb] = await referenceEmbed(dir, [a, b]);
    expect(ea.length).toBe(4);
    expect(Math.abs(norm(ea) - 1)).toBeLessThan(1e-14);
    expect(Math.abs(norm(eb) - 1)).toBeLessThan(1e-14);
    const [alone] = await referenceEmbed(dir, [a]);
    expectClose(alone, ea, 0);
    expect(maxDiff(ea, eb)).toBeGreaterThan(1e-3);
  });

  it('normalize:false leaves the output unnormalised unless modules.json has Normalize', async () => {
    const raw = await writeCheckpoint({ normalizeModule: false, seed: 2 });
    const [v] = await referenceEmbed(raw.dir, [[1, 2, 3]], { normalize: false });
    expect(Math.abs(norm(v) - 1)).toBeGreaterThan(1e-3);
    const [n] = await referenceEmbed(raw.dir, [[1, 2, 3]]);
    expectClose(
      n,
      v.map((x) => x / norm(v)),
      1e-15,
    );

    const withModule = await writeCheckpoint({ normalizeModule: true, seed: 2 });
    const [m] = await referenceEmbed(withModule.dir, [[1, 2, 3]], { normalize: false });
    expectClose(m, n, 1e-15);
  });

  it('pools in sentence-transformers order: cls, max, mean, mean_sqrt_len', async () => {
    const H = baseSpec.hidden;
    const all = await writeCheckpoint({
      pooling: { cls: true, max: true, mean: true, mean_sqrt_len: true },
      dense: undefined,
      normalizeModule: false,
      seed: 3,
    });
    const clsOnly = await writeCheckpoint({
      pooling: { cls: true },
      dense: undefined,
      normalizeModule: false,
      seed: 3,
    });
    const meanOnly = await writeCheckpoint({
      pooling: { mean: true },
      dense: undefined,
      normalizeModule: false,
      seed: 3,
    });
    const opts = { normalize: false };

    // A single token: every pooling mode gives the same vector.
    const [single] = await referenceEmbed(all.dir, [[7]], opts);
    expect(single.length).toBe(4 * H);
    for (let s = 1; s < 4; s++) expectClose(single.subarray(s * H, (s + 1) * H), single.subarray(0, H), 0);
    const [c1] = await referenceEmbed(clsOnly.dir, [[7]], opts);
    const [m1] = await referenceEmbed(meanOnly.dir, [[7]], opts);
    expectClose(m1, c1, 0);

    // Several tokens: the segments relate as their definitions say.
    const ids = [4, 8, 15, 16, 23, 42];
    const [multi] = await referenceEmbed(all.dir, [ids], opts);
    const [cls] = await referenceEmbed(clsOnly.dir, [ids], opts);
    const [mean] = await referenceEmbed(meanOnly.dir, [ids], opts);
    const seg = (s: number): Float64Array => multi.subarray(s * H, (s + 1) * H);
    expectClose(seg(0), cls, 0);
    expectClose(seg(2), mean, 0);
    expectClose(
      seg(3),
      Array.from(mean, (v) => v * Math.sqrt(ids.length)),
      1e-13,
    );
    for (let i = 0; i < H; i++) expect(seg(1)[i]).toBeGreaterThan(seg(2)[i]);
    expect(maxDiff(cls, mean)).toBeGreaterThan(1e-3);
  });

  it('is invariant to token order when position embeddings are zero (mean pooling)', async () => {
    const zeroPos = (bert: Tensors): void => setTensor(bert, 'embeddings.position_embeddings.weight', () => 0);
    const { dir } = await writeCheckpoint({ seed: 4 }, zeroPos);
    const ids = [3, 14, 15, 9, 26, 5];
    const permuted = [26, 3, 5, 15, 14, 9];
    const [a, b] = await referenceEmbed(dir, [ids, permuted]);
    expectClose(b, a, 1e-13);
    // With positions the order matters.
    const withPos = await writeCheckpoint({ seed: 4 });
    const [c, d] = await referenceEmbed(withPos.dir, [ids, permuted]);
    expect(maxDiff(c, d)).toBeGreaterThan(1e-4);
  });

  it('with 0 layers equals mean(LayerNorm(word+pos+type)) → Dense+tanh → L2, computed by hand', async () => {
    const { dir, bert, dense, spec } = await writeCheckpoint({ layers: 0, eps: 1e-5, seed: 5 });
    const ids = [10, 0, 49, 10, 33];
    const pooled = meanRows(embeddingRows(bert, ids, spec.eps));
    const W = dense!.get('linear.weight')!;
    const bias = dense!.get('linear.bias')!.values;
    const y = Array.from({ length: spec.dense!.out }, (_, o) =>
      Math.tanh(bias[o] + rows(W, o).reduce((a, w, i) => a + w * pooled[i], 0)),
    );
    const n = norm(y);
    const [got] = await referenceEmbed(dir, [ids]);
    expectClose(
      got,
      y.map((v) => v / n),
      1e-14,
    );
  });

  it('one layer with uniform attention and an erf-GELU feed-forward matches a hand computation', async () => {
    const H = 8;
    const spec = {
      layers: 1,
      hidden: H,
      heads: 2,
      ffn: 2 * H,
      dense: undefined,
      normalizeModule: false,
      eps: 1e-6,
      seed: 6,
    };
    const b = 'encoder.layer.0';
    const eye = (i: number, shape: number[]): number => (Math.floor(i / shape[1]) === i % shape[1] ? 1 : 0);
    const { dir, bert } = await writeCheckpoint(spec, (t) => {
      // Q = K = 0 → every score is 0 → attention is uniform; V and O are identities.
      for (const name of ['query', 'key']) {
        setTensor(t, `${b}.attention.self.${name}.weight`, () => 0);
        setTensor(t, `${b}.attention.self.${name}.bias`, () => 0);
      }
      setTensor(t, `${b}.attention.self.value.weight`, eye);
      setTensor(t, `${b}.attention.self.value.bias`, () => 0);
      setTensor(t, `${b}.attention.output.dense.weight`, eye);
      setTensor(t, `${b}.attention.output.dense.bias`, () => 0);
      // FFN: intermediate = [I; -I] → [gelu(h), gelu(-h)]; output = [I, I] → gelu(h) + gelu(-h) = h·erf(h/√2).
      setTensor(t, `${b}.intermediate.dense.weight`, (i) => {
        const r = Math.floor(i / H),
          c = i % H;
        return r < H ? (r === c ? 1 : 0) : r - H === c ? -1 : 0;
      });
      setTensor(t, `${b}.intermediate.dense.bias`, () => 0);
      setTensor(t, `${b}.output.dense.weight`, (i) => {
        const r = Math.floor(i / (2 * H)),
          c = i % (2 * H);
        return c % H === r ? 1 : 0;
      });
      setTensor(t, `${b}.output.dense.bias`, () => 0);
    });
    const ids = [2, 7, 1, 8, 28];
    const x = embeddingRows(bert, ids, 1e-6);
    const mx = meanRows(x);
    const attnLn = [
      bert.get(`${b}.attention.output.LayerNorm.weight`)!.values,
      bert.get(`${b}.attention.output.LayerNorm.bias`)!.values,
    ];
    const outLn = [bert.get(`${b}.output.LayerNorm.weight`)!.values, bert.get(`${b}.output.LayerNorm.bias`)!.values];
    const h1 = x.map((row) =>
      ln(
        row.map((v, i) => v + mx[i]),
        attnLn[0],
        attnLn[1],
        1e-6,
      ),
    );
    const h2 = h1.map((row) =>
      ln(
        row.map((v) => v + v * (2 * normalCdf(v) - 1)),
        outLn[0],
        outLn[1],
        1e-6,
      ),
    );
    const [got] = await referenceEmbed(dir, [ids], { normalize: false });
    expectClose(got, meanRows(h2), 1e-12);
  });

  it('one layer of random multi-head attention (FFN zeroed) matches a hand computation', async () => {
    const H = 8,
      heads = 2,
      dh = H / heads;
    const b = 'encoder.layer.0';
    const { dir, bert } = await writeCheckpoint(
      { layers: 1, hidden: H, heads, ffn: 16, dense: undefined, normalizeModule: false, eps: 1e-7, seed: 11 },
      (t) => {
        setTensor(t, `${b}.intermediate.dense.weight`, () => 0);
        setTensor(t, `${b}.intermediate.dense.bias`, () => 0);
        setTensor(t, `${b}.output.dense.weight`, () => 0);
        setTensor(t, `${b}.output.dense.bias`, () => 0);
      },
    );
    const g = (name: string): { shape: number[]; values: Float64Array } => bert.get(`${b}.${name}`)!;
    // x·Wᵀ + b for one vector, with W stored [out, in].
    const lin = (v: number[], name: string): number[] =>
      Array.from(
        { length: H },
        (_, o) => g(`${name}.bias`).values[o] + rows(g(`${name}.weight`), o).reduce((a, w, i) => a + w * v[i], 0),
      );
    const ids = [11, 22, 33, 44];
    const x = embeddingRows(bert, ids, 1e-7);
    const Q = x.map((v) => lin(v, 'attention.self.query'));
    const K = x.map((v) => lin(v, 'attention.self.key'));
    const V = x.map((v) => lin(v, 'attention.self.value'));
    const ctx = x.map((_, i) => {
      const out: number[] = [];
      for (let h = 0; h < heads; h++) {
        const cols = Array.from({ length: dh }, (_, d) => h * dh + d);
        const logits = K.map((k) => cols.reduce((a, c) => a + Q[i][c] * k[c], 0) / Math.sqrt(dh));
        const e = logits.map((l) => Math.exp(l));
        const z = e.reduce((a, c) => a + c, 0);
        for (const c of cols) out.push(e.reduce((a, p, j) => a + (p / z) * V[j][c], 0));
      }
      return out;
    });
    const attnW = g('attention.output.LayerNorm.weight').values,
      attnB = g('attention.output.LayerNorm.bias').values;
    const outW = g('output.LayerNorm.weight').values,
      outB = g('output.LayerNorm.bias').values;
    const h1 = ctx.map((c, t) =>
      ln(
        lin(c, 'attention.output.dense').map((v, i) => v + x[t][i]),
        attnW,
        attnB,
        1e-7,
      ),
    );
    const h2 = h1.map((v) => ln(v, outW, outB, 1e-7));
    const [got] = await referenceEmbed(dir, [ids], { normalize: false });
    expectClose(got, meanRows(h2), 1e-12);
  });

  it('reads F16 and BF16 checkpoints as their rounded values', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const half = await writeCheckpoint({ dtype, seed: 7 });
      // The same rounded values stored as F32 must give the identical embedding.
      const asF32 = await writeCheckpoint({ dtype: 'F32', seed: 7 }, (t) => roundTo(t, dtype));
      const unrounded = await writeCheckpoint({ dtype: 'F32', seed: 7 });
      const ids = [
        [1, 2, 3, 4],
        [40, 41],
      ];
      const a = await referenceEmbed(half.dir, ids);
      const b = await referenceEmbed(asF32.dir, ids);
      const c = await referenceEmbed(unrounded.dir, ids);
      for (let i = 0; i < ids.length; i++) {
        expectClose(a[i], b[i], 0);
        expect(maxDiff(a[i], c[i])).toBeGreaterThan(0);
      }
    }
  });

  it('accepts a bert. prefix and legacy LayerNorm gamma/beta names', async () => {
    const plain = await writeCheckpoint({ seed: 8 });
    const prefixed = await writeCheckpoint({ seed: 8, prefix: 'bert.', legacyLayerNorm: true });
    const ids = [[5, 6, 7], [8]];
    const a = await referenceEmbed(plain.dir, ids);
    const b = await referenceEmbed(prefixed.dir, ids);
    for (let i = 0; i < ids.length; i++) expectClose(b[i], a[i], 0);
  });

  it('supports Dense without bias and Identity activation, and checks in_features', async () => {
    const { dir, bert, dense, spec } = await writeCheckpoint({
      layers: 0,
      seed: 9,
      dense: { out: 3, activation: 'torch.nn.modules.linear.Identity', bias: false },
      normalizeModule: false,
    });
    const ids = [1, 2];
    const pooled = meanRows(embeddingRows(bert, ids, spec.eps));
    const W = dense!.get('linear.weight')!;
    const y = Array.from({ length: 3 }, (_, o) => rows(W, o).reduce((a, w, i) => a + w * pooled[i], 0));
    const [got] = await referenceEmbed(dir, [ids], { normalize: false });
    expectClose(got, y, 1e-14);

    await writeFile(
      join(dir, '2_Dense', 'config.json'),
      JSON.stringify({
        in_features: 9,
        out_features: 3,
        bias: false,
        activation_function: 'torch.nn.modules.linear.Identity',
      }),
    );
    const fresh = join(root, `copy-${counter++}`);
    await mkdir(fresh);
    // A fresh directory (nothing cached) with a mismatched Dense must fail to load.
    await cp(dir, fresh, { recursive: true });
    await expect(referenceEmbed(fresh, [ids])).rejects.toThrow(/shape|features/);
  });

  it('rejects out-of-vocabulary ids, empty and over-long sequences', async () => {
    const { dir } = await writeCheckpoint({ seed: 10 });
    await expect(referenceEmbed(dir, [[50]])).rejects.toThrow(/vocabulary/);
    await expect(referenceEmbed(dir, [[]])).rejects.toThrow(/empty/);
    await expect(referenceEmbed(dir, [Array.from({ length: 33 }, () => 1)])).rejects.toThrow(/max_position/);
  });
});
