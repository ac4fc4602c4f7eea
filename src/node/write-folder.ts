import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HpdError } from '../errors.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

/**
 * Writes files into `dir` all-or-nothing: they go to a sibling temp folder that is renamed into place,
 * so a failure never leaves a half-written folder. An existing folder is replaced only when it is empty
 * or a previous bundle/checkpoint of ours (`marker` present); anything else is left alone.
 */
export async function writeFolderAtomic(dir: string, files: Map<string, Uint8Array>, marker = MANIFEST_FILE): Promise<void> {
  if (await exists(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(marker)) {
      throw new HpdError('OUTPUT_EXISTS', `${dir} exists and is not a folder this tool wrote (no ${marker}); choose another --out or remove it.`);
    }
  }
  await mkdir(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  try {
    for (const [path, bytes] of files) {
      await mkdir(dirname(join(tmp, path)), { recursive: true });
      await writeFile(join(tmp, path), bytes);
    }
    if (await exists(dir)) {
      const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
