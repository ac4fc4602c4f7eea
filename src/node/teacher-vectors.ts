// Teacher vector files (.npy or raw little-endian float32 rows), checked from stat and the header before a row is
// read, then streamed in chunks of rows and projected into a student's space: memory stays bounded by the chunk.
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { DimMismatchError, HpdError, InvalidInputError } from '../errors.js';
import { projectTeacher, type TeacherProjection } from '../search/project-teacher.js';
import { readTeacherProjection } from './eval-files.js';
import { NPY_HEADER_MAX, hasNpyMagic, parseNpyHeader } from './npy.js';

/** Rows are read about this many bytes at a time. */
const CHUNK_BYTES = 4 << 20;

/** A checked teacher vector file: `rows` × `dim` values of `dtype` from `dataOffset` to the end of the file. */
export interface TeacherVectorFile {
  path: string;
  rows: number;
  dim: number;
  dtype: 'f4' | 'f8';
  dataOffset: number;
}

async function openRegular(path: string, what: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle | undefined;
  try {
    // O_NONBLOCK: a FIFO cannot block the open; fstat then refuses it.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const s = await handle.stat();
    if (!s.isFile()) throw new InvalidInputError(`cannot read ${what} ${path}: it is not a regular file; pass a file.`);
    return { handle, size: s.size };
  } catch (e) {
    await handle?.close().catch(() => undefined);
    if (e instanceof HpdError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : (e as Error).message;
    throw new InvalidInputError(`cannot read ${what} ${path}: ${why}.`, { cause: e });
  }
}

/** Reads exactly `bytes.length` bytes at `position` (a file that shrank since its stat is INVALID_INPUT). */
async function readExactly(handle: FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  let got = 0;
  while (got < bytes.length) {
    const { bytesRead } = await handle.read(bytes, got, bytes.length - got, position + got);
    if (bytesRead === 0) throw new InvalidInputError(`${path} shrank while it was read; read it again.`);
    got += bytesRead;
  }
}

/**
 * Checks a teacher vector file without reading its rows: a `.npy` file (2-d, C order, little-endian float32/float64;
 * its size must be exactly what the header says) or, under any other name, raw little-endian float32 rows of
 * `teacherDim` values (required then). `teacherDim` given with a .npy file must match its second dimension.
 */
export async function checkTeacherVectors(path: string, what: string, teacherDim?: number): Promise<TeacherVectorFile> {
  const { handle, size } = await openRegular(path, what);
  try {
    const head = new Uint8Array(Math.min(size, NPY_HEADER_MAX));
    await readExactly(handle, head, 0, path);
    if (path.toLowerCase().endsWith('.npy')) {
      const h = parseNpyHeader(head, `${what} ${path}`);
      const item = h.dtype === 'f4' ? 4 : 8;
      const expected = h.dataOffset + h.rows * h.cols * item;
      if (size !== expected)
        throw new InvalidInputError(
          `${what} ${path} has ${size} bytes, but its header says ${h.rows} × ${h.cols} ${h.dtype === 'f4' ? 'float32' : 'float64'} (${expected} bytes): it is ${size < expected ? 'truncated' : 'corrupt'}.`,
        );
      if (teacherDim !== undefined && teacherDim !== h.cols)
        throw new DimMismatchError(teacherDim, h.cols, what, {
          message: `${what} ${path} holds ${h.cols}-d vectors but --teacher-dim says ${teacherDim}; drop --teacher-dim for a .npy file.`,
        });
      if (h.rows === 0 || h.cols === 0)
        throw new InvalidInputError(`${what} ${path} holds no vectors (shape ${h.rows} × ${h.cols}).`);
      return { path, rows: h.rows, dim: h.cols, dtype: h.dtype, dataOffset: h.dataOffset };
    }
    if (hasNpyMagic(head))
      throw new InvalidInputError(`${what} ${path} is a .npy file; name it *.npy so its header is read.`);
    if (teacherDim === undefined)
      throw new InvalidInputError(
        `${what} ${path} is not a .npy file; raw float32 rows need --teacher-dim D (the teacher's vector length).`,
      );
    if (size === 0 || size % (4 * teacherDim) !== 0)
      throw new InvalidInputError(
        `${what} ${path} has ${size} bytes, not a positive multiple of ${4 * teacherDim} (rows of ${teacherDim} float32): it is truncated, or --teacher-dim is wrong.`,
      );
    return { path, rows: size / (4 * teacherDim), dim: teacherDim, dtype: 'f4', dataOffset: 0 };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** DIM_MISMATCH unless the file's vectors have the length the projection maps from. */
function checkFits(file: TeacherVectorFile, projection: TeacherProjection, what: string): void {
  if (file.dim !== projection.teacherDim)
    throw new DimMismatchError(projection.teacherDim, file.dim, what, {
      message: `${what} ${file.path} holds ${file.dim}-d vectors but the bundle's teacher projection expects ${projection.teacherDim}-d ones (its teacher's); embed with the teacher the student was distilled from.`,
    });
}

/**
 * The file's rows projected into the student's space (`projectTeacher`, with the bundle's center and normalizeInput:
 * unit length, d values each), in chunks of rows, in file order. A bad row (non-finite, projecting to zero) is INVALID_INPUT naming its row in the file.
 */
export async function* projectTeacherFile(
  file: TeacherVectorFile,
  projection: TeacherProjection,
  what: string,
): AsyncGenerator<Float32Array> {
  checkFits(file, projection, what);
  const item = file.dtype === 'f4' ? 4 : 8;
  const rowBytes = file.dim * item;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const { handle, size } = await openRegular(file.path, what);
  try {
    if (size !== file.dataOffset + file.rows * rowBytes)
      throw new InvalidInputError(`${what} ${file.path} changed size since it was checked; run the command again.`);
    const buf = new ArrayBuffer(Math.min(perChunk, file.rows) * rowBytes);
    for (let start = 0; start < file.rows; start += perChunk) {
      const n = Math.min(perChunk, file.rows - start);
      const bytes = new Uint8Array(buf, 0, n * rowBytes);
      await readExactly(handle, bytes, file.dataOffset + start * rowBytes, file.path);
      // Typed arrays use the platform's byte order: little-endian on every platform Node supports.
      const rows =
        file.dtype === 'f4' ? new Float32Array(buf, 0, n * file.dim) : new Float64Array(buf, 0, n * file.dim);
      let out: Float32Array;
      try {
        out = projectTeacher(rows, projection);
      } catch (e) {
        // projectTeacher numbers rows within the chunk; say which row of the file it was.
        if (!(e instanceof InvalidInputError)) throw e;
        const m = /^teacher vector (\d+)/.exec(e.message);
        if (!m) throw e;
        throw new InvalidInputError(
          `${what} ${file.path}: row ${start + Number(m[1])} (from 0)${e.message.slice(m[0].length)}`,
          { cause: e },
        );
      }
      yield out;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * `eval --teacher-corpus`: one teacher vector per corpus document, in corpus.jsonl's line order, projected with the
 * teacher projection of the bundle folder `model` into one N × dim array (checked and read before a model loads).
 */
export async function readTeacherCorpus(
  model: string,
  path: string,
  teacherDim: number | undefined,
  documents: number,
): Promise<Float32Array> {
  const what = '--teacher-corpus';
  const isFolder = await stat(model).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isFolder)
    throw new InvalidInputError(
      `${what} needs --model to be a compiled bundle folder (its hpd.json carries the teacher projection); ${model} is not a folder.`,
    );
  const projection = await readTeacherProjection(model);
  const file = await checkTeacherVectors(path, what, teacherDim);
  checkFits(file, projection, what);
  if (file.rows !== documents)
    throw new InvalidInputError(
      `${what} ${path} holds ${file.rows} vectors but the corpus has ${documents} documents; embed every corpus.jsonl line, in order, with the teacher.`,
    );
  const out = new Float32Array(file.rows * projection.dim);
  let at = 0;
  for await (const rows of projectTeacherFile(file, projection, what)) {
    out.set(rows, at);
    at += rows.length;
  }
  return out;
}
