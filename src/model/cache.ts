/** Where downloaded and compiled model files are kept between loads. Keys are strings (URL-like). */
export interface ModelCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Every entry with its size, for a cache-management UI. */
  list(): Promise<CacheEntry[]>;
  /** Removes entries whose key starts with `prefix`, or all of ours. Returns how many went. */
  clear(prefix?: string): Promise<number>;
}

export interface CacheEntry {
  key: string;
  bytes: number;
}

const CACHE_NAME = 'hpd-embed-models-v1';
// Cache Storage only takes http(s) URLs as keys; synthetic keys live under this origin-less prefix.
const KEY_BASE = 'https://hpd-embed.invalid/cache/';

const toUrl = (key: string) => KEY_BASE + encodeURIComponent(key);
const fromUrl = (url: string) => decodeURIComponent(url.slice(KEY_BASE.length));

/** The browser's Cache Storage (pages, workers, extension offscreen documents). */
export function cacheStorageCache(name = CACHE_NAME): ModelCache {
  const open = () => caches.open(name);
  return {
    async get(key) {
      const res = await (await open()).match(toUrl(key));
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      await (
        await open()
      ).put(
        toUrl(key),
        new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.byteLength) } }),
      );
    },
    async list() {
      const c = await open();
      const out: CacheEntry[] = [];
      for (const req of await c.keys()) {
        const res = await c.match(req);
        out.push({ key: fromUrl(req.url), bytes: Number(res?.headers.get('content-length') ?? 0) });
      }
      return out;
    },
    async clear(prefix) {
      const c = await open();
      let n = 0;
      for (const req of await c.keys()) {
        if (prefix === undefined || fromUrl(req.url).startsWith(prefix)) {
          if (await c.delete(req)) n++;
        }
      }
      return n;
    },
  };
}

/** A cache that keeps nothing (when storage is unavailable or unwanted). */
export function noCache(): ModelCache {
  return { get: async () => undefined, put: async () => {}, list: async () => [], clear: async () => 0 };
}

/** In-memory cache (tests, short-lived processes). Copies in and out, as Cache Storage does: callers may reuse their buffers. */
export function memoryCache(): ModelCache {
  const m = new Map<string, Uint8Array>();
  return {
    get: async (k) => m.get(k)?.slice(),
    put: async (k, b) => void m.set(k, b.slice()),
    list: async () => [...m].map(([key, b]) => ({ key, bytes: b.byteLength })),
    clear: async (prefix) => {
      let n = 0;
      for (const k of [...m.keys()]) if (prefix === undefined || k.startsWith(prefix)) (m.delete(k), n++);
      return n;
    },
  };
}

/**
 * A cache that never fails a load: a failed put (read-only or full disk, storage quota) is reported and skipped, and
 * a failed get (storage gone, unreadable entry) is reported and counts as a miss, so the file is fetched again.
 * `failed` says whether any put failed (a read failure does not make what was written incomplete).
 */
export function bestEffortCache(
  cache: ModelCache,
  onFailure: (key: string, reason: string) => void,
): ModelCache & { readonly failed: boolean } {
  let failed = false;
  const reason = (e: unknown) => (e as Error)?.message || String(e);
  return {
    async get(k) {
      try {
        return await cache.get(k);
      } catch (e) {
        onFailure(k, `read failed, fetching again: ${reason(e)}`);
        return undefined;
      }
    },
    async put(k, b) {
      try {
        await cache.put(k, b);
      } catch (e) {
        failed = true;
        onFailure(k, reason(e));
      }
    },
    list: () => cache.list(),
    clear: (p) => cache.clear(p),
    get failed() {
      return failed;
    },
  };
}
