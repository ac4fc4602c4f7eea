// Index handles through a real Node worker: vector upsert, reopening with other options, and typed errors
// (the index's own duplicate check, dimension mismatch) arriving as their classes with the index unchanged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/api/embedder.js';
import { DimMismatchError, DuplicateIdError, HpdError } from '../../src/errors.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';

const DIM = 32;

/** A unit vector along axis `i` (plus a little of axis i+1, so no two are equal). */
function unit(i: number, tilt = 0.1): Float32Array {
  const v = new Float32Array(DIM);
  v[i % DIM] = 1;
  v[(i + 1) % DIM] = tilt;
  const n = Math.hypot(1, tilt);
  return v.map((x) => x / n);
}

function rows(...vs: Float32Array[]): Float32Array {
  const out = new Float32Array(vs.length * DIM);
  vs.forEach((v, i) => out.set(v, i * DIM));
  return out;
}

describe("index handles on the worker's named indexes", () => {
  let root = '';
  let embedder: Embedder;
  let bundleDir = '';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-worker-index-'));
    const fx = await compiledFixture({
      layers: 1,
      hidden: 32,
      heads: 2,
      ffn: 64,
      dim: DIM,
      maxPositions: 64,
      maxSeqLength: 32,
    });
    bundleDir = await fx.bundleDir();
    embedder = await createEmbedder({
      model: bundleDir,
      cacheDir: join(root, 'cache'),
      indexDir: join(root, 'indexes'),
      threads: 1,
    });
  }, 60_000);

  afterAll(async () => {
    await embedder?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('upsertVectors adds new ids and replaces existing ones (vector and metadata), atomically', async () => {
    const idx = embedder.index('vectors');
    await idx.addVectors(['a', 'b'], rows(unit(0), unit(1)), [{ v: 1 }, { v: 1 }]);
    const stats = await idx.upsertVectors(['b', 'c'], rows(unit(5), unit(9)), [{ v: 2 }, { v: 2 }]);
    expect(stats).toMatchObject({ size: 3, storage: 'f32' });
    const hits = await idx.search(unit(5), 1, { withMetadata: true });
    expect(hits[0]).toMatchObject({ id: 'b', metadata: { v: 2 } });
    expect(hits[0].score).toBeCloseTo(1, 5);
    expect(await idx.metadata('a')).toEqual({ v: 1 });
    // A bad batch changes nothing: the second row has the wrong length.
    const e = await idx.upsertVectors(['a', 'd'], new Float32Array(DIM + 3)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DimMismatchError);
    expect(e).toMatchObject({ code: 'DIM_MISMATCH', expected: DIM });
    expect(await idx.ids()).toEqual(['a', 'b', 'c']);
    expect((await idx.search(unit(0), 1))[0].id).toBe('a');
    await idx.drop();
  });

  it('same options give the same index; another storage is INDEX_OPTIONS_CONFLICT and changes nothing', async () => {
    const f32 = embedder.index('reopen', { storage: 'f32' });
    await f32.addVectors(['x'], unit(2));
    expect((await embedder.index('reopen', { storage: 'f32' }).stats()).size).toBe(1);
    expect((await embedder.index('reopen').stats()).size).toBe(1); // no options: the open index as it is
    const e = await embedder
      .index('reopen', { storage: 'int8' })
      .stats()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HpdError);
    expect(e).toMatchObject({
      code: 'INDEX_OPTIONS_CONFLICT',
      details: { name: 'reopen', storage: 'f32', requested: 'int8' },
    });
    expect(await f32.stats()).toMatchObject({ size: 1, storage: 'f32' });
    // rebuild() is how storage changes; then int8 is the open index's storage.
    await f32.rebuild('int8');
    expect(await embedder.index('reopen', { storage: 'int8' }).stats()).toMatchObject({ size: 1, storage: 'int8' });
    await expect(embedder.index('reopen', { storage: 'f32' }).has('x')).rejects.toMatchObject({
      code: 'INDEX_OPTIONS_CONFLICT',
    });
    expect(() => embedder.index('reopen', { storage: 'f16' as 'f32' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => embedder.index('')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    await f32.drop();
  });

  it('two concurrent first opens with different storages (while the index code still loads): one opens, the other is INDEX_OPTIONS_CONFLICT', async () => {
    const fresh = await createEmbedder({
      model: bundleDir,
      cacheDir: join(root, 'cache'),
      indexDir: join(root, 'indexes'),
      threads: 1,
    });
    try {
      const [a, b] = await Promise.allSettled([
        fresh.index('race', { storage: 'int8' }).stats(),
        fresh.index('race', { storage: 'f32' }).stats(),
      ]);
      expect(a).toMatchObject({ status: 'fulfilled', value: { storage: 'int8', size: 0 } });
      expect(b).toMatchObject({ status: 'rejected', reason: { code: 'INDEX_OPTIONS_CONFLICT' } });
    } finally {
      await fresh.dispose();
    }
  }, 60_000);

  it("a duplicate id is refused by the index's own check, as a DuplicateIdError naming the id, and nothing is added", async () => {
    const idx = embedder.index('dups');
    await idx.addTexts(['a', 'b'], ['first text', 'second text'], [{ n: 1 }, { n: 2 }]);
    const before = { stats: await idx.stats(), ids: await idx.ids() };
    const existing = await idx.addTexts(['c', 'a'], ['third', 'again'], [{ n: 3 }, { n: 4 }]).catch((x: unknown) => x);
    expect(existing).toBeInstanceOf(DuplicateIdError);
    expect(existing).toMatchObject({ code: 'DUPLICATE_ID', id: 'a', details: { id: 'a' } });
    const repeated = await idx.addTexts(['d', 'd'], ['x', 'y']).catch((x: unknown) => x);
    expect(repeated).toBeInstanceOf(DuplicateIdError);
    expect(repeated).toMatchObject({ id: 'd' });
    const vectors = await idx.addVectors(['b'], unit(3)).catch((x: unknown) => x);
    expect(vectors).toBeInstanceOf(DuplicateIdError);
    expect({ stats: await idx.stats(), ids: await idx.ids() }).toEqual(before);
    expect(await idx.metadata('a')).toEqual({ n: 1 });
    await idx.drop();
  });

  it('drop() frees the index for every handle; the next call starts an empty one', async () => {
    const a = embedder.index('dropped');
    const b = embedder.index('dropped');
    await a.addVectors(['x', 'y'], rows(unit(1), unit(2)));
    expect((await b.stats()).size).toBe(2);
    expect(await b.drop()).toBe(true);
    expect((await a.stats()).size).toBe(0);
    expect(await a.drop()).toBe(true);
    expect(await a.drop()).toBe(false);
  });
});
