// End to end in headless Chromium: a Vite-built page creates the embedder in a real module Worker,
// on WebGPU (SwiftShader adapter) and on wasm; placement, parity with Node, Hub loading + cache, crashes.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { computeProbes, withProbes } from '../../src/engine/golden.js';
import { writeFolderAtomic } from '../../src/node/write-folder.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab } from '../helpers/fixtures.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from './chromium.js';
import type { RunOptions } from './pages/embed/main.js';
import { serveStatic, type StaticServer } from './static-server.js';
import { buildPage, pageReady } from './test-page.js';

const available = !skipBrowserSuite('embedding browser tests');

const TEXTS = [
  'A man is playing a flute.',
  'The quick brown fox jumps over the lazy dog.',
  '',
  'Search engines rank documents by relevance.',
  'x y z',
];
const DTYPES = ['fp32', 'fp16', 'int8'] as const;

describe.skipIf(!available)('embedding in headless Chromium (module Worker, WebGPU + wasm)', () => {
  let outDir = '';
  let server: StaticServer | undefined;
  let hub: HubServer | undefined;
  let browser: LaunchedChromium | undefined;
  let page: Page;
  let fixture: CompiledFixture | undefined;
  const nodeVectors: Record<string, Float32Array[]> = {};
  const logs: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'hpd-browser-embed-'));
    await buildPage('embed', outDir);
    fixture = await compiledFixture(
      withBertVocab({
        layers: 2,
        hidden: 64,
        heads: 4,
        ffn: 128,
        dim: 32,
        maxPositions: 128,
        maxSeqLength: 32,
      }),
    );
    for (const dtype of DTYPES) {
      const bundle = await fixture.bundle(dtype);
      await writeFolderAtomic(join(outDir, 'models', dtype), bundle.files);
      // The Node result for the same bundle: onnxruntime-web wasm in this process.
      nodeVectors[dtype] = await runModel(bundle.files.get('model.onnx')!, fixture.ids(TEXTS, 32));
    }
    // Golden-check bundles: fp32 with probes from a CPU run here, and a copy whose probe vectors are corrupted.
    const withGolden = await fixture.bundle();
    const m = withGolden.manifest;
    const json = (n: string) => JSON.parse(new TextDecoder().decode(withGolden.files.get(n))) as object;
    const good = withProbes(
      withGolden,
      await computeProbes(
        ortWeb,
        'wasm',
        withGolden.files.get('model.onnx')!,
        json('tokenizer.json'),
        withGolden.files.has('tokenizer_config.json') ? json('tokenizer_config.json') : {},
        m,
      ),
    );
    await writeFolderAtomic(join(outDir, 'models', 'golden-ok'), good.files);
    const bad = withProbes(good, {
      ...good.manifest.probes!,
      vectors: good.manifest.probes!.vectors.map((v) => v.map((x, j) => (j % 3 ? x : -x))),
    });
    await writeFolderAtomic(join(outDir, 'models', 'golden-bad'), bad.files);
    server = await serveStatic(outDir);
    hub = await startHubServer({ 'test/browser-ckpt': { main: fixture.checkpointDir } });
    browser = await launchChromium();
    // Playwright's 30 s default for goto and waits is too tight at load 18 on 2 cores; the project timeout governs.
    browser.context.setDefaultTimeout(0);
    page = await browser.context.newPage();
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(server.url);
    await pageReady(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await hub?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  const run = async (o: RunOptions) => {
    const r = await page.evaluate((opts) => window.hpd.run(opts), o);
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    return r.value;
  };
  const rows = (flat: number[], dim: number) =>
    Array.from({ length: flat.length / dim }, (_, i) => flat.slice(i * dim, (i + 1) * dim));

  it.each(DTYPES)(
    '%s: WebGPU and wasm agree within 1e-4, match Node, and every node runs on the WebGPU EP',
    async (dtype) => {
      const model = `${server!.url}models/${dtype}/`;
      const gpu = await run({ model, device: 'webgpu', texts: TEXTS, capturePlacement: true });
      const wasm = await run({ model, device: 'wasm', texts: TEXTS });
      expect(gpu.device.actual).toBe('webgpu');
      expect(gpu.device.adapter).toMatchObject({ architecture: 'swiftshader', isFallbackAdapter: true });
      expect(wasm.device.actual).toBe('wasm');
      expect(wasm.device.threads).toBeGreaterThan(1); // the page is cross-origin isolated
      const g = rows(gpu.vectors, 32),
        w = rows(wasm.vectors, 32);
      let gw = 0,
        wn = 0;
      for (let i = 0; i < TEXTS.length; i++) {
        gw = Math.max(gw, maxAbsDiff(g[i], w[i]));
        wn = Math.max(wn, maxAbsDiff(w[i], nodeVectors[dtype][i]));
      }
      console.info(
        `${dtype}: max |webgpu - wasm| = ${gw.toExponential(2)}, max |wasm(browser) - node| = ${wn.toExponential(2)}, placement ${JSON.stringify(gpu.device.placement)}`,
      );
      expect(gw).toBeLessThanOrEqual(1e-4);
      expect(wn).toBeLessThanOrEqual(1e-4);
      const placement = gpu.device.placement;
      expect(placement, 'ORT verbose placement log was not captured').toBeDefined();
      expect(placement!.cpuOps).toEqual([]);
      expect(Object.keys(placement!.nodes)).toEqual(['WebGpuExecutionProvider']);
      expect(placement!.nodes.WebGpuExecutionProvider).toBeGreaterThan(20);
    },
  );

  it('auto skips the software (SwiftShader) adapter and says why', async () => {
    const r = await run({ model: `${server!.url}models/fp32/`, device: 'auto', texts: ['hello'] });
    expect(r.device.actual).toBe('wasm');
    expect(r.device.reason).toMatch(/software fallback/);
  });

  it('compiles a checkpoint from a local Hub-layout server in the worker, then loads from Cache Storage with the server stopped', async () => {
    const first = await run({ model: 'test/browser-ckpt', hubUrl: hub!.url, device: 'wasm', texts: TEXTS });
    expect(first.info.origin).toMatchObject({ kind: 'checkpoint', fromCache: false });
    expect(first.progress).toEqual(expect.arrayContaining(['download', 'compile', 'session', 'ready']));
    expect(first.cached).toBeGreaterThan(0);
    const hubUrl = hub!.url;
    await hub!.close();
    hub = undefined;
    // A fresh page of the same origin (not a reload of the shared one: a reload still running after a timeout here
    // destroyed the next test's page context on a loaded CI machine).
    const p2 = await browser!.context.newPage();
    try {
      await p2.goto(server!.url);
      await pageReady(p2);
      const r = await p2.evaluate((opts) => window.hpd.run(opts), {
        model: 'test/browser-ckpt',
        hubUrl,
        device: 'wasm' as const,
        texts: TEXTS,
      });
      if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
      const second = r.value;
      expect(second.info.origin).toMatchObject({ kind: 'checkpoint', fromCache: true });
      expect(maxAbsDiff(second.vectors, first.vectors)).toBe(0);
      expect(maxAbsDiff(rows(first.vectors, 32)[0], nodeVectors.fp32[0])).toBeLessThanOrEqual(1e-4);
    } finally {
      await p2.close();
    }
  });

  it('rejects pending calls with WORKER_CRASHED when the worker crashes, then starts a fresh worker', async () => {
    const started = await page.evaluate((m) => window.hpd.startCrashable(m), `${server!.url}models/fp32/`);
    expect(started).toEqual({ ok: true, value: 32 });
    const texts = Array.from({ length: 300 }, (_, i) => `sentence ${i} with several words in it`);
    const r = await page.evaluate((t) => window.hpd.crashDuringEmbed(t), texts);
    expect(r.during).toMatchObject({ ok: false, code: 'WORKER_CRASHED' });
    expect(r.after).toEqual({ ok: true, value: 32 });
    expect(r.freshWorker).toBe(true);
  });

  it('golden check: WebGPU whose probe vectors disagree falls back to wasm, says why, and remembers the verdict per adapter', async () => {
    const ok = await run({ model: `${server!.url}models/golden-ok/`, device: 'webgpu', texts: TEXTS });
    expect(ok.device.actual).toBe('webgpu'); // SwiftShader computes correctly: the probes agree
    expect(ok.device.reason).not.toMatch(/golden/i);
    const bad = await run({ model: `${server!.url}models/golden-bad/`, device: 'webgpu', texts: TEXTS });
    expect(bad.device.actual).toBe('wasm');
    expect(bad.device.reason).toMatch(
      /fell back to wasm: the golden check failed on WebGPU \(google swiftshader\): probe cosine -?[\d.]+ < 0\.999/,
    );
    expect(bad.device.reason).not.toMatch(/remembered/);
    // Not a failure: the vectors are wasm's.
    expect(maxAbsDiff(bad.vectors, ok.vectors)).toBeLessThanOrEqual(1e-4);
    const again = await run({ model: `${server!.url}models/golden-bad/`, device: 'webgpu', texts: ['hello'] });
    expect(again.device.actual).toBe('wasm');
    expect(again.device.reason).toMatch(/verdict remembered for this adapter/);
  });

  it('a WebGPU device loss rejects pending calls with DEVICE_LOST, and the next call starts afresh', async () => {
    expect(await page.evaluate((m) => window.hpd.startCrashable(m, 'webgpu'), `${server!.url}models/fp32/`)).toEqual({
      ok: true,
      value: 32,
    });
    const texts = Array.from({ length: 100 }, (_, i) => `sentence ${i} with several words in it`);
    const r = await page.evaluate((t) => window.hpd.loseDeviceDuringEmbed(t), texts);
    expect(r.during, JSON.stringify(r)).toMatchObject({ ok: false });
    expect(r.before).toEqual({ ok: true, value: 'webgpu' });
    expect(r.during).toMatchObject({ ok: false, code: 'DEVICE_LOST' });
    expect(r.after).toEqual({ ok: true, value: 32 });
    expect(r.freshWorker).toBe(true);
  });

  it('a worker that stops answering without an error event is noticed by the watchdog (WORKER_CRASHED), then a fresh worker', async () => {
    expect(
      await page.evaluate((m) => window.hpd.startCrashable(m, 'wasm', 15_000), `${server!.url}models/fp32/`),
    ).toEqual({ ok: true, value: 32 });
    const r = await page.evaluate(() => window.hpd.hangDuringEmbed());
    expect(r.after, JSON.stringify(r)).toMatchObject({ ok: true });
    expect(r.during).toMatchObject({ ok: false, code: 'WORKER_CRASHED' });
    expect(r.during.ok ? '' : r.during.message).toMatch(/stopped answering/);
    expect(r.after).toEqual({ ok: true, value: 32 });
    expect(r.freshWorker).toBe(true);
  });

  it('a worker that cannot load (bad URL, or blocked by CSP) gives WORKER_START_FAILED naming the worker and the likely causes', async () => {
    const bad = await page.evaluate((m) => window.hpd.badWorker(m), `${server!.url}models/fp32/`);
    expect(bad).toMatchObject({ ok: false, code: 'WORKER_START_FAILED' });
    expect(bad.ok ? '' : bad.message).toMatch(/did not start.*Likely causes.*Content-Security-Policy/s);
    const blocked = await serveStatic(outDir, {
      'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'",
    });
    const p2 = await browser!.context.newPage();
    try {
      await p2.goto(blocked.url);
      await pageReady(p2);
      const r = await p2.evaluate(
        (m) => window.hpd.run({ model: m, device: 'wasm', texts: ['x'], startTimeoutMs: 10_000 }),
        `${blocked.url}models/fp32/`,
      );
      expect(r).toMatchObject({ ok: false, code: 'WORKER_START_FAILED' });
      expect(r.ok ? '' : r.message).toMatch(/worker\.js resolved against .*did not start/s);
    } finally {
      await p2.close();
      await blocked.close();
    }
  });

  it('runs under an MV3-extension-style CSP (no eval; wasm-unsafe-eval only), compiling a checkpoint in the worker too', async () => {
    // Chrome's default extension_pages policy, plus same-origin workers and fetches; applied to the worker script as well.
    // (Checked to bite: without 'wasm-unsafe-eval' the session fails with a CSP CompileError.)
    const csp =
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; object-src 'self'";
    await cp(fixture!.checkpointDir, join(outDir, 'ckpt'), { recursive: true });
    const strict = await serveStatic(outDir, { 'Content-Security-Policy': csp });
    const violations: string[] = [];
    const p2 = await browser!.context.newPage();
    p2.on('console', (m) => {
      if (/Content Security Policy|EvalError|unsafe-eval/i.test(m.text())) violations.push(m.text());
    });
    try {
      await p2.goto(strict.url);
      await pageReady(p2);
      for (const o of [
        { model: `${strict.url}models/int8/`, device: 'webgpu' as const, texts: TEXTS },
        { model: `${strict.url}ckpt/`, device: 'wasm' as const, texts: TEXTS },
      ]) {
        const r = await p2.evaluate((opts) => window.hpd.run(opts), o);
        if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
        const ref = o.model.endsWith('ckpt/') ? nodeVectors.fp32 : nodeVectors.int8;
        const got = rows(r.value.vectors, 32);
        for (let i = 0; i < TEXTS.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThanOrEqual(1e-4);
      }
      expect(violations).toEqual([]);
    } finally {
      await p2.close();
      await strict.close();
    }
  });

  it('gives typed errors in the browser too', async () => {
    const r = await page.evaluate((m) => window.hpd.errors(m), `${server!.url}models/fp32/`);
    expect(r.notArray).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(r.badUrl).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(r.hubShaped).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(r.hubShaped.ok ? '' : r.hubShaped.message).toContain('write it as a path: "./models/fp32/"');
  });
});
