// An index's async searches on threads: validates like the sync search, picks the path (threads, or one thread with
// the reason recorded in the index's thread state) and runs the threaded scan with the index's scratch heaps.
import { MANY_BATCH } from '../scan-many.js';
import type { TopK } from '../topk.js';
import type { JsonValue, SearchHit, SearchOptions, VectorBatch } from '../types.js';
import { batchLength, checkK, checkOptions, unitQueries, unitQuery } from '../validate.js';
import type { ThreadHost, ThreadState } from './support.js';
import { ThreadedSearch } from './threaded-search.js';

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
  if (g.process?.versions?.node === undefined && typeof g.Worker !== 'function') return 'no Worker in this context';
  return null;
}

export class IndexThreads<M extends JsonValue> {
  constructor(
    private readonly state: ThreadState,
    private readonly host: ThreadHost<M>,
    private readonly search: ThreadedSearch | null,
  ) {}

  /** The threaded scan, or null after recording why this search runs on one thread. */
  private pick(options: SearchOptions<M>): ThreadedSearch | null {
    const s = this.state;
    const reason =
      s.unavailable ??
      (options?.filter !== undefined || options?.where !== undefined || (options?.mode ?? 'vector') !== 'vector'
        ? 'a filter runs on the calling thread'
        : this.host.count() < s.minRows
          ? `below searchThreadsMinRows (${s.minRows})`
          : this.search === null || !this.search.ready
            ? (this.search?.failed ?? 'the rows left shared memory (wasm memory limit)')
            : null);
    s.last =
      reason === null
        ? { path: 'threads', threads: this.search!.threads, reason }
        : { path: 'single', threads: 1, reason };
    return reason === null ? this.search : null;
  }

  async one(
    query: ArrayLike<number>,
    k: number,
    options: SearchOptions<M>,
    single: () => SearchHit[],
  ): Promise<SearchHit[]> {
    const t = this.pick(options);
    if (t === null) return single();
    const { host } = this;
    checkK(k);
    const { floor } = checkOptions(options);
    const dim = host.rows.dim;
    const qf = new Float64Array(dim);
    unitQuery(query, dim, qf);
    const n = host.count();
    const kk = Math.min(k, n);
    host.heap.reset(kk, host.tie);
    await t.one(qf, n, kk, floor, host.heap);
    return host.hits(host.heap, kk, options.withMetadata === true);
  }

  async many(
    queries: VectorBatch,
    k: number,
    options: SearchOptions<M>,
    single: () => SearchHit[][],
  ): Promise<SearchHit[][]> {
    const t = this.pick(options);
    if (t === null) return single();
    const { host } = this;
    checkK(k);
    const { floor } = checkOptions(options);
    const dim = host.rows.dim;
    const nqAll = batchLength(queries, dim, 'queries');
    const qf = new Float64Array(nqAll * dim);
    unitQueries(queries, nqAll, dim, qf); // validates every query before any work
    const n = host.count();
    const kk = Math.min(k, n);
    const out: SearchHit[][] = [];
    const emit = (_i: number, heap: TopK): void => void out.push(host.hits(heap, kk, options.withMetadata === true));
    for (let b = 0; b < nqAll; b += MANY_BATCH) {
      const nq = Math.min(MANY_BATCH, nqAll - b);
      const batch = qf.subarray(b * dim, (b + nq) * dim);
      if (nq > 1) await t.many(batch, nq, n, kk, floor, host.heap, emit);
      else {
        host.heap.reset(kk, host.tie);
        await t.one(batch, n, kk, floor, host.heap);
        emit(0, host.heap);
      }
    }
    return out;
  }
}

/** The index's runner, made (rows moved into shared memory, threads started) on its first threaded search. */
export function indexThreads<M extends JsonValue>(state: ThreadState, host: ThreadHost<M>): Promise<IndexThreads<M>> {
  state.runner ??= (async () => {
    const why = sharedMemoryUnavailable();
    let opened: ThreadedSearch | string;
    try {
      opened = why ?? (await ThreadedSearch.open(host.index, host.rows, state.requested, host.scanner, host.rescan));
    } catch (e) {
      // E.g. a CSP without blob: in worker-src, or a runtime that refuses eval workers: one thread, with the reason.
      opened = `scan threads could not start: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (typeof opened === 'string') state.unavailable = opened;
    return new IndexThreads(state, host, typeof opened === 'string' ? null : opened);
  })();
  return state.runner as Promise<IndexThreads<M>>;
}
