// Exact top-k search over N random unit vectors (dim 128, k 10): CosineIndex f32 / int8 against the
// memory-bandwidth floor measured in the same run, and peers (@orama/orama, voy-search, hnswlib-wasm)
// on the same vectors and queries at 10k and 100k. Writes bench/results/search.json.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CosineIndex } from '../src/search/index.js';
import { seededRandom } from '../src/seeded-random.js';
import { addInChunks } from './timing.js';
import { createSimdScan } from '../src/search/simd.js';
import type { StorageKind } from '../src/search/index.js';

const DIM = 128;
const K = 10;
// HPD_BENCH_SIZES=10000,100000 narrows a run (e.g. for a quick check); the default is the issue's full set.
const SIZES = (process.env.HPD_BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PEER_SIZES = new Set([10_000, 100_000]);
const queryCount = (n: number): number => (n <= 10_000 ? 200 : n <= 100_000 ? 100 : 30);
const ADD_CHUNK = 10_000;

/** One row of bench/results/search.json. */
export interface SearchBenchResult {
  impl: string;
  storage: string;
  n: number;
  dim: number;
  k: number;
  p50_ms: number | null;
  p95_ms: number | null;
  floor_ms: number | null;
  recall_at_10: number | null;
  bytes_per_vector: number | null;
  build_ms: number | null;
  note?: string;
}

interface Peer {
  name: string;
  storage: string;
  build(ids: string[], data: Float32Array): Promise<void>;
  search(q: Float32Array): Promise<string[]>;
  dispose(): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// --expose-gc at run time: the npm script runs plain tsx, and memory deltas need a settled heap.
setFlagsFromString('--expose-gc');
const gcFn: unknown = runInNewContext('gc');
function gc(): void {
  if (typeof gcFn === 'function') {
    (gcFn as () => void)();
    (gcFn as () => void)();
  }
}
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** n isotropic random unit vectors (Box–Muller, normalised), flat. */
export function unitVectors(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const out = new Float32Array(n * DIM);
  const row = new Float64Array(DIM);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      row[j] = g;
      s += g * g;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = row[j] * inv;
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Floors: one tight pass over the same number of bytes of the same element type the scan reads,
// with four accumulators like the kernels, so the ratio isolates the cost of the dot products and the heap.
function sumF32(a: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length - (a.length & 3);
  for (let i = 0; i < n; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  return s0 + s1 + (s2 + s3);
}
function sumI8(a: Int8Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length - (a.length & 3);
  for (let i = 0; i < n; i += 4) {
    s0 = (s0 + a[i]) | 0;
    s1 = (s1 + a[i + 1]) | 0;
    s2 = (s2 + a[i + 2]) | 0;
    s3 = (s3 + a[i + 3]) | 0;
  }
  return s0 + s1 + (s2 + s3);
}

let sink = 0;
/** Fastest of `reps` runs after a warm-up: a floor is a best case, and the minimum is the least noisy estimate of it. */
function minMs(fn: () => number, reps: number): number {
  // Warm up first so the floor is measured on optimised code, like the (already warm) search.
  for (let i = 0; i < 3; i++) sink += fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    sink += fn();
    t.push(performance.now() - s);
  }
  return Math.min(...t);
}

/** f32 floor: the faster of a JS pass and a wasm SIMD pass over the same bytes (the SIMD one is the real bandwidth bound). */
export function floorMs(storage: StorageKind, data: Float32Array, n: number): number {
  if (storage === 'f32') {
    const js = minMs(() => sumF32(data), 9);
    const scan = createSimdScan();
    if (!scan) return js;
    scan.memory.grow(Math.ceil(data.byteLength / 65536));
    new Float32Array(scan.memory.buffer, 0, data.length).set(data);
    const count = data.length - (data.length % 16);
    return Math.min(
      js,
      minMs(() => scan.sumF32(0, count), 9),
    );
  }
  // int8 scan reads n×dim codes plus n float32 scales.
  const codes = new Int8Array(n * DIM);
  for (let i = 0; i < codes.length; i++) codes[i] = (data[i] * 400) | 0;
  const scales = data.subarray(0, n);
  const js = minMs(() => sumI8(codes) + sumF32(scales), 9);
  const scan = createSimdScan();
  if (!scan) return js;
  scan.memory.grow(Math.ceil((codes.byteLength + scales.byteLength + 64) / 65536));
  new Int8Array(scan.memory.buffer, 0, codes.length).set(codes);
  const scalesOff = (codes.length + 63) & ~63;
  new Float32Array(scan.memory.buffer, scalesOff, n).set(scales);
  const c16 = codes.length - (codes.length % 16);
  const s16 = n - (n % 16);
  return Math.min(
    js,
    minMs(() => scan.sumI8(0, c16) + scan.sumF32(scalesOff, s16), 9),
  );
}

function recall(truth: string[][], got: string[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    total += t.size;
    for (const id of got[i]) if (t.has(id)) hit++;
  }
  return total === 0 ? 0 : hit / total;
}

async function timeQueries(
  queries: Float32Array,
  q: number,
  fn: (v: Float32Array) => Promise<string[]> | string[],
): Promise<{ p50: number; p95: number; results: string[][] }> {
  const warm = Math.min(5, q);
  for (let i = 0; i < warm; i++) await fn(queries.subarray(i * DIM, i * DIM + DIM));
  const times: number[] = [];
  const results: string[][] = [];
  for (let i = 0; i < q; i++) {
    const v = queries.subarray(i * DIM, i * DIM + DIM);
    const s = performance.now();
    const r = await fn(v);
    times.push(performance.now() - s);
    results.push(r);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), results };
}

// ---- peers ----

async function oramaPeer(): Promise<Peer> {
  const orama = await import('@orama/orama');
  let db: Awaited<ReturnType<typeof makeDb>> | null = null;
  async function makeDb() {
    return orama.create({ schema: { key: 'string', embedding: `vector[${DIM}]` } as const });
  }
  return {
    name: '@orama/orama',
    storage: 'f32 (brute force)',
    async build(ids, data) {
      db = await makeDb();
      const docs = ids.map((id, i) => ({ id, key: id, embedding: Array.from(data.subarray(i * DIM, i * DIM + DIM)) }));
      await orama.insertMultiple(db, docs, 1000);
    },
    async search(q) {
      if (db === null) throw new Error('not built');
      // similarity 0: Orama keeps every doc above this cosine and sorts them; it has no top-k without a threshold.
      const res = await orama.search(db, {
        mode: 'vector',
        vector: { value: Array.from(q), property: 'embedding' },
        similarity: 0,
        limit: K,
        includeVectors: false,
      });
      return res.hits.map((h) => String(h.id));
    },
    dispose() {
      db = null;
    },
  };
}

interface VoyModule {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  Voy: new (resource?: { embeddings: { id: string; title: string; url: string; embeddings: number[] }[] }) => {
    search(query: Float32Array, k: number): { neighbors: { id: string }[] };
    free(): void;
  };
}

let voyModule: Promise<VoyModule> | null = null;

/**
 * voy-search ships the wasm-bindgen "bundler" target (`import * as wasm from "./x.wasm"`), which Node cannot
 * import; instantiate its wasm by hand with the glue module as the import object. Once per process: the glue
 * caches views of the first instance's memory, so a second instance would be handed stale views.
 */
function loadVoy(): Promise<VoyModule> {
  voyModule ??= (async () => {
    const pkgDir = dirname(require.resolve('voy-search/package.json'));
    const bg = (await import(pathToFileURL(join(pkgDir, 'voy_search_bg.js')).href)) as VoyModule &
      WebAssembly.ModuleImports;
    const { instance } = await WebAssembly.instantiate(await readFile(join(pkgDir, 'voy_search_bg.wasm')), {
      './voy_search_bg.js': bg,
    });
    bg.__wbg_set_wasm(instance.exports);
    return bg;
  })();
  return voyModule;
}

async function voyPeer(): Promise<Peer> {
  const bg = await loadVoy();
  let index: InstanceType<VoyModule['Voy']> | null = null;
  return {
    name: 'voy-search',
    storage: 'f32 (k-d tree)',
    async build(ids, data) {
      const embeddings = ids.map((id, i) => ({
        id,
        title: id,
        url: id,
        embeddings: Array.from(data.subarray(i * DIM, i * DIM + DIM)),
      }));
      index = new bg.Voy({ embeddings });
    },
    async search(q) {
      if (index === null) throw new Error('not built');
      return index.search(q, K).neighbors.map((n) => n.id);
    },
    dispose() {
      index?.free();
      index = null;
    },
  };
}

interface HnswIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
  addPoints(items: Float32Array[], labels: number[], replaceDeleted: boolean): void;
  setEfSearch(ef: number): void;
  searchKnn(q: Float32Array, k: number, filter: undefined): { neighbors: number[]; distances: number[] };
}
interface HnswLib {
  HierarchicalNSW: new (space: string, dim: number, autoSaveFilename: string) => HnswIndex;
}

const HNSW = { m: 16, efConstruction: 100, efSearch: 200 };

async function hnswPeer(): Promise<Peer> {
  // hnswlib-wasm is built for browsers only (no "main"/"exports" for Node, and its emscripten glue throws
  // "not compiled for this environment" unless `window` exists); a `window` shim lets it run. Its IDBFS
  // mount fails harmlessly (we never persist).
  const g = globalThis as { window?: unknown };
  const hadWindow = 'window' in g;
  if (!hadWindow) g.window = globalThis;
  let lib: HnswLib;
  try {
    const pkgDir = dirname(require.resolve('hnswlib-wasm/package.json'));
    const mod = (await import(pathToFileURL(join(pkgDir, 'dist', 'hnswlib.js')).href)) as {
      loadHnswlib(): Promise<HnswLib>;
    };
    lib = await mod.loadHnswlib();
  } finally {
    if (!hadWindow) delete g.window;
  }
  let index: HnswIndex | null = null;
  let labels: string[] = [];
  return {
    name: 'hnswlib-wasm',
    storage: `f32 (HNSW M=${HNSW.m} efC=${HNSW.efConstruction} ef=${HNSW.efSearch})`,
    async build(ids, data) {
      index = new lib.HierarchicalNSW('cosine', DIM, '');
      index.initIndex(ids.length, HNSW.m, HNSW.efConstruction, 42);
      for (let s = 0; s < ids.length; s += ADD_CHUNK) {
        const e = Math.min(ids.length, s + ADD_CHUNK);
        const items: Float32Array[] = [];
        const lab: number[] = [];
        for (let i = s; i < e; i++) {
          items.push(data.subarray(i * DIM, i * DIM + DIM));
          lab.push(i);
        }
        index.addPoints(items, lab, false);
      }
      index.setEfSearch(HNSW.efSearch);
      labels = ids;
    },
    async search(q) {
      if (index === null) throw new Error('not built');
      return index.searchKnn(q, K, undefined).neighbors.map((l) => labels[l]);
    },
    dispose() {
      index = null;
    },
  };
}

// ---- main ----

interface OurVariant {
  label: string;
  storage: StorageKind;
  rescore: 'f32' | 'dequantized' | 'residual';
  kernel?: 'js';
}

const VARIANTS: OurVariant[] = [
  { label: 'f32', storage: 'f32', rescore: 'f32' },
  { label: 'f32-js-kernel', storage: 'f32', rescore: 'f32', kernel: 'js' },
  { label: 'int8', storage: 'int8', rescore: 'residual' },
  { label: 'int8-compact', storage: 'int8', rescore: 'dequantized' },
  { label: 'int8+f32rescore', storage: 'int8', rescore: 'f32' },
];

function fmt(x: number | null, d = 3): string {
  return x === null ? '—' : x.toFixed(d);
}

function printRow(r: SearchBenchResult): void {
  const ratio =
    r.p50_ms !== null && r.floor_ms !== null && r.floor_ms > 0 ? `${(r.p50_ms / r.floor_ms).toFixed(2)}×` : '—';
  const ratio95 =
    r.p95_ms !== null && r.floor_ms !== null && r.floor_ms > 0 ? `${(r.p95_ms / r.floor_ms).toFixed(2)}×` : '—';
  console.log(
    `${r.impl.padEnd(13)} ${r.storage.padEnd(34)} n=${String(r.n).padStart(8)}  p50 ${fmt(r.p50_ms).padStart(9)} ms  p95 ${fmt(r.p95_ms).padStart(9)} ms  ` +
      `floor ${fmt(r.floor_ms).padStart(8)} ms  p50/floor ${ratio.padStart(7)}  p95/floor ${ratio95.padStart(7)}  recall@10 ${fmt(r.recall_at_10, 4)}  ` +
      `B/vec ${fmt(r.bytes_per_vector, 1)}  build ${fmt(r.build_ms, 0)} ms${r.note ? `  (${r.note})` : ''}`,
  );
}

export async function run(): Promise<void> {
  const results: SearchBenchResult[] = [];
  // HPD_BENCH_PEERS=voy narrows the peers (comma-separated substrings); the default runs all three.
  const peerFilter = process.env.HPD_BENCH_PEERS?.split(',');
  const peerFactories = (
    [
      ['@orama/orama', oramaPeer],
      ['voy-search', voyPeer],
      ['hnswlib-wasm', hnswPeer],
    ] as [string, () => Promise<Peer>][]
  ).filter(([name]) => peerFilter === undefined || peerFilter.some((f) => name.includes(f)));
  console.log(
    `node ${process.version}, dim ${DIM}, k ${K}; floor = fastest of 9 tight passes summing the same bytes (same element type) the scan reads (JS or wasm SIMD, whichever is faster).`,
  );

  for (const n of SIZES) {
    const q = queryCount(n);
    console.log(`\n-- N = ${n}, ${q} queries --`);
    const data = unitVectors(n, 1000 + n);
    const queries = unitVectors(q, 7);
    const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
    let truth: string[][] = [];

    for (const v of VARIANTS) {
      gc();
      const before = heapBytes();
      const t0 = performance.now();
      let index: CosineIndex | null = new CosineIndex({
        dim: DIM,
        storage: v.storage,
        rescore: v.rescore,
        ...(v.kernel ? { kernel: v.kernel } : {}),
      });
      // Batches like a real ingest; growth is geometric, so this also measures regrowth.
      addInChunks(index, ids, data, DIM, ADD_CHUNK);
      const buildMs = performance.now() - t0;
      gc();
      // Payload bytes scale with capacity, so report used rows' storage plus the measured per-id bookkeeping.
      // f32 rows in the wasm kernel keep an int8 shadow (codes + scale) beside them.
      const payload =
        v.storage === 'f32'
          ? DIM * 4 + (v.kernel === 'js' ? 0 : DIM + 4)
          : DIM + 4 + (v.rescore === 'f32' ? DIM * 4 : v.rescore === 'residual' ? DIM : 0);
      const bookkeeping = (heapBytes() - before - index.stats().bytes) / n;
      const idx = index;
      const timed = await timeQueries(queries, q, (x) => idx.search(x, K).map((h) => h.id));
      if (v.label === 'f32') truth = timed.results;
      const floor = floorMs(v.storage, data, n);
      const r: SearchBenchResult = {
        impl: 'hpd-embed',
        storage: v.label,
        n,
        dim: DIM,
        k: K,
        p50_ms: round(timed.p50),
        p95_ms: round(timed.p95),
        floor_ms: round(floor),
        recall_at_10: round(recall(truth, timed.results)),
        bytes_per_vector: round(payload + Math.max(0, bookkeeping), 1),
        build_ms: round(buildMs, 1),
      };
      results.push(r);
      printRow(r);
      index = null;
    }

    if (PEER_SIZES.has(n)) {
      const floorF32 = floorMs('f32', data, n);
      for (const [name, make] of peerFactories) {
        let peer: Peer | null = null;
        try {
          gc();
          const before = heapBytes();
          peer = await make();
          const t0 = performance.now();
          await peer.build(ids, data);
          const buildMs = performance.now() - t0;
          gc();
          const bpv = (heapBytes() - before) / n;
          const p = peer;
          const timed = await timeQueries(queries, q, (x) => p.search(x));
          const r: SearchBenchResult = {
            impl: name,
            storage: peer.storage,
            n,
            dim: DIM,
            k: K,
            p50_ms: round(timed.p50),
            p95_ms: round(timed.p95),
            floor_ms: round(floorF32),
            recall_at_10: round(recall(truth, timed.results)),
            bytes_per_vector: bpv > 0 ? round(bpv, 1) : null,
            build_ms: round(buildMs, 1),
            note:
              name === 'hnswlib-wasm'
                ? 'needs a globalThis.window shim to load in Node; bytes_per_vector excludes wasm memory if not counted by Node'
                : undefined,
          };
          results.push(r);
          printRow(r);
        } catch (e) {
          const raw = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          // Some wasm peers echo their whole input in the message; keep its head and tail.
          const msg = raw.length > 400 ? `${raw.slice(0, 120)} … ${raw.slice(-240)}` : raw;
          const r: SearchBenchResult = {
            impl: name,
            storage: 'f32',
            n,
            dim: DIM,
            k: K,
            p50_ms: null,
            p95_ms: null,
            floor_ms: round(floorF32),
            recall_at_10: null,
            bytes_per_vector: null,
            build_ms: null,
            note: `failed in Node: ${msg}`,
          };
          results.push(r);
          printRow(r);
        } finally {
          peer?.dispose();
        }
      }
    }
  }

  const out = join(here, 'results', 'search.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${out}${sink === 0.5 ? '' : ''}`);
}
