// Files the teacher-space CLI tests share: a compiled bundle carrying a teacher projection, and .npy writers.
import { compileCheckpoint } from '../../src/convert/compile.js';
import { writeSafetensors } from '../../src/convert/safetensors.js';
import { memorySource } from '../../src/bundle/source.js';
import { writeFolderAtomic } from '../../src/node/write-folder.js';
import type { TeacherProjection } from '../../src/search/project-teacher.js';

/**
 * Compiles `checkpoint` (a generated sentence-transformers checkpoint's files) with `projection` as its
 * teacher_projection.safetensors, as `python -m distill` leaves it, and writes the bundle to `dir`.
 */
export async function writeDistilledBundle(
  dir: string,
  checkpoint: Map<string, Uint8Array>,
  projection: TeacherProjection,
): Promise<string> {
  const files = new Map(checkpoint);
  files.set(
    'teacher_projection.safetensors',
    writeSafetensors(
      [
        ['components', { shape: [projection.dim, projection.teacherDim], data: projection.components }],
        ['mean', { shape: [projection.teacherDim], data: projection.mean }],
      ],
      {
        center: String(projection.center),
        teacher: 'test-teacher',
        // `python -m distill` writes it; checkpoints from before it existed lack it.
        ...(projection.normalizeInput === undefined ? {} : { normalized: String(projection.normalizeInput) }),
      },
    ),
  );
  const b = await compileCheckpoint(memorySource(files, 'student'));
  await writeFolderAtomic(dir, b.files);
  return dir;
}

/**
 * A .npy file (format 1.0) of `rows` × `cols` values: by default little-endian float32 in C order; `descr`,
 * `fortran` and `shape` override the header only (the data stays `data` as float32/float64 bytes).
 */
export function npyBytes(
  data: Float32Array | Float64Array,
  rows: number,
  cols: number,
  header: { descr?: string; fortran?: boolean; shape?: string } = {},
): Uint8Array {
  const descr = header.descr ?? (data instanceof Float64Array ? '<f8' : '<f4');
  let text = `{'descr': '${descr}', 'fortran_order': ${header.fortran ? 'True' : 'False'}, 'shape': ${header.shape ?? `(${rows}, ${cols})`}, }`;
  // numpy pads the header with spaces and a newline so the data starts at a multiple of 64.
  const total = Math.ceil((10 + text.length + 1) / 64) * 64;
  text = text.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
