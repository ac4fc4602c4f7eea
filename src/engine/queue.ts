import { HpdError, InvalidInputError } from '../errors.js';
import { fillInputs, planBatches, type Row } from './batcher.js';
import { MODEL_OUTPUT, runFailed } from './model-check.js';
import type { Ort, OrtSession } from './ort-types.js';
import { routeBatch } from './route.js';

const YIELD_EVERY_MS = 100;

/**
 * Padded tokens (rows × longest row) per session run by default: 32 texts of 128 tokens. It bounds a run's activation
 * memory whatever batchSize is, so a large batchSize fills runs with short texts while long texts stay in small runs.
 */
export const DEFAULT_BATCH_TOKENS = 32 * 128;

interface Job {
  rows: Row[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface QueueOptions {
  /** Upper bound on rows in one session run. */
  batchSize: number;
  /** Upper bound on padded tokens (rows × longest row) in one session run; a longer single row still runs, alone. */
  maxBatchTokens: number;
  /** Upper bound on rows taken into one coalesced round. */
  maxRoundRows: number;
}

/** The engine's queue options: at most `batchSize` texts and DEFAULT_BATCH_TOKENS padded tokens per run. */
export function engineQueueOptions(batchSize: number): QueueOptions {
  return { batchSize, maxBatchTokens: DEFAULT_BATCH_TOKENS, maxRoundRows: 4096 };
}

/** Throws INVALID_INPUT for a row the session cannot run or whose vector has nowhere to go. */
function checkRows(rows: readonly Row[], dim: number): void {
  rows.forEach((r, i) => {
    // fillInputs writes only the low word of each int64 id: a negative id would become a huge one.
    const bad =
      !(r.ids instanceof Int32Array && r.ids.length > 0) || r.ids.some(negative)
        ? 'ids must be a non-empty Int32Array of non-negative token ids'
        : !(
              r.out instanceof Float32Array &&
              Number.isInteger(r.offset) &&
              r.offset >= 0 &&
              r.offset + dim <= r.out.length
            )
          ? `out has no room for a ${dim}-d vector at ${r.offset}`
          : '';
    if (bad) throw new InvalidInputError(`row ${i}: ${bad}.`);
  });
}
const negative = (id: number) => id < 0;

/**
 * Serialises session runs (a WebGPU session is unsafe under concurrent run(), onnxruntime#32561)
 * and coalesces every request waiting at that moment into one length-sorted set of batches.
 * Failures stay with their request: bad rows reject at submit(); a failed run fails only the requests with rows in
 * it, and each of those is re-run alone (when it shared the run), so a request rejects only when its own rows fail.
 */
export class RunQueue {
  private pending: Job[] = [];
  private running = false;
  private ids = new BigInt64Array(0);
  private mask = new BigInt64Array(0);

  /** A second (wasm) session for small batches, and the largest batch it takes (see route.ts). */
  private small: { session: OrtSession; maxRows: number } | null = null;

  constructor(
    private ort: Ort,
    private session: OrtSession,
    private dim: number,
    private opts: QueueOptions,
  ) {}

  /** Routes batches of at most `maxRows` rows to `session` (wasm) and larger ones to the primary session. */
  routeSmallBatches(session: OrtSession, maxRows: number): void {
    this.small = { session, maxRows };
  }

  /** Resolves once every row's vector has been written to its `out`; rejects (INVALID_INPUT, nothing queued) on a bad row. */
  submit(rows: Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    try {
      checkRows(rows, this.dim);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ rows, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Start on the next macrotask: requests already queued behind this one (e.g. many worker messages
        // sent at once) join the same round instead of trickling into rounds of one.
        setTimeout(() => void this.pump(), 0);
      }
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.pending.length) {
        const round: Job[] = [];
        let n = 0;
        while (
          this.pending.length &&
          (round.length === 0 || n + this.pending[0].rows.length <= this.opts.maxRoundRows)
        ) {
          const job = this.pending.shift()!;
          round.push(job);
          n += job.rows.length;
        }
        const failed = await this.runRound(round);
        for (let j = 0; j < round.length; j++) {
          const f = failed.get(j);
          if (!f) round[j].resolve();
          else if (!f.shared) round[j].reject(f.error);
          else {
            // Its rows only shared failed runs with other requests' rows: re-run them alone to learn whose rows fail.
            const again = (await this.runRound([round[j]])).get(0);
            if (again) round[j].reject(again.error);
            else round[j].resolve();
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Runs every row of `jobs`; returns the jobs (by index) that had a row in a failed run, with that run's error and
   * whether every failed run of theirs also held other jobs' rows (`shared`: worth re-running alone).
   */
  private async runRound(jobs: Job[]): Promise<Map<number, { error: unknown; shared: boolean }>> {
    const rows: Row[] = [];
    const jobOf: number[] = [];
    for (let j = 0; j < jobs.length; j++) for (const r of jobs[j].rows) (rows.push(r), jobOf.push(j));
    const failed = new Map<number, { error: unknown; shared: boolean }>();
    let lastYield = Date.now();
    for (const batch of planBatches(rows, this.opts.batchSize, this.opts.maxBatchTokens)) {
      // Runs may resolve through microtasks only; let messages (the page's heartbeat, dispose) in now and then.
      if (Date.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = Date.now();
      }
      try {
        await this.runBatch(batch.rows, batch.seqLen);
      } catch (error) {
        const first = jobOf[batch.index[0]];
        const shared = batch.index.some((i) => jobOf[i] !== first);
        for (const i of batch.index) {
          const f = failed.get(jobOf[i]);
          if (!f) failed.set(jobOf[i], { error, shared });
          else if (!shared) f.shared = false;
        }
      }
    }
    return failed;
  }

  private async runBatch(rows: Row[], S: number): Promise<void> {
    const B = rows.length;
    if (this.ids.length < B * S) {
      this.ids = new BigInt64Array(B * S);
      this.mask = new BigInt64Array(B * S);
    }
    fillInputs({ rows, seqLen: S }, this.ids, this.mask);
    const feeds = {
      input_ids: new this.ort.Tensor('int64', this.ids.subarray(0, B * S), [B, S]),
      attention_mask: new this.ort.Tensor('int64', this.mask.subarray(0, B * S), [B, S]),
    };
    const session =
      this.small !== null && routeBatch(B, this.small.maxRows) === 'wasm' ? this.small.session : this.session;
    let y: Awaited<ReturnType<OrtSession['run']>>[string] | undefined;
    try {
      y = (await session.run(feeds))[MODEL_OUTPUT];
    } catch (e) {
      throw runFailed(e);
    }
    if (!(y?.data instanceof Float32Array && y.data.length === B * this.dim)) {
      y?.dispose();
      throw new HpdError(
        'MODEL_INVALID',
        `the model's "${MODEL_OUTPUT}" output is not ${B} × ${this.dim} float32 values: it does not match its hpd.json; re-compile the bundle (hpd-embed convert).`,
      );
    }
    try {
      const data = y.data as Float32Array;
      const dim = this.dim;
      for (let b = 0; b < B; b++) rows[b].out.set(data.subarray(b * dim, (b + 1) * dim), rows[b].offset);
    } finally {
      y.dispose();
    }
  }
}
