// Extracts the demo's sample corpus: the first paragraph of each JSDoc comment in @types/node (MIT), with the API it documents.
// Run: npx tsx scripts/build-demo-corpus.ts  →  demo/corpus/node-api-docs.jsonl (committed; re-run after bumping @types/node).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'node_modules', '@types', 'node');
const out = join(root, 'demo', 'corpus', 'node-api-docs.jsonl');
const MAX_TEXTS = 3000;
const MIN_CHARS = 40;
const MAX_CHARS = 320;
const PARAGRAPHS = 2;

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return name.startsWith('ts') ? [] : walk(p); // ts5.x/: older copies of the same files
      return name.endsWith('.d.ts') ? [p] : [];
    });
}

/** Markdown and JSDoc inline syntax → plain text. */
function clean(s: string): string {
  return s
    .replace(
      /\{@link(?:code|plain)?\s+([^}|\s]+)(?:[ |]([^}]*))?\}/g,
      (_, target: string, label?: string) => label?.trim() || target,
    )
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The declared name on the first code line after a comment (`function readFile(`, `readonly size: number`, `class Foo`). */
function declaredName(after: string): string | undefined {
  const line =
    after
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  const m =
    /^(?:export\s+)?(?:declare\s+)?(?:static\s+)?(?:readonly\s+)?(?:abstract\s+)?(?:function|class|interface|type|const|let|var|namespace|module|enum)?\s*['"]?([A-Za-z_$][\w$.]*)/.exec(
      line,
    );
  return m?.[1];
}

const seen = new Set<string>();
const rows: { text: string; doc: string }[] = [];
for (const file of walk(pkgDir)) {
  const src = readFileSync(file, 'utf8');
  const module = relative(pkgDir, file)
    .replace(/\.d\.ts$/, '')
    .replace(/\\/g, '/');
  for (const m of src.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const body = m[1]
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n');
    const prose = (body.split(/\n\s*@/)[0] ?? '').split(/```[\s\S]*?```/).join('\n\n');
    const name = declaredName(src.slice((m.index ?? 0) + m[0].length, (m.index ?? 0) + m[0].length + 300));
    // Up to the first PARAGRAPHS prose paragraphs of each comment, each a text of its own.
    for (const para of prose.split(/\n\s*\n/).slice(0, PARAGRAPHS)) {
      const text = clean(para);
      if (text.length < MIN_CHARS || text.length > MAX_CHARS || seen.has(text)) continue;
      if (/^(since|deprecated|stability|legacy)\b/i.test(text)) continue;
      seen.add(text);
      rows.push({ text, doc: name ? `${module}: ${name}` : module });
    }
  }
}
// Spread the kept texts over all modules rather than taking the first files whole.
const step = Math.max(1, rows.length / MAX_TEXTS);
const kept = rows.length <= MAX_TEXTS ? rows : Array.from({ length: MAX_TEXTS }, (_, i) => rows[Math.floor(i * step)]);
const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
writeFileSync(out, kept.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(
  `${kept.length} of ${rows.length} texts from @types/node ${version} → ${relative(root, out)} (${(statSync(out).size / 1024).toFixed(0)} KiB)`,
);
