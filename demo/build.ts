// npm run demo:build: a static folder (demo/dist/) with the page, the worker, the ORT wasm and the model bundle,
// all under relative URLs, so any static host serves it (add COOP/COEP headers for threaded wasm).
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { modelsDir, prepareModel, root, writeModelChoice } from './prepare-model.js';

const outDir = process.argv[2] ?? join(root, 'demo', 'dist');
const model = await prepareModel();
await writeModelChoice(modelsDir, model); // vite.config.ts reads it to build the sample index
process.env.HPD_DEMO_SAMPLE_INDEX = '1'; // vite.config.ts builds the sample corpus into a prebuilt index
await build({ configFile: join(root, 'vite.config.ts'), build: { outDir, emptyOutDir: true } });
await mkdir(join(outDir, 'models'), { recursive: true });
await cp(join(modelsDir, model.folder), join(outDir, 'models', model.folder), { recursive: true });
await writeModelChoice(join(outDir, 'models'), model);
console.log(
  `Static demo in ${outDir} (model: ${model.folder}${model.random ? ', random stand-in' : ''}). Serve it with COOP/COEP headers for threaded wasm, e.g. npx vite preview.`,
);
