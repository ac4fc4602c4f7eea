// Issue 8: Node's file: fetch reads only regular files, never more than their size.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileResponse } from '../../src/node/platform.js';

describe('fileResponse', () => {
  it('reads a regular file and gives 404 for missing files and folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpd-file-'));
    try {
      await writeFile(join(dir, 'a.bin'), Uint8Array.from([1, 2, 3]));
      const ok = await fileResponse(pathToFileURL(join(dir, 'a.bin')).href);
      expect(ok.status).toBe(200);
      expect(Array.from(new Uint8Array(await ok.arrayBuffer()))).toEqual([1, 2, 3]);
      expect((await fileResponse(pathToFileURL(join(dir, 'missing')).href)).status).toBe(404);
      expect((await fileResponse(pathToFileURL(dir).href)).status).toBe(404);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync('/dev/zero'))('does not read /dev/zero (unbounded memory growth before)', async () => {
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const res = await fileResponse('file:///dev/zero');
    expect(res.status).toBe(404);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((process.memoryUsage().rss - before) / 2 ** 20).toBeLessThan(64);
  });
});
