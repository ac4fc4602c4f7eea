// int8 compute (dtype 'q8': dynamically quantised MatMuls) against fp32 and the download-only int8 dtype on the
// HPD-MiniLM-F128-shaped model (random weights, real shape), in the same run: raw session.run on length-sorted
// batches of 1, 8 and 32 on onnxruntime-web (wasm, 2 threads) and onnxruntime-node (CPU EP) when installed, plus the
// memory a session holds after load (measured in a fresh child process per dtype and runtime, since wasm memory never
// shrinks). Writes bench/results/dtype.json.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HPD_MINILM_F128 } from '../src/convert/fixture.js';
import { compiledFixture } from '../test/helpers/compiled-fixture.js';
import { withBertVocab, sentences } from '../test/helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const THREADS = 2;
const N = Number(process.env.HPD_BENCH_TEXTS ?? 256);
const DTYPES = ['fp32', 'int8', 'q8'] as const;
const BATCHES = [1, 8, 32];

interface Runtime {
  name: string;
  create(model: Uint8Array): Promise<{
    run(ids: BigInt64Array, mask: BigInt64Array, b: number, s: number): Promise<void>;
    release(): Promise<void>;
  }>;
}

async function ortRuntime(name: 'onnxruntime-web' | 'onnxruntime-node'): Promise<Runtime | null> {
  try {
    const ort = (await import(name)) as typeof import('onnxruntime-web');
    if (name === 'onnxruntime-web') ort.env.wasm.numThreads = THREADS;
    return {
      name: name === 'onnxruntime-web' ? 'wasm (onnxruntime-web)' : 'cpu (onnxruntime-node)',
      async create(model) {
        const session = await ort.InferenceSession.create(model, {
          executionProviders: [name === 'onnxruntime-web' ? 'wasm' : 'cpu'],
          graphOptimizationLevel: 'all',
          ...(name === 'onnxruntime-node' ? { intraOpNumThreads: THREADS } : {}),
        });
        return {
          async run(ids, mask, b, s) {
            const r = await session.run({
              input_ids: new ort.Tensor('int64', ids, [b, s]),
              attention_mask: new ort.Tensor('int64', mask, [b, s]),
            });
            r.sentence_embedding.dispose();
          },
          release: () => session.release(),
        };
      },
    };
  } catch {
    return null;
  }
}

/** In a child process: bytes held after creating a session on `modelPath` (rss and ArrayBuffers incl. wasm memory). */
const MEMORY_PROBE = `
const [runtime, path] = process.argv.slice(1);
const ort = await import(runtime);
const { readFileSync } = await import('node:fs');
const model = readFileSync(path);
if (runtime === 'onnxruntime-web') ort.env.wasm.numThreads = 1;
globalThis.gc?.();
const before = process.memoryUsage();
const s = await ort.InferenceSession.create(model, { executionProviders: [runtime === 'onnxruntime-web' ? 'wasm' : 'cpu'], graphOptimizationLevel: 'all' });
globalThis.gc?.();
const after = process.memoryUsage();
console.log(JSON.stringify({ rss: after.rss - before.rss, arrayBuffers: after.arrayBuffers - before.arrayBuffers }));
await s.release();
`;

export async function run(): Promise<void> {
  const { texts, source } = sentences(N);
  const fx = await compiledFixture(withBertVocab(HPD_MINILM_F128));
  const tok = fx.tokenizer(128);
  const ids = texts.map((t) => tok.encode(t).ids).sort((a, b) => a.length - b.length);
  const tokens = ids.reduce((a, x) => a + x.length, 0);
  const models: Record<string, Uint8Array> = {};
  for (const dtype of DTYPES) models[dtype] = (await fx.bundle(dtype)).files.get('model.onnx')!;
  const tmp = await mkdtemp(join(tmpdir(), 'hpd-bench-dtype-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const rtName of ['onnxruntime-web', 'onnxruntime-node'] as const) {
      const rt = await ortRuntime(rtName);
      if (!rt) {
        console.log(`${rtName}: not installed, skipped`);
        continue;
      }
      console.log(
        `\n${rt.name}, ${THREADS} threads, ${texts.length} ${source} (${tokens} tokens), length-sorted batches`,
      );
      const sessions: Record<string, Awaited<ReturnType<Runtime['create']>>> = {};
      for (const dtype of DTYPES) sessions[dtype] = await rt.create(models[dtype]);
      for (const bs of BATCHES) {
        // Pre-built inputs; dtypes interleaved round by round so they share the machine's load; best of rounds.
        const inputs = [];
        for (let i = 0; i < ids.length; i += bs) {
          const rows = ids.slice(i, i + bs);
          const s = Math.max(...rows.map((r) => r.length));
          const a = new BigInt64Array(rows.length * s);
          const m = new BigInt64Array(rows.length * s);
          rows.forEach((r, b) => r.forEach((id, t) => ((a[b * s + t] = BigInt(id)), (m[b * s + t] = 1n))));
          inputs.push({ a, m, b: rows.length, s });
        }
        const best: Record<string, number> = {};
        for (let round = 0; round < 4; round++) {
          for (const dtype of DTYPES) {
            const t = performance.now();
            for (const x of inputs) await sessions[dtype].run(x.a, x.m, x.b, x.s);
            const ms = performance.now() - t;
            if (round > 0) best[dtype] = Math.min(best[dtype] ?? Infinity, ms);
          }
        }
        for (const dtype of DTYPES) {
          const row = {
            bench: 'throughput',
            runtime: rt.name,
            dtype,
            batch: bs,
            ms: best[dtype],
            texts_per_s: (texts.length / best[dtype]) * 1000,
            tokens_per_s: (tokens / best[dtype]) * 1000,
            speedup_vs_fp32: best.fp32 / best[dtype],
          };
          results.push(row);
          console.log(
            `  batch ${String(bs).padStart(2)} ${dtype.padEnd(4)} ${row.texts_per_s.toFixed(1).padStart(7)} texts/s  ${row.speedup_vs_fp32.toFixed(2)}× fp32`,
          );
        }
      }
      for (const dtype of DTYPES) await sessions[dtype].release();
      for (const dtype of DTYPES) {
        const path = join(tmp, `${dtype}.onnx`);
        await writeFile(path, models[dtype]);
        const out = execFileSync(
          process.execPath,
          ['--expose-gc', '--input-type=module', '-e', MEMORY_PROBE, rtName, path],
          { encoding: 'utf8', cwd: join(here, '..') },
        );
        const mem = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { rss: number; arrayBuffers: number };
        results.push({
          bench: 'session-memory',
          runtime: rt.name,
          dtype,
          model_bytes: models[dtype].byteLength,
          rss_bytes: mem.rss,
          array_buffer_bytes: mem.arrayBuffers,
        });
        console.log(
          `  session memory ${dtype.padEnd(4)}: model.onnx ${(models[dtype].byteLength / 1048576).toFixed(1)} MiB, rss +${(mem.rss / 1048576).toFixed(0)} MiB (the wasm heap is in rss, not in ArrayBuffers: +${(mem.arrayBuffers / 1048576).toFixed(0)} MiB)`,
        );
      }
    }
    await mkdir(join(here, 'results'), { recursive: true });
    const { cpus } = await import('node:os');
    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (shared)`;
    await writeFile(
      join(here, 'results', 'dtype.json'),
      `${JSON.stringify({ machine, runtime: `node ${process.version}`, corpus: source, texts: texts.length, tokens, threads: THREADS, results }, null, 2)}\n`,
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
