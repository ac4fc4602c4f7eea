// The filesystem model cache: concurrent puts of one key (two embedders loading one model) both succeed.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderCache } from '../../src/node/fs-cache.js';
import { useTempDir } from '../helpers/temp-dir.js';

describe('folderCache', () => {
  const tmp = useTempDir('hpd-fs-cache-');

  it('two (and ten) overlapping puts of one key all succeed and leave one whole blob and sidecar', async () => {
    const cache = folderCache(join(tmp(), 'c'));
    const bytes = new Uint8Array(1 << 20).map((_, i) => i * 7);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.put('model/v1/model.onnx', bytes)),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(await cache.get('model/v1/model.onnx')).toEqual(bytes);
    expect(await cache.list()).toEqual([{ key: 'model/v1/model.onnx', bytes: bytes.byteLength }]);
    expect((await readdir(join(tmp(), 'c'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('damaged sidecars (not JSON, or JSON without key and size) are no entries: list() and clear() skip them', async () => {
    const dir = join(tmp(), 'd');
    const cache = folderCache(dir);
    await cache.put('good', new Uint8Array(3));
    await writeFile(join(dir, `${'a'.repeat(64)}.json`), '{"key": "half');
    await writeFile(join(dir, `${'b'.repeat(64)}.json`), '{"bytes": 5}');
    await writeFile(join(dir, `${'c'.repeat(64)}.json`), 'null');
    expect(await cache.list()).toEqual([{ key: 'good', bytes: 3 }]);
    expect(await cache.clear()).toBe(1);
  });

  it('a put that cannot write is a PERSIST_FAILED error, not a raw errno error', async () => {
    const file = join(tmp(), 'a-file');
    await writeFile(file, 'x');
    await expect(folderCache(file).put('k', new Uint8Array(4))).rejects.toMatchObject({ code: 'PERSIST_FAILED' });
  });
});
