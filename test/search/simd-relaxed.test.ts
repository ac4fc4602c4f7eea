// Relaxed-SIMD int8 kernels. Node 20 has relaxed SIMD behind --experimental-wasm-relaxed-simd (on by default from
// Node 22, and in Chromium): the flag is set here before any wasm is compiled (each test file runs in its own process).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
const { createSimdScan, hasRelaxedSimd, writeInt8Query } = await import('../../src/search/simd.js');
const { CosineIndex } = await import('../../src/search/cosine-index.js');

const D = 128;
const relaxed = hasRelaxedSimd();
if (!relaxed)
  console.warn(
    `skipping relaxed-SIMD kernel tests in Node: node ${process.version} has no working relaxed SIMD (test/browser/search-kernels.test.ts runs them in Chromium)`,
  );

describe('relaxed-SIMD detection', () => {
  it('an engine whose relaxed dot fails the self-check (Node 20 with the flag) keeps the SIMD128 kernel and exact results', () => {
    const idx = new CosineIndex({ dim: D, storage: 'int8' });
    const js = new CosineIndex({ dim: D, storage: 'int8', kernel: 'js' });
    expect((idx as unknown as { scanner: { kernel: { int8Kind: string } } }).scanner.kernel.int8Kind).toBe(
      relaxed ? 'relaxed' : 'simd',
    );
    const flat = randomVectors(seededRandom(2), 3000, D);
    const ids = Array.from({ length: 3000 }, (_, i) => `v${i}`);
    idx.addVectors(ids, flat);
    js.addVectors(ids, flat);
    const qs = randomVectors(seededRandom(3), 9, D);
    expect(idx.searchMany(qs, 10)).toEqual(js.searchMany(qs, 10));
  });
});

describe.skipIf(!relaxed)('relaxed-SIMD int8 scan', () => {
  it('is detected, and its kernels give exact integer dots (extreme codes included) for one query and for 4-query groups', () => {
    const scan = createSimdScan()!;
    expect(scan.relaxed).not.toBeNull();
    expect(createSimdScan({ relaxed: false })!.relaxed).toBeNull();
    const n = 64;
    const ng = 2;
    scan.memory.grow(2);
    const buf = scan.memory.buffer;
    const rowsOff = 65536;
    const rand = seededRandom(21);
    const rows = new Int8Array(buf, rowsOff, n * D);
    for (let i = 0; i < rows.length; i++) rows[i] = Math.round(rand() * 254) - 127;
    rows.fill(127, 0, D);
    rows.fill(-127, D, 2 * D);
    const queries = new Int8Array(ng * 4 * D);
    for (let i = 0; i < queries.length; i++) queries[i] = Math.round(rand() * 254) - 127;
    queries.fill(-127, 0, D);
    queries.fill(127, D, 2 * D);
    const dot = (r: number, qi: number): number => {
      let s = 0;
      for (let j = 0; j < D; j++) s += rows[r * D + j] * queries[qi * D + j];
      return s;
    };
    for (let i = 0; i < ng * 4; i++) writeInt8Query(buf, i * 2 * D, queries, i * D, D, 'relaxed', true);
    scan.relaxed!.dotRowsI8x4(0, ng, rowsOff, D, n, 32768);
    const many = new Int32Array(buf, 32768, n * ng * 4);
    for (let r = 0; r < n; r++) for (let i = 0; i < ng * 4; i++) expect(many[r * ng * 4 + i]).toBe(dot(r, i));
    for (let i = 0; i < 3; i++) {
      writeInt8Query(buf, 0, queries, i * D, D, 'relaxed', false);
      scan.relaxed!.dotRowsI8(0, rowsOff, D, n, 32768);
      const one = new Int32Array(buf, 32768, n);
      for (let r = 0; r < n; r++) expect(one[r]).toBe(dot(r, i));
    }
  });

  it.each(['residual', 'dequantized', 'f32'] as const)(
    'int8/%s: the index on relaxed SIMD returns exactly the JS kernel results (search and searchMany)',
    (rescore) => {
      const rand = seededRandom(5);
      const fast = new CosineIndex({ dim: D, storage: 'int8', rescore });
      const simd = new CosineIndex({ dim: D, storage: 'int8', rescore, kernel: 'simd' });
      const js = new CosineIndex({ dim: D, storage: 'int8', rescore, kernel: 'js' });
      expect((fast as unknown as { scanner: { kernel: { int8Kind: string } } }).scanner.kernel.int8Kind).toBe(
        'relaxed',
      );
      expect((simd as unknown as { scanner: { kernel: { int8Kind: string } } }).scanner.kernel.int8Kind).toBe('simd');
      const n = 12_000;
      const flat = randomVectors(rand, n, D);
      const ids = Array.from({ length: n }, (_, i) => `v${i}`);
      const dup = flat.slice(0, D);
      for (const idx of [fast, simd, js]) {
        idx.addVectors(ids, flat);
        idx.addVectors(['dup-a', 'dup-b'], [dup, dup]);
        idx.remove(ids.slice(10, 90));
      }
      const queries = [flat.subarray(0, D), ...Array.from({ length: 20 }, () => randomVectors(rand, 1, D))];
      const opts = { filter: (id: string) => id.length % 2 === 0, minScore: 0.05 };
      for (const k of [1, 10, 57]) {
        const want = queries.map((q) => js.search(q, k));
        expect(queries.map((q) => fast.search(q, k))).toEqual(want);
        expect(fast.searchMany(queries, k)).toEqual(want);
        expect(simd.searchMany(queries, k)).toEqual(want);
        expect(fast.searchMany(queries, k, opts)).toEqual(queries.map((q) => js.search(q, k, opts)));
      }
    },
  );
});
