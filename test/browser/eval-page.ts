// Builds the eval page (Vite) into a folder and opens it in headless Chromium; shared by the browser eval and distill tests.
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import type { EvalRunOptions, EvalRunResult } from './pages/eval/main.js';
import { serveStatic, type StaticServer } from './static-server.js';
import { buildPage, pageReady } from './test-page.js';

export interface EvalPage {
  /** Base URL of the served folder (bundles copied under it are reachable). */
  url: string;
  run(o: EvalRunOptions): Promise<EvalRunResult>;
  close(): Promise<void>;
}

/** Builds pages/eval into `outDir` (bundles may be placed there too), serves it and opens it. */
export async function openEvalPage(outDir: string): Promise<EvalPage> {
  await buildPage('eval', outDir, { emptyOutDir: false });
  let server: StaticServer | undefined;
  let browser: LaunchedChromium | undefined;
  try {
    server = await serveStatic(outDir);
    browser = await launchChromium();
    const page: Page = await browser.context.newPage();
    await page.goto(server.url);
    await pageReady(page);
    const s = server,
      b = browser;
    return {
      url: s.url,
      async run(o) {
        const r = await page.evaluate((opts) => window.hpdEval.run(opts), o);
        if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
        return r.value;
      },
      async close() {
        await b.close();
        await s.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await server?.close();
    throw e;
  }
}
