// One scratch folder per test file (or script) for data made once and shared: removed after the file's tests by
// test/helpers/vitest-setup.ts (vitest ends its workers without an 'exit' event), or at exit elsewhere.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;
let hooked = false;

/** The folder, made on first use. */
export function processScratch(): string {
  if (root === undefined) {
    root = mkdtempSync(join(tmpdir(), 'hpd-scratch-'));
    if (!hooked) process.once('exit', removeProcessScratch);
    hooked = true;
  }
  return root;
}

/** Removes the folder; the next processScratch() makes a fresh one. */
export function removeProcessScratch(): void {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
}
