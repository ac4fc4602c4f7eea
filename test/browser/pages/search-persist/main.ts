// Test page for test/browser/search-persist.test.ts: drives CosineIndex + IdbIndexStore from window.searchPersist.
import { CosineIndex, IdbIndexStore } from '../../../../src/search/index.js';
import { crc32 } from '../../../../src/search/crc32.js';
import type { StorageKind } from '../../../../src/search/index.js';
import { seededRandom } from '../../../../src/seeded-random.js';

const DIM = 128;
const DB = 'hpd-search-persist-test';

/** What the Node side compares: the bytes' checksum and the results of fixed queries. */
export interface Fingerprint {
  size: number;
  storage: StorageKind;
  byteLength: number;
  crc: number;
  results: { id: string; score: number }[][];
}

export type SaveMode = 'ok' | 'throw-before-commit' | 'hang-before-commit';

export interface SearchPersistApi {
  build(seed: number, n: number, storage: StorageKind): Fingerprint;
  save(name: string, mode: SaveMode): Promise<{ ok: boolean; code?: string; message?: string }>;
  /** Starts a save without waiting; `saveState()` tells how far it got. */
  startSave(name: string): void;
  saveState(): string;
  load(name: string): Promise<Fingerprint | null>;
  snapshotIds(name: string): Promise<string[]>;
  reachedCommit(): boolean;
  /**
   * `n` interleaved mutations of the current index and unawaited saves of it (through `stores` store instances, used
   * in turn); returns the rejected saves' messages and the fingerprint of the last save's index.
   */
  concurrent(
    name: string,
    n: number,
    stores: number,
    seed: number,
    hideWebLocks?: boolean,
  ): Promise<{ rejected: string[]; last: Fingerprint; webLocks: boolean }>;
}

/** Centred uniform values in [-0.5, 0.5). */
function rng(seed: number): () => number {
  const r = seededRandom(seed);
  return () => r() - 0.5;
}

const queries = new Float32Array(5 * DIM).map(rng(999));
let current: CosineIndex | null = null;
let reached = false;
let state = 'idle';

function fingerprint(index: CosineIndex): Fingerprint {
  const bytes = new Uint8Array(index.serialize());
  return {
    size: index.size,
    storage: index.storage,
    byteLength: bytes.length,
    // Excluding the stored checksum: the CRC of data followed by its own CRC is a constant.
    crc: crc32(bytes.subarray(0, bytes.length - 4)),
    results: index.searchMany(queries, 10),
  };
}

function need(): CosineIndex {
  if (current === null) throw new Error('call build() first');
  return current;
}

const api: SearchPersistApi = {
  build(seed, n, storage) {
    const r = rng(seed);
    const index = new CosineIndex({ dim: DIM, storage });
    const ids = Array.from({ length: n }, (_, i) => `s${seed}-${i}`);
    index.addVectors(
      ids,
      new Float32Array(n * DIM).map(r),
      ids.map((id, i) => (i % 2 ? { id, seed } : undefined)),
    );
    current = index;
    return fingerprint(index);
  },
  async save(name, mode) {
    reached = false;
    const store = await IdbIndexStore.open(DB);
    try {
      await store.save(name, need(), {
        beforeCommit: () => {
          reached = true;
          if (mode === 'throw-before-commit')
            throw new Error('injected failure between snapshot write and pointer flip');
          // Never settles: the test reloads the page while the save is parked here.
          if (mode === 'hang-before-commit') return new Promise<void>(() => undefined);
        },
      });
      return { ok: true };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { ok: false, code: err.code, message: err.message };
    } finally {
      store.close();
    }
  },
  startSave(name) {
    state = 'started';
    void (async () => {
      const store = await IdbIndexStore.open(DB);
      await store.save(name, need(), { beforeCommit: () => void (state = 'snapshot-written') });
      state = 'committed';
      store.close();
    })();
  },
  saveState: () => state,
  async load(name) {
    const store = await IdbIndexStore.open(DB);
    try {
      const index = await store.load(name);
      return index === undefined ? null : fingerprint(index);
    } finally {
      store.close();
    }
  },
  async snapshotIds(name) {
    const store = await IdbIndexStore.open(DB);
    try {
      return await store.snapshotIds(name);
    } finally {
      store.close();
    }
  },
  reachedCommit: () => reached,
  async concurrent(name, n, stores, seed, hideWebLocks = false) {
    const index = need();
    // Browsers without Web Locks: the store falls back to its in-page lock.
    const restore = hideWebLocks ? Object.getOwnPropertyDescriptor(Navigator.prototype, 'locks') : undefined;
    if (restore !== undefined)
      Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: () => undefined });
    const webLocks = typeof (navigator as { locks?: { request?: unknown } }).locks?.request === 'function';
    const r = rng(seed);
    const opened = await Promise.all(Array.from({ length: stores }, () => IdbIndexStore.open(DB)));
    const saves: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) index.addVectors([`c${seed}-${i}`], new Float32Array(DIM).map(r), [{ i }]);
      else if (i % 3 === 1) index.remove([index.ids()[0]]);
      else index.upsertVectors([index.ids()[1]], new Float32Array(DIM).map(r), [{ up: i }]);
      saves.push(opened[i % stores].save(name, index));
    }
    const last = fingerprint(index);
    const outcomes = await Promise.allSettled(saves);
    if (restore !== undefined) Object.defineProperty(Navigator.prototype, 'locks', restore);
    for (const s of opened) s.close();
    return {
      rejected: outcomes.flatMap((o) => (o.status === 'rejected' ? [String((o.reason as Error).message)] : [])),
      last,
      webLocks,
    };
  },
};

declare global {
  interface Window {
    searchPersist: SearchPersistApi;
  }
}

window.searchPersist = api;
const status = document.getElementById('status');
if (status !== null) status.textContent = 'ready';
