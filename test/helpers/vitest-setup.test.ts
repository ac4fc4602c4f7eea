import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/node/fs-cache.js';
import { processScratch } from './process-scratch.js';

describe('vitest-setup: no test writes into the user home', () => {
  it("points HOME and XDG_CACHE_HOME into this file's scratch folder, so hpd-embed's default cache lands there", () => {
    const home = join(processScratch(), 'home');
    expect(homedir()).toBe(home);
    expect(relative(tmpdir(), home).startsWith('..')).toBe(false);
    expect(defaultCacheDir()).toBe(join(home, '.cache', 'hpd-embed'));
    expect(process.env.HPD_TEST_REAL_HOME).not.toBe(home);
  });
});
