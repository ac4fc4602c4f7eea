// Batch routing between two loaded sessions: on many GPUs WebGPU loses to wasm at batch 1 because every run pays
// fixed dispatch costs (transformers.js #1750), so small batches go to wasm and large ones to WebGPU.

/** Batches of at most this many rows run on wasm when both sessions are loaded and nothing was measured. */
export const DEFAULT_WASM_MAX_ROWS = 1;

/** Batch sizes timed by `measureCrossover` (rows per run, at a fixed sequence length). */
const CROSSOVER_BATCHES: readonly number[] = [1, 2, 4, 8, 16, 32];

export interface CrossoverTiming {
  rows: number;
  /** Best time of one run on each session, in ms. */
  wasmMs: number;
  gpuMs: number;
}

/**
 * The largest batch size up to which wasm is faster, from timings at increasing sizes: the first size where WebGPU
 * wins ends the wasm range (later noise cannot re-open it). 0 when WebGPU wins already at the smallest size.
 */
export function crossoverFromTimings(timings: readonly CrossoverTiming[]): number {
  const sorted = [...timings].sort((a, b) => a.rows - b.rows);
  let wasmMax = 0;
  for (const t of sorted) {
    if (!(t.wasmMs < t.gpuMs)) break;
    wasmMax = t.rows;
  }
  return wasmMax;
}

/** Which session a batch of `rows` rows runs on, given the wasm range (rows <= wasmMaxRows go to wasm). */
export function routeBatch(rows: number, wasmMaxRows: number): 'wasm' | 'gpu' {
  return rows <= wasmMaxRows ? 'wasm' : 'gpu';
}

/**
 * Times one run per session at each size in CROSSOVER_BATCHES (after a warm-up run of each), best of `reps`, and
 * returns the crossover. `run(device, rows)` runs one batch of `rows` rows on that session.
 */
export async function measureCrossover(
  run: (device: 'wasm' | 'gpu', rows: number) => Promise<void>,
  now: () => number = () => performance.now(),
  reps = 3,
): Promise<{ wasmMaxRows: number; timings: CrossoverTiming[] }> {
  const timings: CrossoverTiming[] = [];
  await run('wasm', 1);
  await run('gpu', 1);
  for (const rows of CROSSOVER_BATCHES) {
    const best = { wasm: Infinity, gpu: Infinity };
    for (let r = 0; r < reps; r++) {
      for (const d of ['wasm', 'gpu'] as const) {
        const t = now();
        await run(d, rows);
        best[d] = Math.min(best[d], now() - t);
      }
    }
    timings.push({ rows, wasmMs: best.wasm, gpuMs: best.gpu });
    // Past the crossover, larger batches only favour WebGPU further: stop measuring.
    if (!(best.wasm < best.gpu)) break;
  }
  return { wasmMaxRows: crossoverFromTimings(timings), timings };
}
