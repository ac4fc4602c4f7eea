/// <reference types="chrome" />
// The MV3 history-search extension, loaded unpacked into headless Chromium: the content script captures three local
// pages, the offscreen document's worker embeds and indexes their passages, the popup finds a page from one of its
// sentences; the index survives a browser restart without re-embedding; forgetting works; the offscreen document is
// created once under concurrent requests and re-created after a failed start; a kill mid-indexing loses nothing.
// Screenshots: test-results/extension/ (git-ignored).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page, Worker as PwWorker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExtension } from '../../examples/mv3-extension/build.js';
import type { PageHit, Status } from '../../examples/mv3-extension/protocol.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from './chromium.js';
import { serveStatic, type StaticServer } from './static-server.js';

const available = !skipBrowserSuite('the MV3 extension test');

const SHOTS = resolve(import.meta.dirname, '../../test-results/extension');

// Each page: a long paragraph, a one-sentence paragraph, a long paragraph. The small test model reads 32 tokens, so
// passages are a sentence or two; the query is a whole sentence, so the fixture's random weights cannot reorder it.
const PAGES: Record<string, { title: string; paragraphs: string[] }> = {
  'otters.html': {
    title: 'Sea otters',
    paragraphs: [
      'Sea otters live along the coasts of the northern Pacific Ocean and spend almost their whole lives in cold water.',
      'Otters hold hands while they sleep.',
      'A group of resting otters floating together on the surface of the sea is called a raft by biologists.',
    ],
  },
  'bread.html': {
    title: 'Baking sourdough bread',
    paragraphs: [
      'A sourdough starter is a culture of wild yeast and lactic acid bacteria that you feed with flour and water daily.',
      'Bake the loaf in a hot iron pot with the lid on.',
      'Let the bread cool on a wire rack for at least an hour before slicing it, or the crumb will turn gummy inside.',
    ],
  },
  'orbits.html': {
    title: 'Satellite orbits',
    paragraphs: [
      'A geostationary satellite circles the equator once per day, so it appears fixed in the sky above one point.',
      'Low orbits take ninety minutes.',
      'Spacecraft in low earth orbit fly at an altitude of a few hundred kilometres and slowly lose height to drag.',
    ],
  },
};
const QUERY = 'Bake the loaf in a hot iron pot with the lid on.';

type Hpd = {
  status(): Promise<Status>;
  queued(): Promise<number>;
  search(q: string, k?: number): Promise<PageHit[]>;
  omniboxSuggestions(q: string): Promise<{ content: string; description: string }[]>;
  openFromOmnibox(q: string, d: string): Promise<string | undefined>;
  ensureOffscreen(): Promise<void>;
};
const hpd = (sw: PwWorker) => ({
  status: () => sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.status()),
  queued: () => sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.queued()),
});

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe.skipIf(!available)('MV3 history-search extension (content script → service worker → offscreen worker)', () => {
  let root = '';
  let ext = '';
  let profile = '';
  let server: StaticServer;
  let browser: LaunchedChromium | undefined;
  let context: BrowserContext;
  let sw: PwWorker;
  let id = '';
  let expected: Float32Array[] = [];
  const texts = ['offline semantic search', 'a browser extension', ''];
  const url = (file: string) =>
    (file === 'orbits.html' ? server.url.replace('127.0.0.1', 'localhost') : server.url) + file;
  let firstRun: { top: PageHit; passages: number } | undefined;

  async function launch(): Promise<void> {
    browser = await launchChromium({ userDataDir: profile, extension: ext });
    context = browser.context;
    sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 60_000 }));
    id = new URL(sw.url()).host;
  }

  async function popup(): Promise<Page> {
    const p = await context.newPage();
    // Frontmost, so it renders frames: Playwright's click waits for two stable animation frames, which a background tab
    // may never produce (a click that timed out on <summary> in one CI run).
    await p.bringToFront();
    await p.goto(`chrome-extension://${id}/popup.html`);
    await p.waitForSelector('body[data-ready]', { timeout: 60_000 });
    return p;
  }

  /** Types the query into the popup and returns the hits it shows, in order. */
  async function searchInPopup(p: Page, query: string): Promise<{ url: string; score: number }[]> {
    await p.fill('#q', query);
    await p.waitForFunction((q) => document.body.dataset.searched === q, query, { timeout: 60_000 });
    return p.$$eval('li.hit', (lis) =>
      lis.map((li) => ({
        url: (li as HTMLElement).dataset.url ?? '',
        score: Number(li.querySelector('.score')?.textContent),
      })),
    );
  }

  async function visitAll(): Promise<void> {
    await Promise.all(
      Object.keys(PAGES).map(async (f) => {
        const tab = await context.newPage();
        await tab.goto(url(f));
      }),
    );
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-ext-'));
    profile = join(root, 'profile');
    await mkdir(SHOTS, { recursive: true });
    const fx = await compiledFixture({
      layers: 1,
      hidden: 32,
      heads: 4,
      ffn: 64,
      dim: 16,
      maxPositions: 64,
      maxSeqLength: 32,
    });
    const bundle = await fx.writeBundle(join(root, 'bundle'), 'int8');
    expected = await runModel(bundle.files.get('model.onnx')!, fx.ids(texts, 32));
    // Chrome's permission prompt cannot be clicked headless, so the test build grants the two local hosts at install.
    ext = await buildExtension(join(root, 'ext'), join(root, 'bundle'), {
      grantHosts: ['http://127.0.0.1/*', 'http://localhost/*'],
    });
    await mkdir(join(root, 'site'));
    for (const [f, p] of Object.entries(PAGES)) {
      const body = p.paragraphs.map((t) => `<p>${t}</p>`).join('\n');
      await writeFile(
        join(root, 'site', f),
        `<!doctype html><html><head><title>${p.title}</title></head><body><nav>Home · About</nav><main><h1>${p.title}</h1>\n${body}</main></body></html>`,
      );
    }
    server = await serveStatic(join(root, 'site'));
    await launch();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('embeds through the offscreen document and matches Node', async () => {
    const r = await sw.evaluate(
      (t) =>
        (
          globalThis as unknown as {
            embedViaOffscreen: (x: string[]) => Promise<{ dim: number; device: string; vectors: number[] }>;
          }
        ).embedViaOffscreen(t),
      texts,
    );
    expect(r.dim).toBe(16);
    for (let i = 0; i < texts.length; i++)
      expect(maxAbsDiff(r.vectors.slice(i * 16, (i + 1) * 16), expected[i])).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('captures three visited pages; the popup finds the page a sentence came from; a click opens it', async () => {
    await visitAll();
    const s = await until(
      'three pages indexed',
      () => hpd(sw).status(),
      (v) => v.pages === 3 && v.queued === 0,
    );
    // Every passage embedded once: the index holds exactly what was embedded, nothing twice.
    expect(s.passages).toBeGreaterThanOrEqual(3);
    expect(s.passages).toBe(s.embeddedPassages);
    expect(s.sites.map((x) => x.host).sort()).toEqual(['127.0.0.1', 'localhost']);

    const p = await popup();
    const hits = await searchInPopup(p, QUERY);
    expect(hits[0].url).toBe(url('bread.html'));
    expect(hits.map((h) => h.url).sort()).toEqual(Object.keys(PAGES).map(url).sort());
    const first = await p.$eval('li.hit', (li) => ({
      title: li.querySelector('.title')?.textContent,
      passage: li.querySelector('.passage')?.textContent,
    }));
    expect(first.title).toBe('Baking sourdough bread');
    expect(first.passage).toContain(QUERY);
    await p.screenshot({ path: join(SHOTS, '1-search.png'), fullPage: true });
    // No network from extension pages, even to a host the extension may read: the CSP's connect-src is 'self'.
    const fetched = await p.evaluate(async (u) => {
      const violation = new Promise<string>((ok) =>
        document.addEventListener('securitypolicyviolation', (e) => ok(e.effectiveDirective), { once: true }),
      );
      const result = await fetch(u).then(
        (r) => `status ${r.status}`,
        () => 'failed',
      );
      return {
        result,
        violation: await Promise.race([violation, new Promise<string>((ok) => setTimeout(() => ok('none'), 2000))]),
      };
    }, url('otters.html'));
    expect(fetched).toEqual({ result: 'failed', violation: 'connect-src' });

    const opened = context.waitForEvent('page');
    await p.click('li.hit');
    const tab = await opened;
    await tab.waitForLoadState();
    expect(tab.url()).toBe(url('bread.html'));
    const top = (await sw.evaluate((q) => (globalThis as unknown as { hpd: Hpd }).hpd.search(q, 3), QUERY))[0];
    firstRun = { top, passages: s.passages };
  }, 180_000);

  it('the omnibox handlers suggest and open the same page (the omnibox UI itself cannot be typed into headless)', async () => {
    const sugg = await sw.evaluate((q) => (globalThis as unknown as { hpd: Hpd }).hpd.omniboxSuggestions(q), QUERY);
    expect(sugg[0].content).toBe(url('bread.html'));
    expect(sugg[0].description).toContain('<match>Baking sourdough bread</match>');
    const opened = context.waitForEvent('page');
    expect(
      await sw.evaluate(
        (q) => (globalThis as unknown as { hpd: Hpd }).hpd.openFromOmnibox(q, 'newForegroundTab'),
        'sourdough starter wild yeast',
      ),
    ).toBeTypeOf('string');
    const tab = await opened;
    expect(Object.keys(PAGES).map(url)).toContain(tab.url());
  }, 60_000);

  it('after a browser restart with the same profile: the same result, restored from IndexedDB, nothing re-embedded', async () => {
    await browser!.close();
    await launch();
    const p = await popup();
    const hits = await searchInPopup(p, QUERY);
    expect(hits[0].url).toBe(url('bread.html'));
    expect(hits[0].score).toBeCloseTo(firstRun!.top.score, 3);
    await p.screenshot({ path: join(SHOTS, '2-after-restart.png'), fullPage: true });
    const s = await hpd(sw).status();
    expect(s.restored).toBe(true);
    expect(s.passages).toBe(firstRun!.passages);
    expect(s.embeddedPassages).toBe(0);

    // Re-visiting an unchanged page updates its visit time and embeds nothing.
    const tab = await context.newPage();
    await tab.goto(url('otters.html'));
    const after = await until(
      'the re-visit processed',
      () => hpd(sw).status(),
      (v) => v.processed >= 1 && v.queued === 0,
    );
    expect(after.embeddedPassages).toBe(0);
    expect(after.passages).toBe(firstRun!.passages);
  }, 180_000);

  it('concurrent requests create one offscreen document; a failed start is retried, not cached', async () => {
    const r = await sw.evaluate(async () => {
      const g = globalThis as unknown as { hpd: Hpd };
      await chrome.offscreen.closeDocument();
      const all = await Promise.allSettled(Array.from({ length: 12 }, () => g.hpd.status()));
      const docs = await chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT] });
      // Fault injection: the next creation fails once.
      await chrome.offscreen.closeDocument();
      const real = chrome.offscreen.createDocument.bind(chrome.offscreen);
      let calls = 0;
      Object.defineProperty(chrome.offscreen, 'createDocument', {
        configurable: true,
        writable: true,
        value: (p: chrome.offscreen.CreateParameters) =>
          ++calls === 1 ? Promise.reject(new Error('injected start failure')) : real(p),
      });
      const failed = await g.hpd.status().then(
        () => 'ok',
        (e: Error) => e.message,
      );
      const retried = await g.hpd.status().then(
        (s) => s.pages,
        (e: Error) => e.message,
      );
      Object.defineProperty(chrome.offscreen, 'createDocument', { configurable: true, writable: true, value: real });
      return {
        rejected: all.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason)),
        docs: docs.length,
        failed,
        retried,
        calls,
      };
    });
    expect(r.rejected).toEqual([]);
    expect(r.docs).toBe(1);
    expect(r.failed).toBe('injected start failure');
    expect(r.retried).toBe(3);
    expect(r.calls).toBe(2);
  }, 120_000);

  it('forgets one site, then everything, and the forgetting survives a restart', async () => {
    const p = await popup();
    await p.click('summary');
    await p.waitForSelector('li.site[data-host="localhost"]');
    await p.screenshot({ path: join(SHOTS, '3-sites.png'), fullPage: true });
    await p.click('li.site[data-host="localhost"] button.forget');
    const s = await until(
      'localhost forgotten',
      () => hpd(sw).status(),
      (v) => v.pages === 2,
    );
    expect(s.sites.map((x) => x.host)).toEqual(['127.0.0.1']);
    expect(s.passages).toBeLessThan(firstRun!.passages);
    const hits = await searchInPopup(p, 'geostationary satellite circles the equator');
    expect(hits.map((h) => h.url)).not.toContain(url('orbits.html'));
    expect(hits.length).toBe(2);

    await p.click('#forget-all');
    await p.click('#forget-all');
    await until(
      'everything forgotten',
      () => hpd(sw).status(),
      (v) => v.pages === 0 && v.passages === 0,
    );
    expect(await searchInPopup(p, QUERY)).toEqual([]);
    await p.waitForSelector('#empty:not([hidden])');
    await p.screenshot({ path: join(SHOTS, '4-forgotten.png'), fullPage: true });

    await browser!.close();
    await launch();
    const again = await hpd(sw).status();
    expect([again.pages, again.passages]).toEqual([0, 0]);
  }, 180_000);

  it('killed mid-indexing (offscreen document closed, then the whole browser): resumes from the persisted queue, nothing lost or twice', async () => {
    await visitAll();
    const waiting = await until(
      'a queued capture',
      () => hpd(sw).queued(),
      (n) => n > 0,
      30_000,
    );
    expect(waiting).toBeGreaterThan(0);
    // A page whose content script has not sent its text yet was never captured, and no restart can recover it: kill
    // only once every page is queued or indexed (a test race seen under load, not a loss by the extension).
    await until(
      'all three captures queued or indexed',
      () => hpd(sw).status(),
      (v) => v.queued + v.pages >= 3,
      30_000,
    );
    // The offscreen document dies under an indexing batch: the service worker re-creates it and redoes the batch.
    await sw.evaluate(() => chrome.offscreen.closeDocument()).catch(() => undefined);
    const left = await hpd(sw).queued();
    // Then the service worker dies too, with the browser, while captures may still be queued.
    await browser!.close();
    await launch();
    const s = await until(
      'resumed indexing',
      () => hpd(sw).status(),
      (v) => v.pages === 3 && v.queued === 0,
    );
    expect(s.passages).toBe(firstRun!.passages);
    expect(s.embeddedPassages).toBeLessThanOrEqual(firstRun!.passages);
    console.log(
      `kill test: ${waiting} captures queued at the offscreen kill, ${left} at the browser kill; ${s.embeddedPassages} passages embedded after the restart`,
    );
    const hits = await sw.evaluate((q) => (globalThis as unknown as { hpd: Hpd }).hpd.search(q, 3), QUERY);
    expect(hits[0].url).toBe(url('bread.html'));
  }, 180_000);

  it('the capture switch: off unregisters the content script and nothing is captured; on registers it again', async () => {
    const registered = () =>
      sw.evaluate(() => chrome.scripting.getRegisteredContentScripts().then((r) => r.map((x) => x.matches ?? [])));
    expect(await registered()).toEqual([['http://127.0.0.1/*', 'http://localhost/*']]);
    const p = await popup();
    await p.click('summary');
    await p.uncheck('#enabled');
    await until(
      'capture off',
      () => hpd(sw).status(),
      (v) => !v.enabled,
    );
    expect(await registered()).toEqual([]);
    const before = await hpd(sw).status();
    const tab = await context.newPage();
    await tab.goto(url('otters.html') + '?off');
    // Nothing runs on the page, so nothing can arrive; give a stray capture time to show up anyway.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await hpd(sw).status();
    expect([after.queued, after.pages, after.processed]).toEqual([0, before.pages, before.processed]);
    await p.check('#enabled');
    await until(
      'capture on',
      () => hpd(sw).status(),
      (v) => v.enabled,
    );
    expect(await registered()).toEqual([['http://127.0.0.1/*', 'http://localhost/*']]);
  }, 120_000);
});
