import { describe, expect, it } from 'vitest';
import { fuseRanks } from '../../../src/search/keywords/fuse.js';

const list = (...ids: string[]): { id: string; score: number }[] => ids.map((id, i) => ({ id, score: 10 - i }));

describe('fuseRanks', () => {
  it('sums 1 / (60 + rank) over the lists and says where each hit came from', () => {
    const fused = fuseRanks({ vector: list('a', 'b', 'c'), keyword: list('c', 'd') }, 10);
    expect(fused.map((h) => h.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(fused[0].score).toBeCloseTo(1 / 63 + 1 / 61, 15);
    expect(fused[0].sources).toEqual({ vector: { rank: 3, score: 8 }, keyword: { rank: 1, score: 10 } });
    expect(fused[1].sources).toEqual({ vector: { rank: 1, score: 10 } });
    // b (vector rank 2) and d (keyword rank 2) tie at 1/62: the lower id first.
    expect(fused[2].score).toBe(fused[3].score);
  });

  it('cuts each list at max(k, 100)', () => {
    const long = Array.from({ length: 150 }, (_, i) => `v${String(i).padStart(3, '0')}`);
    const fused = fuseRanks({ vector: list(...long), keyword: list('v120', 'x') }, 5);
    expect(fused.length).toBe(5);
    // v120 is past the vector list's cut (100), so only the keyword list found it.
    expect(fused.find((h) => h.id === 'v120')?.sources).toEqual({ keyword: { rank: 1, score: 10 } });
    // With k = 200 the cut is 200, so both lists found it.
    const all = fuseRanks({ vector: list(...long), keyword: list('v120') }, 200);
    expect(Object.keys(all.find((h) => h.id === 'v120')?.sources ?? {}).sort()).toEqual(['keyword', 'vector']);
    expect(all.length).toBe(150);
    expect(fuseRanks({ vector: list(...long), keyword: [] }, 120).length).toBe(120);
  });

  it('scales each list by its weight; a zero weight drops what only that list found', () => {
    const lists = { vector: list('a', 'b'), keyword: list('b', 'a') };
    expect(fuseRanks(lists, 2).map((h) => h.id)).toEqual(['a', 'b']); // equal: id order
    expect(fuseRanks(lists, 2, { keyword: 2 }).map((h) => h.id)).toEqual(['b', 'a']);
    const only = fuseRanks({ vector: list('a'), keyword: list('k') }, 5, { keyword: 0 });
    expect(only.map((h) => h.id)).toEqual(['a']);
  });

  it('equals one list alone when the other is empty', () => {
    expect(fuseRanks({ vector: list('x', 'y', 'z'), keyword: [] }, 2).map((h) => h.id)).toEqual(['x', 'y']);
  });
});
