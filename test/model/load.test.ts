import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { memoryCache } from '../../src/model/cache.js';
import { hubFileUrl, parseRepoId } from '../../src/model/hub.js';
import { loadModel } from '../../src/model/load.js';
import { resolveModelSpec } from '../../src/model/spec.js';
import { wasmBuild } from '../helpers/build.js';
import type { LoadProgress } from '../../src/model/progress.js';
import { folderSource } from '../../src/node/fs-source.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { HpdError } from '../../src/errors.js';
import { nodePlatform } from '../../src/node/platform.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';

const fetchFn = (url: string, init?: { signal?: AbortSignal }) => fetch(url, init);

describe('Hub repo ids', () => {
  it('parses owner/name[@revision] and builds resolve URLs', () => {
    expect(parseRepoId('Xuandong/HPD-MiniLM-F128')).toEqual({ repo: 'Xuandong/HPD-MiniLM-F128', revision: 'main' });
    expect(parseRepoId('Xuandong/HPD-MiniLM-F128@a11499a670558569ee6686d32af3846f930c96c0')?.revision).toBe(
      'a11499a670558569ee6686d32af3846f930c96c0',
    );
    for (const notRepo of ['https://x.org/a/b', './models/x', '/models/x', 'justone', 'a/b/c'])
      expect(parseRepoId(notRepo)).toBeUndefined();
    expect(() => parseRepoId('a/b@')).toThrow();
    expect(hubFileUrl('https://huggingface.co/', { repo: 'o/n', revision: 'refs/pr/1' }, '2_Dense/config.json')).toBe(
      'https://huggingface.co/o/n/resolve/refs%2Fpr%2F1/2_Dense/config.json',
    );
  });
});

describe('loadModel against a local Hub-layout server', () => {
  let root: string;
  let hub: HubServer;
  let fx: CompiledFixture;
  let checkpointDir: string;
  let bundleDir: string;

  beforeAll(async () => {
    fx = await compiledFixture();
    checkpointDir = fx.checkpointDir;
    root = await mkdtemp(join(tmpdir(), 'hpd-load-'));
    bundleDir = await fx.bundleDir('fp16');
    hub = await startHubServer({
      'test/tiny-ckpt': { main: checkpointDir, v1: checkpointDir },
      'test/tiny-bundle': { main: bundleDir },
    });
  });
  afterAll(async () => {
    await hub?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('compiles a checkpoint repo, reports progress, caches the bundle, and reloads with the server gone', async () => {
    const cache = memoryCache();
    const events: LoadProgress[] = [];
    const first = await loadModel('test/tiny-ckpt@v1', {
      cache,
      fetch: fetchFn,
      build: wasmBuild,
      hubUrl: hub.url,
      onProgress: (p) => events.push(p),
    });
    expect(first.origin).toMatchObject({ kind: 'checkpoint', fromCache: false });
    expect(first.manifest.source).toEqual({ repo: 'test/tiny-ckpt', revision: 'v1' });
    expect(first.manifest.probes?.texts.length).toBeGreaterThan(0); // compiled with golden probes
    const direct = await fx.bundle();
    expect(first.manifest.files.model.sha256).toBe(direct.manifest.files.model.sha256);
    expect(hub.requests).toContain('/test/tiny-ckpt/resolve/v1/model.safetensors');
    const downloads = events.filter((e) => e.stage === 'download');
    expect(downloads.length).toBeGreaterThan(3);
    const last = downloads[downloads.length - 1] as Extract<LoadProgress, { stage: 'download' }>;
    expect(last.aggregate.loaded).toBeGreaterThan(100_000);
    expect(events.some((e) => e.stage === 'compile' && e.step === 'done')).toBe(true);

    const before = hub.requests.length;
    const again = await loadModel('test/tiny-ckpt@v1', { cache, fetch: fetchFn, build: wasmBuild, hubUrl: hub.url });
    expect(again.origin.fromCache).toBe(true);
    expect(hub.requests.length).toBe(before); // no network at all
    expect(Buffer.from(again.model).equals(Buffer.from(first.model))).toBe(true);

    // A different dtype is a different compiled entry.
    const int8 = await loadModel('test/tiny-ckpt@v1', {
      cache,
      fetch: fetchFn,
      build: wasmBuild,
      hubUrl: hub.url,
      dtype: 'int8',
    });
    expect(int8.manifest.dtype).toBe('int8');
    expect((await cache.list()).some((e) => e.key.includes('#int8/model.onnx'))).toBe(true);
  });

  it('loads a compiled bundle from a URL with integrity checks, then offline from the cache', async () => {
    const cache = memoryCache();
    const base = `${hub.url}/test/tiny-bundle/resolve/main/`;
    const events: LoadProgress[] = [];
    const a = await loadModel(base, { cache, fetch: fetchFn, build: wasmBuild, onProgress: (p) => events.push(p) });
    expect(a.origin).toMatchObject({ kind: 'bundle', fromCache: false });
    const dl = events.filter((e): e is Extract<LoadProgress, { stage: 'download' }> => e.stage === 'download');
    expect(dl[dl.length - 1].aggregate.total).toBe(
      a.manifest.files.model.bytes + a.manifest.files.tokenizer.bytes + (a.manifest.files.tokenizerConfig?.bytes ?? 0),
    );
    expect(dl[dl.length - 1].aggregate.loaded).toBe(dl[dl.length - 1].aggregate.total);

    // Offline: fetch always fails, yet the cached manifest and files load.
    const offline = async () => {
      throw new TypeError('fetch failed');
    };
    const b = await loadModel(base, { cache, fetch: offline, build: wasmBuild });
    expect(Buffer.from(b.model).equals(Buffer.from(a.model))).toBe(true);
    await expect(loadModel(base, { cache: memoryCache(), fetch: offline, build: wasmBuild })).rejects.toMatchObject({
      code: 'MODEL_FETCH_FAILED',
    });
    await expect(loadModel(base, { cache, fetch: fetchFn, build: wasmBuild, dtype: 'fp32' })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
    });

    // A damaged cache entry is downloaded again, not trusted and not fatal.
    const key = (await cache.list()).find((e) => e.key.includes('model.onnx?sha256='))!.key;
    await cache.put(key, new Uint8Array(a.model.byteLength).fill(7));
    await expect(loadModel(base, { cache, fetch: offline, build: wasmBuild })).rejects.toMatchObject({
      code: 'MODEL_FETCH_FAILED',
    });
    const c = await loadModel(base, { cache, fetch: fetchFn, build: wasmBuild });
    expect(Buffer.from(c.model).equals(Buffer.from(a.model))).toBe(true);
    expect(Buffer.from((await cache.get(key))!).equals(Buffer.from(a.model))).toBe(true);
  });

  it('caching is best effort: a failing cache write (quota, read-only disk) is reported in onProgress and the load goes on', async () => {
    // A cache that refuses writes whose key matches `refuse`, as a full disk or an exhausted quota would.
    const failing = (refuse: RegExp) => {
      const inner = memoryCache();
      return {
        ...inner,
        put: async (k: string, b: Uint8Array) => {
          if (refuse.test(k)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return inner.put(k, b);
        },
      };
    };
    const base = `${hub.url}/test/tiny-bundle/resolve/main/`;
    const events: LoadProgress[] = [];
    const a = await loadModel(base, {
      cache: failing(/./),
      fetch: fetchFn,
      build: wasmBuild,
      onProgress: (p) => events.push(p),
    });
    expect(a.origin).toMatchObject({ kind: 'bundle', fromCache: false });
    const warned = events.filter((e): e is Extract<LoadProgress, { stage: 'cache' }> => e.stage === 'cache');
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/quota/) });

    // A checkpoint whose compiled model.onnx could not be cached: the load succeeds, and the entry is not marked
    // complete, so the next load compiles again instead of failing on a missing cached file.
    const cache = failing(/^compiled:.*model\.onnx$/);
    const ev2: LoadProgress[] = [];
    const b = await loadModel('test/tiny-ckpt', {
      cache,
      fetch: fetchFn,
      build: wasmBuild,
      hubUrl: hub.url,
      onProgress: (p) => ev2.push(p),
    });
    expect(b.origin).toMatchObject({ kind: 'checkpoint', fromCache: false });
    expect(ev2.some((e) => e.stage === 'cache')).toBe(true);
    const c = await loadModel('test/tiny-ckpt', { cache, fetch: fetchFn, build: wasmBuild, hubUrl: hub.url });
    expect(c.origin).toMatchObject({ kind: 'checkpoint', fromCache: false });
    expect(Buffer.from(c.model).equals(Buffer.from(b.model))).toBe(true);
  });

  it('refuses a tampered file with MODEL_INTEGRITY and reports HTTP failures with URL and status', async () => {
    const tampered = join(root, 'tampered');
    await cp(bundleDir, tampered, { recursive: true });
    const model = await readFile(join(tampered, 'model.onnx'));
    model[model.length - 10] ^= 0xff;
    await writeFile(join(tampered, 'model.onnx'), model);
    const hub2 = await startHubServer({ 'test/tampered': { main: tampered } });
    try {
      await expect(
        loadModel('test/tampered', { cache: memoryCache(), fetch: fetchFn, build: wasmBuild, hubUrl: hub2.url }),
      ).rejects.toMatchObject({ code: 'MODEL_INTEGRITY' });
    } finally {
      await hub2.close();
    }
    const err = await loadModel('test/missing-repo', {
      cache: memoryCache(),
      fetch: fetchFn,
      build: wasmBuild,
      hubUrl: hub.url,
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
    expect(err?.message).toContain(`${hub.url}/test/missing-repo/resolve/main/config.json`);
    expect(err?.message).toContain('404');
    const down = await loadModel('test/tiny-ckpt', {
      cache: memoryCache(),
      fetch: fetchFn,
      build: wasmBuild,
      hubUrl: 'http://127.0.0.1:9',
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(down).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
  });

  it('compiles in-memory files (a file picker) and loads an in-memory bundle', async () => {
    const files = new Map<string, Uint8Array>();
    for (const p of [
      'config.json',
      'modules.json',
      'sentence_bert_config.json',
      '1_Pooling/config.json',
      '2_Dense/config.json',
      '2_Dense/pytorch_model.bin',
      'pytorch_model.bin',
      'tokenizer.json',
    ]) {
      files.set(p, new Uint8Array(await readFile(join(checkpointDir, p))));
    }
    const m = await loadModel({ files, name: 'picked' }, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild });
    expect(m.origin.kind).toBe('checkpoint');
    expect(m.manifest.name).toBe('picked');
    const bundleFiles: Record<string, Blob> = {};
    for (const p of ['hpd.json', 'model.onnx', 'tokenizer.json', 'tokenizer_config.json'])
      bundleFiles[p] = new Blob([await readFile(join(bundleDir, p))]);
    const b = await loadModel({ files: bundleFiles }, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild });
    expect(b.origin.kind).toBe('bundle');
    expect(b.manifest.dtype).toBe('fp16');
  });
});

describe('loadModel says what went wrong', () => {
  const opts = async () => {
    const { platform } = await nodePlatform({ backend: 'wasm' });
    return { cache: memoryCache(), fetch: platform.fetch, build: wasmBuild };
  };
  // What createEmbedder does on the Node host, with tmpdir() as the cwd.
  const inTmp = (spec: string) => resolveModelSpec(spec, (p) => pathToFileURL(`${resolve(tmpdir(), p)}/`).href);

  it('a local folder that does not exist: "not found", names hpd.json, no HTTP, no config.json, no hubUrl advice', async () => {
    const err = await loadModel(inTmp('./no-such-model-folder'), await opts()).then(
      () => undefined,
      (e: unknown) => e as HpdError,
    );
    expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
    expect(err!.message).toMatch(/not found/);
    expect(err!.message).toContain(join(tmpdir(), 'no-such-model-folder', 'hpd.json'));
    expect(err!.message).not.toMatch(/HTTP|config\.json|hubUrl/);
    expect(err!.message).not.toMatch(/owner/);
  });

  it('a path reaching loadModel unresolved is refused: the host resolves paths before the worker', async () => {
    await expect(loadModel('HPD-MiniLM-F128', await opts())).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/relative path.*host resolves/),
    });
  });

  it('a JSON fetch answered with an HTML page (SPA fallback) says so and that the URL is probably wrong', async () => {
    const server = createServer((_, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html>\n<html><body><div id="app"></div></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const err = await loadModel(`${base}/models/bundle/`, {
        cache: memoryCache(),
        fetch: fetchFn,
        build: wasmBuild,
      }).then(
        () => undefined,
        (e: unknown) => e as HpdError,
      );
      expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
      expect(err!.message).toContain(
        `${base}/models/bundle/hpd.json and ${base}/models/bundle/config.json returned an HTML page, not JSON`,
      );
      expect(err!.message).toMatch(/SPA fallback.*probably wrong/);
      const bare = await loadModel(`${base}/HPD-MiniLM-F128`, {
        cache: memoryCache(),
        fetch: fetchFn,
        build: wasmBuild,
      }).then(
        () => undefined,
        (e: unknown) => e as HpdError,
      );
      expect(bare!.message).toContain('"<owner>/HPD-MiniLM-F128"');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a checkpoint folder behind a SPA-fallback server compiles: HTML answers for optional files count as absent', async () => {
    const fx = await fixtureDir();
    await rm(join(fx.dir, 'model.safetensors')); // probed first; the server answers with its page
    const server = createServer((req, res) => {
      const path = join(
        fx.dir,
        decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/ckpt\//, ''),
      );
      readFile(path).then(
        (bytes) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(bytes),
        () => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><html></html>'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const got = await loadModel(`${base}/ckpt/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild });
      expect(got.origin.kind).toBe('checkpoint');
      expect(got.manifest.files.model.sha256).toBe(
        (await compileCheckpoint(folderSource(fx.dir))).manifest.files.model.sha256,
      );
    } finally {
      await new Promise((r) => server.close(r));
      await fx.cleanup();
    }
  });
});

describe('a Hub-shaped string that is not on the Hub', () => {
  it('says that ./models/hpd/ is how a folder path is written: repo not found (404, or 401 as the Hub says), or no Hub', async () => {
    const hub = await startHubServer({});
    const refusing = createServer((_, res) =>
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Repository not found'),
    );
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    try {
      const port = (refusing.address() as AddressInfo).port;
      for (const hubUrl of [hub.url, `http://127.0.0.1:${port}`, 'http://127.0.0.1:9']) {
        const err = await loadModel('models/hpd', {
          cache: memoryCache(),
          fetch: fetchFn,
          build: wasmBuild,
          hubUrl,
        }).then(
          () => undefined,
          (e: unknown) => e as HpdError,
        );
        expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
        expect(err!.message).toContain('write it as a path: "./models/hpd/"');
      }
    } finally {
      await hub.close();
      await new Promise((r) => refusing.close(r));
    }
  });
});

describe('LoadOptions.signal', () => {
  it('an abort before the load rejects with ABORTED, not a fetch failure', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      loadModel('https://127.0.0.1:9/m/', {
        cache: memoryCache(),
        fetch: fetchFn,
        build: wasmBuild,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
