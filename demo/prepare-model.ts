// Picks the model the demo serves: the published one if present or fetchable, else a labelled random stand-in of the same shape.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memorySource } from '../src/bundle/source.js';
import { buildBundle } from '../src/engine/build-bundle.js';
import { generateFixture, type FixtureOptions } from '../src/convert/fixture.js';
import { wasmProbes } from '../src/node/probe-runtime.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';
import { fetchModel } from '../models/fetch.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const modelsDir = join(root, 'models');

/** What the page reads from models/demo-model.json; `folder` is the bundle's folder name under models/. */
export interface DemoModel {
  url: string;
  folder: string;
  random: boolean;
  source: 'local bundle' | 'stand-in';
}

export async function prepareModel(): Promise<DemoModel> {
  const real: DemoModel = {
    url: './models/hpd-minilm-f128/',
    folder: 'hpd-minilm-f128',
    random: false,
    source: 'local bundle',
  };
  if (existsSync(join(modelsDir, real.folder, 'hpd.json'))) return real;
  try {
    await fetchModel([]);
    return real;
  } catch (e) {
    console.warn(`Could not fetch the published model (${(e as Error).message}).`);
    console.warn('Serving a random-weight model of the same shape instead: real speed, meaningless rankings.');
  }
  const stand: DemoModel = {
    url: './models/demo-random-f128/',
    folder: 'demo-random-f128',
    random: true,
    source: 'stand-in',
  };
  const dir = join(modelsDir, stand.folder);
  if (!existsSync(join(dir, 'hpd.json'))) {
    // The BERT vocabulary from ../shared/data when it is beside the checkout; else the fixture's generated one.
    const vocabPath = join(root, '..', 'shared', 'data', 'tokenizers', 'bert-base-uncased', 'vocab.txt');
    const { parseVocab } = await import('../src/convert/wordpiece-tokenizer.js');
    const vocab = existsSync(vocabPath) ? parseVocab(await readFile(vocabPath, 'utf8')) : undefined;
    await writeStandIn(dir, stand.folder, vocab ? { vocab } : {});
  }
  return stand;
}

/** The random stand-in bundle, built like every bundle (golden probes included). */
export async function writeStandIn(dir: string, name: string, shape: FixtureOptions = {}): Promise<void> {
  const bundle = await buildBundle(memorySource(generateFixture(shape), name), {
    probes: await wasmProbes(),
  });
  await writeFolderAtomic(dir, bundle.files);
}

/** Writes the page's pointer to the chosen bundle into `dir` (models/ for dev, the build's models/ for a deploy). */
export async function writeModelChoice(dir: string, model: DemoModel): Promise<void> {
  await writeFile(join(dir, 'demo-model.json'), JSON.stringify(model) + '\n');
}
