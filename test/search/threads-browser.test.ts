// In headless Chromium on a cross-origin isolated page: searchAsync / searchManyAsync run on Web Workers over a shared
// wasm memory and return exactly the single-thread results for every storage mode (ties included).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from '../browser/chromium.js';
import { serveStatic, type StaticServer } from '../browser/static-server.js';
import { buildPage, pageReady } from '../browser/test-page.js';

const available = !skipBrowserSuite('threaded search browser tests');

describe.skipIf(!available)('threaded search in headless Chromium', () => {
  let outDir = '';
  let server: StaticServer | undefined;
  let browser: LaunchedChromium | undefined;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'hpd-search-threads-'));
    await buildPage('search-kernels', outDir);
    server = await serveStatic(outDir);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('runs on Web Workers and equals the single-thread scan', async () => {
    const page = await browser!.context.newPage();
    await page.goto(server?.url ?? '');
    await pageReady(page);
    const result = await page.evaluate(() => window.searchKernels.checkThreads());
    expect(result.isolated).toBe(true);
    expect(result.failures).toEqual([]);
    if (result.hardwareConcurrency >= 2) expect(result.last).toEqual({ path: 'threads', threads: 2, reason: null });
    else expect(result.last?.path).toBe('single');
  });
});
