import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Platform } from '../engine/engine.js';
import type { Ort } from '../engine/ort-types.js';
import { HpdError } from '../errors.js';
import type { IndexStore } from '../search/index-store.js';
import { defaultCacheDir, folderCache } from './fs-cache.js';
import { folderIndexStore } from './fs-index-store.js';

/**
 * The one command that adds the native CPU runtime: --ignore-scripts skips its postinstall's optional CUDA download from
 * NuGet (the CPU binary ships in the package); npm 10 and 11 both know it (npm 11 warns about --onnxruntime-node-install).
 */
export const NATIVE_INSTALL = 'npm install onnxruntime-node@1.30.0 --ignore-scripts';

export interface NodePlatformOptions {
  /** Model cache folder (default `$HPD_EMBED_CACHE` or `~/.cache/hpd-embed`). */
  cacheDir?: string;
  /** Where `index(name).save()` writes (default `<cacheDir>/indexes`). */
  indexDir?: string;
  /** CPU threads (default: all cores, at most 4). */
  threads?: number;
  /**
   * CPU runtime under device 'auto': 'onnxruntime-node' (native: 0.20× wasm's time in `npm run bench -- embed`; an optional peer dependency:
   * `${NATIVE_INSTALL}`), 'wasm' (onnxruntime-web), or 'auto' (default: native when installed).
   */
  backend?: 'auto' | 'onnxruntime-node' | 'wasm';
}

/** Node: onnxruntime-web's wasm build (its Node entry), the filesystem for caches, global fetch, no WebGPU. */
export async function nodePlatform(o: NodePlatformOptions = {}): Promise<{ platform: Platform; store: IndexStore }> {
  const ort = await import('onnxruntime-web');
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const native = o.backend === 'wasm' ? undefined : await loadNative(o.backend === 'onnxruntime-node');
  return {
    platform: {
      ort,
      cache: folderCache(cacheDir),
      fetch: (url, init) => (url.startsWith('file:') ? fileResponse(url) : fetch(url, init)),
      gpu: {},
      wasmThreads: o.threads ?? Math.min(4, availableParallelism()),
      ...(native?.ort ? { nativeCpu: native.ort } : {}),
      ...(native?.missing ? { nativeCpuMissing: native.missing } : {}),
    },
    store: folderIndexStore(o.indexDir ?? join(cacheDir, 'indexes')),
  };
}

/**
 * Node's fetch has no file: scheme; local bundle folders load through this (404 when missing).
 * Only regular files are read, and no more than their size at open: a device (/dev/zero) or a file growing meanwhile cannot grow memory.
 */
export async function fileResponse(url: string): Promise<Response> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const path = fileURLToPath(url);
    // Checked before opening too: opening a FIFO would block until someone writes to it.
    if (!(await stat(path)).isFile()) return new Response(null, { status: 404, statusText: 'not a regular file' });
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile()) return new Response(null, { status: 404, statusText: 'not a regular file' });
    const bytes = new Uint8Array(info.size);
    let got = 0;
    while (got < bytes.byteLength) {
      const { bytesRead } = await handle.read(bytes, got, bytes.byteLength - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const body = got === bytes.byteLength ? bytes : bytes.slice(0, got);
    return new Response(body, { status: 200, headers: { 'content-length': String(body.byteLength) } });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return new Response(null, {
      status: code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? 404 : 500,
      statusText: code ?? '',
    });
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

// A variable specifier: neither tsc nor a bundler resolves the optional peer at build time.
const NATIVE_PACKAGE: string = 'onnxruntime-node';

/** Whether onnxruntime-node resolves from here (resolution only: nothing is loaded). */
export function nativeRuntimeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(NATIVE_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/** onnxruntime-node when it is installed, else why not; `required` turns its absence into DEVICE_UNAVAILABLE. */
async function loadNative(required: boolean): Promise<{ ort?: Ort; missing?: string }> {
  try {
    return { ort: (await import(NATIVE_PACKAGE)) as Ort };
  } catch (e) {
    const notInstalled = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    const why = notInstalled
      ? 'onnxruntime-node is not installed'
      : `onnxruntime-node failed to load (${(e as Error).message})`;
    if (required)
      throw new HpdError(
        'DEVICE_UNAVAILABLE',
        `backend 'onnxruntime-node' was requested but ${why}. Install it: ${NATIVE_INSTALL}`,
        { cause: e },
      );
    return {
      missing: `${why}, so the CPU path runs on wasm (the native runtime is several times faster): ${NATIVE_INSTALL}`,
    };
  }
}
