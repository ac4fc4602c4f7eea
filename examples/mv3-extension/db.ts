// The extension's own IndexedDB (extension origin): the capture queue and settings (service worker), page records
// (offscreen document), and the quota (settings keys named as Quota's fields; DevTools: `await hpd.setQuota({…})`).
// The passages' vectors are in the worker's index snapshot, saved by hpd-embed.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { DEFAULT_QUOTA, sanitizeQuota, type Quota } from './limits.js';
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

const QUOTA_KEYS = Object.keys(DEFAULT_QUOTA) as (keyof Quota)[];

/** The quota in force: stored settings over the defaults (limits.ts), each field sanitised. */
export async function readQuota(): Promise<Quota> {
  const d = await historyDb();
  const stored = await Promise.all(QUOTA_KEYS.map((k) => d.get('settings', k)));
  return sanitizeQuota(Object.fromEntries(QUOTA_KEYS.map((k, i) => [k, stored[i]])));
}

/** Stores quota fields (the others keep their value); `null` restores a field's default. */
export async function writeQuota(quota: Partial<Record<keyof Quota, number | null>>): Promise<Quota> {
  const tx = (await historyDb()).transaction('settings', 'readwrite');
  for (const k of QUOTA_KEYS) {
    const v = quota[k];
    if (v === null) await tx.store.delete(k);
    else if (v !== undefined) await tx.store.put(sanitizeQuota({ [k]: v })[k], k);
  }
  await tx.done;
  return readQuota();
}
