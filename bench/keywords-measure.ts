// The keyword bench's measurement, environment-free so Node (keywords.bench.ts) and Chromium (the same code bundled
// into a page) run the same thing: passages with the corpus's lengths and words, int8 vectors, k 10.
import { CosineIndex } from '../src/search/index.js';
import { seededRandom } from '../src/seeded-random.js';
import { median } from './timing.js';

const DIM = 128;
const K = 10;
const CHUNK = 5_000;
const QUERIES = 200;

/** The sample corpus's word stream (whitespace-separated, as written) and passage lengths in words. */
export interface Corpus {
  words: string[];
  lengths: number[];
}

function passages(c: Corpus, n: number, rand: () => number): string[] {
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const len = c.lengths[Math.floor(rand() * c.lengths.length)];
    const w: string[] = new Array<string>(len);
    for (let j = 0; j < len; j++) w[j] = c.words[Math.floor(rand() * c.words.length)];
    out[i] = w.join(' ');
  }
  return out;
}

function unitVectors(n: number, rand: () => number): Float32Array {
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) s += (out[i * DIM + j] = rand() * 2 - 1) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] *= inv;
  }
  return out;
}

export interface Row {
  n: number;
  vector_p50_ms: number;
  /** Vector search at hybrid's list depth (max(k, 100)): the vector half of a hybrid search. */
  vector100_p50_ms: number;
  keyword_p50_ms: number;
  keyword_p95_ms: number;
  hybrid_p50_ms: number;
  keyword_over_vector: number;
  hybrid_over_vector: number;
  keyword_bytes_per_passage: number;
  int8_vector_bytes_per_passage: number;
  keyword_over_int8_bytes: number;
  add_per_s_vectors_only: number;
  add_per_s_with_keywords: number;
  add_with_over_without: number;
}

/** Builds one int8 index of n passages (with or without keywords) chunk by chunk; returns it and passages/s. */
function build(c: Corpus, n: number, keywords: boolean): { index: CosineIndex; perS: number } {
  const rand = seededRandom(n);
  const index = new CosineIndex({ dim: DIM, storage: 'int8', capacity: n, keywords });
  let ms = 0;
  for (let s = 0; s < n; s += CHUNK) {
    const m = Math.min(CHUNK, n - s);
    const ids = Array.from({ length: m }, (_, i) => `p${s + i}`);
    const texts = passages(c, m, rand);
    const vectors = unitVectors(m, rand);
    const t = performance.now();
    index.addVectors(ids, vectors, undefined, keywords ? { texts } : undefined);
    ms += performance.now() - t;
  }
  return { index, perS: n / (ms / 1000) };
}

/** One size: builds without and with keywords, then times vector, keyword and hybrid queries, interleaved. */
export function measure(c: Corpus, n: number): Row {
  const plain = build(c, n, false);
  const vectorOnlyPerS = plain.perS;
  const int8Bytes = plain.index.stats().bytes / n;
  plain.index.clear();
  const { index, perS } = build(c, n, true);
  const rand = seededRandom(7);
  // Queries: 1–4 words of the corpus stream, so common and rare terms both occur.
  const texts = Array.from({ length: QUERIES }, () =>
    Array.from({ length: 1 + Math.floor(rand() * 4) }, () => c.words[Math.floor(rand() * c.words.length)]).join(' '),
  );
  const vectors = unitVectors(QUERIES, rand);
  const times = {
    vector: [] as number[],
    vector100: [] as number[],
    keyword: [] as number[],
    hybrid: [] as number[],
  };
  for (let round = 0; round < 3; round++) {
    for (let q = 0; q < QUERIES; q++) {
      const v = vectors.subarray(q * DIM, (q + 1) * DIM);
      let t = performance.now();
      index.search(v, K);
      const tv = performance.now() - t;
      t = performance.now();
      index.search(v, 100);
      const tv100 = performance.now() - t;
      t = performance.now();
      index.search(texts[q], K, { mode: 'keyword' });
      const tk = performance.now() - t;
      t = performance.now();
      index.search(v, K, { mode: 'hybrid', text: texts[q] });
      const th = performance.now() - t;
      if (round > 0) {
        times.vector.push(tv);
        times.vector100.push(tv100);
        times.keyword.push(tk);
        times.hybrid.push(th);
      }
    }
  }
  const kwBytes = (index.stats().keywordBytes ?? 0) / n;
  const sorted = [...times.keyword].sort((a, b) => a - b);
  const row: Row = {
    n,
    vector_p50_ms: median(times.vector),
    vector100_p50_ms: median(times.vector100),
    keyword_p50_ms: median(times.keyword),
    keyword_p95_ms: sorted[Math.floor(0.95 * (sorted.length - 1))],
    hybrid_p50_ms: median(times.hybrid),
    keyword_over_vector: median(times.keyword) / median(times.vector),
    hybrid_over_vector: median(times.hybrid) / median(times.vector),
    keyword_bytes_per_passage: kwBytes,
    int8_vector_bytes_per_passage: int8Bytes,
    keyword_over_int8_bytes: kwBytes / int8Bytes,
    add_per_s_vectors_only: vectorOnlyPerS,
    add_per_s_with_keywords: perS,
    add_with_over_without: perS / vectorOnlyPerS,
  };
  index.clear();
  return row;
}
