// handle.import / handle.export through a real comlink channel: sources, MODEL_MISMATCH, integrity, truncation,
// call order against searches, and the cache on a revisit (a folder in Node).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoryCache, type ModelCache } from '../../src/model/cache.js';
import type { FetchLike } from '../../src/model/fetch.js';
import { folderCache } from '../../src/node/fs-cache.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { readIndexFile } from '../../src/search/index-file.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { DIM, FAKE_MODEL, rig, textVector } from './in-process-worker.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An index file of `ids` (vectors from their text), made by `model`. */
function indexFile(ids: string[], model = FAKE_MODEL): Uint8Array {
  const idx = new CosineIndex({ dim: DIM });
  const v = new Float32Array(ids.length * DIM);
  ids.forEach((id, i) => v.set(textVector(id), i * DIM));
  idx.addVectors(
    ids,
    v,
    ids.map((id) => ({ id })),
  );
  return new Uint8Array(idx.export(model));
}

const sri = (b: Uint8Array) => `sha256-${createHash('sha256').update(b).digest('base64')}`;

/** A fetch serving `files` by URL, counting requests; `delay` ms before answering; `cut` bytes short of content-length. */
function server(files: Map<string, Uint8Array>, opts: { delay?: number; cut?: number } = {}) {
  const requests: string[] = [];
  const fetch: FetchLike = async (url) => {
    requests.push(url);
    await sleep(opts.delay ?? 0);
    const b = files.get(url);
    if (!b) return new Response('missing', { status: 404 });
    const sent = b.subarray(0, b.length - (opts.cut ?? 0));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < sent.length; i += 100) c.enqueue(sent.slice(i, i + 100));
        c.close();
      },
    });
    return new Response(body, { headers: { 'content-length': String(b.length) } });
  };
  return { fetch, requests };
}

const URL_A = 'https://site.test/assets/search-abc123.hpdx';

describe('handle.import / export', () => {
  const dir = useTempDir('hpd-import-');

  it('imports bytes, a Blob, a Uint8Array and a Response (with progress); export returns the file naming the model', async () => {
    const { embedder } = await rig(1, { fetch: server(new Map()).fetch, cache: memoryCache() });
    const h = embedder.index('docs');
    const file = indexFile(['alpha', 'beta', 'gamma']);
    expect((await h.import(file.slice().buffer)).size).toBe(3);
    expect((await h.import(new Blob([file.slice()]))).size).toBe(3);
    expect((await h.import(indexFile(['one']))).size).toBe(1);
    const progress: number[] = [];
    const res = new Response(file.slice(), { headers: { 'content-length': String(file.length) } });
    expect((await h.import(res, { onProgress: (p) => progress.push(p.loaded) })).size).toBe(3);
    expect(progress.at(-1)).toBe(file.length);
    expect((await h.search('beta', 1))[0].id).toBe('beta');
    const out = await h.export();
    expect(out).toBeInstanceOf(ArrayBuffer);
    const read = readIndexFile(out);
    expect(read.model).toEqual(FAKE_MODEL);
    expect(CosineIndex.import(out).ids().sort()).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('every search mode works after an import: a file with keywords keeps them, one without gains an empty keyword index', async () => {
    const { embedder } = await rig(12, { fetch: server(new Map()).fetch, cache: memoryCache() });
    const h = embedder.index('modes');
    // Without keywords (a file from before them): hybrid ranks by its vectors, keyword search finds nothing (was an error).
    await h.import(indexFile(['alpha', 'beta', 'gamma']));
    expect((await h.search('beta', 1, { mode: 'hybrid' }))[0].id).toBe('beta');
    expect(await h.search('beta', 3, { mode: 'keyword' })).toEqual([]);
    // With keywords (as `index build` writes them): the keyword index comes along.
    const withKw = new CosineIndex({ dim: DIM, keywords: true });
    const texts = ['alpha particles', 'beta decay', 'gamma rays'];
    const v = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => v.set(textVector(t), i * DIM));
    withKw.addVectors(['a', 'b', 'g'], v, undefined, { texts });
    await h.import(new Uint8Array(withKw.export(FAKE_MODEL)));
    expect((await h.search('decay', 3, { mode: 'keyword' })).map((x) => x.id)).toEqual(['b']);
    expect((await h.search('gamma rays', 1, { mode: 'hybrid' }))[0].id).toBe('g');
  });

  it('a file from another model is MODEL_MISMATCH naming both, and the index is unchanged', async () => {
    const { embedder } = await rig(2, { fetch: server(new Map()).fetch, cache: memoryCache() });
    const h = embedder.index('docs');
    await h.import(indexFile(['kept']));
    const other = { name: 'other-model', dim: DIM, dtype: 'int8', sha256: 'e'.repeat(64) };
    await expect(h.import(indexFile(['x', 'y'], other))).rejects.toMatchObject({
      code: 'MODEL_MISMATCH',
      name: 'ModelMismatchError',
      message: expect.stringMatching(/other-model[\s\S]*fake|fake[\s\S]*other-model/),
    });
    // A bare serialised index (format 2) names no model: refused too.
    await expect(h.import(new CosineIndex({ dim: DIM }).serialize())).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    expect(await h.ids()).toEqual(['kept']);
  });

  it('a URL download checked against integrity: a mismatch is INDEX_INTEGRITY, a truncated body INDEX_FETCH_FAILED; nothing changes', async () => {
    const file = indexFile(['a', 'b']);
    const cache = memoryCache();
    const { embedder } = await rig(3, { fetch: server(new Map([[URL_A, file]])).fetch, cache });
    const h = embedder.index('docs');
    await h.import(indexFile(['kept']));
    await expect(h.import(URL_A, { integrity: sri(indexFile(['other'])) })).rejects.toMatchObject({
      code: 'INDEX_INTEGRITY',
    });
    expect(await cache.list()).toEqual([]); // a file that failed its check is not cached
    await expect(h.import('https://site.test/missing.hpdx')).rejects.toMatchObject({ code: 'INDEX_FETCH_FAILED' });
    expect(await h.ids()).toEqual(['kept']);
    expect((await h.import(URL_A, { integrity: sri(file) })).size).toBe(2);

    const cut = await rig(4, { fetch: server(new Map([[URL_A, file]]), { cut: 50 }).fetch, cache: memoryCache() });
    const h2 = cut.embedder.index('docs');
    await expect(h2.import(URL_A)).rejects.toMatchObject({ code: 'INDEX_FETCH_FAILED', message: /truncat|ended at/ });
    // Truncated bytes given directly are caught by the file's own checks.
    await expect(h2.import(file.slice(0, file.length - 50))).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    expect(await h2.stats()).toMatchObject({ size: 0 });
  });

  it('an import racing searches is applied at its turn: earlier calls see the old index, later ones the new', async () => {
    const { embedder } = await rig(5, {
      fetch: server(new Map([[URL_A, indexFile(['new-1', 'new-2'])]]), { delay: 30 }).fetch,
      cache: memoryCache(),
    });
    const h = embedder.index('docs');
    await h.addTexts(['old'], ['old']);
    const before = h.search(textVector('new-1'), 5);
    const imported = h.import(URL_A);
    const after = h.search(textVector('new-1'), 5);
    const added = h.addTexts(['late'], ['late']);
    expect((await before).map((x) => x.id)).toEqual(['old']);
    expect((await imported).size).toBe(2);
    expect((await after)[0].id).toBe('new-1');
    expect((await after).map((x) => x.id)).not.toContain('old');
    expect((await added).size).toBe(3);
  });

  it('a revisit loads from the cache (a folder in Node) without the network', async () => {
    const file = indexFile(['p', 'q', 'r']);
    const cache: ModelCache = folderCache(dir());
    const first = server(new Map([[URL_A, file]]));
    const a = await rig(6, { fetch: first.fetch, cache });
    expect((await a.embedder.index('docs').import(URL_A, { integrity: sri(file) })).size).toBe(3);
    expect(first.requests).toEqual([URL_A]);
    await a.embedder.dispose();

    const offline: FetchLike = async () => {
      throw new TypeError('offline');
    };
    const b = await rig(7, { fetch: offline, cache: folderCache(dir()) });
    const seen: boolean[] = [];
    const stats = await b.embedder
      .index('docs')
      .import(URL_A, { integrity: sri(file), onProgress: (p) => seen.push(p.fromCache) });
    expect(stats.size).toBe(3);
    expect(seen).toEqual([true]);
    // Without the cache the same offline import fails, typed.
    await expect(b.embedder.index('x').import(URL_A, { cache: false })).rejects.toMatchObject({
      code: 'INDEX_FETCH_FAILED',
    });
  });

  it('a handle opened with { storage } converts the imported rows to it', async () => {
    const { embedder } = await rig(9, { fetch: server(new Map()).fetch, cache: memoryCache() });
    const h = embedder.index('q', { storage: 'int8' });
    expect(await h.import(indexFile(['a', 'b']))).toMatchObject({ size: 2, storage: 'int8' });
    expect((await h.search('a', 1))[0].id).toBe('a');
  });

  it('a relative URL with no page URL to resolve it against is INVALID_INPUT saying what to pass', async () => {
    const { embedder } = await rig(10, { fetch: server(new Map()).fetch, cache: memoryCache() });
    await expect(embedder.index('docs').import('search.hpdx')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /file: URL/,
    });
  });

  it('a file: URL is read afresh each time, never from the cache', async () => {
    const url = 'file:///site/search.hpdx';
    const files = new Map([[url, indexFile(['one'])]]);
    const cache = memoryCache();
    const { embedder } = await rig(11, { fetch: server(files).fetch, cache });
    expect((await embedder.index('docs').import(url)).size).toBe(1);
    files.set(url, indexFile(['one', 'two']));
    expect((await embedder.index('docs').import(url)).size).toBe(2);
    expect(await cache.list()).toEqual([]);
  });

  it('bad arguments are INVALID_INPUT before anything is sent', async () => {
    const { embedder } = await rig(8, { fetch: server(new Map()).fetch, cache: memoryCache() });
    const h = embedder.index('docs');
    await expect(h.import(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(h.import(URL_A, { integrity: 'md5-xyz' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
