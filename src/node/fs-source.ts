import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSource } from '../bundle/source.js';
import { ConvertError } from '../errors.js';

/** A FileSource over a folder on disk. */
export function folderSource(dir: string): FileSource {
  return {
    label: dir,
    async read(path) {
      try {
        const b = await readFile(join(dir, path));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Missing, or a folder / a file where the path needs a folder: the file is not there.
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw new ConvertError('CHECKPOINT_INVALID', `cannot read ${join(dir, path)}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    },
  };
}
