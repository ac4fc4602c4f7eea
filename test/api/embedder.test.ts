// Embedder lifecycle in Node (worker_threads): failed restarts, prompt dispose, AbortSignal, the stall watchdog,
// and the start handshake. (That a busy worker still answers heartbeats is tested on RunQueue, in test/engine/queue.test.ts.) Each case hung or failed on the commit before these fixes.
import { createServer, type Server } from 'node:http';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, startNodeWorker } from '../../src/node/create-embedder.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';

/** The real node-worker entry, plus a test hook: the message 'hang' spins forever (a thread that stops answering). */
function hangableWorker(): Worker {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
    /index\.cjs$/,
    'index.mjs',
  );
  const entry = new URL('../../src/node/node-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then(async (m) => {
    m.register();
    const { parentPort } = await import('node:worker_threads');
    await import(${JSON.stringify(entry)}); // first: messages that arrive before comlink listens must reach comlink
    parentPort.on('message', (d) => { if (d === 'hang') for (;;) {} });
  })`;
  return new Worker(boot, { eval: true, workerData: { threads: 1, backend: 'wasm' } });
}

/** Settles with the outcome of `p`, or 'timeout' after `ms` (so a hang fails the assertion instead of the test runner). */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error as { code?: string; message?: string } }),
    ),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms)),
  ]);

describe('Embedder lifecycle (Node worker thread)', () => {
  let root: string;
  let bundleDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-lifecycle-'));
    bundleDir = await (
      await compiledFixture({ layers: 2, hidden: 64, heads: 4, ffn: 128, dim: 32, maxPositions: 128, maxSeqLength: 64 })
    ).bundleDir();
  }, 60_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a failed restart after a crash leaves the next call free to try again', async () => {
    const dir = join(root, 'flaky');
    await cp(bundleDir, dir, { recursive: true });
    let worker: Worker | undefined;
    const e = await createEmbedder({
      model: dir,
      threads: 1,
      backend: 'wasm',
      worker: () => (worker = startNodeWorker({ threads: 1, backend: 'wasm' })),
    });
    try {
      await worker!.terminate(); // crash
      await rename(dir, `${dir}.gone`); // the model folder is briefly gone: the restart fails
      await expect(e.embed(['x'])).rejects.toMatchObject({ code: 'MODEL_FETCH_FAILED' });
      await rename(`${dir}.gone`, dir);
      expect((await e.embed(['back again'])).length).toBe(32);
    } finally {
      await e.dispose();
    }
  }, 60_000);

  it('dispose() during an embed rejects the pending call with DISPOSED at once, without the 2 s grace', async () => {
    let worker: Worker | undefined;
    const e = await createEmbedder({
      model: bundleDir,
      threads: 1,
      backend: 'wasm',
      worker: () => (worker = hangableWorker()),
    });
    worker!.postMessage('hang'); // the worker is busy and answers nothing until it is terminated
    const pending = e.embed(['queued behind the busy work']);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const disposing = e.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'DISPOSED' });
    await disposing;
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000); // before the fix: at least 2000 (the dispose timeout)
  }, 60_000);

  it('createEmbedder takes an AbortSignal: a stalled server no longer hangs it, and the worker is stopped', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const stalled: Server = createServer(() => {}); // accepts, never answers
    stalled.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(stalled.address() as { port: number }).port}/bundle/`;
    let worker: Worker | undefined;
    try {
      const exited = new Promise<number>((r) => setTimeout(() => worker!.once('exit', r), 0));
      const r = await within(
        createEmbedder({
          model: url,
          threads: 1,
          backend: 'wasm',
          signal: AbortSignal.timeout(1500),
          worker: () => (worker = startNodeWorker({ threads: 1, backend: 'wasm' })),
        }),
        20_000,
      );
      expect(r).not.toBe('timeout');
      expect(r).toMatchObject({ error: { code: 'ABORTED' } });
      expect((r as { error: { message: string } }).error.message).toMatch(/timed out/);
      expect(await within(exited, 5000)).toMatchObject({ value: expect.any(Number) }); // nothing left running
      // An already-aborted signal rejects before any worker starts.
      const ac = new AbortController();
      ac.abort();
      await expect(createEmbedder({ model: bundleDir, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => stalled.close(r));
    }
  }, 60_000);

  it('a worker that stops answering (no error event, as after an OOM kill) is noticed: WORKER_CRASHED, then a fresh worker', async () => {
    const workers: Worker[] = [];
    const e = await createEmbedder({
      model: bundleDir,
      threads: 1,
      backend: 'wasm',
      stallTimeoutMs: 10_000,
      worker: () => {
        const w = hangableWorker();
        workers.push(w);
        return w;
      },
    });
    try {
      expect((await e.embed(['before'])).length).toBe(32);
      workers[0].postMessage('hang');
      const r = await within(e.embed(['during']), 20_000);
      expect(r).not.toBe('timeout');
      expect(r).toMatchObject({ error: { code: 'WORKER_CRASHED' } });
      expect((r as { error: { message: string } }).error.message).toMatch(/stopped answering/);
      expect((await e.embed(['after'])).length).toBe(32);
      expect(workers.length).toBe(2);
    } finally {
      await e.dispose();
    }
  }, 60_000);

  it('a worker that fails to load or never starts gives WORKER_START_FAILED naming the cause', async () => {
    const missing = new URL('file:///nonexistent-hpd/worker.js');
    const a = await within(createEmbedder({ model: bundleDir, worker: () => new Worker(missing) }), 20_000);
    expect(a).toMatchObject({ error: { code: 'WORKER_START_FAILED' } });
    expect((a as { error: { message: string } }).error.message).toMatch(/did not start.*Likely causes/s);
    // Loads fine but is not hpd-embed's worker: nothing answers the handshake.
    const b = await within(
      createEmbedder({
        model: bundleDir,
        startTimeoutMs: 1000,
        worker: () => new Worker('setInterval(() => {}, 1000)', { eval: true }),
      }),
      20_000,
    );
    expect(b).toMatchObject({ error: { code: 'WORKER_START_FAILED' } });
    expect((b as { error: { message: string } }).error.message).toMatch(/no answer within 1000 ms/);
    // new Worker() itself throwing (some browsers do on a CSP violation) is the same typed error.
    await expect(
      createEmbedder({
        model: bundleDir,
        worker: () => {
          throw new Error('refused by policy');
        },
      }),
    ).rejects.toMatchObject({ code: 'WORKER_START_FAILED', message: expect.stringMatching(/refused by policy/) });
    await expect(createEmbedder({ model: bundleDir, stallTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  }, 60_000);

  it('metadata structured clone rejects is INVALID_INPUT naming the field, never a DataCloneError; nothing is added', async () => {
    const e = await createEmbedder({ model: bundleDir, threads: 1, backend: 'wasm' });
    try {
      const h = e.index('clone-checks');
      const v = new Float32Array(2 * e.dim).fill(0.5);
      const bad: [Promise<unknown>, RegExp][] = [
        [
          h.addVectors(['a', 'b'], v, [{ ok: 1 }, { tags: { fn: () => 1 } }] as never),
          /metadata\[1\]\.tags\.fn is a function/,
        ],
        [h.upsertVectors(['a', 'b'], v, [undefined, { s: Symbol('s') }] as never), /metadata\[1\]\.s is a symbol/],
        [h.addTexts(['a'], ['x'], [{ w: new WeakMap() }] as never), /metadata\[0\]\.w is a WeakMap/],
        [h.upsertTexts(['a'], ['x'], [{ n: 1n }] as never), /metadata\[0\]\.n is a bigint/],
        [h.search('x', 1, { filter: () => true } as never), /filter: a function cannot cross/],
        // What the checks do not look into still fails typed: a Proxy in place of the vectors.
        [
          h.addVectors(['a', 'b'], new Proxy(v, {}), undefined),
          /addVectors\(\): an argument cannot be sent to the worker/,
        ],
      ];
      for (const [call, pattern] of bad) {
        const err = await call.then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(err).toMatchObject({ code: 'INVALID_INPUT' });
        expect((err as Error).message).toMatch(pattern);
      }
      expect((await h.stats()).size).toBe(0);
      // The same handle still works, and a plain copy of the metadata was stored.
      const meta = { tags: ['t'] };
      await h.addVectors(['a'], v.subarray(0, e.dim), [meta]);
      meta.tags.push('later');
      expect(await h.metadata('a')).toEqual({ tags: ['t'] });
    } finally {
      await e.dispose();
    }
  }, 60_000);
});
