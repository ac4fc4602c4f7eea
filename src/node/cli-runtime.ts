import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Embedder } from '../api/embedder.js';
import { DimMismatchError, InvalidInputError } from '../errors.js';
import { CosineIndex } from '../search/cosine-index.js';
import { UsageError, type CliIO } from './cli-io.js';
import { checkOutputFile, pathExists, readIndexFile, readLines } from './cli-files.js';
import { modelOptions, modelSettings, openEmbedder } from './cli-model.js';
import { writeFileAtomic } from './atomic-write.js';

const CHUNK = 2048;

/** Embeds lines in chunks, reporting throughput as it goes. */
async function embedLines(
  e: Embedder,
  lines: string[],
  io: CliIO,
): Promise<{ vectors: Float32Array; truncated: number; seconds: number }> {
  const vectors = new Float32Array(lines.length * e.dim);
  let truncated = 0;
  const t0 = performance.now();
  for (let i = 0; i < lines.length; i += CHUNK) {
    const r = await e.embedDetailed(lines.slice(i, i + CHUNK));
    vectors.set(r.vectors, i * e.dim);
    truncated += r.truncated.length;
    const done = Math.min(lines.length, i + CHUNK);
    const s = (performance.now() - t0) / 1000;
    io.err(
      `${io.tty ? '\r' : ''}embedded ${done}/${lines.length} (${(done / s).toFixed(1)} texts/s)${io.tty ? '' : '\n'}`,
    );
  }
  if (io.tty) io.err('\n');
  return { vectors, truncated, seconds: (performance.now() - t0) / 1000 };
}

/** A flag that must be a positive integer: a usage error (exit 2) otherwise. */
export function positiveInt(v: string | undefined, flag: string): number {
  const n = Number(v);
  if (!(v !== undefined && /^\s*\d+\s*$/.test(v) && Number.isSafeInteger(n) && n > 0))
    throw new UsageError(`--${flag} must be a positive integer, got "${v}".`);
  return n;
}

export async function embedCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...modelOptions, input: { type: 'string' }, output: { type: 'string' } },
  });
  if (!values.input || !values.output)
    throw new UsageError('embed needs --input <lines.txt> and --output <vectors.f32>.');
  const settings = modelSettings(values);
  // Everything that can be wrong with the files is found before the model loads.
  const lines = await readLines(values.input, io);
  await checkOutputFile(values.output, '--output');
  const e = await openEmbedder(settings, io);
  try {
    const { vectors, truncated, seconds } = await embedLines(e, lines, io);
    await writeFileAtomic(values.output, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength)); // little-endian f32 on every supported platform
    io.err(
      `${lines.length} texts → ${values.output} (${lines.length} × ${e.dim} float32, ${truncated} truncated) in ${seconds.toFixed(2)} s, ${(lines.length / Math.max(seconds, 1e-9)).toFixed(1)} texts/s\n`,
    );
  } finally {
    await e.dispose();
  }
}

export async function searchCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...modelOptions,
      input: { type: 'string' },
      index: { type: 'string' },
      query: { type: 'string', multiple: true },
      k: { type: 'string', default: '10' },
      storage: { type: 'string', default: 'f32' },
    },
  });
  const k = positiveInt(values.k, 'k');
  if (values.storage !== 'f32' && values.storage !== 'int8')
    throw new UsageError(`--storage must be f32 or int8, got "${values.storage}".`);
  const indexExists = values.index !== undefined && (await pathExists(values.index));
  if (!values.input && !indexExists)
    throw new UsageError('search needs --input <corpus.txt> (one text per line) or an existing --index file.');
  const settings = modelSettings(values);
  // An existing index is read and checked (CORRUPT_INDEX) before the model loads; else the corpus is.
  let index: CosineIndex<string> | undefined;
  let lines: string[] = [];
  if (indexExists) index = await readIndexFile(values.index!);
  else {
    lines = await readLines(values.input!, io);
    if (values.index) await checkOutputFile(values.index, '--index');
  }
  const e = await openEmbedder(settings, io);
  try {
    if (index) {
      if (index.dim !== e.dim)
        throw new DimMismatchError(e.dim, index.dim, 'saved index', {
          message: `${values.index} holds ${index.dim}-d vectors but the model gives ${e.dim}-d.`,
        });
      io.err(`loaded ${index.size} vectors from ${values.index}\n`);
    } else {
      const { vectors } = await embedLines(e, lines, io);
      index = new CosineIndex<string>({ dim: e.dim, storage: values.storage, capacity: lines.length });
      index.addVectors(
        lines.map((_, i) => String(i + 1)),
        vectors,
        lines,
      );
      if (values.index) {
        await writeFileAtomic(values.index, new Uint8Array(index.serialize()));
        io.err(`saved ${index.size} vectors to ${values.index}\n`);
      }
    }
    const ready = index;
    const queries = values.query?.length ? values.query : readStdinLines();
    const qv = await e.embed(queries);
    queries.forEach((q, i) => {
      io.out(`query: ${q}\n`);
      for (const hit of ready.search(qv.subarray(i * e.dim, (i + 1) * e.dim), k)) {
        io.out(`  ${hit.score.toFixed(4)}  line ${hit.id}: ${ready.get(hit.id)?.metadata ?? ''}\n`);
      }
    });
  } finally {
    await e.dispose();
  }
}

/** Queries from stdin, one a line (blank lines skipped); a stdin that cannot be read is a typed error. */
function readStdinLines(): string[] {
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`cannot read queries from stdin (${(e as Error).message}); pass --query TEXT.`, {
      cause: e,
    });
  }
  return text.split(/\r?\n/).filter((q) => q.trim());
}

export async function benchCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...modelOptions, n: { type: 'string', default: '512' }, words: { type: 'string', default: '16' } },
  });
  const n = positiveInt(values.n, 'n'),
    words = positiveInt(values.words, 'words');
  const settings = modelSettings(values);
  const vocab =
    'the a quick brown fox jumps over lazy dog search engine vector model browser fast small text query index'.split(
      ' ',
    );
  const texts = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % words) }, (_, j) => vocab[(i * 31 + j * 17) % vocab.length]).join(' '),
  );
  const e = await openEmbedder(settings, io);
  try {
    await e.embed(texts.slice(0, 32)); // warm-up
    const t0 = performance.now();
    await e.embed(texts);
    const s = (performance.now() - t0) / 1000;
    io.out(`${n} texts of 1–${words} words: ${s.toFixed(2)} s, ${(n / s).toFixed(1)} texts/s on ${e.device.actual}\n`);
  } finally {
    await e.dispose();
  }
}
