// Whether scan threads can run here, and how many: loaded with the index (small), while the pool and the threaded
// scan (threaded-search.ts) are imported only on the first search that uses them.
import { InvalidInputError } from '../errors.js';

/** Below this many rows a scan stays on one thread: handing slices to threads costs more than it saves. */
export const DEFAULT_THREADED_MIN_ROWS = 20_000;
/** The default thread count's cap (with the hardware's own count). */
export const DEFAULT_MAX_THREADS = 4;

/** What an index reports about its scan threads (`CosineIndex.threads`). */
export interface SearchThreadsInfo {
  /** Threads asked for: the `searchThreads` option, or the default min(hardwareConcurrency, 4) (0 until known in Node 20). */
  requested: number;
  /** Rows from which an async search uses the threads (`searchThreadsMinRows`). */
  minRows: number;
  /** Why scans run on one thread whatever the size (null: threads can run). */
  unavailable: string | null;
  /** The path the last searchAsync/searchManyAsync took, with its thread count and, for 'single', why. */
  last: { path: 'threads' | 'single'; threads: number; reason: string | null } | null;
}

/** Null where this context can share memory with worker threads, else why not. */
export function sharedMemoryUnavailable(): string | null {
  const g = globalThis as {
    crossOriginIsolated?: boolean;
    Worker?: unknown;
    process?: { versions?: { node?: string } };
  };
  if (typeof SharedArrayBuffer !== 'function')
    return 'no SharedArrayBuffer here (a page needs cross-origin isolation: COOP/COEP headers)';
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (serve it with COOP/COEP headers)';
  if (typeof WebAssembly !== 'object') return 'no WebAssembly';
  if (g.process?.versions?.node === undefined && typeof g.Worker !== 'function') return 'no Worker in this context';
  return null;
}

/** navigator.hardwareConcurrency where the runtime has it (browsers, Node >= 21), else null. */
export function hardwareConcurrency(): number | null {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : null;
}

/** Checks the options; returns the requested count (0: default) and the min rows. */
export function checkThreadOptions(threads: unknown, minRows: unknown): { threads: number; minRows: number } {
  if (threads !== undefined && !(Number.isInteger(threads) && (threads as number) >= 1))
    throw new InvalidInputError(
      `searchThreads must be an integer >= 1 (got ${String(threads)}); leave it out for the default.`,
    );
  if (minRows !== undefined && !(Number.isInteger(minRows) && (minRows as number) >= 0))
    throw new InvalidInputError(`searchThreadsMinRows must be an integer >= 0 (got ${String(minRows)}).`);
  return {
    threads: (threads as number | undefined) ?? 0,
    minRows: (minRows as number | undefined) ?? DEFAULT_THREADED_MIN_ROWS,
  };
}

/** The thread count to run: the request (0: default) capped by the hardware's count. */
export function resolveThreads(requested: number, hardware: number): number {
  const cap = Math.max(1, hardware);
  return requested === 0 ? Math.min(cap, DEFAULT_MAX_THREADS) : Math.min(requested, cap);
}
