// The error style rule of src/errors.ts: a code that has its own subclass is never thrown as a bare HpdError (or
// another class), outside the compiler's ConvertError family; so `instanceof` and `code` agree for callers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Codes owned by a subclass: the code its constructor passes (read from an instance). */
function subclassCodes(): Map<string, string> {
  const made: errors.HpdError[] = [
    new errors.InvalidInputError('x'),
    new errors.DimMismatchError(2, 1, 'x'),
    new errors.DuplicateIdError('a', 'x'),
    new errors.CorruptIndexError('x'),
    new errors.UnsupportedIndexVersionError(9, 1),
    new errors.PersistError('x'),
  ];
  return new Map(made.map((e) => [e.code, e.constructor.name]));
}

describe('error style', () => {
  it('every subclass-owned code is thrown through its subclass (the compiler excepted)', () => {
    const owned = subclassCodes();
    expect(owned.size).toBe(6);
    const offenders: string[] = [];
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (HpdError|ConvertError)\(\s*'([A-Z_]+)'/g)) {
        const [, cls, code] = m;
        if (!owned.has(code)) continue;
        if (cls === 'ConvertError' && file.includes(`${join('src', 'convert')}`)) continue;
        offenders.push(`${file.slice(SRC.length + 1)}: new ${cls}('${code}') (use ${owned.get(code)})`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("DimMismatchError keeps its details when it carries another mismatch's wording", () => {
    const e = new errors.DimMismatchError(128, 64, 'saved index', {
      message: 'saved index "x" holds 64-d vectors but the model gives 128-d.',
    });
    expect(e).toBeInstanceOf(errors.HpdError);
    expect(e.code).toBe('DIM_MISMATCH');
    expect(e.message).toBe('saved index "x" holds 64-d vectors but the model gives 128-d.');
    expect([e.expected, e.actual]).toEqual([128, 64]);
    expect(e.details).toEqual({ expected: 128, actual: 64 });
  });
});
