// Lint and format check for distill/'s Python with Ruff's WebAssembly build (@astral-sh/ruff-wasm-nodejs): no Python
// tooling needed. `tsx scripts/ruff-check.ts` exits 1 on any finding; `--fix` applies Ruff's fixes and format.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = ['distill'];

/** Ruff's options from pyproject.toml's [tool.ruff] and [tool.ruff.lint] (hand-read: no TOML parser is a dependency,
 * and those tables keep to JSON-shaped values). */
export function ruffOptions(pyproject: string): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  let table: Record<string, unknown> | undefined;
  for (const raw of pyproject.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      table = header[1] === 'tool.ruff' ? options : header[1] === 'tool.ruff.lint' ? (options.lint = {}) : undefined;
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!table || !kv) continue;
    try {
      (table as Record<string, unknown>)[kv[1]] = JSON.parse(kv[2]);
    } catch {
      throw new Error(`pyproject.toml: ${kv[1]} = ${kv[2]} is not JSON-shaped; scripts/ruff-check.ts cannot read it`);
    }
  }
  return options;
}

function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() && e.name !== '__pycache__'
      ? pythonFiles(join(dir, e.name))
      : e.isFile() && e.name.endsWith('.py')
        ? [join(dir, e.name)]
        : [],
  );
}

interface Loc {
  row: number;
  column: number;
}
interface Finding {
  code: string | null;
  message: string;
  start_location: Loc;
  fix: { edits: { content: string | null; location: Loc; end_location: Loc }[] } | null;
}

/** `source` with each finding's suggested edits applied (later ones first; an edit overlapping one applied is skipped). */
function applyFixes(source: string, findings: Finding[]): string {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') starts.push(i + 1);
  const at = (l: Loc) => starts[l.row - 1] + l.column - 1;
  const edits = findings
    .flatMap((f) => f.fix?.edits ?? [])
    .map((e) => ({ from: at(e.location), to: at(e.end_location), text: e.content ?? '' }))
    .sort((a, b) => b.from - a.from);
  let out = source,
    floor = Infinity;
  for (const e of edits)
    if (e.to <= floor) {
      out = out.slice(0, e.from) + e.text + out.slice(e.to);
      floor = e.from;
    }
  return out;
}

/** Findings as `path:row:col code message` lines, plus `path: not formatted` lines; rewrites files when `fix`. */
export function ruffCheck(root = ROOT, fix = false): string[] {
  const workspace = new Workspace(
    ruffOptions(readFileSync(join(root, 'pyproject.toml'), 'utf8')),
    PositionEncoding.Utf16,
  );
  const out: string[] = [];
  try {
    for (const file of DIRS.flatMap((d) => pythonFiles(join(root, d))).sort()) {
      const name = relative(root, file);
      const original = readFileSync(file, 'utf8');
      let source = original;
      for (let round = 0; fix && round < 5; round++) {
        const next = workspace.format(applyFixes(source, workspace.check(source) as Finding[]));
        if (next === source) break;
        source = next;
      }
      if (source !== original) writeFileSync(file, source);
      if (workspace.format(source) !== source)
        out.push(`${name}: not formatted (npm run lint:py -- --fix rewrites it)`);
      for (const d of workspace.check(source) as Finding[])
        out.push(`${name}:${d.start_location.row}:${d.start_location.column} ${d.code ?? 'syntax'} ${d.message}`);
    }
  } finally {
    workspace.free();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const findings = ruffCheck(ROOT, process.argv.includes('--fix'));
  for (const f of findings) console.log(f);
  console.log(`ruff ${Workspace.version()}: ${findings.length ? `${findings.length} finding(s)` : 'distill/ clean'}`);
  process.exit(findings.length ? 1 : 0);
}
