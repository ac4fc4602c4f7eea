// The MV3 example extension, loaded unpacked into headless Chromium: the service worker asks the offscreen
// document, which runs the embedder (module Worker, ORT wasm packaged in the extension) on a bundled model.
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Worker as PwWorker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExtension } from '../../examples/mv3-extension/build.js';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { folderSource } from '../../src/node/fs-source.js';
import { writeFolderAtomic } from '../../src/node/write-folder.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, chromiumUnavailableReason } from './chromium.js';

const available = chromiumAvailable();
if (!available) console.warn(`skipping the MV3 extension test: ${chromiumUnavailableReason() ?? ''}`);

describe.skipIf(!available)('MV3 extension example (offscreen document, packaged model, no network)', () => {
  let root = '';
  let context: BrowserContext | undefined;
  let sw: PwWorker;
  let expected: Float32Array[] = [];
  let extDir = '';
  const texts = ['offline semantic search', 'a browser extension', ''];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-ext-'));
    const fx = await fixtureDir({ layers: 1, hidden: 32, heads: 4, ffn: 64, dim: 16, maxPositions: 64, maxSeqLength: 32 });
    const bundle = await compileCheckpoint(folderSource(fx.dir), { dtype: 'int8' });
    await writeFolderAtomic(join(root, 'bundle'), bundle.files);
    await fx.cleanup();
    const tok = new TextTokenizer(JSON.parse(new TextDecoder().decode(bundle.files.get('tokenizer.json'))), {}, 32);
    expected = await runModel(bundle.files.get('model.onnx')!, texts.map((t) => Array.from(tok.encode(t).ids)));
    const ext = (extDir = await buildExtension(join(root, 'ext'), join(root, 'bundle')));
    context = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
    });
    sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 60_000 }));
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('embeds through the offscreen document and matches Node', async () => {
    const r = await sw.evaluate((t) => (globalThis as unknown as { embedViaOffscreen: (x: string[]) => Promise<{ dim: number; device: string; vectors: number[] }> }).embedViaOffscreen(t), texts);
    expect(r.dim).toBe(16);
    for (let i = 0; i < texts.length; i++) expect(maxAbsDiff(r.vectors.slice(i * 16, (i + 1) * 16), expected[i])).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  type Chrome = { offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> } };
  const closeOffscreen = () => sw.evaluate(async () => {
    const c = (globalThis as unknown as { chrome: Chrome }).chrome;
    if (await c.offscreen.hasDocument()) await c.offscreen.closeDocument();
  });

  it('concurrent messages share one offscreen document instead of both creating one', async () => {
    await closeOffscreen();
    const r = await sw.evaluate(async (t) => {
      const g = globalThis as unknown as { embedViaOffscreen: (x: string[]) => Promise<{ dim: number }> };
      const all = await Promise.allSettled([g.embedViaOffscreen(t), g.embedViaOffscreen(t), g.embedViaOffscreen(t)]);
      return all.map((x) => (x.status === 'fulfilled' ? `ok ${x.value.dim}` : `error ${(x.reason as Error).message}`));
    }, texts);
    expect(r).toEqual(['ok 16', 'ok 16', 'ok 16']);
  }, 120_000);

  it('a failed createEmbedder in the offscreen document is retried by the next message, not cached for good', async () => {
    await closeOffscreen();
    await sw.evaluate(() => caches.delete('hpd-embed-models-v1')); // else the cached manifest would serve the load offline
    const manifest = join(extDir, 'models', 'bundle', 'hpd.json');
    await rename(manifest, `${manifest}.away`); // the packaged model is briefly unreadable
    const ask = () => sw.evaluate((t) => (globalThis as unknown as { embedViaOffscreen: (x: string[]) => Promise<{ dim: number }> }).embedViaOffscreen(t).then((v) => `ok ${v.dim}`, (e: Error & { code?: string }) => `error ${e.code ?? ''}`), texts);
    try {
      expect(await ask()).toMatch(/^error /);
    } finally {
      await rename(`${manifest}.away`, manifest);
    }
    expect(await ask()).toBe('ok 16');
  }, 120_000);

  it('indexes and searches in the offscreen worker', async () => {
    type G = { indexViaOffscreen: (ids: string[], t: string[]) => Promise<{ size: number }>; searchViaOffscreen: (q: string, k: number) => Promise<{ hits: { id: string; score: number }[] }> };
    const stats = await sw.evaluate(() => (globalThis as unknown as G).indexViaOffscreen(['a', 'b', 'c'], ['cats purr', 'stocks fell', 'kittens sleep']));
    expect(stats.size).toBe(3);
    const r = await sw.evaluate(() => (globalThis as unknown as G).searchViaOffscreen('stocks fell', 2));
    expect(r.hits[0].id).toBe('b');
    expect(r.hits[0].score).toBeCloseTo(1, 5);
  }, 120_000);
});
