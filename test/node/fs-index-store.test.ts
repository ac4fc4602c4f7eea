// Saves of one index name through the filesystem store: serialised, atomic, typed errors only.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { folderIndexStore } from '../../src/node/fs-index-store.js';
import { PersistError } from '../../src/errors.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { useTempDir } from '../helpers/temp-dir.js';

const DIM = 64;

function vectors(seed: number, n: number): Float32Array {
  const r = seededRandom(seed);
  return new Float32Array(n * DIM).map(() => r() - 0.5);
}

const bytesOf = (b: ArrayBuffer | undefined) => (b === undefined ? undefined : new Uint8Array(b));

describe('folderIndexStore', () => {
  const tmp = useTempDir('hpd-fs-index-store-');

  it('20 interleaved, unawaited saves and mutations of one index all succeed; the final load equals the last save', async () => {
    const dir = join(tmp(), 'interleaved');
    const store = folderIndexStore(dir);
    const index = new CosineIndex({ dim: DIM });
    index.addVectors(
      Array.from({ length: 2000 }, (_, i) => `base-${i}`),
      vectors(1, 2000),
    );
    const saves: Promise<unknown>[] = [];
    let last: ArrayBuffer | undefined;
    for (let i = 0; i < 20; i++) {
      // Mutate (add, remove, upsert), then save without awaiting, as `h.save(); h.remove(...); h.save()` does.
      if (i % 3 === 0) index.addVectors([`new-${i}`], vectors(100 + i, 1), [{ i }]);
      else if (i % 3 === 1) index.remove([`base-${i}`]);
      else index.upsertVectors([`base-${i + 100}`], vectors(200 + i, 1), [{ up: i }]);
      last = index.serialize();
      saves.push(store.saveBytes('notes', last));
    }
    const outcomes = await Promise.allSettled(saves);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(bytesOf(await store.loadBytes('notes'))).toEqual(bytesOf(last));
    expect(CosineIndex.deserialize((await store.loadBytes('notes'))!).size).toBe(index.size);
    // No temp files are left behind.
    expect(await readdir(dir)).toEqual(['notes.hpdindex']);
  });

  it('saves from two store instances (two threads or embedders) over one folder never collide', async () => {
    const dir = join(tmp(), 'two-stores');
    const a = folderIndexStore(dir);
    const b = folderIndexStore(dir);
    const index = new CosineIndex({ dim: DIM });
    index.addVectors(['x'], vectors(3, 1));
    const one = index.serialize();
    index.addVectors(['y'], vectors(4, 1));
    const two = index.serialize();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).saveBytes('shared', i % 2 ? one : two)),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect([bytesOf(one), bytesOf(two)]).toContainEqual(bytesOf(await a.loadBytes('shared')));
  });

  it('filesystem failures are PERSIST_FAILED errors (no raw errno error), and a never-saved name loads as undefined', async () => {
    const notADir = join(tmp(), 'file-not-dir');
    await writeFile(notADir, 'x');
    const store = folderIndexStore(notADir);
    const err = await store.saveBytes('n', new CosineIndex({ dim: DIM }).serialize()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PERSIST_FAILED' });
    const loadErr = await store.loadBytes('n').catch((e: unknown) => e);
    expect(loadErr).toMatchObject({ code: 'PERSIST_FAILED' });
    expect(await folderIndexStore(join(tmp(), 'empty')).loadBytes('never')).toBeUndefined();
    await expect(folderIndexStore(tmp()).saveBytes('../escape', new ArrayBuffer(8))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('index saves through the Node worker handle', () => {
  it('20 interleaved h.save() and mutations without awaiting (h.save(); h.remove(...); h.save() …): all succeed, load gives the last save', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hpd-handle-save-'));
    const bundle = await (await compiledFixture()).bundleDir();
    const indexDir = join(root, 'indexes');
    const e = await createEmbedder({ model: bundle, cacheDir: join(root, 'cache'), indexDir, threads: 1 });
    try {
      const h = e.index('notes');
      const n = 200;
      const ids = Array.from({ length: n }, (_, i) => `v${i}`);
      const vecs = new Float32Array(n * e.dim).map((_, i) => Math.sin(i + 1));
      await h.addVectors(ids, vecs);
      const calls: Promise<unknown>[] = [];
      // 20 saves, each after a mutation (remove or add), none awaited: the last save must win, whole.
      for (let i = 0; i < 20; i++) {
        if (i % 2 === 0) calls.push(h.remove([`v${i}`]));
        else calls.push(h.addVectors([`w${i}`], vecs.slice(0, e.dim)));
        calls.push(h.save());
      }
      const outcomes = await Promise.allSettled(calls);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      const bytes = await folderIndexStore(indexDir).loadBytes('notes');
      const saved = CosineIndex.deserialize(bytes!);
      expect(saved.size).toBe(n);
      expect(saved.has('v18')).toBe(false);
      expect(saved.has('w19')).toBe(true);
      // What the worker holds now is what the last save wrote.
      const before = await h.search(vecs.slice(0, e.dim), 5);
      expect(await h.load()).toBe(true);
      expect((await h.stats()).size).toBe(n);
      expect(await h.search(vecs.slice(0, e.dim), 5)).toEqual(before);
    } finally {
      await e.dispose();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('folderIndexStore delete', () => {
  const tmp = useTempDir('hpd-fs-index-delete-');

  it('delete() fails with the typed errors save and load give for the same failures, never raw EISDIR/ENOTDIR', async () => {
    const bytes = new CosineIndex({ dim: DIM }).serialize();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e as { code?: string; constructor: { name: string } }).code ?? `raw ${String(e)}`,
      );
    // The snapshot path is a folder.
    const dir = join(tmp(), 'snapshot-is-folder');
    await mkdir(join(dir, 'n.hpdindex'), { recursive: true });
    const store = folderIndexStore(dir);
    expect(await code(store.saveBytes('n', bytes))).toBe('PERSIST_FAILED');
    expect(await code(store.loadBytes('n'))).toBe('PERSIST_FAILED');
    expect(await code(store.delete!('n'))).toBe('PERSIST_FAILED');
    const err = await store.delete!('n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect((err as Error).message).toMatch(/deleting .*n\.hpdindex failed \((EISDIR|EPERM)/);
    expect(await readdir(dir)).toEqual(['n.hpdindex']); // the folder is still there
    // A parent of the snapshot path is a file.
    const file = join(tmp(), 'parent-is-file');
    await writeFile(file, 'x');
    const under = folderIndexStore(join(file, 'sub'));
    expect(await code(under.saveBytes('n', bytes))).toBe('PERSIST_FAILED');
    expect(await code(under.loadBytes('n'))).toBe('PERSIST_FAILED');
    expect(await code(under.delete!('n'))).toBe('PERSIST_FAILED');
    // A bad name is INVALID_INPUT for all three; a name never saved deletes as false, a saved one as true once.
    expect(await code(store.delete!('../escape'))).toBe('INVALID_INPUT');
    const ok = folderIndexStore(join(tmp(), 'plain'));
    expect(await ok.delete!('never')).toBe(false);
    await ok.saveBytes('n', bytes);
    expect(await ok.delete!('n')).toBe(true);
    expect(await ok.delete!('n')).toBe(false);
    expect(await ok.loadBytes('n')).toBeUndefined();
  });

  it('a delete issued between saves of one name lands in call order: after it the name is gone until the next save', async () => {
    const store = folderIndexStore(join(tmp(), 'ordered-delete'));
    const index = new CosineIndex({ dim: DIM });
    index.addVectors(['a'], vectors(5, 1));
    const one = index.serialize();
    const outcomes = await Promise.all([store.saveBytes('n', one), store.delete!('n'), store.loadBytes('n')]);
    expect(outcomes[1]).toBe(true);
    expect(outcomes[2]).toBeUndefined();
  });
});
