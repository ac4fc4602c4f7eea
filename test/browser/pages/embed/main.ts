import {
  createEmbedder,
  type DeviceInfo,
  type Embedder,
  type LoadProgress,
  type ModelInfo,
} from '../../../../src/index.js';

export interface RunOptions {
  model: string;
  device: 'auto' | 'webgpu' | 'wasm';
  texts: string[];
  hubUrl?: string;
  dtype?: 'fp32' | 'fp16' | 'int8';
  capturePlacement?: boolean;
  startTimeoutMs?: number;
}

export interface RunResult {
  vectors: number[];
  device: DeviceInfo;
  info: ModelInfo;
  progress: LoadProgress['stage'][];
  cached: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, code: (e as { code?: string }).code ?? 'UNTYPED', message: (e as Error).message };
  }
}

let crashWorker: Worker | undefined;
let crashEmbedder: Embedder | undefined;

const api = {
  run: (o: RunOptions) =>
    outcome(async (): Promise<RunResult> => {
      const progress: LoadProgress['stage'][] = [];
      const e = await createEmbedder({
        model: o.model,
        device: o.device,
        ...(o.startTimeoutMs ? { startTimeoutMs: o.startTimeoutMs } : {}),
        ...(o.hubUrl ? { hubUrl: o.hubUrl } : {}),
        ...(o.dtype ? { dtype: o.dtype } : {}),
        debug: { capturePlacement: o.capturePlacement ?? false },
        onProgress: (p) => progress.push(p.stage),
      });
      try {
        const v = await e.embed(o.texts);
        return {
          vectors: Array.from(v),
          device: e.device,
          info: e.info,
          progress,
          cached: (await e.cache.list()).length,
        };
      } finally {
        await e.dispose();
      }
    }),
  /** Starts an embedder whose worker can be made to crash. */
  startCrashable: (model: string, device: 'wasm' | 'webgpu' = 'wasm', stallTimeoutMs?: number) =>
    outcome(async () => {
      await crashEmbedder?.dispose();
      crashEmbedder = await createEmbedder({
        model,
        device,
        ...(stallTimeoutMs ? { stallTimeoutMs } : {}),
        worker: () => (crashWorker = new Worker(new URL('./crash-worker.ts', import.meta.url), { type: 'module' })),
      });
      return crashEmbedder.dim;
    }),
  /** Embeds while the worker crashes; then embeds again (which must start a fresh worker). */
  crashDuringEmbed: async (texts: string[]) => {
    const first = crashWorker;
    // The worker handles 'crash' (an uncaught throw) before the embed call queued right behind it.
    first!.postMessage('crash');
    const during = outcome(() => crashEmbedder!.embed(texts).then((v) => v.length));
    const a = await during;
    const b = await outcome(() => crashEmbedder!.embed(['after the crash']).then((v) => v.length));
    return { during: a, after: b, freshWorker: crashWorker !== first };
  },
  /** Destroys the worker's WebGPU device while an embed runs; then embeds again. */
  loseDeviceDuringEmbed: async (texts: string[]) => {
    const first = crashWorker;
    const before = await outcome(() => crashEmbedder!.embed(['before']).then(() => crashEmbedder!.device.actual));
    const during = outcome(() => crashEmbedder!.embed(texts).then((v) => v.length));
    first!.postMessage('lose-device');
    const a = await during;
    const b = await outcome(() => crashEmbedder!.embed(['after the loss']).then((v) => v.length));
    return { before, during: a, after: b, freshWorker: crashWorker !== first, device: crashEmbedder!.device };
  },
  /** The worker stops answering (no error event): the watchdog must notice. */
  hangDuringEmbed: async () => {
    const first = crashWorker;
    first!.postMessage('hang');
    const during = await outcome(() => crashEmbedder!.embed(['during']).then((v) => v.length));
    const after = await outcome(() => crashEmbedder!.embed(['after']).then((v) => v.length));
    return { during, after, freshWorker: crashWorker !== first };
  },
  /** A worker script that does not exist. */
  badWorker: (model: string) =>
    outcome(() =>
      createEmbedder({
        model,
        device: 'wasm',
        startTimeoutMs: 10_000,
        worker: () => new Worker(new URL('/no/such/worker.js', location.href), { type: 'module' }),
      }).then((e) => e.dispose()),
    ),
  errors: async (model: string) => ({
    notArray: await outcome(() =>
      createEmbedder({ model, device: 'wasm' }).then(async (e) => {
        try {
          return await e.embed('x' as unknown as string[]);
        } finally {
          await e.dispose();
        }
      }),
    ),
    badUrl: await outcome(() => createEmbedder({ model: '/no/such/bundle/', device: 'wasm' })),
    // owner/name is a Hub repo id in the browser as in Node; this "Hub" refuses connections.
    hubShaped: await outcome(() =>
      createEmbedder({ model: 'models/fp32', hubUrl: 'http://127.0.0.1:9', device: 'wasm' }),
    ),
  }),
};

declare global {
  interface Window {
    hpd: typeof api;
  }
}
window.hpd = api;
document.getElementById('status')!.textContent = 'ready';
