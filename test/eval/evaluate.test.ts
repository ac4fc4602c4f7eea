import { describe, expect, it } from 'vitest';
import { parseBeir } from '../../src/eval/beir-data.js';
import { evaluateRetrieval, evaluateSts } from '../../src/eval/evaluate.js';
import { ndcgAt, recallAt, reciprocalRankAt } from '../../src/eval/retrieval-metrics.js';
import { parseSts } from '../../src/eval/sts-data.js';

/** A deterministic "model": each text maps to a fixed 4-d direction chosen by the test. */
function tableEmbed(table: Record<string, number[]>) {
  const calls: number[] = [];
  const embed = async (texts: readonly string[]) => {
    calls.push(texts.length);
    const out = new Float32Array(texts.length * 4);
    texts.forEach((t, i) => {
      const v = table[t];
      if (!v) throw new Error(`no vector for ${t}`);
      const n = Math.hypot(...v);
      out.set(
        v.map((x) => x / n),
        i * 4,
      );
    });
    return out;
  };
  return { embed, calls };
}

describe('evaluateSts', () => {
  it('correlates cosine similarity with gold scores, embedding each distinct sentence once', async () => {
    const { embed, calls } = tableEmbed({ a: [1, 0, 0, 0], b: [1, 0.1, 0, 0], c: [0, 1, 0, 0], d: [1, 1, 0, 0] });
    const data = parseSts('a\tb\t5\na\tc\t0\na\td\t3\nc\td\t3\n', 'tsv');
    const r = await evaluateSts(embed, data);
    expect(r).toMatchObject({ task: 'sts', pairs: 4 });
    // cosines: a·b .995, a·c 0, a·d .707, c·d .707 → ranks match gold ranks (ties included) exactly.
    expect(r.spearman).toBeCloseTo(100, 10);
    expect(r.pearson).toBeGreaterThan(95);
    expect(calls.reduce((x, y) => x + y, 0)).toBe(4);
  });
});

describe('retrieval metrics', () => {
  const rel = new Map([
    ['d1', 2],
    ['d3', 1],
  ]);
  it('nDCG@k with graded gains, MRR@k, recall@k', () => {
    const ranked = ['d2', 'd1', 'd4', 'd3'];
    const dcg = 2 / Math.log2(3) + 1 / Math.log2(5),
      idcg = 2 + 1 / Math.log2(3);
    expect(ndcgAt(ranked, rel, 10)).toBeCloseTo(dcg / idcg, 12);
    expect(ndcgAt(ranked, rel, 1)).toBe(0);
    expect(reciprocalRankAt(ranked, rel, 10)).toBe(0.5);
    expect(reciprocalRankAt(ranked, rel, 1)).toBe(0);
    expect(recallAt(ranked, rel, 2)).toBe(0.5);
    expect(recallAt(ranked, rel, 10)).toBe(1);
  });

  it('evaluateRetrieval scores f32 and int8 CosineIndex runs on a BEIR dataset', async () => {
    const { embed } = tableEmbed({
      'T1 cats purr': [1, 0, 0, 0],
      'dogs bark': [0, 1, 0, 0],
      'stocks fell': [0, 0, 1, 0],
      'rain today': [0, 0, 0, 1],
      kitten: [1, 0.2, 0, 0],
      'market news': [0, 0.3, 1, 0.1],
      weather: [0.5, 0.5, 0.5, 0.1],
    });
    const data = parseBeir({
      corpus: [
        '{"_id":"c1","title":"T1","text":"cats purr"}',
        '{"_id":"c2","text":"dogs bark"}',
        '{"_id":"c3","title":"","text":"stocks fell"}',
        '{"_id":"c4","text":"rain today"}',
      ].join('\n'),
      queries: [
        '{"_id":"q1","text":"kitten"}',
        '{"_id":"q2","text":"market news"}',
        '{"_id":"q3","text":"weather"}',
        '{"_id":"q4","text":"unjudged"}',
      ].join('\n'),
      qrels: 'query-id\tcorpus-id\tscore\nq1\tc1\t1\nq2\tc3\t1\nq3\tc4\t1\nq3\tc2\t0\n',
    });
    const r = await evaluateRetrieval(embed, data);
    expect(r).toMatchObject({ task: 'retrieval', corpus: 4, queries: 3 });
    expect(r.results.map((s) => s.storage)).toEqual(['f32', 'int8']);
    for (const s of r.results) {
      // q1 and q2 rank their document first; q3's relevant document (rain) ranks 4th of 4.
      expect(s.mrr10).toBeCloseTo((100 * (1 + 1 + 1 / 4)) / 3, 6);
      expect(s.recall10).toBeCloseTo(100, 10);
      expect(s.ndcg10).toBeCloseTo((100 * (1 + 1 + 1 / Math.log2(5))) / 3, 6);
      expect(s.indexBytes).toBeGreaterThan(0);
      expect(s.latencyMs.p50).toBeGreaterThanOrEqual(0);
    }
    expect(r.results[1].indexBytes).toBeLessThan(r.results[0].indexBytes);
  });

  it('evaluateRetrieval with corpusVectors embeds only the queries and searches the given corpus rows', async () => {
    const { embed, calls } = tableEmbed({ kitten: [1, 0.2, 0, 0], 'market news': [0, 0.3, 1, 0.1] });
    const data = parseBeir({
      corpus: ['a', 'b', 'c'].map((t, i) => `{"_id":"c${i}","text":"${t} has no vector"}`).join('\n'),
      queries: '{"_id":"q1","text":"kitten"}\n{"_id":"q2","text":"market news"}',
      qrels: 'q1\tc2\t1\nq2\tc0\t1\n',
    });
    // Row i is c_i: q1 (kitten) finds c2 first; q2 (market news) finds c1, then c0 second.
    const corpusVectors = Float32Array.of(...[0, 0.2, 1, 0], ...[0, 0.3, 1, 0.1], ...[1, 0.2, 0, 0]);
    const r = await evaluateRetrieval(embed, data, { corpusVectors });
    expect(calls).toEqual([2]);
    for (const s of r.results) {
      expect(s.mrr10).toBeCloseTo((100 * (1 + 1 / 2)) / 2, 6);
      expect(s.ndcg10).toBeCloseTo((100 * (1 + 1 / Math.log2(3))) / 2, 6);
    }
    await expect(evaluateRetrieval(embed, data, { corpusVectors: new Float32Array(3 * 4 + 1) })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/not a positive multiple/),
    });
    await expect(evaluateRetrieval(embed, data, { corpusVectors: new Float32Array(3 * 5) })).rejects.toMatchObject({
      code: 'DIM_MISMATCH',
      message: expect.stringMatching(/queries embed to 4-d vectors but the precomputed corpus holds 5-d/),
    });
  });

  it('BEIR qrels naming unknown queries or documents are typed errors', () => {
    const base = { corpus: '{"_id":"c1","text":"x"}', queries: '{"_id":"q1","text":"y"}' };
    expect(() => parseBeir({ ...base, qrels: 'q1\tc9\t1' })).toThrow(/document "c9"/);
    expect(() => parseBeir({ ...base, qrels: 'q9\tc1\t1' })).toThrow(/query "q9"/);
    expect(() =>
      parseBeir({ ...base, corpus: '{"_id":"c1","text":"x"}\n{"_id":"c1","text":"z"}', qrels: 'q1\tc1\t1' }),
    ).toThrow(/duplicate _id/);
  });
});
