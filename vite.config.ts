import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { hpdEmbed } from './src/vite/index.js';

// The demo: served cross-origin isolated (COOP/COEP) so wasm can use threads.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const modelsDir = resolve(import.meta.dirname, 'models');

/** Serves compiled bundles from models/ at /models/ in dev and preview (demo:build copies the chosen one into the build). */
function serveModels(): Plugin {
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    const file = resolve(join(modelsDir, decodeURIComponent((req.url ?? '/').split('?')[0])));
    if (!file.startsWith(modelsDir + sep) || !/\.(json|onnx)$/.test(file)) return next();
    try {
      const st = statSync(file);
      res.writeHead(200, {
        ...isolation,
        'Content-Type': extname(file) === '.json' ? 'application/json' : 'application/octet-stream',
        'Content-Length': String(st.size),
      });
      createReadStream(file).pipe(res);
    } catch {
      next();
    }
  };
  return {
    name: 'hpd-embed-models',
    configureServer: (server) => void server.middlewares.use('/models', handler),
    configurePreviewServer: (server) => void server.middlewares.use('/models', handler),
  };
}

/**
 * The sample corpus as a prebuilt index, built with the model `npm run demo` / `demo:build` chose (models/demo-model.json),
 * so the first search needs no indexing in the page. Without a chosen model the page embeds the sample itself.
 */
function sampleIndex(): Plugin {
  // Only `npm run demo` / `demo:build` ask for it (they set this); a plain `vite build` of the config (tests) does not.
  const choice = join(modelsDir, 'demo-model.json');
  const folder =
    process.env.HPD_DEMO_SAMPLE_INDEX === '1' && existsSync(choice)
      ? (JSON.parse(readFileSync(choice, 'utf8')) as { folder?: string }).folder
      : undefined;
  if (folder && existsSync(join(modelsDir, folder, 'hpd.json')))
    return hpdEmbed({ model: join(modelsDir, folder), indexes: { sample: { include: 'corpus/node-api-docs.jsonl' } } });
  const id = '\0virtual:hpd-embed';
  return {
    name: 'hpd-embed-no-sample-index',
    resolveId: (x) => (x === 'virtual:hpd-embed' ? id : undefined),
    load: (x) => (x === id ? 'export const indexes = {};\nexport const modelUrl = undefined;\n' : undefined),
  };
}

export default defineConfig({
  root: 'demo',
  // Relative asset URLs: the built folder works from any path on any static host.
  base: './',
  publicDir: false,
  plugins: [serveModels(), sampleIndex()],
  // The demo imports the package by name, as an app would; here the name points at the source.
  resolve: { alias: [{ find: /^hpd-embed$/, replacement: resolve(import.meta.dirname, 'src/index.ts') }] },
  // Scan the worker entry too, so its dependencies are pre-bundled up front and the first visit is not reloaded.
  optimizeDeps: { entries: ['index.html', resolve(import.meta.dirname, 'src/worker/worker.ts')] },
  server: { headers: isolation, host: '127.0.0.1', port: 5173 },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true },
});
