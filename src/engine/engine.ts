import type { BundleManifest, WeightDtype } from '../bundle/manifest.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { loadModel } from '../model/load.js';
import type { ModelSpec } from '../model/spec.js';
import type { LoadProgress } from '../model/progress.js';
import type { Row } from './batcher.js';
import type { DeviceInfo, DeviceRequest } from './device.js';
import type { Ort, OrtSession } from './ort-types.js';
import { RunQueue, engineQueueOptions, type QueueOptions } from './queue.js';
import {
  GOLDEN_MIN_COSINE,
  embedWith,
  minCosine,
  readVerdict,
  verdictKey,
  writeVerdict,
  type GoldenVerdict,
} from './golden.js';
import { buildBundle } from './build-bundle.js';
import { DEFAULT_WASM_MAX_ROWS, measureCrossover } from './route.js';
import { checkModelBytes, checkSession, creationFailed } from './model-check.js';
import { createSession } from './session.js';
import { TextTokenizer } from './tokenizer.js';
import { validateTexts } from '../text/validate-texts.js';
import type { Platform } from './platform.js';

export type { Platform };

export interface EngineOptions {
  /** A bundle folder URL (with hpd.json), a Hugging Face repo id (`owner/name[@revision]`), or `{ files }`. */
  model: ModelSpec;
  /** `auto` (default): WebGPU on a hardware adapter, else wasm. */
  device?: DeviceRequest;
  /** Weight dtype when compiling a checkpoint (default fp32); must match a compiled bundle's. */
  dtype?: WeightDtype;
  /** Most texts per session run (default 32); a run also holds at most DEFAULT_BATCH_TOKENS (4096) padded tokens, so long texts run in smaller batches. */
  batchSize?: number;
  /** Hugging Face host (default https://huggingface.co), e.g. a mirror or a local test server. */
  hubUrl?: string;
  onProgress?: (p: LoadProgress) => void;
  /** Called once if the WebGPU device is lost (driver reset, GPU process crash); the engine is unusable afterwards. */
  onDeviceLost?: (why: string) => void;
  /** Record ORT's execution-provider placement into `device.placement` (verbose log; slower start). Readable only if no session without it started ORT's runtime in this thread before. */
  capturePlacement?: boolean;
  /**
   * When the session runs on WebGPU, also load a wasm session and run small batches on it (WebGPU's fixed dispatch
   * cost makes it slower than wasm at batch 1 on many GPUs). `true`: batches of at most DEFAULT_WASM_MAX_ROWS (1)
   * rows go to wasm; `{ maxRows }` sets that bound; `{ measure: true }` times both sessions at startup and uses the
   * measured crossover (possibly 0: everything on WebGPU). Costs a second session's memory. Default: off.
   */
  smallBatchesOnWasm?: boolean | { maxRows?: number; measure?: boolean };
}

export interface ModelInfo {
  name: string;
  dim: number;
  maxTokens: number;
  dtype: WeightDtype;
  /** SHA-256 of the bundle's model.onnx (hpd.json files.model.sha256): with name, dim and dtype, the identity index files record. */
  sha256: string;
  device: DeviceInfo['actual'];
  source?: { repo: string; revision: string };
  /** True for a random-weight model (a `hpd-embed fixture` checkpoint or a bundle compiled from one): rankings are meaningless. */
  randomWeights: boolean;
  origin: { kind: 'bundle' | 'checkpoint'; location: string; fromCache: boolean };
}

export interface EmbedResult {
  /** N × dim, row-major, unit length, in input order. */
  vectors: Float32Array;
  /** Indices of inputs longer than maxTokens (truncated, keeping [CLS] … [SEP]). */
  truncated: number[];
}

const DEFAULT_BATCH_SIZE = 32;

interface Running {
  session: OrtSession;
  device: DeviceInfo;
  ort: Ort;
  queue: RunQueue;
}

/** createSession, with a runtime failure as MODEL_INVALID and the session's names checked (released when wrong). */
async function openSession(...args: Parameters<typeof createSession>): ReturnType<typeof createSession> {
  let created: Awaited<ReturnType<typeof createSession>>;
  try {
    created = await createSession(...args);
  } catch (e) {
    throw creationFailed(e);
  }
  try {
    checkSession(created.session);
  } catch (e) {
    await created.session.release().catch(() => undefined);
    throw e;
  }
  return created;
}

// CPU verdicts are cheap to recompute; they are kept for this thread only.
const cpuVerdicts = new Map<string, GoldenVerdict>();

/**
 * The golden check: the first time a model runs on a device and execution provider, embed the bundle's probes and
 * compare with their compile-time CPU vectors. A WebGPU mismatch falls back to wasm (remembered per adapter); a CPU
 * mismatch cannot fall back further and is reported loudly in device.reason rather than failing the load.
 */
async function goldenCheck(
  platform: Platform,
  model: Uint8Array,
  m: BundleManifest,
  tokenizer: TextTokenizer,
  run: Running,
  queueOpts: QueueOptions,
  sessionOpts: { capturePlacement: boolean; dtype?: BundleManifest['dtype']; onProgress?: (p: LoadProgress) => void },
): Promise<Running> {
  const probes = m.probes!;
  const check = async (r: Running): Promise<GoldenVerdict & { remembered: boolean }> => {
    const gpu = r.device.actual === 'webgpu';
    const key = await verdictKey(m, r.device.actual, gpu ? r.device.adapter : undefined);
    const known = gpu ? await readVerdict(platform.cache, key) : cpuVerdicts.get(key);
    if (known) return { ...known, remembered: true };
    const c = minCosine(await embedWith(r.queue, tokenizer, probes.texts, m.dim), probes, m.dim);
    const verdict = { ok: c >= GOLDEN_MIN_COSINE, minCosine: c };
    if (gpu) await writeVerdict(platform.cache, key, verdict);
    else cpuVerdicts.set(key, verdict);
    return { ...verdict, remembered: false };
  };
  const cpuMismatch = (v: GoldenVerdict) =>
    `GOLDEN CHECK FAILED on ${run.device.actual === 'cpu' ? 'the CPU' : 'wasm'} too: probe cosine ${v.minCosine.toFixed(4)} < ${GOLDEN_MIN_COSINE} against the vectors recorded in hpd.json at compile time; the bundle's probes do not match its model (hpd.json edited or damaged?) or this runtime computes wrong vectors`;
  const first = await check(run);
  if (first.ok) return run;
  if (run.device.actual !== 'webgpu')
    return { ...run, device: { ...run.device, reason: `${run.device.reason}; ${cpuMismatch(first)}` } };
  // Wrong vectors are worse than slow ones: leave WebGPU for wasm, whatever was requested.
  await run.session.release();
  const a = run.device.adapter;
  const cpu = await openSession(platform, model, 'wasm', sessionOpts);
  const fallback: Running = { ...cpu, queue: new RunQueue(cpu.ort, cpu.session, m.dim, queueOpts) };
  let reason = `fell back to wasm: the golden check failed on WebGPU${a ? ` (${a.vendor} ${a.architecture})` : ''}: probe cosine ${first.minCosine.toFixed(4)} < ${GOLDEN_MIN_COSINE} against the compile-time CPU vectors${first.remembered ? ' (verdict remembered for this adapter)' : ''}`;
  const second = await check(fallback);
  if (!second.ok) reason += `; ${cpuMismatch(second)}`;
  return {
    ...fallback,
    device: { ...fallback.device, requested: run.device.requested, reason, ...(a ? { adapter: a } : {}) },
  };
}

/** Model + tokenizer + session + queue: everything that turns texts into vectors, on any thread. */
export class Engine {
  private disposed = false;
  private lost: string | undefined;

  private constructor(
    private session: OrtSession,
    private smallSession: OrtSession | null,
    private tokenizer: TextTokenizer,
    private queue: RunQueue,
    readonly info: ModelInfo,
    readonly device: DeviceInfo,
  ) {}

  get dim(): number {
    return this.info.dim;
  }

  static async create(platform: Platform, options: EngineOptions): Promise<Engine> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new InvalidInputError(`batchSize must be a positive integer, got ${batchSize}.`);
    const loaded = await loadModel(options.model, {
      cache: platform.cache,
      fetch: platform.fetch,
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
      ...(options.dtype ? { dtype: options.dtype } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      // A checkpoint compiled here gets its golden probes from a CPU run right away.
      build: (src, o) => {
        platform.ort.env.wasm.numThreads = platform.wasmThreads; // before ORT's wasm starts, or it is ignored
        const cpu = platform.nativeCpu;
        return buildBundle(src, { ...o, probes: cpu ? { ort: cpu, ep: 'cpu' } : { ort: platform.ort, ep: 'wasm' } });
      },
    });
    const m = loaded.manifest;
    const tokenizer = new TextTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, m.maxTokens);
    const sessionOpts = {
      capturePlacement: options.capturePlacement ?? false,
      dtype: m.dtype,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    const queueOpts = engineQueueOptions(batchSize);
    // Before any session: a re-signed bundle whose model does not fit its hpd.json fails here, typed.
    checkModelBytes(loaded.model, m, loaded.tokenizerJson);
    const created = await openSession(platform, loaded.model, options.device ?? 'auto', sessionOpts);
    let run: Running = { ...created, queue: new RunQueue(created.ort, created.session, m.dim, queueOpts) };
    // The golden check runs first: routing small batches to wasm only makes sense once WebGPU is trusted.
    if (m.probes)
      try {
        run = await goldenCheck(platform, loaded.model, m, tokenizer, run, queueOpts, sessionOpts);
      } catch (e) {
        await created.session.release().catch(() => undefined); // a failed probe run must not leak the session
        throw e;
      }
    const { session, device, ort, queue } = run;
    let small: OrtSession | null = null;
    const policy = options.smallBatchesOnWasm;
    if (policy && device.actual === 'webgpu') {
      small = (await openSession(platform, loaded.model, 'wasm', { capturePlacement: false, dtype: m.dtype })).session;
      let maxRows = typeof policy === 'object' && policy.maxRows !== undefined ? policy.maxRows : DEFAULT_WASM_MAX_ROWS;
      let measured = false;
      if (typeof policy === 'object' && policy.measure) {
        const sample = tokenizer.encode('a short query of about ten tokens for timing').ids;
        const wasmSession = small;
        const r = await measureCrossover(async (d, rows) => {
          const S = sample.length;
          const ids = new BigInt64Array(rows * S);
          for (let b = 0; b < rows; b++) for (let t = 0; t < S; t++) ids[b * S + t] = BigInt(sample[t]);
          const feeds = {
            input_ids: new ort.Tensor('int64', ids, [rows, S]),
            attention_mask: new ort.Tensor('int64', new BigInt64Array(rows * S).fill(1n), [rows, S]),
          };
          (await (d === 'wasm' ? wasmSession : session).run(feeds)).sentence_embedding.dispose();
        });
        maxRows = r.wasmMaxRows;
        measured = true;
      }
      queue.routeSmallBatches(small, maxRows);
      device.smallBatches = { device: 'wasm', maxRows, measured };
    }
    options.onProgress?.({ stage: 'ready' });
    const engine = new Engine(
      session,
      small,
      tokenizer,
      queue,
      {
        name: m.name,
        dim: m.dim,
        maxTokens: m.maxTokens,
        dtype: m.dtype,
        sha256: m.files.model.sha256,
        device: device.actual,
        ...(m.source ? { source: m.source } : {}),
        randomWeights: m.randomWeights === true,
        origin: loaded.origin,
      },
      device,
    );
    if (device.actual === 'webgpu') engine.watchDevice(ort, options.onDeviceLost);
    return engine;
  }

  /** ORT's WebGPU device: a loss makes every later run fail with DEVICE_LOST and tells the page, which starts afresh. */
  private watchDevice(ort: Ort, onLost: ((why: string) => void) | undefined): void {
    const dev = (ort.env as { webgpu?: { device?: Promise<GPUDevice> } }).webgpu?.device;
    void Promise.resolve(dev)
      .then((d) =>
        d?.lost.then((info) => {
          if (this.disposed) return;
          this.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
          onLost?.(this.lost);
        }),
      )
      .catch(() => {});
  }

  /** Embeds texts; concurrent calls are queued and coalesced, one session run at a time. */
  async embed(texts: readonly string[]): Promise<EmbedResult> {
    if (this.disposed) throw new HpdError('DISPOSED', 'This embedder was disposed; create a new one.');
    if (this.lost)
      throw new HpdError('DEVICE_LOST', `The WebGPU device was lost (${this.lost}); start the engine again.`);
    validateTexts(texts);
    const dim = this.info.dim;
    const vectors = new Float32Array(texts.length * dim);
    const truncated: number[] = [];
    const rows: Row[] = texts.map((t, i) => {
      const e = this.tokenizer.encode(t);
      if (e.truncated) truncated.push(i);
      return { ids: e.ids, out: vectors, offset: i * dim };
    });
    try {
      await this.queue.submit(rows);
    } catch (e) {
      // A run cut short by dispose() is not a broken model.
      if (this.disposed)
        throw new HpdError('DISPOSED', 'This embedder was disposed during the call; create a new one.', { cause: e });
      // A run that fails because the device just went away reports the loss, not ORT's raw error.
      if (this.device.actual === 'webgpu' && !this.lost) await new Promise((r) => setTimeout(r, 50));
      if (this.lost)
        throw new HpdError('DEVICE_LOST', `The WebGPU device was lost (${this.lost}); start the engine again.`, {
          cause: e,
        });
      throw e;
    }
    return { vectors, truncated };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
    await this.smallSession?.release();
  }
}
