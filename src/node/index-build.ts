// `index build`: files and folders → documents → passages → vectors → one index file. Shared by the CLI and the
// Vite plugin (one indexing path). An update re-embeds only documents whose content hash changed, keeping the stored
// rows of the others exactly as they were, and drops documents that are gone.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { CosineIndex } from '../search/cosine-index.js';
import { readIndexFile, writeIndexFile, type IndexModelIdentity } from '../search/index-file.js';
import type { JsonValue, StorageKind } from '../search/types.js';
import {
  htmlDocument,
  isDocumentFile,
  jsonlDocuments,
  markdownDocument,
  textDocument,
  type SourceDocument,
} from '../text/documents.js';
import { splitPassages } from '../text/passages.js';

/** The metadata of every passage an index build writes. */
export type PassageMetadata = { [key: string]: JsonValue } & {
  doc: string;
  title: string;
  /** Offsets of the passage in the document's source (the file, or a JSONL record's text). */
  start: number;
  end: number;
  /** The passage's text; with `texts: 'chunks'` absent, and `chunk` names the text chunk file that holds it. */
  text?: string;
  chunk?: string;
};

/** Where passage texts go: in the index's metadata, or in chunk files fetched per hit (see passage-texts.ts). */
export type TextPlacement = 'inline' | 'chunks';

/** Largest text chunk file (bytes of UTF-16 text, about as many UTF-8 bytes for Latin text): ten hits fetch ≤ ~100 KB. */
const TEXT_CHUNK_BYTES = 8192;

export interface BuildOptions {
  /** Files and folders (folders are searched recursively for .md, .markdown, .txt, .html, .jsonl). */
  inputs: readonly string[];
  /** The folder document names are relative to (default: the inputs' common root). */
  root?: string;
  /** Embeds texts into unit vectors (N × dim, flat), e.g. an Embedder's embed. */
  embed: (texts: string[]) => Promise<Float32Array>;
  /** The model `embed` runs (recorded in the file; an update under another model re-embeds everything). */
  model: IndexModelIdentity;
  storage?: StorageKind;
  /** The previous build's file, for an update: unchanged documents keep their rows. */
  previous?: Uint8Array;
  /** Passages embedded so far of those to embed. */
  onProgress?: (done: number, total: number) => void;
  /** Passages per embed call (default 64); a few calls run at once so the engine's batches stay full. */
  batch?: number;
  /** 'inline' (default): each passage's text in its metadata; 'chunks': in chunk files, returned as `chunks`. */
  texts?: TextPlacement;
}

export interface BuildStats {
  documents: number;
  passages: number;
  embedded: number;
  reused: number;
  bytes: number;
  seconds: number;
}

export interface BuildResult {
  file: ArrayBuffer;
  stats: BuildStats;
  /** Why nothing of `previous` was reused, when it was given but could not be (another model or storage). */
  fullRebuild?: string;
  /** With `texts: 'chunks'`: chunk name → file bytes (UTF-8 JSON `{ [passage id]: text }`), for every passage. */
  chunks?: Map<string, Uint8Array>;
}

interface Doc {
  source: SourceDocument;
  hash: string;
}

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
const posix = (p: string) => p.split(sep).join('/');

/** The document files under `inputs` (sorted) and their common root (the folder ids are relative to). */
export async function collectFiles(inputs: readonly string[]): Promise<{ root: string; files: string[] }> {
  if (inputs.length === 0) throw new InvalidInputError('index build needs at least one file or folder.');
  const files = new Set<string>();
  const roots: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = resolve(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && isDocumentFile(e.name)) files.add(p);
    }
  };
  for (const input of inputs) {
    const abs = resolve(input);
    const s = await stat(abs).catch((cause: Error) => {
      throw new InvalidInputError(`${input}: no such file or folder.`, { cause });
    });
    if (s.isDirectory()) {
      roots.push(abs);
      await walk(abs);
    } else {
      if (!isDocumentFile(abs))
        throw new InvalidInputError(`${input} is not a .md, .markdown, .txt, .html or .jsonl file.`);
      roots.push(dirname(abs));
      files.add(abs);
    }
  }
  if (files.size === 0)
    throw new InvalidInputError(`no .md, .markdown, .txt, .html or .jsonl files in ${inputs.join(', ')}.`);
  let root = roots[0];
  for (const r of roots) while (relative(root, r).startsWith('..')) root = dirname(root);
  return { root, files: [...files].sort() };
}

/** The documents of `files`, named relative to `root`, with their content hashes. */
export async function readDocuments(root: string, files: readonly string[]): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const file of files) {
    const bytes = await readFile(file);
    const text = new TextDecoder().decode(bytes); // drops a UTF-8 BOM, so offsets are into the text
    const name = posix(relative(root, file));
    const lower = file.toLowerCase();
    if (lower.endsWith('.jsonl')) {
      for (const { doc, line } of jsonlDocuments(name, text)) docs.push({ source: doc, hash: sha256(line) });
      continue;
    }
    const hash = sha256(bytes);
    const source =
      lower.endsWith('.html') || lower.endsWith('.htm')
        ? htmlDocument(name, text)
        : lower.endsWith('.txt')
          ? textDocument(name, text)
          : markdownDocument(name, text);
    docs.push({ source, hash });
  }
  return docs;
}

/**
 * A document's passages: ids `<doc>#<n>` and their metadata (offsets into the source). With `chunks`, texts go into
 * chunk files of at most TEXT_CHUNK_BYTES (a document's passages in order; a chunk is named by its content hash, so
 * an unchanged document keeps its chunk names and a reused row's `chunk` stays valid).
 */
export function documentPassages(
  d: SourceDocument,
  chunks?: Map<string, Uint8Array>,
): { ids: string[]; texts: string[]; metadata: PassageMetadata[] } {
  const ids: string[] = [];
  const texts: string[] = [];
  const metadata: PassageMetadata[] = [];
  const base = d.base ?? 0;
  splitPassages(d.text).forEach((p, n) => {
    if (!p.text.trim()) return;
    const start = d.offsets ? d.offsets[p.start] : base + p.start;
    const end = d.offsets ? d.offsets[p.end - 1] + 1 : base + p.end;
    ids.push(`${d.doc}#${n}`);
    texts.push(p.text);
    metadata.push({ ...(d.fields ?? {}), doc: d.doc, title: d.title, start, end, ...(chunks ? {} : { text: p.text }) });
  });
  if (chunks) {
    const enc = new TextEncoder();
    let from = 0;
    while (from < ids.length) {
      let to = from + 1;
      let size = texts[from].length;
      while (to < ids.length && size + texts[to].length <= TEXT_CHUNK_BYTES) size += texts[to++].length;
      const part: Record<string, string> = {};
      for (let i = from; i < to; i++) part[ids[i]] = texts[i];
      const bytes = enc.encode(JSON.stringify(part));
      const name = sha256(bytes).slice(0, 16);
      chunks.set(name, bytes);
      for (let i = from; i < to; i++) metadata[i].chunk = name;
      from = to;
    }
  }
  return { ids, texts, metadata };
}

/** Builds (or updates) an index file from documents; nothing is written here (the caller writes it atomically). */
export async function buildIndex(o: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const storage = o.storage ?? 'f32';
  const collected = await collectFiles(o.inputs);
  const files = collected.files;
  const root = o.root !== undefined ? resolve(o.root) : collected.root;
  const docs = await readDocuments(root, files);
  const hashes: Record<string, string> = {};
  for (const d of docs) hashes[d.source.doc] = d.hash;

  const chunks = o.texts === 'chunks' ? new Map<string, Uint8Array>() : undefined;
  let index: CosineIndex | undefined;
  let fullRebuild: string | undefined;
  let reusable = new Set<string>();
  if (o.previous) {
    const prev = readIndexFile(o.previous);
    if (!prev.model || prev.model.sha256 !== o.model.sha256)
      fullRebuild = `the previous index was built with ${prev.model ? `"${prev.model.name}"` : 'an unknown model'}`;
    else if (!prev.documents) fullRebuild = 'the previous index has no document hashes';
    else {
      const old = CosineIndex.deserialize(prev.index);
      const first = old.size > 0 ? (old.get(old.ids()[0])?.metadata as PassageMetadata | undefined) : undefined;
      if (old.storage !== storage) fullRebuild = `the previous index has ${old.storage} storage`;
      else if (!old.hasKeywords) fullRebuild = 'the previous index has no keyword index';
      else if (first && (first.chunk !== undefined) !== (chunks !== undefined))
        fullRebuild = `the previous index keeps passage texts ${first.chunk !== undefined ? 'in chunk files' : 'inline'}`;
      else {
        const before = prev.documents;
        reusable = new Set(docs.filter((d) => before[d.source.doc] === d.hash).map((d) => d.source.doc));
        const stale = old.ids().filter((id) => {
          const m = old.get(id)?.metadata as PassageMetadata | undefined;
          return !m || !reusable.has(m.doc);
        });
        old.remove(stale);
        index = old;
      }
    }
  }
  // With the keyword (BM25) index of the passage texts, so a page can search the prebuilt index in every mode.
  index ??= new CosineIndex({ dim: o.model.dim, storage, keywords: true });
  const reused = index.size;

  const ids: string[] = [];
  const texts: string[] = [];
  const metadata: PassageMetadata[] = [];
  for (const d of docs) {
    if (reusable.has(d.source.doc)) {
      if (chunks) documentPassages(d.source, chunks); // its chunk files (same names: same content), no embedding
      continue;
    }
    const p = documentPassages(d.source, chunks);
    ids.push(...p.ids);
    texts.push(...p.texts);
    metadata.push(...p.metadata);
  }
  const batch = o.batch ?? 64;
  const inFlight = 4;
  const pending: Promise<Float32Array>[] = [];
  let done = 0;
  o.onProgress?.(0, texts.length);
  const start = (i: number) => {
    const p = o.embed(texts.slice(i * batch, (i + 1) * batch));
    p.catch(() => {}); // awaited in order below
    pending[i] = p;
  };
  const count = Math.ceil(texts.length / batch);
  for (let i = 0; i < Math.min(inFlight, count); i++) start(i);
  for (let i = 0; i < count; i++) {
    const vectors = await pending[i];
    if (i + inFlight < count) start(i + inFlight);
    const from = i * batch;
    const to = Math.min(from + batch, texts.length);
    index.addVectors(ids.slice(from, to), vectors, metadata.slice(from, to), { texts: texts.slice(from, to) });
    done = to;
    o.onProgress?.(done, texts.length);
  }
  const file = writeIndexFile({ model: o.model, index: index.serialize(), documents: hashes });
  const stats: BuildStats = {
    documents: docs.length,
    passages: index.size,
    embedded: texts.length,
    reused,
    bytes: file.byteLength,
    seconds: (performance.now() - t0) / 1000,
  };
  return { file, stats, ...(fullRebuild ? { fullRebuild } : {}), ...(chunks ? { chunks } : {}) };
}

/** One `{ id, vector, metadata }` JSON line per entry of an index file (vectors as stored: int8 ones dequantised). */
export function* indexJsonLines(bytes: Uint8Array): Generator<string> {
  const index = CosineIndex.import(bytes);
  for (const id of index.ids()) {
    const e = index.get(id)!;
    yield JSON.stringify({ id, vector: Array.from(e.vector), metadata: e.metadata ?? null });
  }
}

/** A one-line progress bar with rate and ETA (for a terminal; `\r` redraws it). */
export function progressBar(done: number, total: number, seconds: number, width = 24): string {
  const frac = total === 0 ? 1 : done / total;
  const filled = Math.round(frac * width);
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const time = (s: number) =>
    Number.isFinite(s)
      ? s >= 60
        ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
        : `${Math.round(s)}s`
      : '?';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} passages  ${rate.toFixed(1)}/s  ETA ${time(eta)}`;
}
