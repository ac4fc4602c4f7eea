import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import {
  decodeTeacherProjection,
  encodeTeacherProjection,
  projectTeacher,
  type TeacherProjection,
} from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';
import { referenceProjectTeacher } from '../reference/teacher-projection.js';

function randomProjection(D: number, d: number, center: boolean, seed = 1): TeacherProjection {
  const r = seededRandom(seed);
  return {
    teacherDim: D,
    dim: d,
    center,
    components: Float32Array.from({ length: d * D }, () => r() - 0.5),
    mean: Float32Array.from({ length: D }, () => r() - 0.5),
  };
}

describe('projectTeacher', () => {
  it('computes normalise(x·Cᵀ), or normalise((x − mean)·Cᵀ) when centred, against a float64 reference', () => {
    for (const center of [false, true]) {
      const p = randomProjection(12, 5, center);
      const r = seededRandom(9);
      const x = Float32Array.from({ length: 3 * 12 }, () => r() * 2 - 1);
      const got = projectTeacher(x, p);
      for (let row = 0; row < 3; row++) {
        const y = Array.from({ length: 5 }, (_, i) => {
          let s = 0;
          for (let j = 0; j < 12; j++) s += (x[row * 12 + j] - (center ? p.mean[j] : 0)) * p.components[i * 12 + j];
          return s;
        });
        const n = Math.hypot(...y);
        for (let i = 0; i < 5; i++) expect(got[row * 5 + i]).toBeCloseTo(y[i] / n, 6);
      }
    }
  });

  it('round-trips the bundle file and rejects wrong sizes and dimensions', () => {
    const p = randomProjection(8, 3, false);
    const back = decodeTeacherProjection(encodeTeacherProjection(p), p);
    expect(Array.from(back.components)).toEqual(Array.from(p.components));
    expect(Array.from(back.mean)).toEqual(Array.from(p.mean));
    expect(() => decodeTeacherProjection(new Uint8Array(10), p)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => projectTeacher(new Float32Array(9), p)).toThrow(expect.objectContaining({ code: 'DIM_MISMATCH' }));
    expect(() => projectTeacher([[1, 2, 3]], p)).toThrow(expect.objectContaining({ code: 'DIM_MISMATCH' }));
  });

  it('teacher vectors projected into the student space are found by vectors in that space', () => {
    // A "student" that is exactly the projection plus small noise: its queries must retrieve their own teacher rows.
    const D = 32,
      d = 16,
      n = 200;
    const p = randomProjection(D, d, false, 4);
    const r = seededRandom(5);
    const teacher = Float32Array.from({ length: n * D }, () => r() * 2 - 1);
    const index = new CosineIndex({ dim: d });
    index.addVectors(
      Array.from({ length: n }, (_, i) => String(i)),
      projectTeacher(teacher, p),
    );
    const queries = projectTeacher(teacher, p).map((v) => v + (r() - 0.5) * 0.01);
    let hits = 0;
    for (let i = 0; i < n; i++) if (index.search(queries.subarray(i * d, (i + 1) * d), 1)[0].id === String(i)) hits++;
    expect(hits).toBe(n);
  });

  it('null, non-array and non-numeric inputs are INVALID_INPUT, never a TypeError', () => {
    const p = randomProjection(4, 2, false);
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'abcd',
      {},
      new Int8Array(4),
      [null],
      [undefined],
      [7],
      [['1', '2', '3', '4']],
    ];
    for (const v of bad)
      expect(() => projectTeacher(v as Float32Array, p), String(v)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    const badProjections: unknown[] = [
      null,
      undefined,
      {},
      { ...p, components: null },
      { ...p, mean: Array.from(p.mean) },
      { ...p, center: 'no' },
    ];
    for (const q of badProjections)
      expect(() => projectTeacher(new Float32Array(4).fill(1), q as TeacherProjection)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    expect(() => decodeTeacherProjection(null as unknown as Uint8Array, p)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => decodeTeacherProjection(new Uint8Array(8), null as unknown as TeacherProjection)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('every finite row gives a finite unit vector: huge, tiny and mixed magnitudes, centred or not', () => {
    for (const center of [false, true]) {
      const p = randomProjection(6, 3, center, 7);
      const rows = [
        [1e308, -1.7e308, 1e308, 1e300, -1e308, 1.7976931348623157e308],
        [Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE],
        [5e-324, 0, 0, 0, 0, 0],
        [1e-300, 1e300, -1e-300, 0, 3, 1e200],
      ];
      for (const row of [...rows, ...rows.map((r) => r.map((x) => -x))]) {
        const got = projectTeacher([row], p);
        expect(got.every(Number.isFinite), `${row}`).toBe(true);
        expect(Math.hypot(...got)).toBeCloseTo(1, 5);
      }
      // Scaling a row does not change its direction (the projection is linear; without centring).
      if (!center) {
        const small = projectTeacher([[1, -2, 3, 0.5, 0, 4]], p);
        const huge = projectTeacher([[1e307, -2e307, 3e307, 0.5e307, 0, 4e307]], p);
        for (let i = 0; i < 3; i++) expect(huge[i]).toBeCloseTo(small[i], 6);
      }
    }
    // f32 rows at the top of their range.
    const p = randomProjection(4, 2, false, 3);
    const got = projectTeacher(new Float32Array([3.4e38, 3.4e38, -3.4e38, 3.4e38]), p);
    expect(got.every(Number.isFinite)).toBe(true);
  });

  describe('normalizeInput (the PCA was fitted on unit-length teacher vectors)', () => {
    // Un-normalised rows of varied lengths (0.1 to 50), as a raw teacher's vectors are.
    const D = 12,
      d = 5,
      n = 6;
    const r = seededRandom(21);
    const x = Float64Array.from({ length: n * D }, (_, i) => (r() * 2 - 1) * [0.1, 1, 3, 7, 20, 50][Math.floor(i / D)]);
    const worst = (got: Float32Array, want: Float64Array[]) =>
      Math.max(...want.flatMap((row, k) => Array.from(row, (v, i) => Math.abs(got[k * d + i] - v))));

    it('equals a float64 reference (normalise, subtract the mean, multiply by Cᵀ, normalise), centred or not', () => {
      for (const center of [false, true]) {
        const p = { ...randomProjection(D, d, center, 11), normalizeInput: true };
        const got = projectTeacher(x, p);
        expect(worst(got, referenceProjectTeacher(x, p)), `center ${center}`).toBeLessThan(1e-6);
        // The same rows as arrays of rows, as Float32Array: the same answer.
        const rows = Array.from({ length: n }, (_, k) => Array.from(x.subarray(k * D, (k + 1) * D)));
        expect(Array.from(projectTeacher(rows, p))).toEqual(Array.from(got));
      }
    });

    it('changes centred projections of un-normalised rows; uncentred ones only within rounding (scale-invariant)', () => {
      const c = randomProjection(D, d, true, 12);
      const flagged = projectTeacher(x, { ...c, normalizeInput: true });
      const plain = projectTeacher(x, c);
      expect(worst(plain, referenceProjectTeacher(x, c))).toBeLessThan(1e-6); // absent: as before the flag
      expect(Array.from(projectTeacher(x, { ...c, normalizeInput: false }))).toEqual(Array.from(plain));
      const diff = Math.max(...Array.from(flagged, (v, i) => Math.abs(v - plain[i])));
      expect(diff).toBeGreaterThan(0.05);
      const u = randomProjection(D, d, false, 13);
      const a = projectTeacher(x, { ...u, normalizeInput: true }),
        b = projectTeacher(x, u);
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
    });

    it('every finite row still gives a finite unit vector; a zero row stays zero before centring', () => {
      for (const center of [false, true]) {
        const p = { ...randomProjection(6, 3, center, 14), normalizeInput: true };
        for (const row of [
          [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE, 1, 0],
          [5e-324, 0, 0, 0, 0, 0],
          [1e-300, 1e300, -1e-300, 0, 3, 1e200],
        ]) {
          const got = projectTeacher([row], p);
          expect(got.every(Number.isFinite), `${row}`).toBe(true);
          expect(Math.hypot(...got)).toBeCloseTo(1, 5);
          // Unit length first: a huge row's centred projection is that of its unit direction.
          const len = Math.hypot(...row.map((v) => v / 1e300)) * 1e300;
          if (Number.isFinite(len) && len > 1e-300) {
            const unit = projectTeacher([row.map((v) => v / len)], { ...p, normalizeInput: false });
            for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(unit[i], 6);
          }
        }
        const zero = [0, 0, 0, 0, 0, 0];
        if (center) {
          const want = referenceProjectTeacher(zero, { ...p, normalizeInput: false })[0];
          const got = projectTeacher([zero], p);
          for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i], 6);
        } else expect(() => projectTeacher([zero], p)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      }
    });

    it('a non-boolean flag is INVALID_INPUT; decode carries the flag', () => {
      const p = randomProjection(4, 2, true, 15);
      for (const v of ['true', 1, null])
        expect(() => projectTeacher([[1, 2, 3, 4]], { ...p, normalizeInput: v as unknown as boolean })).toThrow(
          expect.objectContaining({ code: 'INVALID_INPUT' }),
        );
      const bytes = encodeTeacherProjection(p);
      expect(decodeTeacherProjection(bytes, { ...p, normalizeInput: true }).normalizeInput).toBe(true);
      expect(decodeTeacherProjection(bytes, p).normalizeInput).toBeUndefined();
    });
  });
});
