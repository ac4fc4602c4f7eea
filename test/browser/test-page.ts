// The Vite-built pages under test/browser/pages (tests and the browser bench): build one, wait for it to be ready.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';

export const PAGES_DIR = join(import.meta.dirname, 'pages');

/**
 * Builds pages/<name> into `outDir`, module workers as ES modules; unminified (readable stacks) unless `minify`;
 * `alias` maps bare specifiers to files (the bench's on-demand transformers.js).
 */
export async function buildPage(
  name: string,
  outDir: string,
  {
    emptyOutDir = true,
    minify = false,
    alias = {},
  }: { emptyOutDir?: boolean; minify?: boolean; alias?: Record<string, string> } = {},
): Promise<void> {
  await build({
    root: join(PAGES_DIR, name),
    configFile: false,
    logLevel: 'error',
    resolve: { alias },
    build: { outDir, emptyOutDir, minify },
    worker: { format: 'es' },
  });
}

/**
 * Waits until the page's main.ts has put its API on window and set #status to "ready"; no timeout of its own (the test's
 * governs: Playwright's 30 s default is too tight on a loaded CI machine).
 */
export async function pageReady(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, {
    timeout: 0,
  });
}
