// Browser entry point: the shared public names (src/public.ts) and the browser's own; re-exports only.
export * from './public.js';
export { createEmbedder, type BrowserEmbedderOptions } from './api/create-embedder.js';
export { IdbIndexStore, OpfsIndexStore } from './search/index.js';
