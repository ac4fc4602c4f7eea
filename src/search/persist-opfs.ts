// Origin Private File System persistence for CosineIndex snapshots. A save writes the snapshot to a new file first,
// then swaps a small pointer file to it (createWritable commits on close(), replacing the old pointer whole) and only
// then deletes older snapshots, so an interrupted save leaves the previous snapshot current and loadable.
import { CorruptIndexError, InvalidInputError, PersistError } from './errors.js';
import { isWellFormedString } from './json-value.js';
import type { SaveOptions, SnapshotInfo } from './persist-idb.js';
import type { IndexStore } from './index-store.js';

/** The folder in the origin's private file system that holds the snapshots. */
export const DEFAULT_OPFS_DIR = 'hpd-embed-indexes';

/** The parts of FileSystemFileHandle this store uses (lib.dom lacks the async iterators; tests pass an in-memory one). */
export interface OpfsFileHandle {
  getFile(): Promise<Blob>;
  createWritable(): Promise<{
    write(data: ArrayBuffer | string): Promise<void>;
    close(): Promise<void>;
    abort(reason?: unknown): Promise<void>;
  }>;
}

/** The parts of FileSystemDirectoryHandle this store uses. */
export interface OpfsDirectory {
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string): Promise<void>;
  keys(): AsyncIterable<string>;
}

const POINTER = '.current.json';
const SNAPSHOT = '.snap';

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidInputError(`index name must be a non-empty string, got ${String(name)}.`);
  // A lone surrogate has no file name (encodeURIComponent throws URIError), as it has no UTF-8 form for an id.
  if (!isWellFormedString(name))
    throw new InvalidInputError('index name contains a lone UTF-16 surrogate; names must be well-formed strings.');
}

/** The pointer a save wrote for `name`: anything else (edited, or from another version) is CorruptIndexError. */
function parsePointer(name: string, text: string): SnapshotInfo {
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (cause) {
    throw new CorruptIndexError(`OPFS pointer of "${name}" is not valid JSON; save the index again.`, { cause });
  }
  const p = info as Partial<SnapshotInfo> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    p.name !== name ||
    typeof p.snapshotId !== 'string' ||
    !/^[0-9a-z-]{1,64}$/.test(p.snapshotId) ||
    !Number.isSafeInteger(p.byteLength) ||
    (p.byteLength as number) < 0 ||
    !Number.isFinite(p.savedAt)
  )
    throw new CorruptIndexError(`OPFS pointer of "${name}" is not one a save writes; save the index again.`);
  return { name, snapshotId: p.snapshotId, byteLength: p.byteLength as number, savedAt: p.savedAt as number };
}

/** Any index name becomes a safe file name ('/' and other separators escaped). */
const fileBase = (name: string): string => encodeURIComponent(name).replace(/\./g, '%2E').replace(/~/g, '%7E');

let idCounter = 0;
function newSnapshotId(): string {
  idCounter = (idCounter + 1) % 0x100000;
  return `${Date.now().toString(36)}-${idCounter.toString(36)}-${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
}

function persistError(what: string, cause: unknown): PersistError {
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new PersistError(`OPFS ${what} failed (${detail}). Check the storage quota (navigator.storage.estimate()).`, {
    cause,
  });
}

const isNotFound = (e: unknown): boolean => (e as { name?: string } | null)?.name === 'NotFoundError';

/** Named CosineIndex snapshots as files in the origin private file system (OPFS). */
export class OpfsIndexStore implements IndexStore {
  readonly persistence = 'opfs';
  /** One save/delete at a time per name, so two saves cannot interleave their pointer swaps. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: OpfsDirectory) {}

  /** Opens (creating if needed) the store's folder; throws PersistError where OPFS is unavailable. */
  static async open(dirName: string = DEFAULT_OPFS_DIR): Promise<OpfsIndexStore> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (typeof storage?.getDirectory !== 'function')
      throw new PersistError('OPFS is not available here (navigator.storage.getDirectory is missing).');
    try {
      const root = await storage.getDirectory();
      return new OpfsIndexStore((await root.getDirectoryHandle(dirName, { create: true })) as unknown as OpfsDirectory);
    } catch (cause) {
      throw persistError(`open of "${dirName}"`, cause);
    }
  }

  /** Stores serialised index bytes as the current snapshot of `name`. */
  async saveBytes(name: string, bytes: ArrayBuffer, options: SaveOptions = {}): Promise<SnapshotInfo> {
    checkName(name);
    if (!(bytes instanceof ArrayBuffer))
      throw new InvalidInputError('saveBytes expects the ArrayBuffer returned by CosineIndex.serialize().');
    return this.locked(name, async () => {
      const info: SnapshotInfo = {
        name,
        snapshotId: newSnapshotId(),
        byteLength: bytes.byteLength,
        savedAt: Date.now(),
      };
      const base = fileBase(name);
      const snapFile = `${base}~${info.snapshotId}${SNAPSHOT}`;
      // Phase 1: the new snapshot in its own file; the pointer still names the previous one.
      try {
        await writeWhole(await this.dir.getFileHandle(snapFile, { create: true }), bytes);
      } catch (cause) {
        await this.dir.removeEntry(snapFile).catch(() => undefined);
        throw persistError(`write of snapshot "${name}"`, cause);
      }
      if (options.beforeCommit !== undefined) await options.beforeCommit();
      // Phase 2: swap the pointer (replaced whole when close() commits).
      try {
        await writeWhole(await this.dir.getFileHandle(base + POINTER, { create: true }), JSON.stringify(info));
      } catch (cause) {
        throw persistError(`commit of snapshot "${name}"`, cause);
      }
      // Phase 3: sweep the previous snapshot and any orphan of an interrupted save (best effort: a leftover is harmless).
      for (const file of await this.snapshotFiles(base))
        if (file !== snapFile) await this.dir.removeEntry(file).catch(() => undefined);
      return info;
    });
  }

  /** The current snapshot's bytes, or undefined when `name` was never saved. */
  async loadBytes(name: string): Promise<ArrayBuffer | undefined> {
    const info = await this.info(name);
    if (info === undefined) return undefined;
    let bytes: ArrayBuffer;
    try {
      bytes = await (
        await (await this.dir.getFileHandle(`${fileBase(name)}~${info.snapshotId}${SNAPSHOT}`)).getFile()
      ).arrayBuffer();
    } catch (cause) {
      if (isNotFound(cause))
        throw new CorruptIndexError(
          `OPFS points "${name}" at snapshot ${info.snapshotId}, which is missing; save the index again.`,
        );
      throw persistError(`read of "${name}"`, cause);
    }
    if (bytes.byteLength !== info.byteLength)
      throw new CorruptIndexError(
        `OPFS snapshot ${info.snapshotId} of "${name}" has ${bytes.byteLength} bytes, expected ${info.byteLength}; save the index again.`,
      );
    return bytes;
  }

  /** Describes the current snapshot of `name`, without reading its bytes. */
  async info(name: string): Promise<SnapshotInfo | undefined> {
    checkName(name);
    let text: string;
    try {
      text = await (await (await this.dir.getFileHandle(fileBase(name) + POINTER)).getFile()).text();
    } catch (cause) {
      if (isNotFound(cause)) return undefined;
      throw persistError(`read of "${name}"`, cause);
    }
    return parsePointer(name, text);
  }

  /** Names that have a current snapshot. */
  async names(): Promise<string[]> {
    const out: string[] = [];
    for await (const file of this.dir.keys()) {
      if (!file.endsWith(POINTER)) continue;
      let name: string;
      try {
        name = decodeURIComponent(file.slice(0, -POINTER.length));
      } catch {
        continue; // not a name this store encoded (a file put there by something else)
      }
      if (fileBase(name) + POINTER === file) out.push(name);
    }
    return out.sort();
  }

  /** Snapshot ids stored for `name`, current or orphaned (for diagnostics and tests). */
  async snapshotIds(name: string): Promise<string[]> {
    checkName(name);
    const base = fileBase(name);
    return (await this.snapshotFiles(base)).map((f) => f.slice(base.length + 1, -SNAPSHOT.length));
  }

  /** Deletes `name` and all its snapshots; returns whether it existed. */
  async delete(name: string): Promise<boolean> {
    checkName(name);
    return this.locked(name, async () => {
      const base = fileBase(name);
      let existed = true;
      try {
        await this.dir.removeEntry(base + POINTER);
      } catch (cause) {
        if (!isNotFound(cause)) throw persistError(`delete of "${name}"`, cause);
        existed = false;
      }
      for (const file of await this.snapshotFiles(base)) await this.dir.removeEntry(file).catch(() => undefined);
      return existed;
    });
  }

  private async snapshotFiles(base: string): Promise<string[]> {
    const out: string[] = [];
    for await (const file of this.dir.keys())
      if (file.startsWith(base + '~') && file.endsWith(SNAPSHOT)) out.push(file);
    return out;
  }

  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(name) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return run;
  }
}

/** Writes a file's whole content; nothing replaces the old content unless close() succeeds. */
async function writeWhole(handle: OpfsFileHandle, data: ArrayBuffer | string): Promise<void> {
  const w = await handle.createWritable();
  try {
    await w.write(data);
  } catch (e) {
    await w.abort(e).catch(() => undefined);
    throw e;
  }
  await w.close();
}
