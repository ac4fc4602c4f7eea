// The offscreen document: owns the embedder (model packaged inside the extension, no network), the passage index in
// its worker (saved to IndexedDB by hpd-embed) and the page records. The service worker feeds it; it never fetches.
import { createEmbedder, splitPassages, type Embedder, type IndexHandle, type JsonValue } from '../../src/index.js';
import { historyDb, readQuota, type Db } from './db.js';
import {
  MAX_BATCH,
  MAX_EMBED_CHARS,
  MAX_EMBED_TEXTS,
  MAX_PASSAGES_PER_PAGE,
  MAX_QUERY,
  MAX_TEXT,
  MAX_TITLE,
  clampInt,
  clampK,
  clampText,
  hostArg,
  pageQuotaExceeded,
  passageQuotaExceeded,
  searchMode,
} from './limits.js';
import type { HistoryStats, IndexReply, PageHit, PageRecord, QueuedPage, SaveReply, SiteSummary } from './protocol.js';
import { pageKey } from './urls.js';

// The bundle ships in the extension; see build.ts.
const MODEL_URL = chrome.runtime.getURL('models/bundle/');
const INDEX = 'history';
const REMOVE_CHUNK = 64;

interface State {
  embedder: Embedder;
  index: IndexHandle;
  restored: boolean;
  /** This document's life: the service worker takes pages off its queue only once the same instance saved them. */
  instance: string;
}

let started: Promise<State> | undefined;
let embeddedPassages = 0;

/** Loads the model and restores the saved index once; a failed start is not cached, so the next request retries. */
function start(): Promise<State> {
  started ??= (async () => {
    const embedder = await createEmbedder({ model: MODEL_URL, device: 'auto' });
    const index = embedder.index(INDEX);
    try {
      return { embedder, index, restored: await index.load(), instance: crypto.randomUUID() };
    } catch (e) {
      const code = (e as { code?: string }).code;
      // A snapshot from another model (other dim) or a damaged one: start empty, so every page is indexed afresh on its next visit.
      if (code === 'DIM_MISMATCH' || code === 'CORRUPT_INDEX') {
        console.warn(`hpd-embed: the saved index cannot be used (${code}); starting an empty one.`);
        await (await historyDb()).clear('pages');
        return { embedder, index, restored: false, instance: crypto.randomUUID() };
      }
      await embedder.dispose();
      throw e;
    }
  })().catch((e: unknown) => {
    started = undefined;
    throw e;
  });
  return started;
}

// Mutations run one at a time, so a forget never interleaves with an indexing batch or a save.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = chain.then(fn);
  chain = run.catch(() => undefined);
  return run;
}

async function sha256(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Removes `${url}#${from}`, `${url}#${from + 1}`, … : a page's passage ids are contiguous from 0, so the first gap ends them. */
async function removeFrom(index: IndexHandle, url: string, from: number): Promise<number> {
  let removed = 0;
  for (let i = from; ; i += REMOVE_CHUNK) {
    const n = await index.remove(Array.from({ length: REMOVE_CHUNK }, (_, j) => `${url}#${i + j}`));
    removed += n;
    if (n < REMOVE_CHUNK) return removed;
  }
}

// Page records wait here until the index holding their passages is saved (a record on disk promises its passages are
// on disk too: a replayed capture with the same hash is then skipped). `record` undefined: the record is to be deleted.
interface PendingRecord {
  record?: PageRecord;
  host: string;
  /** Whether the pages store holds a record for this URL now. */
  inDb: boolean;
}
const pending = new Map<string, PendingRecord>();
/** The index has changes that are not saved yet. */
let dirty = false;

/** Pages (of one host, or all) counting the pending records: the stored count plus pending new minus pending deleted. */
async function pageCount(db: Db, host?: string): Promise<number> {
  let n = host === undefined ? await db.count('pages') : await db.countFromIndex('pages', 'host', host);
  for (const p of pending.values())
    if (host === undefined || p.host === host) n += (p.record ? 1 : 0) - (p.inDb ? 1 : 0);
  return n;
}

/**
 * Indexes a batch of captured pages: upserts passages `${url}#${i}` and removes the stale tail of a re-visited page.
 * The index is not saved here (`save` does that, as the service worker paces it); the changed pages' records wait in
 * `pending` until then. Re-running a batch after a kill anywhere gives the same result. Every field is re-checked here.
 */
async function indexPages(raw: unknown): Promise<IndexReply> {
  const { embedder, index, instance } = await start();
  // Passages sized to what the model reads ([CLS], [SEP] and a margin for the token estimate), never over the default.
  const maxTokens = Math.max(8, Math.min(120, embedder.info.maxTokens - 8));
  const db = await historyDb();
  const quota = await readQuota();
  let size = (await index.stats()).size;
  const settled: PageRecord[] = [];
  const skipped: IndexReply['skipped'] = [];
  let embedded = 0;
  for (const item of Array.isArray(raw) ? raw.slice(0, MAX_BATCH) : []) {
    const p = (typeof item === 'object' && item !== null ? item : {}) as Partial<QueuedPage>;
    const url = pageKey(p.url);
    if (!url) {
      skipped.push({ url: clampText(p.url, 200), reason: 'not an http(s) URL' });
      continue;
    }
    const host = new URL(url).hostname;
    const text = clampText(p.text, MAX_TEXT);
    const title = clampText(p.title, MAX_TITLE).trim() || url;
    const visitedAt = clampInt(p.visitedAt, 0, 8.64e15, Date.now());
    const hash = await sha256(text);
    const waiting = pending.get(url);
    const old = waiting ? waiting.record : await db.get('pages', url);
    if (old && old.hash === hash) {
      const record = { ...old, title, visitedAt };
      // A saved page's record can be updated at once; a pending one's waits with it.
      if (waiting) pending.set(url, { ...waiting, record });
      else settled.push(record);
      continue;
    }
    if (!old) {
      const full = pageQuotaExceeded(host, await pageCount(db, host), await pageCount(db), quota);
      if (full) {
        skipped.push({ url, reason: full });
        continue;
      }
    }
    const passages = splitPassages(text, { maxTokens }).slice(0, MAX_PASSAGES_PER_PAGE);
    const over = passageQuotaExceeded(size, old?.passages ?? 0, passages.length, quota);
    if (over) {
      skipped.push({ url, reason: over });
      continue;
    }
    if (passages.length) {
      const ids = passages.map((_, i) => `${url}#${i}`);
      const meta: JsonValue[] = passages.map((s) => ({ url, text: s.text }));
      size = (
        await index.upsertTexts(
          ids,
          passages.map((s) => s.text),
          meta,
        )
      ).size;
      embedded += passages.length;
      embeddedPassages += passages.length;
    }
    size -= await removeFrom(index, url, passages.length);
    dirty = true;
    pending.set(url, {
      host,
      inDb: waiting ? waiting.inDb : old !== undefined,
      ...(passages.length ? { record: { url, host, title, visitedAt, passages: passages.length, hash } } : {}),
    });
  }
  if (settled.length) {
    const tx = db.transaction('pages', 'readwrite');
    await Promise.all([...settled.map((r) => tx.store.put(r)), tx.done]);
  }
  return { instance, pending: dirty || pending.size > 0, embedded, skipped };
}

/** Saves the index if it changed, then writes the records that waited for it. */
async function save(): Promise<SaveReply> {
  const { index, instance } = await start();
  if (dirty) {
    await index.save();
    dirty = false;
  }
  if (pending.size) {
    const tx = (await historyDb()).transaction('pages', 'readwrite');
    const writes = [...pending].map(([url, p]) => (p.record ? tx.store.put(p.record) : tx.store.delete(url)));
    await Promise.all([...writes, tx.done]);
    pending.clear();
  }
  return { instance };
}

/** A page's record as searches see it: a pending one first. */
async function record(db: Db, url: string): Promise<PageRecord | undefined> {
  const waiting = pending.get(url);
  return waiting ? waiting.record : db.get('pages', url);
}

/** Top pages for a query: the index returns passages; the best passage of each page stands for it. */
async function search(rawQuery: unknown, rawK: unknown, rawMode: unknown): Promise<PageHit[]> {
  const query = clampText(rawQuery, MAX_QUERY);
  const k = clampK(rawK);
  const mode = searchMode(rawMode);
  if (!query.trim()) return [];
  const { index } = await start();
  const db = await historyDb();
  // Each hit carries its passage's metadata: one round trip to the worker for the whole search.
  const hits = await index.search(query, k * 4, { withMetadata: true, mode });
  const out: PageHit[] = [];
  const seen = new Set<string>();
  for (const h of hits) {
    const meta = h.metadata as { url?: string; text?: string } | undefined;
    const url = meta?.url ?? h.id.slice(0, h.id.lastIndexOf('#'));
    if (seen.has(url)) continue;
    seen.add(url);
    const page = await record(db, url);
    out.push({
      url,
      title: page?.title ?? url,
      visitedAt: page?.visitedAt ?? 0,
      passage: meta?.text ?? '',
      score: h.score,
      ...(h.highlights ? { highlights: h.highlights } : {}),
      ...(h.sources ? { why: whyText(h.sources) } : {}),
    });
    if (out.length === k) break;
  }
  return out;
}

/** Why a hit matched: the lists that found it and its rank in each. */
function whyText(s: { vector?: { rank: number }; keyword?: { rank: number } }): string {
  return [s.vector && `meaning #${s.vector.rank}`, s.keyword && `words #${s.keyword.rank}`].filter(Boolean).join(' · ');
}

/** Forgets one host's pages, or everything: passages out of the index, index saved, then the records go. */
async function forget(rawHost: unknown, all: boolean): Promise<{ pages: number; passages: number }> {
  const { index } = await start();
  const db = await historyDb();
  if (all) {
    const pages = await pageCount(db);
    const { size } = await index.stats();
    await index.drop();
    pending.clear();
    await index.save();
    dirty = false;
    await db.clear('pages');
    return { pages, passages: size };
  }
  const host = hostArg(rawHost);
  if (host === undefined) return { pages: 0, passages: 0 };
  const urls = new Set((await db.getAllKeysFromIndex('pages', 'host', host)).map(String));
  for (const [url, p] of pending) if (p.host === host) urls.add(url);
  let passages = 0;
  for (const url of urls) passages += await removeFrom(index, url, 0);
  const pages = await pageCount(db, host);
  for (const [url, p] of [...pending]) if (p.host === host) pending.delete(url);
  dirty = true;
  await save();
  const tx = db.transaction('pages', 'readwrite');
  await Promise.all([...[...urls].map((u) => tx.store.delete(u)), tx.done]);
  return { pages, passages };
}

async function stats(): Promise<HistoryStats> {
  const { embedder, index, restored } = await start();
  const db = await historyDb();
  const s = await index.stats();
  const sites = new Map<string, number>();
  for (const r of await db.getAll('pages')) if (!pending.has(r.url)) sites.set(r.host, (sites.get(r.host) ?? 0) + 1);
  for (const p of pending.values()) if (p.record) sites.set(p.host, (sites.get(p.host) ?? 0) + 1);
  const list: SiteSummary[] = [...sites]
    .map(([host, pages]) => ({ host, pages }))
    .sort((a, b) => b.pages - a.pages || a.host.localeCompare(b.host));
  return {
    pages: await pageCount(db),
    passages: s.size,
    bytes: s.bytes,
    embeddedPassages,
    restored,
    device: embedder.device.actual,
    deviceReason: embedder.device.reason,
    model: embedder.info.name,
    // Read as optional: fixture-made models say so in their info (`randomWeights`), older engines have no such field.
    randomWeights: (embedder.info as { randomWeights?: boolean }).randomWeights === true,
    sites: list,
  };
}

async function embed(raw: unknown): Promise<{ dim: number; device: string; vectors: number[] }> {
  const { embedder } = await start();
  const texts = (Array.isArray(raw) ? raw.slice(0, MAX_EMBED_TEXTS) : []).map((t) => clampText(t, MAX_EMBED_CHARS));
  const v = await embedder.embed(texts);
  return { dim: embedder.dim, device: embedder.device.actual, vectors: Array.from(v) };
}

function handle(req: Record<string, unknown>): Promise<unknown> {
  switch (req.type) {
    case 'embed':
      return embed(req.texts);
    case 'indexPages':
      return serial(() => indexPages(req.pages));
    case 'save':
      return serial(save);
    case 'forget':
      return serial(() => forget(req.host, req.host === undefined));
    case 'search':
      return search(req.query, req.k, req.mode);
    case 'stats':
      return stats();
    default:
      return Promise.reject(Object.assign(new Error('unknown request'), { code: 'INVALID_INPUT' }));
  }
}

// The trust boundary. Runtime messages reach every extension context, so a content script (possibly in a compromised
// renderer) can address this document too; the sender fields are filled in by the browser process, not the sender, so
// only a message whose sender is this extension's service worker (its script URL, no tab) is answered. A dedicated
// port would rest on the same sender check and add reconnection after either side restarts, so it is not used.
const SERVICE_WORKER_URL = chrome.runtime.getURL('background.js');

function fromServiceWorker(sender: chrome.runtime.MessageSender): boolean {
  return sender.id === chrome.runtime.id && sender.tab === undefined && sender.url === SERVICE_WORKER_URL;
}

chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (typeof msg !== 'object' || msg === null || (msg as { target?: unknown }).target !== 'hpd-offscreen') return false;
  if (!fromServiceWorker(sender)) {
    sendResponse({ error: 'refused: the offscreen document answers the service worker only', code: 'FORBIDDEN' });
    return false;
  }
  handle(msg as Record<string, unknown>).then(sendResponse, (err: Error & { code?: string }) =>
    sendResponse({ error: err.message, code: err.code ?? 'UNTYPED' }),
  );
  return true; // the answer is asynchronous
});
