import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the per-file scratch folder (test/helpers/process-scratch.ts) after each file.
    setupFiles: ['test/helpers/vitest-setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: run two files at once at most; model tests are CPU-heavy.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
