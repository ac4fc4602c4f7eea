import { fillInputs, planBatches, type Row } from './batcher.js';
import type { Ort, OrtSession } from './ort-types.js';
import { routeBatch } from './route.js';

const YIELD_EVERY_MS = 100;

interface Job {
  rows: Row[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface QueueOptions {
  batchSize: number;
  /** Upper bound on padded tokens in one session run. */
  maxBatchTokens: number;
  /** Upper bound on rows taken into one coalesced round. */
  maxRoundRows: number;
}

/**
 * Serialises session runs (a WebGPU session is unsafe under concurrent run(), onnxruntime#32561)
 * and coalesces every request waiting at that moment into one length-sorted set of batches.
 */
export class RunQueue {
  private pending: Job[] = [];
  private running = false;
  private ids = new BigInt64Array(0);
  private mask = new BigInt64Array(0);

  /** A second (wasm) session for small batches, and the largest batch it takes (see route.ts). */
  private small: { session: OrtSession; maxRows: number } | null = null;

  constructor(private ort: Ort, private session: OrtSession, private dim: number, private opts: QueueOptions) {}

  /** Routes batches of at most `maxRows` rows to `session` (wasm) and larger ones to the primary session. */
  routeSmallBatches(session: OrtSession, maxRows: number): void {
    this.small = { session, maxRows };
  }

  /** Resolves once every row's vector has been written to its `out`. */
  submit(rows: Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
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
        while (this.pending.length && (round.length === 0 || n + this.pending[0].rows.length <= this.opts.maxRoundRows)) {
          const job = this.pending.shift()!;
          round.push(job);
          n += job.rows.length;
        }
        try {
          await this.runRound(round.flatMap((j) => j.rows));
          for (const j of round) j.resolve();
        } catch (e) {
          for (const j of round) j.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runRound(rows: Row[]): Promise<void> {
    let lastYield = Date.now();
    for (const batch of planBatches(rows, this.opts.batchSize, this.opts.maxBatchTokens)) {
      // Runs may resolve through microtasks only; let messages (the page's heartbeat, dispose) in now and then.
      if (Date.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = Date.now();
      }
      const B = batch.rows.length, S = batch.seqLen;
      if (this.ids.length < B * S) {
        this.ids = new BigInt64Array(B * S);
        this.mask = new BigInt64Array(B * S);
      }
      fillInputs(batch, this.ids, this.mask);
      const feeds = {
        input_ids: new this.ort.Tensor('int64', this.ids.subarray(0, B * S), [B, S]),
        attention_mask: new this.ort.Tensor('int64', this.mask.subarray(0, B * S), [B, S]),
      };
      const session = this.small !== null && routeBatch(B, this.small.maxRows) === 'wasm' ? this.small.session : this.session;
      const result = await session.run(feeds);
      const y = result.sentence_embedding;
      const data = y.data as Float32Array;
      const dim = this.dim;
      batch.rows.forEach((r, b) => r.out.set(data.subarray(b * dim, (b + 1) * dim), r.offset));
      y.dispose();
    }
  }
}
