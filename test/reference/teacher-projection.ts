// Float64 reference of the teacher projection the HPD student was trained against: (x − mean)·Cᵀ when centred,
// else x·Cᵀ, then unit length. Written from the paper's recipe, independently of src/search/project-teacher.ts.
import type { TeacherProjection } from '../../src/search/project-teacher.js';

/** Row r of the result is teacher vector r (row-major N × D in `x`) in the student's space. */
export function referenceProjectTeacher(x: ArrayLike<number>, p: TeacherProjection): Float64Array[] {
  const D = p.teacherDim;
  const rows: Float64Array[] = [];
  for (let r = 0; r < x.length / D; r++) {
    const y = new Float64Array(p.dim);
    for (let i = 0; i < p.dim; i++)
      for (let j = 0; j < D; j++) y[i] += (x[r * D + j] - (p.center ? p.mean[j] : 0)) * p.components[i * D + j];
    const n = Math.hypot(...y);
    rows.push(y.map((v) => v / n));
  }
  return rows;
}
