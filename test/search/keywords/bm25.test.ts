import { describe, expect, it } from 'vitest';
import { CorruptIndexError, InvalidInputError } from '../../../src/errors.js';
import { Bm25Index } from '../../../src/search/keywords/bm25.js';
import type { KeywordOptions } from '../../../src/search/types.js';
import { TopK } from '../../../src/search/topk.js';
import { seededRandom } from '../../../src/seeded-random.js';

type Rng = { next: () => number };
const rngOf = (seed: number): Rng => ({ next: seededRandom(seed) });
import { referenceBm25 } from '../../reference/bm25.js';

/** An index mirroring a row-numbered id list, the way CosineIndex drives it (swap-remove). */
class Mirror {
  readonly index: Bm25Index;
  readonly rows: string[] = [];
  readonly texts = new Map<string, string>();
  constructor(options?: KeywordOptions) {
    this.index = new Bm25Index(options);
  }
  upsert(id: string, text: string): void {
    const staged = this.index.stage(text, 'text');
    const row = this.rows.indexOf(id);
    if (row < 0) {
      this.rows.push(id);
      this.index.add(staged);
    } else this.index.replace([row], [staged]);
    this.texts.set(id, text);
  }
  remove(id: string): void {
    const row = this.rows.indexOf(id);
    const last = this.rows.length - 1;
    this.index.removeSwaps([row, last]);
    this.rows[row] = this.rows[last];
    this.rows.length = last;
    this.texts.delete(id);
  }
  search(query: string, k = 1000, index = this.index): Map<string, number> {
    const heap = new TopK(k);
    index.search(index.queryTerms(query), k, null, heap, (a, b) => (this.rows[a] < this.rows[b] ? -1 : 1));
    const rows = new Int32Array(k);
    const scores = new Float64Array(k);
    const n = heap.drainSorted(rows, scores);
    const out = new Map<string, number>();
    for (let i = 0; i < n; i++) out.set(this.rows[rows[i]], scores[i]);
    return out;
  }
}

const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'zeta',
  'eta',
  'theta',
  'iota',
  'kappa',
  'the',
  'of',
  'Ωμέγα',
  '東京',
];

function randomText(rng: Rng): string {
  const n = 1 + Math.floor(rng.next() * 40);
  const out: string[] = [];
  // Zipf-ish: low indexes repeat a lot.
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(WORDS.length * rng.next() ** 2)]);
  return out.join(rng.next() < 0.5 ? ' ' : ', ');
}

function expectClose(got: Map<string, number>, want: Map<string, number>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [id, s] of want) expect(Math.abs((got.get(id) ?? NaN) - s)).toBeLessThan(1e-6);
}

const QUERIES = ['alpha', 'the beta', 'kappa kappa iota', 'ΩΜΈΓΑ 東京', 'nothing here', 'theta of the eta zeta'];

describe('Bm25Index', () => {
  it('scores within 1e-6 of the reference, before and after upserts and removals, and after a round trip', () => {
    for (const options of [{}, { k1: 0.9, b: 0.4, stopWords: ['the', 'OF'] }] as KeywordOptions[]) {
      const rng = rngOf(7);
      const m = new Mirror(options);
      for (let i = 0; i < 300; i++) m.upsert(`d${i}`, randomText(rng));
      m.upsert('empty', '... !!');
      for (const q of QUERIES) expectClose(m.search(q), referenceBm25(m.texts, q, options));
      for (let i = 0; i < 300; i += 3) m.remove(`d${i}`);
      m.remove('d299'.replace('299', '298'));
      for (let i = 1; i < 300; i += 7) if (m.texts.has(`d${i}`)) m.upsert(`d${i}`, randomText(rng));
      for (let i = 0; i < 50; i++) m.upsert(`n${i}`, randomText(rng));
      for (const q of QUERIES) expectClose(m.search(q), referenceBm25(m.texts, q, options));
      const copy = Bm25Index.deserialize(m.index.serialize(), m.rows.length);
      expect(copy.k1).toBe(m.index.k1);
      for (const q of QUERIES) {
        const a = m.search(q);
        const b = m.search(q, 1000, copy);
        expect([...b]).toEqual([...a]);
      }
    }
  });

  it('applies a batch of swap-removes in one sweep', () => {
    const m = new Mirror();
    for (let i = 0; i < 10; i++) m.upsert(`d${i}`, `w${i} common ${i % 2 ? 'odd' : 'even'}`);
    // Remove rows 2, then 0 (the last row moves into each hole), as CosineIndex.remove does in one call.
    const swaps: number[] = [];
    for (const id of ['d2', 'd0', 'd9']) {
      const row = m.rows.indexOf(id);
      const last = m.rows.length - 1;
      swaps.push(row, last);
      m.rows[row] = m.rows[last];
      m.rows.length = last;
      m.texts.delete(id);
    }
    m.index.removeSwaps(swaps);
    for (const q of ['common', 'odd', 'even', 'w2 w8 w7']) expectClose(m.search(q), referenceBm25(m.texts, q));
  });

  it('survives heavy churn (pool growth and compaction) and stays equal to the reference', () => {
    const rng = rngOf(11);
    const m = new Mirror();
    for (let round = 0; round < 2000; round++) {
      const id = `r${Math.floor(rng.next() * 150)}`;
      if (m.texts.has(id) && rng.next() < 0.4) m.remove(id);
      else m.upsert(id, randomText(rng));
    }
    for (const q of QUERIES) expectClose(m.search(q), referenceBm25(m.texts, q));
    expect(m.index.size).toBe(m.rows.length);
  });

  it('keeps the top k, ties broken by the caller, and reports matched terms', () => {
    const m = new Mirror();
    m.upsert('b', 'cat dog');
    m.upsert('a', 'cat dog');
    m.upsert('c', 'cat');
    expect([...m.search('dog', 1).keys()]).toEqual(['a']);
    const q = m.index.queryTerms('Dog CAT fish dog');
    m.search('Dog CAT fish dog');
    expect(m.index.matched(q, 0)).toEqual(['dog', 'cat']);
    expect(m.index.matched(q, 2)).toEqual(['cat']);
    m.search('dog');
    expect(m.index.matched(['dog'], 2)).toEqual([]);
  });

  it('refuses bad options and non-string texts, and a corrupt section', () => {
    expect(() => new Bm25Index({ b: 2 })).toThrow(InvalidInputError);
    expect(() => new Bm25Index({ k1: NaN })).toThrow(InvalidInputError);
    const ix = new Bm25Index();
    expect(() => ix.stage(3 as unknown as string, 'texts[0]')).toThrow(InvalidInputError);
    ix.add(ix.stage('a b c', 't'));
    const bytes = ix.serialize();
    expect(() => Bm25Index.deserialize(bytes.subarray(0, bytes.length - 3), 1)).toThrow(CorruptIndexError);
    expect(() => Bm25Index.deserialize(bytes, 2)).toThrow(CorruptIndexError);
  });
});
