import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSource } from '../bundle/source.js';

/** A FileSource over a folder on disk. */
export function folderSource(dir: string): FileSource {
  return {
    label: dir,
    async read(path) {
      try {
        const b = await readFile(join(dir, path));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR')
          return undefined;
        throw e;
      }
    },
  };
}
