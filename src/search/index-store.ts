// The one contract for where named index snapshots are saved: the OPFS, IndexedDB and Node folder stores implement it,
// and the worker saves, loads and deletes through it.

/** What backs an index store: 'opfs' or 'indexeddb' in browsers, 'folder' in Node, 'custom' for a store of your own. */
export type IndexPersistence = 'opfs' | 'indexeddb' | 'folder' | 'custom';

/** Where named index snapshots are saved. A failed save keeps the previous snapshot. */
export interface IndexStore {
  saveBytes(name: string, bytes: ArrayBuffer): Promise<unknown>;
  /** The saved snapshot of `name`, or undefined when there is none. */
  loadBytes(name: string): Promise<ArrayBuffer | undefined>;
  /** Deletes a saved snapshot; true if one existed. A store without it cannot delete (deleteSaved() is PERSIST_FAILED). */
  delete?(name: string): Promise<boolean>;
  /** What backs it, for display; omitted means 'custom'. */
  readonly persistence?: IndexPersistence;
}
