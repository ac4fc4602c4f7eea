// The service worker: captures pages from the content script into a persistent queue, feeds the offscreen document
// (which owns the embedder) in small paced batches, answers the popup and the omnibox, and keeps the content script
// registered exactly where the user granted access. MV3 service workers cannot run a Web Worker, hence the offscreen document.
import { historyDb } from './db.js';
import {
  isErrorReply,
  type BackgroundRequest,
  type HistoryStats,
  type OffscreenRequest,
  type PageHit,
  type QueuedPage,
  type Status,
} from './protocol.js';

const OFFSCREEN = 'offscreen.html';
const SCRIPT_ID = 'hpd-capture';
const BATCH_PAGES = 4;
/** Pause between batches, so indexing a burst of visits trickles along behind browsing. */
const PACE_MS = 300;
const RETRY_MS = 5_000;
const MAX_ATTEMPTS = 3;
const MAX_TEXT = 100_000;

// --- the offscreen document ---------------------------------------------------

let creating: Promise<void> | undefined;

/**
 * Makes sure the one offscreen document exists. Concurrent callers share one creation; the promise is dropped once
 * settled, so a failed creation is retried by the next call and a document closed since is re-created.
 */
export function ensureOffscreen(): Promise<void> {
  creating ??= (async () => {
    if (await chrome.offscreen.hasDocument()) return;
    try {
      await chrome.offscreen.createDocument({
        url: OFFSCREEN,
        reasons: [chrome.offscreen.Reason.WORKERS],
        justification: 'Runs the hpd-embed model in a Web Worker for on-device semantic search of your history.',
      });
    } catch (e) {
      // Another service worker instance may have created it in between; only a missing document is a failure.
      if (!(await chrome.offscreen.hasDocument())) throw e;
    }
  })().finally(() => {
    creating = undefined;
  });
  return creating;
}

/** Sends a request to the offscreen document and returns its answer (its errors are rethrown with their code). */
export async function ask<T>(request: OffscreenRequest): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await ensureOffscreen();
    let reply: unknown;
    try {
      reply = await chrome.runtime.sendMessage(request);
    } catch (e) {
      // The document went away between the check and the answer: re-create it once (every request is idempotent).
      if (attempt === 0 && /Receiving end does not exist|message port closed/i.test(String(e))) continue;
      throw e;
    }
    if (isErrorReply(reply)) throw Object.assign(new Error(reply.error), { code: reply.code });
    return reply as T;
  }
}

// --- settings and the content script -------------------------------------------

async function isEnabled(): Promise<boolean> {
  return (await (await historyDb()).get('settings', 'enabled')) !== false;
}

async function grantedOrigins(): Promise<string[]> {
  return ((await chrome.permissions.getAll()).origins ?? []).filter((o) => /^(https?|\*):\/\//.test(o));
}

let syncing: Promise<unknown> = Promise.resolve();

/** Registers the capture script for exactly the granted hosts while capture is on, and nowhere otherwise. */
function syncContentScripts(): Promise<void> {
  const run = syncing.then(async () => {
    const [origins, on] = await Promise.all([grantedOrigins(), isEnabled()]);
    const existing = await chrome.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
    if (existing.length) await chrome.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
    if (on && origins.length) {
      await chrome.scripting.registerContentScripts([
        { id: SCRIPT_ID, js: ['content.js'], matches: origins, runAt: 'document_idle', persistAcrossSessions: true },
      ]);
    }
  });
  syncing = run.catch(() => undefined);
  return run;
}

// --- the queue ---------------------------------------------------------------

let seqCounter = 0;
let processed = 0;
let lastError: string | undefined;
let batchSize = BATCH_PAGES;

// Queue mutations and forgetting run one at a time, so a forgotten site is never re-added by an in-flight batch.
let lock: Promise<unknown> = Promise.resolve();
function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const run = lock.then(fn);
  lock = run.catch(() => undefined);
  return run;
}

async function enqueue(url: string, title: string, text: string): Promise<void> {
  const host = new URL(url).hostname;
  const page: QueuedPage = {
    url,
    host,
    title: title.slice(0, 500),
    text: text.slice(0, MAX_TEXT),
    visitedAt: Date.now(),
    seq: Date.now() * 1000 + (seqCounter++ % 1000),
    attempts: 0,
  };
  await (await historyDb()).put('queue', page);
}

/** Takes a batch off the queue only after it is indexed and saved; a newer capture of the same URL stays queued. */
async function settle(batch: QueuedPage[], ok: boolean): Promise<void> {
  const tx = (await historyDb()).transaction('queue', 'readwrite');
  for (const p of batch) {
    const cur = await tx.store.get(p.url);
    if (!cur || cur.seq !== p.seq) continue;
    if (ok || cur.attempts + 1 >= MAX_ATTEMPTS) await tx.store.delete(p.url);
    else await tx.store.put({ ...cur, attempts: cur.attempts + 1 });
  }
  await tx.done;
}

let pumping: Promise<void> | undefined;

/** Starts draining the queue unless it already is being drained; resolves when the queue is empty or a batch failed. */
export function kick(): Promise<void> {
  pumping ??= pump()
    .catch((e: unknown) => {
      lastError = e instanceof Error ? e.message : String(e);
      console.warn('hpd-embed: indexing paused:', lastError);
      setTimeout(() => void kick(), RETRY_MS);
    })
    .finally(() => {
      pumping = undefined;
    });
  return pumping;
}

async function pump(): Promise<void> {
  for (;;) {
    const n = await withLock(async () => {
      const batch = await (await historyDb()).getAllFromIndex('queue', 'seq', undefined, batchSize);
      if (!batch.length) return 0;
      try {
        await ask({ target: 'hpd-offscreen', type: 'indexPages', pages: batch });
      } catch (e) {
        await settle(batch, false);
        // Find the page that fails by going one at a time until a batch succeeds.
        batchSize = 1;
        throw e;
      }
      await settle(batch, true);
      batchSize = BATCH_PAGES;
      lastError = undefined;
      processed += batch.length;
      return batch.length;
    });
    if (!n) return;
    await new Promise((r) => setTimeout(r, PACE_MS));
  }
}

// --- what the popup and omnibox call ---------------------------------------------

export function search(query: string, k = 10): Promise<PageHit[]> {
  if (typeof query !== 'string' || !query.trim()) return Promise.resolve([]);
  return ask({
    target: 'hpd-offscreen',
    type: 'search',
    query: query.slice(0, 2000),
    k: Math.max(1, Math.min(50, Math.floor(k))),
  });
}

/** Captures waiting to be indexed (read from the queue itself, without waking the offscreen document). */
export async function queued(): Promise<number> {
  return (await historyDb()).count('queue');
}

export async function status(): Promise<Status> {
  const stats = await ask<HistoryStats>({ target: 'hpd-offscreen', type: 'stats' });
  const [waiting, enabled, origins] = await Promise.all([queued(), isEnabled(), grantedOrigins()]);
  return { ...stats, queued: waiting, enabled, origins, processed, ...(lastError ? { lastError } : {}) };
}

/** Forgets one host (queued captures included) or everything. */
export function forget(host?: string): Promise<unknown> {
  return withLock(async () => {
    const db = await historyDb();
    if (host === undefined) await db.clear('queue');
    else {
      const tx = db.transaction('queue', 'readwrite');
      for (const key of await tx.store.index('host').getAllKeys(host)) await tx.store.delete(key);
      await tx.done;
    }
    return ask({ target: 'hpd-offscreen', type: 'forget', ...(host === undefined ? {} : { host }) });
  });
}

async function setEnabled(enabled: boolean): Promise<void> {
  await (await historyDb()).put('settings', enabled, 'enabled');
  await syncContentScripts();
}

// --- omnibox -------------------------------------------------------------------

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\s+/g, ' ');

/** The omnibox suggestions for what the user typed after the keyword: one per page, best passage shown. */
export async function omniboxSuggestions(text: string): Promise<chrome.omnibox.SuggestResult[]> {
  const hits = await search(text, 6);
  return hits.map((h) => ({
    content: h.url,
    description: `<match>${xml(h.title)}</match> <dim>${xml(h.passage.slice(0, 90))}</dim> <url>${xml(h.url)}</url>`,
  }));
}

/** Enter in the omnibox: a chosen suggestion is a URL; plain text opens the best match. */
export async function openFromOmnibox(
  text: string,
  disposition: `${chrome.omnibox.OnInputEnteredDisposition}`,
): Promise<string | undefined> {
  const url = /^https?:\/\//i.test(text) ? text : (await search(text, 1))[0]?.url;
  if (!url) return undefined;
  if (disposition === 'currentTab') await chrome.tabs.update({ url });
  else await chrome.tabs.create({ url, active: disposition === 'newForegroundTab' });
  return url;
}

chrome.omnibox.setDefaultSuggestion({ description: 'Search the pages you visited (on-device)' });
chrome.omnibox.onInputChanged.addListener((text, suggest) => {
  omniboxSuggestions(text).then(suggest, () => suggest([]));
});
chrome.omnibox.onInputEntered.addListener((text, disposition) => {
  void openFromOmnibox(text, disposition);
});

// --- messages --------------------------------------------------------------------

const EXTENSION_ORIGIN = chrome.runtime.getURL('');

async function capture(
  msg: { url: string; title: string; text: string },
  sender: chrome.runtime.MessageSender,
): Promise<{ queued: boolean }> {
  // Only a top-level tab that is not incognito, and only while capture is on.
  if (!sender.tab || sender.tab.incognito || sender.frameId !== 0 || !(await isEnabled())) return { queued: false };
  const url = new URL(sender.url ?? msg.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { queued: false };
  url.hash = '';
  const text = typeof msg.text === 'string' ? msg.text : '';
  if (!text.trim()) return { queued: false };
  await enqueue(url.href, typeof msg.title === 'string' && msg.title.trim() ? msg.title.trim() : url.href, text);
  void kick();
  return { queued: true };
}

function fromPopup(req: BackgroundRequest, sender: chrome.runtime.MessageSender): Promise<unknown> {
  // Commands come from the extension's own pages only, never from a content script.
  if (!sender.url?.startsWith(EXTENSION_ORIGIN) || sender.tab?.incognito)
    return Promise.reject(new Error('not allowed from this context'));
  switch (req.type) {
    case 'search':
      return search(req.query, req.k);
    case 'status':
      return status();
    case 'forget':
      return forget(req.host);
    case 'setEnabled':
      return setEnabled(req.enabled === true);
    case 'sitesChanged':
      return syncContentScripts().then(async () => {
        // Index the page the user just allowed right away instead of on its next load.
        if (req.tabId !== undefined && (await isEnabled()))
          await chrome.scripting
            .executeScript({ target: { tabId: req.tabId }, files: ['content.js'] })
            .catch(() => undefined);
      });
    default:
      return Promise.reject(new Error('unknown request'));
  }
}

chrome.runtime.onMessage.addListener((msg: BackgroundRequest, sender, sendResponse) => {
  if (msg?.target !== 'hpd-background' || sender.id !== chrome.runtime.id) return false;
  const answer = msg.type === 'capture' ? capture(msg, sender) : fromPopup(msg, sender);
  answer.then(sendResponse, (err: Error & { code?: string }) =>
    sendResponse({ error: err.message, code: err.code ?? 'UNTYPED' }),
  );
  return true; // the answer is asynchronous
});

chrome.runtime.onInstalled.addListener(() => void syncContentScripts());
chrome.runtime.onStartup.addListener(() => void syncContentScripts());
chrome.permissions.onAdded.addListener(() => void syncContentScripts());
chrome.permissions.onRemoved.addListener(() => void syncContentScripts());

// Whatever woke this service worker, finish what a killed predecessor left queued.
void kick();

// For DevTools and the tests: `await hpd.search('…')`, `await hpd.status()`.
Object.assign(globalThis, {
  hpd: {
    ask,
    search,
    status,
    queued,
    forget,
    kick,
    omniboxSuggestions,
    openFromOmnibox,
    ensureOffscreen,
    syncContentScripts,
  },
  embedViaOffscreen: (texts: string[]) => ask({ target: 'hpd-offscreen', type: 'embed', texts }),
});
