// The ModelCache implementations in src/model/cache.ts: what they store, hits and misses, prefixes, copies, and the
// best-effort wrapper's failure paths. Cache Storage is not in Node: a small in-memory stand-in with its semantics
// (URL keys, Response bodies copied on put, a fresh body per match) replaces the `caches` global.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bestEffortCache, cacheStorageCache, memoryCache, noCache, type ModelCache } from '../../src/model/cache.js';

class FakeCache {
  readonly entries = new Map<string, { body: Uint8Array; headers: Headers }>();
  async match(req: string | Request): Promise<Response | undefined> {
    const e = this.entries.get(typeof req === 'string' ? req : req.url);
    return e ? new Response(e.body.slice(), { headers: e.headers }) : undefined;
  }
  async put(req: string | Request, res: Response): Promise<void> {
    const url = typeof req === 'string' ? req : req.url;
    if (!/^https?:/.test(url)) throw new TypeError(`Request scheme '${url.split(':')[0]}' is unsupported`);
    this.entries.set(url, { body: new Uint8Array(await res.arrayBuffer()), headers: res.headers });
  }
  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((u) => new Request(u));
  }
  async delete(req: string | Request): Promise<boolean> {
    return this.entries.delete(typeof req === 'string' ? req : req.url);
  }
}
function fakeCaches() {
  const named = new Map<string, FakeCache>();
  const storage = {
    open: async (name: string) => named.get(name) ?? (named.set(name, new FakeCache()), named.get(name)!),
  };
  vi.stubGlobal('caches', storage);
  return named;
}
afterEach(() => vi.unstubAllGlobals());

const bytes = (...xs: number[]) => Uint8Array.from(xs);
// Keys as load.ts and golden.ts make them: URLs, prefixes, colons, spaces, non-ASCII.
const KEYS = [
  'https://huggingface.co/o/m/resolve/abc/model.onnx',
  'compiled:https://x/y/:fp32:hpd.json',
  'golden:ab12:cd:webgpu:NVIDIA/ampere',
  'a key with spaces ?#%&/é',
];

function contract(name: string, make: () => ModelCache) {
  describe(`${name}: the ModelCache contract`, () => {
    it('a miss is undefined; a put is read back byte for byte, for any key', async () => {
      const c = make();
      expect(await c.get(KEYS[0])).toBeUndefined();
      for (const [i, k] of KEYS.entries()) await c.put(k, bytes(i, 255, 0, i * 7));
      for (const [i, k] of KEYS.entries()) expect(Array.from((await c.get(k))!)).toEqual([i, 255, 0, i * 7]);
      expect(await c.get('compiled:')).toBeUndefined(); // a prefix of a key is not that key
    });

    it('a second put replaces the entry; an empty file is a hit, not a miss', async () => {
      const c = make();
      await c.put('k', bytes(1, 2, 3));
      await c.put('k', bytes(9));
      expect(Array.from((await c.get('k'))!)).toEqual([9]);
      await c.put('empty', new Uint8Array(0));
      expect((await c.get('empty'))?.byteLength).toBe(0);
    });

    it('copies in and out: changing the array given to put, or one got back, does not change the entry', async () => {
      const c = make();
      const b = bytes(1, 2, 3);
      await c.put('k', b);
      b[0] = 99;
      (await c.get('k'))![1] = 99;
      expect(Array.from((await c.get('k'))!)).toEqual([1, 2, 3]);
    });

    it('list() names every entry with its size; clear(prefix) removes exactly the keys starting with it and counts them', async () => {
      const c = make();
      for (const k of KEYS) await c.put(k, new Uint8Array(KEYS.indexOf(k) + 1));
      expect((await c.list()).sort((a, b) => a.key.localeCompare(b.key))).toEqual(
        KEYS.map((key, i) => ({ key, bytes: i + 1 })).sort((a, b) => a.key.localeCompare(b.key)),
      );
      expect(await c.clear('compiled:')).toBe(1);
      expect(await c.clear('compiled:')).toBe(0);
      expect(await c.get(KEYS[1])).toBeUndefined();
      expect(await c.get(KEYS[0])).toBeDefined();
      expect(await c.clear()).toBe(3);
      expect(await c.list()).toEqual([]);
    });
  });
}

contract('memoryCache', memoryCache);
contract('cacheStorageCache', () => (fakeCaches(), cacheStorageCache()));

describe('cacheStorageCache', () => {
  it("keeps entries in the versioned 'hpd-embed-models-v1' cache under http(s) URLs (Cache Storage takes no other keys); another name is another cache", async () => {
    const named = fakeCaches();
    await cacheStorageCache().put('compiled:x', bytes(1));
    const urls = [...named.get('hpd-embed-models-v1')!.entries.keys()];
    expect(urls).toHaveLength(1);
    expect(urls[0]).toMatch(/^https:\/\//);
    expect(await cacheStorageCache('hpd-embed-models-v2').get('compiled:x')).toBeUndefined();
  });

  it('an entry without a content-length header lists as 0 bytes rather than failing list()', async () => {
    const named = fakeCaches();
    const c = cacheStorageCache();
    await c.put('k', bytes(1, 2));
    const e = [...named.get('hpd-embed-models-v1')!.entries.values()][0];
    e.headers = new Headers();
    expect(await c.list()).toEqual([{ key: 'k', bytes: 0 }]);
  });

  it('a failing Cache Storage (quota, no storage) rejects: the caller decides (bestEffortCache)', async () => {
    vi.stubGlobal('caches', {
      open: async () => Promise.reject(new DOMException('The operation is insecure.', 'SecurityError')),
    });
    await expect(cacheStorageCache().get('k')).rejects.toThrow(/insecure/);
    await expect(cacheStorageCache().put('k', bytes(1))).rejects.toThrow(/insecure/);
  });
});

describe('noCache', () => {
  it('keeps nothing', async () => {
    const c = noCache();
    await c.put('k', bytes(1));
    expect(await c.get('k')).toBeUndefined();
    expect(await c.list()).toEqual([]);
    expect(await c.clear()).toBe(0);
  });
});

describe('bestEffortCache', () => {
  const failing = (what: 'get' | 'put'): ModelCache => {
    const inner = memoryCache();
    return { ...inner, [what]: async () => Promise.reject(new Error(`disk says no (${what})`)) };
  };

  it('passes hits, misses, list and clear through', async () => {
    const inner = memoryCache();
    const reports: string[] = [];
    const c = bestEffortCache(inner, (k) => reports.push(k));
    await c.put('k', bytes(5));
    expect(Array.from((await c.get('k'))!)).toEqual([5]);
    expect(await c.get('other')).toBeUndefined();
    expect(await c.list()).toEqual([{ key: 'k', bytes: 1 }]);
    expect(await c.clear()).toBe(1);
    expect(await inner.get('k')).toBeUndefined();
    expect(reports).toEqual([]);
    expect(c.failed).toBe(false);
  });

  it('a failed put is reported with its key and reason, sets `failed`, and does not throw', async () => {
    const reports: [string, string][] = [];
    const c = bestEffortCache(failing('put'), (k, r) => reports.push([k, r]));
    await expect(c.put('model.onnx', bytes(1))).resolves.toBeUndefined();
    expect(reports).toEqual([['model.onnx', 'disk says no (put)']]);
    expect(c.failed).toBe(true);
  });

  it('a failed get is reported and is a miss (the file is fetched again); it does not set `failed`', async () => {
    const reports: [string, string][] = [];
    const c = bestEffortCache(failing('get'), (k, r) => reports.push([k, r]));
    await expect(c.get('model.onnx')).resolves.toBeUndefined();
    expect(reports).toEqual([['model.onnx', 'read failed, fetching again: disk says no (get)']]);
    expect(c.failed).toBe(false);
  });

  it('a thrown non-Error is still reported with a reason', async () => {
    const reports: string[] = [];
    const c = bestEffortCache({ ...memoryCache(), put: async () => Promise.reject('quota') }, (_k, r) =>
      reports.push(r),
    );
    await c.put('k', bytes(1));
    expect(reports).toEqual(['quota']);
  });
});
