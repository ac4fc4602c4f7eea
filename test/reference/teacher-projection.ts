// Float64 reference of the teacher projection the HPD student was trained against: x made unit length when the PCA
// was fitted on unit vectors (normalizeInput), then (x − mean)·Cᵀ when centred, else x·Cᵀ, then unit length.
// Written from the recipe, independently of src/search/project-teacher.ts (moderate magnitudes only: no scaling).
import type { TeacherProjection } from '../../src/search/project-teacher.js';

/** Row r of the result is teacher vector r (row-major N × D in `x`) in the student's space. */
export function referenceProjectTeacher(x: ArrayLike<number>, p: TeacherProjection): Float64Array[] {
  const D = p.teacherDim;
  const rows: Float64Array[] = [];
  for (let r = 0; r < x.length / D; r++) {
    const row = Float64Array.from({ length: D }, (_, j) => x[r * D + j]);
    const len = p.normalizeInput ? Math.hypot(...row) : 1;
    const y = new Float64Array(p.dim);
    for (let i = 0; i < p.dim; i++)
      for (let j = 0; j < D; j++) y[i] += (row[j] / len - (p.center ? p.mean[j] : 0)) * p.components[i * D + j];
    const n = Math.hypot(...y);
    rows.push(y.map((v) => v / n));
  }
  return rows;
}
