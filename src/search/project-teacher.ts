// Teacher space → student space: the PCA a distilled (HPD) student was trained against, applied to teacher vectors.
import { DimMismatchError, InvalidInputError } from './errors.js';
import type { VectorBatch } from './types.js';

/** The projection `python -m distill` saves (teacher_projection.safetensors) and `convert` records in hpd.json. */
export interface TeacherProjection {
  /** The teacher's vector length D. */
  teacherDim: number;
  /** The student's output dimension d. */
  dim: number;
  /** Row-major d × D principal components. */
  components: Float32Array;
  /** The PCA mean (D values); subtracted only when `center`. */
  mean: Float32Array;
  /** Whether the student was trained against centred projections (the HPD release does not centre). */
  center: boolean;
  /**
   * Whether the PCA was fitted on unit-length teacher vectors (`python -m distill --normalize`, its default): each input
   * row is then L2-normalised before the mean is subtracted. Absent means false (bundles compiled before it existed).
   */
  normalizeInput?: boolean;
}

/** Checks shapes and values; returns the projection unchanged (INVALID_INPUT for anything else, null included). */
export function checkTeacherProjection(p: TeacherProjection): TeacherProjection {
  if (!p || typeof p !== 'object')
    throw new InvalidInputError('teacher projection: expected { teacherDim, dim, components, mean, center }.');
  const { teacherDim: D, dim: d } = p;
  if (!(Number.isInteger(D) && D > 0 && Number.isInteger(d) && d > 0 && d <= D))
    throw new InvalidInputError(`teacher projection: need 0 < dim (${d}) ≤ teacherDim (${D}).`);
  if (!(p.components instanceof Float32Array && p.mean instanceof Float32Array))
    throw new InvalidInputError('teacher projection: components and mean must be Float32Arrays.');
  if (typeof p.center !== 'boolean') throw new InvalidInputError('teacher projection: center must be a boolean.');
  if (p.normalizeInput !== undefined && typeof p.normalizeInput !== 'boolean')
    throw new InvalidInputError('teacher projection: normalizeInput must be a boolean when given.');
  if (p.components.length !== d * D)
    throw new InvalidInputError(
      `teacher projection: components hold ${p.components.length} values, expected ${d} × ${D}.`,
    );
  if (p.mean.length !== D)
    throw new InvalidInputError(`teacher projection: mean holds ${p.mean.length} values, expected ${D}.`);
  for (const a of [p.components, p.mean])
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new InvalidInputError('teacher projection holds a non-finite value.');
  return p;
}

/**
 * The bundle file (`teacher_projection.f32`): the d × D components, then the D-value mean, little-endian float32.
 * `info` is hpd.json's `teacherProjection` entry.
 */
export function decodeTeacherProjection(
  bytes: Uint8Array,
  info: { teacherDim: number; dim: number; center: boolean; normalizeInput?: boolean },
): TeacherProjection {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError('teacher projection file: expected a Uint8Array.');
  if (
    !info ||
    !(Number.isInteger(info.teacherDim) && info.teacherDim > 0 && Number.isInteger(info.dim) && info.dim > 0)
  )
    throw new InvalidInputError('teacher projection: info needs positive integers teacherDim and dim.');
  const n = info.dim * info.teacherDim + info.teacherDim;
  if (bytes.byteLength !== 4 * n)
    throw new InvalidInputError(
      `teacher projection file has ${bytes.byteLength} bytes, expected ${4 * n} (${info.dim} × ${info.teacherDim} + ${info.teacherDim} float32).`,
    );
  const all = new Float32Array(bytes.slice().buffer, 0, n); // copy: the view may be unaligned
  return checkTeacherProjection({
    ...info,
    components: all.subarray(0, info.dim * info.teacherDim),
    mean: all.subarray(info.dim * info.teacherDim),
  });
}

/** The bytes `decodeTeacherProjection` reads. */
export function encodeTeacherProjection(p: TeacherProjection): Uint8Array {
  checkTeacherProjection(p);
  const all = new Float32Array(p.components.length + p.mean.length);
  all.set(p.components);
  all.set(p.mean, p.components.length);
  return new Uint8Array(all.buffer);
}

/**
 * Maps N teacher vectors (N × D, row-major) into the student's space: x·Cᵀ (or (x − mean)·Cᵀ when the student was
 * trained centred), L2-normalised, so an index of teacher vectors can be searched with student-embedded queries.
 * With `normalizeInput`, x is first made unit length (a zero row stays zero, as in training), as the PCA's inputs were.
 * Any finite row gives a finite unit vector: rows and products are scaled by their largest magnitude before squaring.
 */
export function projectTeacher(vectors: VectorBatch, projection: TeacherProjection): Float32Array {
  const { teacherDim: D, dim: d, components: C, mean, center, normalizeInput } = checkTeacherProjection(projection);
  const flat = vectors instanceof Float32Array || vectors instanceof Float64Array ? vectors : null;
  if (!flat && !Array.isArray(vectors))
    throw new InvalidInputError('teacher vectors: expected a Float32Array, a Float64Array or an array of rows.');
  const rows = flat ? flat.length / D : vectors.length;
  if (flat && !Number.isInteger(rows))
    throw new DimMismatchError(D, flat.length % D, 'teacher vectors', {
      message: `teacher vectors: a flat array of ${flat.length} values is not a multiple of the teacher dimension ${D}.`,
    });
  const out = new Float32Array(rows * d);
  const x = new Float64Array(D);
  const y = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const row: ArrayLike<number> | null | undefined = flat
      ? flat.subarray(r * D, (r + 1) * D)
      : (vectors as readonly (ArrayLike<number> | null | undefined)[])[r];
    if (row === null || typeof row !== 'object' || typeof row.length !== 'number')
      throw new InvalidInputError(`teacher vector ${r} is not an array of numbers.`);
    if (row.length !== D)
      throw new DimMismatchError(D, row.length, 'teacher vector', {
        message: `teacher vector ${r} has dimension ${row.length}; the projection expects ${D}.`,
      });
    let xMax = 0;
    if (normalizeInput) {
      let vMax = 0;
      for (let j = 0; j < D; j++) {
        const v = row[j];
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new InvalidInputError(`teacher vector ${r} has a non-finite value at ${j}.`);
        x[j] = v;
        vMax = Math.max(vMax, Math.abs(v));
      }
      if (vMax > 0) {
        let norm = 0;
        for (let j = 0; j < D; j++) norm += (x[j] / vMax) ** 2; // in [1, D]: no underflow, no overflow
        const len = Math.sqrt(norm);
        for (let j = 0; j < D; j++) x[j] = x[j] / vMax / len;
      }
      for (let j = 0; j < D; j++) {
        if (center) x[j] -= mean[j];
        xMax = Math.max(xMax, Math.abs(x[j]));
      }
    } else {
      for (let j = 0; j < D; j++) {
        const v = row[j];
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new InvalidInputError(`teacher vector ${r} has a non-finite value at ${j}.`);
        x[j] = center ? v - mean[j] : v; // finite: |mean| ≤ 3.4e38 is below half an ulp of any |v| that could overflow
        xMax = Math.max(xMax, Math.abs(x[j]));
      }
    }
    if (xMax === 0) throw new InvalidInputError(`teacher vector ${r} projects to zero; it cannot be normalised.`);
    for (let j = 0; j < D; j++) x[j] /= xMax; // |x| ≤ 1: the sums below stay far from overflow
    let yMax = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      const base = i * D;
      for (let j = 0; j < D; j++) s += x[j] * C[base + j];
      y[i] = s;
      yMax = Math.max(yMax, Math.abs(s));
    }
    if (yMax === 0) throw new InvalidInputError(`teacher vector ${r} projects to zero; it cannot be normalised.`);
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (y[i] / yMax) ** 2; // in [1, d]: no underflow, no overflow
    const len = Math.sqrt(norm);
    for (let i = 0; i < d; i++) out[r * d + i] = y[i] / yMax / len; // never 1/yMax: a tiny yMax would overflow it
  }
  return out;
}
