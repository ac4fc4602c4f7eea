import { configDefaults, defineConfig } from 'vitest/config';
import { DurationsReporter } from './test/helpers/durations-reporter.js';

// Files too slow for the unit tier (measured per file; README "Two commands" has the numbers): `npm run test:unit` skips them.
const SLOW = [
  'test/node/fs-index-store-kill.test.ts', // kills a child process mid-save, 20 times
  'test/distill/*.test.ts', // Python + PyTorch (skipped without it): distill.test.ts trains a student
  'test/convert/parity.test.ts', // an HPD-MiniLM-sized checkpoint against the float64 reference
  'test/convert/dtype-acceptance.test.ts',
  'test/node/create-embedder.test.ts', // worker_threads + onnxruntime-node end to end
  'test/node/cli.test.ts',
  'test/node/cli-eval.test.ts',
  'test/api/embedder.test.ts', // waits out a worker watchdog
  'test/node/index-build.test.ts', // builds and updates index files with a real model
  'test/vite/plugin.test.ts', // the Vite plugin builds indexes with a real model
  'test/node/cli-eval-teacher.test.ts', // eval end to end with a compiled student
  'test/examples/mv3-extension/build.test.ts', // starts tsx three times
];

// Suites that run a model on a loaded 2-core CI machine: timeouts sized for load 18, not for speed.
const LOADED = { testTimeout: 1_800_000, hookTimeout: 1_800_000 };

export default defineConfig({
  test: {
    // Removes the per-file scratch folder (test/helpers/process-scratch.ts) after each file; points HOME there.
    setupFiles: ['test/helpers/vitest-setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: run two files at once at most; model tests are CPU-heavy.
    maxWorkers: 2,
    reporters: ['default', new DurationsReporter(10_000)],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW, 'test/browser/**', 'test/consumer/**'],
        },
      },
      { extends: true, test: { name: 'slow', include: SLOW, ...LOADED } },
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], ...LOADED } },
      { extends: true, test: { name: 'consumer', include: ['test/consumer/**/*.test.ts'], ...LOADED } },
    ],
  },
});
