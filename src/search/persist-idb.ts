// IndexedDB persistence for CosineIndex. A save writes the snapshot under a fresh key first and only then,
// in one transaction, flips the name's `current` pointer and deletes the snapshot it replaced, so a save that is
// interrupted anywhere leaves the previous snapshot current and loadable. Saves of one name are serialised
// (Web Locks across tabs and workers where available), so overlapping saves cannot delete each other's snapshot.
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import { KeyedMutex } from '../keyed-mutex.js';
import { CosineIndex } from './cosine-index.js';
import { CorruptIndexError, InvalidInputError, PersistError } from './errors.js';
import type { JsonValue } from './types.js';
import type { IndexStore } from './index-store.js';

/** Default IndexedDB database name. */
export const DEFAULT_INDEX_DB = 'hpd-embed-search';
const DB_VERSION = 1;

/** What `current` points at. */
export interface SnapshotInfo {
  name: string;
  snapshotId: string;
  byteLength: number;
  /** Milliseconds since the epoch. */
  savedAt: number;
}

interface SnapshotRecord extends SnapshotInfo {
  bytes: ArrayBuffer;
}

interface IndexDb extends DBSchema {
  snapshots: { key: [string, string]; value: SnapshotRecord };
  current: { key: string; value: SnapshotInfo };
}

/** Options for `save`. */
export interface SaveOptions {
  /**
   * Runs after the snapshot is durably written and before the pointer flips. For tests and diagnostics:
   * if it throws (or never settles), the previous snapshot stays current.
   * @internal a test hook: stripped from the published types (stripInternal).
   */
  beforeCommit?: () => void | Promise<void>;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidInputError(`index name must be a non-empty string, got ${String(name)}.`);
}

let idCounter = 0;
/** Time-ordered and unique within the origin with overwhelming probability; no crypto needed for a storage key. */
function newSnapshotId(): string {
  idCounter = (idCounter + 1) % 0x100000;
  return `${Date.now().toString(36)}-${idCounter.toString(36)}-${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
}

/** The Web Locks API, where the platform has it (every current browser, in windows and workers). */
interface NameLocks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}
const webLocks = (): NameLocks | undefined => (globalThis as { navigator?: { locks?: NameLocks } }).navigator?.locks;
const localLocks = new KeyedMutex();

/**
 * Runs `task` holding the save lock of `name`. `crossContext` tells the task whether the lock also excludes other
 * tabs and workers (Web Locks) or only this JS realm (fallback), which decides whether orphans may be swept.
 */
function withSaveLock<T>(dbName: string, name: string, task: (crossContext: boolean) => Promise<T>): Promise<T> {
  const key = `hpd-embed/idb/${dbName}/${name}`;
  const locks = webLocks();
  return locks !== undefined ? locks.request(key, () => task(true)) : localLocks.run(key, () => task(false));
}

function persistError(what: string, cause: unknown): PersistError {
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new PersistError(
    `IndexedDB ${what} failed (${detail}). Check storage quota and that IndexedDB is available (not a private window that disables it).`,
    { cause },
  );
}

/** Named CosineIndex snapshots in one IndexedDB database. */
export class IdbIndexStore implements IndexStore {
  readonly persistence = 'indexeddb';
  private constructor(private readonly db: IDBPDatabase<IndexDb>) {}

  /** Opens (creating if needed) the database. */
  static async open(dbName: string = DEFAULT_INDEX_DB): Promise<IdbIndexStore> {
    try {
      const db = await openDB<IndexDb>(dbName, DB_VERSION, {
        upgrade(database) {
          if (!database.objectStoreNames.contains('snapshots')) database.createObjectStore('snapshots');
          if (!database.objectStoreNames.contains('current')) database.createObjectStore('current');
        },
      });
      return new IdbIndexStore(db);
    } catch (cause) {
      throw persistError(`open of "${dbName}"`, cause);
    }
  }

  /** Serialises `index` and makes it the current snapshot of `name`. */
  async save<M extends JsonValue>(
    name: string,
    index: CosineIndex<M>,
    options: SaveOptions = {},
  ): Promise<SnapshotInfo> {
    checkName(name);
    return this.saveBytes(name, index.serialize(), options);
  }

  /** Stores already-serialised bytes (e.g. from a worker) as the current snapshot of `name`. */
  async saveBytes(name: string, bytes: ArrayBuffer, options: SaveOptions = {}): Promise<SnapshotInfo> {
    checkName(name);
    if (!(bytes instanceof ArrayBuffer))
      throw new InvalidInputError('saveBytes expects the ArrayBuffer returned by CosineIndex.serialize().');
    return withSaveLock(this.db.name, name, (crossContext) => this.saveLocked(name, bytes, options, crossContext));
  }

  private async saveLocked(
    name: string,
    bytes: ArrayBuffer,
    options: SaveOptions,
    crossContext: boolean,
  ): Promise<SnapshotInfo> {
    const info: SnapshotInfo = { name, snapshotId: newSnapshotId(), byteLength: bytes.byteLength, savedAt: Date.now() };
    // Phase 1: the new snapshot under its own key; `current` is untouched.
    try {
      const tx = this.db.transaction('snapshots', 'readwrite');
      await Promise.all([tx.store.put({ ...info, bytes }, [name, info.snapshotId]), tx.done]);
    } catch (cause) {
      throw persistError(`write of snapshot "${name}"`, cause);
    }
    if (options.beforeCommit !== undefined) await options.beforeCommit();
    // Phase 2, one transaction: flip the pointer and delete the snapshot it replaces. Other snapshots of this name
    // are orphans of killed saves only when the lock excludes every other context; otherwise one may be a save in flight.
    let lost = false;
    try {
      const tx = this.db.transaction(['current', 'snapshots'], 'readwrite');
      const snapshots = tx.objectStore('snapshots');
      const current = tx.objectStore('current');
      const work = (async () => {
        // Our snapshot can only be gone if something outside this store's locking deleted it: never point at a missing one.
        if ((await snapshots.getKey([name, info.snapshotId])) === undefined) {
          lost = true;
          return;
        }
        const previous = await current.get(name);
        await current.put(info, name);
        if (previous !== undefined && previous.snapshotId !== info.snapshotId)
          await snapshots.delete([name, previous.snapshotId]);
        if (crossContext) {
          const keys = await snapshots.getAllKeys(IDBKeyRange.bound([name, ''], [name, '\uffff']));
          for (const key of keys) if (key[1] !== info.snapshotId) await snapshots.delete(key);
        }
      })();
      await Promise.all([work, tx.done]);
    } catch (cause) {
      throw persistError(`commit of snapshot "${name}"`, cause);
    }
    if (lost)
      throw new PersistError(
        `snapshot of "${name}" was deleted (by delete() from another tab or worker?) before it became current; the previous snapshot is still current. Save again.`,
      );
    return info;
  }

  /** The current snapshot's bytes, or undefined when `name` was never saved. */
  async loadBytes(name: string): Promise<ArrayBuffer | undefined> {
    checkName(name);
    let record: SnapshotRecord | undefined;
    let pointer: SnapshotInfo | undefined;
    try {
      // One read transaction: a concurrent commit cannot delete the snapshot between the two reads.
      const tx = this.db.transaction(['current', 'snapshots'], 'readonly');
      pointer = await tx.objectStore('current').get(name);
      if (pointer !== undefined) record = await tx.objectStore('snapshots').get([name, pointer.snapshotId]);
      await tx.done;
    } catch (cause) {
      throw persistError(`read of "${name}"`, cause);
    }
    if (pointer === undefined) return undefined;
    if (record === undefined)
      throw new CorruptIndexError(
        `IndexedDB points "${name}" at snapshot ${pointer.snapshotId}, which is missing; save the index again.`,
      );
    return record.bytes;
  }

  /** The current snapshot as a CosineIndex, or undefined when `name` was never saved. */
  async load<M extends JsonValue = JsonValue>(name: string): Promise<CosineIndex<M> | undefined> {
    const bytes = await this.loadBytes(name);
    return bytes === undefined ? undefined : CosineIndex.deserialize<M>(bytes);
  }

  /** Describes the current snapshot of `name`, without reading its bytes. */
  async info(name: string): Promise<SnapshotInfo | undefined> {
    checkName(name);
    try {
      return await this.db.get('current', name);
    } catch (cause) {
      throw persistError(`read of "${name}"`, cause);
    }
  }

  /** Names that have a current snapshot. */
  async names(): Promise<string[]> {
    try {
      return await this.db.getAllKeys('current');
    } catch (cause) {
      throw persistError('listing of saved indexes', cause);
    }
  }

  /** Snapshot ids stored for `name`, current or orphaned (for diagnostics and tests). */
  async snapshotIds(name: string): Promise<string[]> {
    checkName(name);
    try {
      const keys = await this.db.getAllKeys('snapshots', IDBKeyRange.bound([name, ''], [name, '\uffff']));
      return keys.map((k) => k[1]);
    } catch (cause) {
      throw persistError(`listing of snapshots of "${name}"`, cause);
    }
  }

  /** Deletes `name` and all its snapshots; returns whether it existed. */
  async delete(name: string): Promise<boolean> {
    checkName(name);
    return withSaveLock(this.db.name, name, () => this.deleteLocked(name));
  }

  private async deleteLocked(name: string): Promise<boolean> {
    try {
      const tx = this.db.transaction(['current', 'snapshots'], 'readwrite');
      const work = (async () => {
        const existed = (await tx.objectStore('current').get(name)) !== undefined;
        await tx.objectStore('current').delete(name);
        await tx.objectStore('snapshots').delete(IDBKeyRange.bound([name, ''], [name, '\uffff']));
        return existed;
      })();
      const [existed] = await Promise.all([work, tx.done]);
      return existed;
    } catch (cause) {
      throw persistError(`delete of "${name}"`, cause);
    }
  }

  /** Closes the connection; pending transactions finish first. */
  close(): void {
    this.db.close();
  }
}
