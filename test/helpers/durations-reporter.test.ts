import { describe, expect, it } from 'vitest';
import type { TestModule } from 'vitest/node';
import { durationSummary } from './durations-reporter.js';

/** The fields durationSummary reads. */
const mod = (project: string, id: string, setup: number, collect: number, duration: number) =>
  ({
    project: { name: project },
    relativeModuleId: id,
    diagnostic: () => ({ setupDuration: setup, collectDuration: collect, duration }),
  }) as unknown as TestModule;

describe('durationSummary', () => {
  it('sums file time (setup + import + tests) per project and lists the files over the threshold, slowest first', () => {
    const lines = durationSummary(
      [
        mod('unit', 'test/a.test.ts', 10, 200, 1_000),
        mod('slow', 'test/kill.test.ts', 10, 90, 97_000),
        mod('unit', 'test/b.test.ts', 10, 300, 12_000),
      ],
      61_234,
      10_000,
    );
    expect(lines).toEqual([
      'test durations: wall 61.2 s; per project (files, summed file time): unit 2, 13.5 s; slow 1, 97.1 s',
      'files over 10.0 s:',
      '    97.1 s  [slow] test/kill.test.ts',
      '    12.3 s  [unit] test/b.test.ts',
    ]);
  });
});
