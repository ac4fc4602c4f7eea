// The MV3 example extension, loaded unpacked into headless Chromium: the service worker asks the offscreen
// document, which runs the embedder (module Worker, ORT wasm packaged in the extension) on a bundled model.
import { mkdtemp, rm } from 'node:fs/promises';
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
import { CHROMIUM_ARGS, CHROMIUM_PATH, skipBrowserSuite } from './chromium.js';

const available = !skipBrowserSuite('the MV3 extension test');

describe.skipIf(!available)('MV3 extension example (offscreen document, packaged model, no network)', () => {
  let root = '';
  let context: BrowserContext | undefined;
  let sw: PwWorker;
  let expected: Float32Array[] = [];
  const texts = ['offline semantic search', 'a browser extension', ''];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-ext-'));
    const fx = await fixtureDir({ layers: 1, hidden: 32, heads: 4, ffn: 64, dim: 16, maxPositions: 64, maxSeqLength: 32 });
    const bundle = await compileCheckpoint(folderSource(fx.dir), { dtype: 'int8' });
    await writeFolderAtomic(join(root, 'bundle'), bundle.files);
    await fx.cleanup();
    const tok = new TextTokenizer(JSON.parse(new TextDecoder().decode(bundle.files.get('tokenizer.json'))), {}, 32);
    expected = await runModel(bundle.files.get('model.onnx')!, texts.map((t) => Array.from(tok.encode(t).ids)));
    const ext = await buildExtension(join(root, 'ext'), join(root, 'bundle'));
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

  it('indexes and searches in the offscreen worker', async () => {
    type G = { indexViaOffscreen: (ids: string[], t: string[]) => Promise<{ size: number }>; searchViaOffscreen: (q: string, k: number) => Promise<{ hits: { id: string; score: number }[] }> };
    const stats = await sw.evaluate(() => (globalThis as unknown as G).indexViaOffscreen(['a', 'b', 'c'], ['cats purr', 'stocks fell', 'kittens sleep']));
    expect(stats.size).toBe(3);
    const r = await sw.evaluate(() => (globalThis as unknown as G).searchViaOffscreen('stocks fell', 2));
    expect(r.hits[0].id).toBe('b');
    expect(r.hits[0].score).toBeCloseTo(1, 5);
  }, 120_000);
});
