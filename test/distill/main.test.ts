// python -m distill's command line: output folders it may replace, and inputs checked before any work is done.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { useDistillInputs } from './inputs.js';
import { runDistill, torchMissing, ONE_SHORT_EPOCH } from './python.js';

if (torchMissing) console.warn(`skipping python -m distill command-line tests: ${torchMissing}`);

const N = 60,
  D = 12;

describe.skipIf(Boolean(torchMissing))('python -m distill: outputs and fail-fast checks', () => {
  const tmp = useTempDir('hpd-distill-main-');
  const { student, teacher } = useDistillInputs(tmp, { n: N, d: D, teacherSeed: 3, vectorSeed: 4 });

  /** A tiny run from user-supplied vectors (seconds of CPU). */
  const distill = (extra: string[]) =>
    runDistill(
      [
        '--teacher-vectors',
        join(tmp(), 'v.f32'),
        '--sentences',
        join(tmp(), 's.txt'),
        '--student',
        student().dir,
        '--dim',
        '4',
        ...ONE_SHORT_EPOCH,
        ...extra,
      ],
      240_000,
    );
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => new Error('python -m distill succeeded'),
      (e: Error) => e,
    );

  it('--initial-out naming a non-empty folder is refused without --overwrite, and the folder is untouched', async () => {
    const keep = join(tmp(), 'keep');
    await mkdir(keep);
    await writeFile(join(keep, 'notes.txt'), 'mine');
    const err = await failure(distill(['--out', join(tmp(), 'out-a'), '--initial-out', keep]));
    expect(err.message).toMatch(/error: --initial-out .*keep exists and is not empty; pass --overwrite/);
    expect(await readdir(keep)).toEqual(['notes.txt']);
    expect(await readFile(join(keep, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(tmp(), 'out-a'))).toBe(false);
  }, 240_000);

  it('--overwrite replaces only folders python -m distill wrote; never a symlink', async () => {
    const theirs = join(tmp(), 'theirs');
    await mkdir(theirs);
    await writeFile(join(theirs, 'notes.txt'), 'mine');
    for (const flag of ['--out', '--initial-out']) {
      const args = flag === '--out' ? ['--out', theirs] : ['--out', join(tmp(), 'out-b'), '--initial-out', theirs];
      const err = await failure(distill([...args, '--overwrite']));
      expect(err.message).toMatch(new RegExp(`error: ${flag} .*theirs was not written by python -m distill`));
      expect(await readdir(theirs)).toEqual(['notes.txt']);
    }
    await symlink(theirs, join(tmp(), 'link'));
    expect((await failure(distill(['--out', join(tmp(), 'link'), '--overwrite']))).message).toMatch(
      /--out .*link is a symbolic link/,
    );

    const ours = join(tmp(), 'ours'),
      oursInitial = join(tmp(), 'ours-initial');
    await distill(['--out', ours, '--initial-out', oursInitial]);
    expect(existsSync(join(ours, '.hpd-distill'))).toBe(true);
    expect(existsSync(join(oursInitial, '.hpd-distill'))).toBe(true);
    expect((await failure(distill(['--out', ours, '--initial-out', oursInitial]))).message).toMatch(
      /--out .*ours exists and is not empty/,
    );
    await distill(['--out', ours, '--initial-out', oursInitial, '--overwrite']);
    expect(existsSync(join(ours, 'distill_metrics.json'))).toBe(true);
  }, 240_000);

  it('a wrong --student is reported before the teacher embeds anything', async () => {
    const err = await failure(
      runDistill(
        [
          '--teacher',
          teacher().dir,
          '--sentences',
          join(tmp(), 's.txt'),
          '--student',
          join(tmp(), 'no-such-student'),
          '--out',
          join(tmp(), 'out-c'),
        ],
        120_000,
      ),
    );
    expect(err.message).toMatch(/error: .*no-such-student: no such folder/);
    expect(err.message).not.toMatch(/embedding \d+ sentences/);
  }, 120_000);

  it('a wrong --teacher, --sentences or --dim is reported before any work, each in one line', async () => {
    const base = ['--sentences', join(tmp(), 's.txt'), '--student', student().dir, '--out', join(tmp(), 'out-d')];
    const cases: [string[], RegExp][] = [
      [['--teacher', join(tmp(), 'nothere'), ...base], /nothere: no such folder/],
      [['--teacher', teacher().dir, ...base, '--sentences', join(tmp(), 'none.txt')], /none\.txt/],
      [
        ['--teacher', teacher().dir, ...base, '--dim', '500'],
        /--dim 500 must be between 1 and the teacher's dimension 32/,
      ],
      [['--teacher', teacher().dir, ...base, '--batch', '0'], /--batch must be at least 1/],
    ];
    for (const [args, re] of cases) {
      const err = await failure(runDistill(args, 120_000));
      expect(err.message).toMatch(re);
      expect(err.message).not.toMatch(/Traceback|embedding \d+ sentences/);
    }
    expect(existsSync(join(tmp(), 'out-d'))).toBe(false);
  }, 240_000);
});
