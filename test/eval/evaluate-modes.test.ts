// evaluateRetrieval's modes on a generated BEIR set: keyword mode against an independent BM25 ranking, hybrid
// within the bounds of the two, and nothing embedded in keyword mode.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBeir } from '../../src/eval/beir-data.js';
import { evaluateRetrieval } from '../../src/eval/evaluate.js';
import { seededRandom } from '../../src/seeded-random.js';
import { referenceBm25 } from '../reference/bm25.js';

const passages = readFileSync(new URL('../../demo/corpus/node-api-docs.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(0, 400);

/** Queries are a few words sampled from one passage, which is the one relevant document. */
function dataset() {
  const rand = seededRandom(9);
  const queries: { id: string; text: string; doc: string }[] = [];
  for (let q = 0; q < 60; q++) {
    const d = Math.floor(rand() * passages.length);
    const words = passages[d].split(/\s+/);
    const n = 2 + Math.floor(rand() * 4);
    const picked = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]);
    queries.push({ id: `q${q}`, text: picked.join(' '), doc: `d${d}` });
  }
  const beir = parseBeir({
    corpus: passages.map((text, i) => JSON.stringify({ _id: `d${i}`, title: '', text })).join('\n'),
    queries: queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n'),
    qrels: `query-id\tcorpus-id\tscore\n${queries.map((q) => `${q.id}\t${q.doc}\t1`).join('\n')}\n`,
  });
  return { beir, queries };
}

/** Binary-relevance nDCG@10 with one relevant document, written out here. */
function ndcg10(ranked: string[], relevant: string): number {
  const i = ranked.slice(0, 10).indexOf(relevant);
  return i < 0 ? 0 : 1 / Math.log2(i + 2);
}

/** A text's vector: hashed bag of letters, so "similar" texts are a little similar. */
function embed(texts: readonly string[]): Promise<Float32Array> {
  const out = new Float32Array(texts.length * 8);
  texts.forEach((t, i) => {
    for (let c = 0; c < t.length; c++) out[i * 8 + (t.charCodeAt(c) % 8)] += 1;
    out[i * 8] += 1e-3;
  });
  return Promise.resolve(out);
}

describe('evaluateRetrieval modes', () => {
  it('keyword mode: the same nDCG@10 as an independent BM25, and nothing embedded', async () => {
    const { beir, queries } = dataset();
    const docs = new Map(passages.map((t, i) => [`d${i}`, t]));
    let want = 0;
    for (const q of queries) {
      const ranked = [...referenceBm25(docs, q.text)]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([id]) => id);
      want += ndcg10(ranked, q.doc);
    }
    want = (100 * want) / queries.length;
    let embedded = 0;
    const r = await evaluateRetrieval(
      (t) => {
        embedded += t.length;
        return embed(t);
      },
      beir,
      { mode: 'keyword', storages: ['f32'] },
    );
    expect(embedded).toBe(0);
    expect(r.mode).toBe('keyword');
    expect(Math.abs(r.results[0].ndcg10 - want)).toBeLessThan(1e-9);
    expect(r.results[0].ndcg10).toBeGreaterThan(50); // the queries are the documents' own words
    expect(r.results[0].indexBytes).toBeGreaterThan(0);
  });

  it('hybrid mode scores no lower than the weaker of the two runs here, and each run reports its mode', async () => {
    const { beir } = dataset();
    const run = (mode: 'vector' | 'keyword' | 'hybrid') => evaluateRetrieval(embed, beir, { mode, storages: ['f32'] });
    const [v, k, h] = await Promise.all([run('vector'), run('keyword'), run('hybrid')]);
    expect([v.mode, k.mode, h.mode]).toEqual(['vector', 'keyword', 'hybrid']);
    const lo = Math.min(v.results[0].ndcg10, k.results[0].ndcg10);
    expect(h.results[0].ndcg10).toBeGreaterThanOrEqual(lo);
    await expect(evaluateRetrieval(embed, beir, { mode: 'x' as 'vector' })).rejects.toThrow(/mode must be/);
  });
});
