// The Node side of evaluation: reads STS files, BEIR folders and a bundle's teacher projection from disk.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../bundle/manifest.js';
import { sha256Hex } from '../bundle/sha256.js';
import { parseBeir, type BeirData } from '../eval/beir-data.js';
import { guessStsFormat, parseSts, type StsData, type StsFormat } from '../eval/sts-data.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { decodeTeacherProjection, type TeacherProjection } from '../search/project-teacher.js';

/** hpd.json is a few KB (probes included); anything far larger is not one. */
const MAX_MANIFEST_BYTES = 16 << 20;
/** Teachers have at most a few thousand dimensions; these bound the projection file hpd.json may announce. */
const MAX_TEACHER_DIM = 65536;
const MAX_PROJECTION_BYTES = 64 << 20;
/** The longest JavaScript string (V8): a larger text file cannot be decoded, so it is refused before it is read. */
const MAX_TEXT_BYTES = 2 ** 29 - 24;
const text = { max: MAX_TEXT_BYTES };

/**
 * A regular file's bytes, at most `max` of them (or exactly `exact`), checked from `stat` before anything is read:
 * a FIFO, a device or a folder is refused (never opened blocking), and a missing file is a typed error.
 */
async function readRegular(
  path: string,
  what: string,
  fail: (message: string, cause?: unknown) => HpdError,
  size: { max?: number; exact?: number } = {},
): Promise<Uint8Array> {
  const check = (s: { isFile(): boolean; size: number }) => {
    if (!s.isFile()) throw fail(`cannot read ${what} ${path}: it is not a regular file.`);
    if (size.exact !== undefined && s.size !== size.exact)
      throw fail(`${what} ${path} has ${s.size} bytes, expected ${size.exact}.`);
    if (size.max !== undefined && s.size > size.max)
      throw fail(`${what} ${path} has ${s.size} bytes, more than the ${size.max} it may have; split it.`);
  };
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    check(await stat(path));
    // O_NONBLOCK: a FIFO swapped in after the stat cannot block the open; fstat then refuses it.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    check(info);
    const bytes = new Uint8Array(info.size);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, got);
      if (bytesRead === 0) throw fail(`${what} ${path} shrank while it was read; read it again.`);
      got += bytesRead;
    }
    return bytes;
  } catch (e) {
    if (e instanceof HpdError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(
      code === 'ENOENT'
        ? `cannot read ${what} ${path}: it does not exist.`
        : `cannot read ${what} ${path}: ${(e as Error).message}`,
      e,
    );
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

const inputError = (message: string, cause?: unknown) =>
  new InvalidInputError(message, cause === undefined ? undefined : { cause });
const modelInvalid = (message: string, cause?: unknown) =>
  new HpdError('MODEL_INVALID', message, cause === undefined ? undefined : { cause });

/**
 * Reads an STS file (strict UTF-8: a byte that is not is INVALID_INPUT naming the line); the format defaults to a
 * guess from the name (SICK* → sick, *.csv → stsb, else tsv).
 */
export async function readStsFile(path: string, format?: StsFormat): Promise<StsData & { format: StsFormat }> {
  const f = format ?? guessStsFormat(path);
  return { ...parseSts(await readRegular(path, 'STS file', inputError, text), f, path), format: f };
}

/** Reads a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv (strict UTF-8, regular files only). */
export async function readBeirFolder(dir: string, split = 'test'): Promise<BeirData> {
  const path = {
    corpus: join(dir, 'corpus.jsonl'),
    queries: join(dir, 'queries.jsonl'),
    qrels: join(dir, 'qrels', `${split}.tsv`),
  };
  return parseBeir(
    {
      corpus: await readRegular(path.corpus, 'BEIR corpus', inputError, text),
      queries: await readRegular(path.queries, 'BEIR queries', inputError, text),
      qrels: await readRegular(path.qrels, 'BEIR qrels', inputError, text),
    },
    path,
  );
}

/**
 * A compiled bundle's teacher projection, checked against hpd.json before a byte of it is read: hpd.json's
 * teacherProjection must map to the model's dim, and the file must be a regular file of exactly the size those
 * dimensions give (and hpd.json's bytes); then its sha256. MODEL_INVALID when the bundle has none or it does not fit.
 */
export async function readTeacherProjection(bundleDir: string): Promise<TeacherProjection> {
  const manifestPath = join(bundleDir, MANIFEST_FILE);
  const manifest = parseManifest(
    await readRegular(manifestPath, 'bundle manifest', modelInvalid, { max: MAX_MANIFEST_BYTES }),
    manifestPath,
  );
  const info = manifest.teacherProjection;
  if (!info)
    throw modelInvalid(
      `${bundleDir} has no teacher projection: it was not compiled from a distilled student (teacher_projection.safetensors).`,
    );
  const { teacherDim: D, dim: d } = info;
  if (!(Number.isInteger(D) && D > 0 && D <= MAX_TEACHER_DIM && Number.isInteger(d) && d > 0 && d <= D))
    throw modelInvalid(
      `${manifestPath}: teacherProjection needs integers 0 < dim ≤ teacherDim ≤ ${MAX_TEACHER_DIM}, got dim ${d}, teacherDim ${D}; re-compile the bundle.`,
    );
  if (d !== manifest.dim)
    throw modelInvalid(
      `${manifestPath}: teacherProjection maps to ${d} dimensions but the model outputs ${manifest.dim}; re-compile the bundle.`,
    );
  const expected = 4 * (d * D + D);
  if (expected > MAX_PROJECTION_BYTES)
    throw modelInvalid(
      `${manifestPath}: a ${d} × ${D} teacher projection (${expected} bytes) is larger than the ${MAX_PROJECTION_BYTES} bytes supported.`,
    );
  if (info.file.bytes !== expected)
    throw modelInvalid(
      `${manifestPath}: teacherProjection.file.bytes is ${info.file.bytes}, but ${d} × ${D} components and ${D} means are ${expected} bytes; re-compile the bundle.`,
    );
  const path = join(bundleDir, info.file.path);
  const bytes = await readRegular(path, 'teacher projection', modelInvalid, { exact: expected });
  if ((await sha256Hex(bytes)) !== info.file.sha256)
    throw new HpdError('MODEL_INTEGRITY', `${path} does not match the sha256 in hpd.json; re-compile the bundle.`);
  return decodeTeacherProjection(bytes, info);
}
