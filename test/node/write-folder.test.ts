import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HpdError } from '../../src/errors.js';
import { OUTPUT_MARKER, checkOutputFolder, writeFolderAtomic } from '../../src/node/write-folder.js';
import { useTempDir } from '../helpers/temp-dir.js';

const files = (text: string) => new Map([['a.txt', new TextEncoder().encode(text)]]);

/** Every file under `dir` (recursively) with its bytes, to prove a refused write changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length)] = e.isFile()
      ? (await readFile(p)).toString('base64')
      : `<${e.isDirectory() ? 'dir' : 'other'}>`;
  }
  return out;
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof HpdError)) throw new Error(`untyped: ${String(e)}`);
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a failure');
}

describe('writeFolderAtomic: replaces only what it wrote', () => {
  const root = useTempDir('hpd-write-folder-');

  it('marks its folders with a marker of the kind it wrote, and replaces them only when asked', async () => {
    const dir = join(root(), 'ours');
    await writeFolderAtomic(dir, files('one'), { kind: 'checkpoint' });
    expect(JSON.parse(await readFile(join(dir, OUTPUT_MARKER), 'utf8'))).toEqual({
      writtenBy: 'hpd-embed',
      kind: 'checkpoint',
    });
    expect(await failure(writeFolderAtomic(dir, files('two'), { kind: 'checkpoint', replace: false }))).toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringMatching(/--force/),
    });
    // Another kind of ours is not replaced either: `fixture --force` never overwrites a bundle, nor the reverse.
    expect(await failure(writeFolderAtomic(dir, files('two'), { kind: 'bundle' }))).toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringMatching(/holds a checkpoint .* not a bundle/),
    });
    await writeFolderAtomic(dir, files('two'), { kind: 'checkpoint', replace: true });
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('two');
    expect((await readdir(root())).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it('refuses a sentence-transformers folder, a folder with hpd.json but no marker, and a forged marker: bytes unchanged', async () => {
    const st = join(root(), 'st');
    await mkdir(join(st, '1_Pooling'), { recursive: true });
    await writeFile(
      join(st, 'modules.json'),
      '[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"}]',
    );
    await writeFile(join(st, 'config.json'), '{"model_type":"bert"}');
    await writeFile(join(st, 'model.safetensors'), 'weights');
    await writeFile(join(st, '1_Pooling/config.json'), '{}');
    const bundle = join(root(), 'foreign-bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'hpd.json'), '{"format":"hpd-embed/1"}');
    await writeFile(join(bundle, 'notes.md'), 'keep me');
    const linkedMarker = join(root(), 'linked-marker');
    await mkdir(linkedMarker);
    await writeFile(join(linkedMarker, 'data.bin'), 'precious');
    await symlink(join(root(), 'ours', OUTPUT_MARKER), join(linkedMarker, OUTPUT_MARKER));
    const badMarker = join(root(), 'bad-marker');
    await mkdir(badMarker);
    await writeFile(join(badMarker, OUTPUT_MARKER), '{"writtenBy":"someone-else","kind":"bundle"}');
    for (const [dir, kind] of [
      [st, 'checkpoint'],
      [bundle, 'bundle'],
      [linkedMarker, 'checkpoint'],
      [badMarker, 'bundle'],
    ] as const) {
      const before = await snapshot(dir);
      expect(await failure(writeFolderAtomic(dir, files('x'), { kind, replace: true })), dir).toMatchObject({
        code: 'OUTPUT_EXISTS',
        message: expect.stringMatching(/not a folder this tool wrote/),
      });
      expect(await snapshot(dir)).toEqual(before);
    }
  });

  it('never follows or replaces a symlinked output, even to a folder of its own', async () => {
    const real = join(root(), 'real');
    await writeFolderAtomic(real, files('mine'), { kind: 'bundle' });
    const link = join(root(), 'link');
    await symlink(real, link);
    const before = await snapshot(real);
    expect(await failure(writeFolderAtomic(link, files('x'), { kind: 'bundle', replace: true }))).toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringMatching(/symbolic link/),
    });
    expect(await snapshot(real)).toEqual(before);
    const dangling = join(root(), 'dangling');
    await symlink(join(root(), 'nowhere'), dangling);
    expect(await failure(checkOutputFolder(dangling, { kind: 'bundle' }))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readdir(root())).not.toContain('nowhere');
  });

  it('a path under a file and a file in place of the folder are typed errors, never raw ENOTDIR/EEXIST', async () => {
    const file = join(root(), 'plain.txt');
    await writeFile(file, 'text');
    expect(await failure(writeFolderAtomic(join(file, 'sub'), files('x')))).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/parent path is a file/),
    });
    expect(await failure(writeFolderAtomic(join(file, 'a', 'b'), files('x')))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await failure(writeFolderAtomic(file, files('x')))).toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringMatching(/not a folder/),
    });
    expect(await readFile(file, 'utf8')).toBe('text');
  });
});
