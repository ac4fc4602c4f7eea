// Keyword and hybrid search through CosineIndex: every mode after add, upsert, remove, rebuild and save/load.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { CosineIndex } from '../../../src/search/cosine-index.js';
import { fuseRanks } from '../../../src/search/keywords/fuse.js';
import type { JsonValue, SearchHit } from '../../../src/search/types.js';
import { seededRandom } from '../../../src/seeded-random.js';
import { referenceBm25 } from '../../reference/bm25.js';

const DIM = 16;
const WORDS = ['read', 'file', 'sync', 'stream', 'buffer', 'error', 'the', 'of', 'path', 'ERR_INVALID_ARG_TYPE', 'Zoë'];

function vec(rand: () => number): Float32Array {
  return Float32Array.from({ length: DIM }, () => rand() * 2 - 1);
}

function text(rand: () => number): string {
  return Array.from(
    { length: 2 + Math.floor(rand() * 25) },
    () => WORDS[Math.floor(WORDS.length * rand() ** 1.5)],
  ).join(' ');
}

interface Model {
  index: CosineIndex;
  texts: Map<string, string>;
  vectors: Map<string, Float32Array>;
}

function build(storage: 'f32' | 'int8' = 'f32'): Model {
  const rand = seededRandom(5);
  const index = new CosineIndex({ dim: DIM, storage, keywords: true });
  const texts = new Map<string, string>();
  const vectors = new Map<string, Float32Array>();
  const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
  const t = ids.map(() => text(rand));
  const v = ids.map(() => vec(rand));
  index.addVectors(
    ids,
    v,
    t.map((x) => ({ text: x })),
    { texts: t },
  );
  ids.forEach((id, i) => (texts.set(id, t[i]), vectors.set(id, v[i])));
  index.remove(['p0', 'p17', 'p199', 'p50']);
  for (const id of ['p0', 'p17', 'p199', 'p50']) (texts.delete(id), vectors.delete(id));
  const up = ['p3', 'p4', 'new1'];
  const ut = up.map(() => text(rand));
  const uv = up.map(() => vec(rand));
  index.upsertVectors(up, uv, undefined, { texts: ut });
  up.forEach((id, i) => (texts.set(id, ut[i]), vectors.set(id, uv[i])));
  return { index, texts, vectors };
}

/** The reference keyword ranking: BM25 scores, ties by id. */
function referenceKeyword(m: Model, query: string, k: number): { id: string; score: number }[] {
  return [...referenceBm25(m.texts, query)]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

function expectKeyword(hits: SearchHit[], want: { id: string; score: number }[]): void {
  expect(hits.map((h) => h.id)).toEqual(want.map((w) => w.id));
  hits.forEach((h, i) => expect(Math.abs(h.score - want[i].score)).toBeLessThan(1e-6));
}

const QUERIES = ['read file', 'ERR_INVALID_ARG_TYPE', 'zoë stream the', 'missing'];

function checkAllModes(m: Model): void {
  const { index } = m;
  for (const q of QUERIES) {
    const kw = index.search(q, 10, { mode: 'keyword' });
    expectKeyword(kw, referenceKeyword(m, q, 10));
    kw.forEach((h, i) => expect(h.sources).toEqual({ keyword: { rank: i + 1, score: h.score } }));
    const qv = vec(seededRandom(q.length));
    const vector = index.search(qv, 100);
    const hybrid = index.search(qv, 10, { mode: 'hybrid', text: q });
    const want = fuseRanks({ vector, keyword: index.search(q, 100, { mode: 'keyword' }) }, 10);
    expect(hybrid.map((h) => [h.id, h.score])).toEqual(want.map((h) => [h.id, h.score]));
    expect(hybrid.map((h) => h.sources)).toEqual(want.map((h) => h.sources));
  }
}

describe('CosineIndex with keywords', () => {
  it('keyword mode equals the reference BM25, and hybrid the RRF of both lists, after removes and upserts', () => {
    checkAllModes(build());
    checkAllModes(build('int8'));
  });

  it('keeps every mode after save/load and rebuild, with identical scores', () => {
    const m = build();
    const loaded = CosineIndex.deserialize(m.index.serialize());
    expect(loaded.hasKeywords).toBe(true);
    for (const q of QUERIES) {
      expect(loaded.search(q, 10, { mode: 'keyword' })).toEqual(m.index.search(q, 10, { mode: 'keyword' }));
      const qv = vec(seededRandom(1));
      expect(loaded.search(qv, 10, { mode: 'hybrid', text: q })).toEqual(
        m.index.search(qv, 10, { mode: 'hybrid', text: q }),
      );
    }
    checkAllModes({ ...m, index: loaded });
    const rebuilt = m.index.rebuild('int8');
    for (const q of QUERIES)
      expect(rebuilt.search(q, 10, { mode: 'keyword' })).toEqual(m.index.search(q, 10, { mode: 'keyword' }));
  });

  it('returns matched terms, highlights in metadata text, metadata, and honours where/filter/minScore', () => {
    const index = new CosineIndex({ dim: 2, keywords: true });
    const t = ['Use fs.readFileSync() here', 'READFILESYNC twice: readFileSync', 'nothing'];
    index.addVectors(
      ['a', 'b', 'c'],
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      [{ text: t[0], lang: 'en' }, { lang: 'de' }, null],
      {
        texts: t,
      },
    );
    const hits = index.search('readfilesync fs', 5, { mode: 'keyword', withMetadata: true });
    expect(hits.map((h) => h.id).sort()).toEqual(['a', 'b']);
    const a = hits.find((h) => h.id === 'a') as SearchHit;
    const b = hits.find((h) => h.id === 'b') as SearchHit;
    expect(a.terms).toEqual(['readfilesync', 'fs']);
    expect(a.highlights?.map((s) => t[0].slice(s.start, s.end))).toEqual(['fs', 'readFileSync']);
    expect(a.metadata).toEqual({ text: t[0], lang: 'en' });
    expect(b.highlights).toBeUndefined(); // its metadata holds no text
    expect(index.search('readfilesync', 5, { mode: 'keyword', where: { lang: 'en' } }).map((h) => h.id)).toEqual(['a']);
    expect(index.search('readfilesync', 5, { mode: 'keyword', filter: (id) => id !== 'b' }).map((h) => h.id)).toEqual([
      'a',
    ]);
    expect(
      index.search('readfilesync', 5, { mode: 'keyword', minScore: Math.max(a.score, b.score) + 1e-9 }).length,
    ).toBe(0);
    const h = index.search([1, 0], 3, { mode: 'hybrid', text: 'twice' });
    // b: keyword rank 1 + vector rank 3 beats a: vector rank 1 alone.
    expect(h.map((x) => x.id)).toEqual(['b', 'a', 'c']);
    expect(h[0].sources).toEqual({ vector: { rank: 3, score: 0 }, keyword: { rank: 1, score: expect.any(Number) } });
    expect(h[1].sources).toEqual({ vector: { rank: 1, score: 1 } });
    // Weights: the vector list alone decides.
    expect(index.search([1, 0], 1, { mode: 'hybrid', text: 'twice', weights: { keyword: 0 } })[0].id).toBe('a');
  });

  it('searchMany works in every mode and equals search', () => {
    const m = build();
    const qs = QUERIES.map((q) => vec(seededRandom(q.length)));
    const many = m.index.searchMany(qs, 5, {
      mode: 'hybrid',
      texts: QUERIES,
      withMetadata: true,
      where: { text: m.texts.get('p3') as string },
    });
    QUERIES.forEach((q, i) =>
      expect(many[i]).toEqual(
        m.index.search(qs[i], 5, {
          mode: 'hybrid',
          text: q,
          withMetadata: true,
          where: { text: m.texts.get('p3') as string },
        }),
      ),
    );
    const kw = m.index.searchMany(QUERIES, 5, { mode: 'keyword' });
    QUERIES.forEach((q, i) => expect(kw[i]).toEqual(m.index.search(q, 5, { mode: 'keyword' })));
  });

  it('refuses what it cannot do, and changes nothing on a bad batch', () => {
    const plain = new CosineIndex({ dim: 2 });
    expect(() => plain.search([1, 0], 1, { mode: 'keyword', text: 'x' })).toThrow(InvalidInputError);
    expect(() => plain.addVectors(['a'], [[1, 0]], undefined, { texts: ['x'] })).toThrow(InvalidInputError);
    const index = new CosineIndex({ dim: 2, keywords: { stopWords: ['The'] } });
    expect(() => index.search('x', 1)).toThrow(InvalidInputError);
    expect(() => index.search([1, 0], 1, { mode: 'hybrid' })).toThrow(InvalidInputError);
    expect(() => index.search([1, 0], 1, { mode: 'nope' as 'vector' })).toThrow(InvalidInputError);
    expect(() => index.search([1, 0], 1, { mode: 'hybrid', text: 'x', weights: { vector: -1 } })).toThrow(
      InvalidInputError,
    );
    expect(() =>
      index.addVectors(
        ['a', 'b'],
        [
          [1, 0],
          [0, 1],
        ],
        undefined,
        { texts: ['x'] },
      ),
    ).toThrow(InvalidInputError);
    expect(() => index.addVectors(['a'], [[1, 0]], undefined, { texts: [3 as unknown as string] })).toThrow(
      InvalidInputError,
    );
    expect(index.size).toBe(0);
    index.addVectors(
      ['a', 'b'],
      [
        [1, 0],
        [0, 1],
      ],
      undefined,
      { texts: ['the cat', undefined] },
    );
    expect(index.search('the', 5, { mode: 'keyword' })).toEqual([]); // a stop word
    expect(index.search('cat', 5, { mode: 'keyword' }).map((h) => h.id)).toEqual(['a']);
    // An upsert without texts keeps the entry's terms; with texts it replaces them.
    index.upsertVectors(['a'], [[1, 1]]);
    expect(index.search('cat', 5, { mode: 'keyword' }).map((h) => h.id)).toEqual(['a']);
    index.upsertVectors(['a'], [[1, 1]], undefined, { texts: ['dog'] });
    expect(index.search('cat', 5, { mode: 'keyword' })).toEqual([]);
    index.clear();
    expect(index.search('dog', 5, { mode: 'keyword' })).toEqual([]);
    expect(index.stats().keywordBytes).toBeGreaterThan(0);
  });

  it('random batches of adds, upserts (with and without texts) and removes keep keyword scores equal to the reference', () => {
    const rand = seededRandom(23);
    const index = new CosineIndex({ dim: DIM, keywords: true });
    const texts = new Map<string, string>();
    for (let round = 0; round < 300; round++) {
      const op = rand();
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 6) }, () => `r${Math.floor(rand() * 60)}`))];
      if (op < 0.35) {
        index.remove(ids);
        for (const id of ids) texts.delete(id);
      } else if (op < 0.5) {
        // No texts: new entries get no terms, existing ones keep theirs.
        index.upsertVectors(
          ids,
          ids.map(() => vec(rand)),
        );
        for (const id of ids) if (!texts.has(id)) texts.set(id, '');
      } else {
        const t = ids.map(() => text(rand));
        index.upsertVectors(
          ids,
          ids.map(() => vec(rand)),
          undefined,
          { texts: t },
        );
        ids.forEach((id, i) => texts.set(id, t[i]));
      }
      if (round % 25 === 0 || round === 299) {
        const m = { index, texts, vectors: new Map<string, Float32Array>() };
        for (const q of QUERIES) expectKeyword(index.search(q, 20, { mode: 'keyword' }), referenceKeyword(m, q, 20));
      }
    }
    expect(index.size).toBe(texts.size);
  });

  it('an index saved without keywords loads without them', () => {
    const plain = new CosineIndex<JsonValue>({ dim: 2 });
    plain.addVectors(['a'], [[1, 0]]);
    const loaded = CosineIndex.deserialize(plain.serialize());
    expect(loaded.hasKeywords).toBe(false);
    expect(loaded.search([1, 0], 1)[0].id).toBe('a');
    loaded.enableKeywords();
    expect(loaded.search('cat', 1, { mode: 'keyword' })).toEqual([]);
    loaded.upsertVectors(
      ['a', 'b'],
      [
        [1, 0],
        [0, 1],
      ],
      undefined,
      { texts: ['a cat', undefined] },
    );
    expect(loaded.search('cat', 5, { mode: 'keyword' }).map((h) => h.id)).toEqual(['a']);
  });
});
