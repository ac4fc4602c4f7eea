// Page for the browser bench (bench/browser.bench.ts): cold start split by load stage, and embedding throughput of
// the hpd-embed worker against a raw onnxruntime-web session.run on the same model and sentences in this page.
import { createEmbedder, type LoadProgress } from '../../../../src/index.js';
import { TextTokenizer } from '../../../../src/engine/tokenizer.js';
import type { FloorRequest } from './floor-worker.js';
import type { DenseWeights, TjsRequest } from './tjs-worker.js';

export interface ColdStart {
  /** ms from createEmbedder to: the last download event (fetch), the session stage (verify + compile), ready (session creation), the first vector (first run). */
  fetch_ms: number;
  verify_compile_ms: number;
  session_ms: number;
  first_run_ms: number;
  total_ms: number;
  stages: string[];
  from_cache: boolean;
  device: string;
}

export interface Throughput {
  impl: string;
  batch: number;
  ms: number;
  texts: number;
  tokens: number;
}

async function coldStart(model: string, dtype?: string): Promise<ColdStart> {
  const t0 = performance.now();
  let lastDownload = t0;
  let sessionAt = NaN;
  let readyAt = NaN;
  let fromCache = false;
  const stages: string[] = [];
  const e = await createEmbedder({
    model,
    device: 'wasm',
    ...(dtype ? { dtype: dtype as 'fp32' } : {}),
    onProgress: (p: LoadProgress) => {
      const now = performance.now();
      if (stages[stages.length - 1] !== p.stage) stages.push(p.stage);
      if (p.stage === 'download') {
        lastDownload = now;
        fromCache ||= p.fromCache;
      } else if (p.stage === 'session' && Number.isNaN(sessionAt)) sessionAt = now;
      else if (p.stage === 'ready') readyAt = now;
    },
  });
  await e.embed(['the first vector']);
  const done = performance.now();
  const device = e.device.actual;
  await e.dispose();
  if (Number.isNaN(sessionAt)) sessionAt = lastDownload;
  if (Number.isNaN(readyAt)) readyAt = sessionAt;
  return {
    fetch_ms: lastDownload - t0,
    verify_compile_ms: sessionAt - lastDownload,
    session_ms: readyAt - sessionAt,
    first_run_ms: done - readyAt,
    total_ms: done - t0,
    stages,
    from_cache: fromCache,
    device,
  };
}

/** transformers.js' side of the comparison: the encoder-only model of the same weights, in transformers.js' layout. */
export interface TjsSetup {
  /** env.localModelPath (a path on this origin) and the model id under it (config.json, tokenizer files, onnx/model[_quantized].onnx, dense.json). */
  localModelPath: string;
  modelId: string;
  dtype: 'fp32' | 'q8';
  /** transformers.js' own onnxruntime-web wasm files, served by the bench. */
  ortWasm: { mjs: string; wasm: string };
}

export interface ThroughputResult {
  rows: Throughput[];
  threads: number;
  /** onnxruntime-web versions: hpd-embed's (and the floor's), transformers.js' own. */
  ort: { hpd: string; transformersJs?: string };
  transformersJs?: string;
  /** transformers.js' vectors (mean pooling × Dense + tanh + normalize) against hpd-embed's, per batch size, same batches. */
  check?: { batch: number; max_abs_diff: number; min_cos: number }[];
}

type Reply = { ok: boolean; message?: string } & Record<string, unknown>;

/** One request at a time to a bench worker; fails loudly instead of hanging if it never answers. */
function caller<Req extends { op: string }>(worker: Worker, name: string): (msg: Req) => Promise<Reply> {
  return (msg) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} worker: no answer to '${msg.op}' within 300 s`)),
        300_000,
      );
      worker.onmessage = (ev: MessageEvent<Reply>) => {
        clearTimeout(timer);
        if (ev.data.ok) resolve(ev.data);
        else reject(new Error(`${name} worker: ${ev.data.message}`));
      };
      worker.onerror = (ev) => {
        clearTimeout(timer);
        reject(new Error(`${name} worker failed: ${ev.message}`));
      };
      worker.postMessage(msg);
    });
}

function compare(a: Float32Array, b: Float32Array, dim: number): { max_abs_diff: number; min_cos: number } {
  if (a.length !== b.length) throw new Error(`vector check: ${a.length / dim} rows against ${b.length / dim}`);
  let maxAbs = 0,
    minCos = Infinity;
  for (let r = 0; r < a.length / dim; r++) {
    let d = 0,
      na = 0,
      nb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    minCos = Math.min(minCos, d / Math.sqrt(na * nb));
  }
  return { max_abs_diff: maxAbs, min_cos: minCos };
}

/**
 * hpd-embed through its worker, raw session.run, and (with `tjs`) transformers.js feature-extraction on the same
 * length-sorted batches, batch sizes interleaved per round; all three use the thread count hpd-embed runs with.
 */
async function throughput(
  model: string,
  texts: string[],
  batches: number[],
  rounds: number,
  device: 'wasm' | 'webgpu' = 'wasm',
  tjs?: TjsSetup,
): Promise<ThroughputResult> {
  const e = await createEmbedder({ model, device });
  const threads = e.device.threads;
  const base = new URL(model, location.href);
  const manifest = (await (await fetch(new URL('hpd.json', base))).json()) as { maxTokens: number; dim: number };
  const floor = new Worker(new URL('./floor-worker.ts', import.meta.url), { type: 'module' });
  const call = caller<FloorRequest>(floor, 'floor');
  const ortHpd = String(
    (await call({ op: 'load', model: await (await fetch(new URL('model.onnx', base))).arrayBuffer(), threads, device }))
      .ort,
  );
  let tjsCall: ReturnType<typeof caller<TjsRequest>> | null = null;
  let tjsWorker: Worker | null = null;
  let tjsInfo: Reply | null = null;
  if (tjs) {
    tjsWorker = new Worker(new URL('./tjs-worker.ts', import.meta.url), { type: 'module' });
    tjsCall = caller<TjsRequest>(tjsWorker, 'transformers.js');
    const dense = (await (
      await fetch(new URL(`${tjs.modelId}/dense.json`, new URL(tjs.localModelPath, location.href)))
    ).json()) as DenseWeights;
    tjsInfo = await tjsCall({ op: 'load', ...tjs, threads, dense });
  }
  const tok = new TextTokenizer(await (await fetch(new URL('tokenizer.json', base))).json(), {}, manifest.maxTokens);
  const ids = texts.map((t) => tok.encode(t).ids);
  const tokens = ids.reduce((a, x) => a + x.length, 0);
  const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
  // Every path sees the same length-sorted order, so batches pad alike.
  const sorted = order.map((k) => texts[k]);
  const best = new Map<string, number>();
  const keep = (k: string, ms: number) => best.set(k, Math.min(best.get(k) ?? Infinity, ms));
  // Pre-built floor batches (no tokenisation or tensor filling inside the floor's timing).
  const floorBatches = new Map<number, { ids: BigInt64Array; mask: BigInt64Array; b: number; s: number }[]>();
  for (const b of batches) {
    const list = [];
    for (let i = 0; i < order.length; i += b) {
      const rows = order.slice(i, i + b).map((k) => ids[k]);
      const S = Math.max(...rows.map((r) => r.length));
      const a = new BigInt64Array(rows.length * S);
      const m = new BigInt64Array(rows.length * S);
      rows.forEach((r, bi) => r.forEach((id, j) => ((a[bi * S + j] = BigInt(id)), (m[bi * S + j] = 1n))));
      list.push({ ids: a, mask: m, b: rows.length, s: S });
    }
    floorBatches.set(b, list);
  }
  await e.embed(texts.slice(0, 8));
  await call({ op: 'run', batches: floorBatches.get(batches[0])!.slice(0, 2) });
  if (tjsCall) await tjsCall({ op: 'embed', texts: texts.slice(0, 8) });
  const tjsName = `transformers.js ${String(tjsInfo?.transformers)} feature-extraction (${device})`;
  const check: NonNullable<ThroughputResult['check']> = [];
  const cat = (xs: Float32Array[]) => {
    const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
    xs.reduce((off, x) => (out.set(x, off), off + x.length), 0);
    return out;
  };
  for (let round = 0; round <= rounds; round++) {
    for (const b of batches) {
      // The last round keeps every vector, for the comparison with transformers.js (outside the timing).
      const mine: Float32Array[] = [],
        theirs: Float32Array[] = [];
      const last = round === rounds && tjsCall !== null;
      const passes: (() => Promise<void>)[] = [
        async () => {
          const t = performance.now();
          for (let i = 0; i < sorted.length; i += b) {
            const v = await e.embed(sorted.slice(i, i + b));
            if (last) mine.push(v);
          }
          if (round > 0) keep(`hpd-embed worker (${device})|${b}`, performance.now() - t);
        },
        async () => {
          const r = await call({ op: 'run', batches: floorBatches.get(b)! });
          if (round > 0) keep(`floor: raw onnxruntime-web session.run (${device})|${b}`, Number(r.ms));
        },
      ];
      if (tjsCall) {
        const tc = tjsCall;
        passes.push(async () => {
          const t = performance.now();
          for (let i = 0; i < sorted.length; i += b) {
            const v = (await tc({ op: 'embed', texts: sorted.slice(i, i + b) })).vectors as Float32Array;
            if (last) theirs.push(v);
          }
          if (round > 0) keep(`${tjsName}|${b}`, performance.now() - t);
        });
      }
      // The order rotates each round, so no implementation always runs right after another's thread pool.
      for (let k = 0; k < passes.length; k++) await passes[(k + round) % passes.length]();
      if (last) check.push({ batch: b, ...compare(cat(mine), cat(theirs), manifest.dim) });
    }
  }
  await e.dispose();
  await call({ op: 'release' });
  floor.terminate();
  if (tjsCall) await tjsCall({ op: 'release' });
  tjsWorker?.terminate();
  // One fixed order (hpd-embed, floor, transformers.js), whichever pass ran first.
  const rank = (impl: string) => (impl.startsWith('hpd-embed') ? 0 : impl.startsWith('floor') ? 1 : 2);
  const rows = [...best]
    .map(([k, ms]) => ({ impl: k.split('|')[0], batch: Number(k.split('|')[1]), ms, texts: texts.length, tokens }))
    .sort((a, b) => a.batch - b.batch || rank(a.impl) - rank(b.impl));
  return {
    rows,
    threads,
    ort: { hpd: ortHpd, ...(tjsInfo ? { transformersJs: String(tjsInfo.ort) } : {}) },
    ...(tjsInfo ? { transformersJs: String(tjsInfo.transformers), check } : {}),
  };
}

export interface WebgpuFunctional {
  device: string;
  adapter: unknown;
  texts: number;
  batch: number;
  /** Wall time of the WebGPU pass: on a software adapter this is not a performance number. */
  ms: number;
  /** Against the wasm vectors of the same batches. */
  min_cos: number;
  max_abs_diff: number;
}

/** hpd-embed on WebGPU against its wasm vectors, same batches: a functional check (the adapter may be software). */
async function webgpuFunctional(model: string, texts: string[], batch: number): Promise<WebgpuFunctional> {
  const gpu = await createEmbedder({ model, device: 'webgpu' });
  const cpu = await createEmbedder({ model, device: 'wasm' });
  try {
    if (gpu.device.actual !== 'webgpu')
      throw new Error(`device 'webgpu' ran on ${gpu.device.actual}: ${gpu.device.reason}`);
    await gpu.embed(texts.slice(0, batch));
    const a: Float32Array[] = [],
      b: Float32Array[] = [];
    const t = performance.now();
    for (let i = 0; i < texts.length; i += batch) a.push(await gpu.embed(texts.slice(i, i + batch)));
    const ms = performance.now() - t;
    for (let i = 0; i < texts.length; i += batch) b.push(await cpu.embed(texts.slice(i, i + batch)));
    const cat = (xs: Float32Array[]) => {
      const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
      xs.reduce((off, x) => (out.set(x, off), off + x.length), 0);
      return out;
    };
    return {
      device: gpu.device.actual,
      adapter: gpu.device.adapter ?? null,
      texts: texts.length,
      batch,
      ms,
      ...compare(cat(a), cat(b), gpu.info.dim),
    };
  } finally {
    await gpu.dispose();
    await cpu.dispose();
  }
}

/** The WebGPU adapter this page gets (null: none). */
async function adapter(): Promise<{
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
} | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const a = gpu ? await gpu.requestAdapter() : null;
  if (!a) return null;
  const info = (a as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(
      info?.isFallbackAdapter ?? (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
  };
}

const api = { coldStart, throughput, adapter, webgpuFunctional };
declare global {
  interface Window {
    hpdBench: typeof api;
  }
}
window.hpdBench = api;
document.getElementById('status')!.textContent = 'ready';
