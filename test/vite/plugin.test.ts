// hpd-embed/vite driven through Vite's own build and dev-server APIs: hashed index assets, the virtual module, the
// model bundle as assets, reuse of unchanged documents across builds, and a dev rebuild on change.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildStats } from '../../src/node/index-build.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { readIndexFile } from '../../src/search/index-file.js';
import { hpdEmbed } from '../../src/vite/index.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('hpd-embed/vite', () => {
  const tmp = useTempDir('hpd-vite-');
  let bundle = '';
  let app = '';
  const builds: BuildStats[] = [];
  let server: ViteDevServer | undefined;

  const plugin = () =>
    hpdEmbed({
      model: bundle,
      indexes: { docs: { include: 'content/**/*.md', storage: 'int8' } },
      emitModel: true,
      embedder: { device: 'wasm', threads: 1, cacheDir: join(tmp(), 'cache') },
      onBuild: (_n, s) => builds.push(s),
    });

  const viteBuild = () =>
    build({
      root: app,
      logLevel: 'silent',
      configFile: false,
      plugins: [plugin()],
      build: { outDir: 'dist', emptyOutDir: true },
    });

  beforeAll(async () => {
    bundle = await (await compiledFixture()).bundleDir();
    app = join(tmp(), 'app');
    await mkdir(join(app, 'content', 'guide'), { recursive: true });
    await writeFile(join(app, 'content', 'a.md'), '# Alpha\n\nthe first page is about people and time.\n');
    await writeFile(join(app, 'content', 'guide', 'b.md'), '# Beta\n\nthe second page is about the state.\n');
    await writeFile(join(app, 'index.html'), '<!doctype html><script type="module" src="/main.js"></script>');
    await writeFile(
      join(app, 'main.js'),
      "import { indexes, modelUrl } from 'virtual:hpd-embed';\nwindow.hpd = { indexes, modelUrl };\n",
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('vite build emits the index as a hashed asset, its URL and integrity in the virtual module, and the model bundle', async () => {
    await viteBuild();
    const dist = join(app, 'dist');
    const assets = await readdir(join(dist, 'assets'));
    const index = assets.find((f) => /^docs-[0-9a-f]{10}\.hpdx$/.test(f));
    expect(index).toBeTruthy();
    const bytes = await readFile(join(dist, 'assets', index!));
    const file = readIndexFile(bytes);
    expect(Object.keys(file.documents!).sort()).toEqual(['content/a.md', 'content/guide/b.md']);
    const idx = CosineIndex.import(bytes);
    expect(idx.storage).toBe('int8');
    expect(idx.ids().sort()).toEqual(['content/a.md#0', 'content/guide/b.md#0']);
    const js = (
      await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(join(dist, 'assets', f), 'utf8')))
    ).join('\n');
    expect(js).toContain(`/assets/${index}`);
    expect(js).toMatch(/sha256-[A-Za-z0-9+/=]{44}/);
    expect(js).toContain('/hpd-models/');
    const models = await readdir(join(dist, 'hpd-models'));
    expect(await readdir(join(dist, 'hpd-models', models[0]))).toEqual(
      expect.arrayContaining(['hpd.json', 'model.onnx']),
    );
    expect(builds.at(-1)).toMatchObject({ documents: 2, embedded: 2, reused: 0 });
  });

  it('a second build reuses the vectors of unchanged documents and re-embeds only a changed one', async () => {
    await viteBuild();
    expect(builds.at(-1)).toMatchObject({ embedded: 0, reused: 2 });
    await writeFile(join(app, 'content', 'a.md'), '# Alpha 2\n\nthe first page changed.\n');
    await viteBuild();
    expect(builds.at(-1)).toMatchObject({ embedded: 1, reused: 1 });
  });

  it("texts: 'chunks' emits the passage texts as chunk assets and exports their folder as indexes[name].texts", async () => {
    await build({
      root: app,
      logLevel: 'silent',
      configFile: false,
      plugins: [
        hpdEmbed({
          model: bundle,
          indexes: { docs: { include: 'content/**/*.md', texts: 'chunks' } },
          cacheDir: 'node_modules/.hpd-embed-chunks',
          embedder: { device: 'wasm', threads: 1, cacheDir: join(tmp(), 'cache') },
          onBuild: () => {},
        }),
      ],
      build: { outDir: 'dist-chunks', emptyOutDir: true },
    });
    const dist = join(app, 'dist-chunks');
    const chunks = await readdir(join(dist, 'assets', 'docs-texts'));
    expect(chunks.length).toBe(2);
    const index = (await readdir(join(dist, 'assets'))).find((f) => f.endsWith('.hpdx'))!;
    const idx = CosineIndex.import(await readFile(join(dist, 'assets', index)));
    for (const id of idx.ids()) {
      const m = idx.get(id)!.metadata as { chunk: string; text?: string };
      expect(m.text).toBeUndefined();
      const texts = JSON.parse(await readFile(join(dist, 'assets', 'docs-texts', `${m.chunk}.json`), 'utf8'));
      expect(typeof texts[id]).toBe('string');
    }
    const js = (await readdir(join(dist, 'assets'))).filter((f) => f.endsWith('.js'));
    expect((await readFile(join(dist, 'assets', js[0]), 'utf8')).includes('/assets/docs-texts/')).toBe(true);
  });

  it('the dev server builds at start, serves the index, and rebuilds when a document changes', async () => {
    server = await createServer({
      root: app,
      logLevel: 'silent',
      configFile: false,
      plugins: [plugin()],
      server: { port: 0 },
    });
    await server.listen();
    const base = server.resolvedUrls!.local[0];
    const mod = await (await fetch(`${base}@id/__x00__virtual:hpd-embed`)).text();
    const url = /"url":"([^"]+)"/.exec(mod)![1];
    const res = await fetch(new URL(url, base));
    expect(res.ok).toBe(true);
    expect(CosineIndex.import(new Uint8Array(await res.arrayBuffer())).size).toBe(2);
    const rebuilt = new Promise<void>((r) => {
      const n = builds.length;
      const timer = setInterval(() => builds.length > n && (clearInterval(timer), r()), 50);
    });
    await writeFile(join(app, 'content', 'guide', 'c.md'), '# Gamma\n\na third page.\n');
    await rebuilt;
    expect(builds.at(-1)).toMatchObject({ documents: 3, embedded: 1, reused: 2 });
  });
});
