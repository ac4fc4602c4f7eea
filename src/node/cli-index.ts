// `hpd-embed index build|export`: the CLI over index-build.ts.
import { createWriteStream } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../errors.js';
import type { StorageKind } from '../search/types.js';
import { writeFileAtomic, readFileIfExists } from './atomic-write.js';
import { checkInputFile, checkOutputFile } from './cli-files.js';
import { UsageError, type CliIO } from './cli-io.js';
import { MODEL_FLAGS, modelOptions, modelSettings, openEmbedder } from './cli-model.js';
import { buildIndex, indexJsonLines, progressBar } from './index-build.js';

export const INDEX_SUMMARY = 'Builds a searchable index file from documents (and exports one as JSONL).';
export const INDEX_USAGE = `hpd-embed index build <path>… --model <…> --out <file> [--storage f32|int8] [--texts inline|chunks] [--update] [--json]
       hpd-embed index export <file> --format jsonl [--out <file.jsonl>]
  build: reads files and folders (recursively: .md, .markdown, .txt, .html visible text, .jsonl { "id", "text", … }),
  splits each document into passages (ids <document path relative to the common root>#<n>, metadata
  { doc, title, start, end, text }), embeds them and writes one index file that handle.import() and
  CosineIndex.import() read. --update reads the existing --out and re-embeds only documents whose content changed
  (dropping removed ones); the file is replaced atomically. --json prints { documents, passages, embedded, reused,
  bytes, seconds } on stdout. --texts chunks leaves passage texts out of the index (metadata gets a chunk name instead)
  and writes them to <file>.texts/<chunk>.json (≤ 8 KB each), which pages fetch per hit (createPassageTexts).
  export: one { "id", "vector", "metadata" } line per entry (stdout, or --out), for a server-side vector store.
  ${MODEL_FLAGS}`;

export async function indexCommand(args: string[], io: CliIO): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'build') return build(rest, io);
  if (sub === 'export') return exportJsonl(rest, io);
  throw new UsageError(`index needs a subcommand: build or export${sub ? `, got "${sub}"` : ''}.`);
}

async function build(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...modelOptions,
      out: { type: 'string' },
      storage: { type: 'string', default: 'f32' },
      update: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      texts: { type: 'string', default: 'inline' },
    },
  });
  if (positionals.length === 0 || !values.out)
    throw new UsageError('index build needs at least one file or folder and --out <file>.');
  if (values.storage !== 'f32' && values.storage !== 'int8')
    throw new UsageError(`--storage must be f32 or int8, got "${values.storage}".`);
  if (values.texts !== 'inline' && values.texts !== 'chunks')
    throw new UsageError(`--texts must be inline or chunks, got "${values.texts}".`);
  const settings = modelSettings(values);
  await checkOutputFile(values.out, '--out');
  const previous = values.update ? await readFileIfExists(values.out) : undefined;
  const e = await openEmbedder(settings, io);
  try {
    const { name, dim, dtype, sha256 } = e.info;
    const t0 = performance.now();
    let last = 0;
    const result = await buildIndex({
      inputs: positionals,
      embed: (texts) => e.embed(texts),
      model: { name, dim, dtype, sha256 },
      storage: values.storage as StorageKind,
      texts: values.texts,
      ...(previous ? { previous } : {}),
      onProgress: (done, total) => {
        if (!io.tty) return;
        const now = performance.now();
        if (done < total && now - last < 100) return; // redraw at most 10 times a second
        last = now;
        io.err(`\r${progressBar(done, total, (now - t0) / 1000)}`);
      },
    });
    if (io.tty) io.err('\n');
    if (result.fullRebuild) io.err(`note: --update re-embedded everything: ${result.fullRebuild}.\n`);
    // Chunks first: the index never names a chunk file that is not there yet; stale ones go after.
    if (result.chunks) await writeChunks(`${values.out}.texts`, result.chunks);
    await writeFileAtomic(values.out, new Uint8Array(result.file));
    if (result.chunks) await removeStaleChunks(`${values.out}.texts`, result.chunks);
    const s = result.stats;
    if (values.json) io.out(`${JSON.stringify(s)}\n`);
    else
      io.out(
        `${values.out}: ${s.documents} documents, ${s.passages} passages (${s.embedded} embedded, ${s.reused} reused), ${s.bytes} bytes in ${s.seconds.toFixed(2)} s` +
          (s.embedded > 0 ? `, ${(s.embedded / Math.max(s.seconds, 1e-9)).toFixed(1)} passages/s\n` : '\n'),
      );
  } finally {
    await e.dispose();
  }
}

async function writeChunks(dir: string, chunks: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const have = new Set(await readdir(dir).catch(() => [] as string[]));
  // Chunk names are content hashes: one that exists already holds these very bytes.
  for (const [name, bytes] of chunks)
    if (!have.has(`${name}.json`)) await writeFileAtomic(join(dir, `${name}.json`), bytes);
}

async function removeStaleChunks(dir: string, chunks: ReadonlyMap<string, Uint8Array>): Promise<void> {
  for (const f of await readdir(dir))
    if (/^[0-9a-f]{16}\.json$/.test(f) && !chunks.has(f.slice(0, 16))) await rm(join(dir, f), { force: true });
}

async function exportJsonl(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string' }, out: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('index export needs one index file.');
  if (values.format !== 'jsonl') throw new UsageError(`--format must be jsonl, got "${values.format ?? ''}".`);
  await checkInputFile(positionals[0], 'index file', false);
  const bytes = await readFile(positionals[0]).catch((cause: Error) => {
    throw new InvalidInputError(`cannot read ${positionals[0]}: ${cause.message}`, { cause });
  });
  const lines = indexJsonLines(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (!values.out) {
    for (const line of lines) io.out(`${line}\n`);
    return;
  }
  await checkOutputFile(values.out, '--out');
  // Streamed, not written atomically: a large index's JSONL (≈20 B per value) need not fit in memory at once.
  const out = createWriteStream(values.out);
  for (const line of lines) if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}
