// Messages between the content script, popup, service worker and offscreen document, and what they answer.

/** A page the content script captured, as queued by the service worker until it is indexed. */
export interface QueuedPage {
  /** The page URL without its #fragment: the page's identity, and the prefix of its passage ids. */
  url: string;
  host: string;
  title: string;
  text: string;
  /** Milliseconds since the epoch, when the page was captured. */
  visitedAt: number;
  /** Capture order; a newer capture of the same URL replaces the queued one with a higher seq. */
  seq: number;
  /** Failed indexing attempts; a page that keeps failing is dropped after a few. */
  attempts: number;
}

/** One indexed page (the passages live in the worker's index, with ids `${url}#${i}`). */
export interface PageRecord {
  url: string;
  host: string;
  title: string;
  visitedAt: number;
  passages: number;
  /** SHA-256 of the captured text: a re-visit with unchanged text re-embeds nothing. */
  hash: string;
}

/** One search result: a page, its best-matching passage and that passage's score in the search's mode. */
export interface PageHit {
  url: string;
  title: string;
  visitedAt: number;
  passage: string;
  score: number;
  /** Where the query's words occur in `passage` (keyword and hybrid searches). */
  highlights?: { start: number; end: number }[];
  /** Why it matched: 'meaning #2 · words #1' (keyword and hybrid searches). */
  why?: string;
}

/** How the popup ranks: both fused (default), by meaning (vectors) or by exact words (BM25). */
export type SearchModeArg = 'hybrid' | 'vector' | 'keyword';

export interface SiteSummary {
  host: string;
  pages: number;
}

export interface HistoryStats {
  pages: number;
  /** Passages in the index (its size). */
  passages: number;
  /** Passages embedded for indexing by this offscreen document since it started (queries not counted). */
  embeddedPassages: number;
  /** Whether the saved index was restored when this offscreen document started. */
  restored: boolean;
  bytes: number;
  device: string;
  /** Why that device (e.g. the WebGPU fallback reason). */
  deviceReason: string;
  model: string;
  /** The model's weights are random (a test fixture): search results mean nothing. */
  randomWeights: boolean;
  sites: SiteSummary[];
}

/** Service worker → offscreen document (accepted from the service worker only; every argument clamped). */
export type OffscreenRequest =
  | { target: 'hpd-offscreen'; type: 'embed'; texts: string[] }
  | { target: 'hpd-offscreen'; type: 'indexPages'; pages: QueuedPage[] }
  | { target: 'hpd-offscreen'; type: 'save' }
  | { target: 'hpd-offscreen'; type: 'search'; query: string; k: number; mode?: SearchModeArg }
  | { target: 'hpd-offscreen'; type: 'forget'; host?: string }
  | { target: 'hpd-offscreen'; type: 'stats' };

/** What `indexPages` answers. */
export interface IndexReply {
  /** Identifies this offscreen document's life: unsaved work is gone when a later answer names another. */
  instance: string;
  /** Whether the index has changes not yet saved (then the pages stay queued until a `save` by the same instance). */
  pending: boolean;
  embedded: number;
  /** Pages not indexed, and why (the quota, or an unusable URL); they are taken off the queue. */
  skipped: { url: string; reason: string }[];
}

/** What `save` answers: the instance whose changes are now saved. */
export interface SaveReply {
  instance: string;
}

/** Content script and popup → service worker. */
export type BackgroundRequest =
  | { target: 'hpd-background'; type: 'capture'; title: string; text: string }
  | { target: 'hpd-background'; type: 'search'; query: string; k?: number; mode?: SearchModeArg }
  | { target: 'hpd-background'; type: 'status' }
  | { target: 'hpd-background'; type: 'forget'; host?: string }
  | { target: 'hpd-background'; type: 'setEnabled'; enabled: boolean }
  | { target: 'hpd-background'; type: 'sitesChanged'; tabId?: number };

/** What the popup shows: the index, the queue, the switch and the sites the user allowed. */
export interface Status extends HistoryStats {
  enabled: boolean;
  queued: number;
  /** Pages taken off the queue by this service worker since it started (indexed, unchanged or dropped). */
  processed: number;
  /** Host patterns the user granted (where the content script runs while enabled). */
  origins: string[];
  lastError?: string;
  /** Set when a page was not indexed because of the quota (cleared by forgetting); says which limit and what to do. */
  limit?: string;
}

/** Errors cross chrome.runtime messaging as plain objects. */
export interface ErrorReply {
  error: string;
  code: string;
}

export function isErrorReply(x: unknown): x is ErrorReply {
  return typeof x === 'object' && x !== null && typeof (x as ErrorReply).error === 'string';
}
