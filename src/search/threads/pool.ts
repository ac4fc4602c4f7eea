// Scan threads: Node worker_threads or Web Workers running scan-worker.ts's function on the index's shared memory.
// One request per thread at a time (the index runs one threaded scan at a time); replies resolve in order.
import { scanWorkerSource, type ScanReply, type ScanRequest, type ScanWorkerMessage } from './scan-worker.js';

interface Port {
  post(m: ScanWorkerMessage): void;
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

/**
 * Resolves after one macrotask in browsers (a MessageChannel round trip: no timer clamping), at once in Node. Chromium
 * measured: a scan posted from a chain of microtasks that never yields to the event loop is not claimed by the threads
 * in time (1M int8 on 2 threads: 4.4–5.3 ms, no faster than one thread); with this yield first, 3.0 ms.
 */
export function yieldToThreads(): Promise<void> {
  if (isNode() || typeof MessageChannel !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

export class ScanPool {
  /** Replies awaited, by request id, with the thread each was posted to; a reply nobody awaits (a cancelled claim) is dropped. */
  private readonly waiting = new Map<number, { thread: number; done: (r: ScanReply) => void }>();
  /** Set when a thread failed or the pool was closed: the index then scans on one thread. */
  failed: string | null = null;

  /** Scans awaited per thread. */
  private readonly pending: number[];

  private constructor(private readonly ports: Port[]) {
    this.pending = ports.map(() => 0);
  }

  /** `count` threads, each with the kernels instantiated on `memory`. */
  static async create(
    count: number,
    memory: WebAssembly.Memory,
    simd: WebAssembly.Module,
    relaxed: WebAssembly.Module | null,
    control: Int32Array,
  ): Promise<ScanPool> {
    const source = scanWorkerSource();
    const ports: Port[] = [];
    let pool: ScanPool | null = null;
    const onReply = (r: ScanReply) => {
      const w = pool?.waiting.get(r.id);
      pool?.waiting.delete(r.id);
      if (w !== undefined) pool?.release(w.thread);
      w?.done(r);
    };
    // A thread that dies fails the scans it holds (no search waits forever) and retires the pool.
    const onFail = (i: number) => (e: unknown) => pool?.fail(i, e);
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
    pool = new ScanPool(ports);
    ports.forEach((p, slot) => p.post({ type: 'init', memory, simd, relaxed, control, slot }));
    return pool;
  }

  get size(): number {
    return this.ports.length;
  }

  /** Posts `req` to thread `i`; the promise settles with its reply (rejects if the thread reports an error). */
  run(i: number, req: ScanRequest): Promise<ScanReply> {
    if (this.failed !== null) return Promise.reject(new Error(this.failed));
    return new Promise((resolve, reject) => {
      const done = (r: ScanReply) =>
        r.error !== undefined ? reject(new Error(`scan thread: ${r.error}`)) : resolve(r);
      this.waiting.set(req.id, { thread: i, done });
      if (this.pending[i]++ === 0) this.ports[i].hold(true); // a scan waits on it: the process must not exit
      this.ports[i].post(req);
    });
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
