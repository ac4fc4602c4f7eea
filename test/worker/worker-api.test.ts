// The worker's index API additions, through a real Node worker: hits with metadata in one call, rebuild to
// another storage without the model, deleting a saved snapshot, and which store backs saves.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/api/embedder.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab, sentences } from '../helpers/fixtures.js';

describe('worker index API: withMetadata, rebuild, deleteSaved', () => {
  let root = '';
  let embedder: Embedder;
  const { texts } = sentences(300);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-worker-api-'));
    const fx = await compiledFixture(
      withBertVocab({
        layers: 1,
        hidden: 32,
        heads: 2,
        ffn: 64,
        dim: 128,
        maxPositions: 64,
        maxSeqLength: 32,
      }),
    );
    embedder = await createEmbedder({
      model: await fx.bundleDir(),
      cacheDir: join(root, 'cache'),
      indexDir: join(root, 'indexes'),
      threads: 1,
    });
  });

  afterAll(async () => {
    await embedder?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('returns each hit with its metadata in one search when asked, and not otherwise', async () => {
    const idx = embedder.index('meta');
    await idx.addTexts(
      texts.map((_, i) => `t${i}`),
      texts,
      texts.map((t, i) => ({ i, text: t })),
    );
    const hits = await idx.search(texts[7], 5, { withMetadata: true });
    expect(hits[0].id).toBe('t7');
    for (const h of hits) expect(h.metadata).toEqual(await idx.metadata(h.id));
    const plain = await idx.search(texts[7], 5);
    expect(plain.map((h) => h.id)).toEqual(hits.map((h) => h.id));
    expect(plain.every((h) => !('metadata' in h))).toBe(true);
    await idx.drop();
  });

  it('rebuilds f32 → int8 → f32 from the stored vectors: same hits, ~half the bytes, metadata kept', async () => {
    const idx = embedder.index('rebuild');
    await idx.addTexts(
      texts.map((_, i) => `t${i}`),
      texts,
      texts.map((_, i) => ({ i })),
    );
    const f32 = await idx.stats();
    const before = await Promise.all(texts.slice(0, 20).map((t) => idx.search(t, 5)));
    const int8 = await idx.rebuild('int8');
    expect(int8).toMatchObject({ storage: 'int8', size: texts.length });
    expect(int8.bytes).toBeLessThan(f32.bytes * 0.6);
    const after = await Promise.all(texts.slice(0, 20).map((t) => idx.search(t, 5, { withMetadata: true })));
    after.forEach((hits, q) => {
      expect(hits.map((h) => h.id)).toEqual(before[q].map((h) => h.id));
      hits.forEach((h, j) => expect(h.score).toBeCloseTo(before[q][j].score, 4));
      expect(hits[0].metadata).toEqual({ i: q });
    });
    const back = await idx.rebuild('f32');
    expect(back).toMatchObject({ storage: 'f32', size: texts.length });
    const again = await idx.search(texts[3], 5);
    expect(again.map((h) => h.id)).toEqual(before[3].map((h) => h.id));
    // Same storage: nothing to do; a bad storage changes nothing.
    expect(await idx.rebuild('f32')).toEqual(back);
    await expect(idx.rebuild('f16' as 'f32')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await idx.stats()).toEqual(back);
    await idx.drop();
  });

  it('deletes a saved snapshot and reports the store kind', async () => {
    expect(await embedder.persistence()).toBe('folder');
    const idx = embedder.index('saved');
    await idx.addTexts(['a'], ['hello there']);
    await idx.save();
    expect(await idx.deleteSaved()).toBe(true);
    expect(await idx.deleteSaved()).toBe(false);
    expect((await idx.stats()).size).toBe(1); // the in-memory index stays
    expect(await idx.load()).toBe(false);
  });
});
