// The scan thread's code: it instantiates the shared-memory kernels on the index's memory, then sleeps in Atomics.wait
// on the job area's doorbell (no message, so no event-loop turn on either side delays the start: Chromium measured a
// posted scan left unclaimed until the caller yielded). Woken, it claims the job, runs the candidate pass over its
// slice of the rows and posts back each query's top c (pass score only) plus every row tied with the c-th score, so
// the caller's merge with the id tie-break picks exactly the single-thread candidates. It is shipped as the source
// text of one self-contained function (Node `eval` worker or a blob: URL), so no bundler has to find a file.

import type { ShadowQuery } from '../scan-many.js';

/** What the pool sends a scan thread, once: its memory, compiled kernels and the shared words jobs arrive through. */
export interface ScanWorkerInit {
  type: 'init';
  memory: WebAssembly.Memory;
  simd: WebAssembly.Module;
  relaxed: WebAssembly.Module | null;
  /** Shared control words: [0] the next unclaimed chunk, [1 + slot] this thread's claim on the current scan. */
  control: Int32Array;
  /** The job area (writeScanJob's layout), over a SharedArrayBuffer of scanJobBytes(dim). */
  job: SharedArrayBuffer;
  slot: number;
}

/** A scan, as the caller describes it; it reaches the threads through the job area (writeScanJob). */
export interface ScanRequest {
  /** Reply ids: thread `slot` answers id + slot. */
  id: number;
  /** The scan's epoch: the thread takes part only if its claim word still reads epoch × 4 (not yet cancelled). */
  epoch: number;
  kind: 'f32' | 'i8';
  /** Queries in the request; 1 reads the single-query area at qOff, more the batch area (i8: padded to 4). */
  nq: number;
  dim: number;
  /** Rows [0, n) in `chunks` chunks of `chunk` rows, claimed one at a time from the control word by every thread. */
  n: number;
  chunk: number;
  chunks: number;
  /** Candidates kept per query (before ties). */
  c: number;
  /** Per-query starting bar. */
  bars: Float64Array;
  qOff: number;
  rowsOff: number;
  /** The threads' output areas: thread `slot` at threadOff + slot × threadStride. */
  threadOff: number;
  threadStride: number;
  /** The byte offset of the scales pick_rows_i8 reads (int8 rows', or f32 rows' shadow) in the shared memory (KernelMemory.scalesF32). */
  scalesOff: number;
  /** A bound on every row's scale at scalesOff (pick-bounds.ts minDot). */
  maxScale: number;
  /** f32: the shadow pass's queries (their codes sit at qOff), else null. */
  shadow: ShadowQuery | null;
}

/** Per query: counts[i] candidates at rows/scores[offset of i]. */
export interface ScanReply {
  id: number;
  counts: Int32Array;
  rows: Int32Array;
  scores: Float64Array;
  error?: string;
}

/**
 * The job area, one per pool: i32 words [0] the doorbell (bumped per job), [1] id, [2] epoch, [3] kind (0 f32, 1 i8),
 * [4] nq, [5] dim, [6] n, [7] chunk, [8] chunks, [9] c, [10] qOff, [11] rowsOff, [12] scalesOff, [13] the shadow codes'
 * offset (-1: no shadow), [14] threadOff, [15] threadStride; then f64 values from byte 128: [16] maxScale, [17] and
 * [18] the shadow's maxScale and maxL1, bars from [20], qScale from [36], qL1 from [52], the float queries from [68]
 * (MANY_BATCH × dim). scanWorkerMain reads it back; threads.test.ts checks the pair through every threaded search.
 */
export const JOB_BELL = 0;
const JOB_F64 = 68;

/** Bytes of a job area for queries of `dim` values (16 of them at most). */
export function scanJobBytes(dim: number): number {
  return 8 * (JOB_F64 + 16 * dim);
}

/** Writes `r` into the job area, everything but the doorbell, which the caller rings after the claim words are set. */
export function writeScanJob(job: SharedArrayBuffer, r: ScanRequest): void {
  const ji = new Int32Array(job);
  const jf = new Float64Array(job);
  const sh = r.shadow;
  ji[1] = r.id;
  ji[3] = r.kind === 'f32' ? 0 : 1;
  ji[4] = r.nq;
  ji[5] = r.dim;
  ji[6] = r.n;
  ji[7] = r.chunk;
  ji[8] = r.chunks;
  ji[9] = r.c;
  ji[10] = r.qOff;
  ji[11] = r.rowsOff;
  ji[12] = r.scalesOff;
  ji[13] = sh === null ? -1 : sh.codesOff;
  ji[14] = r.threadOff;
  ji[15] = r.threadStride;
  jf[16] = r.maxScale;
  jf[17] = sh?.maxScale ?? 0;
  jf[18] = sh?.maxL1 ?? 0;
  jf.set(r.bars.subarray(0, r.nq), 20);
  if (sh !== null) {
    jf.set(sh.qScale.subarray(0, r.nq), 36);
    jf.set(sh.qL1.subarray(0, r.nq), 52);
    jf.set(sh.qf.subarray(0, r.nq * r.dim), JOB_F64);
  }
  // Last: a thread reads the epoch first and claims with it, so it sees every word above.
  Atomics.store(ji, 2, r.epoch);
}

/* eslint-disable */
/** Runs inside the scan thread; must stay self-contained (no imports, no outer names): it is shipped as its source. */
function scanWorkerMain(): void {
  /** The kernels this thread calls (int8 rows, and f32 rows' int8 shadow). */
  type Kernels = {
    pick_rows_i8(
      q: number,
      rows: number,
      dim: number,
      n: number,
      out: number,
      bar: number,
      idx: number,
      scales: number,
    ): number;
    pick_rows_i8_x4(
      q: number,
      ng: number,
      rows: number,
      dim: number,
      n: number,
      out: number,
      mins: number,
      idx: number,
    ): number;
  };
  type Sel = { sc: Float64Array; rw: Int32Array; n: number; cap: number; ties: Int32Array; tn: number };
  const g = globalThis as unknown as {
    require?: (m: string) => {
      parentPort: { on(e: string, f: (d: unknown) => void): void; postMessage(m: unknown, t?: unknown[]): void };
    };
    postMessage?: (m: unknown, t?: unknown[]) => void;
    onmessage?: (e: { data: unknown }) => void;
  };
  const port = typeof g.require === 'function' ? g.require('node:worker_threads').parentPort : null;
  const post = (m: unknown, t: unknown[]): void => (port !== null ? port.postMessage(m, t) : g.postMessage!(m, t));
  let memory: WebAssembly.Memory | null = null;
  let control: Int32Array | null = null;
  let slot = 0;
  let simd: Kernels | null = null;
  let i8: Kernels | null = null;
  const SCAN_BLOCK = 256;
  /** scan-many.ts PICK_BYTES: the thread's area holds compacted scores, then their indices, then the minimums. */
  const PICK_BYTES = 16 * SCAN_BLOCK * 4;
  // Copies of pick-bounds.ts minDot and shadowBar (this function cannot import); threads.test.ts checks the results.
  const minDot = (bar: number, maxScale: number): number => {
    if (!(bar > 0)) return -0x80000000;
    let d = Math.ceil(bar / maxScale);
    if (!(d <= 0x7fffffff)) d = 0x7fffffff;
    if (d < 1) d = 1;
    while (d > 1 && (d - 1) * maxScale >= bar) d--;
    while (d < 0x7fffffff && d * maxScale < bar) d++;
    return d;
  };
  const shadowBar = (bar: number, qScale: number, qL1: number, maxScale: number, maxL1: number): number => {
    if (!(bar > -Infinity) || !(qScale > 0)) return -Infinity;
    const delta = 0.5 * qScale * (maxScale * qL1 + maxL1) * (1 + 1e-4) + 1e-12 * (1 + maxL1);
    const x = (bar - delta) / qScale;
    return x - Math.abs(x) * 1e-12 - 1e-300;
  };
  // kernels.ts dotRowF32, summed in the same order so a row scores the same bits on every thread.
  const dotRowF32 = (data: Float32Array, base: number, q: Float64Array, dim: number): number => {
    const dEven = dim - (dim & 1);
    let s = 0;
    let t = 0;
    let j = 0;
    for (; j < dEven; j += 2) {
      s += data[base + j] * q[j];
      t += data[base + j + 1] * q[j + 1];
    }
    if (j < dim) s += data[base + j] * q[j];
    return s + t;
  };

  const push = (h: Sel, s: number, row: number): void => {
    // Min-heap on score only; ties among kept rows do not matter (every row tied with the root is returned).
    const sc = h.sc;
    const rw = h.rw;
    if (h.n < h.cap) {
      let pos = h.n++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (sc[parent] <= s) break;
        sc[pos] = sc[parent];
        rw[pos] = rw[parent];
        pos = parent;
      }
      sc[pos] = s;
      rw[pos] = row;
      return;
    }
    const m = sc[0];
    if (s < m) return;
    if (s === m) {
      tie(h, row);
      return;
    }
    const evicted = rw[0];
    let pos = 0;
    const n = h.n;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && sc[child + 1] < sc[child]) child++;
      if (sc[child] >= s) break;
      sc[pos] = sc[child];
      rw[pos] = rw[child];
      pos = child;
    }
    sc[pos] = s;
    rw[pos] = row;
    if (sc[0] === m) tie(h, evicted);
    else h.tn = 0;
  };
  const tie = (h: Sel, row: number): void => {
    if (h.tn === h.ties.length) {
      const next = new Int32Array(h.ties.length * 2);
      next.set(h.ties);
      h.ties = next;
    }
    h.ties[h.tn++] = row;
  };

  const scan = (r: ScanRequest): ScanReply => {
    const { nq, dim, n, chunk, chunks, c, bars, qOff, rowsOff, scalesOff, maxScale } = r;
    const outOff = r.threadOff + slot * r.threadStride;
    const sels: Sel[] = [];
    for (let i = 0; i < nq; i++)
      sels.push({ sc: new Float64Array(c), rw: new Int32Array(c), n: 0, cap: c, ties: new Int32Array(16), tn: 0 });
    const buf = memory!.buffer;
    const f32 = r.kind === 'f32';
    const ng = (nq + 3) >> 2;
    const idxOff = outOff + PICK_BYTES;
    const minsOff = idxOff + PICK_BYTES;
    const outI = new Int32Array(buf, outOff, PICK_BYTES >> 2);
    const idx = new Int32Array(buf, idxOff, PICK_BYTES >> 2);
    const minsI = new Int32Array(buf, minsOff, 16);
    const sc = new Float32Array(buf, scalesOff, n);
    const sh = r.shadow;
    const rowsF = f32 ? new Float32Array(buf, rowsOff, n * dim) : null;
    const qs: Float64Array[] = [];
    for (let q = 0; sh !== null && q < nq; q++) qs.push(sh.qf.subarray(q * dim, q * dim + dim));
    const bar = Float64Array.from(bars);
    // The bars the int8 scores must reach: the bars, or for f32 rows' shadow the bars lowered by shadowBar.
    const pass = sh === null ? bar : new Float64Array(nq);
    const lower = (q: number): void => {
      if (sh !== null) pass[q] = shadowBar(bar[q], sh.qScale[q], sh.qL1[q], sh.maxScale, sh.maxL1);
    };
    for (let q = 0; q < nq; q++) lower(q);
    // The int8 score's row: int8 rows, or f32 rows (scan.ts F32WasmScan) scored exactly past the shadow's bar.
    const score = (q: number, row: number, s: number): number =>
      rowsF === null ? s : dotRowF32(rowsF, row * dim, qs[q], dim);
    // A row enters a query's heap when its score reaches the bar (the heap's least score once full, never below the floor).
    const offer = (q: number, d: number, row: number): void => {
      if (!(d >= pass[q])) return;
      const s = score(q, row, d);
      const h = sels[q];
      if (s >= bar[q]) {
        push(h, s, row);
        if (h.n >= h.cap) {
          bar[q] = h.sc[0] > bars[q] ? h.sc[0] : bars[q];
          lower(q);
        }
      }
    };
    const codesOff = sh === null ? rowsOff : sh.codesOff;
    for (let q = nq; q < ng * 4; q++) minsI[q] = 0x7fffffff; // padding queries never reach it
    for (let ch = Atomics.add(control!, 0, 1); ch < chunks; ch = Atomics.add(control!, 0, 1)) {
      const start = ch * chunk;
      const end = Math.min(n, start + chunk);
      for (let s0 = start; s0 < end; s0 += SCAN_BLOCK) {
        const e0 = Math.min(end, s0 + SCAN_BLOCK);
        const ptr = codesOff + s0 * dim;
        // The kernels keep only scores at or above each bar as it stands now (bars only rise): see pick-bounds.ts.
        if (nq === 1) {
          const k = i8!.pick_rows_i8(qOff, ptr, dim, e0 - s0, outOff, pass[0], idxOff, scalesOff + s0 * 4);
          for (let e = 0; e < k; e++) {
            const row = s0 + idx[e];
            offer(0, outI[e] * sc[row], row);
          }
        } else {
          for (let q = 0; q < nq; q++) minsI[q] = minDot(pass[q], maxScale);
          const k = i8!.pick_rows_i8_x4(qOff, ng, ptr, dim, e0 - s0, outOff, minsOff, idxOff);
          for (let e = 0; e < k; e++) {
            const row = s0 + (idx[e] >> 2);
            const q0 = (idx[e] & 3) << 2;
            for (let q = q0; q < q0 + 4 && q < nq; q++) offer(q, outI[e * 4 + q - q0] * sc[row], row);
          }
        }
      }
    }
    const counts = new Int32Array(nq);
    let total = 0;
    for (let q = 0; q < nq; q++) total += counts[q] = sels[q].n + sels[q].tn;
    const rows = new Int32Array(total);
    const scores = new Float64Array(total);
    let o = 0;
    for (let q = 0; q < nq; q++) {
      const h = sels[q];
      for (let j = 0; j < h.n; j++, o++) {
        rows[o] = h.rw[j];
        scores[o] = h.sc[j];
      }
      for (let j = 0; j < h.tn; j++, o++) {
        rows[o] = h.ties[j];
        scores[o] = h.sc[0];
      }
    }
    return { id: r.id + slot, counts, rows, scores };
  };

  // writeScanJob's layout, read back once this thread holds the claim (the caller wrote it all before the claim words).
  const readJob = (ji: Int32Array, jf: Float64Array, epoch: number): ScanRequest => {
    const nq = ji[4];
    const dim = ji[5];
    const codesOff = ji[13];
    return {
      id: ji[1],
      epoch,
      kind: ji[3] === 0 ? 'f32' : 'i8',
      nq,
      dim,
      n: ji[6],
      chunk: ji[7],
      chunks: ji[8],
      c: ji[9],
      bars: jf.slice(20, 20 + nq),
      qOff: ji[10],
      rowsOff: ji[11],
      scalesOff: ji[12],
      threadOff: ji[14],
      threadStride: ji[15],
      maxScale: jf[16],
      shadow:
        codesOff < 0
          ? null
          : {
              nq,
              qf: jf.slice(68, 68 + nq * dim),
              qScale: jf.slice(36, 36 + nq),
              qL1: jf.slice(52, 52 + nq),
              codesOff,
              scalesOff: ji[12],
              maxScale: jf[17],
              maxL1: jf[18],
            },
    };
  };

  // Sleeps on the doorbell; each ring, claims the job (epoch × 4 → + 1) unless the caller already cancelled the
  // claim or moved on, and answers a claimed job with one reply (its results or the error).
  const serve = (job: SharedArrayBuffer): void => {
    const ji = new Int32Array(job);
    const jf = new Float64Array(job);
    let seen = 0;
    for (;;) {
      Atomics.wait(ji, 0, seen);
      seen = Atomics.load(ji, 0);
      const epoch = Atomics.load(ji, 2);
      if (Atomics.compareExchange(control!, 1 + slot, epoch * 4, epoch * 4 + 1) !== epoch * 4) continue;
      let reply: ScanReply;
      try {
        reply = scan(readJob(ji, jf, epoch));
      } catch (e) {
        reply = {
          id: ji[1] + slot,
          counts: new Int32Array(0),
          rows: new Int32Array(0),
          scores: new Float64Array(0),
          error: String(e),
        };
      }
      post(reply, [reply.counts.buffer, reply.rows.buffer, reply.scores.buffer]);
    }
  };

  const handle = (data: unknown): void => {
    const m = data as ScanWorkerInit;
    memory = m.memory;
    control = m.control;
    slot = m.slot;
    const imports = { env: { memory: m.memory } };
    simd = new WebAssembly.Instance(m.simd, imports).exports as unknown as Kernels;
    i8 = m.relaxed !== null ? (new WebAssembly.Instance(m.relaxed, imports).exports as unknown as Kernels) : simd;
    // Started: the pool waits for this (id -1) before it rings.
    post({ id: -1, counts: new Int32Array(0), rows: new Int32Array(0), scores: new Float64Array(0) }, []);
    serve(m.job); // never returns: the thread ends when the pool terminates it
  };
  if (port !== null) port.on('message', handle);
  else g.onmessage = (e) => handle(e.data);
}
/* eslint-enable */

/** The thread's script: the function above, called; `__name` is esbuild's keepNames helper, stubbed for the copy. */
export function scanWorkerSource(): string {
  return `var __name = function (f) { return f; };\n(${scanWorkerMain.toString()})();\n`;
}
