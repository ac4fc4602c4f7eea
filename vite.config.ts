import { createReadStream, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

// The demo: served cross-origin isolated (COOP/COEP) so wasm can use threads.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const modelsDir = resolve(import.meta.dirname, 'models');

/** Serves compiled bundles from models/ at /models/ in dev and preview (a static deploy copies them beside the page). */
function serveModels(): Plugin {
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    const file = resolve(join(modelsDir, decodeURIComponent((req.url ?? '/').split('?')[0])));
    if (!file.startsWith(modelsDir + sep) || !/\.(json|onnx)$/.test(file)) return next();
    try {
      const st = statSync(file);
      res.writeHead(200, { ...isolation, 'Content-Type': extname(file) === '.json' ? 'application/json' : 'application/octet-stream', 'Content-Length': String(st.size) });
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

export default defineConfig({
  root: 'demo',
  publicDir: false,
  plugins: [serveModels()],
  server: { headers: isolation, host: '127.0.0.1', port: 5173 },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true },
});
