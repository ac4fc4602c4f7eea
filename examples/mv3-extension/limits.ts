// Bounds on everything a message can ask for (clamped where it is used) and the storage quota's arithmetic. Pure: no
// chrome.* and no IndexedDB, so test/examples/mv3-extension/limits.test.ts runs it in Node.

/** Most results one search returns. */
export const MAX_K = 50;
/** Most characters of a query that are embedded. */
export const MAX_QUERY = 2000;
/** Most characters of a page's text that are captured and indexed. */
export const MAX_TEXT = 100_000;
export const MAX_TITLE = 500;
/** Most passages indexed from one page (its start): bounds the work one visit can cause. */
export const MAX_PASSAGES_PER_PAGE = 200;
/** Most pages in one indexing request (the service worker sends 4). */
export const MAX_BATCH = 16;
/** Most texts, and characters per text, in one `embed` request. */
export const MAX_EMBED_TEXTS = 64;
export const MAX_EMBED_CHARS = 2000;
/** A host name is at most 253 characters (RFC 1035). */
export const MAX_HOST = 253;

/** `x` as an integer in [min, max]; `fallback` when it is not a finite number. */
export function clampInt(x: unknown, min: number, max: number, fallback: number): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) return fallback;
  return Math.max(min, Math.min(max, Math.trunc(x)));
}

export const clampK = (k: unknown): number => clampInt(k, 1, MAX_K, 10);

/** `x` cut to `max` characters; '' when it is not a string. */
export function clampText(x: unknown, max: number): string {
  return typeof x === 'string' ? x.slice(0, max) : '';
}

/** A host name for "forget this site": a string of at most MAX_HOST characters, else undefined. */
export function hostArg(x: unknown): string | undefined {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_HOST ? x : undefined;
}

/** What the index may hold. Stored in the settings store (db.ts: readQuota/writeQuota); these are the defaults. */
export interface Quota {
  /** Pages per host (a site that reloads itself with unique query strings stops here). */
  maxPagesPerHost: number;
  /** Pages in all. */
  maxPages: number;
  /** Passages in the index (each: a 128-d vector and its text, about 1 KB). */
  maxPassages: number;
}

export const DEFAULT_QUOTA: Readonly<Quota> = { maxPagesPerHost: 500, maxPages: 10_000, maxPassages: 150_000 };

/** A quota from stored settings: each field a positive integer up to 10 million, else its default. */
export function sanitizeQuota(x: Partial<Record<keyof Quota, unknown>>): Quota {
  const one = (k: keyof Quota) => clampInt(x[k], 1, 10_000_000, DEFAULT_QUOTA[k]);
  return { maxPagesPerHost: one('maxPagesPerHost'), maxPages: one('maxPages'), maxPassages: one('maxPassages') };
}

/**
 * Why one more page (a URL not yet indexed or queued) would exceed the quota, or undefined when it fits.
 * `hostPages` and `pages` count indexed and queued pages (a queued re-visit counts twice: the check errs on the safe side).
 */
export function pageQuotaExceeded(host: string, hostPages: number, pages: number, quota: Quota): string | undefined {
  if (hostPages >= quota.maxPagesPerHost)
    return `Limit reached: ${host} has ${hostPages} pages (at most ${quota.maxPagesPerHost} per site). New pages from it are not indexed; forget the site to make room.`;
  if (pages >= quota.maxPages)
    return `Limit reached: ${pages} pages indexed (at most ${quota.maxPages}). New pages are not indexed; forget a site to make room.`;
  return undefined;
}

/** Why replacing `removing` passages with `adding` would take the index over its passage quota, or undefined. */
export function passageQuotaExceeded(size: number, removing: number, adding: number, quota: Quota): string | undefined {
  const after = size - removing + adding;
  if (adding > removing && after > quota.maxPassages)
    return `Limit reached: the index holds ${size} passages (at most ${quota.maxPassages}). New pages are not indexed; forget a site to make room.`;
  return undefined;
}

/** A search mode from a message: one of the three, else 'hybrid' (the default). */
export function searchMode(mode: unknown): 'hybrid' | 'vector' | 'keyword' {
  return mode === 'vector' || mode === 'keyword' ? mode : 'hybrid';
}
