// The Node side of evaluation: reads STS files, BEIR folders and a bundle's teacher projection from disk.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../bundle/manifest.js';
import { sha256Hex } from '../bundle/sha256.js';
import { parseBeir, type BeirData } from '../eval/beir-data.js';
import { guessStsFormat, parseSts, type StsData, type StsFormat } from '../eval/sts-data.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { decodeTeacherProjection, type TeacherProjection } from '../search/project-teacher.js';

async function text(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: Error) => {
    throw new InvalidInputError(`cannot read ${what} ${path}: ${e.message}`);
  });
}

/** Reads an STS file; the format defaults to a guess from the name (SICK* → sick, *.csv → stsb, else tsv). */
export async function readStsFile(path: string, format?: StsFormat): Promise<StsData & { format: StsFormat }> {
  const f = format ?? guessStsFormat(path);
  return { ...parseSts(await text(path, 'STS file'), f, path), format: f };
}

/** Reads a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv. */
export async function readBeirFolder(dir: string, split = 'test'): Promise<BeirData> {
  return parseBeir({
    corpus: await text(join(dir, 'corpus.jsonl'), 'BEIR corpus'),
    queries: await text(join(dir, 'queries.jsonl'), 'BEIR queries'),
    qrels: await text(join(dir, 'qrels', `${split}.tsv`), 'BEIR qrels'),
  });
}

/** A compiled bundle's teacher projection (checked against hpd.json's sha256); MODEL_INVALID when it has none. */
export async function readTeacherProjection(bundleDir: string): Promise<TeacherProjection> {
  const manifest = parseManifest(await readFile(join(bundleDir, MANIFEST_FILE)), join(bundleDir, MANIFEST_FILE));
  const info = manifest.teacherProjection;
  if (!info)
    throw new HpdError(
      'MODEL_INVALID',
      `${bundleDir} has no teacher projection: it was not compiled from a distilled student (teacher_projection.safetensors).`,
    );
  const bytes = new Uint8Array(await readFile(join(bundleDir, info.file.path)));
  if ((await sha256Hex(bytes)) !== info.file.sha256)
    throw new HpdError(
      'MODEL_INTEGRITY',
      `${join(bundleDir, info.file.path)} does not match the sha256 in hpd.json; re-compile the bundle.`,
    );
  return decodeTeacherProjection(bytes, info);
}
