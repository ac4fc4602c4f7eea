// The package as users get it: `npm pack`, then the tarball installed into fresh scratch projects (a Vite app served by
// the dev server and by build + preview, a webpack 5 app, a Node project using import and require). Each one embeds,
// indexes and searches (headless Chromium on wasm and WebGPU for the web apps); vectors must match Node's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserSuite, type LaunchedChromium } from '../browser/chromium.js';
import { serveStatic, type StaticServer } from '../browser/static-server.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab } from '../helpers/fixtures.js';
import { maxAbsDiff } from '../helpers/ort-run.js';
import { createEmbedder as createNodeEmbedder } from '../../src/node/create-embedder.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { seededRandom } from '../../src/seeded-random.js';
import { generatedVocab } from '../../src/convert/fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');
const APPS = join(import.meta.dirname, 'apps');
const OWN = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const VERSIONS = {
  vite: '8.3.8',
  webpack: '5.113.0',
  typescript: OWN.devDependencies.typescript,
  typesNode: OWN.devDependencies['@types/node'],
};
const DIM = 16;

interface AppResult {
  ok: boolean;
  device?: string;
  reason?: string;
  dim?: number;
  vectors?: number[];
  hits?: { id: string; score: number }[];
  code?: string;
  error?: string;
}

/** Runs a command to completion; throws with its output when it fails. */
function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stdout}\n${r.stderr}`,
    );
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Starts a long-running server command and waits until `url` answers. */
async function startServer(cmd: string, args: string[], cwd: string, url: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited: ${log}`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 120 s: ${log}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `vite [command]` in `dir` on a free local port (the dev server, or `preview` of a build), once it answers. */
async function startVite(dir: string, ...command: string[]): Promise<{ server: ChildProcess; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const args = [
    'node_modules/vite/bin/vite.js',
    ...command,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--strictPort',
  ];
  return { server: await startServer('node', args, dir, base), base };
}

function stop(child: ChildProcess | undefined): void {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM'); // its own process group: the server and anything it started
    } catch {
      // already gone
    }
  }
}

const skip = skipBrowserSuite('consumer tests (npm pack → Vite, webpack, Node)');

describe.skipIf(skip)('consumer projects install the packed tarball and work with no hpd-embed-specific config', () => {
  let scratch = '';
  let tarball = '';
  let browser: LaunchedChromium | undefined;
  let reference: AppResult;
  const env = {
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? tmpdir(), '.npm'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };

  /** A fresh project: package.json with exact versions, the app's files, `npm install`. */
  function project(
    name: string,
    files: string,
    devDependencies: Record<string, string> = {},
    type: 'module' | 'commonjs' = 'module',
  ): string {
    const dir = join(scratch, name);
    mkdirSync(dir, { recursive: true });
    cpSync(join(APPS, files), dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify(
        {
          name: `consumer-${name}`,
          private: true,
          version: '0.0.0',
          type,
          dependencies: { 'hpd-embed': `file:${tarball}` },
          devDependencies,
        },
        null,
        2,
      ),
    );
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], dir, env);
    return dir;
  }

  async function runPage(url: string): Promise<AppResult> {
    const page: Page = await browser!.context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(String(e)));
    try {
      await page.goto(url);
      await page.waitForFunction(
        () => (window as unknown as { __result?: unknown }).__result !== undefined,
        undefined,
        { timeout: 240_000 },
      );
      const r = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as AppResult;
      if (!r.ok) throw new Error(`${url}: ${r.code ?? ''} ${r.error ?? ''}\n${logs.join('\n')}`);
      return r;
    } finally {
      await page.close();
    }
  }

  /** Same vectors as the Node project (within 1e-4) and a sensible search: the query's own text ranks first. */
  function expectGood(r: AppResult, device: string) {
    expect(r.device).toBe(device);
    expect(r.dim).toBe(DIM);
    expect(maxAbsDiff(Float32Array.from(r.vectors!), Float32Array.from(reference.vectors!))).toBeLessThanOrEqual(1e-4);
    expect(r.hits![0].id).toBe('d1');
    expect(r.hits![0].score).toBeCloseTo(1, 4);
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hpd-consumer-'));
    // prepack builds dist/ (the project .npmrc turns scripts off: on again here); the tarball is what `npm publish` uploads.
    const packed = JSON.parse(
      sh(
        'npm',
        ['pack', '--ignore-scripts=false', '--json', '--pack-destination', scratch, '--loglevel=error'],
        ROOT,
        env,
      ),
    ) as { filename: string }[];
    tarball = join(scratch, packed[0].filename);
    const fx = await compiledFixture(
      withBertVocab({
        layers: 1,
        hidden: 32,
        heads: 4,
        ffn: 64,
        dim: DIM,
        maxPositions: 64,
        maxSeqLength: 32,
      }),
    );
    await fx.writeBundle(join(scratch, 'models/bundle'));
    cpSync(fx.checkpointDir, join(scratch, 'models/ckpt'), { recursive: true });
    rmSync(join(scratch, 'models/ckpt/model.safetensors')); // like the Hub repo's 2_Dense/: pytorch_model.bin only, so missing files get probed
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('Node project: ESM import and CJS require of hpd-embed/node embed, index and search; device.reason names the missing native runtime', () => {
    const dir = project('node', 'node', {}, 'commonjs');
    expect(existsSync(join(dir, 'node_modules/onnxruntime-node'))).toBe(false); // an optional peer: not installed for consumers
    const cache = { HPD_EMBED_CACHE: join(scratch, 'cache') };
    const esm = JSON.parse(
      sh('node', ['esm.mjs', join(scratch, 'models/bundle')], dir, cache)
        .trim()
        .split('\n')
        .pop()!,
    ) as AppResult;
    const cjs = JSON.parse(
      sh('node', ['cjs.cjs', join(scratch, 'models/bundle')], dir, cache)
        .trim()
        .split('\n')
        .pop()!,
    ) as AppResult;
    reference = esm;
    expect(esm.device).toBe('wasm');
    expect(esm.reason).toMatch(/onnxruntime-node is not installed.*npm install onnxruntime-node@/);
    expect(esm.hits![0].id).toBe('d1');
    expect(cjs.vectors).toEqual(esm.vectors);

    // The installed CLI: usage, and a first line that says the native runtime is missing and how to add it.
    expect(sh('node', ['node_modules/hpd-embed/bin/hpd-embed.js', '--help'], dir)).toMatch(/hpd-embed embed /);
    writeFileSync(join(dir, 'lines.txt'), 'hello world\nsecond line\n');
    const r = spawnSync(
      'node',
      [
        'node_modules/hpd-embed/bin/hpd-embed.js',
        'embed',
        '--model',
        join(scratch, 'models/bundle'),
        '--input',
        'lines.txt',
        '--output',
        'v.f32',
      ],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, ...cache } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^note: onnxruntime-node is not installed.*npm install onnxruntime-node@1\.30\.0/,
    );
    expect(readFileSync(join(dir, 'v.f32')).byteLength).toBe(2 * DIM * 4);
  }, 600_000);

  it('TypeScript project (strict, skipLibCheck: false): every entry, compat included, type-checks against the published .d.ts', () => {
    const dir = project('types', 'types', { typescript: VERSIONS.typescript, '@types/node': VERSIONS.typesNode });
    // No @webgpu/types here: a public type that names GPUAdapter & co. fails this (it did: dist/engine/device.d.ts).
    expect(existsSync(join(dir, 'node_modules/@webgpu/types'))).toBe(false);
    const r = spawnSync('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 600_000);

  describe('Vite app', () => {
    let dir = '';
    beforeAll(() => {
      dir = project('vite', 'web', { vite: VERSIONS.vite });
      cpSync(join(scratch, 'models'), join(dir, 'public/models'), { recursive: true });
    }, 600_000);

    it('dev server (no config): wasm, WebGPU, and a checkpoint compiled in the worker', async () => {
      const { server, base } = await startVite(dir);
      try {
        expectGood(await runPage(`${base}?device=wasm`), 'wasm');
        expectGood(await runPage(`${base}?device=webgpu`), 'webgpu');
        expectGood(await runPage(`${base}?device=wasm&model=ckpt`), 'wasm');
      } finally {
        stop(server);
      }
    }, 600_000);

    it("vite build with worker.format 'es' (README's Vite setup): the compiler is a chunk of its own, not in the worker", () => {
      const js = (out: string) => readdirSync(join(dir, out, 'assets')).filter((f) => f.endsWith('.js'));
      const holdsCompiler = (out: string, f: string) =>
        readFileSync(join(dir, out, 'assets', f), 'utf8').includes('(safetensors header)');
      sh(
        'node',
        ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.config.es.mjs', '--outDir', 'dist-es'],
        dir,
      );
      const es = js('dist-es');
      const worker = es.filter((f) => f.startsWith('worker-'));
      expect(worker, es.join(' ')).toHaveLength(1);
      expect(holdsCompiler('dist-es', worker[0])).toBe(false);
      expect(es.filter((f) => holdsCompiler('dist-es', f))).toEqual([expect.stringMatching(/^compile-/)]);
      // Why the README asks for it: Vite's default (iife) worker format inlines the compiler into the worker.
      sh('node', ['node_modules/vite/bin/vite.js', 'build', '--outDir', 'dist-iife', '--logLevel', 'error'], dir);
      const iife = js('dist-iife').filter((f) => f.startsWith('worker-'));
      expect(iife).toHaveLength(1);
      expect(holdsCompiler('dist-iife', iife[0])).toBe(true);
    }, 600_000);

    it('vite build + vite preview (no config): wasm and WebGPU', async () => {
      sh('node', ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'], dir);
      const { server, base } = await startVite(dir, 'preview');
      try {
        expectGood(await runPage(`${base}?device=wasm`), 'wasm');
        expectGood(await runPage(`${base}?device=webgpu`), 'webgpu');
      } finally {
        stop(server);
      }
    }, 600_000);
  });

  it("Vite app with hpd-embed/vite over Markdown: build + preview; the page imports the prebuilt index, embeds only the queries, and its top-10 equals Node's", async () => {
    const dir = project('vite-plugin', 'vite-plugin', { vite: VERSIONS.vite });
    cpSync(join(scratch, 'models/bundle'), join(dir, 'models/bundle'), { recursive: true });
    const words = generatedVocab().filter((w) => /^[a-z]{3,}$/.test(w));
    const rand = seededRandom(18);
    const pick = () => words[Math.floor(rand() * words.length)];
    for (let d = 0; d < 6; d++) {
      const paras = Array.from({ length: 3 }, () => Array.from({ length: 20 }, pick).join(' ') + '.');
      mkdirSync(join(dir, 'content', d % 2 ? 'guide' : '.'), { recursive: true });
      writeFileSync(
        join(dir, 'content', d % 2 ? 'guide' : '.', `page${d}.md`),
        `# Page ${d}\n\n${paras.join('\n\n')}\n`,
      );
    }
    sh('node', ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'], dir, {
      HPD_EMBED_CACHE: join(scratch, 'cache'),
    });
    const assets = readdirSync(join(dir, 'dist/assets'));
    const indexFile = assets.find((f) => /^docs-[0-9a-f]{10}\.hpdx$/.test(f))!;
    expect(indexFile).toBeTruthy();
    expect(readdirSync(join(dir, 'dist'), { recursive: true }).some((f) => String(f).endsWith('.md'))).toBe(false);

    // Node's answer: the same index file, queries embedded by hpd-embed/node on the same bundle.
    const queries = Array.from({ length: 4 }, () => Array.from({ length: 5 }, pick).join(' '));
    const bytes = readFileSync(join(dir, 'dist/assets', indexFile));
    const index = CosineIndex.import(bytes);
    const node = await createNodeEmbedder({
      model: join(dir, 'models/bundle'),
      device: 'wasm',
      cacheDir: join(scratch, 'cache'),
    });
    const expected: string[][] = [];
    try {
      for (const q of queries) expected.push(index.search(await node.embedOne(q), 10).map((h) => h.id));
    } finally {
      await node.dispose();
    }

    const { server, base } = await startVite(dir, 'preview');
    try {
      const requests: string[] = [];
      const onRequest = (req: { url(): string }) => void requests.push(req.url());
      browser!.context.on('request', onRequest);
      let r: AppResult & { size: number; hits: unknown };
      try {
        r = (await runPage(`${base}?q=${encodeURIComponent(JSON.stringify(queries))}`)) as typeof r;
      } finally {
        browser!.context.off('request', onRequest);
      }
      expect(requests.some((u) => u.includes('/assets/docs-'))).toBe(true);
      expect(r.size).toBe(index.size);
      expect(r.hits).toEqual(expected);
      expect(requests.some((u) => u.endsWith('.md'))).toBe(false);
    } finally {
      stop(server);
    }
  }, 600_000);

  it('webpack 5 app (a plain config): wasm, WebGPU, and a checkpoint compiled in the worker', async () => {
    const dir = project('webpack', 'webpack', { webpack: VERSIONS.webpack });
    cpSync(join(APPS, 'web/main.js'), join(dir, 'src/main.js'));
    sh('node', ['build.mjs'], dir);
    cpSync(join(APPS, 'web/index.html'), join(dir, 'dist/index.html'));
    cpSync(join(scratch, 'models'), join(dir, 'dist/models'), { recursive: true });
    const server: StaticServer = await serveStatic(join(dir, 'dist'));
    try {
      expectGood(await runPage(`${server.url}?device=wasm`), 'wasm');
      expectGood(await runPage(`${server.url}?device=webgpu`), 'webgpu');
      expectGood(await runPage(`${server.url}?device=wasm&model=ckpt`), 'wasm');
    } finally {
      await server.close();
    }
  }, 600_000);
});
