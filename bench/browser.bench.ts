// In-browser benchmarks (`npm run bench -- browser [--gpu]`): headless Chromium on a cross-origin-isolated page
// (COOP/COEP, so wasm gets threads), every number a ratio to a baseline measured in the same page:
//   embedding: the hpd-embed worker (wasm) against raw onnxruntime-web session.run on the same length-sorted batches
//     of the same HPD-shaped model (random weights, real shape) and STS-B dev sentences, at batch 1, 8 and 32, for
//     fp32 and q8; cold start split by load stage with an empty and a warm model cache;
//   transformers.js v4 feature-extraction (mean pooling) in the same page on the same weights (an encoder-only ONNX
//     in its layout; the Dense + tanh + normalize applied after pooling), installed on demand into bench/.deps
//     (pinned, not a package dependency); its vectors must match hpd-embed's within 1e-3 or the bench fails;
//   WebGPU on the software (SwiftShader) adapter: a functional row only (vectors vs wasm, cos >= 0.999), no speed;
//   search: CosineIndex search and searchMany(16) per kernel against a streaming pass over the bytes per vector;
//   import: CosineIndex.import of an index file against a plain copy of the same bytes (new Uint8Array + set), in the
//     page, at HPD_BENCH_IMPORT_SIZES (10k, 100k, 1M), f32 and int8 (HPD_BENCH_BROWSER=import runs it alone).
// --gpu: the same embedding rows on a real GPU's WebGPU adapter; the adapter is printed and a software (fallback)
// adapter is refused for timing rows. Writes bench/results/browser.json (browser-gpu.json with --gpu).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { buildSentenceGraph, LAST_HIDDEN_STATE } from '../src/convert/bert-graph.js';
import { encodeModel } from '../src/convert/onnx-writer.js';
import { readLayout } from '../src/convert/st-layout.js';
import { quantizeInt8 } from '../src/convert/weight-dtype.js';
import { readCheckpointWeights } from '../src/convert/weights.js';
import { HPD_MINILM_F128 } from '../src/convert/fixture.js';
import { memorySource } from '../src/bundle/source.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';
import { chromiumUnavailableReason, launchChromium } from '../test/browser/chromium.js';
import type {
  ColdStart,
  Throughput,
  ThroughputResult,
  TjsSetup,
  WebgpuFunctional,
} from '../test/browser/pages/embed-bench/main.js';
import type { DenseWeights } from '../test/browser/pages/embed-bench/tjs-worker.js';
import type { ImportBenchRow, SearchBenchRow, ThreadBenchRow } from '../test/browser/pages/search-kernels/main.js';
import { serveStatic, type StaticServer } from '../test/browser/static-server.js';
import { buildPage, pageReady } from '../test/browser/test-page.js';
import { compiledFixture } from '../test/helpers/compiled-fixture.js';
import { withBertVocab, sentences } from '../test/helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env.HPD_BENCH_SIZES ?? '1000000').split(',').map(Number);
const REPEATS = Number(process.env.HPD_BENCH_REPEATS ?? '3');
const TEXTS = Number(process.env.HPD_BENCH_TEXTS ?? '128');
// HPD_BENCH_BROWSER=import,cold,embed,search,threads (default all) picks sections; the others keep their previous results.
const SECTIONS = (process.env.HPD_BENCH_BROWSER ?? 'import,cold,embed,search,threads').split(',');
// The threaded-search rows (issue 20): 1, 2 and all threads at these sizes.
const IMPORT_SIZES = (process.env.HPD_BENCH_IMPORT_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const THREAD_SIZES = (process.env.HPD_BENCH_THREAD_SIZES ?? '100000,1000000').split(',').map(Number);
const BATCHES = [1, 8, 32];
const ROUNDS = Number(process.env.HPD_BENCH_ROUNDS ?? '2');
const GPU = process.argv.includes('--gpu');
// transformers.js for the comparison row: pinned, installed on demand (it pulls onnxruntime-node, sharp and its own
// onnxruntime-web, too heavy for every `npm ci`), into a gitignored folder.
const TRANSFORMERS_JS = '4.3.2';
const DEPS = join(here, '.deps');
const TJS_ROOT = join(DEPS, 'node_modules', '@huggingface', 'transformers');
const TJS_TOLERANCE = 1e-3;
const WEBGPU_TEXTS = Number(process.env.HPD_BENCH_WEBGPU_TEXTS ?? '32');

export interface BrowserBenchResults {
  machine: string;
  browser: string;
  adapter: unknown;
  embed: (Throughput & {
    dtype: string;
    texts_per_s: number;
    tokens_per_s: number;
    vs_floor: number;
    vs_transformers_js?: number;
  })[];
  /** Per dtype: threads, onnxruntime-web versions, transformers.js' vectors against hpd-embed's per batch size. */
  embed_setup?: ({ dtype: string; rounds: number } & Omit<ThroughputResult, 'rows'>)[];
  /** hpd-embed on WebGPU vs its wasm vectors; on a software adapter this is a functional check, not a speed. */
  webgpu_functional?: (WebgpuFunctional & { dtype: string; label: string })[];
  cold_start: (ColdStart & { dtype: string; cache: 'empty' | 'warm' })[];
  search: (SearchBenchRow & { repeat: number })[];
  /** CosineIndex.import against a plain copy of the same bytes, in the page. */
  import?: (ImportBenchRow & { repeat: number })[];
  /** searchAsync on 1, 2 and all threads; ratios to the single-thread floor measured in the same page. */
  threads?: (ThreadBenchRow & { repeat: number; p50_over_floor: number; many_over_one: number })[];
}

/** The pinned transformers.js in bench/.deps, installed there on first use. */
function ensureTransformersJs(): void {
  const pkg = join(TJS_ROOT, 'package.json');
  const have = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version : null;
  if (have === TRANSFORMERS_JS) return;
  console.log(
    `installing @huggingface/transformers@${TRANSFORMERS_JS} into ${DEPS} for the comparison row (on demand, not a package dependency)`,
  );
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      DEPS,
      '--ignore-scripts',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `@huggingface/transformers@${TRANSFORMERS_JS}`,
    ],
    { stdio: 'inherit' },
  );
}

/**
 * The same weights in the layout transformers.js loads from a local path: config.json, the bundle's tokenizer, and the
 * encoder-only ONNX (last_hidden_state) per dtype, plus the Dense weights the page applies after its mean pooling.
 */
async function writeTransformersJsModel(
  dir: string,
  files: Map<string, Uint8Array>,
  tokenizer: Uint8Array,
  dtypes: readonly string[],
): Promise<void> {
  const src = memorySource(files);
  const layout = await readLayout(src);
  const weights = await readCheckpointWeights(src, layout);
  const out = new Map<string, Uint8Array>([
    ['config.json', files.get('config.json')!],
    ['tokenizer.json', tokenizer],
  ]);
  // hpd-embed truncates at the checkpoint's max_seq_length; transformers.js at model_max_length.
  const tc = JSON.parse(new TextDecoder().decode(files.get('tokenizer_config.json'))) as Record<string, unknown>;
  out.set(
    'tokenizer_config.json',
    new TextEncoder().encode(JSON.stringify({ ...tc, model_max_length: layout.maxTokens })),
  );
  for (const dtype of dtypes) {
    const graph = buildSentenceGraph(layout, weights, dtype as 'fp32', { output: LAST_HIDDEN_STATE });
    out.set(dtype === 'q8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx', encodeModel(graph));
  }
  if (layout.dense.length !== 1)
    throw new Error(`the transformers.js row expects one Dense module, the checkpoint has ${layout.dense.length}`);
  const d = weights.dense[0];
  const [outF, inF] = d.weight.shape;
  // The q8 graph's int8 Dense weight ([in, out], a scale per output column), for the q8 rows.
  const t = new Float32Array(inF * outF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) t[i * outF + o] = d.weight.data[o * inF + i];
  const q = quantizeInt8(t, inF, outF, 1);
  const dense: DenseWeights = {
    in: inF,
    out: outF,
    activation: layout.dense[0].activation,
    weight: [...d.weight.data],
    bias: d.bias ? [...d.bias.data] : new Array<number>(outF).fill(0),
    int8: { weight: [...q.q], scale: [...q.scale] },
  };
  out.set('dense.json', new TextEncoder().encode(JSON.stringify(dense)));
  await writeFolderAtomic(dir, out);
}

async function open(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  // Page errors and worker failures surface in the bench log instead of a silent hang.
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) console.error(`[page] ${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || process.env.HPD_BENCH_VERBOSE) console.error(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto(url);
  await pageReady(page);
  return page;
}

/** Writes bench/results/browser.json (browser-gpu.json with --gpu); a run of some sections (HPD_BENCH_BROWSER) keeps the other sections of the previous results. */
async function saveResults(results: BrowserBenchResults): Promise<void> {
  const out = join(here, 'results', GPU ? 'browser-gpu.json' : 'browser.json');
  await mkdir(dirname(out), { recursive: true });
  // A run of some sections (HPD_BENCH_BROWSER) keeps the other sections of the previous results.
  if (existsSync(out)) {
    const prev = JSON.parse(readFileSync(out, 'utf8')) as Partial<BrowserBenchResults>;
    if (!SECTIONS.includes('embed')) {
      results.adapter = prev.adapter ?? null;
      results.embed = prev.embed ?? [];
      results.embed_setup = prev.embed_setup ?? [];
      results.webgpu_functional = prev.webgpu_functional ?? [];
    }
    if (!SECTIONS.includes('cold')) results.cold_start = prev.cold_start ?? [];
    if (!SECTIONS.includes('search')) results.search = prev.search ?? [];
    if (!SECTIONS.includes('threads')) results.threads = prev.threads ?? [];
    if (!SECTIONS.includes('import')) results.import = prev.import ?? [];
  }
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

export async function run(): Promise<void> {
  const reason = chromiumUnavailableReason();
  if (reason !== null) throw new Error(`browser bench needs Chromium: ${reason}`);
  const tmp = await mkdtemp(join(tmpdir(), 'hpd-bench-browser-'));
  const servers: StaticServer[] = [];
  // --gpu: Chromium picks the machine's GPU adapter, if it has one.
  const browser = await launchChromium({ gpu: GPU });
  try {
    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (shared)`;
    const results: BrowserBenchResults = {
      machine,
      browser: '',
      adapter: null,
      embed: [],
      embed_setup: [],
      webgpu_functional: [],
      cold_start: [],
      search: [],
    };

    // ---- import (first, and alone when it is the only section: it needs no model or transformers.js) ----
    if (SECTIONS.includes('import') && !GPU) {
      const importDir = join(tmp, 'import');
      await buildPage('search-kernels', importDir, { minify: true });
      const importServer = await serveStatic(importDir);
      servers.push(importServer);
      const ip = await open(browser.context, importServer.url);
      const ua = await ip.evaluate(() => navigator.userAgent);
      results.browser = ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? ua;
      results.import = [];
      for (const n of IMPORT_SIZES)
        for (let rep = 0; rep < REPEATS; rep++)
          for (const r of await ip.evaluate(([nn, rounds]) => window.searchKernels.benchImport(nn, rounds), [
            n,
            5,
          ] as const)) {
            results.import.push({ ...r, repeat: rep });
            console.log(
              `import ${r.storage.padEnd(4)} n=${r.n} ${(r.bytes / 1048576).toFixed(1)} MiB  import ${r.import_p50_ms.toFixed(1)} ms, copy ${r.copy_p50_ms.toFixed(1)} ms = ${r.import_over_copy.toFixed(2)}× a plain copy`,
            );
          }
      await ip.close();
      if (SECTIONS.every((s) => s === 'import')) {
        await saveResults(results);
        return;
      }
    }

    // ---- embedding ----
    const embedDir = join(tmp, 'embed');
    ensureTransformersJs();
    const tjsPkg = JSON.parse(readFileSync(join(TJS_ROOT, 'package.json'), 'utf8')) as {
      exports: { default: { default: string } };
    };
    const alias = { 'hpd-bench-transformers': join(TJS_ROOT, tjsPkg.exports.default.default) };
    await buildPage('embed-bench', embedDir, { minify: true, alias });
    const embedServer = await serveStatic(embedDir);
    servers.push(embedServer);
    const page = await open(browser.context, embedServer.url);
    const ua = await page.evaluate(() => navigator.userAgent);
    results.browser = ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? ua;
    results.adapter = await page.evaluate(() => window.hpdBench.adapter());
    console.log(
      `${ua}\ncross-origin isolated: ${await page.evaluate(() => crossOriginIsolated)}; ${machine}\nWebGPU adapter: ${JSON.stringify(results.adapter)}`,
    );
    if (GPU) {
      const a = results.adapter as { isFallbackAdapter: boolean } | null;
      if (a === null || a.isFallbackAdapter) {
        throw new Error(
          `--gpu: no hardware WebGPU adapter here (${a === null ? 'none' : 'only the software fallback'}): timing rows refused, nothing written.`,
        );
      }
    }
    // Models are written after the adapter check (the server reads from disk per request), so --gpu refuses fast.
    const dtypes = GPU ? (['fp32'] as const) : (['fp32', 'q8'] as const);
    const fx = await compiledFixture(withBertVocab(HPD_MINILM_F128));
    const files = fx.checkpoint();
    if (SECTIONS.includes('embed') || SECTIONS.includes('cold')) {
      for (const dtype of dtypes) await fx.writeBundle(join(embedDir, 'models', dtype), dtype);
    }
    let tjs: Omit<TjsSetup, 'dtype'> | undefined;
    if (SECTIONS.includes('embed') && !GPU) {
      await writeTransformersJsModel(
        join(embedDir, 'models', 'tjs', 'hpd-encoder'),
        files,
        (await fx.bundle('fp32')).files.get('tokenizer.json')!,
        dtypes,
      );
      // transformers.js' own onnxruntime-web wasm (the build its ORT import picks), served next to the page.
      const ortDist = join(DEPS, 'node_modules', 'onnxruntime-web', 'dist');
      await mkdir(join(embedDir, 'tjs-ort'), { recursive: true });
      for (const f of ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'])
        await copyFile(join(ortDist, f), join(embedDir, 'tjs-ort', f));
      const at = (p: string) => new URL(p, embedServer.url).href;
      // A path, not a URL: transformers.js only looks for local files (env.localModelPath) under a path.
      tjs = {
        localModelPath: new URL('models/tjs/', embedServer.url).pathname,
        modelId: 'hpd-encoder',
        ortWasm: {
          mjs: at('tjs-ort/ort-wasm-simd-threaded.asyncify.mjs'),
          wasm: at('tjs-ort/ort-wasm-simd-threaded.asyncify.wasm'),
        },
      };
    }
    const { texts, source } = sentences(TEXTS);
    if (SECTIONS.includes('embed') || SECTIONS.includes('cold')) {
      for (const dtype of dtypes) {
        const model = `models/${dtype}/`;
        // Cold start: the first load fills the model cache; a reload then measures the warm path.
        for (const cache of ['empty', 'warm'] as const) {
          if (cache === 'warm') {
            await page.reload();
            await pageReady(page);
          }
          const c = await page.evaluate(([m, d]) => window.hpdBench.coldStart(m, d), [model, dtype] as const);
          results.cold_start.push({ ...c, dtype, cache });
          console.log(
            `cold start ${dtype} (${cache} cache): fetch ${c.fetch_ms.toFixed(0)} ms, verify+compile ${c.verify_compile_ms.toFixed(0)} ms, session ${c.session_ms.toFixed(0)} ms, first run ${c.first_run_ms.toFixed(0)} ms = ${c.total_ms.toFixed(0)} ms [${c.stages.join(' → ')}]`,
          );
        }
        if (!SECTIONS.includes('embed')) continue;
        const setup: TjsSetup | undefined = tjs ? { ...tjs, dtype: dtype as 'fp32' } : undefined;
        const { rows, ...info } = await page.evaluate(
          ([m, t, b, r, d, j]) => window.hpdBench.throughput(m, t, b, r, d, j),
          [model, texts, BATCHES, ROUNDS, GPU ? 'webgpu' : 'wasm', setup] as const,
        );
        results.embed_setup!.push({ dtype, rounds: ROUNDS, ...info });
        console.log(
          `embed ${dtype}: ${info.threads} threads; onnxruntime-web ${info.ort.hpd} (hpd-embed, floor)${info.transformersJs ? `, transformers.js ${info.transformersJs} with its own onnxruntime-web ${info.ort.transformersJs}` : ''}`,
        );
        for (const b of BATCHES) {
          const floor = rows.find((r) => r.batch === b && r.impl.startsWith('floor'))!;
          const them = rows.find((r) => r.batch === b && r.impl.startsWith('transformers.js'));
          for (const r of rows.filter((x) => x.batch === b)) {
            const row = {
              ...r,
              dtype,
              texts_per_s: (r.texts / r.ms) * 1000,
              tokens_per_s: (r.tokens / r.ms) * 1000,
              vs_floor: floor.ms / r.ms,
              ...(them ? { vs_transformers_js: them.ms / r.ms } : {}),
            };
            results.embed.push(row);
            console.log(
              `embed ${dtype.padEnd(4)} batch ${String(b).padStart(2)} ${r.impl.padEnd(54)} ${row.texts_per_s.toFixed(1).padStart(7)} sentences/s ${row.tokens_per_s.toFixed(0).padStart(6)} tokens/s  ${row.vs_floor.toFixed(2)}× the floor's speed${them ? `, ${(them.ms / r.ms).toFixed(2)}× transformers.js'` : ''}`,
            );
          }
        }
        for (const c of info.check ?? [])
          console.log(
            `embed ${dtype} batch ${c.batch}: transformers.js (mean pooling × Dense + tanh + normalize) vs hpd-embed: max |Δ| ${c.max_abs_diff.toExponential(2)}, min cos ${c.min_cos.toFixed(6)}`,
          );
        const bad = (info.check ?? []).filter((c) => !(c.max_abs_diff <= TJS_TOLERANCE));
        if (bad.length > 0)
          throw new Error(
            `transformers.js row (${dtype}) is not on the same weights: vectors differ from hpd-embed's by up to ${Math.max(...bad.map((c) => c.max_abs_diff)).toExponential(2)} (> ${TJS_TOLERANCE}); nothing written.`,
          );
      }
      console.log(`(${texts.length} ${source})`);
      if (SECTIONS.includes('embed') && !GPU) {
        // Functional only: Chromium's WebGPU here is SwiftShader (a CPU rasteriser), so its time is no speed.
        const w = await page.evaluate(([m, t, b]) => window.hpdBench.webgpuFunctional(m, t, b), [
          'models/fp32/',
          texts.slice(0, WEBGPU_TEXTS),
          8,
        ] as const);
        const label = `WebGPU on the ${(w.adapter as { isFallbackAdapter?: boolean } | null)?.isFallbackAdapter === false ? 'hardware' : 'software'} adapter: functional check, not a performance number`;
        results.webgpu_functional = [{ ...w, dtype: 'fp32', label }];
        console.log(
          `webgpu fp32 (${label}): ${w.texts} texts in batches of ${w.batch} on ${w.device} ${JSON.stringify(w.adapter)}, min cos to wasm ${w.min_cos.toFixed(6)}, max |Δ| ${w.max_abs_diff.toExponential(2)} (${w.ms.toFixed(0)} ms, not a speed)`,
        );
        if (!(w.min_cos >= 0.999))
          throw new Error(`WebGPU vectors differ from wasm: min cos ${w.min_cos} < 0.999; nothing written.`);
      }
    }

    // ---- search ----
    if (SECTIONS.includes('search') && !GPU) {
      const searchDir = join(tmp, 'search');
      await buildPage('search-kernels', searchDir, { minify: true });
      const searchServer = await serveStatic(searchDir);
      servers.push(searchServer);
      const sp = await open(browser.context, searchServer.url);
      for (const n of SIZES) {
        // Repeats of the whole set, so noise from other processes shows as spread between repeats.
        for (let rep = 0; rep < REPEATS; rep++) {
          const rows = await sp.evaluate(([nn, rounds]) => window.searchKernels.bench(nn, rounds), [n, 5] as const);
          for (const r of rows) {
            results.search.push({ ...r, repeat: rep });
            console.log(
              `search ${r.storage.padEnd(4)} ${r.kernel.padEnd(12)} n=${r.n}  p50 ${r.single_p50_ms.toFixed(2)} ms = ${(r.single_p50_ms / r.floor_ms).toFixed(2)}× floor (${r.floor_ms.toFixed(2)} ms over ${r.floor_bytes_per_vector} B/vector)  ` +
                `searchMany(${r.many_queries}) ${r.many_p50_ms.toFixed(2)} ms = ${(r.many_p50_ms / r.single_p50_ms).toFixed(2)}× one search`,
            );
          }
        }
      }
    }
    // ---- threaded search ----
    if (SECTIONS.includes('threads') && !GPU) {
      const threadsDir = join(tmp, 'threads');
      await buildPage('search-kernels', threadsDir, { minify: true });
      const threadsServer = await serveStatic(threadsDir);
      servers.push(threadsServer);
      const tp = await open(browser.context, threadsServer.url);
      const info = await tp.evaluate(() => ({ isolated: crossOriginIsolated, hw: navigator.hardwareConcurrency }));
      console.log(`threads: cross-origin isolated ${info.isolated}, hardwareConcurrency ${info.hw}; ${machine}`);
      results.threads = [];
      for (const n of THREAD_SIZES) {
        for (let rep = 0; rep < REPEATS; rep++) {
          const rows = await tp.evaluate(([nn, rounds, cpu]) => window.searchKernels.benchThreads(nn, rounds, cpu), [
            n,
            5,
            machine,
          ] as const);
          for (const r of rows) {
            const row = {
              ...r,
              repeat: rep,
              p50_over_floor: r.p50_ms / r.floor_ms,
              many_over_one: r.many_p50_ms / r.p50_ms,
            };
            results.threads.push(row);
            console.log(
              `threads ${r.storage.padEnd(4)} n=${r.n} ${r.threads} thread(s) (${r.path})  p50 ${r.p50_ms.toFixed(2)} ms = ${row.p50_over_floor.toFixed(2)}× floor ${r.floor_ms.toFixed(2)} ms  searchMany(16) ${r.many_p50_ms.toFixed(2)} ms = ${row.many_over_one.toFixed(2)}× one  [${r.cpu}]`,
            );
          }
        }
      }
    }

    await saveResults(results);
  } finally {
    await browser.close();
    for (const s of servers) await s.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
