import { defineConfig } from 'vite';

// The demo: served cross-origin isolated (COOP/COEP) so wasm can use threads; models/ is its public folder.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: 'demo',
  publicDir: '../models',
  server: { headers: isolation, host: '127.0.0.1', port: 5173 },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true },
});
