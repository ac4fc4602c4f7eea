// OpfsIndexStore against an in-memory stand-in for the OPFS directory API (same commit-on-close semantics):
// round trips, an interrupted save keeps the previous snapshot, orphans are swept, delete and names.
import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { OpfsIndexStore, type OpfsDirectory, type OpfsFileHandle } from '../../src/search/persist-opfs.js';

/** Files as byte arrays; a writable buffers until close(), like createWritable's swap file. */
function memoryDir(
  opts: { failWriteOf?: (file: string) => boolean } = {},
): OpfsDirectory & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const notFound = () => Object.assign(new Error('not found'), { name: 'NotFoundError' });
  const handle = (name: string): OpfsFileHandle => ({
    getFile: async () => {
      const b = files.get(name);
      if (!b) throw notFound();
      return new Blob([b as Uint8Array<ArrayBuffer>]);
    },
    createWritable: async () => {
      let pending = new Uint8Array(0);
      return {
        write: async (data) => {
          if (opts.failWriteOf?.(name)) throw new Error('QuotaExceededError (injected)');
          pending = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data.slice(0));
        },
        close: async () => void files.set(name, pending),
        abort: async () => undefined,
      };
    },
  });
  return {
    files,
    getFileHandle: async (name, o) => {
      if (!files.has(name)) {
        if (!o?.create) throw notFound();
        files.set(name, new Uint8Array(0));
      }
      return handle(name);
    },
    removeEntry: async (name) => {
      if (!files.delete(name)) throw notFound();
    },
    keys: async function* () {
      yield* [...files.keys()];
    },
  };
}

function index(seed: number, n: number): CosineIndex {
  const idx = new CosineIndex({ dim: 8 });
  const v = new Float32Array(n * 8).map((_, i) => Math.sin(seed * 131 + i * 0.37) + 0.01);
  idx.addVectors(
    Array.from({ length: n }, (_, i) => `id${i}`),
    v,
    Array.from({ length: n }, (_, i) => ({ i })),
  );
  return idx;
}

describe('OpfsIndexStore', () => {
  it('saves and loads the same bytes; unknown names load as undefined', async () => {
    const store = new OpfsIndexStore(memoryDir());
    const a = index(1, 50).serialize();
    const info = await store.saveBytes('docs/main.v1', a);
    expect(info.byteLength).toBe(a.byteLength);
    expect(new Uint8Array((await store.loadBytes('docs/main.v1'))!)).toEqual(new Uint8Array(a));
    expect(await store.loadBytes('other')).toBeUndefined();
    expect(await store.names()).toEqual(['docs/main.v1']);
    expect(store.persistence).toBe('opfs');
  });

  it('keeps the previous snapshot current when a save fails before or during the swap, and sweeps orphans on the next save', async () => {
    const dir = memoryDir();
    const store = new OpfsIndexStore(dir);
    const a = index(1, 40).serialize();
    const b = index(2, 60).serialize();
    await store.saveBytes('x', a);
    await expect(
      store.saveBytes('x', b, { beforeCommit: () => Promise.reject(new Error('injected failure')) }),
    ).rejects.toThrow('injected failure');
    expect(await store.snapshotIds('x')).toHaveLength(2); // the orphan is there
    expect(new Uint8Array((await store.loadBytes('x'))!)).toEqual(new Uint8Array(a));
    await store.saveBytes('x', b);
    expect(await store.snapshotIds('x')).toHaveLength(1);
    expect(new Uint8Array((await store.loadBytes('x'))!)).toEqual(new Uint8Array(b));
  });

  it('a failing pointer write (quota) leaves the previous snapshot; a failing snapshot write leaves no orphan', async () => {
    let failPointer = false;
    let failSnap = false;
    const dir = memoryDir({ failWriteOf: (f) => (f.endsWith('.current.json') ? failPointer : failSnap) });
    const store = new OpfsIndexStore(dir);
    const a = index(3, 30).serialize();
    await store.saveBytes('y', a);
    failPointer = true;
    await expect(store.saveBytes('y', index(4, 30).serialize())).rejects.toMatchObject({ code: 'PERSIST_FAILED' });
    expect(new Uint8Array((await store.loadBytes('y'))!)).toEqual(new Uint8Array(a));
    failPointer = false;
    failSnap = true;
    const before = await store.snapshotIds('y');
    await expect(store.saveBytes('y', index(5, 30).serialize())).rejects.toMatchObject({ code: 'PERSIST_FAILED' });
    expect(await store.snapshotIds('y')).toEqual(before);
  });

  it('serialises concurrent saves of one name: the last one wins and one snapshot remains', async () => {
    const store = new OpfsIndexStore(memoryDir());
    const snaps = [1, 2, 3, 4].map((s) => index(s, 20 + s).serialize());
    await Promise.all(snaps.map((s) => store.saveBytes('z', s)));
    expect(new Uint8Array((await store.loadBytes('z'))!)).toEqual(new Uint8Array(snaps[3]));
    expect(await store.snapshotIds('z')).toHaveLength(1);
  });

  it('reports a missing or truncated snapshot as CORRUPT_INDEX, and deletes', async () => {
    const dir = memoryDir();
    const store = new OpfsIndexStore(dir);
    await store.saveBytes('c', index(6, 10).serialize());
    const snap = [...dir.files.keys()].find((f) => f.endsWith('.snap'))!;
    dir.files.set(snap, dir.files.get(snap)!.slice(0, 10));
    await expect(store.loadBytes('c')).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    dir.files.delete(snap);
    await expect(store.loadBytes('c')).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    expect(await store.delete('c')).toBe(true);
    expect(await store.delete('c')).toBe(false);
    expect(await store.loadBytes('c')).toBeUndefined();
    expect(dir.files.size).toBe(0);
    await expect(store.saveBytes('', new ArrayBuffer(1))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('a pointer a save did not write is CORRUPT_INDEX (was a TypeError on null); names with BOMs and astral characters round-trip', async () => {
    const dir = memoryDir();
    const store = new OpfsIndexStore(dir);
    const names = ['\uFEFFnotes', 'notes', 'é', 'e\u0301', 'a/b', '😀', '\u0000', '%2E'];
    for (const [i, name] of names.entries()) await store.saveBytes(name, index(10 + i, 5).serialize());
    expect(await store.names()).toEqual([...names].sort());
    for (const [i, name] of names.entries())
      expect(new Uint8Array((await store.loadBytes(name))!)).toEqual(new Uint8Array(index(10 + i, 5).serialize()));
    const pointer = [...dir.files.keys()].find((f) => f === encodeURIComponent('notes') + '.current.json')!;
    const good = dir.files.get(pointer)!;
    const info = JSON.parse(new TextDecoder().decode(good)) as Record<string, unknown>;
    for (const bad of [
      'null',
      '[]',
      '"x"',
      JSON.stringify({ ...info, name: 'other' }),
      JSON.stringify({ ...info, snapshotId: '../../x' }),
      JSON.stringify({ ...info, byteLength: -1 }),
      JSON.stringify({ ...info, byteLength: 1e300 }),
      JSON.stringify({ ...info, savedAt: 'now' }),
    ]) {
      dir.files.set(pointer, new TextEncoder().encode(bad));
      await expect(store.loadBytes('notes')).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
      await expect(store.info('notes')).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    }
    dir.files.set(pointer, good);
    expect(await store.info('notes')).toEqual(info);
    // A file another program put in the folder is not listed as a name (and does not throw URIError).
    dir.files.set('%E0%A4%A.current.json', new Uint8Array(0));
    dir.files.set('a%2fb.current.json', new Uint8Array(0));
    expect(await store.names()).toEqual([...names].sort());
    // A lone surrogate has no file name: INVALID_INPUT for save, load and delete alike (was a raw URIError).
    for (const op of [
      () => store.saveBytes('\uD800', new ArrayBuffer(8)),
      () => store.loadBytes('x\uDC00'),
      () => store.delete('\uDBFF'),
    ])
      await expect(op()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
