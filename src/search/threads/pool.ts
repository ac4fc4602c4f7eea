// Scan threads: Node worker_threads or Web Workers running scan-worker.ts's function on the index's shared memory.
// Jobs go through a shared job area and a doorbell the threads sleep on (Atomics.wait/notify); replies come back as
// messages, by request id. One job at a time (the index runs one threaded scan at a time).
import {
  JOB_BELL,
  scanJobBytes,
  scanWorkerSource,
  writeScanJob,
  type ScanReply,
  type ScanRequest,
  type ScanWorkerInit,
} from './scan-worker.js';

interface Port {
  post(m: ScanWorkerInit): void;
  terminate(): void;
  /** Node: whether the thread keeps the process alive (only while a scan waits on it); browsers: no-op. */
  hold(on: boolean): void;
}

// A variable specifier: bundlers for browsers leave the Node-only import alone.
const WORKER_THREADS = 'node:worker_threads';
const OS = 'node:os';

function isNode(): boolean {
  return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
}

/** The hardware thread count: navigator's, or os.availableParallelism() in Node 20. */
export async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (typeof nav === 'number' && nav >= 1) return nav;
  if (isNode()) {
    const os = (await import(/* @vite-ignore */ OS)) as typeof import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return 1;
}

export class ScanPool {
  /** Replies awaited, by request id, with the thread each was posted to; a reply nobody awaits (a cancelled claim) is dropped. */
  private readonly waiting = new Map<number, { thread: number; done: (r: ScanReply) => void }>();
  /** Set when a thread failed or the pool was closed: the index then scans on one thread. */
  failed: string | null = null;

  /** Scans awaited per thread. */
  private readonly pending: number[];

  private constructor(
    private readonly ports: Port[],
    private readonly job: SharedArrayBuffer,
  ) {
    this.pending = ports.map(() => 0);
  }

  /**
   * `count` threads, each with the kernels instantiated on `memory`, for queries of `dim` values; resolves once every
   * thread is running and asleep on the doorbell. (Chromium starts a Web Worker and delivers its messages through the
   * creating thread's task queue: a caller that never yields would otherwise ring a thread that has not started.)
   */
  static async create(
    count: number,
    memory: WebAssembly.Memory,
    simd: WebAssembly.Module,
    relaxed: WebAssembly.Module | null,
    control: Int32Array,
    dim: number,
  ): Promise<ScanPool> {
    const source = scanWorkerSource();
    const job = new SharedArrayBuffer(scanJobBytes(dim));
    const ports: Port[] = [];
    let pool: ScanPool | null = null;
    let started = 0;
    let allStarted = (): void => {};
    const ready = new Promise<void>((resolve) => (allStarted = resolve));
    const onReply = (r: ScanReply) => {
      if (r.id < 0) {
        if (++started === count) allStarted();
        return;
      }
      const w = pool?.waiting.get(r.id);
      pool?.waiting.delete(r.id);
      if (w !== undefined) pool?.release(w.thread);
      w?.done(r);
    };
    // A thread that dies fails the scans it holds (no search waits forever) and retires the pool.
    const onFail = (i: number) => (e: unknown) => {
      pool?.fail(i, e);
      allStarted(); // a thread that died before it started: the pool reports failed
    };
    if (isNode()) {
      const { Worker } = (await import(/* @vite-ignore */ WORKER_THREADS)) as typeof import('node:worker_threads');
      for (let i = 0; i < count; i++) {
        const w = new Worker(source, { eval: true });
        w.unref(); // idle scan threads never keep a process alive
        w.on('message', onReply);
        w.on('error', onFail(i));
        w.on('exit', onFail(i));
        ports.push({
          post: (m) => w.postMessage(m),
          terminate: () => void w.terminate(),
          hold: (on) => (on ? w.ref() : w.unref()),
        });
      }
    } else {
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      try {
        for (let i = 0; i < count; i++) {
          const w = new Worker(url, { name: `hpd-scan-${i}` });
          w.onmessage = (e: MessageEvent<ScanReply>) => onReply(e.data);
          w.onerror = onFail(i);
          ports.push({ post: (m) => w.postMessage(m), terminate: () => w.terminate(), hold: () => {} });
        }
      } finally {
        URL.revokeObjectURL(url);
      }
    }
    pool = new ScanPool(ports, job);
    ports.forEach((p, slot) => p.post({ type: 'init', memory, simd, relaxed, control, job, slot }));
    await ready;
    return pool;
  }

  get size(): number {
    return this.ports.length;
  }

  /**
   * Writes `req` into the job area; the caller then sets the claim words and rings (`ring`). The promises settle with
   * each thread's reply (thread i answers req.id + i; rejected if the thread reports an error).
   */
  post(req: ScanRequest): Promise<ScanReply>[] {
    if (this.failed !== null) {
      const failed = Promise.reject(new Error(this.failed));
      failed.catch(() => {}); // rejected for whoever awaits it; a cancelled claim never does
      return this.ports.map(() => failed);
    }
    writeScanJob(this.job, req);
    return this.ports.map(
      (_, i) =>
        new Promise((resolve, reject) => {
          const done = (r: ScanReply) =>
            r.error !== undefined ? reject(new Error(`scan thread: ${r.error}`)) : resolve(r);
          this.waiting.set(req.id + i, { thread: i, done });
          if (this.pending[i]++ === 0) this.ports[i].hold(true); // a scan waits on it: the process must not exit
        }),
    );
  }

  /** Wakes every thread on the job just posted. */
  ring(): void {
    const bell = new Int32Array(this.job);
    Atomics.add(bell, JOB_BELL, 1);
    Atomics.notify(bell, JOB_BELL);
  }

  /** Stops awaiting request `id` (its thread never claimed it); its reply, when it comes, is dropped. */
  forget(id: number): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    if (w !== undefined) this.release(w.thread);
  }

  private release(i: number): void {
    if (--this.pending[i] === 0) this.ports[i].hold(false);
  }

  private fail(i: number, e: unknown): void {
    if (this.failed === null) this.failed = `scan thread ${i} failed: ${e instanceof Error ? e.message : String(e)}`;
    for (const [id, w] of this.waiting) {
      if (w.thread !== i) continue;
      this.waiting.delete(id);
      this.release(i);
      w.done({
        id,
        counts: new Int32Array(0),
        rows: new Int32Array(0),
        scores: new Float64Array(0),
        error: this.failed,
      });
    }
  }

  close(): void {
    this.failed ??= 'scan pool closed';
    for (const p of this.ports) p.terminate();
  }
}
