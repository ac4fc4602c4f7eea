// Passage texts kept out of the index file (`index build --texts chunks`): fetched per hit from small chunk files,
// each at most once per page (a chunk's name is its content hash, so the browser's HTTP cache may keep it forever).
import { HpdError } from '../errors.js';

export interface PassageTextsOptions {
  /** Default: the global fetch. */
  fetch?: (url: string) => Promise<Response>;
}

/** What a hit needs for its text: its id and the `chunk` its metadata names (or an inline `text`). */
export interface HitWithChunk {
  id: string;
  metadata?: unknown;
}

/**
 * A loader of passage texts from the chunk folder `baseUrl` (the `<index>.texts/` folder the CLI writes, or the
 * Vite plugin's `indexes[name].texts`): `texts(hits)` gives each hit's text, fetching only the chunks those hits
 * name (in parallel), each once; a hit whose metadata holds `text` needs no fetch.
 */
export function createPassageTexts(
  baseUrl: string | URL,
  options: PassageTextsOptions = {},
): { texts(hits: readonly HitWithChunk[]): Promise<(string | undefined)[]>; fetchedBytes(): number } {
  const base = new URL(baseUrl, typeof location === 'undefined' ? undefined : location.href);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const get = options.fetch ?? ((url: string) => fetch(url));
  const chunks = new Map<string, Promise<Record<string, string>>>();
  let bytes = 0;
  const load = (name: string) => {
    let p = chunks.get(name);
    if (!p) {
      const url = new URL(`${name}.json`, base).href;
      p = get(url).then(async (res) => {
        if (!res.ok)
          throw new HpdError(
            'INDEX_FETCH_FAILED',
            `passage texts ${url}: HTTP ${res.status}; rebuild or redeploy the index with its .texts folder.`,
          );
        const text = await res.text();
        bytes += text.length;
        return JSON.parse(text) as Record<string, string>;
      });
      p.catch(() => chunks.delete(name)); // a failed fetch is tried again next time
      chunks.set(name, p);
    }
    return p;
  };
  return {
    async texts(hits) {
      return Promise.all(
        hits.map(async (h) => {
          const m = h.metadata as { text?: unknown; chunk?: unknown } | undefined;
          if (typeof m?.text === 'string') return m.text;
          if (typeof m?.chunk !== 'string' || !/^[0-9a-f]{16}$/.test(m.chunk)) return undefined;
          return (await load(m.chunk))[h.id];
        }),
      );
    },
    fetchedBytes: () => bytes,
  };
}
