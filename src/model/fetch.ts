import { sha256Hex } from '../bundle/sha256.js';
import { HpdError } from '../errors.js';

export type FetchLike = (input: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export interface FetchedFile {
  bytes: Uint8Array;
  /** The SHA-256 a Hub LFS response announces (x-linked-etag), when it does. */
  announcedSha256?: string;
  /** Served as text/html: a web page (e.g. a dev server's SPA fallback for a missing file), never a model file. */
  html?: boolean;
}

/** No file this SDK downloads comes near this; a larger content-length is a broken or hostile server. */
const MAX_DOWNLOAD_BYTES = 2 ** 31;

/**
 * GETs a URL into memory, reporting bytes as they stream. `undefined` for 404 when `optional`;
 * any other failure is a MODEL_FETCH_FAILED naming the URL and status.
 */
export async function fetchBytes(
  fetchFn: FetchLike,
  url: string,
  opts: {
    optional?: boolean;
    onBytes?: (loaded: number, total: number | undefined) => void;
    signal?: AbortSignal;
    maxBytes?: number;
  } = {},
): Promise<FetchedFile | undefined> {
  const max = Math.min(opts.maxBytes ?? MAX_DOWNLOAD_BYTES, MAX_DOWNLOAD_BYTES);
  const tooLong = (n: number | string) =>
    new HpdError(
      'MODEL_FETCH_FAILED',
      `${url} is ${n} bytes long, more than the ${max} expected${opts.maxBytes === undefined ? ' at most' : ''}; refusing to download it.`,
    );
  let res: Response;
  try {
    res = await fetchFn(url, opts.signal ? { signal: opts.signal } : undefined);
  } catch (cause) {
    if (opts.signal?.aborted) throw aborted(url, 0, cause);
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `Could not fetch ${url}: ${(cause as Error).message}. Check the network and the model URL.`,
      { cause },
    );
  }
  if (res.status === 404 && opts.optional) return undefined;
  if (!res.ok) {
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `Fetching ${url} failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Check the model id, revision and hubUrl.`,
    );
  }
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader && !res.headers.get('content-encoding') ? Number(lengthHeader) : undefined;
  const refuse = async (e: HpdError) => {
    await res.body?.cancel().catch(() => undefined); // release the connection
    return e;
  };
  if (total !== undefined && !(Number.isSafeInteger(total) && total >= 0)) {
    throw await refuse(
      new HpdError('MODEL_FETCH_FAILED', `${url} announced an invalid content-length ${JSON.stringify(lengthHeader)}.`),
    );
  }
  if (total !== undefined && total > max) throw await refuse(tooLong(total));
  const etag = (res.headers.get('x-linked-etag') ?? '').replace(/"/g, '');
  const announcedSha256 = /^[0-9a-f]{64}$/.test(etag) ? etag : undefined;
  const html = /^text\/html\b/i.test(res.headers.get('content-type') ?? '');
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > max) throw tooLong(bytes.byteLength);
    opts.onBytes?.(bytes.byteLength, total);
    return { bytes, ...(announcedSha256 ? { announcedSha256 } : {}), ...(html ? { html } : {}) };
  }
  // Stream into one buffer sized from content-length (at most 64 MiB before bytes arrive), reporting as we go.
  let buf = new Uint8Array(Math.min(total ?? 1 << 16, 1 << 26));
  let loaded = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A body longer than announced (or than expected) is refused before it costs memory.
      if (loaded + value.byteLength > (total ?? max)) {
        await reader.cancel().catch(() => undefined);
        throw total !== undefined && total <= max
          ? new HpdError('MODEL_FETCH_FAILED', `${url} sent more than the ${total} bytes it announced.`)
          : tooLong(`more than ${max}`);
      }
      if (loaded + value.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.min(total ?? max, Math.max(buf.byteLength * 2, loaded + value.byteLength)));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(value, loaded);
      loaded += value.byteLength;
      opts.onBytes?.(loaded, total);
    }
  } catch (cause) {
    if (cause instanceof HpdError) throw cause;
    if (opts.signal?.aborted) {
      await reader.cancel().catch(() => undefined); // close the connection: no more bytes are read
      throw aborted(url, loaded, cause);
    }
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `Download of ${url} broke off after ${loaded} bytes: ${(cause as Error).message}.`,
      { cause },
    );
  }
  if (total !== undefined && loaded !== total) {
    throw new HpdError('MODEL_FETCH_FAILED', `Download of ${url} ended at ${loaded} of ${total} bytes.`);
  }
  const bytes = loaded === buf.byteLength ? buf : buf.slice(0, loaded);
  return { bytes, ...(announcedSha256 ? { announcedSha256 } : {}), ...(html ? { html } : {}) };
}

function aborted(url: string, loaded: number, cause: unknown): HpdError {
  return new HpdError('ABORTED', `Download of ${url} was cancelled after ${loaded} bytes (the signal was aborted).`, {
    cause,
  });
}

/** Throws MODEL_INTEGRITY unless the bytes hash to `expected`. */
export async function verifySha256(bytes: Uint8Array, expected: string, what: string): Promise<void> {
  const got = await sha256Hex(bytes);
  if (got !== expected) {
    throw new HpdError(
      'MODEL_INTEGRITY',
      `${what} failed its integrity check: sha256 ${got}, expected ${expected}. The file is corrupt or was changed; clear the cache and retry, or re-compile the bundle.`,
    );
  }
}

/** A web page where a file was asked for: served as text/html, or (JSON files only: binary files may start with '<') starting with '<'. */
export function isWebPage(got: FetchedFile, path: string): boolean {
  return Boolean(got.html) || (path.endsWith('.json') && startsLikeHtml(got.bytes));
}

function startsLikeHtml(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  while (i < bytes.length && i < 256 && bytes[i] <= 0x20) i++;
  return bytes[i] === 0x3c;
}

export const HTML_ANSWER =
  "the server answers unknown paths with a page (a dev server's SPA fallback does this), so the model URL is probably wrong";
