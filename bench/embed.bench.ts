// Embedding throughput and load cost on an HPD-MiniLM-F128-shaped model (random weights, real shape), Node,
// onnxruntime-web wasm. Every number is a ratio against a baseline measured in this same run:
//   floor  = raw InferenceSession.run on pre-tokenised, length-sorted batches of 32 (no SDK code at all);
//   engine = Engine.embed in-process (tokenise + sort + batch + run), worker = createEmbedder (worker thread);
//   unsorted = raw runs on batches in input order (what length sorting saves).
// Writes bench/results/embed.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { compileCheckpoint } from '../src/convert/compile.js';
import { generateFixture, HPD_MINILM_F128 } from '../src/convert/fixture.js';
import { memorySource } from '../src/bundle/source.js';
import { fillInputs, planBatches, type Row } from '../src/engine/batcher.js';
import { Engine } from '../src/engine/engine.js';
import { TextTokenizer } from '../src/engine/tokenizer.js';
import { createEmbedder } from '../src/node/create-embedder.js';
import { nodePlatform } from '../src/node/platform.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';
import { withBertVocab, sentences } from '../test/helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const THREADS = 2;
const N = Number(process.env.HPD_BENCH_TEXTS ?? 1024);

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Best of `reps` (the machine is shared; the minimum is the least disturbed). */
async function best(reps: number, fn: () => Promise<unknown>): Promise<number> {
  let m = Infinity;
  for (let i = 0; i < reps; i++) m = Math.min(m, (await time(fn)).ms);
  return m;
}

export async function run(): Promise<void> {
  ort.env.wasm.numThreads = THREADS;
  const { texts, source } = sentences(N);
  const files = generateFixture(withBertVocab(HPD_MINILM_F128));
  const tmp = await mkdtemp(join(tmpdir(), 'hpd-bench-embed-'));
  const results: Record<string, unknown>[] = [];
  try {
    // --- load cost -------------------------------------------------------------
    const compileSt = await time(() => compileCheckpoint(memorySource(files), { prefer: 'safetensors' }));
    const compileBin = await time(() => compileCheckpoint(memorySource(files), { prefer: 'pytorch' }));
    console.log(
      `compile HPD-shaped checkpoint: safetensors ${compileSt.ms.toFixed(0)} ms; pytorch_model.bin ${(compileBin.ms / compileSt.ms).toFixed(2)}× that`,
    );
    // Instantiate the wasm once first, so no dtype's session time includes it.
    await (
      await ort.InferenceSession.create(compileSt.value.files.get('model.onnx')!, { executionProviders: ['wasm'] })
    ).release();
    const bundles: Record<string, string> = {};
    let fp32Bytes = 0,
      fp32Session = 0;
    for (const dtype of ['fp32', 'fp16', 'int8'] as const) {
      const b = dtype === 'fp32' ? compileSt.value : await compileCheckpoint(memorySource(files), { dtype });
      bundles[dtype] = join(tmp, dtype);
      await writeFolderAtomic(bundles[dtype], b.files);
      const model = b.files.get('model.onnx')!;
      const created = await time(() =>
        ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }),
      );
      await created.value.release();
      if (dtype === 'fp32') ((fp32Bytes = model.byteLength), (fp32Session = created.ms));
      console.log(
        `${dtype}: model.onnx ${(model.byteLength / 1048576).toFixed(1)} MiB (${(model.byteLength / fp32Bytes).toFixed(3)}× fp32), session create ${created.ms.toFixed(0)} ms (${(created.ms / fp32Session).toFixed(2)}× fp32)`,
      );
      results.push({
        bench: 'load',
        dtype,
        model_bytes: model.byteLength,
        bytes_vs_fp32: model.byteLength / fp32Bytes,
        session_ms: created.ms,
        session_vs_fp32: created.ms / fp32Session,
      });
    }

    // --- throughput ------------------------------------------------------------
    const tok = new TextTokenizer(JSON.parse(new TextDecoder().decode(files.get('tokenizer.json'))), {}, 128);
    const ids = texts.map((t) => tok.encode(t).ids);
    const tokens = ids.reduce((a, x) => a + x.length, 0);
    const session = await ort.InferenceSession.create(compileSt.value.files.get('model.onnx')!, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const out = new Float32Array(ids.length * 128);
    const rawRun = async (sorted: boolean) => {
      const rows: Row[] = ids.map((x, i) => ({ ids: x, out, offset: i * 128 }));
      const batches = sorted
        ? planBatches(rows, 32, 32 * 128)
        : Array.from({ length: Math.ceil(rows.length / 32) }, (_, b) => {
            const r = rows.slice(b * 32, b * 32 + 32);
            return { rows: r, seqLen: Math.max(...r.map((x) => x.ids.length)) };
          });
      for (const batch of batches) {
        const n = batch.rows.length * batch.seqLen;
        const a = new BigInt64Array(n),
          m = new BigInt64Array(n);
        fillInputs(batch, a, m);
        const r = await session.run({
          input_ids: new ort.Tensor('int64', a, [batch.rows.length, batch.seqLen]),
          attention_mask: new ort.Tensor('int64', m, [batch.rows.length, batch.seqLen]),
        });
        r.sentence_embedding.dispose();
      }
    };
    await rawRun(true); // warm-up
    const floor = await best(3, () => rawRun(true));
    const unsorted = await best(2, () => rawRun(false));
    await session.release();

    const { platform } = await nodePlatform({ cacheDir: join(tmp, 'cache'), threads: THREADS, backend: 'wasm' });
    const engine = await Engine.create(platform, { model: pathToFileURL(`${bundles.fp32}/`).href, device: 'wasm' });
    await engine.embed(texts.slice(0, 64));
    const inProcess = await best(3, () => engine.embed(texts));
    const singles: number[] = [];
    for (const t of texts.slice(0, 64)) singles.push((await time(() => engine.embed([t]))).ms);
    singles.sort((a, b) => a - b);
    await engine.dispose();

    // onnxruntime-node (native CPU EP), when the optional dependency is installed: what 'auto' picks in Node.
    let native: number | undefined;
    const nativePlatform = (await nodePlatform({ cacheDir: join(tmp, 'cache'), threads: THREADS, backend: 'auto' }))
      .platform;
    if (nativePlatform.nativeCpu) {
      const eng = await Engine.create(nativePlatform, {
        model: pathToFileURL(`${bundles.fp32}/`).href,
        device: 'auto',
      });
      await eng.embed(texts.slice(0, 64));
      native = await best(3, () => eng.embed(texts));
      await eng.dispose();
    }

    const worker = await createEmbedder({
      model: bundles.fp32,
      threads: THREADS,
      cacheDir: join(tmp, 'cache'),
      backend: 'wasm',
    });
    await worker.embed(texts.slice(0, 64));
    const viaWorker = await best(3, () => worker.embed(texts));
    const concurrent = await best(2, () =>
      Promise.all(Array.from({ length: texts.length / 8 }, (_, i) => worker.embed(texts.slice(i * 8, i * 8 + 8)))),
    );
    await worker.dispose();

    const rate = (ms: number) => (texts.length / ms) * 1000;
    console.log(
      `${texts.length} ${source}, ${tokens} tokens (mean ${(tokens / texts.length).toFixed(1)}), batch 32, ${THREADS} wasm threads`,
    );
    console.log(
      `  floor (raw session.run, sorted batches): ${floor.toFixed(0)} ms = ${rate(floor).toFixed(1)} texts/s`,
    );
    console.log(`  engine in-process:        ${(inProcess / floor).toFixed(3)}× floor`);
    console.log(`  createEmbedder (worker):  ${(viaWorker / floor).toFixed(3)}× floor`);
    console.log(`  ${texts.length / 8} concurrent calls of 8:  ${(concurrent / floor).toFixed(3)}× floor (coalesced)`);
    console.log(`  unsorted batches (raw):   ${(unsorted / floor).toFixed(3)}× floor (what length sorting saves)`);
    console.log(
      native === undefined
        ? '  onnxruntime-node: not installed (npm ci installs it here as a dev dependency; users add it with: npm install onnxruntime-node@1.30.0 --ignore-scripts)'
        : `  engine on onnxruntime-node (CPU EP, 'auto' in Node): ${(native / floor).toFixed(3)}× the wasm floor`,
    );
    console.log(
      `  single-text latency p50 ${singles[32].toFixed(1)} ms, p95 ${singles[60].toFixed(1)} ms (${(singles[32] / (floor / texts.length)).toFixed(1)}× the batched per-text cost)`,
    );
    results.push(
      { bench: 'throughput', impl: 'floor: raw session.run', ms: floor, texts_per_s: rate(floor), ratio: 1 },
      {
        bench: 'throughput',
        impl: 'engine in-process',
        ms: inProcess,
        texts_per_s: rate(inProcess),
        ratio: inProcess / floor,
      },
      {
        bench: 'throughput',
        impl: 'createEmbedder worker',
        ms: viaWorker,
        texts_per_s: rate(viaWorker),
        ratio: viaWorker / floor,
      },
      {
        bench: 'throughput',
        impl: 'worker, concurrent calls of 8',
        ms: concurrent,
        texts_per_s: rate(concurrent),
        ratio: concurrent / floor,
      },
      {
        bench: 'throughput',
        impl: 'raw, unsorted batches',
        ms: unsorted,
        texts_per_s: rate(unsorted),
        ratio: unsorted / floor,
      },
      ...(native === undefined
        ? []
        : [
            {
              bench: 'throughput',
              impl: 'engine on onnxruntime-node (cpu)',
              ms: native,
              texts_per_s: rate(native),
              ratio: native / floor,
            },
          ]),
      {
        bench: 'latency',
        impl: 'engine, one text per call',
        p50_ms: singles[32],
        p95_ms: singles[60],
        ratio_to_batched: singles[32] / (floor / texts.length),
      },
    );
    await mkdir(join(here, 'results'), { recursive: true });
    await writeFile(
      join(here, 'results', 'embed.json'),
      `${JSON.stringify({ corpus: source, texts: texts.length, tokens, threads: THREADS, results }, null, 2)}\n`,
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
