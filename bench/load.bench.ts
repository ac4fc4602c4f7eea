// What load-time validation costs: CosineIndex.deserialize of N random unit vectors (dim 128, ids, metadata on every
// 10th row) against the same decode without the checks that its rows and metadata are what add() writes (those checks
// timed alone, in the same rounds, on the decoded arrays). Writes bench/results/load.json.
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CosineIndex } from '../src/search/index.js';
import type { Int8Rescore, JsonValue, StorageKind } from '../src/search/index.js';
import { loadedJsonFault } from '../src/search/json-value.js';
import { f32RowsFault, int8MatchesF32Fault, int8RowsFault } from '../src/search/row-checks.js';
import { decodeIndex } from '../src/search/serialize.js';
import { seededRandom } from '../src/seeded-random.js';
import { addInChunks, median } from './timing.js';

const DIM = 128;
// HPD_BENCH_SIZES=100000 narrows a run; the default is the 1M index the checks must stay cheap for.
const SIZES = (process.env.HPD_BENCH_SIZES ?? '1000000').split(',').map(Number);
const ROUNDS = Number(process.env.HPD_BENCH_ROUNDS ?? 5);
const VARIANTS: [StorageKind, Int8Rescore | undefined][] = [
  ['f32', undefined],
  ['int8', 'residual'],
  ['int8', 'dequantized'],
  ['int8', 'f32'],
];

/** One row of bench/results/load.json. */
export interface LoadBenchResult {
  storage: string;
  rescore: string;
  n: number;
  dim: number;
  bytes: number;
  /** deserialize(), checks included. */
  load_ms: number;
  /** The row and metadata checks alone. */
  checks_ms: number;
  /** load / (load − checks): what the checks add to a plain decode. */
  ratio: number;
}

/** The checks decodeIndex runs on rows and metadata, on an already decoded index. */
function runChecks(bytes: ArrayBuffer): () => void {
  const raw = decodeIndex(bytes);
  return () => {
    let fault: unknown;
    for (const m of raw.metadata) if (m !== undefined) fault ??= loadedJsonFault(m);
    if (raw.storage === 'f32') fault ??= f32RowsFault(raw.f32 as Float32Array, raw.count, raw.dim);
    else if (raw.f32 !== null) {
      fault ??= f32RowsFault(raw.f32, raw.count, raw.dim);
      fault ??= int8MatchesF32Fault(raw.i8 as Int8Array, raw.scales as Float32Array, raw.f32, raw.count, raw.dim);
    } else fault ??= int8RowsFault(raw.i8 as Int8Array, raw.scales as Float32Array, raw.res, raw.count, raw.dim);
    if (fault !== undefined) throw new Error(`bench index failed its own checks: ${JSON.stringify(fault)}`);
  };
}

export async function run(): Promise<void> {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}; ${ROUNDS} rounds, medians`);
  const results: LoadBenchResult[] = [];
  for (const n of SIZES) {
    const rand = seededRandom(7);
    const data = new Float32Array(n * DIM).map(() => rand() * 2 - 1);
    const ids = Array.from({ length: n }, (_, i) => `doc-${i}#${i % 13}`);
    for (const [storage, rescore] of VARIANTS) {
      const index = new CosineIndex<JsonValue>({ dim: DIM, storage, rescore, capacity: n });
      addInChunks(index, ids, data, DIM, 10_000);
      for (let i = 0; i < n; i += 10)
        index.upsertVectors([ids[i]], data.subarray(i * DIM, i * DIM + DIM), [{ i, tag: 't' }]);
      const bytes = index.serialize();
      const checks = runChecks(bytes);
      const load: number[] = [];
      const check: number[] = [];
      for (let r = 0; r <= ROUNDS; r++) {
        let t = performance.now();
        CosineIndex.deserialize(bytes);
        const l = performance.now() - t;
        t = performance.now();
        checks();
        const c = performance.now() - t;
        if (r > 0) (load.push(l), check.push(c)); // round 0 warms up
      }
      const row: LoadBenchResult = {
        storage,
        rescore: index.rescore,
        n,
        dim: DIM,
        bytes: bytes.byteLength,
        load_ms: +median(load).toFixed(1),
        checks_ms: +median(check).toFixed(1),
        ratio: +(median(load) / (median(load) - median(check))).toFixed(3),
      };
      results.push(row);
      console.log(
        `${storage.padEnd(4)} ${row.rescore.padEnd(11)} n=${n}: load ${row.load_ms} ms, checks ${row.checks_ms} ms, ` +
          `load / plain decode ${row.ratio}×`,
      );
    }
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'load.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify({ cpu: cpus()[0]?.model, results }, null, 2) + '\n');
}
