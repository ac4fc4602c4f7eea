// In-browser benchmarks (`npm run bench -- browser`): headless Chromium on a cross-origin-isolated page (COOP/COEP).
// Search rows: CosineIndex search and searchMany(16) per kernel (relaxed SIMD, SIMD128) against a streaming pass over
// the bytes per vector the scan must read, measured in the same page. Writes bench/results/browser.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromiumUnavailableReason, launchChromium } from '../test/browser/chromium.js';
import type { SearchBenchRow } from '../test/browser/pages/search-kernels/main.js';
import { serveStatic } from '../test/browser/static-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env.HPD_BENCH_SIZES ?? '1000000').split(',').map(Number);
const REPEATS = Number(process.env.HPD_BENCH_REPEATS ?? '3');

export interface BrowserBenchResults {
  machine: string;
  browser: string;
  search: (SearchBenchRow & { repeat: number })[];
}

export async function run(): Promise<void> {
  const reason = chromiumUnavailableReason();
  if (reason !== null) throw new Error(`browser bench needs Chromium: ${reason}`);
  const outDir = await mkdtemp(join(tmpdir(), 'hpd-bench-browser-'));
  const server = await (async () => {
    await build({ root: join(here, '..', 'test', 'browser', 'pages', 'search-kernels'), configFile: false, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    return serveStatic(outDir);
  })();
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const ua = await page.evaluate(() => navigator.userAgent);
    const isolated = await page.evaluate(() => crossOriginIsolated);
    const { cpus } = await import('node:os');
    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (shared)`;
    console.log(`${ua}\ncross-origin isolated: ${isolated}; ${machine}`);
    const results: BrowserBenchResults = { machine, browser: ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? ua, search: [] };
    for (const n of SIZES) {
      // Repeats of the whole set, so noise from other processes shows as spread between repeats.
      for (let rep = 0; rep < REPEATS; rep++) {
        const rows = await page.evaluate(([nn, rounds]) => window.searchKernels.bench(nn, rounds), [n, 5] as const);
        for (const r of rows) {
          results.search.push({ ...r, repeat: rep });
          console.log(
            `search ${r.storage.padEnd(4)} ${r.kernel.padEnd(12)} n=${r.n}  p50 ${r.single_p50_ms.toFixed(2)} ms = ${(r.single_p50_ms / r.floor_ms).toFixed(2)}× floor (${r.floor_ms.toFixed(2)} ms over ${r.floor_bytes_per_vector} B/vector)  ` +
              `searchMany(${r.many_queries}) ${r.many_p50_ms.toFixed(2)} ms = ${(r.many_p50_ms / r.single_p50_ms).toFixed(2)}× one search`,
          );
        }
      }
    }
    const out = join(here, 'results', 'browser.json');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
}
