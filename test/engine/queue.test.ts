import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/engine/batcher.js';
import type { Ort, OrtSession } from '../../src/engine/ort-types.js';
import { RunQueue } from '../../src/engine/queue.js';

// A session whose run() blocks the thread for `ms` and resolves through microtasks only, as a wasm run can.
function blockingSession(ms: number, dim: number): OrtSession {
  return {
    run: async (feeds: Record<string, { dims: readonly number[] }>) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      const B = feeds.input_ids.dims[0];
      return { sentence_embedding: { data: new Float32Array(B * dim).fill(1), dispose: () => {} } };
    },
  } as unknown as OrtSession;
}
const fakeOrt = { Tensor: class { constructor(_t: string, _d: unknown, readonly dims: number[]) {} } } as unknown as Ort;

describe('RunQueue', () => {
  it('lets the event loop in between batches of a long round, so the worker still answers heartbeats and dispose', async () => {
    const dim = 4;
    const q = new RunQueue(fakeOrt, blockingSession(20, dim), dim, { batchSize: 1, maxBatchTokens: 64, maxRoundRows: 4096 });
    const out = new Float32Array(60 * dim);
    const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({ ids: Int32Array.of(101, 7, 102), out, offset: i * dim }));
    let done = false;
    const finished = q.submit(rows).then(() => (done = true));
    // A timer due 300 ms in must fire while the 1.2 s round is still running (before the fix: only after it).
    const firedDuring = await new Promise<boolean>((r) => setTimeout(() => r(!done), 300));
    await finished;
    expect(firedDuring).toBe(true);
    expect(out.every((x) => x === 1)).toBe(true);
  });
});
