// build.ts's command line: --grant-hosts is documented and checked before anything is built (a full build is in
// test/browser/extension.test.ts, which builds with --grant-hosts).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processScratch } from '../../helpers/process-scratch.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const build = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/mv3-extension/build.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
};

describe('examples/mv3-extension/build.ts command line', () => {
  it('--help documents --grant-hosts; an unknown flag is a usage error', () => {
    const help = build('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--grant-hosts');
    expect(build('b', '--no-such-flag').code).toBe(2);
  });

  it('a --grant-hosts value that is not a host pattern fails before building', () => {
    const out = join(processScratch(), 'ext');
    const r = build('no-bundle-here', out, '--grant-hosts', 'http://127.0.0.1/*,javascript:alert(1)');
    expect(r.code).toBe(1);
    expect(r.out).toContain('not a host pattern: "javascript:alert(1)"');
  });
});
