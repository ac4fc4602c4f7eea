import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type BundleManifest } from '../../src/bundle/manifest.js';
import { memorySource } from '../../src/bundle/source.js';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { HpdError } from '../../src/errors.js';
import { TINY } from '../helpers/fixtures.js';

describe('parseManifest: randomWeights', () => {
  // A real compiled manifest (of a fixture: randomWeights true), with the field changed per case.
  let base: BundleManifest;
  beforeAll(async () => {
    base = (await compileCheckpoint(memorySource(generateFixture(TINY)))).manifest;
  });
  const bytes = (randomWeights: unknown) => {
    const m: Record<string, unknown> = { ...base, randomWeights };
    if (randomWeights === undefined) delete m.randomWeights;
    return new TextEncoder().encode(JSON.stringify(m));
  };

  it('keeps a boolean randomWeights and leaves it absent when absent', () => {
    expect(base.randomWeights).toBe(true);
    expect(parseManifest(bytes(true), 'hpd.json').randomWeights).toBe(true);
    expect(parseManifest(bytes(false), 'hpd.json').randomWeights).toBe(false);
    expect(parseManifest(bytes(undefined), 'hpd.json').randomWeights).toBeUndefined();
  });

  it('refuses a non-boolean randomWeights with MODEL_INVALID naming the field', () => {
    for (const v of ['true', 1, null, {}]) {
      let err: unknown;
      try {
        parseManifest(bytes(v), 'hpd.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(HpdError);
      expect(err).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/randomWeights/) });
    }
  });
});

describe('parseManifest: teacherProjection.normalizeInput', () => {
  const m = (normalizeInput: unknown): Uint8Array => {
    const tp: Record<string, unknown> = {
      file: { path: 'teacher_projection.f32', bytes: 4, sha256: 'a'.repeat(64) },
      teacherDim: 4,
      dim: 2,
      center: true,
      normalizeInput,
    };
    if (normalizeInput === undefined) delete tp.normalizeInput;
    return new TextEncoder().encode(JSON.stringify({ ...base, teacherProjection: tp }));
  };
  let base: BundleManifest;
  beforeAll(async () => {
    base = (await compileCheckpoint(memorySource(generateFixture(TINY)))).manifest;
  });

  it('keeps a boolean; absent (bundles compiled before it) stays absent', () => {
    expect(parseManifest(m(true), 'hpd.json').teacherProjection!.normalizeInput).toBe(true);
    expect(parseManifest(m(false), 'hpd.json').teacherProjection!.normalizeInput).toBe(false);
    expect(parseManifest(m(undefined), 'hpd.json').teacherProjection!.normalizeInput).toBeUndefined();
  });

  it('refuses anything else with MODEL_INVALID naming the field', () => {
    for (const v of ['true', 1, null, {}])
      expect(() => parseManifest(m(v), 'hpd.json'), JSON.stringify(v)).toThrow(
        expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringMatching(/normalizeInput/) }),
      );
  });
});
