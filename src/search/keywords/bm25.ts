// BM25 inverted index keyed by the vector index's row numbers: term → postings (row, tf) sorted by row, in one
// pooled typed array, plus each row's term ids (to remove it) and length. Only term statistics are kept, never texts.
// Hand-written: no maintained JS library keeps a removable, row-addressed, serialisable BM25 index in typed arrays.
import { CorruptIndexError, InvalidInputError } from '../../errors.js';
import type { TopK, RowTieBreak } from '../topk.js';
import type { KeywordOptions } from '../types.js';
import { terms } from './terms.js';

/** A text tokenised for the index, before it is written: its distinct terms and their counts. */
export interface StagedTerms {
  terms: string[];
  tf: number[];
}

const MAX_TF = 0xffff;
const VERSION = 1;

/** Checks and completes keyword options; throws InvalidInputError. */
function checkKeywordOptions(options: KeywordOptions): Required<KeywordOptions> {
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('keywords must be true, false, or an object { k1?, b?, stopWords? }.');
  const { k1 = 1.2, b = 0.75, stopWords = [] } = options;
  if (typeof k1 !== 'number' || !Number.isFinite(k1) || k1 < 0)
    throw new InvalidInputError(`keywords.k1 must be a finite number ≥ 0 (got ${String(k1)}); Lucene's is 1.2.`);
  if (typeof b !== 'number' || !Number.isFinite(b) || b < 0 || b > 1)
    throw new InvalidInputError(`keywords.b must be a number in [0, 1] (got ${String(b)}); Lucene's is 0.75.`);
  if (!Array.isArray(stopWords) || stopWords.some((w) => typeof w !== 'string'))
    throw new InvalidInputError('keywords.stopWords must be an array of strings.');
  return { k1, b, stopWords: stopWords.map((w) => w.normalize('NFKC').toLowerCase()) };
}

export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly stopWords: readonly string[];
  readonly stop: ReadonlySet<string>;
  private readonly termIds = new Map<string, number>();
  private vocab: string[] = [];
  // Per term: its postings segment in the pool (start, used length, capacity).
  private pStart = new Uint32Array(64);
  private pLen = new Uint32Array(64);
  private pCap = new Uint32Array(64);
  // The postings pool: (row, tf) in insertion order within a segment; no per-row term list is kept (it would cost
  // as much again): removal sweeps the pool once per call.
  private pRows = new Uint32Array(256);
  private pTf = new Uint16Array(256);
  private pUsed = 0;
  private pGarbage = 0;
  /** Per row: its length in terms (after stop words). */
  private dl = new Uint32Array(64);
  private count = 0;
  /** Rows with at least one term (Lucene's docCount) and their total length. */
  private docs = 0;
  private totalLen = 0;
  // Query scratch: a score and a matched-terms bit mask per row, and the rows the last search touched.
  private acc = new Float64Array(0);
  private mask = new Uint32Array(0);
  private touched = new Int32Array(0);
  private nTouched = 0;

  constructor(options: KeywordOptions = {}) {
    const { k1, b, stopWords } = checkKeywordOptions(options);
    this.k1 = k1;
    this.b = b;
    this.stopWords = stopWords;
    this.stop = new Set(stopWords);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed arrays (capacity, query scratch included) plus an estimate of the vocabulary's strings and map entries. */
  get byteLength(): number {
    let vocabBytes = 0;
    for (const t of this.vocab) vocabBytes += 2 * t.length + 48;
    return (
      this.pStart.byteLength +
      this.pLen.byteLength +
      this.pCap.byteLength +
      this.pRows.byteLength +
      this.pTf.byteLength +
      this.dl.byteLength +
      this.acc.byteLength +
      this.mask.byteLength +
      this.touched.byteLength +
      vocabBytes
    );
  }

  /** Tokenises a text (undefined: no text, no terms) without changing the index; throws InvalidInputError. */
  stage(text: string | undefined, what: string): StagedTerms {
    if (text === undefined) return { terms: [], tf: [] };
    if (typeof text !== 'string') throw new InvalidInputError(`${what} must be a string (got ${typeof text}).`);
    const counts = new Map<string, number>();
    for (const t of terms(text, this.stop)) counts.set(t, (counts.get(t) ?? 0) + 1);
    const out: StagedTerms = { terms: [], tf: [] };
    for (const [t, n] of counts) {
      if (n > MAX_TF) throw new InvalidInputError(`${what} repeats "${t}" more than ${MAX_TF} times; split it.`);
      out.terms.push(t);
      out.tf.push(n);
    }
    return out;
  }

  /** Appends row `size` (the vector index's next row). */
  add(staged: StagedTerms): void {
    const row = this.count;
    this.growRows(row + 1);
    this.count++;
    this.write(row, staged);
  }

  /** Replaces the terms of existing rows (one sweep of the pool for the whole batch). */
  replace(rows: readonly number[], staged: readonly StagedTerms[]): void {
    if (rows.length === 0) return;
    const drop = new Uint8Array(this.count);
    for (const row of rows) drop[row] = 1;
    this.sweep((row) => (drop[row] === 1 ? -1 : row));
    for (const row of rows) this.forget(row);
    for (let i = 0; i < rows.length; i++) this.write(rows[i], staged[i]);
  }

  /**
   * Removes rows as the vector index's swap-removes did, in order: each pair (row, last) took `row` out and moved
   * `last` into it. One sweep of the pool renames or drops every posting.
   */
  removeSwaps(swaps: readonly number[]): void {
    if (swaps.length === 0) return;
    const n = this.count;
    const at = new Int32Array(n); // position → the row number it held before the call
    for (let i = 0; i < n; i++) at[i] = i;
    const next = new Int32Array(n).fill(-1); // old row → new row, -1: removed
    let count = n;
    for (let i = 0; i < swaps.length; i += 2) {
      const row = swaps[i];
      const old = at[row];
      this.forget(old);
      count--;
      at[row] = at[count];
    }
    const dl = this.dl.slice(0, n);
    for (let pos = 0; pos < count; pos++) {
      next[at[pos]] = pos;
      this.dl[pos] = dl[at[pos]];
    }
    this.dl.fill(0, count, n);
    this.count = count;
    this.sweep((row) => next[row]);
  }

  clear(): void {
    this.termIds.clear();
    this.vocab = [];
    this.pUsed = this.pGarbage = 0;
    this.dl.fill(0);
    this.count = this.docs = this.totalLen = 0;
    this.nTouched = 0;
  }

  /** The query's terms as the index sees them (stop words dropped, repeats kept). */
  queryTerms(query: string): string[] {
    return terms(query, this.stop);
  }

  /**
   * Scores every row holding a query term (each query term occurrence adds its BM25 term score, as Lucene's
   * clauses do) and keeps the best in `heap` (reset to k) among rows `accept` passes.
   */
  search(
    queryTerms: readonly string[],
    k: number,
    accept: ((row: number) => boolean) | null,
    heap: TopK,
    tie: RowTieBreak,
  ): void {
    heap.reset(k, tie);
    this.resetScratch();
    if (this.docs === 0) return;
    const { acc, mask, touched, pRows, pTf, dl, k1, b } = this;
    const avgdl = this.totalLen / this.docs;
    const c0 = k1 * (1 - b);
    const c1 = (k1 * b) / avgdl;
    let n = 0;
    for (let qi = 0; qi < queryTerms.length; qi++) {
      const t = this.termIds.get(queryTerms[qi]);
      if (t === undefined) continue;
      const df = this.pLen[t];
      if (df === 0) continue;
      const idf = Math.log(1 + (this.docs - df + 0.5) / (df + 0.5));
      const num = idf * (k1 + 1);
      // Bit of the first occurrence of this term in the query (terms past the 32nd are scored, not reported).
      const first = queryTerms.indexOf(queryTerms[qi]);
      const bit = first < 32 ? 1 << first : 0;
      for (let p = this.pStart[t], end = p + df; p < end; p++) {
        const row = pRows[p];
        const tf = pTf[p];
        if (acc[row] === 0) touched[n++] = row;
        acc[row] += (num * tf) / (tf + c0 + c1 * dl[row]);
        mask[row] |= bit;
      }
    }
    this.nTouched = n;
    for (let i = 0; i < n; i++) {
      const row = touched[i];
      const s = acc[row];
      if (heap.accepts(s, row) && (accept === null || accept(row))) heap.offer(s, row);
    }
  }

  /** The distinct terms of the last search's query that `row` holds, in query order (the first 32 distinct ones). */
  matched(queryTerms: readonly string[], row: number): string[] {
    const out: string[] = [];
    const m = row < this.mask.length ? this.mask[row] : 0;
    for (let i = 0; i < queryTerms.length && i < 32; i++) if ((m >>> i) & 1) out.push(queryTerms[i]);
    return out;
  }

  /** Serialises the statistics: options, then each live term with its postings (row, tf). */
  serialize(): Uint8Array {
    const enc = new TextEncoder();
    const live: number[] = [];
    let total = 0;
    for (let t = 0; t < this.vocab.length; t++)
      if (this.pLen[t] > 0) {
        live.push(t);
        total += this.pLen[t];
      }
    const stopBytes = this.stopWords.map((w) => enc.encode(w));
    const termBytes = live.map((t) => enc.encode(this.vocab[t]));
    let size = 4 + 16 + 4 + 4 + 4;
    for (const s of stopBytes) size += 4 + s.length;
    for (const s of termBytes) size += 8 + s.length;
    size = align4(size) + total * 4 + total * 2;
    const out = new Uint8Array(align4(size));
    const view = new DataView(out.buffer);
    let o = 0;
    const u32 = (v: number): void => {
      view.setUint32(o, v, true);
      o += 4;
    };
    u32(VERSION);
    view.setFloat64(o, this.k1, true);
    view.setFloat64(o + 8, this.b, true);
    o += 16;
    u32(stopBytes.length);
    for (const s of stopBytes) {
      u32(s.length);
      out.set(s, o);
      o += s.length;
    }
    u32(this.count);
    u32(live.length);
    for (let i = 0; i < live.length; i++) {
      u32(termBytes[i].length);
      out.set(termBytes[i], o);
      o += termBytes[i].length;
      u32(this.pLen[live[i]]);
    }
    o = align4(o);
    for (const t of live)
      for (let p = this.pStart[t], end = p + this.pLen[t]; p < end; p++) {
        view.setUint32(o, this.pRows[p], true);
        o += 4;
      }
    for (const t of live)
      for (let p = this.pStart[t], end = p + this.pLen[t]; p < end; p++) {
        view.setUint16(o, this.pTf[p], true);
        o += 2;
      }
    return out;
  }

  /** Rebuilds an index from `serialize()` output for `count` rows; throws CorruptIndexError on anything inconsistent. */
  static deserialize(bytes: Uint8Array, count: number): Bm25Index {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new TextDecoder('utf-8', { fatal: true });
    let o = 0;
    const need = (n: number): void => {
      if (o + n > bytes.length) throw new CorruptIndexError('The keyword section is truncated; re-save the index.');
    };
    const u32 = (): number => {
      need(4);
      const v = view.getUint32(o, true);
      o += 4;
      return v;
    };
    const str = (): string => {
      const n = u32();
      need(n);
      const s = decodeOr(dec, bytes.subarray(o, o + n));
      o += n;
      return s;
    };
    const version = u32();
    if (version !== VERSION)
      throw new CorruptIndexError(`The keyword section has version ${version}; this build reads version ${VERSION}.`);
    need(16);
    const k1 = view.getFloat64(o, true);
    const b = view.getFloat64(o + 8, true);
    o += 16;
    const nStop = u32();
    const stopWords: string[] = [];
    for (let i = 0; i < nStop; i++) stopWords.push(str());
    let index: Bm25Index;
    try {
      index = new Bm25Index({ k1, b, stopWords });
    } catch (cause) {
      throw new CorruptIndexError('The keyword section holds invalid BM25 options.', { cause });
    }
    if (u32() !== count) throw new CorruptIndexError('The keyword section does not match the index row count.');
    const nTerms = u32();
    const dfs = new Uint32Array(nTerms);
    let total = 0;
    for (let t = 0; t < nTerms; t++) {
      const term = str();
      if (index.termIds.has(term)) throw new CorruptIndexError('The keyword section repeats a term.');
      index.termIds.set(term, t);
      index.vocab.push(term);
      dfs[t] = u32();
      if (dfs[t] === 0 || dfs[t] > count) throw new CorruptIndexError('The keyword section has a bad posting count.');
      total += dfs[t];
    }
    o = align4(o);
    need(total * 6);
    index.growTerms(nTerms);
    index.growRows(count);
    index.pRows = new Uint32Array(Math.max(256, total));
    index.pTf = new Uint16Array(Math.max(256, total));
    const seen = new Int32Array(count).fill(-1); // the last term each row was seen in: a repeat is corrupt
    const tfAt = o + total * 4;
    let p = 0;
    for (let t = 0; t < nTerms; t++) {
      index.pStart[t] = p;
      index.pLen[t] = index.pCap[t] = dfs[t];
      for (let i = 0; i < dfs[t]; i++, p++) {
        const row = view.getUint32(o + p * 4, true);
        const tf = view.getUint16(tfAt + p * 2, true);
        if (row >= count || seen[row] === t || tf === 0)
          throw new CorruptIndexError('The keyword section has a posting out of range, repeated or empty.');
        seen[row] = t;
        index.pRows[p] = row;
        index.pTf[p] = tf;
        index.dl[row] += tf;
      }
    }
    index.pUsed = total;
    index.count = count;
    for (let row = 0; row < count; row++)
      if (index.dl[row] > 0) {
        index.docs++;
        index.totalLen += index.dl[row];
      }
    return index;
  }

  // ---- internals ----

  private write(row: number, staged: StagedTerms): void {
    const n = staged.terms.length;
    let len = 0;
    for (let i = 0; i < n; i++) {
      const t = this.termId(staged.terms[i]);
      if (this.pLen[t] === this.pCap[t]) this.relocate(t);
      const p = this.pStart[t] + this.pLen[t]++;
      this.pRows[p] = row;
      this.pTf[p] = staged.tf[i];
      len += staged.tf[i];
    }
    this.dl[row] = len;
    if (len > 0) {
      this.docs++;
      this.totalLen += len;
    }
  }

  /** Takes a row's length out of the collection statistics (its postings go in the next sweep). */
  private forget(row: number): void {
    if (this.dl[row] > 0) {
      this.docs--;
      this.totalLen -= this.dl[row];
    }
    this.dl[row] = 0;
  }

  /** Renames every posting's row by `rename` (-1: drop it), in place within each segment. */
  private sweep(rename: (row: number) => number): void {
    const { pRows, pTf } = this;
    for (let t = 0; t < this.vocab.length; t++) {
      const start = this.pStart[t];
      const end = start + this.pLen[t];
      let w = start;
      for (let p = start; p < end; p++) {
        const row = rename(pRows[p]);
        if (row < 0) continue;
        pRows[w] = row;
        pTf[w++] = pTf[p];
      }
      this.pLen[t] = w - start;
    }
    this.nTouched = 0; // the scratch's rows are stale now
    this.mask.fill(0);
    this.acc.fill(0);
  }

  private resetScratch(): void {
    if (this.acc.length < this.count) {
      this.acc = new Float64Array(this.dl.length);
      this.mask = new Uint32Array(this.dl.length);
      this.touched = new Int32Array(this.dl.length);
      this.nTouched = 0;
      return;
    }
    for (let i = 0; i < this.nTouched; i++) {
      const row = this.touched[i];
      this.acc[row] = 0;
      this.mask[row] = 0;
    }
    this.nTouched = 0;
  }

  private termId(term: string): number {
    let t = this.termIds.get(term);
    if (t === undefined) {
      t = this.vocab.length;
      this.growTerms(t + 1);
      this.vocab.push(term);
      this.termIds.set(term, t);
      this.pStart[t] = this.pLen[t] = this.pCap[t] = 0;
    }
    return t;
  }

  /** Moves term t's postings to the pool's end with room to grow; a full pool is compacted first when it can be. */
  private relocate(t: number): void {
    const cap = this.pCap[t] + (this.pCap[t] >>> 2) + 2;
    if (this.pUsed + cap > this.pRows.length) {
      if (this.pGarbage > this.pRows.length >>> 3) this.compact();
      if (this.pUsed + cap > this.pRows.length) {
        const size = Math.ceil((this.pUsed + cap) * 1.25);
        const rows = new Uint32Array(size);
        const tfs = new Uint16Array(size);
        rows.set(this.pRows.subarray(0, this.pUsed));
        tfs.set(this.pTf.subarray(0, this.pUsed));
        this.pRows = rows;
        this.pTf = tfs;
      }
    }
    const from = this.pStart[t];
    const len = this.pLen[t];
    this.pRows.copyWithin(this.pUsed, from, from + len);
    this.pTf.copyWithin(this.pUsed, from, from + len);
    this.pGarbage += this.pCap[t];
    this.pStart[t] = this.pUsed;
    this.pCap[t] = cap;
    this.pUsed += cap;
  }

  /** Packs the segments to the pool's start in place (in start order), trimming each to its length + 1/8. */
  private compact(): void {
    const order = Array.from({ length: this.vocab.length }, (_, t) => t).sort(
      (a, b) => this.pStart[a] - this.pStart[b],
    );
    let o = 0;
    for (const t of order) {
      const s = this.pStart[t];
      const len = this.pLen[t];
      this.pRows.copyWithin(o, s, s + len);
      this.pTf.copyWithin(o, s, s + len);
      this.pStart[t] = o;
      this.pCap[t] = Math.min(this.pCap[t], len + (len >>> 3) + 1);
      o += this.pCap[t];
    }
    this.pUsed = o;
    this.pGarbage = 0;
  }

  private growTerms(n: number): void {
    if (n <= this.pStart.length) return;
    const size = Math.ceil(n * 1.5);
    this.pStart = grown(this.pStart, new Uint32Array(size));
    this.pLen = grown(this.pLen, new Uint32Array(size));
    this.pCap = grown(this.pCap, new Uint32Array(size));
  }

  private growRows(n: number): void {
    if (n <= this.dl.length) return;
    this.dl = grown(this.dl, new Uint32Array(Math.ceil(n * 1.25)));
  }
}

const align4 = (n: number): number => n + ((4 - (n % 4)) % 4);

function grown<T extends Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function decodeOr(dec: TextDecoder, bytes: Uint8Array): string {
  try {
    return dec.decode(bytes);
  } catch (cause) {
    throw new CorruptIndexError('The keyword section holds a term that is not UTF-8.', { cause });
  }
}
