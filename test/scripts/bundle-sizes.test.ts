import { describe, expect, it } from 'vitest';
import { measureBundleSizes } from '../../scripts/bundle-sizes.js';

// Budgets sit a little above what esbuild gives now (unminified bytes, ORT's JS excluded); a change that pulls the
// compiler, protobuf or another heavy module into the up-front worker or the page fails here.
// Measured on main after the issue 7/8/10/11/12 merges, with the index code loaded on the first index call: page
// 108.6 kB (it exports CosineIndex), worker 159.3 kB (src/ 55.3; 94 kB is @huggingface/tokenizers), compiler 70.0 kB,
// index chunk 73.1 kB.
// Issue 9's protocol (src/protocol: every error class rebuilt with its details on both sides, 4.3 kB; the search error
// classes moved from the index chunk to src/errors.ts, 1.5 kB) took the worker to 164.6 kB (src/ 60.7), the page to 111.3 kB.
// The queue's per-request failure isolation + token budget and the one JSON reader then took the worker to 167.2 kB (src/ 63.2).
// The ORT log tap (src/engine/ort-log.ts, with the tiny model that starts ORT's runtime for capturePlacement): 169.9 kB (src/ 66.0).
const BUDGET = { page: 115_000, worker: 172_000, workerOwn: 67_000, compiler: 73_000, index: 77_000 };

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
