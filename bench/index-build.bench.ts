// `index build` throughput (issue 18): buildIndex over generated Markdown documents against the same embedder
// embedding the same passage texts in one call (the baseline, same run), on an HPD-MiniLM-F128-shaped model (random
// weights, real shape), Node. The Node API itself measured 0.98–1.0× of raw onnxruntime (bench/embed). Writes
// bench/results/index-build.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memorySource } from '../src/bundle/source.js';
import { compileCheckpoint } from '../src/convert/compile.js';
import { generateFixture, HPD_MINILM_F128 } from '../src/convert/fixture.js';
import { createEmbedder } from '../src/node/create-embedder.js';
import { buildIndex, collectFiles, documentPassages, readDocuments } from '../src/node/index-build.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';
import { sentences, withBertVocab } from '../test/helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const DOCS = Number(process.env.HPD_BENCH_DOCS ?? 64);

export async function run(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'hpd-bench-build-'));
  try {
    const bundle = await compileCheckpoint(memorySource(generateFixture(withBertVocab(HPD_MINILM_F128))));
    const bundleDir = join(tmp, 'bundle');
    await writeFolderAtomic(bundleDir, bundle.files);
    const { texts } = sentences(DOCS * 24);
    const site = join(tmp, 'site');
    await mkdir(site, { recursive: true });
    for (let d = 0; d < DOCS; d++) {
      const paras = [0, 1, 2].map((p) => texts.slice(d * 24 + p * 8, d * 24 + p * 8 + 8).join(' '));
      await writeFile(join(site, `doc-${d}.md`), `# Document ${d}\n\n${paras.join('\n\n')}\n`);
    }
    const { root, files } = await collectFiles([site]);
    const passages = (await readDocuments(root, files)).flatMap((d) => documentPassages(d.source).texts);
    const e = await createEmbedder({ model: bundleDir, device: 'auto', cacheDir: join(tmp, 'cache') });
    try {
      await e.embed(passages.slice(0, 64)); // warm-up
      let t = performance.now();
      await e.embed(passages);
      const embedS = (performance.now() - t) / 1000;
      const { name, dim, dtype, sha256 } = e.info;
      t = performance.now();
      const r = await buildIndex({ inputs: [site], embed: (x) => e.embed(x), model: { name, dim, dtype, sha256 } });
      const buildS = (performance.now() - t) / 1000;
      const result = {
        node: process.version,
        device: e.device.actual,
        documents: r.stats.documents,
        passages: r.stats.passages,
        embed_passages_per_s: Math.round((passages.length / embedS) * 10) / 10,
        build_passages_per_s: Math.round((r.stats.passages / buildS) * 10) / 10,
        build_over_embed: Math.round((embedS / buildS) * 1000) / 1000,
      };
      console.log(result);
      await mkdir(join(here, 'results'), { recursive: true });
      await writeFile(join(here, 'results', 'index-build.json'), `${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await e.dispose();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
