import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileIfExists, writeFileAtomic } from '../../src/node/atomic-write.js';
import { InvalidInputError } from '../../src/errors.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('writeFileAtomic', () => {
  const tmp = useTempDir('hpd-atomic-write-');

  it('50 overlapping writes of one path all succeed in call order; the last one wins and no temp file is left', async () => {
    const file = join(tmp(), 'a', 'out.bin');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => writeFileAtomic(file, `write ${i}`)),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe('write 49');
    expect(await readdir(join(tmp(), 'a'))).toEqual(['out.bin']);
  });

  it('removes temp files of killed writers once they are an hour old, and leaves younger ones (maybe a live writer)', async () => {
    const dir = join(tmp(), 'sweep');
    await mkdir(dir);
    const file = join(dir, 'x.hpdindex');
    const old = `${file}.0b5d4a53-5e2f-4a8c-9f2d-3c1e6b7a8d90.tmp`;
    const young = `${file}.1b5d4a53-5e2f-4a8c-9f2d-3c1e6b7a8d90.tmp`;
    const other = join(dir, 'y.hpdindex.2b5d4a53-5e2f-4a8c-9f2d-3c1e6b7a8d90.tmp');
    for (const f of [old, young, other]) await writeFile(f, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    await utimes(other, twoHoursAgo, twoHoursAgo);
    await writeFileAtomic(file, 'whole');
    expect((await readdir(dir)).sort()).toEqual(
      ['x.hpdindex', young.slice(dir.length + 1), other.slice(dir.length + 1)].sort(),
    );
  });

  it('streams the chunks of an async iterable; a typed error it throws keeps the old file and leaves no temp', async () => {
    const dir = join(tmp(), 'stream');
    await mkdir(dir);
    const file = join(dir, 'rows.f32');
    async function* chunks(fail: boolean) {
      for (let i = 0; i < 4; i++) {
        if (fail && i === 3) throw new InvalidInputError('row 3 is bad');
        yield new Uint8Array(100_000).fill(i);
      }
    }
    await writeFileAtomic(file, chunks(false));
    const got = await readFile(file);
    expect(got.length).toBe(400_000);
    expect([got[0], got[100_000], got[399_999]]).toEqual([0, 1, 3]);
    await expect(writeFileAtomic(file, chunks(true))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'row 3 is bad',
    });
    expect((await readFile(file)).equals(got)).toBe(true);
    expect(await readdir(dir)).toEqual(['rows.f32']);
  });

  it('failures are PERSIST_FAILED with the cause attached, the old file is untouched and no temp is left', async () => {
    const dir = join(tmp(), 'fail');
    await mkdir(join(dir, 'target-is-a-dir'), { recursive: true });
    const err = (await writeFileAtomic(join(dir, 'target-is-a-dir'), 'x').catch((e: unknown) => e)) as {
      code: string;
      cause: { code: string };
    };
    expect(err).toMatchObject({ code: 'PERSIST_FAILED' });
    expect(['EISDIR', 'EPERM', 'ENOTEMPTY', 'EEXIST']).toContain(err.cause.code);
    expect(await readdir(dir)).toEqual(['target-is-a-dir']);
    expect(await readFileIfExists(join(dir, 'missing'))).toBeUndefined();
    await expect(readFileIfExists(join(dir, 'target-is-a-dir'))).rejects.toMatchObject({ code: 'PERSIST_FAILED' });
  });
});
