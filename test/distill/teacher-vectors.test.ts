// Teacher vectors the user brings (raw float32 or .npy, one row per sentence): the path for API or in-house teachers.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../src/node/cli.js';
import { readTeacherProjection } from '../../src/node/eval-files.js';
import { seededRandom } from '../../src/seeded-random.js';
import { fixtureDir, TINY, sentences } from '../helpers/fixtures.js';
import { runDistill, torchMissing } from './python.js';

if (torchMissing) console.warn(`skipping user-supplied teacher vector tests: ${torchMissing}`);

const quiet: CliIO = { out: () => {}, err: () => {}, tty: false };

describe.skipIf(Boolean(torchMissing))('python -m distill --teacher-vectors', () => {
  let root = '';
  let student: Awaited<ReturnType<typeof fixtureDir>> | undefined;
  const N = 300,
    D = 40;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-tv-'));
    student = await fixtureDir({ ...TINY, dim: 0 });
    await writeFile(join(root, 's.txt'), sentences(N).texts.slice(0, N).join('\n') + '\n');
    const r = seededRandom(8);
    await writeFile(join(root, 'v.f32'), new Uint8Array(Float32Array.from({ length: N * D }, () => r() - 0.5).buffer));
  });
  afterAll(async () => {
    await student?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('trains from raw float32 vectors and the result compiles with the projection recorded', async () => {
    const out = join(root, 'out');
    const { stderr } = await runDistill([
      '--teacher-vectors',
      join(root, 'v.f32'),
      '--sentences',
      join(root, 's.txt'),
      '--student',
      student!.dir,
      '--out',
      out,
      '--dim',
      '8',
      '--epochs',
      '1',
      '--batch',
      '64',
      '--warmup',
      '2',
      '--pca-sample',
      '100',
      '--center',
    ]);
    expect(stderr).toMatch(new RegExp(`${N} user-supplied vectors of dimension ${D}`));
    expect(stderr).toMatch(/PCA: 40 -> 8 dimensions, [\d.]+% of the variance, centring on/);
    // Uniform [-0.5, 0.5) rows are far from unit length: --normalize (the default) says so and normalises them.
    expect(stderr).toMatch(
      /warning: 300 of 300 vectors in .*v\.f32 are not unit length .* L2-normalised before the PCA/,
    );
    expect(await main(['convert', out, '--out', join(root, 'bundle')], quiet)).toBe(0);
    expect(await readTeacherProjection(join(root, 'bundle'))).toMatchObject({ teacherDim: D, dim: 8, center: true });
    expect(await readFile(join(out, 'README.md'), 'utf8')).toMatch(
      /fitted on 100 teacher vectors .* applied with centring/,
    );
  }, 300_000);

  it('a row count that does not match the sentences is one clear error, and nothing is written', async () => {
    await writeFile(join(root, 'short.f32'), new Uint8Array(4 * D * (N - 1)));
    await expect(
      runDistill([
        '--teacher-vectors',
        join(root, 'short.f32'),
        '--teacher-dim',
        String(D),
        '--sentences',
        join(root, 's.txt'),
        '--student',
        student!.dir,
        '--out',
        join(root, 'bad'),
        '--dim',
        '8',
      ]),
    ).rejects.toThrow(/error: .*short\.f32: expected 300 rows/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  }, 120_000);
});
