// Scan threads: Node worker_threads or Web Workers running scan-worker.ts's function on the index's shared memory.
// One request per thread at a time (the index runs one threaded scan at a time); replies resolve in order.
import { scanWorkerSource, type ScanReply, type ScanRequest, type ScanWorkerMessage } from './scan-worker.js';

interface Port {
  post(m: ScanWorkerMessage): void;
  terminate(): void;
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
  private readonly waiting: ((r: ScanReply) => void)[][] = [];
  private closed = false;

  private constructor(private readonly ports: Port[]) {
    for (let i = 0; i < ports.length; i++) this.waiting.push([]);
  }

  /** `count` threads, each with the kernels instantiated on `memory`. */
  static async create(
    count: number,
    memory: WebAssembly.Memory,
    simd: WebAssembly.Module,
    relaxed: WebAssembly.Module | null,
  ): Promise<ScanPool> {
    const source = scanWorkerSource();
    const ports: Port[] = [];
    let pool: ScanPool | null = null;
    const onReply = (i: number) => (r: ScanReply) => pool?.waiting[i].shift()?.(r);
    if (isNode()) {
      const { Worker } = (await import(/* @vite-ignore */ WORKER_THREADS)) as typeof import('node:worker_threads');
      for (let i = 0; i < count; i++) {
        const w = new Worker(source, { eval: true });
        w.unref(); // idle scan threads never keep a process alive
        w.on('message', onReply(i));
        ports.push({ post: (m) => w.postMessage(m), terminate: () => void w.terminate() });
      }
    } else {
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      try {
        for (let i = 0; i < count; i++) {
          const w = new Worker(url, { name: `hpd-scan-${i}` });
          const handler = onReply(i);
          w.onmessage = (e: MessageEvent<ScanReply>) => handler(e.data);
          ports.push({ post: (m) => w.postMessage(m), terminate: () => w.terminate() });
        }
      } finally {
        URL.revokeObjectURL(url);
      }
    }
    pool = new ScanPool(ports);
    for (const p of ports) p.post({ type: 'init', memory, simd, relaxed });
    return pool;
  }

  get size(): number {
    return this.ports.length;
  }

  /** Runs `req` on thread `i`; rejects if the thread reports an error. */
  run(i: number, req: ScanRequest): Promise<ScanReply> {
    if (this.closed) return Promise.reject(new Error('scan pool closed'));
    return new Promise((resolve, reject) => {
      this.waiting[i].push((r) => (r.error !== undefined ? reject(new Error(`scan thread: ${r.error}`)) : resolve(r)));
      this.ports[i].post(req);
    });
  }

  close(): void {
    this.closed = true;
    for (const p of this.ports) p.terminate();
  }
}
