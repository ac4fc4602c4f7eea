// The demo: load a model (saying which, from where, on what), index the sample corpus or your files in the worker
// with progress and cancel, search as you type, switch f32/int8, and keep the index across reloads (OPFS/IndexedDB).
import {
  createEmbedder,
  type Embedder,
  type IndexHandle,
  type IndexStats,
  type SearchHit,
  type SearchMode,
  type StorageKind,
  type TextSpan,
} from 'hpd-embed';
import sampleUrl from './corpus/node-api-docs.jsonl?url';
import { indexes as prebuilt } from 'virtual:hpd-embed';
import { parseFile, parseJsonl, type PassageItem } from './documents.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
};
const setText = (id: string, text: string): void => void ($(id).textContent = text);

const INDEX_NAME = 'demo-documents';
const HUB_MODEL = 'Xuandong/HPD-MiniLM-F128';
/** Texts per addTexts call: sized to take about CHUNK_SECONDS, so progress moves and cancel answers quickly on any device. */
const CHUNK_FIRST = 8;
const CHUNK_MAX = 256;
const CHUNK_SECONDS = 0.75;
const SEARCH_DEBOUNCE_MS = 120;
const TOP_K = 10;

/** What `npm run demo` / `npm run demo:build` prepared (models/demo-model.json); absent on a bare static deploy. */
interface ModelChoice {
  url: string;
  random: boolean;
  source: string;
}

let embedder: Embedder | undefined;
let index: IndexHandle | undefined;
let ready = false;
let loading = false;
let indexing: { cancelled: boolean } | undefined;
/** Texts this page load sent to the model for indexing: 0 after a reload that restored the index. */
let embeddedThisLoad = 0;
const sizes: Partial<Record<StorageKind, number>> = {};

const fmtBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB`;
const fmtRate = (r: number): string => (r < 10 ? r.toFixed(1) : r.toFixed(0));
const fmtMs = (ms: number): string => (ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`);

/** Every control that talks to the model or index is disabled unless the model is ready and no indexing runs. */
function syncControls(): void {
  const enabled = ready && !indexing;
  for (const el of document.querySelectorAll<HTMLElement>('[data-needs-model]')) {
    if (el instanceof HTMLInputElement || el instanceof HTMLButtonElement) el.disabled = !enabled;
    else el.classList.toggle('disabled', !enabled);
  }
  // Search stays usable while indexing: it sees what is indexed so far.
  $<HTMLInputElement>('query').disabled = !ready;
  $<HTMLButtonElement>('load').disabled = !!indexing || loading;
}

async function modelChoice(): Promise<ModelChoice> {
  const res = await fetch('models/demo-model.json', { cache: 'no-store' }).catch(() => undefined);
  if (res?.ok) {
    const j = (await res.json()) as Partial<ModelChoice>;
    if (typeof j.url === 'string')
      return {
        url: j.url.replace(/^\//, ''),
        random: j.random === true,
        source: j.random ? 'stand-in' : (j.source ?? 'local bundle'),
      };
  }
  return { url: HUB_MODEL, random: false, source: 'Hub' };
}

function describeSource(c: ModelChoice): string {
  if (c.source === 'Hub') return `Hugging Face Hub (${c.url}), compiled to ONNX in the worker, cached for offline use`;
  if (c.random) return `stand-in: a random-weight model of the real shape, served from ${c.url}`;
  return `local bundle ${c.url}`;
}

async function loadModel(): Promise<void> {
  if (loading) return;
  ready = false;
  loading = true;
  syncControls();
  const status = $('model-status');
  const bar = $<HTMLProgressElement>('model-progress');
  status.dataset.state = 'loading';
  status.textContent = 'stopping the previous worker…';
  const old = embedder;
  embedder = undefined;
  index = undefined;
  await old?.dispose(); // the old worker and every index in it go away
  const choice = await modelChoice();
  setText('model-source', describeSource(choice));
  const warning = $('warning');
  warning.hidden = !choice.random;
  warning.textContent = choice.random
    ? 'Stand-in model: this machine could not download the published weights, so the demo runs a random-weight model of the same shape. Speed and sizes are real; the rankings are meaningless. Run `npm run models:fetch` with internet access for the real model.'
    : '';
  status.dataset.state = 'loading';
  status.textContent = 'starting worker…';
  bar.value = 0;
  const t0 = performance.now();
  try {
    const e = await createEmbedder({
      model: choice.url,
      device: $<HTMLSelectElement>('device').value as 'auto' | 'webgpu' | 'wasm',
      onProgress: (p) => {
        if (p.stage === 'download') {
          bar.value = p.aggregate.total ? p.aggregate.loaded / p.aggregate.total : 0;
          status.textContent = `${p.fromCache ? 'from cache' : 'downloading'} ${p.file}: ${(p.aggregate.loaded / 1048576).toFixed(1)} MiB`;
        } else if (p.stage === 'compile') {
          bar.value = p.fraction;
          status.textContent = `compiling checkpoint: ${p.step}`;
        } else if (p.stage === 'session') {
          status.textContent = `creating ${p.device} session…`;
        }
      },
    });
    embedder = e;
    bar.value = 1;
    setText('model-name', `${e.info.name}: ${e.dim}-d, ${e.info.dtype} weights`);
    setText('model-device', `${e.device.actual}: ${e.device.reason}`);
    setText(
      'model-threads',
      globalThis.crossOriginIsolated
        ? `${e.device.threads} (page is cross-origin isolated)`
        : `${e.device.threads}: no COOP/COEP headers, so no SharedArrayBuffer and WebAssembly runs on one thread`,
    );
    index = e.index(INDEX_NAME);
    let loadError = '';
    const restored = await index.load().catch((err: unknown) => {
      loadError = `Could not restore the saved index (${(err as Error).message}); starting empty.`;
      return false;
    });
    ready = true;
    status.dataset.state = 'ready';
    status.textContent = `ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    await showStats(restored ? 'restored' : loadError ? undefined : 'empty');
    if (loadError) setText('persist-status', loadError);
    // A first visit starts with the prebuilt sample index (when the build made one): search works at once.
    if (!restored && prebuilt.sample) void importSample();
  } catch (err) {
    status.dataset.state = 'failed';
    status.textContent = `failed: ${(err as Error).message} [${(err as { code?: string }).code ?? 'error'}]`;
  } finally {
    loading = false;
  }
  syncControls();
}

/** Refreshes the index panel; `how` says where its contents came from. */
async function showStats(how?: 'restored' | 'empty' | 'saved' | 'cleared'): Promise<IndexStats | undefined> {
  if (!index || !embedder) return undefined;
  const s = await index.stats();
  sizes[s.storage] = s.bytes;
  const vectors = $('stat-vectors');
  vectors.dataset.value = String(s.size);
  vectors.textContent = s.size.toLocaleString('en');
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name=storage]')) r.checked = r.value === s.storage;
  setText('stat-bpv', s.size ? `${(s.bytes / s.size).toFixed(0)} B (${s.storage}, allocated / vectors)` : '—');
  setText('stat-memory', fmtBytes(s.bytes));
  setText(
    'stat-sizes',
    `f32 ${sizes.f32 === undefined ? 'not measured yet' : fmtBytes(sizes.f32)} · int8 ${sizes.int8 === undefined ? 'not measured yet' : fmtBytes(sizes.int8)}`,
  );
  const kind = await embedder.persistence();
  setText(
    'stat-store',
    kind === 'opfs' ? 'Origin Private File System (OPFS)' : kind === 'indexeddb' ? 'IndexedDB (no OPFS here)' : kind,
  );
  const persist = $('persist-status');
  persist.dataset.embedded = String(embeddedThisLoad);
  const where = kind === 'opfs' ? 'OPFS' : kind === 'indexeddb' ? 'IndexedDB' : kind;
  if (how === 'restored')
    persist.textContent = `Restored ${s.size.toLocaleString('en')} vectors from ${where} without re-embedding.`;
  else if (how === 'saved')
    persist.textContent = `Saved ${s.size.toLocaleString('en')} vectors (${s.storage}) to ${where}.`;
  else if (how === 'cleared') persist.textContent = 'Cleared: the index and its saved copy are gone.';
  else if (how === 'empty') persist.textContent = 'Nothing saved yet: add documents.';
  persist.dataset.how = how ?? persist.dataset.how ?? '';
  await showUsage();
  return s;
}

async function showUsage(): Promise<void> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  setText(
    'stat-usage',
    est?.usage === undefined
      ? 'unknown (no navigator.storage.estimate)'
      : `${fmtBytes(est.usage)} of ${fmtBytes(est.quota ?? 0)} quota (model cache + index)`,
  );
}

/** Embeds and indexes new passages in chunks, with a progress bar, texts/s, ETA and cancel; then saves. */
async function indexItems(all: PassageItem[], label: string): Promise<void> {
  if (!ready || !index || indexing) return;
  const idx = index;
  const status = $('index-status');
  const job = { cancelled: false };
  indexing = job;
  syncControls();
  const bar = $<HTMLProgressElement>('index-progress');
  bar.value = 0;
  setText('index-rate', '');
  status.dataset.state = 'indexing';
  status.textContent = `Indexing ${label}…`;
  // Passages already in the index (the same file or the sample added twice) are skipped, not duplicated.
  const known = new Set(await idx.ids());
  const items = all.filter((it) => !known.has(it.id));
  if (items.length === 0) {
    indexing = undefined;
    syncControls();
    status.dataset.state = 'done';
    status.textContent = `${label}: already indexed.`;
    return;
  }
  $('indexing').hidden = false;
  const t0 = performance.now();
  let done = 0;
  let outcome: 'done' | 'cancelled' | 'failed' = 'failed';
  let message = '';
  try {
    let chunk = CHUNK_FIRST;
    while (done < items.length && !job.cancelled) {
      const part = items.slice(done, done + chunk);
      await idx.addTexts(
        part.map((p) => p.id),
        part.map((p) => p.text),
        part.map((p) => ({ doc: p.doc, text: p.text })),
      );
      done += part.length;
      embeddedThisLoad += part.length;
      const s = (performance.now() - t0) / 1000;
      const rate = done / s;
      chunk = Math.max(CHUNK_FIRST, Math.min(CHUNK_MAX, Math.round(rate * CHUNK_SECONDS)));
      bar.value = done / items.length;
      setText(
        'index-rate',
        `${done.toLocaleString('en')} / ${items.length.toLocaleString('en')} · ${fmtRate(rate)} texts/s · ETA ${((items.length - done) / rate).toFixed(0)} s`,
      );
    }
    const s = (performance.now() - t0) / 1000;
    outcome = job.cancelled ? 'cancelled' : 'done';
    message = `${job.cancelled ? 'Cancelled' : 'Indexed'} ${label}: ${done.toLocaleString('en')} of ${items.length.toLocaleString('en')} passages in ${s.toFixed(1)} s (${fmtRate(done / s)} texts/s).`;
  } catch (err) {
    message = `Indexing ${label} failed after ${done} passages: ${(err as Error).message}`;
  }
  $('indexing').hidden = true;
  await save(); // what was indexed, also after a cancel or a failure (each chunk was added whole)
  indexing = undefined;
  status.dataset.state = outcome;
  status.textContent = message;
  syncControls();
  scheduleSearch(0);
}

async function save(): Promise<void> {
  if (!index) return;
  try {
    await index.save();
    await showStats('saved');
  } catch (err) {
    setText('persist-status', `Save failed (the previous copy is kept): ${(err as Error).message}`);
  }
}

/** Marks the status busy at once, before files are read or fetched (the indexing job itself starts after). */
function preparing(what: string): void {
  const status = $('index-status');
  status.dataset.state = 'preparing';
  status.textContent = what;
}

/** The prebuilt sample index (vite.config.ts), imported into an empty index: no embedding in the page. False when it cannot be used. */
async function importSample(): Promise<boolean> {
  const file = prebuilt.sample;
  if (!file || !index || (await index.stats()).size > 0) return false;
  const idx = index;
  preparing('Downloading the prebuilt sample index…');
  const t0 = performance.now();
  try {
    const stats = await idx.import(file.url, {
      integrity: file.integrity,
      onProgress: (p) => setText('index-rate', `${fmtBytes(p.loaded)}${p.fromCache ? ' from cache' : ''}`),
    });
    const took = (performance.now() - t0) / 1000;
    await save();
    const status = $('index-status');
    status.dataset.state = 'done';
    status.textContent = `Indexed the sample corpus from its prebuilt index: ${stats.size.toLocaleString('en')} passages in ${took.toFixed(1)} s, nothing embedded in the page.`;
    scheduleSearch(0);
    return true;
  } catch (err) {
    // Another model than the one it was built with (MODEL_MISMATCH), or no network: embed the sample here instead.
    setText('index-rate', `prebuilt index not used: ${(err as Error).message}`);
    return false;
  }
}

async function addSample(): Promise<void> {
  if (!ready || indexing || !index) return;
  if (await importSample()) return;
  if (prebuilt.sample && (await index.ids()).some((id) => id.startsWith('corpus/node-api-docs.jsonl#'))) {
    $('index-status').dataset.state = 'done';
    setText('index-status', 'The sample corpus: already indexed (from its prebuilt index).');
    return;
  }
  preparing('Fetching the sample corpus…');
  const res = await fetch(sampleUrl);
  if (!res.ok) {
    $('index-status').dataset.state = 'failed';
    setText('index-status', `Could not load the sample corpus (HTTP ${res.status}).`);
    return;
  }
  const parsed = parseJsonl('sample', await res.text());
  await indexItems(parsed.items, `the sample corpus (${parsed.documents.toLocaleString('en')} texts)`);
}

async function addFiles(files: readonly File[]): Promise<void> {
  if (!ready || indexing) return;
  preparing('Reading files…');
  const accepted = files.filter((f) => /\.(txt|md|markdown|jsonl)$/i.test(f.name));
  const rejected = files.length - accepted.length;
  const items: PassageItem[] = [];
  let documents = 0;
  const notes: string[] = [];
  for (const f of accepted) {
    const parsed = parseFile(f.name, await f.text());
    items.push(...parsed.items);
    documents += parsed.documents;
    if (parsed.skipped)
      notes.push(
        `${f.name}: skipped ${parsed.skipped} line(s) without a "text" field (e.g. line ${parsed.skippedLines.join(', ')})`,
      );
  }
  if (rejected) notes.push(`ignored ${rejected} file(s) that are not .txt, .md or .jsonl`);
  const label = `${accepted.map((f) => f.name).join(', ') || 'no files'} (${documents} document${documents === 1 ? '' : 's'}, ${items.length} passages)`;
  await indexItems(items, label);
  if (notes.length) $('index-status').textContent += ` ${notes.join('; ')}.`;
}

async function switchStorage(to: StorageKind): Promise<void> {
  if (!ready || !index || indexing) return;
  ready = false;
  syncControls();
  try {
    const t0 = performance.now();
    await index.rebuild(to);
    $('persist-status').dataset.how = 'rebuilt';
    setText(
      'persist-status',
      `Re-indexed as ${to} from the stored vectors in ${fmtMs(performance.now() - t0)}, without re-embedding.`,
    );
    await save();
  } finally {
    ready = true;
    syncControls();
    scheduleSearch(0);
  }
}

async function clearIndex(): Promise<void> {
  if (!ready || !index || !embedder || indexing) return;
  await index.drop(); // frees the worker-side index; the handle starts an empty one on the next call
  await index.deleteSaved();
  delete sizes.f32;
  delete sizes.int8;
  $('results').replaceChildren();
  setText('timing', '');
  await showStats('cleared');
}

// --- search as you type --------------------------------------------------

let searchTimer: ReturnType<typeof setTimeout> | undefined;
let searchSeq = 0;

function scheduleSearch(delay = SEARCH_DEBOUNCE_MS): void {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void search(), delay);
}

async function search(): Promise<void> {
  const q = $<HTMLInputElement>('query').value.trim();
  const list = $('results');
  if (!ready || !embedder || !index || !q) {
    if (!q) {
      list.replaceChildren();
      delete list.dataset.query; // the list shows no query's results now
    }
    return;
  }
  const seq = ++searchSeq;
  const mode = document.querySelector<HTMLInputElement>('input[name=mode]:checked')?.value as SearchMode;
  const t0 = performance.now();
  let t1 = t0;
  let hits: SearchHit[];
  try {
    // A keyword search embeds nothing; hybrid embeds the query once and also matches its words.
    const vector = mode === 'keyword' ? undefined : await embedder.embed([q]);
    t1 = performance.now();
    hits = await index.search(vector ?? q, TOP_K, { withMetadata: true, mode, text: q });
  } catch (err) {
    if (seq !== searchSeq) return;
    // A failed search says so where the timing goes, never silently (an empty list would read as "no matches").
    $('timing').textContent =
      `search failed: ${(err as Error).message}${(err as { code?: string }).code ? ` [${(err as { code?: string }).code}]` : ''}`;
    list.replaceChildren();
    delete list.dataset.query;
    return;
  }
  const t2 = performance.now();
  if (seq !== searchSeq) return; // a newer query already ran
  const s = await index.stats();
  const timing = $('timing');
  timing.textContent = `query encode ${fmtMs(t1 - t0)} · search ${fmtMs(t2 - t1)} (round trips to the worker) · ${s.size.toLocaleString('en')} vectors · ${s.storage} · ${mode}`;
  timing.dataset.hits = String(hits.length);
  list.dataset.query = q;
  list.replaceChildren(
    ...hits.map((h) => {
      const meta = (h.metadata ?? {}) as { doc?: string; title?: string; text?: string };
      const li = document.createElement('li');
      const score = document.createElement('span');
      score.className = 'score';
      // The cosine where the vectors found it (hybrid's fused score is a rank sum); BM25 in keyword mode.
      const shown = mode === 'hybrid' ? h.sources?.vector?.score : h.score;
      score.textContent = shown === undefined ? '' : shown.toFixed(3);
      const passage = document.createElement('span');
      passage.className = 'passage';
      passage.append(...highlighted(meta.text ?? h.id, h.highlights)); // untrusted: text nodes only, never innerHTML
      const why = document.createElement('span');
      why.className = 'why';
      why.textContent = whyText(h);
      const doc = document.createElement('span');
      doc.className = 'doc';
      doc.textContent = meta.title || meta.doc || ''; // prebuilt passages carry their document's title
      li.append(score, passage, why, doc);
      return li;
    }),
  );
}

/** The text as text nodes, with the hit's matched-term offsets wrapped in <mark>. */
function highlighted(text: string, spans: readonly TextSpan[] | undefined): Node[] {
  const out: Node[] = [];
  let at = 0;
  for (const { start, end } of spans ?? []) {
    if (start < at) continue;
    if (start > at) out.push(document.createTextNode(text.slice(at, start)));
    const mark = document.createElement('mark');
    mark.textContent = text.slice(start, end);
    out.push(mark);
    at = end;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

/** Why a hit matched: the lists that found it and its rank in each. */
function whyText(h: SearchHit): string {
  const parts: string[] = [];
  if (h.sources?.vector) parts.push(`meaning #${h.sources.vector.rank}`);
  if (h.sources?.keyword) parts.push(`words #${h.sources.keyword.rank}`);
  return parts.join(' · ');
}

// --- wiring --------------------------------------------------------------

$('load').addEventListener('click', () => void loadModel());
$('add-sample').addEventListener('click', () => void addSample());
$('cancel').addEventListener('click', () => {
  if (indexing) indexing.cancelled = true;
});
$('clear').addEventListener('click', () => void clearIndex());
$<HTMLInputElement>('files').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const files = [...(input.files ?? [])];
  input.value = '';
  void addFiles(files);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (ready && !indexing) void addFiles([...(e.dataTransfer?.files ?? [])]);
});
for (const r of document.querySelectorAll<HTMLInputElement>('input[name=storage]')) {
  r.addEventListener('change', () => void switchStorage(r.value as StorageKind));
}
$('query').addEventListener('input', () => scheduleSearch());
for (const r of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) {
  r.addEventListener('change', () => scheduleSearch(0));
}
syncControls();
void loadModel();
