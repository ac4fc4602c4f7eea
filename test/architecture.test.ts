// docs/ARCHITECTURE.md's "Folders and their rules" table is the rule set: each src/ folder imports only what its
// "may import" cell names (in backticks), value, type-only or dynamic as the cell's clause says.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

type Kind = 'value' | 'type' | 'dynamic';
/** What a folder may import: a src module (`model`, `model/spec.ts`, `errors`) or a package (`idb`, `node:`), by kind. */
type Allowed = Map<string, Set<Kind>>;

const ALL: Kind[] = ['value', 'type', 'dynamic'];

/**
 * One cell of the table, clause by clause (split on `;`): backticked names are allowed; a clause saying "types only"
 * allows type imports of its names, one saying "dynamic `import()`" dynamic imports (and types), one saying "by URL"
 * nothing; any other clause allows every kind. "everything above" allows the folders above and all they may import.
 */
export function parseCell(cell: string, above: Map<string, Allowed>): Allowed {
  const allowed: Allowed = new Map();
  const add = (name: string, kinds: Kind[]) => {
    const set = allowed.get(name) ?? new Set<Kind>();
    for (const k of kinds) set.add(k);
    allowed.set(name, set);
  };
  for (const clause of cell.split(';')) {
    const kinds: Kind[] = /by URL/.test(clause)
      ? []
      : /types only/.test(clause)
        ? ['type']
        : /dynamic `import\(\)`/.test(clause)
          ? ['dynamic', 'type']
          : ALL;
    for (const m of clause.matchAll(/`([^`()]+)`/g)) add(m[1].replace(/\/$/, ''), kinds);
    if (/everything above/.test(clause))
      for (const [folder, row] of above) {
        add(folder, ALL);
        for (const [n, k] of row) add(n, [...k]);
      }
  }
  return allowed;
}

/** The table's src/ rows: folder (e.g. `api`) → its rules, each row also able to say "everything above". */
export function parseTable(markdown: string): Map<string, Allowed> {
  const section = markdown.split('## Folders and their rules')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, Allowed>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim()); // `\|` is a pipe inside a cell
    const folder = /^`src\/([\w-]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (folder) rows.set(folder, parseCell(cells[3], new Map(rows)));
  }
  return rows;
}

export interface Import {
  file: string;
  specifier: string;
  kind: Kind;
}

/** Static imports and re-exports (type-only when `import type`, or every named member is `type`), and `import()`. */
export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s+from\s+'([^']+)'/gm)) {
    const members = /^\{([^}]*)\}$/
      .exec(m[3].trim())?.[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const typeOnly = Boolean(m[2]) || (members !== undefined && members.every((s) => s.startsWith('type ')));
    found.push({ file, specifier: m[4], kind: typeOnly ? 'type' : 'value' });
  }
  for (const m of code.matchAll(/(typeof\s+)?\bimport\(\s*'([^']+)'\s*\)(\s*\.\s*[A-Za-z])?/g)) {
    // `typeof import('x')` and `import('x').Name` are types; `await import('x')` loads code.
    found.push({ file, specifier: m[2], kind: m[1] || m[3] ? 'type' : 'dynamic' });
  }
  return found;
}

/** The name an import is allowed under: a src folder + file (`model/spec.ts`), a root module (`errors`), or a package. */
function target(imp: Import): { names: string[]; outside?: boolean } {
  if (!imp.specifier.startsWith('.')) {
    if (imp.specifier.startsWith('node:')) return { names: ['node:'] };
    const parts = imp.specifier.split('/');
    return { names: [imp.specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]] };
  }
  const rel = relative(SRC, normalize(join(dirname(imp.file), imp.specifier.replace(/\.js$/, '.ts'))));
  if (rel.startsWith('..')) return { names: [], outside: true };
  const parts = rel.split(sep);
  if (parts.length === 1) return { names: [parts[0].replace(/\.ts$/, '')] };
  return { names: [parts.join('/'), parts[0]] };
}

/** Each import of a folder's files that its row does not allow, as "file → specifier (kind)". */
export function violations(rules: Map<string, Allowed>, imports: Import[]): string[] {
  const bad: string[] = [];
  for (const imp of imports) {
    const folder = relative(SRC, imp.file).split(sep)[0];
    const allowed = rules.get(folder);
    if (!allowed) continue;
    const t = target(imp);
    if (t.names[t.names.length - 1] === folder) continue; // inside its own folder
    const ok = !t.outside && t.names.some((n) => allowed.get(n)?.has(imp.kind));
    if (!ok) bad.push(`${relative(ROOT, imp.file)} → ${imp.specifier} (${imp.kind})`);
  }
  return bad;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe("docs/ARCHITECTURE.md's folder table, enforced", () => {
  const rules = parseTable(readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8'));

  it('has a row for every src/ folder', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect([...rules.keys()].sort()).toEqual(folders);
  });

  it('every src/ folder imports only what its "may import" cell allows', () => {
    const imports = sources(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
    expect(imports.length).toBeGreaterThan(200);
    expect(violations(rules, imports)).toEqual([]);
  });

  it('fails on an import the table does not allow (the check can fail)', () => {
    const table = [
      '## Folders and their rules',
      '| folder | holds | may import |',
      '| --- | --- | --- |',
      '| `src/low/` | x | `errors` only |',
      '| `src/mid/` | x | `low`, `fflate`; types only from `top`; `heavy` through a dynamic `import()` |',
      '| `src/top/` | x | everything above; `node:` built-ins |',
    ].join('\n');
    const r = parseTable(table);
    const f = (folder: string) => join(SRC, folder, 'a.ts');
    const imports = [
      ...importsOf(f('low'), "import { x } from '../errors.js';\nimport { y } from '../mid/b.js';"),
      ...importsOf(
        f('mid'),
        [
          "import { x } from '../low/c.js';",
          "import type { T } from '../top/t.js';",
          "import { type U, v } from '../top/u.js';",
          "import { unzip } from 'fflate';",
          "import { idb } from 'idb';",
          "const h = await import('../heavy/h.js');",
          "import { hh } from '../heavy/h.js';",
          "export { validate } from '../top/v.js';",
        ].join('\n'),
      ),
      ...importsOf(f('top'), "import { x } from '../mid/m.js';\nimport { readFile } from 'node:fs/promises';"),
    ];
    expect(violations(r, imports)).toEqual([
      'src/low/a.ts → ../mid/b.js (value)',
      'src/mid/a.ts → ../top/u.js (value)',
      'src/mid/a.ts → idb (value)',
      'src/mid/a.ts → ../heavy/h.js (value)',
      'src/mid/a.ts → ../top/v.js (value)',
    ]);
  });
});
