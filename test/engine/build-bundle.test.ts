import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { memorySource } from '../../src/bundle/source.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { buildBundle } from '../../src/engine/build-bundle.js';
import { PROBE_TEXTS } from '../../src/engine/golden.js';
import { main } from '../../src/node/cli.js';
import { wasmProbes } from '../../src/node/probe-runtime.js';
import { fetchModel } from '../../models/fetch.js';
import { writeStandIn } from '../../demo/prepare-model.js';
import { fixtureDir, TINY } from '../helpers/fixtures.js';
import { startHubServer } from '../helpers/hub-server.js';
import { useTempDir } from '../helpers/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const quiet = { out: () => {}, err: () => {}, tty: false };

async function manifestOf(dir: string): Promise<BundleManifest> {
  return JSON.parse(await readFile(join(dir, 'hpd.json'), 'utf8')) as BundleManifest;
}

function expectProbes(m: BundleManifest): void {
  expect(m.probes?.texts).toEqual([...PROBE_TEXTS]);
  expect(m.probes?.vectors).toHaveLength(PROBE_TEXTS.length);
  for (const v of m.probes!.vectors) expect(v).toHaveLength(m.dim);
}

describe('buildBundle', () => {
  it('compiles and records golden probes from a CPU run', async () => {
    const b = await buildBundle(memorySource(generateFixture(TINY), 'tiny'), { probes: await wasmProbes() });
    expectProbes(b.manifest);
    expect(JSON.parse(new TextDecoder().decode(b.files.get('hpd.json')!))).toEqual(b.manifest);
  });
});

describe('every bundle the project writes has golden probes', () => {
  const tmp = useTempDir('hpd-build-bundle-');

  it('hpd-embed convert (a folder)', async () => {
    const fx = await fixtureDir(TINY);
    try {
      expect(await main(['convert', fx.dir, '--out', join(tmp(), 'cli')], quiet)).toBe(0);
      expectProbes(await manifestOf(join(tmp(), 'cli')));
    } finally {
      await fx.cleanup();
    }
  });

  it('npm run models:fetch (convert with a Hub source)', async () => {
    const pinned = JSON.parse(await readFile(join(ROOT, 'models', 'hpd-minilm-f128.model.json'), 'utf8')) as {
      repo: string;
      revision: string;
    };
    const fx = await fixtureDir(TINY);
    const hub = await startHubServer({ [pinned.repo]: { [pinned.revision]: fx.dir } });
    try {
      const dir = await fetchModel(['--hub-url', hub.url, '--out', join(tmp(), 'fetched')], () => {});
      expectProbes(await manifestOf(dir));
    } finally {
      await hub.close();
      await fx.cleanup();
    }
  });

  it("the demo's random stand-in", async () => {
    await writeStandIn(join(tmp(), 'stand-in'), 'stand-in', TINY);
    expectProbes(await manifestOf(join(tmp(), 'stand-in')));
  });

  it('no code outside buildBundle compiles a checkpoint (a new writer cannot skip the probes)', async () => {
    const callers: string[] = [];
    for (const top of ['src', 'models', 'demo', 'scripts', 'examples', 'bench']) {
      for (const e of await readdir(join(ROOT, top), { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !e.name.endsWith('.ts')) continue;
        const file = join(e.parentPath, e.name);
        const rel = relative(ROOT, file);
        // The compiler itself, its public re-export, and benchmarks that time the compile alone.
        if (rel.startsWith('src/convert/') || rel === 'src/engine/build-bundle.ts' || top === 'bench') continue;
        if (/\bcompileCheckpoint\s*\(/.test(await readFile(file, 'utf8'))) callers.push(rel);
      }
    }
    expect(callers).toEqual([]);
  });
});
