// npm run demo: make sure a model bundle exists, then serve the demo with Vite (cross-origin isolated).
import { join } from 'node:path';
import { createServer } from 'vite';
import { modelsDir, prepareModel, root, writeModelChoice } from './prepare-model.js';

await writeModelChoice(modelsDir, await prepareModel());
process.env.HPD_DEMO_SAMPLE_INDEX = '1'; // vite.config.ts builds the sample corpus into a prebuilt index
const server = await createServer({ configFile: join(root, 'vite.config.ts') });
await server.listen();
server.printUrls();
