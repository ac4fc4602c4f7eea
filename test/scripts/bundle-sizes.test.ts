import { describe, expect, it } from 'vitest';
import { measureBundleSizes } from '../../scripts/bundle-sizes.js';

// Budgets sit a little above what esbuild gives now (minified bytes, as users ship them, ORT's JS excluded; minified so
// formatting and comments do not move them); a change that pulls the compiler, protobuf or another heavy module into
// the up-front worker or the page fails here. Measured on main after the issue 9 merges (protocol with every error
// class rebuilt on both sides, queue isolation, ORT log tap): page 60.8 kB, worker 78.7 kB (src/ 39.2 kB; most of the
// rest is @huggingface/tokenizers), compiler chunk 41.8 kB, index chunk 40.3 kB. Issue 17's one index vocabulary moved
// `where`, `withMetadata` and rebuild from the worker into CosineIndex: page 62.6 kB, worker src/ 40.0 kB, index chunk 41.9 kB.
// Model strings resolved on the page (model/spec.ts) and loadModel as a dispatcher: page +1.2 kB (63.8 kB with both), worker 81.2 kB with both.
// Issue 16: model checks before the first run (engine/onnx-info.ts, engine/model-check.ts) worker +5.3 kB; windowed
// sentence segmentation (text/sentences.ts, exported through splitPassages) page 64.5 kB.
// Issue 16: a load accepts only what a save writes (search/row-checks.ts), the page checks index-call arguments
// (protocol/index-args.ts): index chunk 44.4 kB; page 69.1 kB with all of the above (it exports CosineIndex).
// Issue 20 (scan threads): CosineIndex.searchAsync/searchManyAsync, the staged scans and the thread state add 3.2 kB to
// the page and the index chunk; the pool, thread code and shared-memory kernels load only when used.
// Issue 18's prebuilt indexes: the index file format (index-file.ts, in CosineIndex: page and index chunk +4.6 kB),
// handle.import's wire form (page), ModelMismatchError, createPassageTexts; the download code loads on the first import:
// page 80.8 kB, worker 88.2 kB (src/ 48.8 kB), index chunk 52.5 kB with everything above.
// Issue 19: the keyword index (search/keywords/: BM25, RRF, terms; CosineIndex's modes) +16 kB in the index chunk and
// the page (it exports CosineIndex).
// Issue 20: the in-kernel candidate test (pick_* kernels, pick-bounds.ts) grows the wasm kernel bytes: page 101.8 kB, index chunk 73.4 kB.
// Issue 20: the one-query int8 kernels in blocks of 4 rows with the f64 scale test (+0.7 kB of wasm, +0.9 kB as base64),
// stats().threads and the bytes-based searchThreadsMinRows: page 105.0 kB, index chunk 76.5 kB.
const BUDGET = { page: 106_500, worker: 90_000, workerOwn: 50_000, compiler: 44_000, index: 78_000 };

describe('bundle sizes (esbuild metafile)', async () => {
  const s = await measureBundleSizes();
  console.log(
    `page ${s.page} B, worker ${s.worker} B (src/ ${s.workerOwn} B; + ORT ${s.workerOrt} B), compiler chunk ${s.compiler} B, index chunk ${s.index} B`,
  );

  it('page entry, worker (compiled-bundle path) and compiler chunk stay within budget', () => {
    expect(s.page).toBeLessThanOrEqual(BUDGET.page);
    expect(s.worker).toBeLessThanOrEqual(BUDGET.worker);
    expect(s.workerOwn).toBeLessThanOrEqual(BUDGET.workerOwn);
    expect(s.compiler).toBeLessThanOrEqual(BUDGET.compiler);
    expect(s.compiler).toBeGreaterThan(0); // the compiler is a separate, lazily loaded chunk
    expect(s.index).toBeLessThanOrEqual(BUDGET.index);
  });

  it('the worker loads the index code (CosineIndex, kernels, stores) only on the first index call', () => {
    expect(s.workerInputs.filter((p) => p.startsWith('src/search/') || p.includes('/idb/'))).toEqual([]);
    expect(s.index).toBeGreaterThan(0);
  });

  it('the worker loads no compiler code up front; the compiler chunk holds it', () => {
    expect(s.workerInputs.filter((p) => p.startsWith('src/convert/') || p.includes('/fflate/'))).toEqual([]);
    expect(s.compilerInputs).toContain('src/convert/compile.ts');
    expect(s.compilerInputs).toContain('src/convert/onnx-writer.ts');
  });

  it('no CommonJS module anywhere in the page or worker graph (Vite dev serves modules unbundled)', () => {
    expect(s.commonjs).toEqual([]);
  });
});
