import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { createSimdScan } from '../../src/search/simd.js';
import { SIMD_KERNEL_BASE64 } from '../../src/search/simd-kernel-bytes.js';
import { SIMD_RELAXED_KERNEL_BASE64 } from '../../src/search/simd-relaxed-kernel-bytes.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const D = 128;

describe('wasm SIMD f32 scan', () => {
  it('is available in Node, and the committed bytes are the compiled simd-kernel.wat and simd-relaxed-kernel.wat', async () => {
    expect(createSimdScan()).not.toBeNull();
    const { compileKernel } = await import('../../scripts/build-wasm.js');
    expect(Buffer.from(await compileKernel('simd-kernel.wat')).toString('base64')).toBe(SIMD_KERNEL_BASE64);
    expect(Buffer.from(await compileKernel('simd-relaxed-kernel.wat')).toString('base64')).toBe(
      SIMD_RELAXED_KERNEL_BASE64,
    );
  });

  it('dot_rows_i8_x4 (i16-widened queries) gives exact integer dots for 4-query groups', () => {
    const scan = createSimdScan({ relaxed: false })!;
    const n = 50;
    const ng = 3;
    scan.memory.grow(2);
    const rand = seededRandom(12);
    const qOff = 0;
    const rowsOff = 65536;
    const outOff = 32768;
    const q16 = new Int16Array(scan.memory.buffer, qOff, ng * 4 * D);
    const rows = new Int8Array(scan.memory.buffer, rowsOff, n * D);
    for (let i = 0; i < q16.length; i++) q16[i] = Math.round(rand() * 254) - 127;
    for (let i = 0; i < rows.length; i++) rows[i] = Math.round(rand() * 254) - 127;
    rows.fill(-127, 0, D);
    q16.fill(-127, 0, D);
    scan.dotRowsI8x4(qOff, ng, rowsOff, D, n, outOff);
    const out = new Int32Array(scan.memory.buffer, outOff, n * ng * 4);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < ng * 4; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += rows[r * D + j] * q16[i * D + j];
        expect(out[r * ng * 4 + i]).toBe(s);
      }
    }
  });

  it('dot_rows_i8 and sum_i8 are exact integer sums', () => {
    const scan = createSimdScan()!;
    const n = 100;
    scan.memory.grow(1);
    const q = new Int8Array(scan.memory.buffer, 0, D);
    const rows = new Int8Array(scan.memory.buffer, D + n * 4, n * D);
    const rand = seededRandom(6);
    for (let j = 0; j < D; j++) q[j] = Math.round(rand() * 254) - 127;
    for (let i = 0; i < rows.length; i++) rows[i] = Math.round(rand() * 254) - 127;
    rows.fill(127, 0, D);
    q.fill(127); // the extreme case: 128 × 127² must not overflow the i16 lanes
    scan.dotRowsI8(0, D + n * 4, D, n, D);
    const out = new Int32Array(scan.memory.buffer, D, n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += rows[r * D + j] * q[j];
      expect(out[r]).toBe(s);
      for (let j = 0; j < D; j++) total += rows[r * D + j];
    }
    expect(scan.sumI8(D + n * 4, n * D)).toBe(total);
  });

  it('sum_f32 agrees with the float64 sum to f32 rounding', () => {
    const scan = createSimdScan()!;
    const n = 300;
    scan.memory.grow(Math.ceil((n * D * 4) / 65536));
    const rows = new Float32Array(scan.memory.buffer, 0, n * D);
    const rand = seededRandom(5);
    for (let i = 0; i < rows.length; i++) rows[i] = rand() - 0.5;
    let total = 0;
    for (let i = 0; i < rows.length; i++) total += rows[i];
    expect(Math.abs(scan.sumF32(0, n * D) - total)).toBeLessThan(1e-2);
  });

  it.each([
    ['f32', undefined],
    ['int8', 'residual'],
    ['int8', 'dequantized'],
    ['int8', 'f32'],
  ] as const)(
    "%s (rescore %s): exactly the JS kernel's results (ids and scores) through growth, removal, upserts, filters and a round trip",
    (storage, rescore) => {
      const rand = seededRandom(77);
      const opts = { dim: D, storage, ...(rescore ? { rescore } : {}) };
      const simd = new CosineIndex<{ even: boolean }>(opts);
      const js = new CosineIndex<{ even: boolean }>({ ...opts, kernel: 'js' });
      const n = 20_000;
      const flat = randomVectors(rand, n, D);
      const ids = Array.from({ length: n }, (_, i) => `v${i}`);
      const meta = ids.map((_, i) => ({ even: i % 2 === 0 }));
      for (let s = 0; s < n; s += 2500) {
        simd.addVectors(ids.slice(s, s + 2500), flat.subarray(s * D, (s + 2500) * D), meta.slice(s, s + 2500));
        js.addVectors(ids.slice(s, s + 2500), flat.subarray(s * D, (s + 2500) * D), meta.slice(s, s + 2500));
      }
      // Near-duplicates and exact duplicates stress the candidate slack and the id tie-break.
      const dup = flat.slice(0, D);
      for (const idx of [simd, js]) {
        idx.addVectors(['dup-a', 'dup-b'], [dup, dup]);
        idx.remove(ids.slice(100, 400));
        idx.upsertVectors(['v5', 'v6'], randomVectors(seededRandom(9), 2, D));
      }
      const queries = [flat.subarray(0, D), ...Array.from({ length: 20 }, () => randomVectors(rand, 1, D))];
      const check = (a: CosineIndex<{ even: boolean }>, b: CosineIndex<{ even: boolean }>) => {
        for (const q of queries) {
          for (const k of [1, 10, 57]) expect(a.search(q, k)).toEqual(b.search(q, k));
          const opts = { filter: (_: string, m: { even: boolean } | undefined) => m?.even === true, minScore: 0.1 };
          expect(a.search(q, 10, opts)).toEqual(b.search(q, 10, opts));
        }
      };
      check(simd, js);
      const back = CosineIndex.deserialize<{ even: boolean }>(simd.serialize());
      check(back, js);
      expect(Buffer.from(back.serialize()).equals(Buffer.from(js.serialize()))).toBe(true);
    },
  );
});
