import { readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseJsonBytes } from '../bundle/json.js';
import type { CacheEntry, ModelCache } from '../model/cache.js';
import { writeFileAtomic } from './atomic-write.js';

/** `$HPD_EMBED_CACHE`, else `~/.cache/hpd-embed`. */
export function defaultCacheDir(): string {
  return process.env.HPD_EMBED_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hpd-embed');
}

/** ModelCache on the filesystem: one blob per key (named by the key's sha256) plus a small JSON sidecar. */
export function folderCache(dir = defaultCacheDir()): ModelCache {
  const name = (key: string) => createHash('sha256').update(key).digest('hex');
  return {
    async get(key) {
      try {
        const b = await readFile(join(dir, `${name(key)}.bin`));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch {
        return undefined;
      }
    },
    async put(key, bytes) {
      const base = join(dir, name(key));
      // Each write is atomic and serialised per file, so two puts of one key both succeed; the blob goes first, so a sidecar never names a missing blob.
      await writeFileAtomic(`${base}.bin`, bytes);
      await writeFileAtomic(`${base}.json`, JSON.stringify({ key, bytes: bytes.byteLength }));
    },
    async list() {
      const out: CacheEntry[] = [];
      for (const f of await readdir(dir).catch(() => [] as string[])) {
        if (!f.endsWith('.json')) continue;
        try {
          const e = parseJsonBytes<Partial<CacheEntry> | null>(
            await readFile(join(dir, f)),
            join(dir, f),
            'MODEL_INVALID',
          );
          if (typeof e?.key === 'string' && Number.isSafeInteger(e.bytes)) out.push({ key: e.key, bytes: e.bytes! });
        } catch {
          // Unreadable or damaged sidecar (or not ours): it is no entry; its blob is still found by get().
        }
      }
      return out;
    },
    async clear(prefix) {
      let n = 0;
      for (const e of await this.list()) {
        if (prefix !== undefined && !e.key.startsWith(prefix)) continue;
        const base = join(dir, name(e.key));
        await rm(`${base}.bin`, { force: true });
        await rm(`${base}.json`, { force: true });
        n++;
      }
      return n;
    },
  };
}
