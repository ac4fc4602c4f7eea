// The golden check: probe vectors recorded at compile time (CLI convert, in-worker compile) and checked on load.
import { readFile, rm, mkdtemp, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { Engine } from '../../src/engine/engine.js';
import { PROBE_TEXTS } from '../../src/engine/golden.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { memoryCache } from '../../src/model/cache.js';
import { main, type CliIO } from '../../src/node/cli.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { startHubServer } from '../helpers/hub-server.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';

const quiet = (): CliIO => ({ tty: false, out: () => {}, err: () => {} });

describe('golden check (probe vectors in hpd.json)', () => {
  let root: string;
  let ckpt: { dir: string; cleanup: () => Promise<void> };
  let bundleDir: string;
  let manifest: BundleManifest;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-golden-'));
    ckpt = await fixtureDir({ layers: 1, hidden: 32, heads: 4, ffn: 64, dim: 16, maxPositions: 128, maxSeqLength: 48 });
    bundleDir = join(root, 'bundle');
    expect(await main(['convert', ckpt.dir, '--out', bundleDir], quiet())).toBe(0);
    manifest = JSON.parse(await readFile(join(bundleDir, 'hpd.json'), 'utf8')) as BundleManifest;
  }, 60_000);
  afterAll(async () => {
    await ckpt?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('CLI convert records the probes: fixed texts and the vectors a CPU run of the compiled model gives', async () => {
    expect(manifest.probes?.texts).toEqual([...PROBE_TEXTS]);
    expect(manifest.probes?.ep).toBe('wasm');
    const tok = new TextTokenizer(
      JSON.parse(await readFile(join(bundleDir, 'tokenizer.json'), 'utf8')),
      {},
      manifest.maxTokens,
    );
    const ref = await runModel(
      new Uint8Array(await readFile(join(bundleDir, 'model.onnx'))),
      PROBE_TEXTS.map((t) => Array.from(tok.encode(t).ids)),
    );
    ref.forEach((r, i) => expect(maxAbsDiff(manifest.probes!.vectors[i], r)).toBeLessThanOrEqual(2e-6));
  });

  it('a checkpoint compiled inside the engine gets the same probes (and they are cached with the bundle)', async () => {
    const hub = await startHubServer({ 'test/golden': { main: ckpt.dir } });
    const cache = memoryCache();
    try {
      const e = await Engine.create(
        { ort, cache, fetch: (u, i) => fetch(u, i), gpu: {}, wasmThreads: 1 },
        { model: 'test/golden', hubUrl: hub.url, device: 'wasm' },
      );
      expect(e.device.reason).not.toMatch(/GOLDEN/);
      await e.dispose();
      const key = (await cache.list()).find((x) => x.key.startsWith('compiled:') && x.key.endsWith('hpd.json'))!.key;
      const cached = JSON.parse(new TextDecoder().decode(await cache.get(key))) as BundleManifest;
      expect(cached.probes?.texts).toEqual([...PROBE_TEXTS]);
      cached.probes!.vectors.forEach((v, i) =>
        expect(maxAbsDiff(v, manifest.probes!.vectors[i])).toBeLessThanOrEqual(2e-6),
      );
    } finally {
      await hub.close();
    }
  }, 60_000);

  it('on the CPU path, probes that disagree are a loud device.reason, not a failure (there is nothing to fall back to)', async () => {
    // hpd.json carries no hash of itself, so editing its probes needs no re-hashing.
    const bad = join(root, 'bad');
    await cp(bundleDir, bad, { recursive: true });
    const m = structuredClone(manifest);
    m.probes!.vectors[1] = m.probes!.vectors[1].map((x, j) => (j % 2 ? -x : x));
    await writeFile(join(bad, 'hpd.json'), JSON.stringify(m));
    for (const backend of ['wasm'] as const) {
      const good = await createEmbedder({ model: bundleDir, threads: 1, backend });
      const e = await createEmbedder({ model: bad, threads: 1, backend });
      try {
        expect(good.device.reason).not.toMatch(/GOLDEN/);
        expect(e.device.actual).toBe('wasm');
        expect(e.device.reason).toMatch(/GOLDEN CHECK FAILED on wasm too: probe cosine -?[\d.]+ < 0\.999/);
        // Still usable, and the vectors are the model's own.
        expect(maxAbsDiff(await e.embed(['x']), await good.embed(['x']))).toBe(0);
      } finally {
        await e.dispose();
        await good.dispose();
      }
    }
    await writeFile(
      join(bad, 'hpd.json'),
      JSON.stringify({ ...m, probes: { texts: ['a'], vectors: [[1, 2]], ep: 'wasm' } }),
    );
    await expect(createEmbedder({ model: bad, threads: 1, backend: 'wasm' })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
    });
  }, 60_000);
});
