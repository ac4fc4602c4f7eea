import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/api/embedder.js';
import { createEmbedder, startNodeWorker } from '../../src/node/create-embedder.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab } from '../helpers/fixtures.js';
import { maxAbsDiff } from '../helpers/ort-run.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';

const hasNative = await import('onnxruntime-node').then(
  () => true,
  () => false,
);

const SENTENCES = [
  'A man is playing a flute.',
  'The quick brown fox jumps over the lazy dog.',
  '',
  '   ',
  'Search engines rank documents by relevance to a query.',
  'x',
  'A woman is slicing an onion into thin rings for the soup she is making tonight.',
];

describe('createEmbedder (Node, worker thread)', () => {
  let root: string;
  let fx: CompiledFixture;
  let bundleDir: string;
  let embedder: Embedder;
  let hub: HubServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-node-embed-'));
    fx = await compiledFixture(
      withBertVocab({
        layers: 2,
        hidden: 64,
        heads: 4,
        ffn: 128,
        dim: 32,
        maxPositions: 128,
        maxSeqLength: 24,
      }),
    );
    bundleDir = await fx.bundleDir();
    embedder = await createEmbedder({ model: bundleDir, cacheDir: join(root, 'cache'), threads: 1 });
    hub = await startHubServer({ 'test/node-ckpt': { main: fx.checkpointDir } });
  });
  afterAll(async () => {
    await embedder?.dispose();
    await hub?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('returns unit vectors equal to the float64 reference within 1e-4, in input order', async () => {
    expect(embedder.dim).toBe(32);
    // 'auto' in Node: onnxruntime-node's CPU EP when installed (optional peer), else wasm.
    expect(embedder.device).toMatchObject({ requested: 'auto', actual: hasNative ? 'cpu' : 'wasm' });
    expect(embedder.info).toMatchObject({ dim: 32, maxTokens: 24, dtype: 'fp32', device: hasNative ? 'cpu' : 'wasm' });
    const v = await embedder.embed(SENTENCES);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(SENTENCES.length * 32);
    const ref = await fx.expected(SENTENCES, 24);
    let worst = 0;
    ref.forEach((r, i) => (worst = Math.max(worst, maxAbsDiff(v.subarray(i * 32, (i + 1) * 32), r))));
    expect(worst).toBeLessThanOrEqual(1e-4);
    for (let i = 0; i < SENTENCES.length; i++)
      expect(Math.hypot(...v.subarray(i * 32, (i + 1) * 32))).toBeCloseTo(1, 5);
    const one = await embedder.embedOne(SENTENCES[4]);
    expect(maxAbsDiff(one, v.subarray(4 * 32, 5 * 32))).toBeLessThanOrEqual(1e-6);
  });

  it.each(['wasm', 'onnxruntime-node'] as const)(
    'backend %s matches the float64 reference within 1e-4',
    async (backend) => {
      if (backend === 'onnxruntime-node' && !hasNative) {
        console.warn(
          'skipping the onnxruntime-node backend check: the optional peer is not installed (npm ci installs it here as a dev dependency)',
        );
        return;
      }
      const e = await createEmbedder({ model: bundleDir, threads: 1, backend });
      try {
        expect(e.device.actual).toBe(backend === 'wasm' ? 'wasm' : 'cpu');
        const v = await e.embed(SENTENCES);
        const ref = await fx.expected(SENTENCES, 24);
        ref.forEach((r, i) => expect(maxAbsDiff(v.subarray(i * 32, (i + 1) * 32), r)).toBeLessThanOrEqual(1e-4));
      } finally {
        await e.dispose();
      }
    },
  );

  it('keeps input order under 1,000 concurrent calls of random sizes', async () => {
    const pool = Array.from({ length: 60 }, (_, i) => `sentence number ${i} ${'word '.repeat(i % 17)}`);
    const expected = await embedder.embed(pool);
    const rnd = seededRandom(11);
    const calls = Array.from({ length: 1000 }, () =>
      Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * pool.length)),
    );
    const results = await Promise.all(calls.map((idx) => embedder.embed(idx.map((i) => pool[i]))));
    let worst = 0;
    results.forEach((r, c) =>
      calls[c].forEach(
        (p, j) =>
          (worst = Math.max(
            worst,
            maxAbsDiff(r.subarray(j * 32, (j + 1) * 32), expected.subarray(p * 32, (p + 1) * 32)),
          )),
      ),
    );
    expect(worst).toBeLessThanOrEqual(1e-5);
  }, 120_000);

  it('truncates long texts (100k characters too) and reports which', async () => {
    const long = 'the quick brown fox jumps over the lazy dog '.repeat(2500);
    const r = await embedder.embedDetailed(['short', long, 'also short', long.slice(0, 200)]);
    expect(r.truncated).toEqual([1, 3]);
    const prefix = await embedder.embed([long.slice(0, 300)]);
    expect(maxAbsDiff(r.vectors.subarray(32, 64), prefix)).toBeLessThanOrEqual(1e-5); // same first 22 tokens
  });

  it('rejects bad input with INVALID_INPUT and stays usable', async () => {
    await expect(embedder.embed('not an array' as unknown as string[])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(embedder.embed(['ok', 42 as unknown as string])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(embedder.embedOne(null as unknown as string)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await embedder.embed([])).length).toBe(0);
    expect((await embedder.embed(['fine'])).length).toBe(32);
  });

  it('reports device and model errors with stable codes', async () => {
    await expect(createEmbedder({ model: bundleDir, device: 'webgpu', threads: 1 })).rejects.toMatchObject({
      code: 'DEVICE_UNAVAILABLE',
    });
    const missing = await createEmbedder({ model: 'test/nope', hubUrl: hub.url, threads: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(missing).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
    expect(missing?.message).toMatch(/404/);
    await expect(createEmbedder({ model: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('compiles a checkpoint from a Hub-layout server inside the worker, then loads it from cache with the server stopped', async () => {
    const cacheDir = join(root, 'hub-cache');
    const progress: string[] = [];
    const own = await startHubServer({ 'test/node-ckpt': { main: fx.checkpointDir } });
    const a = await createEmbedder({
      model: 'test/node-ckpt',
      hubUrl: own.url,
      cacheDir,
      threads: 1,
      onProgress: (p) => progress.push(p.stage),
    });
    expect(a.info.origin).toMatchObject({ kind: 'checkpoint', fromCache: false });
    expect(progress).toContain('download');
    expect(progress).toContain('compile');
    expect(progress[progress.length - 1]).toBe('ready');
    const va = await a.embed(SENTENCES);
    expect((await a.cache.list()).length).toBeGreaterThan(0);
    await a.dispose();
    await own.close(); // the "Hub" is gone: the same hubUrl now refuses connections
    const b = await createEmbedder({ model: 'test/node-ckpt', hubUrl: own.url, cacheDir, threads: 1 });
    expect(b.info.origin.fromCache).toBe(true);
    expect(maxAbsDiff(await b.embed(SENTENCES), va)).toBe(0);
    expect(await b.cache.clear()).toBeGreaterThan(0);
    expect(await b.cache.list()).toEqual([]);
    await b.dispose();
  });

  it('rejects pending calls with WORKER_CRASHED when the worker dies, then recovers with a fresh worker', async () => {
    let worker: Worker | undefined;
    const e = await createEmbedder({
      model: bundleDir,
      threads: 1,
      worker: () => (worker = startNodeWorker({ threads: 1 })),
    });
    const first = worker!;
    const big = Array.from({ length: 400 }, (_, i) => `text ${i} ${'long words here '.repeat(8)}`);
    const pending = [e.embed(big), e.embed(['a']), e.index('x').addTexts(['1'], ['one'])];
    await first.terminate(); // the thread dies mid-work, as if killed
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'WORKER_CRASHED' });
    const v = await e.embed(['after the crash']);
    expect(v.length).toBe(32);
    expect(worker).not.toBe(first);
    await e.dispose();
    await expect(e.embed(['x'])).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('hosts named indexes in the worker: add texts, search by text, remove, save and load', async () => {
    const idx = embedder.index('notes');
    const texts = [
      'cats purr on the sofa',
      'dogs bark at the mailman',
      'stock markets fell sharply',
      'a kitten sleeps on the couch',
    ];
    const stats = await idx.addTexts(['a', 'b', 'c', 'd'], texts, [
      { kind: 'pet' },
      { kind: 'pet' },
      { kind: 'finance' },
      { kind: 'pet' },
    ]);
    expect(stats.size).toBe(4);
    const hits = await idx.search(texts[2], 2);
    expect(hits[0]).toMatchObject({ id: 'c' });
    expect(hits[0].score).toBeCloseTo(1, 5);
    const pets = await idx.search(texts[2], 4, { where: { kind: 'pet' } });
    expect(pets.map((h) => h.id).sort()).toEqual(['a', 'b', 'd']);
    // An add with a duplicate id changes nothing.
    await expect(idx.addTexts(['e', 'a'], ['new', 'dup'])).rejects.toMatchObject({ code: 'DUPLICATE_ID' });
    expect((await idx.stats()).size).toBe(4);
    await idx.save();
    expect(await idx.remove(['a', 'zzz'])).toBe(1);
    expect(await idx.has('a')).toBe(false);
    expect(await idx.load()).toBe(true);
    expect(await idx.has('a')).toBe(true);
    expect(await idx.metadata('c')).toEqual({ kind: 'finance' });
    await expect(idx.search('q', 0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await idx.drop()).toBe(true);
    expect((await idx.stats()).size).toBe(0);
    expect(await idx.load()).toBe(true);
    expect((await idx.stats()).size).toBe(4);
  });
});
