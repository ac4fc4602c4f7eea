import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Platform } from '../engine/engine.js';
import type { IndexStore } from '../worker/worker-api.js';
import { defaultCacheDir, folderCache } from './fs-cache.js';
import { folderIndexStore } from './fs-index-store.js';

export interface NodePlatformOptions {
  /** Model cache folder (default `$HPD_EMBED_CACHE` or `~/.cache/hpd-embed`). */
  cacheDir?: string;
  /** Where `index(name).save()` writes (default `<cacheDir>/indexes`). */
  indexDir?: string;
  /** wasm threads (default: all cores, at most 4). */
  threads?: number;
}

/** Node: onnxruntime-web's wasm build (its Node entry), the filesystem for caches, global fetch, no WebGPU. */
export async function nodePlatform(o: NodePlatformOptions = {}): Promise<{ platform: Platform; store: IndexStore }> {
  const ort = await import('onnxruntime-web');
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  return {
    platform: {
      ort,
      cache: folderCache(cacheDir),
      fetch: (url, init) => (url.startsWith('file:') ? fileResponse(url) : fetch(url, init)),
      gpu: {},
      wasmThreads: o.threads ?? Math.min(4, availableParallelism()),
      baseUrl: pathToFileURL(`${process.cwd()}/`).href,
    },
    store: folderIndexStore(o.indexDir ?? join(cacheDir, 'indexes')),
  };
}

/** Node's fetch has no file: scheme; local bundle folders load through this (404 when missing). */
async function fileResponse(url: string): Promise<Response> {
  try {
    const bytes = await readFile(fileURLToPath(url));
    return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.byteLength) } });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return new Response(null, { status: code === 'ENOENT' || code === 'EISDIR' ? 404 : 500, statusText: code ?? '' });
  }
}
