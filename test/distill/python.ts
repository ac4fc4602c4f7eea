// Shared by the distillation tests: Debian's python with torch (/usr/bin/python3), or a printed reason to skip.
import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const PYTHON = process.env.HPD_PYTHON ?? '/usr/bin/python3';
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

function probe(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0)
    return `${PYTHON} lacks torch/numpy (apt-get install -y python3-torch python3-numpy): ${r.stderr.trim().split('\n').pop()}`;
  return undefined;
}

/** The shortest training run the tests use: one epoch, batches of 32, one warmup step. */
export const ONE_SHORT_EPOCH = ['--epochs', '1', '--batch', '32', '--warmup', '1'];

/** Why the Python tests cannot run here, or undefined when they can. */
export const torchMissing = probe();

/** Runs `python -m distill …` from the repo root; rejects with its stderr on failure. */
export function runDistill(args: string[], timeoutMs = 1_500_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    execFile(
      PYTHON,
      ['-m', 'distill', ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`python -m distill ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else ok({ stdout, stderr });
      },
    );
  });
}

/** Runs a Python snippet (`python -c code args…`) from the repo root, so it can import distill; rejects on failure. */
export function runPython(code: string, args: string[] = [], timeoutMs = 300_000): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      PYTHON,
      ['-c', code, ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`python -c failed: ${err.message}\n${stderr}`));
        else ok(stdout);
      },
    );
  });
}
