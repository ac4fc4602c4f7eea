import { describe, expect, it } from 'vitest';
import { INDEX_METHODS, type IndexApi } from '../../src/protocol/messages.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import type { IndexStats, SearchHit } from '../../src/search/types.js';

// The names CosineIndex and an index handle share (docs/ARCHITECTURE.md, "One index vocabulary"): a rename on one
// side only fails to compile here.
const SHARED = [
  'addVectors',
  'upsertVectors',
  'search',
  'searchMany',
  'remove',
  'has',
  'ids',
  'stats',
  'rebuild',
] as const satisfies readonly (keyof CosineIndex & keyof IndexApi)[];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statsSame: Same<ReturnType<CosineIndex['stats']>, Awaited<ReturnType<IndexApi['stats']>>> = true;
const hitSame: Same<ReturnType<CosineIndex['search']>[number], Awaited<ReturnType<IndexApi['search']>>[number]> = true;
const manySame: Same<ReturnType<CosineIndex['searchMany']>, Awaited<ReturnType<IndexApi['searchMany']>>> = true;
const optionsShared: Same<
  Omit<NonNullable<Parameters<CosineIndex['search']>[2]>, 'filter'>,
  NonNullable<Parameters<IndexApi['search']>[2]>
> = true;

describe('one index vocabulary', () => {
  it('CosineIndex and the handle (INDEX_METHODS) both have every shared method', () => {
    expect([statsSame, hitSame, manySame, optionsShared]).toEqual([true, true, true, true]);
    for (const name of SHARED) {
      expect(INDEX_METHODS).toContain(name);
      expect(typeof CosineIndex.prototype[name]).toBe('function');
    }
  });

  it('CosineIndex.stats() and search hits have the shapes the handle returns', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(['a'], [[1, 0]], [{ k: 1 }]);
    const stats: IndexStats = index.stats();
    expect(Object.keys(stats).sort()).toEqual(['bytes', 'size', 'storage', 'threads']);
    const hits: SearchHit[] = index.search([1, 0], 1, { where: { k: 1 }, withMetadata: true });
    expect(hits).toEqual([{ id: 'a', score: 1, metadata: { k: 1 } }]);
  });
});
