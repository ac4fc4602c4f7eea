// Issue 8: a served hpd.json or modules.json cannot make loadModel read local files or other hosts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixture } from '../../src/convert/fixture.js';
import { HpdError } from '../../src/errors.js';
import { memoryCache } from '../../src/model/cache.js';
import { wasmBuild } from '../helpers/build.js';
import { loadModel } from '../../src/model/load.js';
import { fileResponse } from '../../src/node/platform.js';
import { fixtureDir, TINY } from '../helpers/fixtures.js';

interface Site {
  url: string;
  files: Map<string, Uint8Array>;
  requests: string[];
  server: Server;
}

async function site(): Promise<Site> {
  const files = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    // A server that announces 1 GiB for a small JSON file.
    if (path.endsWith('/huge/config.json'))
      return void res.writeHead(200, { 'content-length': String(2 ** 30) }).flushHeaders();
    const body = files.get(path);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, files, requests, server };
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const fileUrls: string[] = [];
// Like the Node platform's fetch: file: URLs are read from disk.
const fetchFn = (url: string, init?: { signal?: AbortSignal }) => {
  if (url.startsWith('file:')) fileUrls.push(url);
  return url.startsWith('file:') ? fileResponse(url) : fetch(url, init);
};

async function failure(p: Promise<unknown>): Promise<HpdError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HpdError) return e;
    throw e;
  }
  throw new Error('expected a typed error');
}

describe('paths from a served model (issue 8)', () => {
  let a: Site;
  let other: Site;
  beforeAll(async () => {
    [a, other] = await Promise.all([site(), site()]);
  });
  afterAll(() => {
    a?.server.closeAllConnections();
    a?.server.close();
    other?.server.close();
  });

  const manifest = (modelPath: string) =>
    json({
      format: 'hpd-embed/1',
      name: 'x',
      dim: 16,
      maxTokens: 16,
      pooling: 'mean',
      normalized: true,
      dtype: 'fp32',
      compute: { precision: 'fp32', requiresShaderF16: false },
      params: 1,
      files: {
        model: { path: modelPath, bytes: 9, sha256: '1'.repeat(64) },
        tokenizer: { path: 'tokenizer.json', bytes: 2, sha256: '2'.repeat(64) },
      },
    });

  it('a remote hpd.json naming file:///etc/hostname is MODEL_INVALID, and nothing local is read or hashed', async () => {
    for (const path of ['file:///etc/hostname', '/etc/hostname', '../../etc/hostname', '%2e%2e/x']) {
      a.files.set('/b/hpd.json', manifest(path));
      fileUrls.length = 0;
      const e = await failure(loadModel(`${a.url}/b/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild }));
      expect(e.code, path).toBe('MODEL_INVALID');
      expect(e.message).toContain(JSON.stringify(path));
      expect(e.message).not.toMatch(/sha256 [0-9a-f]{64}/);
      expect(fileUrls).toEqual([]);
    }
  });

  it('a remote hpd.json naming another host is MODEL_INVALID and that host sees no request', async () => {
    a.files.set('/b/hpd.json', manifest(`${other.url}/secret`));
    const e = await failure(loadModel(`${a.url}/b/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild }));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain(`${other.url}/secret`);
    expect(other.requests).toEqual([]);
  });

  it("a remote checkpoint's modules.json pointing Pooling or Dense outside the folder is CHECKPOINT_INVALID", async () => {
    const fx = generateFixture(TINY);
    for (const [name, bytes] of fx) a.files.set(`/c/${name}`, bytes);
    const modules = JSON.parse(new TextDecoder().decode(fx.get('modules.json'))) as { path: string }[];
    for (const [i, path] of [
      [1, 'file:///etc'],
      [1, '../b'],
      [2, `${other.url}/dense`],
      [2, '/etc'],
      [1, '1_Pooling/../..'],
    ] as const) {
      const bad = modules.map((m, j) => (j === i ? { ...m, path } : m));
      a.files.set('/c/modules.json', json(bad));
      fileUrls.length = 0;
      const e = await failure(loadModel(`${a.url}/c/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild }));
      expect(e.code, path).toBe('CHECKPOINT_INVALID');
      expect(e.message).toContain(JSON.stringify(path));
      expect(fileUrls).toEqual([]);
    }
    expect(other.requests).toEqual([]);
    // The unmodified checkpoint still compiles.
    a.files.set('/c/modules.json', fx.get('modules.json')!);
    const ok = await loadModel(`${a.url}/c/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild });
    expect(ok.manifest.dim).toBe(TINY.dim);
  });

  it('a checkpoint config.json announced as 1 GiB is refused before any buffer is sized', async () => {
    const e = await failure(loadModel(`${a.url}/huge/`, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild }));
    expect(e.code).toBe('MODEL_FETCH_FAILED');
    expect(e.message).toMatch(/1073741824 bytes long/);
  });

  it('a local file: checkpoint still loads, reading only inside its folder', async () => {
    const fx = await fixtureDir();
    try {
      fileUrls.length = 0;
      const base = pathToFileURL(`${fx.dir}/`).href;
      const ok = await loadModel(base, { cache: memoryCache(), fetch: fetchFn, build: wasmBuild });
      expect(ok.manifest.dim).toBe(TINY.dim);
      expect(fileUrls.length).toBeGreaterThan(3);
      for (const u of fileUrls) expect(u.startsWith(base), u).toBe(true);
    } finally {
      await fx.cleanup();
    }
  });
});
