import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HpdError } from '../errors.js';
import type { IndexStore } from '../worker/worker-api.js';

/** Saves named index snapshots as files; a save writes a temp file and renames it, so the previous snapshot survives any failure. */
export function folderIndexStore(dir: string): IndexStore {
  const path = (name: string) => {
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new HpdError('INVALID_INPUT', `index name "${name}" cannot be a file name; use letters, digits, '.', '_' and '-'.`);
    return join(dir, `${name}.hpdindex`);
  };
  return {
    kind: 'folder',
    async saveBytes(name, bytes) {
      const file = path(name);
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, new Uint8Array(bytes));
      await rename(tmp, file);
    },
    async loadBytes(name) {
      try {
        const b = await readFile(path(name));
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async delete(name) {
      try {
        await unlink(path(name));
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
    },
  };
}
