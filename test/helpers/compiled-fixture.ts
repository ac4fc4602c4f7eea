import { join } from 'node:path';
import type { WeightDtype } from '../../src/bundle/manifest.js';
import { compileCheckpoint, type CompiledBundle } from '../../src/convert/compile.js';
import { generateFixture, HPD_MINILM_F128, type FixtureOptions } from '../../src/convert/fixture.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { folderSource } from '../../src/node/fs-source.js';
import { writeFolderAtomic } from '../../src/node/write-folder.js';
import { referenceEmbed } from '../reference/bert-reference.js';
import { TINY } from './fixtures.js';
import { processScratch } from './process-scratch.js';

/**
 * A generated checkpoint, its compiled bundles and its float64 reference vectors: what the model tests share.
 * Made once per options per test file (kept in its scratch folder until the file's tests end): treat it as read-only.
 */
export interface CompiledFixture {
  /** The generated sentence-transformers checkpoint's files (a copy: a caller may change it). */
  checkpoint(): Map<string, Uint8Array>;
  /** That checkpoint written to a folder named "checkpoint" (so bundles are named "checkpoint"). */
  readonly checkpointDir: string;
  /** The model's max_seq_length: the token count tokenizer() and expected() cut at by default. */
  readonly maxTokens: number;
  /** The bundle compiled from checkpointDir, once per dtype and name; its files map is a copy. */
  bundle(dtype?: WeightDtype, name?: string): Promise<CompiledBundle>;
  /** bundle(dtype) written once to a folder of its own. */
  bundleDir(dtype?: WeightDtype): Promise<string>;
  /** Writes bundle(dtype, name) to `dir` (e.g. inside a folder a test serves); returns the bundle. */
  writeBundle(dir: string, dtype?: WeightDtype, name?: string): Promise<CompiledBundle>;
  /** The checkpoint's tokenizer (the same tokenizer.json every bundle ships), cutting at `maxTokens`. */
  tokenizer(maxTokens?: number): TextTokenizer;
  /** Token ids of each text through tokenizer(maxTokens). */
  ids(texts: readonly string[], maxTokens?: number): number[][];
  /** Float64 reference embeddings (unit length) of token-id sequences, from the checkpoint (test/reference). */
  reference(batch: number[][]): Promise<Float64Array[]>;
  /** reference(ids(texts, maxTokens)): the vectors an embedder of this model must return for `texts`. */
  expected(texts: readonly string[], maxTokens?: number): Promise<Float64Array[]>;
}

const made = new Map<string, Promise<CompiledFixture>>();
let madeIn = '';
let count = 0;

/** The checkpoint generated from `opts` (default TINY) with its bundles and reference vectors; made once per test file. */
export function compiledFixture(opts: FixtureOptions = TINY): Promise<CompiledFixture> {
  const scratch = processScratch();
  if (scratch !== madeIn) (made.clear(), (madeIn = scratch)); // the folder was removed: make fixtures afresh
  const key = JSON.stringify(opts);
  let p = made.get(key);
  if (!p) {
    p = make(opts, join(scratch, `fixture-${count++}`));
    made.set(key, p);
    p.catch(() => made.delete(key));
  }
  return p;
}

async function make(opts: FixtureOptions, home: string): Promise<CompiledFixture> {
  const files = generateFixture(opts);
  const checkpointDir = join(home, 'checkpoint');
  await writeFolderAtomic(checkpointDir, files, { kind: 'checkpoint' });
  const maxTokens = opts.maxSeqLength ?? HPD_MINILM_F128.maxSeqLength;
  const tokenizerJson = JSON.parse(new TextDecoder().decode(files.get('tokenizer.json'))) as object;
  const bundles = new Map<string, Promise<CompiledBundle>>();
  const dirs = new Map<string, Promise<string>>();
  const tokenizers = new Map<number, TextTokenizer>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, fn: () => Promise<T>): Promise<T> => {
    let p = cache.get(key);
    if (!p) {
      p = fn();
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
  const compiled = (dtype: WeightDtype, name?: string) =>
    once(bundles, `${dtype}\0${name ?? ''}`, () =>
      compileCheckpoint(folderSource(checkpointDir), { dtype, ...(name === undefined ? {} : { name }) }),
    );
  const fx: CompiledFixture = {
    checkpoint: () => new Map(files),
    checkpointDir,
    maxTokens,
    async bundle(dtype = 'fp32', name) {
      const b = await compiled(dtype, name);
      return { ...b, files: new Map(b.files) };
    },
    bundleDir: (dtype = 'fp32') =>
      once(dirs, dtype, async () => {
        const dir = join(home, `bundle-${dtype}`);
        await writeFolderAtomic(dir, (await compiled(dtype)).files);
        return dir;
      }),
    async writeBundle(dir, dtype = 'fp32', name) {
      const b = await fx.bundle(dtype, name);
      await writeFolderAtomic(dir, b.files);
      return b;
    },
    tokenizer(n = maxTokens) {
      let t = tokenizers.get(n);
      if (!t) tokenizers.set(n, (t = new TextTokenizer(tokenizerJson, {}, n)));
      return t;
    },
    ids: (texts, n) => texts.map((t) => Array.from(fx.tokenizer(n).encode(t).ids)),
    reference: (batch) => referenceEmbed(checkpointDir, batch),
    expected: (texts, n) => referenceEmbed(checkpointDir, fx.ids(texts, n)),
  };
  return fx;
}
