// handle.import's bytes, in the worker: a URL streamed with progress (or read from the cache on a revisit), a
// transferred response body, or bytes; checked against an SRI `integrity` before anything is parsed.
import { HpdError, InvalidInputError } from '../errors.js';
import type { ModelCache } from '../model/cache.js';
import { fetchBytes, type FetchLike } from '../model/fetch.js';
import { isWireResponse, type WireImportOptions, type WireIndexSource } from '../protocol/index-import.js';
import type { IndexImportOptions, IndexImportProgress, IndexSource } from '../protocol/messages.js';

export interface ImportContext {
  fetch: FetchLike;
  cache: ModelCache;
  /** What relative URLs resolve against (the page's URL). */
  baseUrl?: string;
}

/** Cache keys of imported index files: the URL, plus the integrity when one is given (another hash, another entry). */
const CACHE_PREFIX = 'index:';

const SRI_ALGORITHMS: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** INDEX_INTEGRITY unless the bytes match one of the SRI hashes in `integrity` (of the strongest algorithm given, as SRI does). */
export async function checkIntegrity(bytes: Uint8Array, integrity: string, what: string): Promise<void> {
  const wanted = integrity
    .trim()
    .split(/\s+/)
    .map((t) => /^(sha256|sha384|sha512)-([A-Za-z0-9+/=_-]+)(\?.*)?$/.exec(t))
    .filter((m): m is RegExpExecArray => m !== null);
  if (wanted.length === 0)
    throw new HpdError('INDEX_INTEGRITY', `integrity ${JSON.stringify(integrity)} names no sha256/384/512 hash.`);
  const order = ['sha256', 'sha384', 'sha512'];
  const strongest = Math.max(...wanted.map((m) => order.indexOf(m[1])));
  const alg = order[strongest];
  const digest = base64(
    new Uint8Array(await crypto.subtle.digest(SRI_ALGORITHMS[alg], bytes as Uint8Array<ArrayBuffer>)),
  );
  const norm = (s: string) => s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!wanted.some((m) => m[1] === alg && norm(m[2]) === norm(digest)))
    throw new HpdError(
      'INDEX_INTEGRITY',
      `${what} failed its integrity check: ${alg}-${digest}, expected ${integrity}. The file was changed or damaged; rebuild it, or update the integrity to the new build's.`,
      { details: { actual: `${alg}-${digest}`, expected: integrity } },
    );
}

async function readStream(
  stream: ReadableStream<Uint8Array>,
  total: number | undefined,
  what: string,
  report: (loaded: number, total: number | undefined) => void,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      report(loaded, total);
    }
  } catch (cause) {
    throw new HpdError('INDEX_FETCH_FAILED', `reading ${what} broke off after ${loaded} bytes.`, { cause });
  }
  if (total !== undefined && loaded !== total)
    throw new HpdError('INDEX_FETCH_FAILED', `${what} ended at ${loaded} of ${total} bytes (truncated download).`);
  const out = new Uint8Array(loaded);
  let p = 0;
  for (const c of chunks) (out.set(c, p), (p += c.byteLength));
  return out;
}

/**
 * The bytes of an index file from any import source. A URL is read from the cache when it holds it (and the
 * integrity, if given, still matches), else downloaded with progress, checked, then cached; download failures are
 * INDEX_FETCH_FAILED (a truncated body included), a hash mismatch INDEX_INTEGRITY. Nothing here parses the file.
 */
export async function readIndexSource(
  source: IndexSource | WireIndexSource,
  options: (IndexImportOptions & WireImportOptions) | undefined,
  ctx: ImportContext,
): Promise<Uint8Array> {
  const port = options?.progress;
  const report = (p: IndexImportProgress) => {
    port?.postMessage(p);
    options?.onProgress?.(p);
  };
  try {
    let bytes: Uint8Array;
    let what = 'the index';
    if (typeof source === 'string' || source instanceof URL) {
      let url: string;
      try {
        url = new URL(source, ctx.baseUrl).href;
      } catch (cause) {
        throw new InvalidInputError(
          `import(${JSON.stringify(String(source))}): not a URL, and there is no page URL to resolve it against; in Node pass a file: URL (pathToFileURL(path)) or the file's bytes.`,
          { cause },
        );
      }
      what = url;
      const key = `${CACHE_PREFIX}${url}${options?.integrity ? `#${options.integrity}` : ''}`;
      // A local file is read again each time: caching it would hide a rebuilt file at the same path.
      const useCache = options?.cache !== false && !url.startsWith('file:');
      const hit = useCache ? await ctx.cache.get(key).catch(() => undefined) : undefined;
      if (hit) {
        if (options?.integrity) await checkIntegrity(hit, options.integrity, `the cached copy of ${url}`);
        report({ loaded: hit.byteLength, total: hit.byteLength, fromCache: true });
        return hit;
      }
      let got;
      try {
        got = await fetchBytes(ctx.fetch, url, {
          onBytes: (loaded, total) => report({ loaded, ...(total !== undefined ? { total } : {}), fromCache: false }),
        });
      } catch (cause) {
        throw new HpdError(
          'INDEX_FETCH_FAILED',
          `could not download the index ${url}: ${(cause as Error).message.replace(/ Check the model id.*$/, '')}`,
          { cause },
        );
      }
      if (got!.html)
        throw new HpdError(
          'INDEX_FETCH_FAILED',
          `${url} answered with a web page, not an index file; the index URL is probably wrong.`,
        );
      bytes = got!.bytes;
      if (options?.integrity) await checkIntegrity(bytes, options.integrity, url);
      // A cache failure (quota, private mode) costs the next visit a download, not this import.
      if (useCache) await ctx.cache.put(key, bytes).catch(() => undefined);
      return bytes;
    }
    if (isWireResponse(source)) {
      what = source.url || 'the index response';
      bytes = await readStream(source.stream, source.total, what, (loaded, total) =>
        report({ loaded, ...(total !== undefined ? { total } : {}), fromCache: false }),
      );
    } else if (typeof Response !== 'undefined' && source instanceof Response) {
      what = source.url || 'the index response';
      if (!source.ok || !source.body)
        throw new HpdError('INDEX_FETCH_FAILED', `${what} has HTTP status ${source.status} or no body.`);
      const len = source.headers.get('content-length');
      bytes = await readStream(source.body, len ? Number(len) : undefined, what, (loaded, total) =>
        report({ loaded, ...(total !== undefined ? { total } : {}), fromCache: false }),
      );
    } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
      bytes = new Uint8Array(await source.arrayBuffer());
      report({ loaded: bytes.byteLength, total: bytes.byteLength, fromCache: false });
    } else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
    else if (source instanceof Uint8Array) bytes = source;
    else throw new InvalidInputError('import(source): unsupported source.');
    if (options?.integrity) await checkIntegrity(bytes, options.integrity, what);
    return bytes;
  } finally {
    port?.postMessage(null);
    port?.close();
  }
}
