import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HpdError } from '../errors.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { syncDir, writeFileSynced } from './atomic-write.js';

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export interface WriteFolderOptions {
  /** Replace a non-empty folder this tool wrote earlier (`marker` present). Default true; the CLI asks for --force. */
  replace?: boolean;
}

/**
 * Throws OUTPUT_EXISTS unless `dir` is absent, empty, or (with `replace`) a folder of ours (`marker` present).
 * A folder we did not write is never replaced, with or without `replace`.
 */
export async function checkOutputFolder(
  dir: string,
  marker = MANIFEST_FILE,
  opts: WriteFolderOptions = {},
): Promise<void> {
  if (!(await exists(dir))) return;
  const entries = await readdir(dir).catch(() => {
    throw new HpdError('OUTPUT_EXISTS', `${dir} exists and is not a folder; choose another output path.`);
  });
  if (entries.length === 0) return;
  if (!entries.includes(marker)) {
    throw new HpdError(
      'OUTPUT_EXISTS',
      `${dir} exists and is not a folder this tool wrote (no ${marker}); choose another output folder or remove it.`,
    );
  }
  if (opts.replace === false) {
    throw new HpdError(
      'OUTPUT_EXISTS',
      `${dir} already holds output of an earlier run (${marker}); pass --force to replace it.`,
    );
  }
}

/**
 * Writes files into `dir` all-or-nothing: they go to a sibling temp folder that is renamed into place,
 * so a failure or a crash never leaves a half-written folder (each file and the folders are fsynced). An existing folder is replaced only when it is empty
 * or (unless `replace: false`) a previous bundle/checkpoint of ours (`marker` present); anything else is left alone.
 */
export async function writeFolderAtomic(
  dir: string,
  files: Map<string, Uint8Array>,
  marker = MANIFEST_FILE,
  opts: WriteFolderOptions = {},
): Promise<void> {
  await checkOutputFolder(dir, marker, opts);
  await mkdir(dirname(dir), { recursive: true });
  const tag = randomUUID();
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  try {
    const dirs = new Set<string>([tmp]);
    for (const [path, bytes] of files) {
      dirs.add(dirname(join(tmp, path)));
      await mkdir(dirname(join(tmp, path)), { recursive: true });
      await writeFileSynced(join(tmp, path), bytes);
    }
    // The files' bytes and names are on disk before the rename publishes the folder: a crash never leaves truncated files.
    for (const d of dirs) await syncDir(d);
    if (await exists(dir)) {
      const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
    await syncDir(dirname(dir));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
