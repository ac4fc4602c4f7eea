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
});
