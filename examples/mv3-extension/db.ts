// The extension's own IndexedDB (extension origin): the capture queue and settings (service worker), page records
// (offscreen document). The passages' vectors are in the worker's index snapshot, saved by hpd-embed.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { PageRecord, QueuedPage } from './protocol.js';

interface HistoryDb extends DBSchema {
  queue: { key: string; value: QueuedPage; indexes: { seq: number; host: string } };
  pages: { key: string; value: PageRecord; indexes: { host: string } };
  settings: { key: string; value: boolean | number | string };
}

export type Db = IDBPDatabase<HistoryDb>;

let db: Promise<Db> | undefined;

/** Opens (and on first use creates) the database; a failed open is retried by the next call. */
export function historyDb(): Promise<Db> {
  db ??= openDB<HistoryDb>('hpd-history', 1, {
    upgrade(d) {
      const q = d.createObjectStore('queue', { keyPath: 'url' });
      q.createIndex('seq', 'seq');
      q.createIndex('host', 'host');
      d.createObjectStore('pages', { keyPath: 'url' }).createIndex('host', 'host');
      d.createObjectStore('settings');
    },
  }).catch((e: unknown) => {
    db = undefined;
    throw e;
  });
  return db;
}
