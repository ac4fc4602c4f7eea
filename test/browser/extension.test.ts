/// <reference types="chrome" />
// The MV3 history-search extension, loaded unpacked into headless Chromium: the content script captures three local
// pages, the offscreen document's worker embeds and indexes their passages, the popup finds a page from one of its
// sentences; the index survives a browser restart without re-embedding; forgetting works; the offscreen document is
// created once under concurrent requests and re-created after a failed start; a kill mid-indexing loses nothing. Then
// the trust boundary: the offscreen document answers the service worker only, arguments are clamped, captures take the
// tab's URL from the browser, the quota holds, hidden text is not captured, the omnibox opens http(s) only.
// Screenshots: test-results/extension/ (git-ignored).
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page, Worker as PwWorker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexReply, PageHit, Status } from '../../examples/mv3-extension/protocol.js';
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

const VISIBLE = 'Kayaks glide quietly across the still morning lake.';
const STUFFED = 'Cheap flights hotels casinos loans and free prizes for everyone today.';
// Keyword stuffing a reader cannot see, in many hiding places; only VISIBLE is on screen.
const HIDDEN_PAGE = `<!doctype html><html><head><title>Kayaking</title></head><body><main>
<p>${VISIBLE}</p>
${[
  'display:none',
  'visibility:hidden',
  'opacity:0',
  'font-size:0',
  'position:absolute;left:-9999px',
  'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)',
  'color:#fff;background:#fff',
]
  .map((style) => `<p style="${style}">${STUFFED}</p>`)
  .join('\n')}
<p aria-hidden="true">${STUFFED}</p>
</main></body></html>`;

/** Runs a command in the repository root; its exit code and output. */
function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, out }));
  });
}

type Hpd = {
  ask<T>(request: Record<string, unknown>): Promise<T>;
  setQuota(q: Record<string, number | null>): Promise<unknown>;
  status(): Promise<Status>;
  queued(): Promise<number>;
  captured(): Promise<number>;
  search(q: string, k?: number): Promise<PageHit[]>;
  omniboxSuggestions(q: string): Promise<{ content: string; description: string }[]>;
  openFromOmnibox(q: string, d: string): Promise<string | undefined>;
  ensureOffscreen(): Promise<void>;
};
const hpd = (sw: PwWorker) => ({
  status: () => sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.status()),
  queued: () => sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.queued()),
  captured: () => sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.captured()),
});

// Indexing waits for the paced save (up to 15 s after the first unsaved batch) before pages count as indexed.
async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 300_000): Promise<T> {
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
    // Chromium on a loaded 2-core CI machine: actions wait as long as they must (the browser project's limit governs).
    context.setDefaultTimeout(300_000);
    sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 300_000 }));
    id = new URL(sw.url()).host;
  }

  async function popup(): Promise<Page> {
    const p = await context.newPage();
    // Frontmost, so it renders frames: Playwright's click waits for two stable animation frames, which a background tab
    // may never produce (a click that timed out on <summary> in one CI run).
    await p.bringToFront();
    await p.goto(`chrome-extension://${id}/popup.html`);
    await p.waitForSelector('body[data-ready]', { timeout: 300_000 });
    return p;
  }

  /** Types the query into the popup and returns the hits it shows, in order. */
  async function searchInPopup(p: Page, query: string): Promise<{ url: string; score: number }[]> {
    await p.fill('#q', query);
    await p.waitForFunction((q) => document.body.dataset.searched === q, query, { timeout: 300_000 });
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
    // Chrome's permission prompt cannot be clicked headless, so the test build grants the two local hosts at install,
    // through build.ts's command line as the README says.
    ext = join(root, 'ext');
    const built = await run('npx', [
      'tsx',
      'examples/mv3-extension/build.ts',
      join(root, 'bundle'),
      ext,
      '--grant-hosts',
      'http://127.0.0.1/*,http://localhost/*',
    ]);
    expect(built.code, built.out).toBe(0);
    await mkdir(join(root, 'site'));
    for (const [f, p] of Object.entries(PAGES)) {
      const body = p.paragraphs.map((t) => `<p>${t}</p>`).join('\n');
      await writeFile(
        join(root, 'site', f),
        `<!doctype html><html><head><title>${p.title}</title></head><body><nav>Home · About</nav><main><h1>${p.title}</h1>\n${body}</main></body></html>`,
      );
    }
    await writeFile(join(root, 'site', 'hidden.html'), HIDDEN_PAGE);
    server = await serveStatic(join(root, 'site'));
    await launch();
  });

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
  });

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
    // Hybrid by default: the query's words are marked in the passage, and the hit says which lists found it.
    expect(await p.locator('li.hit').first().locator('.passage mark').count()).toBeGreaterThan(0);
    expect(await p.locator('li.hit').first().locator('.why').innerText()).toMatch(/meaning #\d+ · words #1/);
    await p.selectOption('#mode', 'keyword');
    await p.fill('#q', '');
    const byWords = await searchInPopup(p, QUERY);
    expect(byWords[0].url).toBe(url('bread.html'));
    expect(await p.locator('li.hit').first().locator('.why').innerText()).toBe('words #1');
    await p.selectOption('#mode', 'hybrid');
    await p.fill('#q', '');
    await searchInPopup(p, QUERY);
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
  });

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
  });

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
  });

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
  });

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
  });

  it('killed mid-indexing (offscreen document closed, then the whole browser): resumes from the persisted queue, nothing lost or twice', async () => {
    await visitAll();
    const waiting = await until(
      'a queued capture',
      () => hpd(sw).queued(),
      (n) => n > 0,
    );
    expect(waiting).toBeGreaterThan(0);
    // A page whose content script has not sent its text yet was never captured, and no restart can recover it: kill
    // only once every page is queued or indexed (a test race seen under load, not a loss by the extension).
    // Distinct URLs in the queue or saved: status().pages also counts indexed-but-unsaved pages, which stay queued
    // until a save holds them, so queued + pages can count one page twice and pass with a capture still missing.
    await until(
      'all three captures queued or saved',
      () => hpd(sw).captured(),
      (n) => n >= 3,
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
  });

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
  });

  it('the built extension: icons in the manifest, hosts granted by --grant-hosts; the popup marks a random-weight model', async () => {
    const manifest = JSON.parse(await readFile(join(ext, 'manifest.json'), 'utf8')) as {
      icons: Record<string, string>;
      host_permissions: string[];
    };
    expect(manifest.host_permissions).toEqual(['http://127.0.0.1/*', 'http://localhost/*']);
    expect(Object.keys(manifest.icons)).toEqual(['16', '32', '48', '128']);
    for (const [size, file] of Object.entries(manifest.icons)) {
      const png = await readFile(join(ext, file));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Number(size), Number(size)]);
    }
    await access(join(ext, 'content.js'));
    const s = await hpd(sw).status();
    const p = await popup();
    expect(await p.locator('#status .random').count()).toBe(s.randomWeights ? 1 : 0);
    await p.close();
  });

  it('"Allow on all sites…" headless: the popup says it waits for Chrome\'s prompt, then how to grant without one', async () => {
    const p = await popup();
    await p.click('summary');
    await p.click('#allow-all');
    await p.waitForSelector('#grant-note:not([hidden])');
    expect(await p.textContent('#grant-note')).toContain("Waiting for Chrome's permission prompt");
    await p.waitForFunction(() => document.getElementById('grant-note')?.textContent?.includes('--grant-hosts'), null, {
      timeout: 300_000,
    });
    await p.screenshot({ path: join(SHOTS, '5-allow-all-headless.png'), fullPage: true });
    await p.close();
  });

  it('the offscreen document answers the service worker only: a content script and the popup are refused', async () => {
    const before = await until(
      'an idle queue',
      () => hpd(sw).status(),
      (v) => v.queued === 0,
    );
    const tab = await context.newPage();
    await tab.goto(url('otters.html') + '?probe');
    // A content script (the isolated world of a granted tab): what a compromised renderer could send.
    const replies = await sw.evaluate(async (u) => {
      const t = (await chrome.tabs.query({})).find((x) => x.url === u);
      const [r] = await chrome.scripting.executeScript({
        target: { tabId: t!.id! },
        func: async () => {
          const send = (m: object) =>
            chrome.runtime.sendMessage(m).then(
              (x: unknown) => x,
              (e: Error) => ({ thrown: e.message }),
            );
          const page = { url: 'https://evil.example/', host: 'evil.example', title: 'x', text: 'Injected text.' };
          return {
            search: await send({ target: 'hpd-offscreen', type: 'search', query: 'otters', k: 1e9 }),
            forget: await send({ target: 'hpd-offscreen', type: 'forget' }),
            index: await send({ target: 'hpd-offscreen', type: 'indexPages', pages: [page] }),
            save: await send({ target: 'hpd-offscreen', type: 'save' }),
            bgSearch: await send({ target: 'hpd-background', type: 'search', query: 'otters' }),
            bgForget: await send({ target: 'hpd-background', type: 'forget' }),
            capture: await send({
              target: 'hpd-background',
              type: 'capture',
              url: 'https://evil.example/forged',
              title: 'Forged',
              text: 'A forged capture claims to come from another site entirely.',
            }),
          };
        },
      });
      return r.result as Record<string, unknown>;
    }, tab.url());
    for (const k of ['search', 'forget', 'index', 'save']) expect(replies[k], k).toMatchObject({ code: 'FORBIDDEN' });
    for (const k of ['bgSearch', 'bgForget'])
      expect(replies[k], k).toMatchObject({ error: 'not allowed from this context' });
    // The capture is queued under the tab's URL, which the browser reports, not the URL in the message.
    expect(replies.capture).toEqual({ queued: true });
    const after = await until(
      'the probe page indexed',
      () => hpd(sw).status(),
      (v) => v.queued === 0 && v.pages === before.pages + 1,
    );
    expect(after.sites.map((x) => x.host).sort()).toEqual(['127.0.0.1', 'localhost']);
    const top = (await sw.evaluate(
      (q) => (globalThis as unknown as { hpd: Hpd }).hpd.search(q, 50),
      'A forged capture claims to come from another site entirely.',
    )) as PageHit[];
    expect(top.map((h) => new URL(h.url).host)).not.toContain('evil.example');

    // An extension page other than the service worker (the popup) is refused too.
    const p = await popup();
    expect(
      await p.evaluate(() => chrome.runtime.sendMessage({ target: 'hpd-offscreen', type: 'forget' })),
    ).toMatchObject({ code: 'FORBIDDEN' });
    await p.close();
    expect((await hpd(sw).status()).pages).toBe(after.pages);
  });

  it('arguments are clamped where they are used; the index holds http(s) URLs only; the omnibox opens nothing else', async () => {
    const r = await sw.evaluate(async (q) => {
      const { hpd: h } = globalThis as unknown as { hpd: Hpd };
      const search = (k: unknown, query: unknown = q) =>
        h.ask<PageHit[]>({ target: 'hpd-offscreen', type: 'search', query, k });
      return {
        huge: (await search(1e9)).length,
        negative: (await search(-7)).length,
        notNumber: (await search('all')).length,
        notString: (await search(5, { toString: () => q })).length,
        pages: (await h.status()).pages,
        index: await h.ask<IndexReply>({
          target: 'hpd-offscreen',
          type: 'indexPages',
          pages: [{ url: 'javascript:alert(1)//', title: 'x', text: 'Some text long enough to be indexed here.' }],
        }),
        omnibox: await h.openFromOmnibox('javascript:alert(document.domain)', 'newBackgroundTab'),
      };
    }, QUERY);
    // k = 1e9 is clamped to 50 (every page here), -7 to 1, a non-number to 10; a non-string query is no query.
    expect(r.huge).toBe(Math.min(50, r.pages));
    expect(r.negative).toBe(1);
    expect(r.notNumber).toBe(Math.min(10, r.pages));
    expect(r.notString).toBe(0);
    expect(r.index).toMatchObject({ embedded: 0, skipped: [{ reason: 'not an http(s) URL' }] });
    // Typed text is a query; what opens is the best match, an http(s) URL.
    expect(r.omnibox).toMatch(/^http:\/\/(127\.0\.0\.1|localhost):/);
  });

  it('captures only visible text: keyword stuffing hidden from the reader is not indexed', async () => {
    const hiddenUrl = `${server.url.replace('127.0.0.1', 'localhost')}hidden.html`;
    const tab = await context.newPage();
    await tab.goto(hiddenUrl);
    // The page's record, read from the extension's IndexedDB in the service worker.
    const record = () =>
      sw.evaluate(
        (u) =>
          new Promise<{ passages: number } | undefined>((ok, fail) => {
            const open = indexedDB.open('hpd-history');
            open.onerror = () => fail(open.error);
            open.onsuccess = () => {
              const get = open.result.transaction('pages').objectStore('pages').get(u);
              get.onsuccess = () => {
                open.result.close();
                ok(get.result as { passages: number } | undefined);
              };
              get.onerror = () => fail(get.error);
            };
          }),
        hiddenUrl,
      );
    // One passage: the visible sentence; the stuffing (eight copies) would have made several.
    expect(await until('the page with hidden text indexed', record, (r) => r !== undefined)).toMatchObject({
      passages: 1,
    });
    const hits = (await sw.evaluate(
      (q) => (globalThis as unknown as { hpd: Hpd }).hpd.search(q, 50),
      STUFFED,
    )) as PageHit[];
    expect(hits.find((h) => h.url === hiddenUrl)?.passage).toBe(VISIBLE);
  });

  it('the quota: a site that keeps making new URLs stops at its per-site limit, and the popup says so', async () => {
    const s0 = await until(
      'an idle queue',
      () => hpd(sw).status(),
      (v) => v.queued === 0,
    );
    const have = s0.sites.find((x) => x.host === '127.0.0.1')!.pages;
    await sw.evaluate((n) => (globalThis as unknown as { hpd: Hpd }).hpd.setQuota({ maxPagesPerHost: n }), have + 1);
    for (const i of [1, 2, 3]) await (await context.newPage()).goto(`${url('bread.html')}?unique=${i}`);
    const s = await until(
      'the per-site limit hit, the one page that fits indexed',
      () => hpd(sw).status(),
      (v) => v.limit !== undefined && v.queued === 0 && v.sites.find((x) => x.host === '127.0.0.1')?.pages === have + 1,
    );
    // "has N pages" counts queued pages too, so N can exceed the limit for a moment; the limit itself is exact.
    expect(s.limit).toMatch(
      new RegExp(
        `^Limit reached: 127\\.0\\.0\\.1 has \\d+ pages \\(at most ${have + 1} per site\\)\\. New pages from it are not indexed; forget the site to make room\\.$`,
      ),
    );
    // The other captures were refused, not queued: nothing more arrives.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await hpd(sw).status()).sites.find((x) => x.host === '127.0.0.1')?.pages).toBe(have + 1);
    const p = await popup();
    await p.waitForSelector('#limit:not([hidden])');
    expect(await p.textContent('#limit')).toBe(s.limit);
    await p.screenshot({ path: join(SHOTS, '6-limit.png'), fullPage: true });
    await p.close();
    await sw.evaluate(() => (globalThis as unknown as { hpd: Hpd }).hpd.setQuota({ maxPagesPerHost: null }));
  });
});
