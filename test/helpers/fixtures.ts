import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFixture, type FixtureOptions } from '../../src/convert/fixture.js';
import { parseVocab } from '../../src/convert/wordpiece-tokenizer.js';
import { writeFolderAtomic } from '../../src/node/write-folder.js';
import { seededRandom } from '../../src/seeded-random.js';
import { readFileSync } from 'node:fs';

/** ../shared/data beside the checkout, when present (CI and sessions have it; a fresh clone may not). */
export const SHARED_DATA = resolve(import.meta.dirname, '../../../shared/data');
export const hasSharedData = existsSync(join(SHARED_DATA, 'tokenizers/bert-base-uncased/vocab.txt'));

export function bertVocab(): string[] | undefined {
  return hasSharedData
    ? parseVocab(readFileSync(join(SHARED_DATA, 'tokenizers/bert-base-uncased/vocab.txt'), 'utf8'))
    : undefined;
}

/** `opts` with the real bert-base-uncased vocabulary when ../shared/data has it (else the fixture's generated one). */
export function withBertVocab(opts: FixtureOptions): FixtureOptions {
  const vocab = bertVocab();
  return vocab ? { ...opts, vocab } : opts;
}

export const TINY: FixtureOptions = {
  layers: 2,
  hidden: 32,
  heads: 4,
  ffn: 64,
  dim: 16,
  maxPositions: 64,
  maxSeqLength: 48,
};

/** Writes a generated checkpoint to a fresh temp folder; call `cleanup` when done. */
export async function fixtureDir(
  opts: FixtureOptions = TINY,
): Promise<{ dir: string; files: Map<string, Uint8Array>; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'hpd-fixture-'));
  const dir = join(root, 'checkpoint');
  const files = generateFixture(opts);
  await writeFolderAtomic(dir, files, { kind: 'checkpoint' });
  return { dir, files, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** STS-B dev sentences when ../shared/data exists, else a generated corpus of varied length. */
export function sentences(limit = Infinity): { texts: string[]; source: string } {
  const path = join(SHARED_DATA, 'stsbenchmark/sts-dev.csv');
  if (existsSync(path)) {
    const texts = new Set<string>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const f = line.split('\t');
      if (f.length >= 7) (texts.add(f[5]), texts.add(f[6]));
    }
    return { texts: [...texts].slice(0, limit), source: 'STS-B dev' };
  }
  const words =
    'the a cat dog sat on mat quick brown fox jumps over lazy music film car road city house water food search model vector browser fast text word query index'.split(
      ' ',
    );
  const texts: string[] = [];
  const rnd = seededRandom(7);
  for (let i = 0; i < Math.min(limit, 600); i++) {
    const n = 1 + Math.floor(rnd() * 40);
    texts.push(Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ') + '.');
  }
  return { texts, source: 'generated corpus' };
}
