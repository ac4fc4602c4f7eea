// docs/ARCHITECTURE.md's hpd.json example names the same fields as a bundle the project writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/bundle/source.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { buildBundle } from '../../src/engine/build-bundle.js';
import { wasmProbes } from '../../src/node/probe-runtime.js';
import { TINY } from '../helpers/fixtures.js';

/** Keys, nested one level (`compute.precision`), of a manifest. */
function keys(m: Record<string, unknown>): string[] {
  return Object.entries(m)
    .flatMap(([k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v) ? [k, ...Object.keys(v).map((c) => `${k}.${c}`)] : [k],
    )
    .sort();
}

describe('the hpd.json example in docs/ARCHITECTURE.md', () => {
  it('has every field a written bundle has (source: a Hub-compiled one)', async () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'ARCHITECTURE.md'), 'utf8');
    const block = /```json\n(\{\n {2}"format": "hpd-embed\/1"[\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const example = JSON.parse(block!) as Record<string, unknown>;
    const built = await buildBundle(memorySource(generateFixture(TINY), 'tiny'), {
      probes: await wasmProbes(),
      source: { repo: 'o/n', revision: 'r' },
    });
    // A fixture is marked random (randomWeights: true); the example is the published model, described in the prose.
    expect(built.manifest.randomWeights).toBe(true);
    const { randomWeights: _random, ...published } = built.manifest;
    expect(keys(example)).toEqual(keys(published as unknown as Record<string, unknown>));
  });
});
