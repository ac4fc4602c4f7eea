// The two public entries share one list of names (src/public.ts) and publish no test tooling.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/index.js';
import * as node from '../src/node/index.js';
import * as shared from '../src/public.js';

const SRC = join(import.meta.dirname, '..', 'src');
const read = (p: string) => readFileSync(join(SRC, p), 'utf8');

/** Names an entry file exports itself (values and types), besides `export *`. */
function ownNames(text: string): string[] {
  return [...text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
    m[1]
      .split(',')
      .map((s) => s.trim().replace(/^type\s+/, ''))
      .filter(Boolean)
      .map((s) => s.split(/\s+as\s+/).pop()!),
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('public entries', () => {
  it('both re-export src/public.ts, and add only names it lacks', () => {
    const pub = ownNames(read('public.ts'));
    expect(pub.length).toBeGreaterThan(15);
    for (const [file, star] of [
      ['index.ts', "export * from './public.js';"],
      ['node/index.ts', "export * from '../public.js';"],
    ]) {
      expect(read(file)).toContain(star);
      expect(ownNames(read(file)).filter((n) => pub.includes(n))).toEqual([]);
    }
    for (const name of Object.keys(shared)) {
      expect(browser).toHaveProperty(name);
      expect(node).toHaveProperty(name);
    }
  });

  it('publish no test tooling', () => {
    for (const name of ['generateFixture', 'generatedVocab', 'HPD_MINILM_F128', 'compileCheckpoint']) {
      expect(node).not.toHaveProperty(name);
      expect(browser).not.toHaveProperty(name);
    }
  });

  it('name one thing once: no exported name of an entry is declared in two src files', () => {
    const names = [...new Set([...Object.keys(browser), ...Object.keys(node)])];
    const declared = new Map<string, string[]>();
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const n of names)
        if (new RegExp(`\\b(?:function|class|const|let)\\s+${n}\\b`).test(text))
          declared.set(n, [...(declared.get(n) ?? []), file.slice(SRC.length + 1)]);
    }
    // createEmbedder is the one name each environment implements on purpose (same API, its own host).
    const twice = [...declared].filter(([n, files]) => files.length > 1 && n !== 'createEmbedder');
    expect(twice).toEqual([]);
  });

  it('the save test hook is marked @internal, so stripInternal keeps it out of the published types', () => {
    expect(read('search/persist-idb.ts')).toMatch(/@internal[^\n]*\n\s*\*\/\n\s*beforeCommit\?/);
  });
});
