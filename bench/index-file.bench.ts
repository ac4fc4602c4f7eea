// Prebuilt index files (issue 18): CosineIndex.import of an index file against a plain copy of the same bytes (the
// baseline, measured in the same run), at 10k / 100k / 1M vectors, f32 and int8; and the bytes a site ships per 1k
// passages (vectors + ids + small metadata, and with passage texts). Writes bench/results/index-file.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportBenchRow } from '../test/browser/pages/search-kernels/main.js';
import { addInChunks, median } from './timing.js';

const DIM = 128;
const SIZES = (process.env.HPD_BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const ROUNDS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const MODEL = { name: 'bench', dim: DIM, dtype: 'fp32', sha256: '0'.repeat(64) };

export interface ShippedResult {
  storage: string;
  /** Bytes per 1k passages with ids and { doc, title, start, end } metadata. */
  bytes_per_1k: number;
  /** The same with each passage's text (~600 B) in the metadata. */
  bytes_per_1k_with_text: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export async function run(): Promise<void> {
  const { CosineIndex } = await import('../src/search/index.js');
  const { unitVectors } = await import('./search.bench.js');
  const imports: ImportBenchRow[] = [];
  for (const n of SIZES) {
    const data = unitVectors(n, 4242 + n);
    const ids = Array.from({ length: n }, (_, i) => `guide/page-${Math.floor(i / 8)}.md#${i % 8}`);
    for (const storage of ['int8', 'f32'] as const) {
      const index = new CosineIndex({ dim: DIM, storage });
      addInChunks(index, ids, data, DIM, 10_000);
      const file = new Uint8Array(index.export(MODEL));
      const imp: number[] = [];
      const copy: number[] = [];
      for (let r = 0; r <= ROUNDS; r++) {
        let t = performance.now();
        const c = file.slice();
        if (r > 0) copy.push(performance.now() - t);
        t = performance.now();
        const back = CosineIndex.import(c, { model: MODEL });
        if (r > 0) imp.push(performance.now() - t);
        if (back.size !== n) throw new Error('import lost rows');
      }
      const row: ImportBenchRow = {
        storage,
        n,
        bytes: file.byteLength,
        import_p50_ms: r2(median(imp)),
        copy_p50_ms: r2(median(copy)),
        import_over_copy: r2(median(imp) / median(copy)),
      };
      imports.push(row);
      console.log(
        `${storage} ${n}: ${(row.bytes / 1048576).toFixed(1)} MiB, import ${row.import_p50_ms} ms, copy ${row.copy_p50_ms} ms, ratio ${row.import_over_copy}`,
      );
    }
  }

  const shipped: ShippedResult[] = [];
  const n = 1000;
  const data = unitVectors(n, 99);
  const ids = Array.from({ length: n }, (_, i) => `guide/page-${Math.floor(i / 8)}.md#${i % 8}`);
  const text = 'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(11).slice(0, 600);
  for (const storage of ['f32', 'int8'] as const) {
    const size = (withText: boolean) => {
      const index = new CosineIndex({ dim: DIM, storage });
      const meta = ids.map((id, i) => ({
        doc: id.split('#')[0],
        title: `Page ${Math.floor(i / 8)}`,
        start: (i % 8) * 600,
        end: (i % 8) * 600 + 600,
        ...(withText ? { text } : {}),
      }));
      index.addVectors(ids, data, meta);
      return index.export(MODEL).byteLength;
    };
    shipped.push({ storage, bytes_per_1k: size(false), bytes_per_1k_with_text: size(true) });
  }
  console.table(shipped);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(
    join(here, 'results', 'index-file.json'),
    `${JSON.stringify({ node: process.version, dim: DIM, imports, shipped }, null, 2)}\n`,
  );
}
