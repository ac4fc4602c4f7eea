import { describe, expect, it } from 'vitest';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { writeSafetensors } from '../../src/convert/safetensors.js';
import { memorySource } from '../../src/bundle/source.js';
import { sha256Hex } from '../../src/bundle/sha256.js';
import { decodeTeacherProjection } from '../../src/search/project-teacher.js';
import { TINY } from '../helpers/fixtures.js';

describe('compile: teacher_projection.safetensors → hpd.json teacherProjection', () => {
  const D = 24,
    d = TINY.dim!;
  const components = Float32Array.from({ length: d * D }, (_, i) => Math.sin(i));
  const mean = Float32Array.from({ length: D }, (_, i) => i / 10);
  /** The fixture student with teacher_projection.safetensors (components, mean and `metadata`) beside it. */
  const withProjection = (metadata: Record<string, string>) => {
    const files = generateFixture(TINY);
    files.set(
      'teacher_projection.safetensors',
      writeSafetensors(
        [
          ['components', { shape: [d, D], data: components }],
          ['mean', { shape: [D], data: mean }],
        ],
        metadata,
      ),
    );
    return files;
  };

  it('records the projection as a bundle file with sha256, and the runtime reads it back', async () => {
    const b = await compileCheckpoint(
      memorySource(withProjection({ center: 'true', teacher: 'big-teacher' }), 'student'),
    );
    const info = b.manifest.teacherProjection!;
    expect(info).toMatchObject({
      teacherDim: D,
      dim: d,
      center: true,
      normalizeInput: false, // no "normalized" metadata: a checkpoint from before --normalize
      teacher: 'big-teacher',
      file: { path: 'teacher_projection.f32', bytes: 4 * (d * D + D) },
    });
    const bytes = b.files.get('teacher_projection.f32')!;
    expect(info.file.sha256).toBe(await sha256Hex(bytes));
    const p = decodeTeacherProjection(bytes, info);
    expect(Array.from(p.components)).toEqual(Array.from(components));
    expect(Array.from(p.mean)).toEqual(Array.from(mean));
    expect(JSON.parse(new TextDecoder().decode(b.files.get('hpd.json')!)).teacherProjection).toEqual(info);
  });

  it('a checkpoint without one has no field; a projection of the wrong size is a typed error', async () => {
    expect((await compileCheckpoint(memorySource(generateFixture(TINY)))).manifest.teacherProjection).toBeUndefined();
    const files = generateFixture(TINY);
    files.set(
      'teacher_projection.safetensors',
      writeSafetensors([
        ['components', { shape: [d + 1, D], data: new Float32Array((d + 1) * D) }],
        ['mean', { shape: [D], data: mean }],
      ]),
    );
    await expect(compileCheckpoint(memorySource(files))).rejects.toMatchObject({ code: 'DIM_MISMATCH' });
  });

  it('carries "normalized": "true" (python -m distill --normalize) into hpd.json as normalizeInput, to projectTeacher', async () => {
    for (const normalized of ['true', 'false']) {
      const b = await compileCheckpoint(memorySource(withProjection({ center: 'true', normalized }), 'student'));
      const json = JSON.parse(new TextDecoder().decode(b.files.get('hpd.json')!));
      expect(json.teacherProjection.normalizeInput).toBe(normalized === 'true');
      const p = decodeTeacherProjection(b.files.get('teacher_projection.f32')!, b.manifest.teacherProjection!);
      expect(p.normalizeInput).toBe(normalized === 'true');
    }
  });
});
