// The offscreen document: owns the embedder (model packaged inside the extension, no network), the passage index in
// its worker (saved to IndexedDB by hpd-embed) and the page records. The service worker feeds it; it never fetches.
import { createEmbedder, splitPassages, type Embedder, type IndexHandle, type JsonValue } from '../../src/index.js';
import { historyDb } from './db.js';
import type { HistoryStats, OffscreenRequest, PageHit, PageRecord, QueuedPage, SiteSummary } from './protocol.js';

// The bundle ships in the extension; see build.ts.
const MODEL_URL = chrome.runtime.getURL('models/bundle/');
const INDEX = 'history';
/** A page longer than this many passages is indexed from its start only: bounds the work one visit can cause. */
const MAX_PASSAGES = 200;
const REMOVE_CHUNK = 64;

interface State {
  embedder: Embedder;
  index: IndexHandle;
  restored: boolean;
}

let started: Promise<State> | undefined;
let embeddedPassages = 0;

/** Loads the model and restores the saved index once; a failed start is not cached, so the next request retries. */
function start(): Promise<State> {
  started ??= (async () => {
    const embedder = await createEmbedder({ model: MODEL_URL, device: 'auto' });
    const index = embedder.index(INDEX);
    try {
      return { embedder, index, restored: await index.load() };
    } catch (e) {
      const code = (e as { code?: string }).code;
      // A snapshot from another model (other dim) or a damaged one: start empty, so every page is indexed afresh on its next visit.
      if (code === 'DIM_MISMATCH' || code === 'CORRUPT_INDEX') {
        console.warn(`hpd-embed: the saved index cannot be used (${code}); starting an empty one.`);
        await (await historyDb()).clear('pages');
        return { embedder, index, restored: false };
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

// Mutations run one at a time, so a forget never interleaves with an indexing batch.
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

/**
 * Indexes a batch of captured pages: upserts passages `${url}#${i}`, removes the stale tail of a re-visited page, saves
 * the index, and only then writes the page records. Re-running a batch after a kill anywhere gives the same result.
 */
async function indexPages(pages: QueuedPage[]): Promise<{ embedded: number; pages: number }> {
  const { embedder, index } = await start();
  // Passages sized to what the model reads ([CLS], [SEP] and a margin for the token estimate), never over the default.
  const maxTokens = Math.max(8, Math.min(120, embedder.info.maxTokens - 8));
  const db = await historyDb();
  const records: PageRecord[] = [];
  const emptied: string[] = [];
  let embedded = 0;
  for (const p of pages) {
    const hash = await sha256(p.text);
    const old = await db.get('pages', p.url);
    if (old && old.hash === hash) {
      records.push({ ...old, title: p.title, visitedAt: p.visitedAt });
      continue;
    }
    const passages = splitPassages(p.text, { maxTokens }).slice(0, MAX_PASSAGES);
    if (passages.length) {
      const ids = passages.map((_, i) => `${p.url}#${i}`);
      const meta: JsonValue[] = passages.map((s) => ({ url: p.url, text: s.text }));
      await index.upsertTexts(
        ids,
        passages.map((s) => s.text),
        meta,
      );
      embedded += passages.length;
      embeddedPassages += passages.length;
    }
    await removeFrom(index, p.url, passages.length);
    if (passages.length)
      records.push({
        url: p.url,
        host: p.host,
        title: p.title,
        visitedAt: p.visitedAt,
        passages: passages.length,
        hash,
      });
    else emptied.push(p.url);
  }
  if (embedded > 0 || emptied.length) await index.save();
  const tx = db.transaction('pages', 'readwrite');
  await Promise.all([...records.map((r) => tx.store.put(r)), ...emptied.map((u) => tx.store.delete(u)), tx.done]);
  return { embedded, pages: records.length };
}

/** Top pages for a query: the index returns passages; the best passage of each page stands for it. */
async function search(query: string, k: number): Promise<PageHit[]> {
  const { index } = await start();
  const db = await historyDb();
  // Each hit carries its passage's metadata: one round trip to the worker for the whole search.
  const hits = await index.search(query, k * 4, { withMetadata: true });
  const out: PageHit[] = [];
  const seen = new Set<string>();
  for (const h of hits) {
    const meta = h.metadata as { url?: string; text?: string } | undefined;
    const url = meta?.url ?? h.id.slice(0, h.id.lastIndexOf('#'));
    if (seen.has(url)) continue;
    seen.add(url);
    const page = await db.get('pages', url);
    out.push({
      url,
      title: page?.title ?? url,
      visitedAt: page?.visitedAt ?? 0,
      passage: meta?.text ?? '',
      score: h.score,
    });
    if (out.length === k) break;
  }
  return out;
}

/** Forgets one host's pages, or everything: passages out of the index, index saved, then the records go. */
async function forget(host?: string): Promise<{ pages: number; passages: number }> {
  const { index } = await start();
  const db = await historyDb();
  if (host === undefined) {
    const pages = await db.count('pages');
    const { size } = await index.stats();
    await index.drop();
    await index.save();
    await db.clear('pages');
    return { pages, passages: size };
  }
  const records = await db.getAllFromIndex('pages', 'host', host);
  let passages = 0;
  for (const r of records) passages += await removeFrom(index, r.url, 0);
  await index.save();
  const tx = db.transaction('pages', 'readwrite');
  await Promise.all([...records.map((r) => tx.store.delete(r.url)), tx.done]);
  return { pages: records.length, passages };
}

async function stats(): Promise<HistoryStats> {
  const { embedder, index, restored } = await start();
  const db = await historyDb();
  const s = await index.stats();
  const sites = new Map<string, number>();
  for (const r of await db.getAll('pages')) sites.set(r.host, (sites.get(r.host) ?? 0) + 1);
  const list: SiteSummary[] = [...sites]
    .map(([host, pages]) => ({ host, pages }))
    .sort((a, b) => b.pages - a.pages || a.host.localeCompare(b.host));
  return {
    pages: await db.count('pages'),
    passages: s.size,
    bytes: s.bytes,
    embeddedPassages,
    restored,
    device: embedder.device.actual,
    deviceReason: embedder.device.reason,
    model: embedder.info.name,
    sites: list,
  };
}

async function handle(req: OffscreenRequest): Promise<unknown> {
  switch (req.type) {
    case 'embed': {
      const { embedder } = await start();
      const v = await embedder.embed(req.texts);
      return { dim: embedder.dim, device: embedder.device.actual, vectors: Array.from(v) };
    }
    case 'indexPages':
      return serial(() => indexPages(req.pages));
    case 'forget':
      return serial(() => forget(req.host));
    case 'search':
      return search(req.query, req.k);
    case 'stats':
      return stats();
  }
}

chrome.runtime.onMessage.addListener((msg: OffscreenRequest, _sender, sendResponse) => {
  if (msg?.target !== 'hpd-offscreen') return false;
  handle(msg).then(sendResponse, (err: Error & { code?: string }) =>
    sendResponse({ error: err.message, code: err.code ?? 'UNTYPED' }),
  );
  return true; // the answer is asynchronous
});
