import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_MEANING, errorTable, readmeCodes, unionCodes, withErrorTable } from '../../scripts/error-codes.js';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('README error codes', () => {
  it('README lists exactly the HpdErrorCode union, as `npm run docs:errors` writes it', () => {
    expect(readmeCodes(readme)).toEqual(unionCodes());
    expect(withErrorTable(readme, unionCodes())).toBe(readme);
    expect(errorTable(unionCodes())).not.toContain(NO_MEANING);
  });

  it('every code thrown in src/ is in the union', () => {
    const union = new Set(unionCodes());
    const thrown = new Set<string>();
    for (const f of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:HpdError|ConvertError|super)\(\s*'([A-Z][A-Z0-9_]+)'/g))
        thrown.add(m[1]);
    }
    expect(thrown.size).toBeGreaterThan(10);
    expect([...thrown].filter((c) => !union.has(c))).toEqual([]);
  });

  it('fails when the union gains a code README does not list', () => {
    const more = unionCodes(
      `export type HpdErrorCode = ${unionCodes()
        .map((c) => `| '${c}'`)
        .join(' ')} | 'BRAND_NEW';`,
    );
    expect(readmeCodes(readme)).not.toEqual(more);
  });
});
