import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { KernelMemory } from '../../src/search/kernel-memory.js';
import { F32Rows, Int8Rows } from '../../src/search/row-store.js';
import type { Int8Rescore, StorageKind } from '../../src/search/types.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const D = 32;

/** The index's private row store and scanner (the fallback is internal; these tests reach in on purpose). */
interface Internals {
  rows: { kernel: KernelMemory | null; capacity: number };
  scanner: { kernel: KernelMemory | null };
}
const internals = (idx: CosineIndex): Internals => idx as unknown as Internals;

/** Each of the first `count` rows' shadow is its quantisation (simd-kernel.wat shade_rows), within the store's bounds. */
function expectShadowOf(rows: F32Rows, count: number): void {
  const codes = rows.shadow as Int8Array;
  const scales = rows.shadowScales as Float32Array;
  for (let r = 0; r < count; r++) {
    const row = rows.data.subarray(r * D, r * D + D);
    const s = scales[r];
    expect(s).toBe(Math.fround(row.reduce((a, x) => Math.max(a, Math.abs(x)), 0) / 127));
    expect(s).toBeLessThanOrEqual(rows.maxScale);
    expect(row.reduce((a, x) => a + Math.abs(x), 0)).toBeLessThanOrEqual(rows.maxL1);
    for (let j = 0; j < D; j++)
      expect(Math.abs(row[j] - s * codes[r * D + j])).toBeLessThanOrEqual(s * (0.5 + 2 ** -16));
  }
}

describe('row stores', () => {
  it.each([null, 'kernel'] as const)(
    'F32Rows (%s): growth keeps rows, move copies a row, read returns a copy',
    (where) => {
      const rows = new F32Rows(D, where === null ? null : KernelMemory.create('f32', D, false));
      rows.grow(0, 0);
      expect(rows.capacity).toBe(16);
      const flat = randomVectors(seededRandom(1), 40, D);
      rows.grow(40, 0);
      const enc = rows.encode(flat);
      for (let i = 0; i < 40; i++) rows.write(i, enc, i);
      rows.grow(41, 40);
      expect(rows.capacity).toBeGreaterThanOrEqual(80);
      expect(Array.from(rows.data.subarray(0, 40 * D))).toEqual(Array.from(flat));
      rows.move(39, 3);
      const r3 = rows.read(3);
      expect(Array.from(r3)).toEqual(Array.from(flat.subarray(39 * D, 40 * D)));
      r3[0] = 42;
      expect(rows.read(3)[0]).not.toBe(42);
      expect(rows.arrays().f32).toBe(rows.data);
      // The int8 shadow the wasm scans read follows every row through growth and moves.
      expect(rows.shadow !== null).toBe(where !== null);
      if (rows.shadow !== null) {
        rows.grow(1000, 40); // more than doubling: the shadow moves past its old end
        expectShadowOf(rows, 40);
        rows.move(0, 39);
        expectShadowOf(rows, 40);
      }
    },
  );

  it.each(['residual', 'dequantized', 'f32'] as const)(
    'Int8Rows (%s): growth keeps codes, scales and rescore rows; move moves all of them',
    (rescore: Int8Rescore) => {
      const rows = new Int8Rows(D, rescore, KernelMemory.create('i8', D, false));
      rows.grow(0, 0);
      const flat = randomVectors(seededRandom(2), 20, D);
      const enc = rows.encode(flat, 20);
      rows.grow(20, 0);
      for (let i = 0; i < 20; i++) rows.write(i, enc, i);
      const before = Array.from({ length: 20 }, (_, i) => Array.from(rows.read(i)));
      rows.grow(500, 20);
      expect(Array.from({ length: 20 }, (_, i) => Array.from(rows.read(i)))).toEqual(before);
      rows.move(19, 0);
      expect(Array.from(rows.read(0))).toEqual(before[19]);
      expect(rows.res !== null).toBe(rescore === 'residual');
      expect(rows.exact !== null).toBe(rescore === 'f32');
    },
  );
});

describe('wasm memory limit', () => {
  const cases: [StorageKind, Int8Rescore][] = [
    ['f32', 'f32'],
    ['int8', 'residual'],
    ['int8', 'dequantized'],
    ['int8', 'f32'],
  ];
  it.each(cases)(
    '%s/%s: when the kernel memory cannot grow, rows move to JS memory, the scan switches to JS once, and results stay exact',
    (storage, rescore) => {
      const rand = seededRandom(9);
      const auto = new CosineIndex({ dim: D, storage, rescore });
      const js = new CosineIndex({ dim: D, storage, rescore, kernel: 'js' });
      const kernel = internals(auto).rows.kernel;
      expect(kernel).not.toBeNull();
      expect(internals(auto).scanner.kernel).toBe(kernel);
      const first = randomVectors(rand, 100, D);
      const ids = Array.from({ length: 2100 }, (_, i) => `r${i}`);
      auto.addVectors(ids.slice(0, 100), first);
      js.addVectors(ids.slice(0, 100), first);
      // Stand in for the 4 GiB limit: this memory refuses to grow from now on.
      (kernel as KernelMemory).scan.memory.grow = (): number => {
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      };
      const rest = randomVectors(rand, 2000, D);
      auto.addVectors(ids.slice(100), rest);
      js.addVectors(ids.slice(100), rest);
      expect(internals(auto).rows.kernel).toBeNull();
      expect(internals(auto).scanner.kernel).toBeNull();
      auto.remove(ids.slice(50, 150));
      js.remove(ids.slice(50, 150));
      const queries = randomVectors(rand, 20, D);
      for (let i = 0; i < 20; i++)
        expect(auto.search(queries.subarray(i * D, i * D + D), 7)).toEqual(
          js.search(queries.subarray(i * D, i * D + D), 7),
        );
      expect(auto.searchMany(queries, 7)).toEqual(js.searchMany(queries, 7));
      expect(auto.get('r0')).toEqual(js.get('r0'));
      expect(new Uint8Array(auto.serialize())).toEqual(new Uint8Array(js.serialize()));
    },
  );
});
