// Keyword and hybrid search through the worker: handle indexes keep keywords, a keyword search embeds nothing,
// remove/upsert/save/load keep every mode, and calls keep their issue order.
import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { DIM, rig, textVector } from './in-process-worker.js';

const TEXTS = [
  'fs.readFileSync reads a whole file',
  'ERR_INVALID_ARG_TYPE is thrown for a bad argument',
  'streams read data in chunks',
  'Zoë wrote the buffer module',
  'the file system module',
];
const IDS = TEXTS.map((_, i) => `t${i}`);

/** The same entries in a CosineIndex in this process: the expected answers. */
function local(texts = TEXTS, ids = IDS): CosineIndex {
  const index = new CosineIndex({ dim: DIM, keywords: true });
  index.addVectors(
    ids,
    texts.map(textVector),
    texts.map((text) => ({ text })),
    { texts },
  );
  return index;
}

describe('index handle keywords', () => {
  it('keyword search embeds nothing; hybrid embeds the query once; every mode matches CosineIndex', async () => {
    const { embedder, embeds } = await rig(3);
    const idx = embedder.index('kw');
    await idx.addTexts(
      IDS,
      TEXTS,
      TEXTS.map((text) => ({ text })),
    );
    const ref = local();
    const before = embeds.length;
    const kw = await idx.search('readFileSync file', 3, { mode: 'keyword', withMetadata: true });
    expect(embeds.length).toBe(before);
    expect(kw).toEqual(ref.search('readFileSync file', 3, { mode: 'keyword', withMetadata: true }));
    expect(kw[0]).toMatchObject({ id: 't0', terms: ['readfilesync', 'file'] });
    expect(kw[0].highlights?.map((s) => TEXTS[0].slice(s.start, s.end))).toEqual(['readFileSync', 'file']);
    const many = await idx.searchMany(['file', 'zoë'], 2, { mode: 'keyword', where: { text: TEXTS[4] } });
    expect(embeds.length).toBe(before);
    expect(many).toEqual(ref.searchMany(['file', 'zoë'], 2, { mode: 'keyword', where: { text: TEXTS[4] } }));

    const hybrid = await idx.search('bad argument', 5, { mode: 'hybrid' });
    expect(embeds.slice(before)).toEqual([['bad argument']]);
    expect(hybrid).toEqual(ref.search(textVector('bad argument'), 5, { mode: 'hybrid', text: 'bad argument' }));
    const hm = await idx.searchMany(['bad argument', textVector('x')], 3, {
      mode: 'hybrid',
      texts: ['bad argument', 'module'],
    });
    expect(hm[1]).toEqual(ref.search(textVector('x'), 3, { mode: 'hybrid', text: 'module' }));
    expect((await idx.search('file', 2)).every((h) => h.sources === undefined)).toBe(true);
  });

  it('remove and upsert apply to both indexes in issue order, and save/load keeps every mode', async () => {
    const { embedder } = await rig(4);
    const idx = embedder.index('kw2');
    // Not awaited one by one: the FIFO must apply them in order.
    const calls = [
      idx.addTexts(IDS, TEXTS),
      idx.remove(['t0']),
      idx.upsertTexts(['t4', 't9'], ['readFileSync again', 'a new file']),
      idx.addVectors(['v'], textVector('v'), undefined, { texts: ['vectors with readFileSync text'] }),
      idx.search('readfilesync', 10, { mode: 'keyword' }),
    ];
    const results = await Promise.all(calls);
    const hits = results[4] as { id: string }[];
    expect(hits.map((h) => h.id).sort()).toEqual(['t4', 'v']);
    expect((await idx.stats()).keywordBytes).toBeGreaterThan(0);
    await idx.save();
    const before = await idx.search('file', 10, { mode: 'keyword' });
    await idx.remove(['t9', 't4']);
    expect(await idx.load()).toBe(true);
    expect(await idx.search('file', 10, { mode: 'keyword' })).toEqual(before);
    await idx.rebuild('int8');
    expect(await idx.search('file', 10, { mode: 'keyword' })).toEqual(before);
  });

  it('a snapshot saved without keywords loads, and gains terms as texts are upserted', async () => {
    const { embedder, store } = await rig(5);
    const old = new CosineIndex({ dim: DIM });
    old.addVectors(['a', 'b'], [textVector('a'), textVector('b')]);
    store.saved.set('old', new Uint8Array(old.serialize()));
    const idx = embedder.index('old');
    expect(await idx.load()).toBe(true);
    expect(await idx.search('cat', 5, { mode: 'keyword' })).toEqual([]);
    await idx.upsertTexts(['a'], ['a cat']);
    expect((await idx.search('cat', 5, { mode: 'keyword' })).map((h) => h.id)).toEqual(['a']);
    expect(await idx.ids()).toEqual(['a', 'b']);
  });
});
