// In-browser benchmarks (`npm run bench -- browser [--gpu]`): headless Chromium on a cross-origin-isolated page
// (COOP/COEP, so wasm gets threads), every number a ratio to a baseline measured in the same page:
//   embedding: the hpd-embed worker (wasm) against raw onnxruntime-web session.run on the same length-sorted batches
//     of the same HPD-shaped model (random weights, real shape) and STS-B dev sentences, at batch 1, 8 and 32, for
//     fp32 and q8; cold start split by load stage with an empty and a warm model cache;
//   search: CosineIndex search and searchMany(16) per kernel against a streaming pass over the bytes per vector.
// --gpu: the same embedding rows on a real GPU's WebGPU adapter; the adapter is printed and a software (fallback)
// adapter is refused for timing rows. Writes bench/results/browser.json (browser-gpu.json with --gpu).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { HPD_MINILM_F128 } from '../src/convert/fixture.js';
import { chromiumUnavailableReason, launchChromium } from '../test/browser/chromium.js';
import type { ColdStart, Throughput } from '../test/browser/pages/embed-bench/main.js';
import type { SearchBenchRow } from '../test/browser/pages/search-kernels/main.js';
import { serveStatic, type StaticServer } from '../test/browser/static-server.js';
import { buildPage, pageReady } from '../test/browser/test-page.js';
import { compiledFixture } from '../test/helpers/compiled-fixture.js';
import { bertVocab, sentences } from '../test/helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env.HPD_BENCH_SIZES ?? '1000000').split(',').map(Number);
const REPEATS = Number(process.env.HPD_BENCH_REPEATS ?? '3');
const TEXTS = Number(process.env.HPD_BENCH_TEXTS ?? '128');
// HPD_BENCH_BROWSER=cold,embed,search (default all) picks sections; the others keep their previous results.
const SECTIONS = (process.env.HPD_BENCH_BROWSER ?? 'cold,embed,search').split(',');
const BATCHES = [1, 8, 32];
const ROUNDS = Number(process.env.HPD_BENCH_ROUNDS ?? '2');
const GPU = process.argv.includes('--gpu');

export interface BrowserBenchResults {
  machine: string;
  browser: string;
  adapter: unknown;
  embed: (Throughput & { dtype: string; texts_per_s: number; tokens_per_s: number; vs_floor: number })[];
  cold_start: (ColdStart & { dtype: string; cache: 'empty' | 'warm' })[];
  search: (SearchBenchRow & { repeat: number })[];
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

export async function run(): Promise<void> {
  const reason = chromiumUnavailableReason();
  if (reason !== null) throw new Error(`browser bench needs Chromium: ${reason}`);
  const tmp = await mkdtemp(join(tmpdir(), 'hpd-bench-browser-'));
  const servers: StaticServer[] = [];
  // --gpu: Chromium picks the machine's GPU adapter, if it has one.
  const browser = await launchChromium({ gpu: GPU });
  try {
    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (shared)`;
    const results: BrowserBenchResults = { machine, browser: '', adapter: null, embed: [], cold_start: [], search: [] };

    // ---- embedding ----
    const embedDir = join(tmp, 'embed');
    await buildPage('embed-bench', embedDir, { minify: true });
    const embedServer = await serveStatic(embedDir);
    servers.push(embedServer);
    const page = await open(browser.context, embedServer.url);
    const ua = await page.evaluate(() => navigator.userAgent);
    results.browser = ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? ua;
    results.adapter = await page.evaluate(() => window.hpdBench.adapter());
    console.log(`${ua}\ncross-origin isolated: ${await page.evaluate(() => crossOriginIsolated)}; ${machine}\nWebGPU adapter: ${JSON.stringify(results.adapter)}`);
    if (GPU) {
      const a = results.adapter as { isFallbackAdapter: boolean } | null;
      if (a === null || a.isFallbackAdapter) {
        throw new Error(`--gpu: no hardware WebGPU adapter here (${a === null ? 'none' : 'only the software fallback'}): timing rows refused, nothing written.`);
      }
    }
    // Models are written after the adapter check (the server reads from disk per request), so --gpu refuses fast.
    const vocab = bertVocab();
    const dtypes = GPU ? (['fp32'] as const) : (['fp32', 'q8'] as const);
    if (SECTIONS.includes('embed') || SECTIONS.includes('cold')) {
      const fx = await compiledFixture({ ...HPD_MINILM_F128, ...(vocab ? { vocab } : {}) });
      for (const dtype of dtypes) await fx.writeBundle(join(embedDir, 'models', dtype), dtype);
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
          console.log(`cold start ${dtype} (${cache} cache): fetch ${c.fetch_ms.toFixed(0)} ms, verify+compile ${c.verify_compile_ms.toFixed(0)} ms, session ${c.session_ms.toFixed(0)} ms, first run ${c.first_run_ms.toFixed(0)} ms = ${c.total_ms.toFixed(0)} ms [${c.stages.join(' → ')}]`);
        }
        if (!SECTIONS.includes('embed')) continue;
        const rows = await page.evaluate(([m, t, b, r, d]) => window.hpdBench.throughput(m, t, b, r, d), [model, texts, BATCHES, ROUNDS, GPU ? 'webgpu' : 'wasm'] as const);
        for (const b of BATCHES) {
          const floor = rows.find((r) => r.batch === b && r.impl.startsWith('floor'))!;
          for (const r of rows.filter((x) => x.batch === b)) {
            const row = { ...r, dtype, texts_per_s: (r.texts / r.ms) * 1000, tokens_per_s: (r.tokens / r.ms) * 1000, vs_floor: floor.ms / r.ms };
            results.embed.push(row);
            console.log(`embed ${dtype.padEnd(4)} batch ${String(b).padStart(2)} ${r.impl.padEnd(46)} ${row.texts_per_s.toFixed(1).padStart(7)} sentences/s ${row.tokens_per_s.toFixed(0).padStart(6)} tokens/s  ${row.vs_floor.toFixed(2)}× the floor's speed`);
          }
        }
      }
      console.log(`(${texts.length} ${source})`);
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
    const out = join(here, 'results', GPU ? 'browser-gpu.json' : 'browser.json');
    await mkdir(dirname(out), { recursive: true });
    // A run of some sections (HPD_BENCH_BROWSER) keeps the other sections of the previous results.
    if (existsSync(out)) {
      const prev = JSON.parse(readFileSync(out, 'utf8')) as Partial<BrowserBenchResults>;
      if (!SECTIONS.includes('embed')) results.embed = prev.embed ?? [];
      if (!SECTIONS.includes('cold')) results.cold_start = prev.cold_start ?? [];
      if (!SECTIONS.includes('search')) results.search = prev.search ?? [];
    }
    await writeFile(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    for (const s of servers) await s.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
