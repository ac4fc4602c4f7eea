// The filesystem model cache: concurrent puts of one key (two embedders loading one model) both succeed.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderCache } from '../../src/node/fs-cache.js';

describe('folderCache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-fs-cache-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('two (and ten) overlapping puts of one key all succeed and leave one whole blob and sidecar', async () => {
    const cache = folderCache(join(root, 'c'));
    const bytes = new Uint8Array(1 << 20).map((_, i) => i * 7);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => cache.put('model/v1/model.onnx', bytes)));
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(await cache.get('model/v1/model.onnx')).toEqual(bytes);
    expect(await cache.list()).toEqual([{ key: 'model/v1/model.onnx', bytes: bytes.byteLength }]);
    expect((await readdir(join(root, 'c'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a put that cannot write is a PERSIST_FAILED error, not a raw errno error', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await expect(folderCache(file).put('k', new Uint8Array(4))).rejects.toMatchObject({ code: 'PERSIST_FAILED' });
  });
});
