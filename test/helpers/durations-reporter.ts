// A vitest reporter that ends every run with the wall time, each project's summed file time, and the files over a
// threshold, slowest first: CI logs then show what the tiers cost (README "Tests" quotes them).
import type { Reporter, TestModule } from 'vitest/node';

/** Seconds with one decimal. */
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One file's time: setup file + import + tests and hooks (vitest's per-file diagnostics). */
export function fileMs(m: TestModule): number {
  const d = m.diagnostic();
  return d.setupDuration + d.collectDuration + d.duration;
}

/** Lines the reporter prints for these modules, run in `wallMs`. */
export function durationSummary(modules: ReadonlyArray<TestModule>, wallMs: number, overMs: number): string[] {
  const perProject = new Map<string, { files: number; ms: number }>();
  for (const m of modules) {
    const p = perProject.get(m.project.name) ?? { files: 0, ms: 0 };
    p.files++;
    p.ms += fileMs(m);
    perProject.set(m.project.name, p);
  }
  const lines = [
    `test durations: wall ${s(wallMs)}; per project (files, summed file time): ` +
      [...perProject].map(([name, p]) => `${name || '(root)'} ${p.files}, ${s(p.ms)}`).join('; '),
  ];
  const slow = modules.filter((m) => fileMs(m) > overMs).sort((a, b) => fileMs(b) - fileMs(a));
  if (slow.length > 0) lines.push(`files over ${s(overMs)}:`);
  for (const m of slow) lines.push(`  ${s(fileMs(m)).padStart(8)}  [${m.project.name}] ${m.relativeModuleId}`);
  return lines;
}

/** Prints durationSummary() at the end of a run. */
export class DurationsReporter implements Reporter {
  private start = performance.now();

  constructor(private readonly overMs: number) {}

  onTestRunStart(): void {
    this.start = performance.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = durationSummary(modules, performance.now() - this.start, this.overMs);
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
