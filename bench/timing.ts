// Timing pieces shared by the Node search benches, the browser bench page (test/browser/pages/search-kernels) and
// scripts/perf-tables, so Node and browser rows are measured and summarised the same way.

/** What the timing needs of a CosineIndex (structural, so this file follows no src/search layout). */
export interface TimedIndex {
  addVectors(ids: readonly string[], vectors: Float32Array): void;
  search(query: Float32Array, k: number): unknown;
  searchMany(queries: Float32Array, k: number): unknown;
}

/** The lower median. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Adds `ids` with their rows of `data` (`dim` floats each) in batches of `chunk`, like a real ingest. */
export function addInChunks(
  index: TimedIndex,
  ids: readonly string[],
  data: Float32Array,
  dim: number,
  chunk: number,
): void {
  const n = ids.length;
  for (let s = 0; s < n; s += chunk)
    index.addVectors(ids.slice(s, Math.min(n, s + chunk)), data.subarray(s * dim, Math.min(n, s + chunk) * dim));
}

/**
 * 1 + `rounds` rounds (the first a warm-up, not kept), each one search() per query and then one searchMany() of all,
 * interleaved so both see the same machine load; the kept times in ms.
 */
export function timeSearchRounds(
  index: TimedIndex,
  queries: Float32Array,
  dim: number,
  k: number,
  rounds: number,
): { single: number[]; many: number[] } {
  const single: number[] = [];
  const many: number[] = [];
  const count = queries.length / dim;
  for (let round = 0; round <= rounds; round++) {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      index.search(queries.subarray(i * dim, i * dim + dim), k);
      if (round > 0) single.push(performance.now() - t);
    }
    const t = performance.now();
    index.searchMany(queries, k);
    if (round > 0) many.push(performance.now() - t);
  }
  return { single, many };
}
