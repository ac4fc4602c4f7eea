// The threaded scan: the index's rows move once into a shared WebAssembly.Memory, then each search splits the rows
// into one slice per thread (the calling thread takes the first). Every thread runs the same kernel and returns its
// slice's top c plus the rows tied with its c-th score; one candidate heap with the id tie-break then holds exactly
// the single-thread scan's candidates, and the usual exact rescoring ranks them, so results are identical.
import { KernelMemory } from '../kernel-memory.js';
import { SCAN_BLOCK } from '../scan-many.js';
import type { RowStore } from '../row-store.js';
import type { RangeScan, Scanner } from '../scan.js';
import { compileKernelModule, instantiateSimdScan } from '../simd.js';
import { TopK } from '../topk.js';
import { hardwareThreads, ScanPool } from './pool.js';
import type { ScanReply } from './scan-worker.js';
import { SHARED_SIMD_KERNEL_BASE64, SHARED_SIMD_RELAXED_KERNEL_BASE64 } from './shared-kernel-bytes.js';

const MAX_PAGES = 65536;
/** An index's threads end when the index is collected. */
const closeWith = new FinalizationRegistry<ScanPool>((pool) => pool.close());

/** The thread count to run: the request (0: default min(hardware, 4)) capped by the hardware's count. */
function resolveThreads(requested: number, hardware: number): number {
  const cap = Math.max(1, hardware);
  return requested === 0 ? Math.min(cap, 4) : Math.min(requested, cap);
}

function isRangeScan(s: Scanner): s is RangeScan {
  return 'passRange' in s;
}

export class ThreadedSearch {
  private readonly cand = new TopK(64);
  private readonly heaps: TopK[] = [];
  private next = 1;
  private epoch = 0;

  private constructor(
    private readonly control: Int32Array,
    private readonly rows: RowStore,
    private readonly kernel: KernelMemory,
    private readonly pool: ScanPool,
    private readonly scanner: () => Scanner,
  ) {}

  /**
   * Moves `rows` into shared memory and starts the threads, or says why it cannot (the rows then stay where they
   * are). `rescan` makes the index pick its scanner again for the moved rows and returns it.
   */
  static async open(
    owner: object,
    rows: RowStore,
    requested: number,
    scanner: () => Scanner,
    rescan: () => Scanner,
  ): Promise<ThreadedSearch | string> {
    const threads = resolveThreads(requested, await hardwareThreads());
    if (threads < 2) return requested === 1 ? 'searchThreads is 1' : 'the hardware has one thread';
    const old = rows.kernel;
    if (old === null) return 'no wasm SIMD kernel for these rows (kernel: "js", or dim not a multiple of 16)';
    const mod = compileKernelModule(SHARED_SIMD_KERNEL_BASE64);
    const rmod = old.int8Kind === 'relaxed' ? compileKernelModule(SHARED_SIMD_RELAXED_KERNEL_BASE64) : null;
    if (mod === null) return 'this engine cannot compile the shared-memory kernel';
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    } catch (e) {
      return `no shared WebAssembly.Memory here (${String(e)})`;
    }
    const scan = instantiateSimdScan(mod, rmod, memory);
    if (scan === null) return 'the shared-memory kernel failed to instantiate';
    const kernel = KernelMemory.onScan(scan, old.kind, old.dim, threads - 1);
    if (kernel.int8Kind !== old.int8Kind) return 'relaxed SIMD differs on shared memory'; // f32 rows scan their int8 shadow
    if (!kernel.reserve(rows.capacity)) return 'shared memory too small for the rows';
    // Move the rows (the whole capacity) and point the store at the shared kernel.
    rows.moveInto(kernel);
    const s = rescan();
    if (!isRangeScan(s) || s.kernel !== kernel) return 'the index did not take the shared kernel';
    const control = new Int32Array(new SharedArrayBuffer(4 * threads));
    const pool = await ScanPool.create(
      threads - 1,
      memory,
      mod,
      kernel.int8Kind === 'relaxed' ? rmod : null,
      control,
      rows.dim,
    );
    closeWith.register(owner, pool);
    return new ThreadedSearch(control, rows, kernel, pool, scanner);
  }

  /** Threads in use, the calling one included. */
  get threads(): number {
    return this.pool.size + 1;
  }

  /** The scanner when the rows are still in this shared memory (growth at the wasm limit drops the kernel), else null. */
  private current(): RangeScan | null {
    const s = this.scanner();
    if (this.rows.kernel !== this.kernel || !isRangeScan(s) || s.kernel !== this.kernel || this.pool.failed !== null)
      return null;
    return s; // int8 scales live in the shared memory with the codes (KernelMemory.scalesF32)
  }

  /** Whether a threaded scan can run now (else the caller scans on one thread). */
  get ready(): boolean {
    return this.current() !== null;
  }

  /** Why the threads stopped (a thread failed), or null. */
  get failed(): string | null {
    return this.pool.failed;
  }

  /** The single-thread scan's `one` (no filter) over threads: fills `heap`, reset by the caller to kk with the tie-break. */
  async one(qf: Float64Array, n: number, kk: number, floor: number, heap: TopK): Promise<void> {
    const scan = this.current()!;
    const c = scan.candidates(kk, n);
    const bar = scan.bar(floor);
    scan.load(qf, 1);
    const cand = this.cand;
    cand.reset(c, scan.tie);
    const d = this.dispatch(scan, 1, n, c, new Float64Array([bar]), this.kernel.layout.qOff);
    for (let ch = d.claim(); ch < d.chunks; ch = d.claim()) {
      const start = ch * d.chunk;
      scan.passRange(start, Math.min(n, start + d.chunk), cand.full ? Math.max(bar, cand.threshold) : bar, null, cand);
    }
    for (const r of await d.finish()) merge(r, 0, cand);
    scan.rescore(c, cand, qf, 0, floor, heap);
  }

  /** The single-thread scan's `many` (no filter, nq <= MANY_BATCH) over threads. */
  async many(
    qf: Float64Array,
    nq: number,
    n: number,
    kk: number,
    floor: number,
    final: TopK,
    emit: (i: number, heap: TopK) => void,
  ): Promise<void> {
    const scan = this.current()!;
    const dim = this.rows.dim;
    const c = scan.candidates(kk, n);
    const bars = new Float64Array(nq).fill(scan.bar(floor));
    scan.load(qf, nq);
    while (this.heaps.length < nq) this.heaps.push(new TopK(64));
    for (let i = 0; i < nq; i++) this.heaps[i].reset(c, scan.tie);
    const d = this.dispatch(scan, nq, n, c, bars, this.kernel.layout.manyQOff);
    const mine = bars.slice();
    for (let ch = d.claim(); ch < d.chunks; ch = d.claim()) {
      const start = ch * d.chunk;
      scan.passManyRange(start, Math.min(n, start + d.chunk), nq, this.heaps, mine, null);
    }
    const got = await d.finish();
    for (let i = 0; i < nq; i++) {
      for (const r of got) merge(r, i, this.heaps[i]);
      final.reset(kk, scan.tie);
      scan.rescore(c, this.heaps[i], qf, i * dim, floor, final);
      emit(i, final);
    }
  }

  /**
   * Posts the scan to every thread. Rows go in chunks that each thread (the calling one too) claims from a shared
   * counter, so a thread the OS schedules late takes fewer chunks, or none: `finish` cancels the claims of threads that
   * have not started and waits only for those that did.
   */
  private dispatch(
    scan: RangeScan,
    nq: number,
    n: number,
    c: number,
    bars: Float64Array,
    qOff: number,
  ): { chunk: number; chunks: number; claim: () => number; finish: () => Promise<ScanReply[]> } {
    const { layout } = this.kernel;
    const ctl = this.control;
    const epoch = (this.epoch = (this.epoch + 1) & 0xfffffff);
    const chunk = Math.max(4 * SCAN_BLOCK, Math.ceil(n / (this.threads * 32) / SCAN_BLOCK) * SCAN_BLOCK);
    const chunks = Math.ceil(n / chunk);
    const id = this.next;
    this.next += this.pool.size;
    const ids = Array.from({ length: this.pool.size }, (_, w) => id + w);
    // The job first, then the claim words (a thread that claims sees the whole job), then the doorbell.
    const jobs = this.pool.post({
      id,
      epoch,
      kind: scan.kind,
      nq,
      dim: this.rows.dim,
      n,
      chunk,
      chunks,
      c,
      bars,
      qOff,
      rowsOff: layout.rowsOff,
      threadOff: layout.threadOff,
      threadStride: layout.threadStride,
      scalesOff: scan.scales === null ? 0 : scan.scales.byteOffset,
      maxScale: scan.maxScale,
      shadow: scan.shadowQuery(),
    });
    Atomics.store(ctl, 0, 0);
    for (let w = 0; w < this.pool.size; w++) Atomics.store(ctl, 1 + w, epoch * 4);
    this.pool.ring();
    return {
      chunk,
      chunks,
      claim: () => Atomics.add(ctl, 0, 1),
      finish: () => {
        const taken: Promise<ScanReply>[] = [];
        for (let w = 0; w < ids.length; w++) {
          if (Atomics.compareExchange(ctl, 1 + w, epoch * 4, epoch * 4 + 2) === epoch * 4) this.pool.forget(ids[w]);
          else taken.push(jobs[w]);
        }
        return Promise.all(taken);
      },
    };
  }

  close(): void {
    this.pool.close();
  }
}

/** Offers query `q`'s candidates of a thread's reply to `heap` (its id tie-break decides among equal scores). */
function merge(r: ScanReply, q: number, heap: TopK): void {
  let o = 0;
  for (let i = 0; i < q; i++) o += r.counts[i];
  const end = o + r.counts[q];
  for (; o < end; o++) heap.offer(r.scores[o], r.rows[o]);
}
