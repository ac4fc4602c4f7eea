import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import type { IndexStore } from '../search/index-store.js';
import { readFileIfExists, removeFile, writeFileAtomic } from './atomic-write.js';

/**
 * Saves named index snapshots as files through writeFileAtomic: saves of one name run one at a time, in call
 * order, and a load (even after a crash or kill mid-save) sees the previous snapshot or the new one, whole.
 */
export function folderIndexStore(dir: string): IndexStore {
  const path = (name: string) => {
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name) || name.startsWith('.'))
      throw new InvalidInputError(
        `index name "${String(name)}" cannot be a file name; use letters, digits, '.', '_' and '-'.`,
      );
    return join(dir, `${name}.hpdindex`);
  };
  return {
    persistence: 'folder',
    async saveBytes(name, bytes) {
      await writeFileAtomic(path(name), new Uint8Array(bytes));
    },
    async loadBytes(name) {
      const b = await readFileIfExists(path(name));
      return b === undefined ? undefined : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    },
    delete: async (name) => removeFile(path(name)),
  };
}
