// Page for the browser bench (bench/browser.bench.ts): cold start split by load stage, and embedding throughput of
// the hpd-embed worker against a raw onnxruntime-web session.run on the same model and sentences in this page.
import { createEmbedder, type LoadProgress } from '../../../../src/index.js';
import { TextTokenizer } from '../../../../src/engine/tokenizer.js';
import type { FloorRequest } from './floor-worker.js';

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
  return { fetch_ms: lastDownload - t0, verify_compile_ms: sessionAt - lastDownload, session_ms: readyAt - sessionAt, first_run_ms: done - readyAt, total_ms: done - t0, stages, from_cache: fromCache, device };
}

/** hpd-embed through its worker (wasm) and raw session.run on length-sorted batches, batch sizes interleaved per round. */
async function throughput(model: string, texts: string[], batches: number[], rounds: number, device: 'wasm' | 'webgpu' = 'wasm'): Promise<Throughput[]> {
  const threads = crossOriginIsolated ? Math.min(2, navigator.hardwareConcurrency) : 1;
  const e = await createEmbedder({ model, device });
  const base = new URL(model, location.href);
  const manifest = (await (await fetch(new URL('hpd.json', base))).json()) as { maxTokens: number; dim: number };
  const floor = new Worker(new URL('./floor-worker.ts', import.meta.url), { type: 'module' });
  const call = (msg: FloorRequest): Promise<{ ok: boolean; ms?: number; message?: string }> =>
    new Promise((resolve, reject) => {
      // Fail loudly instead of hanging if the floor worker never answers.
      const timer = setTimeout(() => reject(new Error(`floor worker: no answer to '${msg.op}' within 300 s`)), 300_000);
      floor.onmessage = (ev: MessageEvent<{ ok: boolean; ms?: number; message?: string }>) => {
        clearTimeout(timer);
        if (ev.data.ok) resolve(ev.data);
        else reject(new Error(ev.data.message));
      };
      floor.onerror = (ev) => {
        clearTimeout(timer);
        reject(new Error(`floor worker failed: ${ev.message}`));
      };
      floor.postMessage(msg);
    });
  await call({ op: 'load', model: await (await fetch(new URL('model.onnx', base))).arrayBuffer(), threads, device });
  const tok = new TextTokenizer(await (await fetch(new URL('tokenizer.json', base))).json(), {}, manifest.maxTokens);
  const ids = texts.map((t) => tok.encode(t).ids);
  const tokens = ids.reduce((a, x) => a + x.length, 0);
  const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
  // Both paths see the same length-sorted order, so batches pad alike.
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
  for (let round = 0; round <= rounds; round++) {
    for (const b of batches) {
      let t = performance.now();
      for (let i = 0; i < sorted.length; i += b) await e.embed(sorted.slice(i, i + b));
      if (round > 0) keep(`hpd-embed worker (${device})|${b}`, performance.now() - t);
      const r = await call({ op: 'run', batches: floorBatches.get(b)! });
      if (round > 0) keep(`floor: raw onnxruntime-web session.run (${device})|${b}`, r.ms ?? NaN);
    }
  }
  await e.dispose();
  await call({ op: 'release' });
  floor.terminate();
  return [...best].map(([k, ms]) => ({ impl: k.split('|')[0], batch: Number(k.split('|')[1]), ms, texts: texts.length, tokens }));
}

/** The WebGPU adapter this page gets (null: none). */
async function adapter(): Promise<{ vendor: string; architecture: string; description: string; isFallbackAdapter: boolean } | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const a = gpu ? await gpu.requestAdapter() : null;
  if (!a) return null;
  const info = (a as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '', isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter) };
}

const api = { coldStart, throughput, adapter };
declare global {
  interface Window {
    hpdBench: typeof api;
  }
}
window.hpdBench = api;
document.getElementById('status')!.textContent = 'ready';
