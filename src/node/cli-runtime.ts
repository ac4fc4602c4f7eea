import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Embedder } from '../api/embedder.js';
import type { DeviceRequest } from '../engine/device.js';
import { DimMismatchError, InvalidInputError } from '../errors.js';
import { CosineIndex } from '../search/cosine-index.js';
import { UsageError, type CliIO } from './cli-io.js';
import { writeFileAtomic } from './atomic-write.js';
import { createEmbedder } from './create-embedder.js';
import { NATIVE_INSTALL, nativeRuntimeInstalled } from './platform.js';

const modelOptions = {
  model: { type: 'string' },
  device: { type: 'string', default: 'auto' },
  batch: { type: 'string' },
  'hub-url': { type: 'string' },
  dtype: { type: 'string' },
} as const;

async function openEmbedder(
  v: { model?: string; device?: string; batch?: string; 'hub-url'?: string; dtype?: string },
  io: CliIO,
): Promise<Embedder> {
  if (!v.model) throw new UsageError('--model is required (a bundle folder, a bundle URL, or a Hugging Face repo id).');
  // First, before any progress: the CPU path is several times slower without the native runtime.
  if ((v.device ?? 'auto') === 'auto' && !nativeRuntimeInstalled())
    io.err(
      `note: onnxruntime-node is not installed, so the CPU path runs on wasm (several times slower). Add it: ${NATIVE_INSTALL}\n`,
    );
  const batchSize = v.batch === undefined ? undefined : Number(v.batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))
    throw new InvalidInputError(`--batch must be a positive integer, got "${v.batch}".`);
  let lastPct = -1;
  const e = await createEmbedder({
    model: v.model,
    device: (v.device ?? 'auto') as DeviceRequest,
    ...(batchSize ? { batchSize } : {}),
    ...(v['hub-url'] ? { hubUrl: v['hub-url'] } : {}),
    ...(v.dtype ? { dtype: v.dtype as 'fp32' } : {}),
    onProgress: (p) => {
      if (p.stage === 'download' && p.aggregate.total) {
        const pct = Math.floor((100 * p.aggregate.loaded) / p.aggregate.total);
        if (pct !== lastPct && pct % 10 === 0) io.err(`loading model files ${pct}%\n`);
        lastPct = pct;
      } else if (p.stage === 'compile' && p.step === 'layout') io.err('compiling checkpoint…\n');
    },
  });
  io.err(
    `model ${e.info.name} (${e.info.dim}-d, ${e.info.dtype}) on ${e.device.actual}, ${e.device.threads} thread(s): ${e.device.reason}\n`,
  );
  return e;
}

/** Lines of a text file, one text per line; a final newline does not add an empty text. */
async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new InvalidInputError(`cannot read ${path}: ${e.message}`);
  });
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

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

export async function embedCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...modelOptions, input: { type: 'string' }, output: { type: 'string' } },
  });
  if (!values.input || !values.output)
    throw new UsageError('embed needs --input <lines.txt> and --output <vectors.f32>.');
  const lines = await readLines(values.input);
  const e = await openEmbedder(values, io);
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
  const k = Number(values.k);
  if (!(Number.isInteger(k) && k > 0))
    throw new InvalidInputError(`--k must be a positive integer, got "${values.k}".`);
  if (values.storage !== 'f32' && values.storage !== 'int8')
    throw new InvalidInputError(`--storage must be f32 or int8, got "${values.storage}".`);
  if (!values.input && !(values.index && existsSync(values.index)))
    throw new UsageError('search needs --input <corpus.txt> (one text per line) or an existing --index file.');
  const e = await openEmbedder(values, io);
  try {
    let index: CosineIndex<string>;
    if (values.index && existsSync(values.index)) {
      index = CosineIndex.deserialize<string>(await readFile(values.index));
      if (index.dim !== e.dim)
        throw new DimMismatchError(e.dim, index.dim, 'saved index', {
          message: `${values.index} holds ${index.dim}-d vectors but the model gives ${e.dim}-d.`,
        });
      io.err(`loaded ${index.size} vectors from ${values.index}\n`);
    } else {
      const lines = await readLines(values.input!);
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
    const queries = values.query?.length
      ? values.query
      : readFileSync(0, 'utf8')
          .split(/\r?\n/)
          .filter((q) => q.trim());
    const qv = await e.embed(queries);
    queries.forEach((q, i) => {
      io.out(`query: ${q}\n`);
      for (const hit of index.search(qv.subarray(i * e.dim, (i + 1) * e.dim), k)) {
        io.out(`  ${hit.score.toFixed(4)}  line ${hit.id}: ${index.get(hit.id)?.metadata ?? ''}\n`);
      }
    });
  } finally {
    await e.dispose();
  }
}

export async function benchCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...modelOptions, n: { type: 'string', default: '512' }, words: { type: 'string', default: '16' } },
  });
  const n = Number(values.n),
    words = Number(values.words);
  const vocab =
    'the a quick brown fox jumps over lazy dog search engine vector model browser fast small text query index'.split(
      ' ',
    );
  const texts = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % words) }, (_, j) => vocab[(i * 31 + j * 17) % vocab.length]).join(' '),
  );
  const e = await openEmbedder(values, io);
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
