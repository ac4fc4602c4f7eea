// `hpd-embed project`: teacher vectors (.npy or raw float32) → the student's space, checked against a float64 reference.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateFixture } from '../../src/convert/fixture.js';
import { main } from '../../src/node/cli.js';
import { readTeacherProjection } from '../../src/node/eval-files.js';
import { readTeacherCorpus } from '../../src/node/teacher-vectors.js';
import type { TeacherProjection } from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';
import { TINY } from '../helpers/fixtures.js';
import { npyBytes, writeDistilledBundle } from '../helpers/teacher-files.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { referenceProjectTeacher } from '../reference/teacher-projection.js';
import { capture } from '../helpers/cli-capture.js';

const D = 24;
const d = TINY.dim!;

function projection(center: boolean, seed: number): TeacherProjection {
  const r = seededRandom(seed);
  return {
    teacherDim: D,
    dim: d,
    center,
    components: Float32Array.from({ length: d * D }, () => r() - 0.5),
    mean: Float32Array.from({ length: D }, () => 2 * r() - 1),
  };
}

function teacherVectors(n: number, seed: number): Float32Array;
function teacherVectors(n: number, seed: number, f64: true): Float64Array;
function teacherVectors(n: number, seed: number, f64 = false): Float32Array | Float64Array {
  const r = seededRandom(seed);
  const x = f64 ? new Float64Array(n * D) : new Float32Array(n * D);
  for (let i = 0; i < x.length; i++) x[i] = 4 * r() - 2;
  return x;
}

/** `out` (N × d float32) equals the float64 reference of `x` within float32 rounding. */
async function expectProjected(out: string, x: ArrayLike<number>, p: TeacherProjection): Promise<void> {
  const b = await readFile(out);
  const got = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const want = referenceProjectTeacher(x, p);
  expect(got.length).toBe(want.length * d);
  let worst = 0;
  want.forEach((row, r) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[r * d + i] - v)))));
  expect(worst).toBeLessThan(1e-6);
}

describe('hpd-embed project', () => {
  const tmp = useTempDir('hpd-cli-project-');
  const centred = projection(true, 7);
  const plain = projection(false, 8);
  let bundleC = '';
  let bundleP = '';
  let noProjection = '';
  const normalizedC = { ...projection(true, 9), normalizeInput: true };
  let bundleN = '';
  let bundleBefore = '';

  beforeAll(async () => {
    const checkpoint = generateFixture(TINY);
    bundleC = await writeDistilledBundle(join(tmp(), 'centred'), checkpoint, centred);
    bundleP = await writeDistilledBundle(join(tmp(), 'plain'), checkpoint, plain);
    noProjection = join(tmp(), 'no-projection');
    await writeDistilledBundle(noProjection, checkpoint, plain);
    const m = JSON.parse(await readFile(join(noProjection, 'hpd.json'), 'utf8'));
    delete m.teacherProjection;
    await writeFile(join(noProjection, 'hpd.json'), JSON.stringify(m));
    bundleN = await writeDistilledBundle(join(tmp(), 'normalized'), checkpoint, normalizedC);
    // The same bundle as compiled before hpd.json carried normalizeInput (sha256s cover files, not hpd.json).
    bundleBefore = await writeDistilledBundle(join(tmp(), 'before'), checkpoint, normalizedC);
    const b = JSON.parse(await readFile(join(bundleBefore, 'hpd.json'), 'utf8'));
    expect(b.teacherProjection.normalizeInput).toBe(true);
    delete b.teacherProjection.normalizeInput;
    await writeFile(join(bundleBefore, 'hpd.json'), JSON.stringify(b));
  }, 120_000);

  const run = async (args: string[]) => {
    const io = capture();
    const code = await main(['project', ...args], io);
    return { code, ...io };
  };

  it('projects a float32 .npy: (x − mean)·Cᵀ normalised for a centred student, printing one summary line', async () => {
    const x = teacherVectors(37, 1);
    const vectors = join(tmp(), 'small.npy');
    await writeFile(vectors, npyBytes(x, 37, D));
    const out = join(tmp(), 'small.f32');
    const r = await run(['--bundle', bundleC, '--vectors', vectors, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 37 vectors, 24-d teacher → 16-d student space \\(centred\\), 2368 bytes of float32, [\\d.]+ s\\n$`,
      ),
    );
    await expectProjected(out, x, centred);
  });

  it('normalizeInput in hpd.json: raw teacher rows are made unit length before centring; without it, as before', async () => {
    const x = teacherVectors(20, 6); // rows of length about 6, not 1
    const vectors = join(tmp(), 'raw-teacher.npy');
    await writeFile(vectors, npyBytes(x, 20, D));
    const out = join(tmp(), 'normalized.f32');
    expect((await run(['--bundle', bundleN, '--vectors', vectors, '--out', out])).code).toBe(0);
    await expectProjected(out, x, normalizedC);
    const before = join(tmp(), 'before.f32');
    expect((await run(['--bundle', bundleBefore, '--vectors', vectors, '--out', before])).code).toBe(0);
    await expectProjected(before, x, { ...normalizedC, normalizeInput: false });
    expect(await readTeacherProjection(bundleN)).toMatchObject({ center: true, normalizeInput: true });
    expect((await readTeacherProjection(bundleBefore)).normalizeInput).toBeUndefined();
    // eval --teacher-corpus: the same flag through readTeacherCorpus.
    const corpus = await readTeacherCorpus(bundleN, vectors, undefined, 20);
    const want = referenceProjectTeacher(x, normalizedC);
    expect(
      Math.max(...want.flatMap((row, k) => Array.from(row, (v, i) => Math.abs(corpus[k * d + i] - v)))),
    ).toBeLessThan(1e-6);
  });

  it('projects a float64 .npy larger than one read chunk, and raw float32 rows with --teacher-dim (--json)', async () => {
    const n = 50_000; // 9.6 MB of float64: several chunks of rows
    const x = teacherVectors(n, 2, true);
    const vectors = join(tmp(), 'big.npy');
    await writeFile(vectors, npyBytes(x, n, D));
    const out = join(tmp(), 'big.f32');
    expect((await run(['--bundle', bundleP, '--vectors', vectors, '--out', out])).code).toBe(0);
    await expectProjected(out, x, plain);

    const raw = teacherVectors(5, 3);
    const rawPath = join(tmp(), 'teacher.f32');
    await writeFile(rawPath, raw);
    const rawOut = join(tmp(), 'raw-out.f32');
    const r = await run(['--bundle', bundleC, '--vectors', rawPath, '--teacher-dim', '24', '--out', rawOut, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out: rawOut, vectors: 5, teacherDim: 24, dim: 16, bytes: 320 });
    await expectProjected(rawOut, raw, centred);
  }, 60_000);

  it('a bad row late in the file is INVALID_INPUT naming its row, and the old --out stays as it was', async () => {
    const n = 50_000;
    const x = teacherVectors(n, 4, true);
    x[45_000 * D + 3] = NaN;
    const vectors = join(tmp(), 'nan.npy');
    await writeFile(vectors, npyBytes(x, n, D));
    const out = join(tmp(), 'kept.f32');
    await writeFile(out, 'old');
    const r = await run(['--bundle', bundleC, '--vectors', vectors, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /--vectors .*nan\.npy: row 45000 \(from 0\) has a non-finite value at 3\. \[INVALID_INPUT\]/,
    );
    expect(await readFile(out, 'utf8')).toBe('old');
  }, 60_000);

  it('every bad input is a typed error before anything is written', async () => {
    const x = teacherVectors(3, 5);
    const f64 = Float64Array.from(x);
    const write = async (name: string, bytes: Uint8Array) => {
      await writeFile(join(tmp(), name), bytes);
      return join(tmp(), name);
    };
    const good = await write('good.npy', npyBytes(x, 3, D));
    const full = npyBytes(x, 3, D);
    const cases: [string[], RegExp][] = [
      [
        ['--bundle', noProjection, '--vectors', good],
        /has no teacher projection: it was not compiled from a distilled student.*\[MODEL_INVALID\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('wide.npy', npyBytes(new Float32Array(3 * 25), 3, 25))],
        /holds 25-d vectors but the bundle's teacher projection expects 24-d ones.*\[DIM_MISMATCH\]/,
      ],
      [['--bundle', bundleC, '--vectors', good, '--teacher-dim', '12'], /--teacher-dim says 12.*\[DIM_MISMATCH\]/],
      [
        ['--bundle', bundleC, '--vectors', await write('short.npy', full.subarray(0, full.length - 5))],
        /has \d+ bytes, but its header says 3 × 24 float32 \(\d+ bytes\): it is truncated\. \[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('tiny.npy', full.subarray(0, 9))],
        /the \.npy header is truncated\. \[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('text.npy', new TextEncoder().encode('1.0 2.0\n'))],
        /not a \.npy file \(no \\x93NUMPY magic\).*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('header.npy', full.subarray(0, 40))],
        /the \.npy header is truncated\. \[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('fortran.npy', npyBytes(x, 3, D, { fortran: true }))],
        /Fortran order.*np\.ascontiguousarray.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('int.npy', npyBytes(x, 3, D, { descr: '<i4' }))],
        /dtype <i4 is not supported; save little-endian float32 or float64.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('big-endian.npy', npyBytes(f64, 3, D, { descr: '>f8' }))],
        /dtype >f8 is not supported.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('3d.npy', npyBytes(x, 3, D, { shape: '(3, 4, 6)' }))],
        /shape \(3, 4, 6\); pass a 2-d array.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('empty.npy', npyBytes(new Float32Array(0), 0, D))],
        /holds no vectors.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('raw.f32', new Uint8Array(x.buffer))],
        /raw float32 rows need --teacher-dim D.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', join(tmp(), 'raw.f32'), '--teacher-dim', '25'],
        /has 288 bytes, not a positive multiple of 100.*\[INVALID_INPUT\]/,
      ],
      [
        ['--bundle', bundleC, '--vectors', await write('misnamed.bin', full), '--teacher-dim', '24'],
        /is a \.npy file; name it \*\.npy.*\[INVALID_INPUT\]/,
      ],
      [['--bundle', bundleC, '--vectors', join(tmp(), 'missing.npy')], /cannot read --vectors .*: no such file/],
      [['--bundle', bundleC, '--vectors', tmp()], /it is not a regular file.*\[INVALID_INPUT\]/],
      [['--bundle', bundleC, '--vectors', good, '--out', tmp()], /--out .* exists and is not a regular file/],
    ];
    for (const [args, message] of cases) {
      const out = args.includes('--out') ? [] : ['--out', join(tmp(), 'never.f32')];
      const r = await run([...args, ...out]);
      expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(message),
      });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    await expect(stat(join(tmp(), 'never.f32'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  it('a missing flag or a bad --teacher-dim is a usage error (exit 2); the overview lists project', async () => {
    const r = await run(['--bundle', bundleC, '--vectors', 'x.npy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/project needs --bundle, --vectors and --out[\s\S]*Usage: hpd-embed project/);
    const dim = await run(['--bundle', bundleC, '--vectors', 'x.f32', '--out', 'y', '--teacher-dim', '0']);
    expect(dim.code).toBe(2);
    expect(dim.stderr).toMatch(/--teacher-dim must be a positive integer, got "0"/);
    const help = capture();
    expect(await main([], help)).toBe(0);
    expect(help.stdout).toMatch(/hpd-embed project --bundle <bundle-dir> --vectors/);
  });
});
