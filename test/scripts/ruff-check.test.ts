// distill/'s Python is linted and format-checked inside `npm test` (vitest), with Ruff's WebAssembly build.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruffCheck, ruffOptions } from '../../scripts/ruff-check.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('scripts/ruff-check.ts', () => {
  it('distill/ has no Ruff finding and is Ruff-formatted', () => {
    expect(ruffCheck(ROOT)).toEqual([]);
  }, 120_000);

  it("reads pyproject.toml's [tool.ruff] tables", async () => {
    expect(ruffOptions(await readFile(join(ROOT, 'pyproject.toml'), 'utf8'))).toMatchObject({
      'line-length': 120,
      lint: { select: expect.arrayContaining(['E', 'F', 'I']) },
    });
  });

  it('reports a lint finding and an unformatted file; --fix repairs what Ruff can', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hpd-ruff-'));
    try {
      await writeFile(
        join(root, 'pyproject.toml'),
        '[tool.ruff]\nline-length = 120\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n',
      );
      await mkdir(join(root, 'distill'));
      await writeFile(join(root, 'distill', 'bad.py'), 'import sys\nimport os\nx=1\nprint(undefined_name)\n');
      const findings = ruffCheck(root);
      expect(findings).toContain('distill/bad.py: not formatted (npm run lint:py -- --fix rewrites it)');
      expect(findings.some((f) => /^distill\/bad\.py:1:1 I001 /.test(f))).toBe(true);
      expect(findings.some((f) => /^distill\/bad\.py:4:7 F821 /.test(f))).toBe(true);
      expect(ruffCheck(root, true)).toEqual(expect.arrayContaining([expect.stringMatching(/F821/)]));
      expect(await readFile(join(root, 'distill', 'bad.py'), 'utf8')).toBe('x = 1\nprint(undefined_name)\n');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
