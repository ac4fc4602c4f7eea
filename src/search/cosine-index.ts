// Flat exact cosine index over contiguous typed arrays: one row per vector, unit length on the way in,
// so cosine similarity is a plain dot product and a search is one sequential pass over memory.
import { DimMismatchError, DuplicateIdError, InvalidInputError } from './errors.js';
import { dotRowF32, dotRowsF32, dotRowsInt8 } from './kernels.js';
import { cloneJson, isWellFormedString } from './json-value.js';
import { dequantizeRow, quantizeResidualRow, quantizeRow, RESIDUAL_DIVISOR } from './quantize.js';
import { createSimdScan, SIMD_DIM_MULTIPLE, WASM_PAGE, writeInt8Query, type Int8KernelKind, type Int8Kernels, type SimdScan } from './simd.js';
import { MANY_BATCH, SCAN_BLOCK, scanManyF32Js, scanManyF32Wasm, scanManyInt8Js, scanManyInt8Wasm, wasmLayout, type ManyScanInput, type WasmLayout } from './scan-many.js';
import { decodeIndex, encodeIndex, MAX_INDEX_DIM } from './serialize.js';
import { TopK } from './topk.js';
import type { Int8Rescore, JsonValue, RawIndex, SearchHit, SearchOptions, StorageKind, VectorBatch } from './types.js';

/** Options for `new CosineIndex(...)`. */
export interface CosineIndexOptions {
  /** Vector length; every vector added or searched must have it. */
  dim: number;
  /** 'f32' (default): exact; 'int8': 4× smaller scan storage (see `rescore`). */
  storage?: StorageKind;
  /**
   * int8 only. 'residual' (default): a second int8 code per value holds the first code's rounding error, and
   * candidates are rescored against both (260 + 8 bytes per 128-d vector; scores within ~1e-5 of f32, recall@10 1.0).
   * 'dequantized': codes + scale only (128 + 4 bytes), candidates rescored against the dequantised rows (recall ~0.98).
   * 'f32': also keep the float32 rows (+512 bytes), so candidates are rescored exactly and the order matches f32.
   */
  rescore?: Int8Rescore;
  /** Rows to allocate up front (avoids regrowth when the final size is known). */
  capacity?: number;
  /**
   * Scan kernel: 'auto' (default) uses wasm SIMD when available and dim is a multiple of 16 (rows then live in
   * the kernel's wasm memory; candidates are rescored exactly, so results match the JS kernel), with relaxed SIMD
   * for int8 where the engine has it; 'simd' the same without relaxed SIMD; 'js' never uses wasm.
   */
  kernel?: 'auto' | 'simd' | 'js';
}

/** One stored entry, as `get` returns it. */
export interface IndexEntry<M extends JsonValue = JsonValue> {
  /** A copy of the stored unit vector (dequantised for int8 storage). */
  vector: Float32Array;
  metadata: M | undefined;
}

const MIN_CAPACITY = 16;

/** Extra candidates the f32 SIMD pass keeps beyond k, so its f32 rounding (~1e-7) cannot push a true top-k row out. */
const SIMD_SLACK = 16;

/** Candidates kept by the int8 pass before exact rescoring: enough slack that quantisation noise rarely evicts a true top-k hit. */
export function int8CandidateCount(k: number): number {
  return Math.max(4 * k, k + 32);
}

/**
 * Validates one vector (finite numbers, a norm that neither underflows to 0 nor overflows) and writes its unit-length
 * form to `out`; `add` and `search` share it, so a vector is accepted by both or refused by both.
 */
function unitInto(src: ArrayLike<number>, off: number, dim: number, out: Float32Array | Float64Array, outOff: number, what: string): void {
  let norm2 = 0;
  for (let j = 0; j < dim; j++) {
    const v = src[off + j];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`${what} has ${String(v)} at position ${j}; vectors must hold finite numbers.`);
    norm2 += v * v;
  }
  if (!(norm2 > 0) || !Number.isFinite(norm2)) throw new InvalidInputError(`${what} is the zero vector (or its norm under/overflows); cosine similarity is undefined for it.`);
  const inv = 1 / Math.sqrt(norm2);
  for (let j = 0; j < dim; j++) out[outOff + j] = src[off + j] * inv;
}

/** Exact (f32) or quantised (int8) flat cosine index with string ids and optional JSON metadata. */
export class CosineIndex<M extends JsonValue = JsonValue> {
  readonly dim: number;
  readonly storage: StorageKind;
  /** int8 only: what candidates are rescored against; 'f32' storage always reports 'f32'. */
  readonly rescore: Int8Rescore;

  private count = 0;
  private capacity = 0;
  private f32: Float32Array | null = null;
  private i8: Int8Array | null = null;
  private scales: Float32Array | null = null;
  private res: Int8Array | null = null;
  /**
   * wasm SIMD scan: the scanned rows (f32 values, or int8 codes) live in its memory at `rowsOff`, so memory growth
   * keeps them in place; views are rebuilt whenever the memory's buffer changes.
   */
  private simd: SimdState | null = null;
  /** row → id; kept in lock-step with idToRow. */
  private readonly rowIds: string[] = [];
  /** row → metadata (undefined when none). */
  private readonly rowMeta: (M | undefined)[] = [];
  private readonly idToRow = new Map<string, number>();
  private readonly heap = new TopK(16);
  private readonly candHeap = new TopK(64);
  /** searchMany: one heap per query of a batch. */
  private readonly manyHeaps: TopK[] = [];
  // Scratch reused across searches so a query allocates only its result.
  private qf = new Float64Array(0);
  private qi = new Int32Array(0);
  private readonly block = new Float64Array(SCAN_BLOCK);
  private qcodes = new Int8Array(0);
  private candRows = new Int32Array(64);
  private candScores = new Float64Array(64);
  private outRows = new Int32Array(16);
  private outScores = new Float64Array(16);
  private readonly byId = (a: number, b: number): number => {
    const x = this.rowIds[a];
    const y = this.rowIds[b];
    return x < y ? -1 : x > y ? 1 : 0;
  };

  constructor(options: CosineIndexOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidInputError('CosineIndex needs an options object: new CosineIndex({ dim: 128, storage: "f32" }).');
    const { dim, storage = 'f32', capacity = 0, rescore = storage === 'f32' ? 'f32' : 'residual' } = options;
    if (!Number.isInteger(dim) || dim <= 0 || dim > MAX_INDEX_DIM) throw new InvalidInputError(`dim must be an integer from 1 to ${MAX_INDEX_DIM}, got ${String(dim)}.`);
    if (storage !== 'f32' && storage !== 'int8') throw new InvalidInputError(`storage must be 'f32' or 'int8', got ${String(storage)}.`);
    if (rescore !== 'f32' && rescore !== 'dequantized' && rescore !== 'residual') throw new InvalidInputError(`rescore must be 'residual', 'dequantized' or 'f32', got ${String(rescore)}.`);
    if (storage === 'f32' && rescore !== 'f32') throw new InvalidInputError(`rescore: '${rescore}' applies to int8 storage only; f32 storage is always exact.`);
    if (!Number.isInteger(capacity) || capacity < 0) throw new InvalidInputError(`capacity must be a non-negative integer, got ${String(capacity)}.`);
    this.dim = dim;
    this.storage = storage;
    this.rescore = rescore;
    this.qf = new Float64Array(dim);
    this.qi = new Int32Array(dim);
    this.qcodes = new Int8Array(dim);
    if (dim % SIMD_DIM_MULTIPLE === 0 && options.kernel !== 'js') {
      const scan = createSimdScan({ relaxed: options.kernel !== 'simd' });
      const kind = storage === 'f32' ? 'f32' : 'i8';
      const layout = wasmLayout(kind, dim);
      const int8Kind: Int8KernelKind = scan?.relaxed ? 'relaxed' : 'simd';
      if (scan) this.simd = { kind, scan, layout, int8Kind, rowsOff: layout.rowsOff, outOff: layout.outOff, buffer: null, qF32: new Float32Array(0), qI8: new Int8Array(0), outF32: new Float32Array(0), outI32: new Int32Array(0) };
    }
    // Always allocate, so storage is never null and serialisation of an empty index records its layout.
    this.grow(capacity);
  }

  /** Number of stored vectors. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by vector storage (allocated capacity, not just used rows). */
  get byteLength(): number {
    return (this.f32?.byteLength ?? 0) + (this.i8?.byteLength ?? 0) + (this.scales?.byteLength ?? 0) + (this.res?.byteLength ?? 0);
  }

  has(id: string): boolean {
    return this.idToRow.has(id);
  }

  /** The stored vector (a copy) and metadata for `id`, or undefined. */
  get(id: string): IndexEntry<M> | undefined {
    const row = this.idToRow.get(id);
    if (row === undefined) return undefined;
    const dim = this.dim;
    let vector: Float32Array;
    if (this.f32 !== null) vector = this.f32.slice(row * dim, row * dim + dim);
    else {
      vector = new Float32Array(dim);
      dequantizeRow(this.i8 as Int8Array, row * dim, dim, (this.scales as Float32Array)[row], vector, 0, this.res);
    }
    const m = this.rowMeta[row];
    return { vector, metadata: m === undefined ? undefined : (cloneJson(m, 'of ' + id, 0) as M) };
  }

  /** Ids in storage order (which changes on removal). */
  ids(): string[] {
    return this.rowIds.slice(0, this.count);
  }

  /**
   * Adds new entries; all or nothing. Throws DuplicateIdError if an id is repeated in the batch or
   * already stored (use `upsert` to replace), DimMismatchError / InvalidInputError for bad vectors.
   */
  add(ids: readonly string[], vectors: VectorBatch, metadata?: readonly (M | undefined)[]): void {
    const staged = this.stage(ids, vectors, metadata, 'add');
    for (const id of ids) {
      if (this.idToRow.has(id)) throw new DuplicateIdError(id, `id "${id}" is already in the index; use upsert() to replace it, or remove() it first.`);
    }
    this.commit(ids, staged);
  }

  /** Adds new entries and replaces existing ones (vector and metadata); all or nothing. */
  upsert(ids: readonly string[], vectors: VectorBatch, metadata?: readonly (M | undefined)[]): void {
    this.commit(ids, this.stage(ids, vectors, metadata, 'upsert'));
  }

  /** Removes the given ids in O(1) each (the last row moves into the hole); unknown ids are ignored. Returns how many were removed. */
  remove(ids: readonly string[]): number {
    if (!Array.isArray(ids)) throw new InvalidInputError('remove expects an array of string ids.');
    for (let i = 0; i < ids.length; i++) {
      if (typeof ids[i] !== 'string') throw new InvalidInputError(`ids[${i}] is a ${typeof ids[i]}; ids must be strings.`);
    }
    let removed = 0;
    const dim = this.dim;
    for (const id of ids) {
      const row = this.idToRow.get(id);
      if (row === undefined) continue;
      const last = this.count - 1;
      if (row !== last) {
        if (this.f32 !== null) this.f32.copyWithin(row * dim, last * dim, last * dim + dim);
        if (this.i8 !== null && this.scales !== null) {
          this.i8.copyWithin(row * dim, last * dim, last * dim + dim);
          this.scales[row] = this.scales[last];
        }
        if (this.res !== null) this.res.copyWithin(row * dim, last * dim, last * dim + dim);
        const movedId = this.rowIds[last];
        this.rowIds[row] = movedId;
        this.rowMeta[row] = this.rowMeta[last];
        this.idToRow.set(movedId, row);
      }
      this.rowIds.length = last;
      this.rowMeta.length = last;
      this.idToRow.delete(id);
      this.count = last;
      removed++;
    }
    return removed;
  }

  /** Removes everything; keeps the allocated storage. */
  clear(): void {
    this.count = 0;
    this.rowIds.length = 0;
    this.rowMeta.length = 0;
    this.idToRow.clear();
  }

  /** The k most similar stored vectors to `query`, best first (ties: lower id first). */
  search(query: ArrayLike<number>, k: number, options: SearchOptions<M> = {}): SearchHit[] {
    this.checkK(k);
    const { filter, minScore } = this.checkOptions(options);
    this.loadQuery(query, 'query');
    return this.searchLoaded(k, filter, minScore);
  }

  /**
   * `search` for each query (same results); all queries are validated before any is run. Queries are scanned
   * MANY_BATCH at a time in one pass over the rows, so rows are read from memory once per batch.
   */
  searchMany(queries: VectorBatch, k: number, options: SearchOptions<M> = {}): SearchHit[][] {
    this.checkK(k);
    const { filter, minScore } = this.checkOptions(options);
    const n = this.batchLength(queries, 'queries');
    const dim = this.dim;
    const qf = new Float64Array(n * dim);
    const codes = new Int8Array(this.storage === 'int8' ? n * dim : 0);
    for (let i = 0; i < n; i++) {
      const q = Array.isArray(queries) ? (queries as readonly ArrayLike<number>[])[i] : (queries as Float32Array | Float64Array).subarray(i * dim, i * dim + dim);
      this.loadQuery(q, `queries[${i}]`); // Validates every query before any work.
      qf.set(this.qf, i * dim);
      if (this.storage === 'int8') codes.set(this.qcodes, i * dim);
    }
    const out: SearchHit[][] = [];
    for (let b = 0; b < n; b += MANY_BATCH) {
      const nq = Math.min(MANY_BATCH, n - b);
      if (nq === 1 || this.count === 0) {
        for (let i = b; i < b + nq; i++) {
          this.qf.set(qf.subarray(i * dim, i * dim + dim));
          if (this.storage === 'int8') {
            this.qcodes.set(codes.subarray(i * dim, i * dim + dim));
            this.qi.set(this.qcodes);
          }
          out.push(this.searchLoaded(k, filter, minScore));
        }
      } else {
        for (const hits of this.searchBatch(qf.subarray(b * dim, (b + nq) * dim), codes.subarray(b * dim, (b + nq) * dim), nq, k, filter, minScore)) out.push(hits);
      }
    }
    return out;
  }

  /** Serialises to the versioned binary format (see serialize.ts). */
  serialize(): ArrayBuffer {
    return encodeIndex(this.raw());
  }

  /** Rebuilds an index from `serialize()` output; throws CorruptIndexError on a truncated or altered buffer. */
  static deserialize<M extends JsonValue = JsonValue>(buffer: ArrayBuffer | ArrayBufferView): CosineIndex<M> {
    const raw = decodeIndex(buffer);
    const rescore: Int8Rescore = raw.storage === 'f32' || raw.f32 !== null ? 'f32' : raw.res !== null ? 'residual' : 'dequantized';
    const index = new CosineIndex<M>({ dim: raw.dim, storage: raw.storage, rescore });
    index.adopt(raw);
    return index;
  }

  // ---- internals ----

  /** Read-only view of the contents in row order (for serialisation). */
  private raw(): RawIndex {
    return {
      dim: this.dim,
      storage: this.storage,
      count: this.count,
      ids: this.rowIds,
      metadata: this.rowMeta,
      f32: this.f32,
      i8: this.i8,
      scales: this.scales,
      res: this.res,
    };
  }

  private adopt(raw: RawIndex): void {
    if (this.simd !== null) {
      this.count = 0;
      this.grow(Math.max(raw.count, MIN_CAPACITY)); // kernel memory + JS arrays at that capacity
    }
    if (this.simd !== null) {
      const n = raw.count * raw.dim;
      if (raw.f32 !== null && this.f32 !== null) this.f32.set(raw.f32.subarray(0, n));
      if (raw.i8 !== null && this.i8 !== null) this.i8.set(raw.i8.subarray(0, n));
      if (raw.scales !== null && this.scales !== null) this.scales.set(raw.scales.subarray(0, raw.count));
      if (raw.res !== null && this.res !== null) this.res.set(raw.res.subarray(0, n));
    } else {
      this.capacity = raw.count;
      this.f32 = raw.f32;
      this.i8 = raw.i8;
      this.scales = raw.scales;
      this.res = raw.res;
    }
    this.count = raw.count;
    for (let i = 0; i < raw.count; i++) {
      this.rowIds.push(raw.ids[i]);
      this.rowMeta.push(raw.metadata[i] as M | undefined);
      this.idToRow.set(raw.ids[i], i);
    }
  }

  private checkK(k: number): void {
    if (typeof k !== 'number' || !Number.isInteger(k) || k <= 0) throw new InvalidInputError(`k must be a positive integer, got ${String(k)}.`);
  }

  private checkOptions(options: SearchOptions<M>): SearchOptions<M> {
    if (options === null || typeof options !== 'object') throw new InvalidInputError('search options must be an object: { filter?, minScore? }.');
    const { filter, minScore } = options;
    if (filter !== undefined && typeof filter !== 'function') throw new InvalidInputError('filter must be a function (id, metadata) => boolean.');
    if (minScore !== undefined && (typeof minScore !== 'number' || Number.isNaN(minScore))) throw new InvalidInputError(`minScore must be a number, got ${String(minScore)}.`);
    return { filter, minScore };
  }

  /** Number of vectors in a batch, checking its shape against dim. */
  private batchLength(vectors: VectorBatch, what: string): number {
    const dim = this.dim;
    if (Array.isArray(vectors)) return vectors.length;
    if (vectors instanceof Float32Array || vectors instanceof Float64Array) {
      if (vectors.length % dim !== 0) throw new DimMismatchError(dim, vectors.length % dim, `the flat ${what} array (length ${vectors.length}, not a multiple of ${dim}) ends in a row that`);
      return vectors.length / dim;
    }
    throw new InvalidInputError(`${what} must be a Float32Array/Float64Array of count × ${dim} values or an array of vectors.`);
  }

  /** Checks a query and writes its unit-length form into this.qf (and its int8 codes into this.qi). */
  private loadQuery(query: ArrayLike<number>, what: string): void {
    if (query === null || typeof query !== 'object' || typeof query.length !== 'number') throw new InvalidInputError(`${what} must be a Float32Array or an array of numbers.`);
    const dim = this.dim;
    if (query.length !== dim) throw new DimMismatchError(dim, query.length, what);
    const qf = this.qf;
    unitInto(query, 0, dim, qf, 0, what);
    if (this.storage === 'int8') {
      quantizeRow(qf, 0, dim, this.qcodes, 0);
      this.qi.set(this.qcodes);
    }
  }

  /** Runs the scan for the query already in this.qf / this.qi. */
  private searchLoaded(k: number, filter: SearchOptions<M>['filter'], minScore: number | undefined): SearchHit[] {
    const n = this.count;
    if (n === 0) return [];
    const kk = Math.min(k, n);
    const floor = minScore ?? -Infinity;
    if (this.outRows.length < kk) {
      this.outRows = new Int32Array(kk);
      this.outScores = new Float64Array(kk);
    }
    const heap = this.heap;
    heap.reset(kk, this.byId);
    if (this.storage === 'f32') {
      if (this.simd !== null) this.searchF32Simd(kk, floor, filter);
      else this.scanF32(heap, floor, filter);
    }
    else this.searchInt8(kk, floor, filter);
    const got = heap.drainSorted(this.outRows, this.outScores);
    const hits: SearchHit[] = new Array<SearchHit>(got);
    for (let i = 0; i < got; i++) hits[i] = { id: this.rowIds[this.outRows[i]], score: this.outScores[i] };
    return hits;
  }

  /** One pass over the rows for `nq` loaded queries (unit f64 `qf`, int8 `codes`), then each query's usual rescoring. */
  private searchBatch(qf: Float64Array, codes: Int8Array, nq: number, k: number, filter: SearchOptions<M>['filter'], minScore: number | undefined): SearchHit[][] {
    const n = this.count;
    const dim = this.dim;
    const kk = Math.min(k, n);
    const floor = minScore ?? -Infinity;
    while (this.manyHeaps.length < nq) this.manyHeaps.push(new TopK(64));
    const heaps = this.manyHeaps;
    const bars = new Float64Array(nq);
    const f32Js = this.storage === 'f32' && this.simd === null;
    // Per query: the f32 JS scan keeps the final top-k; the other scans keep candidates for rescoring.
    const c = this.storage === 'f32' ? (f32Js ? kk : Math.min(kk + SIMD_SLACK, n)) : Math.min(int8CandidateCount(kk), n);
    for (let i = 0; i < nq; i++) {
      heaps[i].reset(c, this.storage === 'f32' ? this.byId : null);
      // The SIMD f32 sums may sit a hair below the exact score: compare against a slightly lowered floor; int8 ranks without it.
      bars[i] = this.storage === 'int8' ? -Infinity : f32Js || floor === -Infinity ? floor : floor - 1e-5;
    }
    const accept = filter === undefined ? null : (row: number): boolean => filter(this.rowIds[row], this.rowMeta[row]);
    const input: ManyScanInput = { n, dim, nq, qf, codes, heaps, bars, accept };
    const simd = this.simd === null ? null : this.simdViews();
    if (this.storage === 'f32') {
      if (simd !== null) scanManyF32Wasm(simd, input);
      else scanManyF32Js(this.f32 as Float32Array, input, this.block);
    } else if (simd !== null) scanManyInt8Wasm(simd, this.scales as Float32Array, input);
    else scanManyInt8Js(this.i8 as Int8Array, this.scales as Float32Array, input, this.block);

    if (this.outRows.length < kk) {
      this.outRows = new Int32Array(kk);
      this.outScores = new Float64Array(kk);
    }
    const results: SearchHit[][] = [];
    for (let qi = 0; qi < nq; qi++) {
      let final = heaps[qi];
      if (!f32Js) {
        this.qf.set(qf.subarray(qi * dim, qi * dim + dim));
        this.heap.reset(kk, this.byId);
        const got = this.drainCandidates(c, heaps[qi]);
        if (this.storage === 'f32') this.rescoreF32(got, floor);
        else this.rescoreInt8(got, floor);
        final = this.heap;
      }
      const got = final.drainSorted(this.outRows, this.outScores);
      const hits: SearchHit[] = new Array<SearchHit>(got);
      for (let i = 0; i < got; i++) hits[i] = { id: this.rowIds[this.outRows[i]], score: this.outScores[i] };
      results.push(hits);
    }
    return results;
  }

  /** Exact single pass in blocks: the kernel fills a small score buffer, then rows below the heap's bar cost one compare. */
  private scanF32(heap: TopK, floor: number, filter: SearchOptions<M>['filter']): void {
    const data = this.f32 as Float32Array;
    const q = this.qf;
    const dim = this.dim;
    const n = this.count;
    const block = this.block;
    let bar = floor;
    for (let start = 0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      dotRowsF32(data, q, dim, start, end, block);
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = block[i];
        // `>=` so equal scores reach the heap's id tie-break.
        if (s >= bar) {
          if (!heap.accepts(s, row)) continue;
          if (filter !== undefined && !filter(this.rowIds[row], this.rowMeta[row])) continue;
          heap.offer(s, row);
          if (heap.full) bar = heap.threshold;
        }
      }
    }
  }

  /** wasm SIMD pass (f32 sums) picks k + slack candidates; each is rescored exactly, like the JS kernel scores. */
  private searchF32Simd(kk: number, floor: number, filter: SearchOptions<M>['filter']): void {
    const simd = this.simdViews();
    const dim = this.dim;
    const n = this.count;
    const c = Math.min(kk + SIMD_SLACK, n);
    const cand = this.candHeap;
    cand.reset(c, this.byId);
    simd.qF32.set(this.qf);
    const out = simd.outF32;
    // The f32 sums may sit a hair below the exact score: compare against a slightly lowered floor.
    let bar = floor === -Infinity ? -Infinity : floor - 1e-5;
    for (let start = 0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      simd.scan.dotRows(0, simd.rowsOff + start * dim * 4, dim, end - start, simd.outOff);
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = out[i];
        if (s >= bar) {
          if (!cand.accepts(s, row)) continue;
          if (filter !== undefined && !filter(this.rowIds[row], this.rowMeta[row])) continue;
          cand.offer(s, row);
          if (cand.full) bar = cand.threshold;
        }
      }
    }
    this.rescoreF32(this.drainCandidates(c), floor);
  }

  /** Offers the first `got` candidates in candRows to this.heap with their exact scores against this.qf. */
  private rescoreF32(got: number, floor: number): void {
    const data = this.f32 as Float32Array;
    const qf = this.qf;
    const dim = this.dim;
    for (let i = 0; i < got; i++) {
      const row = this.candRows[i];
      const s = dotRowF32(data, row * dim, qf, dim);
      if (s >= floor) this.heap.offer(s, row);
    }
  }

  /** Drains the candidate heap, best first, into candRows/candScores (grown as needed); returns the count. */
  private drainCandidates(c: number, heap: TopK = this.candHeap): number {
    if (this.candRows.length < c) {
      this.candRows = new Int32Array(c);
      this.candScores = new Float64Array(c);
    }
    return heap.drainSorted(this.candRows, this.candScores);
  }

  /** Current views into the kernel's memory (growing memory detaches the old ones). */
  private simdViews(): SimdState {
    const simd = this.simd as SimdState;
    const buf = simd.scan.memory.buffer;
    if (simd.buffer !== buf) {
      simd.buffer = buf;
      const rows = this.capacity * this.dim;
      if (simd.kind === 'f32') {
        simd.qF32 = new Float32Array(buf, 0, this.dim);
        simd.outF32 = new Float32Array(buf, simd.outOff, SCAN_BLOCK);
        this.f32 = new Float32Array(buf, simd.rowsOff, rows);
      } else {
        simd.qI8 = new Int8Array(buf, 0, this.dim);
        simd.outI32 = new Int32Array(buf, simd.outOff, SCAN_BLOCK);
        this.i8 = new Int8Array(buf, simd.rowsOff, rows);
      }
    }
    return simd;
  }

  /** int8 pass with integer dot products picks candidates; each is rescored with the float query (see `rescore`). */
  private searchInt8(kk: number, floor: number, filter: SearchOptions<M>['filter']): void {
    if (this.simd !== null) this.simdViews(); // refresh this.i8 if the kernel's memory moved
    const codes = this.i8 as Int8Array;
    const scales = this.scales as Float32Array;
    const qi = this.qi;
    const dim = this.dim;
    const n = this.count;
    const block = this.block;
    const c = Math.min(int8CandidateCount(kk), n);
    const cand = this.candHeap;
    cand.reset(c, null);
    let bar = -Infinity;
    const simd = this.simd === null ? null : this.simdViews();
    if (simd !== null) writeInt8Query(simd.scan.memory.buffer, simd.layout.qOff, this.qcodes, 0, dim, simd.int8Kind, false);
    const kernels: Int8Kernels | null = simd === null ? null : simd.int8Kind === 'relaxed' && simd.scan.relaxed !== null ? simd.scan.relaxed : simd.scan;
    for (let start = 0; start < n; start += SCAN_BLOCK) {
      const end = Math.min(n, start + SCAN_BLOCK);
      // The query's own scale is common to every row, so it is left out of the ranking score.
      if (simd !== null && kernels !== null) {
        // Same exact integer dot products as the JS kernel, times the same scale: identical candidates.
        kernels.dotRowsI8(simd.layout.qOff, simd.rowsOff + start * dim, dim, end - start, simd.outOff);
        const out = simd.outI32;
        // Fused scale-and-compare: most rows cost one multiply and one compare.
        for (let i = 0, row = start; row < end; i++, row++) {
          const s = out[i] * scales[row];
          if (s > bar) {
            if (filter !== undefined && !filter(this.rowIds[row], this.rowMeta[row])) continue;
            cand.offer(s, row);
            if (cand.full) bar = cand.threshold;
          }
        }
        continue;
      }
      dotRowsInt8(codes, scales, qi, dim, start, end, block);
      for (let i = 0, row = start; row < end; i++, row++) {
        const s = block[i];
        if (s > bar) {
          if (filter !== undefined && !filter(this.rowIds[row], this.rowMeta[row])) continue;
          cand.offer(s, row);
          if (cand.full) bar = cand.threshold;
        }
      }
    }
    this.rescoreInt8(this.drainCandidates(c), floor);
  }

  /** Offers the first `got` candidates in candRows to this.heap, rescored with this.qf (see `rescore`). */
  private rescoreInt8(got: number, floor: number): void {
    const codes = this.i8 as Int8Array;
    const scales = this.scales as Float32Array;
    const dim = this.dim;
    const qf = this.qf;
    const heap = this.heap;
    const exact = this.f32;
    const res = this.res;
    for (let i = 0; i < got; i++) {
      const row = this.candRows[i];
      let s: number;
      if (exact !== null) s = dotRowF32(exact, row * dim, qf, dim);
      else {
        const base = row * dim;
        s = 0;
        if (res !== null) {
          let r = 0;
          for (let j = 0; j < dim; j++) {
            s += codes[base + j] * qf[j];
            r += res[base + j] * qf[j];
          }
          s += r / RESIDUAL_DIVISOR;
        } else {
          for (let j = 0; j < dim; j++) s += codes[base + j] * qf[j];
        }
        s *= scales[row];
      }
      if (s >= floor) heap.offer(s, row);
    }
  }

  /** Validates and normalises a batch into fresh arrays without touching the index. */
  private stage(ids: readonly string[], vectors: VectorBatch, metadata: readonly (M | undefined)[] | undefined, op: string): Staged<M> {
    if (!Array.isArray(ids)) throw new InvalidInputError(`${op} expects an array of string ids as its first argument.`);
    const n = ids.length;
    const dim = this.dim;
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const id: unknown = ids[i];
      if (typeof id !== 'string') throw new InvalidInputError(`ids[${i}] is a ${typeof id}; ids must be strings.`);
      // A lone surrogate cannot be stored as UTF-8: it would load back as U+FFFD, so a saved index would not load.
      if (!isWellFormedString(id)) throw new InvalidInputError(`ids[${i}] contains a lone UTF-16 surrogate; ids must be well-formed strings.`);
      if (seen.has(id)) throw new DuplicateIdError(id, `id "${id}" occurs more than once in this ${op}() batch; pass each id once.`);
      seen.add(id);
    }
    const count = this.batchLength(vectors, 'vectors');
    if (count !== n) throw new InvalidInputError(`${op}() got ${n} ids but ${count} vectors; pass one vector per id.`);
    if (metadata !== undefined && (!Array.isArray(metadata) || metadata.length !== n)) throw new InvalidInputError(`${op}() metadata must be an array with one entry (or undefined) per id: expected length ${n}.`);

    const flat = new Float32Array(n * dim);
    const isArray = Array.isArray(vectors);
    for (let i = 0; i < n; i++) {
      let src: ArrayLike<number>;
      let off: number;
      if (isArray) {
        src = (vectors as readonly ArrayLike<number>[])[i];
        off = 0;
        if (src === null || typeof src !== 'object' || typeof src.length !== 'number') throw new InvalidInputError(`vectors[${i}] must be a Float32Array or an array of numbers.`);
        if (src.length !== dim) throw new DimMismatchError(dim, src.length, `vectors[${i}] (id "${ids[i]}")`);
      } else {
        src = vectors as Float32Array | Float64Array;
        off = i * dim;
      }
      unitInto(src, off, dim, flat, i * dim, `vector ${i} (id "${ids[i]}")`);
    }
    const meta: (M | undefined)[] = new Array<M | undefined>(n);
    for (let i = 0; i < n; i++) {
      const m = metadata?.[i];
      meta[i] = m === undefined ? undefined : (cloneJson(m, `for id "${ids[i]}"`, 0) as M);
    }
    if (this.storage === 'f32') return { flat, codes: null, scales: null, res: null, meta };
    const codes = new Int8Array(n * dim);
    const scales = new Float32Array(n);
    const res = this.rescore === 'residual' ? new Int8Array(n * dim) : null;
    for (let i = 0; i < n; i++) {
      scales[i] = quantizeRow(flat, i * dim, dim, codes, i * dim);
      if (res !== null) quantizeResidualRow(flat, i * dim, dim, codes, i * dim, scales[i], res, i * dim);
    }
    return { flat: this.rescore === 'f32' ? flat : null, codes, scales, res, meta };
  }

  /** Writes a validated batch; only growth can throw (out of memory), and it runs before any write. */
  private commit(ids: readonly string[], staged: Staged<M>): void {
    const n = ids.length;
    let fresh = 0;
    for (const id of ids) if (!this.idToRow.has(id)) fresh++;
    if (this.count + fresh > this.capacity) this.grow(this.count + fresh);
    const dim = this.dim;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      let row = this.idToRow.get(id);
      if (row === undefined) {
        row = this.count++;
        this.idToRow.set(id, row);
        this.rowIds.push(id);
        this.rowMeta.push(staged.meta[i]);
      } else {
        this.rowMeta[row] = staged.meta[i];
      }
      if (staged.flat !== null) (this.f32 as Float32Array).set(staged.flat.subarray(i * dim, i * dim + dim), row * dim);
      if (staged.codes !== null && staged.scales !== null) {
        (this.i8 as Int8Array).set(staged.codes.subarray(i * dim, i * dim + dim), row * dim);
        (this.scales as Float32Array)[row] = staged.scales[i];
      }
      if (staged.res !== null) (this.res as Int8Array).set(staged.res.subarray(i * dim, i * dim + dim), row * dim);
    }
  }

  /** Geometric growth (×2, at least `needed`); allocates before swapping so a failed allocation changes nothing. */
  private grow(needed: number): void {
    const cap = Math.max(needed, this.capacity * 2, MIN_CAPACITY);
    const dim = this.dim;
    const used = this.count * dim;
    const isInt8 = this.storage === 'int8';
    // The scanned rows grow in place inside the kernel's memory; everything else is reallocated.
    const inWasm = this.simd !== null && this.growSimdMemory(cap);
    const wasmF32 = inWasm && !isInt8;
    const wasmI8 = inWasm && isInt8;
    // Allocate everything first: if any allocation throws, nothing has been replaced.
    const next = this.rescore === 'f32' && !wasmF32 ? new Float32Array(cap * dim) : null;
    const codes = isInt8 && !wasmI8 ? new Int8Array(cap * dim) : null;
    const scales = isInt8 ? new Float32Array(cap) : null;
    const res = this.rescore === 'residual' ? new Int8Array(cap * dim) : null;
    if (inWasm) this.refreshSimdViews(); // growing memory detached the old views
    if (next !== null && this.f32 !== null) next.set(this.f32.subarray(0, used));
    if (codes !== null && this.i8 !== null) codes.set(this.i8.subarray(0, used));
    if (scales !== null && this.scales !== null) scales.set(this.scales.subarray(0, this.count));
    if (res !== null && this.res !== null) res.set(this.res.subarray(0, used));
    if (!wasmF32) this.f32 = next;
    if (!wasmI8) this.i8 = codes;
    this.scales = scales;
    this.res = res;
    this.capacity = cap;
    if (inWasm) this.refreshSimdViews();
  }

  private refreshSimdViews(): void {
    (this.simd as SimdState).buffer = null;
    this.simdViews();
  }

  /**
   * Grows the kernel's wasm memory to hold `cap` rows (existing rows keep their offset). At the 4 GiB wasm limit
   * it moves the rows to plain JS memory, drops the kernel and returns false, so growth continues in JS.
   */
  private growSimdMemory(cap: number): boolean {
    const simd = this.simd as SimdState;
    const mem = simd.scan.memory;
    const rowBytes = simd.kind === 'f32' ? this.dim * 4 : this.dim;
    const needPages = Math.ceil((simd.rowsOff + cap * rowBytes) / WASM_PAGE);
    const havePages = mem.buffer.byteLength / WASM_PAGE;
    try {
      if (needPages > havePages) mem.grow(needPages - havePages);
      return true;
    } catch {
      const used = this.count * this.dim;
      if (simd.kind === 'f32') this.f32 = this.f32 === null ? null : this.f32.slice(0, used);
      else this.i8 = this.i8 === null ? null : this.i8.slice(0, used);
      this.simd = null;
      return false;
    }
  }
}

/** The wasm SIMD kernel's state: which rows it scans, where they sit, and views into its memory. */
interface SimdState {
  kind: 'f32' | 'i8';
  scan: SimdScan;
  layout: WasmLayout;
  /** Which int8 kernels scan ('relaxed' where the engine has relaxed SIMD). */
  int8Kind: Int8KernelKind;
  rowsOff: number;
  outOff: number;
  /** The memory buffer the views below (and the index's row array) were made for. */
  buffer: ArrayBuffer | null;
  qF32: Float32Array;
  qI8: Int8Array;
  outF32: Float32Array;
  outI32: Int32Array;
}

/** A validated batch ready to be written. */
interface Staged<M> {
  flat: Float32Array | null;
  codes: Int8Array | null;
  scales: Float32Array | null;
  res: Int8Array | null;
  meta: (M | undefined)[];
}
