// npm run demo: make sure a model bundle exists, then serve the demo with Vite (cross-origin isolated).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { compileCheckpoint } from '../src/convert/compile.js';
import { generateFixture } from '../src/convert/fixture.js';
import { memorySource } from '../src/bundle/source.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';
import { fetchModel } from '../models/fetch.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(root, 'models');
const real = join(models, 'hpd-minilm-f128');
const random = join(models, 'demo-random-f128');

async function prepare(): Promise<{ url: string; random: boolean }> {
  if (existsSync(join(real, 'hpd.json'))) return { url: '/models/hpd-minilm-f128/', random: false };
  try {
    await fetchModel([]);
    return { url: '/models/hpd-minilm-f128/', random: false };
  } catch (e) {
    console.warn(`Could not fetch the published model (${(e as Error).message}).`);
    console.warn('Serving a random-weight model of the same shape instead: real speed, meaningless rankings.');
  }
  if (!existsSync(join(random, 'hpd.json'))) {
    const vocabPath = join(root, '..', 'shared', 'data', 'tokenizers', 'bert-base-uncased', 'vocab.txt');
    const { parseVocab } = await import('../src/convert/wordpiece-tokenizer.js');
    const { readFile } = await import('node:fs/promises');
    const vocab = existsSync(vocabPath) ? parseVocab(await readFile(vocabPath, 'utf8')) : undefined;
    const bundle = await compileCheckpoint(memorySource(generateFixture(vocab ? { vocab } : {}), 'demo-random-f128'));
    await writeFolderAtomic(random, bundle.files);
  }
  return { url: '/models/demo-random-f128/', random: true };
}

const model = await prepare();
await writeFile(join(models, 'demo-model.json'), JSON.stringify(model));
const server = await createServer({ configFile: join(root, 'vite.config.ts') });
await server.listen();
server.printUrls();
