// The service worker: captures pages from the content script into a persistent queue, feeds the offscreen document
// (which owns the embedder) in small paced batches, answers the popup and the omnibox, and keeps the content script
// registered exactly where the user granted access. MV3 service workers cannot run a Web Worker, hence the offscreen document.
import { historyDb, readQuota, writeQuota } from './db.js';
import {
  MAX_QUERY,
  MAX_TEXT,
  MAX_TITLE,
  clampK,
  clampText,
  hostArg,
  pageQuotaExceeded,
  searchMode,
  type Quota,
} from './limits.js';
import {
  isErrorReply,
  type HistoryStats,
  type IndexReply,
  type OffscreenRequest,
  type PageHit,
  type QueuedPage,
  type SaveReply,
  type Status,
} from './protocol.js';
import { omniboxTarget, pageKey, webUrl } from './urls.js';

const OFFSCREEN = 'offscreen.html';
const SCRIPT_ID = 'hpd-capture';
const BATCH_PAGES = 4;
/** Pause between batches, so indexing a burst of visits trickles along behind browsing. */
const PACE_MS = 300;
const RETRY_MS = 5_000;
const MAX_ATTEMPTS = 3;
/**
 * The index is saved this long after the first batch it has not saved yet (and when the queue drains, no sooner):
 * one full snapshot per burst of captures instead of one per batch. Pages stay queued until a save holds them, so a
 * kill loses nothing; it costs re-indexing at most this long's worth of captures. Below the service worker's 30 s idle
 * limit, so the timer fires.
 */
const SAVE_DELAY_MS = 15_000;

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

// Captures are checked against the quota and queued one at a time, so two at once cannot both take the last place.
let capturing: Promise<unknown> = Promise.resolve();
function oneCaptureAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = capturing.then(fn);
  capturing = run.catch(() => undefined);
  return run;
}

/** Remembers (in the settings store, for the popup) why a page was not indexed; forgetting or a new quota clears it. */
async function noteLimit(reason: string): Promise<void> {
  await (await historyDb()).put('settings', reason, 'limitNotice');
}

/** Queues a capture; a URL neither queued nor indexed yet must fit the page quota. Returns the limit hit, if any. */
async function enqueue(url: string, title: string, text: string): Promise<string | undefined> {
  const db = await historyDb();
  const host = new URL(url).hostname;
  if ((await db.getKey('queue', url)) === undefined && (await db.getKey('pages', url)) === undefined) {
    const [hostPages, hostQueued, pages, queuedPages, quota] = await Promise.all([
      db.countFromIndex('pages', 'host', host),
      db.countFromIndex('queue', 'host', host),
      db.count('pages'),
      db.count('queue'),
      readQuota(),
    ]);
    const full = pageQuotaExceeded(host, hostPages + hostQueued, pages + queuedPages, quota);
    if (full) return full;
  }
  const now = Date.now();
  const page: QueuedPage = {
    url,
    host,
    title,
    text,
    visitedAt: now,
    seq: now * 1000 + (seqCounter++ % 1000),
    attempts: 0,
  };
  await db.put('queue', page);
  return undefined;
}

/** Takes a batch off the queue (done, or failed too often); a newer capture of the same URL stays queued. */
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

// Pages indexed by the offscreen document `unsavedBy` whose index is not saved yet: still queued, not sent again.
const unsaved: QueuedPage[] = [];
let unsavedBy: string | undefined;
let saveDue = 0;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

/** The oldest queued captures, leaving out those indexed and waiting for a save. */
async function nextBatch(n: number): Promise<QueuedPage[]> {
  const held = new Map(unsaved.map((p) => [p.url, p.seq]));
  const out: QueuedPage[] = [];
  let cursor = await (await historyDb()).transaction('queue').store.index('seq').openCursor();
  while (cursor && out.length < n) {
    if (held.get(cursor.value.url) !== cursor.value.seq) out.push(cursor.value);
    cursor = await cursor.continue();
  }
  return out;
}

/** Marks pages done once a save by the same offscreen document holds them (call under the lock). */
async function done(batch: QueuedPage[]): Promise<void> {
  await settle(batch, true);
  processed += batch.length;
}

/** Saves the index now and takes the pages it holds off the queue (call under the lock). */
async function saveNow(): Promise<void> {
  clearTimeout(saveTimer);
  if (!unsaved.length) return;
  const batch = unsaved.splice(0);
  const by = unsavedBy;
  unsavedBy = undefined;
  saveDue = 0;
  const { instance } = await ask<SaveReply>({ target: 'hpd-offscreen', type: 'save' });
  // Another instance: the document that indexed them died unsaved; they are still queued and are indexed again.
  if (instance === by) await done(batch);
}

function scheduleSave(): void {
  clearTimeout(saveTimer);
  if (!unsaved.length) return;
  saveTimer = setTimeout(
    () =>
      void withLock(saveNow).then(
        () => kick(),
        (e: unknown) => {
          lastError = e instanceof Error ? e.message : String(e);
        },
      ),
    Math.max(0, saveDue - Date.now()),
  );
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
      scheduleSave();
    });
  return pumping;
}

async function pump(): Promise<void> {
  for (;;) {
    const n = await withLock(async () => {
      const batch = await nextBatch(batchSize);
      if (!batch.length) return 0;
      let reply: IndexReply;
      try {
        reply = await ask<IndexReply>({ target: 'hpd-offscreen', type: 'indexPages', pages: batch });
      } catch (e) {
        await settle(batch, false);
        // Find the page that fails by going one at a time until a batch succeeds.
        batchSize = 1;
        throw e;
      }
      batchSize = BATCH_PAGES;
      lastError = undefined;
      const limit = reply.skipped.find((x) => x.reason.startsWith('Limit reached'));
      if (limit) await noteLimit(limit.reason);
      // Pages indexed by a document that has since died were lost with it unsaved: they are still queued, go again.
      if (unsavedBy !== undefined && unsavedBy !== reply.instance) unsaved.length = 0;
      if (reply.pending) {
        unsavedBy = reply.instance;
        unsaved.push(...batch);
        saveDue ||= Date.now() + SAVE_DELAY_MS;
        if (Date.now() >= saveDue) await saveNow();
      } else {
        // Nothing unsaved in that document: this batch and any waiting one are on disk.
        await done([...unsaved.splice(0), ...batch]);
        unsavedBy = undefined;
        saveDue = 0;
      }
      return batch.length;
    });
    if (!n) return;
    await new Promise((r) => setTimeout(r, PACE_MS));
  }
}

// --- what the popup and omnibox call ---------------------------------------------

export function search(query: unknown, k: unknown = 10, mode?: unknown): Promise<PageHit[]> {
  const q = clampText(query, MAX_QUERY);
  if (!q.trim()) return Promise.resolve([]);
  return ask({ target: 'hpd-offscreen', type: 'search', query: q, k: clampK(k), mode: searchMode(mode) });
}

/**
 * Pages captured and not lost: queued (indexed or not: a page leaves the queue only once a save holds it) or saved.
 * Read from the stores themselves; for DevTools and the tests (`status().pages` also counts unsaved pages, which are
 * still queued, so `queued + pages` can count one page twice).
 */
async function captured(): Promise<number> {
  const db = await historyDb();
  const [queuedUrls, savedUrls] = await Promise.all([db.getAllKeys('queue'), db.getAllKeys('pages')]);
  return new Set([...queuedUrls, ...savedUrls].map(String)).size;
}

/** Captures waiting to be indexed (read from the queue itself, without waking the offscreen document). */
export async function queued(): Promise<number> {
  return (await historyDb()).count('queue');
}

export async function status(): Promise<Status> {
  const stats = await ask<HistoryStats>({ target: 'hpd-offscreen', type: 'stats' });
  const [waiting, enabled, origins, limit] = await Promise.all([
    queued(),
    isEnabled(),
    grantedOrigins(),
    historyDb().then((db) => db.get('settings', 'limitNotice')),
  ]);
  return {
    ...stats,
    queued: waiting,
    enabled,
    origins,
    processed,
    ...(lastError ? { lastError } : {}),
    ...(typeof limit === 'string' ? { limit } : {}),
  };
}

/** Forgets one host (queued captures included) or everything. */
export function forget(host?: string): Promise<unknown> {
  return withLock(async () => {
    const db = await historyDb();
    await db.delete('settings', 'limitNotice');
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
  const hits = (await search(text, 6)).filter((h) => webUrl(h.url));
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
  const url = await omniboxTarget(text, async (q) => (await search(q, 1))[0]?.url);
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

type Message = Record<string, unknown>;

/**
 * A content script's capture. The sender fields come from the browser, the message from a renderer that may be
 * compromised: the page is the sender's top-level tab's URL (never a URL in the message), on a host the user granted,
 * in a normal tab, while capture is on; title and text are clamped; a new URL must fit the quota.
 */
async function capture(
  msg: Message,
  sender: chrome.runtime.MessageSender,
): Promise<{ queued: boolean; limit?: string }> {
  if (!sender.tab || sender.tab.incognito || sender.frameId !== 0 || !(await isEnabled())) return { queued: false };
  const url = pageKey(sender.tab.url);
  if (!url || pageKey(sender.url) !== url) return { queued: false };
  const u = new URL(url);
  if (!(await chrome.permissions.contains({ origins: [`${u.protocol}//${u.hostname}/*`] }))) return { queued: false };
  const text = clampText(msg.text, MAX_TEXT);
  if (!text.trim()) return { queued: false };
  const title = clampText(msg.title, MAX_TITLE).trim() || url;
  const limit = await oneCaptureAtATime(() => enqueue(url, title, text));
  if (limit) {
    await noteLimit(limit);
    return { queued: false, limit };
  }
  void kick();
  return { queued: true };
}

function fromPopup(req: Message, sender: chrome.runtime.MessageSender): Promise<unknown> {
  // Commands come from the extension's own pages only, never from a content script.
  if (!sender.url?.startsWith(EXTENSION_ORIGIN) || sender.tab?.incognito)
    return Promise.reject(new Error('not allowed from this context'));
  switch (req.type) {
    case 'search':
      return search(req.query, req.k, req.mode);
    case 'status':
      return status();
    case 'forget': {
      const host = hostArg(req.host);
      if (req.host !== undefined && host === undefined) return Promise.reject(new Error('not a host name'));
      return forget(host);
    }
    case 'setEnabled':
      return setEnabled(req.enabled === true);
    case 'sitesChanged': {
      const tabId = typeof req.tabId === 'number' && Number.isSafeInteger(req.tabId) ? req.tabId : undefined;
      return syncContentScripts().then(async () => {
        // Index the page the user just allowed right away instead of on its next load.
        if (tabId !== undefined && (await isEnabled()))
          await chrome.scripting.executeScript({ target: { tabId }, files: ['content.js'] }).catch(() => undefined);
      });
    }
    default:
      return Promise.reject(new Error('unknown request'));
  }
}

chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Message;
  if (m.target !== 'hpd-background' || sender.id !== chrome.runtime.id) return false;
  const answer = m.type === 'capture' ? capture(m, sender) : fromPopup(m, sender);
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
    captured,
    forget,
    kick,
    omniboxSuggestions,
    openFromOmnibox,
    ensureOffscreen,
    syncContentScripts,
    /** Sets quota fields (`null`: back to the default), e.g. `await hpd.setQuota({ maxPagesPerHost: 100 })`. */
    setQuota: async (q: Partial<Record<keyof Quota, number | null>>) => {
      const quota = await writeQuota(q);
      await (await historyDb()).delete('settings', 'limitNotice');
      return quota;
    },
  },
  embedViaOffscreen: (texts: string[]) => ask({ target: 'hpd-offscreen', type: 'embed', texts }),
});
