import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import {
  decodeTeacherProjection,
  encodeTeacherProjection,
  projectTeacher,
  type TeacherProjection,
} from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';

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
});
