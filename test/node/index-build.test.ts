// `hpd-embed index build` / `index export` with the small generated model: passages, ids and metadata as specified,
// --update re-embedding only what changed, and top-10 equal to an independent reference from the passage texts.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPassageTexts } from '../../src/api/passage-texts.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedVocab } from '../../src/convert/fixture.js';
import type { Embedder } from '../../src/api/embedder.js';
import { main } from '../../src/node/cli.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { progressBar, type BuildStats, type PassageMetadata } from '../../src/node/index-build.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { readIndexFile } from '../../src/search/index-file.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { naiveSearch } from '../reference/naive-cosine.js';
import { capture } from '../helpers/cli-capture.js';

const words = generatedVocab().filter((w) => /^[a-z]{3,}$/.test(w));

/** A Markdown document of `paragraphs` paragraphs of generated sentences, with a heading. */
function markdown(rand: () => number, title: string, paragraphs: number): string {
  const sentence = () =>
    Array.from({ length: 6 + Math.floor(rand() * 10) }, () => words[Math.floor(rand() * words.length)]).join(' ') + '.';
  const para = () => Array.from({ length: 2 + Math.floor(rand() * 5) }, sentence).join(' ');
  return `# ${title}\n\n${Array.from({ length: paragraphs }, para).join('\n\n')}\n`;
}

describe('hpd-embed index build', () => {
  const tmp = useTempDir('hpd-index-build-');
  let bundle = '';
  let docs = '';
  let out = '';
  let cacheBefore: string | undefined;
  let embedder: Embedder;
  const rand = seededRandom(18);

  /** `index build` of the docs into `to` with --json; fails the test on a non-zero exit. */
  const buildInto = async (to: string, ...extra: string[]) => {
    const io = capture();
    const code = await main(
      ['index', 'build', docs, '--model', bundle, '--out', to, '--device', 'wasm', '--json', ...extra],
      io,
    );
    expect(code, io.stderr).toBe(0);
    return { stats: JSON.parse(io.stdout) as BuildStats, stderr: io.stderr };
  };
  const build = async (...extra: string[]) => (await buildInto(out, ...extra)).stats;
  const load = async () => CosineIndex.import<PassageMetadata>(await readFile(out));

  beforeAll(async () => {
    cacheBefore = process.env.HPD_EMBED_CACHE;
    process.env.HPD_EMBED_CACHE = join(tmp(), 'cache');
    bundle = await (await compiledFixture()).bundleDir();
    docs = join(tmp(), 'site');
    out = join(tmp(), 'search.hpdx');
    await mkdir(join(docs, 'guide'), { recursive: true });
    await writeFile(join(docs, 'index.md'), markdown(rand, 'Home', 3));
    await writeFile(join(docs, 'guide', 'install.md'), `---\ntitle: "Install it"\n---\n${markdown(rand, 'Setup', 6)}`);
    await writeFile(join(docs, 'guide', 'faq.md'), markdown(rand, 'Questions', 8));
    await writeFile(
      join(docs, 'about.html'),
      `<html><head><title>About us</title><style>.x{}</style></head><body><h1>About</h1><p>${markdown(rand, 'x', 1).slice(4)}</p><script>var hidden = 1;</script><div hidden>secret words</div><p>the end &amp; more</p></body></html>`,
    );
    await writeFile(join(docs, 'notes.txt'), markdown(rand, 'Notes', 2).slice(2));
    await writeFile(
      join(docs, 'items.jsonl'),
      [1, 2, 3]
        .map((i) => JSON.stringify({ id: `item${i}`, text: markdown(rand, 'x', 1).slice(4), price: i }))
        .join('\n'),
    );
    await writeFile(join(docs, 'skip.png'), 'not a document');
    embedder = await createEmbedder({ model: bundle, device: 'wasm', cacheDir: join(tmp(), 'cache'), threads: 1 });
  });
  afterAll(async () => {
    await embedder?.dispose();
    if (cacheBefore === undefined) delete process.env.HPD_EMBED_CACHE;
    else process.env.HPD_EMBED_CACHE = cacheBefore;
  });

  it('builds passages with ids <doc>#<n> and metadata { doc, title, start, end, text } for every document kind', async () => {
    const s = await build();
    expect(s).toMatchObject({ documents: 8, reused: 0 });
    expect(s.embedded).toBe(s.passages);
    expect(s.passages).toBeGreaterThan(8);
    const idx = await load();
    const file = readIndexFile(await readFile(out));
    expect(file.model).toMatchObject({ name: embedder.info.name, dim: embedder.dim, sha256: embedder.info.sha256 });
    // The passage texts' keyword index ships with the vectors: a page can search the file in every mode.
    expect(idx.hasKeywords).toBe(true);
    const text = idx.get(idx.ids()[0])?.metadata?.text ?? '';
    const some = text.split(/\s+/).find((w) => /^\p{L}{4,}$/u.test(w)) ?? '';
    expect(some).not.toBe('');
    expect(idx.search(some, 20, { mode: 'keyword' }).length).toBeGreaterThan(0);
    expect(Object.keys(file.documents!).sort()).toEqual([
      'about.html',
      'guide/faq.md',
      'guide/install.md',
      'index.md',
      'items.jsonl#item1',
      'items.jsonl#item2',
      'items.jsonl#item3',
      'notes.txt',
    ]);
    for (const id of idx.ids()) {
      const m = idx.get(id)!.metadata!;
      expect(id).toMatch(new RegExp(`^${m.doc.replace(/[.#]/g, '\\$&')}#\\d+$`));
      if (m.doc.endsWith('.md') || m.doc.endsWith('.txt')) {
        const source = await readFile(join(docs, m.doc), 'utf8');
        expect(source.slice(m.start, m.end)).toBe(m.text);
      }
    }
    expect(idx.get('guide/install.md#0')!.metadata).toMatchObject({ doc: 'guide/install.md', title: 'Install it' });
    expect(idx.get('guide/faq.md#0')!.metadata!.title).toBe('Questions');
    expect(idx.get('items.jsonl#item2#0')!.metadata).toMatchObject({ doc: 'items.jsonl#item2', price: 2 });
    const about = idx.get('about.html#0')!.metadata!;
    expect(about.title).toBe('About us');
    const allHtml = idx
      .ids()
      .filter((i) => i.startsWith('about.html#'))
      .map((i) => idx.get(i)!.metadata!.text)
      .join(' ');
    expect(allHtml).toContain('the end & more');
    expect(allHtml).not.toMatch(/secret|hidden = 1|\.x\{/);
    const html = await readFile(join(docs, 'about.html'), 'utf8');
    expect(html.slice(about.start, about.end)).toContain('About');
  });

  it('top-10 for held-out queries equals a reference from the passage texts (each embedded alone, brute-force cosine)', async () => {
    const idx = await load();
    const entries = [];
    for (const id of idx.ids()) {
      const text = idx.get(id)!.metadata!.text!;
      entries.push({ id, vector: await embedder.embed([text]) });
    }
    for (let q = 0; q < 5; q++) {
      const query = Array.from({ length: 6 }, () => words[Math.floor(rand() * words.length)]).join(' ');
      const qv = await embedder.embed([query]);
      const got = idx.search(qv, 10).map((h) => h.id);
      expect(got).toEqual(naiveSearch(entries, qv, 10).map((h) => h.id));
    }
  });

  it('--update: an unchanged site re-embeds 0; touching one document re-embeds only its passages; a removed one is dropped', async () => {
    const before = await build();
    const same = await build('--update');
    expect(same).toMatchObject({ embedded: 0, reused: before.passages, passages: before.passages });

    const faq = join(docs, 'guide', 'faq.md');
    await writeFile(faq, markdown(rand, 'Questions again', 4));
    const faqPassages = (await load()).ids().filter((i) => i.startsWith('guide/faq.md#')).length;
    const touched = await build('--update');
    const idx = await load();
    const nowFaq = idx.ids().filter((i) => i.startsWith('guide/faq.md#')).length;
    expect(touched.embedded).toBe(nowFaq);
    expect(touched.reused).toBe(before.passages - faqPassages);
    expect(idx.get('guide/faq.md#0')!.metadata!.title).toBe('Questions again');

    // The updated index answers as a fresh build of the same documents does.
    const fresh = join(tmp(), 'fresh.hpdx');
    expect(await main(['index', 'build', docs, '--model', bundle, '--out', fresh, '--device', 'wasm'], capture())).toBe(
      0,
    );
    const freshIdx = CosineIndex.import<PassageMetadata>(await readFile(fresh));
    expect(idx.ids().sort()).toEqual(freshIdx.ids().sort());
    const qv = await embedder.embed(['the people of the state']);
    expect(idx.search(qv, 10).map((h) => h.id)).toEqual(freshIdx.search(qv, 10).map((h) => h.id));

    await rm(join(docs, 'notes.txt'));
    const removed = await build('--update');
    expect(removed.embedded).toBe(0);
    expect(removed.documents).toBe(7);
    expect((await load()).ids().some((i) => i.startsWith('notes.txt'))).toBe(false);
  });

  it('--storage int8 builds an int8 index; --update under another storage re-embeds everything and says so', async () => {
    const { stderr } = await buildInto(out, '--storage', 'int8', '--update');
    expect(stderr).toContain('re-embedded everything');
    expect((await load()).storage).toBe('int8');
  });

  it('--texts chunks: texts leave the index for small content-named chunk files that a page fetches per hit', async () => {
    const inline = await load();
    const chunked = join(tmp(), 'chunked.hpdx');
    const run = async (...extra: string[]) => (await buildInto(chunked, '--texts', 'chunks', ...extra)).stats;
    await run();
    const idx = CosineIndex.import<PassageMetadata>(await readFile(chunked));
    const inlineBytes = (await readFile(out)).length;
    expect((await readFile(chunked)).length).toBeLessThan(inlineBytes);
    const files = await readdir(`${chunked}.texts`);
    for (const f of files) expect((await readFile(join(`${chunked}.texts`, f))).length).toBeLessThan(8192 * 2);
    for (const id of idx.ids()) {
      const m = idx.get(id)!.metadata!;
      expect(m.text).toBeUndefined();
      expect(files).toContain(`${m.chunk}.json`);
    }
    // The page side: only the chunks of the hits are fetched, once each, and give the same texts as inline metadata.
    const fetched: string[] = [];
    const loader = createPassageTexts(pathToFileURL(`${chunked}.texts/`), {
      fetch: async (url) => (fetched.push(url), new Response(await readFile(fileURLToPath(url)))),
    });
    const qv = await embedder.embed(['the state of the people']);
    const hits = idx.search(qv, 10, { withMetadata: true });
    const texts = await loader.texts(hits);
    expect(texts).toEqual(hits.map((h) => inline.get(h.id)!.metadata!.text));
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(fetched.length).toBe(new Set(hits.map((h) => (h.metadata as PassageMetadata).chunk)).size);
    expect(loader.fetchedBytes()).toBeLessThanOrEqual(100_000);
    await loader.texts(hits);
    expect(fetched.length).toBe(new Set(fetched).size); // cached

    // --update keeps reused rows' chunk names valid and removes chunks no row names.
    await writeFile(join(docs, 'index.md'), markdown(rand, 'Home again', 2));
    const u = await run('--update');
    expect(u.embedded).toBeGreaterThan(0);
    expect(u.reused).toBeGreaterThan(0);
    const after = CosineIndex.import<PassageMetadata>(await readFile(chunked));
    const names = new Set(after.ids().map((id) => `${after.get(id)!.metadata!.chunk}.json`));
    expect(new Set(await readdir(`${chunked}.texts`))).toEqual(names);
  });

  it('index export --format jsonl writes one { id, vector, metadata } line per entry', async () => {
    const idx = await load();
    const io = capture();
    expect(await main(['index', 'export', out, '--format', 'jsonl'], io)).toBe(0);
    const lines = io.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; vector: number[]; metadata: PassageMetadata });
    expect(lines.length).toBe(idx.size);
    expect(lines[0].vector.length).toBe(embedder.dim);
    expect(lines[0].metadata.doc).toBeTruthy();
    expect(await main(['index', 'export', out, '--format', 'csv'], capture())).toBe(2);
  });

  it('on a terminal it draws a progress bar with passages/s and an ETA', async () => {
    expect(progressBar(50, 200, 10, 8)).toBe('[##------] 50/200 passages  5.0/s  ETA 30s');
    expect(progressBar(0, 200, 0, 8)).toBe('[--------] 0/200 passages  0.0/s  ETA ?');
    expect(progressBar(100, 1000, 10)).toContain('ETA 1m30s');
    const io = capture();
    io.tty = true;
    const fresh = join(tmp(), 'tty.hpdx');
    expect(await main(['index', 'build', docs, '--model', bundle, '--out', fresh, '--device', 'wasm'], io)).toBe(0);
    expect(io.stderr).toMatch(/\r\[#+\] \d+\/\d+ passages {2}[\d.]+\/s {2}ETA /);
  });

  it('refuses bad command lines and inputs with typed errors', async () => {
    expect(await main(['index', 'build', docs, '--model', bundle], capture())).toBe(2);
    expect(await main(['index', 'frobnicate'], capture())).toBe(2);
    const io = capture();
    expect(await main(['index', 'build', join(docs, 'skip.png'), '--model', bundle, '--out', out], io)).toBe(1);
    expect(io.stderr).toContain('INVALID_INPUT');
  });
});
