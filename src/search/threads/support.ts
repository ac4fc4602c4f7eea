// What an index keeps about its scan threads, loaded with the index (small); the pool and the threaded scan
// (index-threads.ts, threaded-search.ts) are imported only by the first async search that runs on threads.
import { InvalidInputError } from '../errors.js';
import type { RowStore } from '../row-store.js';
import type { Scanner } from '../scan.js';
import type { TopK, RowTieBreak } from '../topk.js';
import type { CosineIndexOptions, JsonValue, SearchHit } from '../types.js';

/** What an index reports about its scan threads (`CosineIndex.threads`). */
export interface SearchThreadsInfo {
  /** The `searchThreads` option (0: the default, min(hardwareConcurrency, 4)). */
  requested: number;
  /** Rows from which an async search uses the threads (`searchThreadsMinRows`; default: the rows filling 24 MiB). */
  minRows: number;
  /** Why scans run on one thread whatever the size (null: threads can run, or not yet tried). */
  unavailable: string | null;
  /** The path the last searchAsync/searchManyAsync took, with its thread count and, for 'single', why. */
  last: { path: 'threads' | 'single'; threads: number; reason: string | null } | null;
}

/** An index's thread state: its info, the async searches in flight (queued one after another) and the loaded runner. */
export interface ThreadState extends SearchThreadsInfo {
  inFlight: number;
  tail: Promise<unknown>;
  runner: unknown;
  /** The runner once made (so later searches skip awaiting it). */
  ready: unknown;
}

/** What the threaded runner needs of an index. */
export interface ThreadHost<M extends JsonValue> {
  /** The index (its threads end when it is collected). */
  index: object;
  rows: RowStore;
  tie: RowTieBreak;
  heap: TopK;
  count(): number;
  scanner(): Scanner;
  /** Picks the scanner again (after the rows moved into shared memory) and returns it. */
  rescan(): Scanner;
  hits(heap: TopK, kk: number, withMetadata: boolean): SearchHit[];
  /** Runs a sync search of the index from inside an async one (the in-flight rule would refuse it). */
  single<T>(fn: () => T): T;
  /** Unused marker for M. */
  meta?: M;
}

/**
 * Threads pay once a scan outlasts waking them (50 µs to over 1 ms on a shared 2-core VM): from about 24 MiB of
 * scanned codes there (`npm run bench -- search-threads`): 196,608 rows at dim 128. f32 rows scan their int8 shadow,
 * so the same number of bytes a row.
 */
const THREADS_MIN_BYTES = 24 << 20;

/** The default searchThreadsMinRows: the rows whose int8 codes (or f32 rows' int8 shadow) fill THREADS_MIN_BYTES. */
function defaultMinRows(options: CosineIndexOptions): number {
  return Math.ceil(THREADS_MIN_BYTES / options.dim);
}

/** Checks the options into a fresh state; a cheap test for shared memory here, the rest when threads first start. */
export function threadState(options: CosineIndexOptions, hasKernel: boolean): ThreadState {
  const { searchThreads: t = 0, searchThreadsMinRows: minRows = defaultMinRows(options) } = options;
  if (!Number.isInteger(t) || t < 0 || (t === 0 && options.searchThreads !== undefined))
    throw new InvalidInputError(`searchThreads must be an integer >= 1, got ${String(t)}.`);
  if (!Number.isInteger(minRows) || minRows < 0)
    throw new InvalidInputError(`searchThreadsMinRows must be an integer >= 0, got ${String(minRows)}.`);
  const g = globalThis as { crossOriginIsolated?: boolean };
  const unavailable =
    t === 1
      ? 'searchThreads is 1'
      : !hasKernel
        ? 'no wasm SIMD kernel'
        : typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false
          ? 'no shared memory (a page needs COOP/COEP headers)'
          : null;
  return {
    requested: t,
    minRows,
    unavailable,
    last: null,
    inFlight: 0,
    tail: Promise.resolve(),
    runner: null,
    ready: null,
  };
}
