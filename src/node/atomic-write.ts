// The one way src/node writes a file that must never be seen half-written: unique temp file in the same
// folder, fsync, rename over the target, fsync the folder. Readers see the old file or the whole new one,
// even if the process is killed at any instruction; concurrent writes of one path are serialised.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KeyedMutex } from '../keyed-mutex.js';
import { HpdError, PersistError } from '../search/errors.js';

const writes = new KeyedMutex();
/** A temp file untouched for this long belongs to a writer that was killed; the next write of its target removes it. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const TEMP_SUFFIX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** A filesystem failure as PersistError, naming what was done to which path and the errno code. */
export function fsError(what: string, file: string, cause: unknown): PersistError {
  const e = cause as NodeJS.ErrnoException;
  const detail = e?.code ? `${e.code}: ${e.message}` : String(cause);
  return new PersistError(
    `${what} ${file} failed (${detail}). Check that the folder exists, is writable and the disk is not full.`,
    { cause },
  );
}

/** fsync of the folder makes the rename itself durable; folders cannot be opened for sync on Windows, where it is skipped. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Not supported here (Windows: EPERM/EISDIR); the rename is still atomic, only its durability on power loss is weaker.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes a new file (`wx`: never an existing one) and fsyncs it, so a later rename publishes complete bytes. */
export async function writeFileSynced(
  file: string,
  data: Uint8Array | string | AsyncIterable<Uint8Array>,
): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
    else
      for await (const chunk of data)
        for (let at = 0; at < chunk.length;) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes temp files of `file` left behind by killed writers (best effort). */
async function sweepStaleTemps(file: string): Promise<void> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const n of names) {
    if (!n.startsWith(prefix) || !TEMP_SUFFIX.test(n.slice(prefix.length))) continue;
    const p = join(dir, n);
    const s = await stat(p).catch(() => undefined);
    if (s !== undefined && now - s.mtimeMs > STALE_TEMP_MS) await rm(p, { force: true }).catch(() => undefined);
  }
}

/**
 * Atomically replaces `file` with `data` (creating its folder; chunks of an async iterable are streamed, so a large
 * file need not be held). Throws PersistError (never a raw errno error), or the typed error an iterable threw;
 * on failure the previous content of `file` is untouched and no temp file is left.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void> {
  const target = resolve(file);
  return writes.run(target, async () => {
    const dir = dirname(target);
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await mkdir(dir, { recursive: true });
      await writeFileSynced(tmp, data);
      await rename(tmp, target);
    } catch (cause) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw cause instanceof HpdError ? cause : fsError('writing', target, cause);
    }
    await syncDir(dir);
    await sweepStaleTemps(target);
  });
}

/** Reads `file`; undefined when it does not exist, PersistError for any other failure. */
export async function readFileIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError('reading', file, cause);
  }
}

/**
 * Deletes `file`, in turn with writes of it (a delete never lands between a write's rename and its folder sync);
 * false when it did not exist, PersistError for any other failure (a folder in its place, a parent that is a file).
 */
export function removeFile(file: string): Promise<boolean> {
  const target = resolve(file);
  return writes.run(target, async () => {
    try {
      await unlink(target);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fsError('deleting', target, cause);
    }
    await syncDir(dirname(target));
    return true;
  });
}
