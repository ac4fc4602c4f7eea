// transformers.js v4 `feature-extraction` (mean pooling) for the browser bench, in a module worker as hpd-embed and
// the floor run: it loads the encoder-only ONNX of the same weights, then applies the checkpoint's Dense (tanh) and
// L2 normalisation to the pooled rows (for q8 in int8, as the q8 graph does), so each call gives what hpd-embed's embed() gives (unit vectors).
import { env, pipeline, type FeatureExtractionPipeline } from 'hpd-bench-transformers';

export interface DenseWeights {
  in: number;
  out: number;
  activation: 'tanh' | 'identity';
  /** torch layout [out, in], row-major. */
  weight: number[];
  bias: number[];
  /** The q8 graph's Dense: the weight transposed to [in, out], int8 with one scale per output column. */
  int8?: { weight: number[]; scale: number[] };
}

export type TjsRequest =
  | {
      op: 'load';
      localModelPath: string;
      modelId: string;
      dtype: 'fp32' | 'q8';
      ortWasm: { mjs: string; wasm: string };
      threads: number;
      dense: DenseWeights;
    }
  | { op: 'embed'; texts: string[] }
  | { op: 'release' };

export type TjsResponse =
  | { ok: true; op: 'load'; transformers: string; ort: string; threads: number }
  | { ok: true; op: 'embed'; vectors: Float32Array; dim: number }
  | { ok: true; op: 'release' }
  | { ok: false; message: string };

let extractor: FeatureExtractionPipeline | null = null;
let dense: {
  W: Float32Array;
  b: Float32Array;
  in: number;
  out: number;
  tanh: boolean;
  q?: { W: Int8Array; scale: Float32Array };
} | null = null;

/** ONNX rounding (half to even), as DynamicQuantizeLinear uses. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The q8 graph's Dense, as its ops compute it: DynamicQuantizeLinear of the whole [n, in] input (one uint8 scale and
 * zero point per tensor), MatMulInteger with the int8 weight, times x_scale × w_scale; written out because
 * transformers.js gives the pooled rows in f32.
 */
function int8Dense(x: Float32Array, n: number): Float32Array {
  const d = dense!,
    q = d.q!;
  let lo = 0,
    hi = 0;
  for (const v of x) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  const xScale = Math.fround((hi - lo) / 255);
  const zero = Math.min(255, Math.max(0, roundEven(-lo / xScale)));
  const xq = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) xq[i] = Math.min(255, Math.max(0, roundEven(x[i] / xScale) + zero)) - zero;
  const y = new Float32Array(n * d.out);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < d.out; o++) {
      let acc = 0;
      for (let i = 0; i < d.in; i++) acc += xq[r * d.in + i] * q.W[i * d.out + o];
      y[r * d.out + o] = acc * Math.fround(xScale * q.scale[o]);
    }
  }
  return y;
}

/** Dense (+ tanh) and L2 normalisation of pooled [n, in] rows into [n, out]. */
function head(pooled: Float32Array, n: number): Float32Array {
  const d = dense!;
  const y = new Float32Array(n * d.out);
  const mm = d.q ? int8Dense(pooled, n) : null;
  for (let r = 0; r < n; r++) {
    const x = pooled.subarray(r * d.in, (r + 1) * d.in);
    let sq = 0;
    for (let o = 0; o < d.out; o++) {
      let s = d.b[o];
      if (mm) s += mm[r * d.out + o];
      else {
        const w = d.W.subarray(o * d.in, (o + 1) * d.in);
        for (let i = 0; i < d.in; i++) s += w[i] * x[i];
      }
      const v = d.tanh ? Math.tanh(s) : s;
      y[r * d.out + o] = v;
      sq += v * v;
    }
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let o = 0; o < d.out; o++) y[r * d.out + o] *= inv;
  }
  return y;
}

const handler = async (e: MessageEvent<TjsRequest>): Promise<void> => {
  const m = e.data;
  try {
    if (m.op === 'load') {
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = m.localModelPath;
      env.useBrowserCache = false;
      env.useWasmCache = false;
      // Its own onnxruntime-web build, served from the bench's page (the default is a CDN, unreachable here).
      env.backends.onnx.wasm.wasmPaths = m.ortWasm;
      env.backends.onnx.wasm.numThreads = m.threads;
      dense = {
        W: Float32Array.from(m.dense.weight),
        b: Float32Array.from(m.dense.bias),
        in: m.dense.in,
        out: m.dense.out,
        tanh: m.dense.activation === 'tanh',
        ...(m.dtype === 'q8' && m.dense.int8
          ? { q: { W: Int8Array.from(m.dense.int8.weight), scale: Float32Array.from(m.dense.int8.scale) } }
          : {}),
      };
      extractor = await pipeline('feature-extraction', m.modelId, { device: 'wasm', dtype: m.dtype });
      const res: TjsResponse = {
        ok: true,
        op: 'load',
        transformers: env.version,
        ort: env.backends.onnx.versions?.web ?? 'unknown',
        threads: env.backends.onnx.wasm.numThreads ?? 0,
      };
      self.postMessage(res);
    } else if (m.op === 'embed') {
      const t = await extractor!(m.texts, { pooling: 'mean', normalize: false });
      const vectors = head(t.data, m.texts.length);
      t.dispose();
      const res: TjsResponse = { ok: true, op: 'embed', vectors, dim: dense!.out };
      self.postMessage(res, { transfer: [vectors.buffer] });
    } else {
      await extractor?.dispose();
      extractor = null;
      self.postMessage({ ok: true, op: 'release' } satisfies TjsResponse);
    }
  } catch (err) {
    self.postMessage({ ok: false, message: (err as Error).message } satisfies TjsResponse);
  }
};

// ORT's threaded wasm starts its pthread workers from this same bundle (named 'em-pthread'): they keep emscripten's handler.
if (self.name !== 'em-pthread') self.addEventListener('message', (e: MessageEvent<TjsRequest>) => void handler(e));
