// searchMany on the index handle: texts and vectors mixed (texts embedded in one batch) or one flat Float32Array, the
// same lists as one search() per query, and the handle's options (where, minScore, withMetadata) applied to each.
import { describe, expect, it } from 'vitest';
import { DimMismatchError, InvalidInputError } from '../../src/errors.js';
import { DIM, rig, textVector } from './in-process-worker.js';

const N = 40;
const ids = Array.from({ length: N }, (_, i) => `p${i}`);
const flat = (vs: Float32Array[]) => {
  const out = new Float32Array(vs.length * DIM);
  vs.forEach((v, i) => out.set(v, i * DIM));
  return out;
};

describe('IndexHandle.searchMany', () => {
  for (const storage of ['f32', 'int8'] as const) {
    it(`${storage}: mixed texts and vectors give one search() per query, in order; the texts go in one embed`, async () => {
      const { embedder, embeds } = await rig(21);
      const idx = embedder.index('many', { storage });
      await idx.addVectors(
        ids,
        flat(ids.map((id) => textVector(`text ${id}`))),
        ids.map((_, i) => (i % 3 === 0 ? null : { g: i % 2 })),
      );
      const queries = ['text p5', textVector('text p7'), 'text p11', textVector('x'), 'something else'];
      const options = { where: { g: 1 }, withMetadata: true, minScore: -0.5 };
      const before = embeds.length;
      const lists = await idx.searchMany(queries, 4, options);
      expect(embeds.slice(before)).toEqual([['text p5', 'text p11', 'something else']]);
      const one = await Promise.all(queries.map((q) => idx.search(q, 4, options)));
      expect(lists).toEqual(one);
      expect(lists[0][0]).toMatchObject({ id: 'p5', metadata: { g: 1 } });
      expect(lists.flat().every((h) => (h.metadata as { g: number }).g === 1)).toBe(true);
      // One flat Float32Array of queries × dim: the same as its rows one by one.
      const rows = queries.map((q) => (typeof q === 'string' ? textVector(q) : q));
      expect(await idx.searchMany(flat(rows), 4, options)).toEqual(one);
      expect(await idx.searchMany([], 4)).toEqual([]);
    });
  }

  it('bad input is a typed error and a failed embed fails only its own call', async () => {
    const { embedder } = await rig(22);
    const idx = embedder.index('many-bad');
    await idx.addVectors(['a', 'b'], flat([textVector('a'), textVector('b')]));
    await expect(idx.searchMany(['a'], 0)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(idx.searchMany([textVector('a'), new Float32Array(DIM - 1)], 1)).rejects.toBeInstanceOf(
      DimMismatchError,
    );
    await expect(idx.searchMany(new Float32Array(DIM + 1), 1)).rejects.toBeInstanceOf(DimMismatchError);
    await expect(idx.searchMany([7 as unknown as string], 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(idx.searchMany('a' as unknown as string[], 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(idx.searchMany(['a', 'FAIL'], 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await idx.searchMany(['a'], 1))[0][0].id).toBe('a');
  });

  it('takes its turn like every call: it sees the writes issued before it and none after', async () => {
    const { embedder } = await rig(23);
    const idx = embedder.index('many-order');
    const added = idx.addTexts(['x'], ['slow x']);
    const lists = idx.searchMany(['slow x', textVector('slow x')], 1);
    const removed = idx.remove(['x']);
    await Promise.all([added, removed]);
    expect((await lists).map((hits) => hits.map((h) => h.id))).toEqual([['x'], ['x']]);
    expect(await idx.searchMany(['slow x'], 1)).toEqual([[]]);
  });
});
