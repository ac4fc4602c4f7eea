import { describe, expect, it } from 'vitest';
import { CosineIndex, type CosineIndexOptions } from '../../src/search/cosine-index.js';
import { dotRowF32 } from '../../src/search/kernels.js';
import { I32_MAX, I32_MIN, minDot, shadowBar } from '../../src/search/pick-bounds.js';
import { KernelMemory } from '../../src/search/kernel-memory.js';
import { quantizeRow } from '../../src/search/quantize.js';
import { F32Rows } from '../../src/search/row-store.js';
import { createSimdScan, writeInt8Many, writeInt8Query } from '../../src/search/simd.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const D = 128;
const f32 = Math.fround;
/** Float32 scales from the smallest subnormal to the largest a row can have, and the unit-row maximum 1/127. */
const SCALES = [2 ** -149, 2 ** -126, 1e-30, f32(1 / 127), f32(0.3 / 127), 1, f32(3.4e38 / 127)];

/** The next double above / below x (finite, positive). */
const up = (x: number): number => x + Math.max(Number.MIN_VALUE, Math.abs(x) * 2 ** -53);
const down = (x: number): number => x - Math.max(Number.MIN_VALUE, Math.abs(x) * 2 ** -53);

/** The selection's test for a row with integer dot d and scale sc against bar. */
const reaches = (d: number, sc: number, bar: number): boolean => d * sc >= bar;

describe('minDot: the least integer dot that can reach a bar', () => {
  it('keeps every row for bars <= 0 or NaN', () => {
    for (const bar of [-Infinity, -1, -0, 0, NaN]) expect(minDot(bar, f32(1 / 127))).toBe(I32_MIN);
  });

  it('never drops a row whose score reaches the bar: rows exactly at the bound, just above and below it, any scale <= maxScale', () => {
    const rand = seededRandom(3);
    for (const maxScale of SCALES) {
      for (let t = 0; t < 300; t++) {
        // A bar that is exactly some row's score (d0 × a scale <= maxScale), or a hair either side of it.
        const d0 = 1 + Math.floor(rand() * 127 * 127 * D);
        const sc = t % 3 === 0 ? maxScale : f32(maxScale * rand());
        const exact = d0 * sc;
        if (!(exact > 0) || !Number.isFinite(exact)) continue;
        for (const bar of [exact, up(exact), down(exact)]) {
          const m = minDot(bar, maxScale);
          expect(m).toBeGreaterThanOrEqual(1);
          // Everything the kernel drops (d < m) fails the selection's test at every scale <= maxScale.
          for (let d = Math.max(1, m - 3); d < m; d++) {
            expect(reaches(d, maxScale, bar)).toBe(false);
            expect(reaches(d, sc, bar)).toBe(false);
          }
          // The row that defined the bar is kept when it reaches it.
          if (reaches(d0, sc, bar)) expect(d0).toBeGreaterThanOrEqual(m);
          // Tight: the bound is the least such dot (or 1, or beyond every dot a row can have).
          if (m > 1 && m < I32_MAX) expect(reaches(m, maxScale, bar)).toBe(true);
        }
      }
    }
  });

  it('handles extreme bars and scales: subnormal, zero and huge', () => {
    expect(minDot(1, 0)).toBe(I32_MAX); // no row reaches a positive bar at scale 0
    expect(minDot(Number.MIN_VALUE, 1)).toBe(1);
    expect(minDot(1e300, 2 ** -149)).toBe(I32_MAX);
    expect(minDot(2 ** -149, 2 ** -149)).toBe(1);
    expect(minDot(3 * 2 ** -149, 2 ** -149)).toBe(3);
    expect(minDot(f32(1 / 127) * 16129, f32(1 / 127))).toBe(16129);
  });
});

describe('shadowBar: the int8 shadow bar for f32 rows', () => {
  /** `n` random unit rows (as the index stores them). */
  function unitRows(rand: () => number, n: number): Float32Array {
    const flat = randomVectors(rand, n, D);
    for (let r = 0; r < n; r++) {
      const row = flat.subarray(r * D, r * D + D);
      const norm = Math.sqrt(row.reduce((a, x) => a + x * x, 0));
      for (let j = 0; j < D; j++) row[j] /= norm;
    }
    return flat;
  }

  /** Unit rows whose rounding errors all push the shadow score one way against `q`: the bound's worst case. */
  function worstRows(q: Float64Array, n: number, rand: () => number): Float32Array {
    const flat = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const row = flat.subarray(r * D, r * D + D);
      const sign = r % 2 === 0 ? 1 : -1;
      // Values just under a half step off a code, signed with the query; one large value fixes the scale.
      const step = 0.05 + 0.2 * rand();
      for (let j = 0; j < D; j++) row[j] = Math.sign(q[j] || 1) * sign * step * (Math.floor(rand() * 4) + 0.4999);
      row[r % D] = 127 * step;
      let norm = 0;
      for (let j = 0; j < D; j++) norm += row[j] * row[j];
      for (let j = 0; j < D; j++) row[j] /= Math.sqrt(norm);
    }
    return flat;
  }

  /** The rows in an f32 store with a kernel: the shadow the scans read (shade_rows), and its bounds. */
  function shadowOf(rows: Float32Array, n: number): F32Rows {
    const store = new F32Rows(D, KernelMemory.create('f32', D, false));
    store.grow(n, 0);
    const enc = store.encode(rows);
    for (let r = 0; r < n; r++) store.write(r, enc, r);
    return store;
  }

  /** The query's int8 form as the scans load it. */
  function queryOf(q: Float64Array): { qc: Int8Array; qScale: number; qL1: number } {
    const qc = new Int8Array(D);
    const qScale = quantizeRow(q, 0, D, qc, 0);
    return { qc, qScale, qL1: qc.reduce((a, c) => a + Math.abs(c), 0) };
  }

  it('keeps every row whose exact score reaches the bar: bars at each row score, on random and worst-case rows', () => {
    const rand = seededRandom(11);
    const n = 400;
    let used = 0;
    for (let t = 0; t < 20; t++) {
      const q = Float64Array.from(unitRows(rand, 1));
      const rows = t % 2 === 0 ? unitRows(rand, n) : worstRows(q, n, rand);
      const store = shadowOf(rows, n);
      const codes = store.shadow!;
      const scales = store.shadowScales!;
      expect(store.kernel).not.toBeNull();
      const { qc, qScale, qL1 } = queryOf(q);
      const delta = shadowBar(0, qScale, qL1, store.maxScale, store.maxL1) * -qScale;
      for (let r = 0; r < n; r++) {
        let dot = 0;
        for (let j = 0; j < D; j++) dot += codes[r * D + j] * qc[j];
        const exact = dotRowF32(rows, r * D, q, D);
        // The kernel's test, f64(dot) × f64(scale) >= bar', must hold for the row's own exact score as the bar.
        const bar = shadowBar(exact, qScale, qL1, store.maxScale, store.maxL1);
        expect(dot * scales[r] >= bar).toBe(true);
        used = Math.max(used, (exact - qScale * scales[r] * dot) / delta);
      }
      expect(shadowBar(-Infinity, qScale, qL1, store.maxScale, store.maxL1)).toBe(-Infinity);
    }
    // Not loose: the worst-case rows use most of the bound (0.95 when measured).
    expect(used).toBeGreaterThan(0.8);
    expect(used).toBeLessThanOrEqual(1);
  });

  it('lowers the bar by a few hundredths of a cosine on random unit rows, so the pass reads few rows twice', () => {
    const rand = seededRandom(12);
    const n = 2000;
    const store = shadowOf(unitRows(rand, n), n);
    const { qScale, qL1 } = queryOf(Float64Array.from(unitRows(rand, 1)));
    const lowered = 0.4 - shadowBar(0.4, qScale, qL1, store.maxScale, store.maxL1) * qScale;
    expect(lowered).toBeGreaterThan(0);
    expect(lowered).toBeLessThan(0.05);
  });

  it('shade_rows: scale max|x| / 127, codes within half a step and a hair, the largest L1 norm', () => {
    const rand = seededRandom(13);
    const n = 300;
    const rows = unitRows(rand, n);
    rows.fill(0, 0, D);
    rows[5] = -1; // a one-hot row: codes 0 and -127
    const store = shadowOf(rows, n);
    const codes = store.shadow!;
    const scales = store.shadowScales!;
    let maxL1 = 0;
    for (let r = 0; r < n; r++) {
      const row = rows.subarray(r * D, r * D + D);
      const maxAbs = row.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      expect(scales[r]).toBe(Math.fround(maxAbs / 127));
      for (let j = 0; j < D; j++) {
        expect(Math.abs(codes[r * D + j])).toBeLessThanOrEqual(127);
        expect(Math.abs(row[j] - scales[r] * codes[r * D + j])).toBeLessThanOrEqual(scales[r] * (0.5 + 2 ** -16));
      }
      maxL1 = Math.max(
        maxL1,
        row.reduce((a, x) => a + Math.abs(x), 0),
      );
    }
    expect(codes[5]).toBe(-127);
    expect(store.maxL1).toBeGreaterThanOrEqual(maxL1);
    expect(store.maxL1).toBeLessThan(maxL1 * 1.01);
    expect(store.maxScale).toBe(scales.subarray(0, n).reduce((a, x) => Math.max(a, x), 0));
  });
});

describe('pick_* kernels: the dot kernels, compacted to scores at or above a minimum', () => {
  const scan = createSimdScan({ relaxed: false })!;
  scan.memory.grow(4);
  const buf = scan.memory.buffer;
  const n = 200;
  const rowsOff = 131072;
  const out = 65536;
  const idx = 98304;
  const mins = 130000;
  const rand = seededRandom(8);
  const rows = new Int8Array(buf, rowsOff, n * D);
  for (let i = 0; i < rows.length; i++) rows[i] = Math.round(rand() * 254) - 127;
  rows.fill(127, 0, D);
  rows.fill(-127, D, 2 * D);
  rows.copyWithin(3 * D, 2 * D, 3 * D); // two equal rows: equal dots
  const codes = new Int8Array(16 * D);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.round(rand() * 254) - 127;
  codes.fill(127, 0, D);
  const dot = (r: number, i: number): number => {
    let s = 0;
    for (let j = 0; j < D; j++) s += rows[r * D + j] * codes[i * D + j];
    return s;
  };

  it('pick_rows_i8 keeps exactly the rows with dot × scale >= bar (the JS product), in order, ties and the row at the bar included', () => {
    writeInt8Query(buf, 0, codes, 0, D, 'simd', true);
    const scalesOff = 200000;
    const scales = new Float32Array(buf, scalesOff, n);
    for (let r = 0; r < n; r++) scales[r] = Math.fround(1e-4 + rand() * 0.01);
    scales[3] = scales[2]; // rows 2 and 3 have equal codes: equal scores
    const all = Array.from({ length: n }, (_, r) => dot(r, 0) * scales[r]);
    const sorted = [...all].sort((a, b) => a - b);
    const above = (x: number): number => x + Math.max(Math.abs(x) * 2 ** -52, Number.MIN_VALUE); // the next double up (x != 0)
    // Every count mod 4: the kernel takes rows in blocks of 4, then the rest one at a time.
    for (const [rowsN, bar] of [n, n - 1, n - 2, n - 3, 3].flatMap((m) =>
      [
        -Infinity,
        Infinity,
        sorted[0],
        sorted[100],
        above(sorted[100]),
        sorted[n - 1],
        above(sorted[n - 1]),
        all[2],
        all[m - 1],
        above(all[m - 1]),
        0,
        -1,
      ].map((v) => [m, v] as const),
    )) {
      const c = scan.pickRowsI8(0, rowsOff, D, rowsN, out, bar, idx, scalesOff);
      const want = all
        .slice(0, rowsN)
        .map((s, r) => [r, dot(r, 0), s] as const)
        .filter(([, , s]) => s >= bar)
        .map(([r, d]) => [r, d]);
      expect(c).toBe(want.length);
      const o = new Int32Array(buf, out, c);
      const ix = new Int32Array(buf, idx, c);
      expect(Array.from({ length: c }, (_, k) => [ix[k], o[k]])).toEqual(want);
    }
  });

  it('pick_rows_i8_x4 keeps the (row, group) pairs where any query reaches its minimum', () => {
    const ng = 4;
    writeInt8Many(buf, 0, codes, 16, D, 'simd');
    const m32 = new Int32Array(buf, mins, 16);
    for (let t = 0; t < 6; t++) {
      for (let i = 0; i < 16; i++) m32[i] = t === 0 ? I32_MIN : t === 1 ? I32_MAX : dot(Math.floor(rand() * n), i);
      const c = scan.pickRowsI8x4(0, ng, rowsOff, D, n, out, mins, idx);
      const want: number[][] = [];
      for (let r = 0; r < n; r++)
        for (let g = 0; g < ng; g++) {
          const ds = [0, 1, 2, 3].map((k) => dot(r, 4 * g + k));
          if (ds.some((d, k) => d >= m32[4 * g + k])) want.push([r * 4 + g, ...ds]);
        }
      expect(c).toBe(want.length);
      const o = new Int32Array(buf, out, 4 * c);
      const ix = new Int32Array(buf, idx, c);
      expect(Array.from({ length: c }, (_, k) => [ix[k], o[4 * k], o[4 * k + 1], o[4 * k + 2], o[4 * k + 3]])).toEqual(
        want,
      );
    }
  });
});

/**
 * Rows that put the bar on the bound: one-hot rows (scale 1/127, the largest a unit row has) beside spread rows (every
 * |x| equal: the smallest scale), runs of identical rows (exact ties at the bar), and rows scoring exactly 0 or below.
 */
function adversarial(rand: () => number, n: number): Float32Array {
  const flat = randomVectors(rand, n, D);
  for (let r = 0; r < n; r++) {
    const kind = r % 7;
    const row = flat.subarray(r * D, r * D + D);
    if (kind === 0) {
      row.fill(0);
      row[r % 3] = r % 2 === 0 ? 1 : -1;
    } else if (kind === 1) {
      for (let j = 0; j < D; j++) row[j] = (j + r) % 2 === 0 ? 1 : -1;
    } else if (kind === 2)
      row.set(flat.subarray(0, D)); // ties with row 0's neighbours of the same kind
    else if (kind === 3) {
      row.fill(1e-6);
      row[(r * 5) % D] = 1e6;
    }
  }
  return flat;
}

describe('scans with the in-kernel bar test = the JS kernel, on adversarial rows', () => {
  const modes: [string, Omit<CosineIndexOptions, 'dim'>][] = [
    ['f32', { storage: 'f32' }],
    ['int8/residual', { storage: 'int8', rescore: 'residual' }],
    ['int8/dequantized', { storage: 'int8', rescore: 'dequantized' }],
  ];
  for (const [name, mode] of modes) {
    it(`${name}: search and searchMany, every k, ties at the bar, extreme scales`, () => {
      const rand = seededRandom(name.length * 31);
      const n = 3000;
      const flat = adversarial(rand, n);
      const ids = Array.from({ length: n }, (_, i) => `r${i}`);
      const wasm = new CosineIndex({ dim: D, ...mode });
      const js = new CosineIndex({ dim: D, ...mode, kernel: 'js' });
      for (const index of [wasm, js]) {
        index.addVectors(ids, flat);
        index.remove(ids.slice(500, 520));
      }
      const row = (r: number): Float32Array => flat.subarray(r * D, r * D + D);
      const neg = row(0).map((x) => -x);
      const queries = [row(0), row(1), row(2), row(3), row(7), row(14), neg, randomVectors(rand, 1, D)];
      for (const k of [1, 3, 10, 72, 400, n + 1]) {
        for (const q of queries) expect(wasm.search(q, k)).toEqual(js.search(q, k));
        expect(wasm.searchMany(queries, k)).toEqual(js.searchMany(queries, k));
      }
      const floor = { minScore: 0 };
      expect(wasm.searchMany(queries, 20, floor)).toEqual(js.searchMany(queries, 20, floor));
    });
  }
});
