// The small distillation inputs several distill tests share: a 1-layer student, a teacher, n sentences (s.txt) and
// n × d random teacher vectors (v.f32) in the test's folder, made before its tests and removed after.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import { fixtureDir, TINY, sentences } from '../helpers/fixtures.js';

type Fixture = Awaited<ReturnType<typeof fixtureDir>>;

export function useDistillInputs(
  dir: () => string,
  o: { n: number; d: number; teacherSeed: number; vectorSeed: number },
): { student: () => Fixture; teacher: () => Fixture } {
  let student: Fixture | undefined;
  let teacher: Fixture | undefined;
  beforeAll(async () => {
    student = await fixtureDir({ ...TINY, layers: 1, dim: 0 });
    teacher = await fixtureDir({ ...TINY, dim: 0, seed: o.teacherSeed });
    await writeFile(join(dir(), 's.txt'), sentences(o.n).texts.slice(0, o.n).join('\n') + '\n');
    const r = seededRandom(o.vectorSeed);
    await writeFile(
      join(dir(), 'v.f32'),
      new Uint8Array(Float32Array.from({ length: o.n * o.d }, () => r() - 0.5).buffer),
    );
  });
  afterAll(async () => {
    await student?.cleanup();
    await teacher?.cleanup();
  });
  return { student: () => student!, teacher: () => teacher! };
}
