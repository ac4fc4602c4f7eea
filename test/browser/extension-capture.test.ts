// What the MV3 extension's content script captures (examples/mv3-extension/visible-text.ts), in headless Chromium on a
// plain page: the text a reader sees, and none of the ways a page can hide keyword stuffing from the reader.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from './chromium.js';

const available = !skipBrowserSuite('the extension capture test');

const HIDDEN = [
  '<p style="display:none">STUFFED display none</p>',
  '<p style="visibility:hidden">STUFFED visibility hidden</p>',
  '<div style="opacity:0"><p>STUFFED inside opacity zero</p></div>',
  '<div style="width:0;height:0;overflow:hidden"><p>STUFFED in a zero size box</p></div>',
  '<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap">STUFFED sr-only</span>',
  '<p style="clip-path:inset(50%);position:absolute">STUFFED clip-path</p>',
  '<p aria-hidden="true">STUFFED aria hidden</p>',
  '<p hidden>STUFFED hidden attribute</p>',
  '<p style="position:absolute;left:-9999px">STUFFED positioned off screen left</p>',
  '<p style="position:absolute;top:-9999px">STUFFED positioned off screen top</p>',
  '<p style="position:absolute;left:20000px">STUFFED positioned off screen right</p>',
  '<p style="text-indent:-9999px;overflow:hidden">STUFFED text indent</p>',
  '<p style="font-size:0">STUFFED font size zero</p>',
  '<p style="font-size:1px">STUFFED font size one</p>',
  '<p style="color:#fff;background:#fff">STUFFED white on white</p>',
  '<div style="background:rgb(10,20,30)"><p style="color:rgb(10,20,30)">STUFFED same colour as the box</p></div>',
  '<p style="color:transparent">STUFFED transparent colour</p>',
  '<p style="color:rgba(0,0,0,0)">STUFFED transparent rgba</p>',
  '<details><summary>Summary line is visible</summary><p>STUFFED closed details</p></details>',
  '<div style="content-visibility:hidden"><p>STUFFED content visibility hidden</p></div>',
  '<noscript>STUFFED noscript</noscript><template><p>STUFFED template</p></template>',
  '<script>/* STUFFED script */</script><style>/* STUFFED style */</style>',
];

const PAGE = `<!doctype html><html><head><title>t</title></head><body>
<main>
  <p>Visible first paragraph with <a href="#x">a link</a> inside.</p>
  ${HIDDEN.join('\n  ')}
  <p>Second   visible
     paragraph.</p>
  <div style="visibility:hidden"><p style="visibility:visible">Shown again in a child.</p></div>
  <div style="font-size:0"><span style="font-size:16px">Child of a zero font size container.</span></div>
</main></body></html>`;

describe.skipIf(!available)('mv3 extension: visibleText captures only what a reader sees', () => {
  let browser: LaunchedChromium | undefined;
  let page: Page;

  beforeAll(async () => {
    const source = await readFile(resolve(import.meta.dirname, '../../examples/mv3-extension/visible-text.ts'), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setContent(PAGE);
    await page.addScriptTag({ type: 'module', content: `${js}\nwindow.visibleText = visibleText;` });
    await page.waitForFunction(() => 'visibleText' in window);
  });

  afterAll(async () => {
    await browser?.close();
  });

  const capture = (max = 100_000) =>
    page.evaluate(
      (m) =>
        (window as unknown as { visibleText: (r: Element, n: number) => string }).visibleText(
          document.querySelector('main')!,
          m,
        ),
      max,
    );

  it('keeps visible paragraphs (blank line between blocks, inline runs joined) and drops every hidden one', async () => {
    const text = await capture();
    expect(text).not.toContain('STUFFED');
    expect(text).toBe(
      [
        'Visible first paragraph with a link inside.',
        'Summary line is visible',
        'Second visible paragraph.',
        'Shown again in a child.',
        'Child of a zero font size container.',
      ].join('\n\n'),
    );
    // innerText, which the content script used before, keeps most of the stuffing.
    const inner = await page.evaluate(() => document.querySelector('main')!.innerText);
    expect(inner.match(/STUFFED/g)?.length ?? 0).toBeGreaterThan(10);
  });

  it('stops at maxChars', async () => {
    expect(await capture(20)).toBe('Visible first paragr');
  });
});
