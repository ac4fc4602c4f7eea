// Environment-free evaluation: takes an `embed` function (an Embedder's, in a page, a worker or Node) and parsed data.
import { CosineIndex } from '../search/cosine-index.js';
import { DimMismatchError, InvalidInputError } from '../search/errors.js';
import type { SearchMode, StorageKind } from '../search/types.js';
import type { BeirData } from './beir-data.js';
import { pearson, spearman } from './correlation.js';
import { ndcgAt, recallAt, reciprocalRankAt } from './retrieval-metrics.js';
import type { StsData } from './sts-data.js';

/** Texts → N × dim vectors, row-major (an Embedder's `embed`). */
export type EmbedFn = (texts: readonly string[]) => Promise<Float32Array>;

export interface EvalProgress {
  stage: 'embed' | 'search';
  done: number;
  total: number;
}

export interface EvalOptions {
  /** Texts per embed call (default 256): bounds memory and gives progress. */
  chunk?: number;
  onProgress?: (p: EvalProgress) => void;
}

export interface StsResult {
  task: 'sts';
  pairs: number;
  /** Spearman's rho × 100 between cosine similarity and the gold scores (average ranks for ties). */
  spearman: number;
  /** Pearson's r × 100. */
  pearson: number;
}

export interface RetrievalScores {
  storage: StorageKind;
  /** All four × 100, averaged over the queries that have a relevant document. */
  ndcg10: number;
  mrr10: number;
  recall10: number;
  recall100: number;
  /** The index's resident bytes: vectors (`stats().bytes`, not in 'keyword' mode) plus the keyword index (`keywordBytes`). */
  indexBytes: number;
  /** Search time per query (vectors already embedded), milliseconds. */
  latencyMs: { mean: number; p50: number; p95: number };
}

export interface RetrievalResult {
  task: 'retrieval';
  /** How the index was searched: 'vector' (cosine), 'keyword' (BM25, nothing embedded) or 'hybrid' (RRF of both). */
  mode: SearchMode;
  corpus: number;
  queries: number;
  /** Query embedding time per query, milliseconds (the same for both storages; 0 in 'keyword' mode). */
  embedMsPerQuery: number;
  results: RetrievalScores[];
}

/** Embeds texts in chunks into one N × dim array. */
export async function embedAll(
  embed: EmbedFn,
  texts: readonly string[],
  options: EvalOptions = {},
): Promise<{ vectors: Float32Array; dim: number }> {
  const chunk = options.chunk ?? 256;
  if (!(Number.isInteger(chunk) && chunk > 0))
    throw new InvalidInputError(`chunk must be a positive integer, got ${chunk}.`);
  let out: Float32Array | undefined;
  let dim = 0;
  for (let i = 0; i < texts.length; i += chunk) {
    const part = texts.slice(i, i + chunk);
    const v = await embed(part);
    if (!out) {
      dim = v.length / part.length;
      if (!Number.isInteger(dim) || dim <= 0)
        throw new InvalidInputError(`embed returned ${v.length} values for ${part.length} texts.`);
      out = new Float32Array(texts.length * dim);
    } else if (v.length !== part.length * dim)
      throw new InvalidInputError(`embed returned ${v.length} values for ${part.length} texts of dimension ${dim}.`);
    out.set(v, i * dim);
    options.onProgress?.({ stage: 'embed', done: Math.min(texts.length, i + chunk), total: texts.length });
  }
  return { vectors: out ?? new Float32Array(0), dim };
}

/** Cosine similarity of rows i and j (rows need not be unit length). */
function cosine(v: Float32Array, dim: number, i: number, j: number): number {
  let dot = 0,
    a = 0,
    b = 0;
  for (let t = 0; t < dim; t++) {
    const x = v[i * dim + t],
      y = v[j * dim + t];
    dot += x * y;
    a += x * x;
    b += y * y;
  }
  return a > 0 && b > 0 ? dot / Math.sqrt(a * b) : 0;
}

/** STS: Spearman and Pearson (× 100) between the cosine similarity of each pair and its gold score. */
export async function evaluateSts(embed: EmbedFn, data: StsData, options: EvalOptions = {}): Promise<StsResult> {
  const n = data.scores.length;
  if (data.sentences1.length !== n || data.sentences2.length !== n)
    throw new InvalidInputError('StsData arrays must have equal lengths.');
  // Each distinct sentence is embedded once.
  const slot = new Map<string, number>();
  const texts: string[] = [];
  const at = (s: string) => {
    let i = slot.get(s);
    if (i === undefined) slot.set(s, (i = texts.push(s) - 1));
    return i;
  };
  const a = data.sentences1.map(at),
    b = data.sentences2.map(at);
  const { vectors, dim } = await embedAll(embed, texts, options);
  const sims = new Float64Array(n);
  for (let i = 0; i < n; i++) sims[i] = cosine(vectors, dim, a[i], b[i]);
  return {
    task: 'sts',
    pairs: n,
    spearman: 100 * spearman(sims, data.scores),
    pearson: 100 * pearson(sims, data.scores),
  };
}

export interface RetrievalOptions extends EvalOptions {
  /** Storages to evaluate (default f32 and int8). */
  storages?: StorageKind[];
  /** 'vector' (default), 'keyword' (BM25 over the corpus texts: nothing is embedded) or 'hybrid'. */
  mode?: SearchMode;
  /**
   * The corpus already embedded (N × dim, row-major, row i is `corpusIds[i]`), e.g. teacher vectors projected into the
   * student's space (`projectTeacher`): only the queries go through `embed`.
   */
  corpusVectors?: Float32Array;
}

/** The precomputed corpus, checked against the corpus size. */
function precomputedCorpus(vectors: Float32Array, count: number): { vectors: Float32Array; dim: number } {
  if (!(vectors instanceof Float32Array)) throw new InvalidInputError('corpusVectors must be a Float32Array.');
  const dim = vectors.length / count;
  if (!(Number.isInteger(dim) && dim > 0))
    throw new InvalidInputError(
      `corpusVectors holds ${vectors.length} values, not a positive multiple of the corpus's ${count} documents.`,
    );
  return { vectors, dim };
}

// A keyword-only run embeds nothing; every row gets this one-value unit vector, which a keyword search never reads.
const NO_VECTOR = { dim: 1 };

/** Retrieval on a BEIR-layout dataset with CosineIndex: nDCG@10, MRR@10, recall@10/100, bytes and latency per storage. */
export async function evaluateRetrieval(
  embed: EmbedFn,
  data: BeirData,
  options: RetrievalOptions = {},
): Promise<RetrievalResult> {
  const storages = options.storages ?? ['f32', 'int8'];
  const mode = options.mode ?? 'vector';
  if (!['vector', 'keyword', 'hybrid'].includes(mode))
    throw new InvalidInputError(`mode must be 'vector', 'keyword' or 'hybrid', got "${String(mode)}".`);
  const evalQueries = data.queryIds.map((id, i) => ({ id, i })).filter((q) => data.qrels.has(q.id));
  const queryTexts = evalQueries.map((q) => data.queryTexts[q.i]);
  const keywordOnly = mode === 'keyword';
  const corpus = keywordOnly
    ? { ...NO_VECTOR, vectors: new Float32Array(data.corpusIds.length).fill(1) }
    : options.corpusVectors
      ? precomputedCorpus(options.corpusVectors, data.corpusIds.length)
      : await embedAll(embed, data.corpusTexts, options);
  const t0 = performance.now();
  const queries = keywordOnly
    ? { ...NO_VECTOR, vectors: new Float32Array(evalQueries.length).fill(1) }
    : await embedAll(embed, queryTexts, options);
  if (options.corpusVectors && !keywordOnly && evalQueries.length && queries.dim !== corpus.dim)
    throw new DimMismatchError(corpus.dim, queries.dim, 'query embeddings', {
      message: `the queries embed to ${queries.dim}-d vectors but the precomputed corpus holds ${corpus.dim}-d ones; project the corpus into this model's space.`,
    });
  const embedMsPerQuery = keywordOnly ? 0 : (performance.now() - t0) / Math.max(1, evalQueries.length);
  const k = Math.min(100, data.corpusIds.length);
  const results: RetrievalScores[] = [];
  for (const storage of storages) {
    const keywords = mode !== 'vector';
    const index = new CosineIndex({ dim: corpus.dim, storage, capacity: data.corpusIds.length, keywords });
    index.addVectors(data.corpusIds, corpus.vectors, undefined, keywords ? { texts: data.corpusTexts } : undefined);
    const times = new Float64Array(evalQueries.length);
    let ndcg = 0,
      mrr = 0,
      r10 = 0,
      r100 = 0;
    for (let q = 0; q < evalQueries.length; q++) {
      const qv = queries.vectors.subarray(q * queries.dim, (q + 1) * queries.dim);
      const s = performance.now();
      const hits = index.search(qv, k, mode === 'vector' ? undefined : { mode, text: queryTexts[q] });
      times[q] = performance.now() - s;
      const ranked = hits.map((h) => h.id);
      const rel = data.qrels.get(evalQueries[q].id)!;
      ndcg += ndcgAt(ranked, rel, 10);
      mrr += reciprocalRankAt(ranked, rel, 10);
      r10 += recallAt(ranked, rel, 10);
      r100 += recallAt(ranked, rel, 100);
      if ((q + 1) % 256 === 0 || q + 1 === evalQueries.length)
        options.onProgress?.({ stage: 'search', done: q + 1, total: evalQueries.length });
    }
    const n = Math.max(1, evalQueries.length);
    const sorted = Float64Array.from(times).sort();
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
    results.push({
      storage,
      ndcg10: (100 * ndcg) / n,
      mrr10: (100 * mrr) / n,
      recall10: (100 * r10) / n,
      recall100: (100 * r100) / n,
      indexBytes: (keywordOnly ? 0 : index.stats().bytes) + (index.stats().keywordBytes ?? 0),
      latencyMs: { mean: times.reduce((x, y) => x + y, 0) / n, p50: pct(0.5), p95: pct(0.95) },
    });
  }
  return {
    task: 'retrieval',
    mode,
    corpus: data.corpusIds.length,
    queries: evalQueries.length,
    embedMsPerQuery,
    results,
  };
}
