// The evaluation in headless Chromium (WebGPU and wasm) gives the numbers Node gives, within 0.01 points.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRetrieval, evaluateSts } from '../../src/eval/evaluate.js';
import { parseBeir } from '../../src/eval/beir-data.js';
import { parseSts } from '../../src/eval/sts-data.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab, SHARED_DATA, sentences } from '../helpers/fixtures.js';
import { skipBrowserSuite } from './chromium.js';
import { openEvalPage, type EvalPage } from './eval-page.js';

const available = !skipBrowserSuite('eval browser tests');

/** 300 STS-B dev pairs as tsv, or generated pairs with scores from word overlap. */
function stsSample(n = 300): string {
  const path = join(SHARED_DATA, 'stsbenchmark/sts-dev.csv');
  if (existsSync(path))
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.split('\t').length >= 7)
      .slice(0, n)
      .join('\n');
  const t = sentences(2 * n).texts;
  return Array.from({ length: Math.floor(t.length / 2) }, (_, i) => {
    const a = t[2 * i],
      b = t[2 * i + 1];
    const wa = new Set(a.split(' ')),
      overlap = b.split(' ').filter((w) => wa.has(w)).length;
    return `g\tf\ty\t${i}\t${Math.min(5, overlap / 2).toFixed(1)}\t${a}\t${b}`;
  }).join('\n');
}

/** A small BEIR dataset: 300 documents, 60 queries, each query's relevant document shares most of its words. */
function beirSample(): { corpus: string; queries: string; qrels: string } {
  const t = sentences(360).texts;
  const docs = t.slice(0, 300),
    qs = t.slice(300, 360);
  return {
    corpus: docs.map((text, i) => JSON.stringify({ _id: `d${i}`, title: '', text })).join('\n'),
    queries: qs
      .map((_, i) => JSON.stringify({ _id: `q${i}`, text: docs[(i * 7) % 300].split(' ').slice(0, 6).join(' ') }))
      .join('\n'),
    qrels: ['query-id\tcorpus-id\tscore', ...qs.map((_, i) => `q${i}\td${(i * 7) % 300}\t1`)].join('\n'),
  };
}

describe.skipIf(!available)('evaluation in headless Chromium', () => {
  let outDir = '';
  let page: EvalPage | undefined;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'hpd-browser-eval-'));
    const fx = await compiledFixture(
      withBertVocab({
        layers: 2,
        hidden: 64,
        heads: 4,
        ffn: 128,
        dim: 32,
        maxPositions: 128,
        maxSeqLength: 64,
      }),
    );
    await fx.writeBundle(join(outDir, 'models', 'eval'));
    page = await openEvalPage(outDir);
  });

  afterAll(async () => {
    await page?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("STS and retrieval numbers on WebGPU and wasm equal Node's within 0.01 points", async () => {
    const sts = stsSample(),
      beir = beirSample();
    const e = await createEmbedder({ model: join(outDir, 'models', 'eval'), device: 'wasm' });
    let node;
    try {
      const embed = (t: readonly string[]) => e.embed(t);
      node = {
        sts: await evaluateSts(embed, parseSts(sts, 'stsb')),
        retrieval: await evaluateRetrieval(embed, parseBeir(beir)),
      };
    } finally {
      await e.dispose();
    }
    for (const device of ['webgpu', 'wasm'] as const) {
      const b = await page!.run({
        model: `${page!.url}models/eval/`,
        device,
        sts: { text: sts, format: 'stsb' },
        beir,
      });
      expect(b.device).toBe(device);
      console.info(
        `${device}: STS Spearman ${b.sts!.spearman.toFixed(4)} (node ${node.sts.spearman.toFixed(4)}), Pearson ${b.sts!.pearson.toFixed(4)} (node ${node.sts.pearson.toFixed(4)}); ` +
          b
            .retrieval!.results.map(
              (r, i) =>
                `${r.storage} nDCG@10 ${r.ndcg10.toFixed(4)} (node ${node.retrieval.results[i].ndcg10.toFixed(4)})`,
            )
            .join(', '),
      );
      expect(b.sts!.pairs).toBe(node.sts.pairs);
      expect(Math.abs(b.sts!.spearman - node.sts.spearman)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(b.sts!.pearson - node.sts.pearson)).toBeLessThanOrEqual(0.01);
      expect(b.retrieval!.queries).toBe(node.retrieval.queries);
      b.retrieval!.results.forEach((r, i) => {
        const n = node.retrieval.results[i];
        expect(r.storage).toBe(n.storage);
        for (const k of ['ndcg10', 'mrr10', 'recall10', 'recall100'] as const)
          expect(Math.abs(r[k] - n[k]), `${device} ${r.storage} ${k}`).toBeLessThanOrEqual(0.01);
        expect(r.indexBytes).toBe(n.indexBytes);
      });
    }
  });
});
