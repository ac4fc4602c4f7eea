// Many-query search and the relaxed-SIMD int8 kernel: CosineIndex.searchMany(16 queries) against 16 single
// searches, per kernel (relaxed SIMD where the engine has it, SIMD128, JS), with the streaming floor over the same
// bytes measured in the same run. Writes bench/results/search-many.json. Node 20 needs
// --experimental-wasm-relaxed-simd for the relaxed kernel; it is set here before any wasm is compiled.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { addInChunks, median, timeSearchRounds } from './timing.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');

const DIM = 128;
const K = 10;
const BATCH = 16;
const SIZES = (process.env.HPD_BENCH_SIZES ?? '1000000').split(',').map(Number);
const here = dirname(fileURLToPath(import.meta.url));

/** One row of bench/results/search-many.json. */
export interface SearchManyResult {
  storage: string;
  kernel: string;
  n: number;
  dim: number;
  k: number;
  queries: number;
  /** Median of one search() call. */
  single_p50_ms: number;
  /** Median of one searchMany() call over `queries` queries. */
  many_p50_ms: number;
  /** many_p50_ms / single_p50_ms: 1 would mean the batch costs one query. */
  many_over_single: number;
  /** Streaming pass over the bytes one scan reads (same run). */
  floor_ms: number;
  single_over_floor: number;
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export async function run(): Promise<void> {
  const { CosineIndex } = await import('../src/search/index.js');
  const { hasRelaxedSimd } = await import('../src/search/simd.js');
  const { unitVectors, floorMs } = await import('./search.bench.js');
  const relaxed = hasRelaxedSimd();
  console.log(`node ${process.version}, dim ${DIM}, k ${K}, batch ${BATCH}; relaxed SIMD: ${relaxed ? 'yes' : 'no'}`);
  const results: SearchManyResult[] = [];
  for (const n of SIZES) {
    const data = unitVectors(n, 1000 + n);
    const queries = unitVectors(BATCH, 7);
    const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
    for (const storage of ['int8', 'f32'] as const) {
      const floor = floorMs(storage, data, n);
      // The JS kernel at 1M takes minutes per variant; HPD_BENCH_JS=1 adds it there.
      const withJs = n < 1_000_000 || process.env.HPD_BENCH_JS === '1';
      const kernels = (relaxed ? ['auto', 'simd', 'js'] : ['auto', 'js']).filter((k) => withJs || k !== 'js') as (
        'auto' | 'simd' | 'js'
      )[];
      for (const kernel of kernels) {
        const index = new CosineIndex({ dim: DIM, storage, kernel });
        addInChunks(index, ids, data, DIM, 10_000);
        const { single, many } = timeSearchRounds(index, queries, DIM, K, n >= 1_000_000 && kernel === 'js' ? 3 : 7);
        const label = kernel === 'auto' ? (relaxed ? 'relaxed-simd' : 'simd') : kernel === 'simd' ? 'simd128' : 'js';
        const row: SearchManyResult = {
          storage,
          kernel: label,
          n,
          dim: DIM,
          k: K,
          queries: BATCH,
          single_p50_ms: r4(median(single)),
          many_p50_ms: r4(median(many)),
          many_over_single: r4(median(many) / median(single)),
          floor_ms: r4(floor),
          single_over_floor: r4(median(single) / floor),
        };
        results.push(row);
        console.log(
          `${storage.padEnd(5)} ${label.padEnd(13)} n=${n}  search p50 ${row.single_p50_ms.toFixed(2)} ms (${row.single_over_floor.toFixed(2)}× floor ${row.floor_ms.toFixed(2)} ms)  ` +
            `searchMany(${BATCH}) p50 ${row.many_p50_ms.toFixed(2)} ms = ${row.many_over_single.toFixed(2)}× one search`,
        );
      }
    }
  }
  const out = join(here, 'results', 'search-many.json');
  await mkdir(dirname(out), { recursive: true });
  const { cpus } = await import('node:os');
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (shared)`;
  await writeFile(
    out,
    JSON.stringify({ machine, runtime: `node ${process.version}`, relaxed_simd: relaxed, results }, null, 2) + '\n',
  );
  console.log(`wrote ${out}`);
}
