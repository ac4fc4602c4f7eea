// Keyword (BM25) and hybrid search over passages shaped like the demo corpus (lengths drawn from its passages, words
// drawn from its word stream, so term frequencies follow it): query latency, keyword-index bytes per passage and add
// throughput, each against a baseline measured in the same run (vector search, the int8 vectors' bytes, adding
// without keywords), in Node and then in headless Chromium (the same code, bundled into a page; sizes in
// HPD_BENCH_BROWSER_SIZES, default 10000,100000). Writes bench/results/keywords.json.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { chromiumUnavailableReason, launchChromium } from '../test/browser/chromium.js';
import { measure, type Corpus, type Row } from './keywords-measure.js';

// HPD_BENCH_SIZES=10000,100000 narrows a run; the default is the full set.
const SIZES = (process.env.HPD_BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const BROWSER_SIZES = (process.env.HPD_BENCH_BROWSER_SIZES ?? '10000,100000').split(',').filter(Boolean).map(Number);

const here = dirname(fileURLToPath(import.meta.url));

/** The demo corpus's word stream (whitespace-separated, as written) and passage lengths in words. */
function loadCorpus(): Corpus {
  const lines = readFileSync(join(here, '../demo/corpus/node-api-docs.jsonl'), 'utf8').split('\n').filter(Boolean);
  const words: string[] = [];
  const lengths: number[] = [];
  for (const line of lines) {
    const w = (JSON.parse(line) as { text: string }).text.split(/\s+/).filter(Boolean);
    words.push(...w);
    lengths.push(w.length);
  }
  return { words, lengths };
}

function describe(where: string, row: Row): string {
  return `${where} n ${row.n}: keyword p50 ${row.keyword_p50_ms.toFixed(3)} ms (${row.keyword_over_vector.toFixed(2)}× vector ${row.vector_p50_ms.toFixed(3)} ms), hybrid p50 ${row.hybrid_p50_ms.toFixed(3)} ms (${row.hybrid_over_vector.toFixed(2)}×; vector at depth 100 ${row.vector100_p50_ms.toFixed(3)} ms); keyword index ${row.keyword_bytes_per_passage.toFixed(0)} B/passage (${row.keyword_over_int8_bytes.toFixed(2)}× int8 vectors' ${row.int8_vector_bytes_per_passage.toFixed(0)} B); add ${row.add_per_s_with_keywords.toFixed(0)}/s with keywords, ${row.add_per_s_vectors_only.toFixed(0)}/s without (${row.add_with_over_without.toFixed(2)}×)`;
}

/** The same measurement in headless Chromium: keywords-measure.ts bundled into a blank page. */
async function inChromium(c: Corpus): Promise<Row[]> {
  const reason = chromiumUnavailableReason();
  if (reason !== null || BROWSER_SIZES.length === 0) {
    console.log(`Chromium rows skipped: ${reason ?? 'HPD_BENCH_BROWSER_SIZES is empty'}`);
    return [];
  }
  const bundle = await esbuild({
    stdin: {
      contents: "import { measure } from './keywords-measure.ts'; (globalThis as any).measure = measure;",
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
  });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    const rows: Row[] = [];
    for (const n of BROWSER_SIZES) {
      const row = await page.evaluate(
        ([corpus, size]) => (globalThis as unknown as { measure: typeof measure }).measure(corpus, size),
        [c, n] as const,
      );
      console.log(describe('chromium', row));
      rows.push(row);
    }
    return rows;
  } finally {
    await browser.close();
  }
}

export async function run(): Promise<void> {
  const c = loadCorpus();
  const node: Row[] = [];
  for (const n of SIZES) {
    const row = measure(c, n);
    console.log(describe('node', row));
    node.push(row);
  }
  const chromium = await inChromium(c);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'keywords.json'), `${JSON.stringify({ node, chromium }, null, 2)}\n`);
}
