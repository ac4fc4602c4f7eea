// `hpd-embed project`: teacher vectors → the student's space with the bundle's teacher projection, streamed to a file.
import { parseArgs } from 'node:util';
import { writeFileAtomic } from './atomic-write.js';
import { UsageError, type CliIO } from './cli-io.js';
import { checkOutputFile } from './cli-files.js';
import { positiveInt } from './cli-runtime.js';
import { readTeacherProjection } from './eval-files.js';
import { checkTeacherVectors, projectTeacherFile } from './teacher-vectors.js';

export const PROJECT_SUMMARY =
  "Projects teacher vectors into a distilled student's space (the bundle's teacher projection), for a teacher-embedded corpus.";

export const PROJECT_USAGE = `hpd-embed project --bundle <bundle-dir> --vectors <teacher.npy | teacher.f32> --out <vectors.f32> [--teacher-dim D] [--json]
  Maps N teacher vectors into the student's space with the teacher projection a distilled bundle carries
  (hpd.json teacherProjection: x·Cᵀ, or (x − mean)·Cᵀ when trained centred, then unit length; x is made unit length
  first when it says normalizeInput, as distill's --normalize fitted the PCA), so a corpus embedded
  by the teacher can be searched with the student's query embeddings.
  --vectors: a .npy file (2-d, C order, little-endian float32 or float64), or raw little-endian float32 rows with
  --teacher-dim D. Read in chunks of rows: memory stays small for any N.
  --out gets N × dim little-endian float32, row-major (row i is vector i), no header, written atomically;
  in numpy: np.fromfile(path, '<f4').reshape(-1, dim).`;

export async function projectCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      bundle: { type: 'string' },
      vectors: { type: 'string' },
      out: { type: 'string' },
      'teacher-dim': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.bundle || !values.vectors || !values.out)
    throw new UsageError('project needs --bundle, --vectors and --out.');
  const teacherDim =
    values['teacher-dim'] === undefined ? undefined : positiveInt(values['teacher-dim'], 'teacher-dim');
  // Everything is checked before a row is read or a byte written.
  const projection = await readTeacherProjection(values.bundle);
  const file = await checkTeacherVectors(values.vectors, '--vectors', teacherDim);
  await checkOutputFile(values.out, '--out');
  const t0 = performance.now();
  await writeFileAtomic(
    values.out,
    (async function* () {
      for await (const rows of projectTeacherFile(file, projection, '--vectors'))
        yield new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    })(),
  );
  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    out: values.out,
    vectors: file.rows,
    teacherDim: file.dim,
    dim: projection.dim,
    center: projection.center,
    bytes: file.rows * projection.dim * 4,
    seconds,
  };
  if (values.json) io.out(`${JSON.stringify(summary)}\n`);
  else
    io.out(
      `${values.out}: ${file.rows} vectors, ${file.dim}-d teacher → ${projection.dim}-d student space${projection.center ? ' (centred)' : ''}, ${summary.bytes} bytes of float32, ${seconds.toFixed(2)} s\n`,
    );
}
