// In headless Chromium (which has relaxed SIMD): the relaxed-SIMD and SIMD128 int8 scans, and searchMany, return
// exactly the JS kernel's results for every storage mode; on the cross-origin isolated page, searchAsync /
// searchManyAsync run on Web Workers over a shared wasm memory and return exactly the single-thread results.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserSuite } from './chromium.js';
import type { LaunchedChromium } from './chromium.js';
import { serveStatic } from './static-server.js';
import { buildPage, pageReady } from './test-page.js';
import type { StaticServer } from './static-server.js';

const available = !skipBrowserSuite('search kernel browser tests');

describe.skipIf(!available)('search kernels in headless Chromium', () => {
  let outDir = '';
  let server: StaticServer | undefined;
  let browser: LaunchedChromium | undefined;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'hpd-search-kernels-'));
    await buildPage('search-kernels', outDir);
    server = await serveStatic(outDir);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('detects relaxed SIMD, and every kernel (relaxed, SIMD128) returns the JS kernel results for search and searchMany', async () => {
    const page = await browser!.context.newPage();
    await page.goto(server?.url ?? '');
    await pageReady(page);
    const result = await page.evaluate(() => window.searchKernels.check());
    // Chromium has shipped relaxed SIMD since 114; if this build lacks it, the SIMD128 checks still ran.
    if (!result.relaxed) console.warn('this Chromium has no relaxed SIMD: only the SIMD128 kernels were checked');
    expect(result.failures).toEqual([]);
    expect(result.relaxed).toBe(true);
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
