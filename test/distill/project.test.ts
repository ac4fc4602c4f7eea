// `python -m distill project` (distill/project.py) puts teacher vectors into the student's space exactly as the
// TypeScript `projectTeacher` does, from the compiled bundle or from the distill output folder.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../src/node/cli.js';
import { readTeacherProjection } from '../../src/node/eval-files.js';
import { projectTeacher } from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';
import { fixtureDir, TINY, sentences } from '../helpers/fixtures.js';
import { maxAbsDiff } from '../helpers/ort-run.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { writeSafetensors } from '../../src/convert/safetensors.js';
import type { TeacherProjection } from '../../src/search/project-teacher.js';
import { writeDistilledBundle } from '../helpers/teacher-files.js';
import { runDistill, torchMissing, ONE_SHORT_EPOCH } from './python.js';

if (torchMissing) console.warn(`skipping python -m distill project tests: ${torchMissing}`);

const quiet: CliIO = { out: () => {}, err: () => {}, tty: false };
const N = 64,
  D = 12;

describe.skipIf(Boolean(torchMissing))('python -m distill project', () => {
  const tmp = useTempDir('hpd-distill-project-');
  let student: Awaited<ReturnType<typeof fixtureDir>> | undefined;
  let vectors: Float32Array;

  beforeAll(async () => {
    student = await fixtureDir({ ...TINY, layers: 1, dim: 0 });
    await writeFile(join(tmp(), 's.txt'), sentences(N).texts.slice(0, N).join('\n') + '\n');
    const r = seededRandom(9);
    vectors = Float32Array.from({ length: N * D }, () => r() - 0.5);
    await writeFile(join(tmp(), 'v.f32'), new Uint8Array(vectors.buffer));
    await runDistill(
      [
        '--teacher-vectors',
        join(tmp(), 'v.f32'),
        '--sentences',
        join(tmp(), 's.txt'),
        '--student',
        student.dir,
        '--out',
        join(tmp(), 'student'),
        '--dim',
        '5',
        ...ONE_SHORT_EPOCH,
      ],
      240_000,
    );
    expect(await main(['convert', join(tmp(), 'student'), '--out', join(tmp(), 'bundle')], quiet)).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await student?.cleanup();
  });

  for (const from of ['bundle', 'student'] as const)
    it(`from the ${from === 'bundle' ? 'compiled bundle' : 'distill output folder'}: equals projectTeacher within 1e-6`, async () => {
      const out = join(tmp(), `${from}.f32`);
      await runDistill(['project', '--bundle', join(tmp(), from), '--vectors', join(tmp(), 'v.f32'), '--out', out]);
      const b = await readFile(out);
      const py = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      const ts = projectTeacher(vectors, await readTeacherProjection(join(tmp(), 'bundle')));
      expect(py.length).toBe(N * 5);
      expect(maxAbsDiff(py, ts)).toBeLessThanOrEqual(1e-6);
    }, 120_000);

  it('vectors of the wrong width are one clear error', async () => {
    await writeFile(join(tmp(), 'bad.f32'), new Uint8Array(4 * 7));
    await expect(
      runDistill([
        'project',
        '--bundle',
        join(tmp(), 'bundle'),
        '--vectors',
        join(tmp(), 'bad.f32'),
        '--out',
        join(tmp(), 'x.f32'),
      ]),
    ).rejects.toThrow(/error: .*bad\.f32: 28 bytes is not a whole number of 12-d float32 rows/);
  }, 120_000);
});

// No training: a hand-written projection, centred and fitted on unit vectors, and raw (un-normalised) teacher rows,
// where normalising first changes the answer; Python and TypeScript must agree from the bundle and from the folder.
describe.skipIf(Boolean(torchMissing))('python -m distill project: normalizeInput', () => {
  const tmp = useTempDir('hpd-distill-project-norm-');
  const Dt = 24,
    d = TINY.dim!,
    n = 40;
  const r = seededRandom(31);
  const p: TeacherProjection = {
    teacherDim: Dt,
    dim: d,
    center: true,
    normalizeInput: true,
    components: Float32Array.from({ length: d * Dt }, () => r() - 0.5),
    mean: Float32Array.from({ length: Dt }, () => 0.3 * (r() - 0.5)),
  };
  const x = Float32Array.from({ length: n * Dt }, (_, i) => (r() - 0.5) * (1 + (i % 7)));
  const dirs = { bundle: '', folder: '', before: '' };

  beforeAll(async () => {
    await writeFile(join(tmp(), 'v.f32'), new Uint8Array(x.buffer));
    dirs.bundle = await writeDistilledBundle(join(tmp(), 'bundle'), generateFixture(TINY), p);
    dirs.before = await writeDistilledBundle(join(tmp(), 'before'), generateFixture(TINY), p);
    const m = JSON.parse(await readFile(join(dirs.before, 'hpd.json'), 'utf8'));
    delete m.teacherProjection.normalizeInput; // as compiled before hpd.json carried it
    await writeFile(join(dirs.before, 'hpd.json'), JSON.stringify(m));
    dirs.folder = join(tmp(), 'folder');
    await mkdir(dirs.folder);
    await writeFile(
      join(dirs.folder, 'teacher_projection.safetensors'),
      writeSafetensors(
        [
          ['components', { shape: [d, Dt], data: p.components }],
          ['mean', { shape: [Dt], data: p.mean }],
        ],
        { center: 'true', normalized: 'true' },
      ),
    );
  }, 120_000);

  const python = async (dir: string) => {
    const out = join(tmp(), `${dir.split('/').pop()}.f32`);
    await runDistill(['project', '--bundle', dir, '--vectors', join(tmp(), 'v.f32'), '--out', out]);
    const b = await readFile(out);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };

  it('bundle and distill folder: Python equals projectTeacher within 1e-6; a bundle without the flag, as before', async () => {
    const ts = projectTeacher(x, await readTeacherProjection(dirs.bundle));
    const unflagged = projectTeacher(x, { ...p, normalizeInput: false });
    expect(maxAbsDiff(ts, unflagged)).toBeGreaterThan(0.05); // the flag matters for these rows
    expect(maxAbsDiff(await python(dirs.bundle), ts)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(await python(dirs.folder), ts)).toBeLessThanOrEqual(1e-6);
    const before = projectTeacher(x, await readTeacherProjection(dirs.before));
    expect(maxAbsDiff(before, unflagged)).toBe(0);
    expect(maxAbsDiff(await python(dirs.before), before)).toBeLessThanOrEqual(1e-6);
  }, 120_000);

  it('a non-boolean normalizeInput in hpd.json is one clear error', async () => {
    const m = JSON.parse(await readFile(join(dirs.before, 'hpd.json'), 'utf8'));
    m.teacherProjection.normalizeInput = 'true';
    await writeFile(join(dirs.before, 'hpd.json'), JSON.stringify(m));
    await expect(
      runDistill([
        'project',
        '--bundle',
        dirs.before,
        '--vectors',
        join(tmp(), 'v.f32'),
        '--out',
        join(tmp(), 'x.f32'),
      ]),
    ).rejects.toThrow(/teacherProjection\.normalizeInput must be true or false, got 'true'/);
  }, 120_000);
});
