import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixture } from '../../src/convert/fixture.js';
import { Engine } from '../../src/engine/engine.js';
import { memoryCache } from '../../src/model/cache.js';
import { TINY } from '../helpers/fixtures.js';
import type { Row } from '../../src/engine/batcher.js';
import type { Ort, OrtSession } from '../../src/engine/ort-types.js';
import { DEFAULT_BATCH_TOKENS, RunQueue, engineQueueOptions } from '../../src/engine/queue.js';
import { HpdError } from '../../src/errors.js';

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
const fakeOrt = {
  Tensor: class {
    constructor(
      _t: string,
      _d: unknown,
      readonly dims: number[],
    ) {}
  },
} as unknown as Ort;

describe('RunQueue', () => {
  it('lets the event loop in between batches of a long round, so the worker still answers heartbeats and dispose', async () => {
    const dim = 4;
    const q = new RunQueue(fakeOrt, blockingSession(20, dim), dim, {
      batchSize: 1,
      maxBatchTokens: 64,
      maxRoundRows: 4096,
    });
    const out = new Float32Array(60 * dim);
    const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({
      ids: Int32Array.of(101, 7, 102),
      out,
      offset: i * dim,
    }));
    let done = false;
    const finished = q.submit(rows).then(() => (done = true));
    // A timer due 300 ms in must fire while the 1.2 s round is still running (before the fix: only after it).
    const firedDuring = await new Promise<boolean>((r) => setTimeout(() => r(!done), 300));
    await finished;
    expect(firedDuring).toBe(true);
    expect(out.every((x) => x === 1)).toBe(true);
  });
});

// A session that writes each row's tag (its second token id) into every component, records the [B, S] of each run,
// and fails any run holding the poison id, as ORT does for an out-of-vocabulary id.
const POISON = 666;
class Tensor {
  constructor(
    readonly type: string,
    readonly data: BigInt64Array,
    readonly dims: number[],
  ) {}
}
function taggingSession(dim: number, runs: number[][]): OrtSession {
  return {
    run: async (feeds: Record<string, Tensor>) => {
      const [B, S] = feeds.input_ids.dims;
      runs.push([B, S]);
      const ids = feeds.input_ids.data;
      for (let i = 0; i < B * S; i++)
        if (ids[i] === BigInt(POISON)) throw new Error(`Gather: index ${POISON} out of range`);
      const data = new Float32Array(B * dim);
      for (let b = 0; b < B; b++) data.fill(Number(ids[b * S + 1]), b * dim, (b + 1) * dim);
      return { sentence_embedding: { data, dispose: () => {} } };
    },
  } as unknown as OrtSession;
}
const tagOrt = { Tensor } as unknown as Ort;

/** A request of texts with these token counts; each row's tag is `tag0 + i`. */
function request(lengths: number[], tag0: number, dim: number, poisonAt = -1): { rows: Row[]; out: Float32Array } {
  const out = new Float32Array(lengths.length * dim);
  const rows = lengths.map((n, i) => {
    const ids = new Int32Array(n).fill(7);
    ids[0] = 101;
    ids[1] = tag0 + i;
    if (i === poisonAt) ids[n - 1] = POISON;
    return { ids, out, offset: i * dim };
  });
  return { rows, out };
}
const tags = (out: Float32Array, dim: number) => Array.from({ length: out.length / dim }, (_, i) => out[i * dim]);
async function settle(p: Promise<void>): Promise<'ok' | HpdError | unknown> {
  return p.then(
    () => 'ok',
    (e: unknown) => e,
  );
}

describe('RunQueue: coalescing, order, token budget, failure isolation', () => {
  const dim = 3;
  /** A queue over the tagging session, which pushes each run's [batch, seq] to `runs`. */
  const tagging = (runs: number[][], batchSize: number, maxBatchTokens = 4096) =>
    new RunQueue(tagOrt, taggingSession(dim, runs), dim, { batchSize, maxBatchTokens, maxRoundRows: 4096 });

  it('coalesces requests submitted together into one round and writes every vector to its own row, in input order', async () => {
    const runs: number[][] = [];
    const q = tagging(runs, 32);
    const a = request([9, 2, 5], 10, dim),
      b = request([3, 12], 20, dim),
      c = request([4], 30, dim);
    await Promise.all([q.submit(a.rows), q.submit(b.rows), q.submit(c.rows)]);
    expect(runs).toEqual([[6, 12]]); // one run for three requests
    expect(tags(a.out, dim)).toEqual([10, 11, 12]);
    expect(tags(b.out, dim)).toEqual([20, 21]);
    expect(tags(c.out, dim)).toEqual([30]);
  });

  it('the token budget is real: short texts fill big runs, long ones small runs, none over budget', async () => {
    const runs: number[][] = [];
    const q = tagging(runs, 64, 64);
    const short = request(Array(40).fill(4), 0, dim),
      long = request(Array(5).fill(30), 100, dim);
    await Promise.all([q.submit(short.rows), q.submit(long.rows)]);
    expect(runs).toEqual([
      [16, 4],
      [16, 4],
      [8, 4],
      [2, 30],
      [2, 30],
      [1, 30],
    ]);
    expect(tags(short.out, dim)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(tags(long.out, dim)).toEqual([100, 101, 102, 103, 104]);
  });

  it("the engine's budget bounds padded tokens whatever batchSize is: a large batchSize fills runs with short texts only", async () => {
    const runs: number[][] = [];
    const q = new RunQueue(tagOrt, taggingSession(dim, runs), dim, engineQueueOptions(256));
    const short = request(Array(256).fill(8), 0, dim),
      long = request(Array(64).fill(128), 1000, dim);
    await Promise.all([q.submit(short.rows), q.submit(long.rows)]);
    expect(DEFAULT_BATCH_TOKENS).toBe(4096);
    expect(runs).toEqual([
      [256, 8],
      [32, 128],
      [32, 128],
    ]);
    expect(tags(long.out, dim)).toEqual(Array.from({ length: 64 }, (_, i) => 1000 + i));
  });

  it('a request with a bad row rejects alone with INVALID_INPUT at submit; requests coalesced with it still resolve', async () => {
    const runs: number[][] = [];
    const q = tagging(runs, 32);
    const a = request([3, 4], 10, dim),
      c = request([5], 30, dim);
    const empty = request([3], 0, dim);
    empty.rows[0].ids = new Int32Array(0);
    const negative = request([3], 0, dim);
    negative.rows[0].ids[2] = -5;
    const noRoom = request([3, 3], 0, dim);
    noRoom.rows[1].offset = 4; // 4 + 3 > 6 floats
    const results = await Promise.all([a, empty, negative, noRoom, c].map((r) => settle(q.submit(r.rows))));
    expect(results[0]).toBe('ok');
    expect(results[4]).toBe('ok');
    for (const r of results.slice(1, 4)) {
      expect(r).toBeInstanceOf(HpdError);
      expect((r as HpdError).code).toBe('INVALID_INPUT');
    }
    expect(runs).toEqual([[3, 5]]); // the bad requests never reached the session
    expect(tags(a.out, dim)).toEqual([10, 11]);
    expect(tags(c.out, dim)).toEqual([30]);
  });

  it('a run that fails fails only the request whose rows broke it: the others in that run are re-run alone and resolve', async () => {
    const runs: number[][] = [];
    const q = tagging(runs, 32);
    const a = request([3, 4], 10, dim),
      bad = request([4, 6], 20, dim, 1),
      c = request([5], 30, dim);
    const results = await Promise.all([a, bad, c].map((r) => settle(q.submit(r.rows))));
    expect(results[0]).toBe('ok');
    expect(results[2]).toBe('ok');
    expect((results[1] as Error).message).toContain('out of range');
    expect(tags(a.out, dim)).toEqual([10, 11]);
    expect(tags(c.out, dim)).toEqual([30]);
    // The shared run, then each request alone.
    expect(runs).toEqual([
      [5, 6],
      [2, 4],
      [2, 6],
      [1, 5],
    ]);
    // The queue goes on working after a failure.
    const d = request([3], 40, dim);
    await q.submit(d.rows);
    expect(tags(d.out, dim)).toEqual([40]);
  });

  it('a request whose failed run held only its own rows rejects without a re-run; other runs of the round resolve', async () => {
    const runs: number[][] = [];
    const q = tagging(runs, 2);
    const a = request([3, 3], 10, dim),
      bad = request([9, 9], 20, dim, 0);
    const results = await Promise.all([a, bad].map((r) => settle(q.submit(r.rows))));
    expect(results[0]).toBe('ok');
    expect(results[1]).toBeInstanceOf(Error);
    expect(runs).toEqual([
      [2, 3],
      [2, 9],
    ]);
    expect(tags(a.out, dim)).toEqual([10, 11]);
  });
});

describe('Engine.embed: concurrent requests through one queue (tiny model, wasm)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create(
      { ort, cache: memoryCache(), fetch: (u, i) => fetch(u, i), gpu: {}, wasmThreads: 1 },
      { model: { files: generateFixture(TINY) }, device: 'wasm', batchSize: 4 },
    );
  }, 60_000);
  afterAll(async () => engine?.dispose());

  it('a request that fails validation rejects alone; the requests coalesced with it get the vectors they get alone', async () => {
    const texts = [
      'a short one',
      'the quick brown fox jumps over the lazy dog again and again',
      'x',
      'music for a city road',
    ];
    const alone = await Promise.all(texts.map(async (t) => (await engine.embed([t])).vectors));
    const [good1, bad, good2] = await Promise.allSettled([
      engine.embed(texts.slice(0, 2)),
      engine.embed(['fine', 42 as unknown as string]),
      engine.embed(texts.slice(2)),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_INPUT' });
    expect(good1.status).toBe('fulfilled');
    expect(good2.status).toBe('fulfilled');
    const got = [
      ...[0, 1].map((i) =>
        (good1 as PromiseFulfilledResult<{ vectors: Float32Array }>).value.vectors.subarray(
          i * engine.dim,
          (i + 1) * engine.dim,
        ),
      ),
      ...[0, 1].map((i) =>
        (good2 as PromiseFulfilledResult<{ vectors: Float32Array }>).value.vectors.subarray(
          i * engine.dim,
          (i + 1) * engine.dim,
        ),
      ),
    ];
    got.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(alone[i][j], 5)));
  });
});
