// An untyped failure (a bug of ours) still ends in one line and exit 1, never a stack trace on an uncaught rejection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/node/cli.js';

vi.mock('../../src/convert/compile.js', async (original) => ({
  ...(await original<typeof import('../../src/convert/compile.js')>()),
  compileCheckpoint: () => Promise.reject(Object.assign(new Error('boom'), { code: 'EIO' })),
}));

describe('hpd-embed: an untyped error', () => {
  it('prints one line with [INTERNAL] and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpd-cli-internal-'));
    try {
      let stderr = '';
      const io = { out: () => undefined, err: (s: string) => void (stderr += s), tty: false };
      expect(await main(['convert', dir, '--out', join(dir, 'out')], io)).toBe(1);
      expect(stderr.split('\n').filter((l) => l.startsWith('hpd-embed'))).toEqual([
        'hpd-embed convert: unexpected error: boom (EIO); please report it with the command line [INTERNAL]',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
