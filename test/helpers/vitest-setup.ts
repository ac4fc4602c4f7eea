// Runs in every test file (vitest.config.ts setupFiles).
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { processScratch, removeProcessScratch } from './process-scratch.js';

// No test may write into the user's home: HOME and XDG_CACHE_HOME point at this file's scratch folder, so a stray
// default (hpd-embed's ~/.cache/hpd-embed, a browser's or Python's caches) lands there and is removed after the file.
const realHome = process.env.HPD_TEST_REAL_HOME ?? homedir();
/** The user's real home, for tests that check it stays untouched. */
process.env.HPD_TEST_REAL_HOME = realHome;
// npm run by a test (test/consumer) keeps the user's registry settings and warm package cache.
process.env.npm_config_userconfig ??= join(realHome, '.npmrc');
process.env.npm_config_cache ??= join(realHome, '.npm');
const home = join(processScratch(), 'home');
mkdirSync(home, { recursive: true });
process.env.HOME = home;
process.env.XDG_CACHE_HOME = join(home, '.cache');
delete process.env.HPD_EMBED_CACHE;

afterAll(removeProcessScratch);
