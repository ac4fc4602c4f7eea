import type { WeightDtype } from '../bundle/manifest.js';
import { HpdError } from '../errors.js';
import type { ModelCache } from '../model/cache.js';
import type { FetchLike } from '../model/fetch.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import type { LoadProgress } from '../model/progress.js';
import type { Row } from './batcher.js';
import type { DeviceInfo, DeviceRequest, AdapterProbe } from './device.js';
import type { Ort, OrtSession } from './ort-types.js';
import { RunQueue } from './queue.js';
import { DEFAULT_WASM_MAX_ROWS, measureCrossover } from './route.js';
import { createSession } from './session.js';
import { TextTokenizer } from './tokenizer.js';
import { validateTexts } from './validate.js';

/** What differs between a browser worker and Node: the ORT build, storage, network and GPU access. */
export interface Platform {
  ort: Ort;
  cache: ModelCache;
  fetch: FetchLike;
  gpu: AdapterProbe;
  /** Threads the CPU path may use (wasm: 1 unless crossOriginIsolated in a browser). */
  wasmThreads: number;
  /** A native CPU runtime (onnxruntime-node) that replaces wasm for the non-WebGPU path under device 'auto'. */
  nativeCpu?: Ort;
  baseUrl?: string;
}

export interface EngineOptions {
  /** A bundle folder URL (with hpd.json), a Hugging Face repo id (`owner/name[@revision]`), or `{ files }`. */
  model: ModelSpec;
  /** `auto` (default): WebGPU on a hardware adapter, else wasm. */
  device?: DeviceRequest;
  /** Weight dtype when compiling a checkpoint (default fp32); must match a compiled bundle's. */
  dtype?: WeightDtype;
  /** Texts per session run (default 32). */
  batchSize?: number;
  /** Hugging Face host (default https://huggingface.co), e.g. a mirror or a local test server. */
  hubUrl?: string;
  onProgress?: (p: LoadProgress) => void;
  /** Record ORT's execution-provider placement into `device.placement` (verbose log; slower start). */
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
  device: DeviceInfo['actual'];
  source?: { repo: string; revision: string };
  origin: { kind: 'bundle' | 'checkpoint'; location: string; fromCache: boolean };
}

export interface EmbedResult {
  /** N × dim, row-major, unit length, in input order. */
  vectors: Float32Array;
  /** Indices of inputs longer than maxTokens (truncated, keeping [CLS] … [SEP]). */
  truncated: number[];
}

export const DEFAULT_BATCH_SIZE = 32;

/** Model + tokenizer + session + queue: everything that turns texts into vectors, on any thread. */
export class Engine {
  private disposed = false;

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
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new HpdError('INVALID_INPUT', `batchSize must be a positive integer, got ${batchSize}.`);
    const loaded = await loadModel(options.model, {
      cache: platform.cache,
      fetch: platform.fetch,
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
      ...(options.dtype ? { dtype: options.dtype } : {}),
      ...(platform.baseUrl ? { baseUrl: platform.baseUrl } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const m = loaded.manifest;
    const tokenizer = new TextTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, m.maxTokens);
    const { session, device, ort } = await createSession(platform, loaded.model, options.device ?? 'auto', {
      capturePlacement: options.capturePlacement ?? false,
      dtype: m.dtype,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const queue = new RunQueue(ort, session, m.dim, { batchSize, maxBatchTokens: batchSize * m.maxTokens, maxRoundRows: 4096 });
    let small: OrtSession | null = null;
    const policy = options.smallBatchesOnWasm;
    if (policy && device.actual === 'webgpu') {
      small = (await createSession(platform, loaded.model, 'wasm', { capturePlacement: false, dtype: m.dtype })).session;
      let maxRows = typeof policy === 'object' && policy.maxRows !== undefined ? policy.maxRows : DEFAULT_WASM_MAX_ROWS;
      let measured = false;
      if (typeof policy === 'object' && policy.measure) {
        const sample = tokenizer.encode('a short query of about ten tokens for timing').ids;
        const wasmSession = small;
        const r = await measureCrossover(async (d, rows) => {
          const S = sample.length;
          const ids = new BigInt64Array(rows * S);
          for (let b = 0; b < rows; b++) for (let t = 0; t < S; t++) ids[b * S + t] = BigInt(sample[t]);
          const feeds = { input_ids: new ort.Tensor('int64', ids, [rows, S]), attention_mask: new ort.Tensor('int64', new BigInt64Array(rows * S).fill(1n), [rows, S]) };
          (await (d === 'wasm' ? wasmSession : session).run(feeds)).sentence_embedding.dispose();
        });
        maxRows = r.wasmMaxRows;
        measured = true;
      }
      queue.routeSmallBatches(small, maxRows);
      device.smallBatches = { device: 'wasm', maxRows, measured };
    }
    options.onProgress?.({ stage: 'ready' });
    return new Engine(session, small, tokenizer, queue, {
      name: m.name, dim: m.dim, maxTokens: m.maxTokens, dtype: m.dtype, device: device.actual,
      ...(m.source ? { source: m.source } : {}), origin: loaded.origin,
    }, device);
  }

  /** Embeds texts; concurrent calls are queued and coalesced, one session run at a time. */
  async embed(texts: readonly string[]): Promise<EmbedResult> {
    if (this.disposed) throw new HpdError('DISPOSED', 'This embedder was disposed; create a new one.');
    validateTexts(texts);
    const dim = this.info.dim;
    const vectors = new Float32Array(texts.length * dim);
    const truncated: number[] = [];
    const rows: Row[] = texts.map((t, i) => {
      const e = this.tokenizer.encode(t);
      if (e.truncated) truncated.push(i);
      return { ids: e.ids, out: vectors, offset: i * dim };
    });
    await this.queue.submit(rows);
    return { vectors, truncated };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
    await this.smallSession?.release();
  }
}
