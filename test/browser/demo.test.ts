// The demo page end to end in headless Chromium, built as `npm run demo:build` builds it and served as plain static
// files (the page's CSP comes from its meta tag): load, index the real sample corpus, upload and drop files, search,
// switch to int8, reload → restored without re-embedding, clear. Screenshots go to test-output/demo/.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPassages } from '../../src/text/passages.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab } from '../helpers/fixtures.js';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from './chromium.js';
import { serveStatic, type StaticServer } from './static-server.js';

const available = !skipBrowserSuite('demo page browser test');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(root, 'test-output', 'demo');
const sampleLines = readFileSync(join(root, 'demo', 'corpus', 'node-api-docs.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const samplePassages = sampleLines.reduce(
  (n, l) => n + splitPassages((JSON.parse(l) as { text: string }).text).length,
  0,
);

// An uploaded Markdown file: paragraphs long enough to be passages of their own.
const para = (topic: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `The ${topic} note number ${i} describes ${topic} in some detail for the search test.`,
  ).join(' ');
const MD = `# Field notes\n\n${para('lighthouse', 9)}\n\n${para('glacier', 9)}\n\n${para('orchard', 9)}\n`;
const mdPassages = splitPassages(MD);
// Untrusted content: must show as text, never become markup.
const HOSTILE = '<img src=x onerror="window.__xss=1"> <b>not bold</b> a passage that tries to inject markup';
const JSONL = [
  JSON.stringify({ title: 'recipe card', text: 'Knead the dough for ten minutes, then let it rise.' }),
  '{not json',
  JSON.stringify({ title: 'hostile', text: HOSTILE }),
].join('\n');

describe.skipIf(!available)('demo page in headless Chromium', () => {
  let outDir = '';
  let server: StaticServer | undefined;
  let browser: LaunchedChromium | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    outDir = await mkdtemp(join(tmpdir(), 'hpd-demo-'));
    await build({
      configFile: join(root, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir, emptyOutDir: true, minify: false },
    });
    // A small model of the real output shape (128-d), labelled as the stand-in, as demo:build would place it.
    const fx = await compiledFixture(
      withBertVocab({
        layers: 1,
        hidden: 32,
        heads: 2,
        ffn: 64,
        dim: 128,
        maxPositions: 128,
        maxSeqLength: 128,
      }),
    );
    await fx.writeBundle(join(outDir, 'models', 'tiny'), 'fp32', 'tiny');
    await writeFile(
      join(outDir, 'models', 'demo-model.json'),
      JSON.stringify({ url: 'models/tiny/', folder: 'tiny', random: true, source: 'stand-in' }),
    );
    server = await serveStatic(outDir);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1100, height: 1400 });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
    // Record CSP violations from the first script on.
    await page.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await page.goto(server.url);
    await ready();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  const ready = () => page.waitForSelector('#model-status[data-state=ready]', { timeout: 120_000 });
  const text = (sel: string) => page.locator(sel).innerText();
  const vectors = async () => Number(await page.getAttribute('#stat-vectors', 'data-value'));
  const indexed = () =>
    page.waitForFunction(
      () => ['done', 'cancelled', 'failed'].includes(document.getElementById('index-status')?.dataset.state ?? ''),
      undefined,
      { timeout: 240_000 },
    );
  async function search(q: string): Promise<{ score: number; passage: string; doc: string }[]> {
    await page.fill('#query', '');
    await page.fill('#query', q);
    await page.waitForFunction((query) => document.getElementById('results')?.dataset.query === query, q);
    return page.$$eval('#results li', (lis) =>
      lis.map((li) => ({
        score: Number(li.querySelector('.score')?.textContent),
        passage: li.querySelector('.passage')?.textContent ?? '',
        doc: li.querySelector('.doc')?.textContent ?? '',
      })),
    );
  }

  it('says which model runs, from where, on what, and that the stand-in ranks meaninglessly', async () => {
    expect(await text('#model-source')).toContain('stand-in');
    expect(await text('#warning')).toContain('rankings are meaningless');
    expect(await text('#model-device')).toMatch(/^(webgpu|wasm): .+/);
    expect(await text('#model-threads')).toContain('cross-origin isolated');
    expect(await text('#stat-store')).toContain('OPFS');
  });

  it('disables every model control while the model reloads', async () => {
    const disabled = await page.evaluate(() => {
      const load = document.getElementById('load') as HTMLButtonElement;
      load.click();
      const controls = [...document.querySelectorAll('[data-needs-model]')].map(
        (e) => (e as HTMLButtonElement).disabled ?? e.classList.contains('disabled'),
      );
      return [...controls, load.disabled]; // a second reload cannot start while one runs
    });
    expect(disabled.length).toBeGreaterThan(4);
    expect(disabled.every(Boolean)).toBe(true);
    await ready();
    expect(await page.isEnabled('#add-sample')).toBe(true);
  });

  it('indexes the whole sample corpus with progress, then can cancel a long upload part way', async () => {
    await page.click('#add-sample');
    await page.waitForSelector('#indexing:not([hidden])');
    expect(await page.isDisabled('#add-sample')).toBe(true);
    await indexed();
    expect(`${await page.getAttribute('#index-status', 'data-state')}: ${await text('#index-status')}`).toMatch(
      /^done: Indexed the sample corpus/,
    );
    expect(await vectors()).toBe(samplePassages);
    expect(samplePassages).toBeGreaterThanOrEqual(sampleLines.length);
    expect(await text('#index-status')).toMatch(/texts\/s/);
    await page.screenshot({ path: join(SHOTS, '1-sample-indexed.png'), fullPage: true });

    const long = Array.from({ length: 3000 }, (_, i) => para(`topic ${i}`, 6)).join('\n\n');
    await page.setInputFiles('#files', { name: 'long.txt', mimeType: 'text/plain', buffer: Buffer.from(long) });
    await page.waitForFunction(() => /ETA/.test(document.getElementById('index-rate')?.textContent ?? ''));
    await page.screenshot({ path: join(SHOTS, '2-indexing-progress.png') });
    await page.click('#cancel');
    await indexed();
    expect(await page.getAttribute('#index-status', 'data-state')).toBe('cancelled');
    const [, done, total] = /Cancelled long\.txt.*: ([\d,]+) of ([\d,]+) passages/
      .exec(await text('#index-status'))!
      .map((s) => Number(s.replace(/,/g, '')));
    expect(total).toBe(splitPassages(long).length);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(total);
    expect(await vectors()).toBe(samplePassages + done); // whole chunks only: nothing half-added
    expect(await page.isHidden('#indexing')).toBe(true);
  });

  it('indexes uploaded and dropped files as passages, each hit naming its document, rendered as text only', async () => {
    const before = await vectors();
    await page.setInputFiles('#files', { name: 'field-notes.md', mimeType: 'text/markdown', buffer: Buffer.from(MD) });
    await indexed();
    expect(await vectors()).toBe(before + mdPassages.length);
    // Drag and drop a .jsonl (one bad line is reported and skipped).
    const handle = await page.evaluateHandle((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'cards.jsonl', { type: 'application/jsonl' }));
      return dt;
    }, JSONL);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: handle });
    await indexed();
    expect(await text('#index-status')).toContain('skipped 1 line');
    expect(await vectors()).toBe(before + mdPassages.length + 2);

    const target = mdPassages[1];
    const hits = await search(target.text);
    expect(hits[0]).toMatchObject({ passage: target.text, doc: 'field-notes.md' });
    expect(hits[0].score).toBeGreaterThan(0.999);
    expect(hits).toHaveLength(10);
    expect(await text('#timing')).toMatch(/query encode [\d.]+ ms · search [\d.]+ ms/);

    const hostile = await search(HOSTILE);
    expect(hostile[0]).toMatchObject({ passage: HOSTILE, doc: 'hostile' });
    expect(await page.locator('#results img, #results b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    // Hybrid by default: the query's words are marked in the passages, and each hit says which lists found it.
    expect(await page.isChecked('input[name=mode][value=hybrid]')).toBe(true);
    await search('Glacier ORCHARD');
    expect(await page.locator('#results mark').first().innerText()).toMatch(/^(glacier|orchard)$/i);
    await page.check('input[name=mode][value=keyword]');
    const words = await search('lighthouse');
    expect(words.length).toBeGreaterThan(0);
    expect(await page.locator('#results li .why').first().innerText()).toBe('words #1');
    expect(await text('#timing')).toMatch(/keyword$/);
    await page.check('input[name=mode][value=hybrid]');
  });

  it('switches to int8 from the stored vectors (no re-embedding), showing both sizes, and keeps the ranking', async () => {
    const f32Bytes = await text('#stat-memory');
    const target = mdPassages[2];
    await page.check('input[name=mode][value=vector]'); // cosine scores, compared across storages below
    const f32Hits = await search(target.text);
    await page.check('input[name=storage][value=int8]');
    await page.waitForFunction(
      () =>
        document.getElementById('persist-status')?.dataset.how === 'saved' &&
        /int8/.test(document.getElementById('persist-status')?.textContent ?? ''),
    );
    expect(await text('#persist-status')).toContain('int8');
    const sizes = await text('#stat-sizes');
    expect(sizes).toMatch(/f32 [\d.]+ (KiB|MiB) · int8 [\d.]+ (KiB|MiB)/);
    expect(await text('#stat-memory')).not.toBe(f32Bytes);
    const bpv = Number((await text('#stat-bpv')).split(' ')[0]);
    expect(bpv).toBeLessThan(300); // 128 + 128 residual + 4 scale; f32 is 512
    const int8Hits = await search(target.text);
    // The same best hit; scores within int8's rescoring error (near-ties among the stand-in's scores may swap places).
    expect(int8Hits[0].passage).toBe(f32Hits[0].passage);
    int8Hits.forEach((h, i) => expect(h.score).toBeCloseTo(f32Hits[i].score, 2));
    await page.check('input[name=mode][value=hybrid]');
    await page.screenshot({ path: join(SHOTS, '3-search-int8.png'), fullPage: true });
  });

  it('restores the saved index after a reload without re-embedding, and clear removes it', async () => {
    const n = await vectors();
    const target = mdPassages[0];
    await page.reload();
    await ready();
    await page.waitForSelector('#persist-status[data-how=restored]');
    expect(await vectors()).toBe(n);
    expect(await page.getAttribute('#persist-status', 'data-embedded')).toBe('0');
    expect(await page.isChecked('input[name=storage][value=int8]')).toBe(true);
    expect(await text('#stat-usage')).toMatch(/quota/);
    const hits = await search(target.text);
    expect(hits[0]).toMatchObject({ passage: target.text, doc: 'field-notes.md' });
    await page.screenshot({ path: join(SHOTS, '4-restored.png'), fullPage: true });

    await page.click('#clear');
    await page.waitForSelector('#persist-status[data-how=cleared]');
    expect(await vectors()).toBe(0);
    await page.reload();
    await ready();
    await page.waitForSelector('#persist-status[data-how=empty]');
    expect(await vectors()).toBe(0);
  });

  it('works from a sub-path of a host that sends no COOP/COEP headers, on one wasm thread, and says why', async () => {
    const plain = await serveStatic(dirname(outDir), {
      'Cross-Origin-Opener-Policy': 'unsafe-none',
      'Cross-Origin-Embedder-Policy': 'unsafe-none',
    });
    const other = await browser!.context.newPage();
    try {
      await other.goto(`${plain.url}${basename(outDir)}/`);
      await other.waitForSelector('#model-status[data-state=ready]', { timeout: 120_000 });
      expect(await other.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await other.locator('#model-threads').innerText()).toMatch(/^1: no COOP\/COEP headers/);
      await other.click('#add-sample');
      await other.waitForFunction(() => document.getElementById('index-status')?.dataset.state === 'done', undefined, {
        timeout: 240_000,
      });
      expect(Number(await other.getAttribute('#stat-vectors', 'data-value'))).toBe(samplePassages);
    } finally {
      await other.close();
      await plain.close();
    }
  });

  it('runs under its CSP: no violations, and an injected inline script is blocked', async () => {
    expect(await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content')).toContain(
      "script-src 'self' 'wasm-unsafe-eval'",
    );
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      return (window as unknown as { __inline?: number }).__inline;
    });
    expect(ran).toBeUndefined();
    const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
    expect(violations).toEqual(['script-src-elem inline']);
    expect(errors.filter((e) => !/Content Security Policy/.test(e))).toEqual([]);
  });
});
