import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HpdError, InvalidInputError } from '../errors.js';
import { fsError, syncDir, writeFileSynced } from './atomic-write.js';

/** The file that marks a folder as written by this tool: `--force` replaces a folder only when it holds one of its kind. */
export const OUTPUT_MARKER = '.hpd-embed-output';

/** What a folder holds: a compiled bundle (`convert`) or a checkpoint (`fixture`). */
type OutputKind = 'bundle' | 'checkpoint';

export interface WriteFolderOptions {
  /** Replace a non-empty folder this tool wrote earlier as the same `kind`. Default true; the CLI asks for --force. */
  replace?: boolean;
  /** Recorded in the marker, and required of a folder to be replaced (default 'bundle'). */
  kind?: OutputKind;
}

interface Marker {
  writtenBy: 'hpd-embed';
  kind: OutputKind;
}

const errnoCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

/** The marker's kind when `dir` holds a valid marker file (a regular file, not a link), else undefined. */
async function markerKind(dir: string): Promise<OutputKind | undefined> {
  const path = join(dir, OUTPUT_MARKER);
  const s = await lstat(path).catch(() => undefined);
  if (!s?.isFile() || s.size > 4096) return undefined;
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Partial<Marker> | null;
    return m?.writtenBy === 'hpd-embed' && (m.kind === 'bundle' || m.kind === 'checkpoint') ? m.kind : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws unless `dir` is absent, an empty folder, or (with `replace`) a folder this tool wrote as `kind` (its
 * marker file present). A symbolic link is never followed or replaced; a folder we did not write is never replaced.
 * OUTPUT_EXISTS for an occupied path, INVALID_INPUT for a path that cannot be a folder, PERSIST_FAILED otherwise.
 */
export async function checkOutputFolder(dir: string, opts: WriteFolderOptions = {}): Promise<void> {
  const kind = opts.kind ?? 'bundle';
  let s;
  try {
    s = await lstat(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    if (errnoCode(e) === 'ENOTDIR')
      throw new InvalidInputError(
        `${dir} cannot be a folder: a part of its parent path is a file. Choose another output folder.`,
        { cause: e },
      );
    throw fsError('checking', dir, e);
  }
  if (s.isSymbolicLink())
    throw new HpdError(
      'OUTPUT_EXISTS',
      `${dir} is a symbolic link; the output must be a real folder path (a link is never followed or replaced).`,
    );
  if (!s.isDirectory())
    throw new HpdError('OUTPUT_EXISTS', `${dir} exists and is not a folder; choose another output path.`);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw fsError('listing', dir, e);
  }
  if (entries.length === 0) return;
  const found = await markerKind(dir);
  if (found === undefined)
    throw new HpdError(
      'OUTPUT_EXISTS',
      `${dir} exists and is not a folder this tool wrote (no ${OUTPUT_MARKER}); choose another output folder or remove it yourself.`,
    );
  if (found !== kind)
    throw new HpdError(
      'OUTPUT_EXISTS',
      `${dir} holds a ${found} this tool wrote, not a ${kind}; choose another output folder.`,
    );
  if (opts.replace === false)
    throw new HpdError('OUTPUT_EXISTS', `${dir} already holds output of an earlier run; pass --force to replace it.`);
}

/**
 * Writes files (and the marker) into `dir` all-or-nothing: they go to a sibling temp folder that is renamed into place,
 * so a failure or a crash never leaves a half-written folder (each file and the folders are fsynced). An existing
 * folder is replaced only when checkOutputFolder allows it. Filesystem failures are PERSIST_FAILED, never raw errno errors.
 */
export async function writeFolderAtomic(
  dir: string,
  files: Map<string, Uint8Array>,
  opts: WriteFolderOptions = {},
): Promise<void> {
  await checkOutputFolder(dir, opts);
  const marker: Marker = { writtenBy: 'hpd-embed', kind: opts.kind ?? 'bundle' };
  const all = new Map(files).set(OUTPUT_MARKER, new TextEncoder().encode(`${JSON.stringify(marker)}\n`));
  const tag = randomUUID();
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  let step = 'creating';
  let at = dirname(dir);
  try {
    await mkdir(at, { recursive: true });
    const dirs = new Set<string>([tmp]);
    step = 'writing';
    for (const [path, bytes] of all) {
      at = join(tmp, path);
      dirs.add(dirname(at));
      await mkdir(dirname(at), { recursive: true });
      await writeFileSynced(at, bytes);
    }
    // The files' bytes and names are on disk before the rename publishes the folder: a crash never leaves truncated files.
    for (const d of dirs) await syncDir(d);
    step = 'publishing';
    at = dir;
    if (
      await lstat(dir).then(
        () => true,
        () => false,
      )
    ) {
      const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
    await syncDir(dirname(dir));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e instanceof HpdError ? e : fsError(step, at, e);
  }
}
