// Evaluation files from disk: only regular files, sized from stat and hpd.json before a byte is read, strict UTF-8.
import { execFileSync } from 'node:child_process';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, type BundleManifest } from '../../src/bundle/manifest.js';
import { sha256Hex } from '../../src/bundle/sha256.js';
import { readBeirFolder, readStsFile, readTeacherProjection } from '../../src/node/eval-files.js';
import { encodeTeacherProjection, type TeacherProjection } from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';
import { useTempDir } from '../helpers/temp-dir.js';

const SHA = 'a'.repeat(64);

function projection(D: number, d: number): TeacherProjection {
  const r = seededRandom(D * 31 + d);
  return {
    teacherDim: D,
    dim: d,
    center: false,
    components: Float32Array.from({ length: d * D }, () => r() - 0.5),
    mean: Float32Array.from({ length: D }, () => r() - 0.5),
  };
}

/** A bundle folder with hpd.json (model dim `dim`) and a teacher projection file; `edit` changes hpd.json. */
async function bundle(
  dir: string,
  opts: { dim?: number; p?: TeacherProjection; edit?: (m: BundleManifest) => void } = {},
): Promise<string> {
  const dim = opts.dim ?? 16;
  const p = opts.p ?? projection(32, dim);
  const bytes = encodeTeacherProjection(p);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'teacher_projection.f32'), bytes);
  const m = {
    format: BUNDLE_FORMAT,
    name: 'b',
    dim,
    maxTokens: 32,
    pooling: 'mean',
    normalized: true,
    dtype: 'fp32',
    compute: { precision: 'fp32', requiresShaderF16: false },
    params: 1,
    files: {
      model: { path: 'model.onnx', bytes: 1, sha256: SHA },
      tokenizer: { path: 'tokenizer.json', bytes: 1, sha256: SHA },
    },
    teacherProjection: {
      file: { path: 'teacher_projection.f32', bytes: bytes.byteLength, sha256: await sha256Hex(bytes) },
      teacherDim: p.teacherDim,
      dim: p.dim,
      center: p.center,
    },
  } as BundleManifest;
  opts.edit?.(m);
  await writeFile(join(dir, 'hpd.json'), JSON.stringify(m));
  return dir;
}

const code = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: { code?: string; message?: string }) => `${e.code ?? 'untyped'}: ${e.message}`,
  );

describe('readTeacherProjection', () => {
  const tmp = useTempDir('hpd-eval-files-');

  it('reads a projection that fits hpd.json', async () => {
    const p = projection(32, 16);
    const got = await readTeacherProjection(await bundle(join(tmp(), 'ok'), { p }));
    expect(got).toMatchObject({ teacherDim: 32, dim: 16, center: false });
    expect(Array.from(got.components)).toEqual(Array.from(p.components));
  });

  it('a projection to 4 dimensions for a 16-d model is MODEL_INVALID', async () => {
    const dir = await bundle(join(tmp(), 'dim'), { dim: 16, p: projection(32, 4) });
    expect(await code(readTeacherProjection(dir))).toMatch(
      /^MODEL_INVALID: .*maps to 4 dimensions but the model outputs 16/,
    );
  });

  it('a file larger than hpd.json says (sparse 1.2 GB) is refused from stat, without reading it', async () => {
    const dir = await bundle(join(tmp(), 'big'));
    await truncate(join(dir, 'teacher_projection.f32'), 1.2e9);
    const before = process.memoryUsage().rss;
    expect(await code(readTeacherProjection(dir))).toMatch(/^MODEL_INVALID: .*has 1200000000 bytes, expected 2176/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200e6);
  });

  it('hpd.json announcing a huge projection (teacherDim, bytes) is refused before any file is opened', async () => {
    const dir = await bundle(join(tmp(), 'huge'), {
      edit: (m) => {
        m.teacherProjection!.teacherDim = 1e7;
        m.teacherProjection!.file.bytes = 4 * (16e7 + 1e7);
      },
    });
    expect(await code(readTeacherProjection(dir))).toMatch(/^MODEL_INVALID: .*teacherDim ≤ 65536/);
    const bytes = await bundle(join(tmp(), 'bytes'), { edit: (m) => (m.teacherProjection!.file.bytes += 4) });
    expect(await code(readTeacherProjection(bytes))).toMatch(/^MODEL_INVALID: .*file\.bytes is 2180/);
  });

  it('a FIFO (as the projection or as hpd.json) is refused at once, never opened blocking', async () => {
    const dir = await bundle(join(tmp(), 'fifo'));
    await truncate(join(dir, 'teacher_projection.f32'), 0);
    execFileSync('rm', [join(dir, 'teacher_projection.f32')]);
    execFileSync('mkfifo', [join(dir, 'teacher_projection.f32')]);
    expect(await code(readTeacherProjection(dir))).toMatch(/^MODEL_INVALID: .*is not a regular file/);
    const m = join(tmp(), 'fifo-manifest');
    await mkdir(m);
    execFileSync('mkfifo', [join(m, 'hpd.json')]);
    expect(await code(readTeacherProjection(m))).toMatch(/^MODEL_INVALID: .*hpd\.json: it is not a regular file/);
  });

  it('a missing projection, hpd.json or folder is a typed error, not raw ENOENT', async () => {
    const dir = await bundle(join(tmp(), 'missing'));
    execFileSync('rm', [join(dir, 'teacher_projection.f32')]);
    expect(await code(readTeacherProjection(dir))).toMatch(
      /^MODEL_INVALID: .*teacher_projection\.f32: it does not exist/,
    );
    expect(await code(readTeacherProjection(join(tmp(), 'nowhere')))).toMatch(
      /^MODEL_INVALID: .*hpd\.json: it does not exist/,
    );
    expect(await code(readTeacherProjection(join(dir, 'hpd.json')))).toMatch(/^MODEL_INVALID: /);
  });

  it('bytes that differ from the sha256 are MODEL_INTEGRITY', async () => {
    const dir = await bundle(join(tmp(), 'sha'), { edit: (m) => (m.teacherProjection!.file.sha256 = SHA) });
    expect(await code(readTeacherProjection(dir))).toMatch(/^MODEL_INTEGRITY: /);
  });
});

describe('STS and BEIR files: strict UTF-8, regular files only', () => {
  const tmp = useTempDir('hpd-eval-utf8-');
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const withBadByte = (lines: string[], at: number, byte = 0xff) => {
    const parts = lines.map((l, i) =>
      i === at ? Buffer.concat([utf8(l), Uint8Array.of(byte)]) : Buffer.from(utf8(l)),
    );
    return Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('\n'), p] : [p])));
  };

  it('an STS file with a byte that is not UTF-8 is INVALID_INPUT naming the file and line', async () => {
    const lines = ['a\tb\t1', 'c\td\t2', 'é\tf\t3', 'g\th\t4'];
    const path = join(tmp(), 'pairs.tsv');
    await writeFile(path, Buffer.from(utf8(lines.join('\n'))));
    expect((await readStsFile(path)).sentences1).toEqual(['a', 'c', 'é', 'g']);
    for (const [at, byte] of [
      [2, 0xff],
      [0, 0xc3], // a lead byte cut short
      [3, 0x80], // a lone continuation byte
    ] as const) {
      await writeFile(path, withBadByte(lines, at, byte));
      expect(await code(readStsFile(path))).toBe(
        `INVALID_INPUT: ${path}:${at + 1}: not valid UTF-8; re-save the file as UTF-8 (bytes that are not UTF-8 are never replaced silently).`,
      );
    }
  });

  it('BEIR files with a byte that is not UTF-8 are INVALID_INPUT naming the file and line', async () => {
    const dir = join(tmp(), 'beir');
    await mkdir(join(dir, 'qrels'), { recursive: true });
    const corpus = ['{"_id":"d1","text":"one"}', '{"_id":"d2","text":"two"}'];
    const queries = ['{"_id":"q1","text":"q one"}'];
    const qrels = ['query-id\tcorpus-id\tscore', 'q1\td1\t1'];
    const write = async (c: Uint8Array, q: Uint8Array, r: Uint8Array) => {
      await writeFile(join(dir, 'corpus.jsonl'), c);
      await writeFile(join(dir, 'queries.jsonl'), q);
      await writeFile(join(dir, 'qrels', 'test.tsv'), r);
    };
    const ok = (l: string[]) => utf8(l.join('\n'));
    await write(ok(corpus), ok(queries), ok(qrels));
    expect((await readBeirFolder(dir)).corpusIds).toEqual(['d1', 'd2']);
    await write(withBadByte(corpus, 1), ok(queries), ok(qrels));
    expect(await code(readBeirFolder(dir))).toMatch(`INVALID_INPUT: ${join(dir, 'corpus.jsonl')}:2: not valid UTF-8`);
    await write(ok(corpus), withBadByte(queries, 0, 0xfe), ok(qrels));
    expect(await code(readBeirFolder(dir))).toMatch(`INVALID_INPUT: ${join(dir, 'queries.jsonl')}:1: not valid UTF-8`);
    await write(ok(corpus), ok(queries), withBadByte(qrels, 1, 0xc0));
    expect(await code(readBeirFolder(dir))).toMatch(
      `INVALID_INPUT: ${join(dir, 'qrels', 'test.tsv')}:2: not valid UTF-8`,
    );
  });

  it('a text file larger than a JavaScript string can hold (sparse) is refused from stat, without reading it', async () => {
    const path = join(tmp(), 'huge.tsv');
    await writeFile(path, 'a\tb\t1\n');
    await truncate(path, 2 ** 29);
    expect(await code(readStsFile(path))).toMatch(/^INVALID_INPUT: .*has 536870912 bytes, more than the 536870888/);
  });

  it('a missing file, a folder or a FIFO is INVALID_INPUT', async () => {
    expect(await code(readStsFile(join(tmp(), 'none.tsv')))).toMatch(/^INVALID_INPUT: .*does not exist/);
    expect(await code(readStsFile(tmp()))).toMatch(/^INVALID_INPUT: .*is not a regular file/);
    execFileSync('mkfifo', [join(tmp(), 'fifo.tsv')]);
    expect(await code(readStsFile(join(tmp(), 'fifo.tsv')))).toMatch(/^INVALID_INPUT: .*is not a regular file/);
  });
});
