// Fixed-capacity min-heap of (score, row) over typed arrays: the root is the weakest kept hit,
// so a scan compares each row against one number and allocates nothing per row.

/** Orders rows whose scores are equal: negative when row `a` should rank before row `b`. */
export type RowTieBreak = (a: number, b: number) => number;

export class TopK {
  private scores: Float64Array;
  private rows: Int32Array;
  private count = 0;
  private cap = 0;
  private tieBreak: RowTieBreak | null = null;

  constructor(capacity = 16) {
    this.scores = new Float64Array(Math.max(1, capacity));
    this.rows = new Int32Array(Math.max(1, capacity));
  }

  /** Empties the heap and sets how many hits it keeps; reuses its arrays when they are big enough. */
  reset(k: number, tieBreak: RowTieBreak | null = null): void {
    if (k > this.scores.length) {
      this.scores = new Float64Array(k);
      this.rows = new Int32Array(k);
    }
    this.cap = k;
    this.count = 0;
    this.tieBreak = tieBreak;
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.cap;
  }

  /** Score a row must reach to be considered (ties go to `offer` for the tie-break); -Infinity until full. */
  get threshold(): number {
    return this.count >= this.cap ? this.scores[0] : -Infinity;
  }

  /** Whether (score, row) would be kept, without changing the heap. */
  accepts(score: number, row: number): boolean {
    if (this.cap === 0) return false;
    if (this.count < this.cap) return true;
    return this.worse(this.scores[0], this.rows[0], score, row);
  }

  /** Keeps (score, row) if it beats the weakest kept hit; returns whether it was kept. */
  offer(score: number, row: number): boolean {
    if (this.cap === 0) return false;
    if (this.count < this.cap) {
      this.siftUp(this.count++, score, row);
      return true;
    }
    if (!this.worse(this.scores[0], this.rows[0], score, row)) return false;
    this.siftDown(0, score, row);
    return true;
  }

  /**
   * Writes the kept hits best-first into `outRows`/`outScores` and returns how many;
   * the heap is left empty.
   */
  drainSorted(outRows: Int32Array, outScores: Float64Array): number {
    const n = this.count;
    // Popping the minimum repeatedly yields worst-first; fill from the back.
    for (let i = n - 1; i >= 0; i--) {
      outRows[i] = this.rows[0];
      outScores[i] = this.scores[0];
      const last = --this.count;
      if (last > 0) this.siftDown(0, this.scores[last], this.rows[last]);
    }
    return n;
  }

  /** True when (sa, ra) ranks strictly below (sb, rb). */
  private worse(sa: number, ra: number, sb: number, rb: number): boolean {
    if (sa !== sb) return sa < sb;
    return this.tieBreak !== null && this.tieBreak(rb, ra) < 0;
  }

  private siftUp(pos: number, score: number, row: number): void {
    const scores = this.scores;
    const rows = this.rows;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!this.worse(score, row, scores[parent], rows[parent])) break;
      scores[pos] = scores[parent];
      rows[pos] = rows[parent];
      pos = parent;
    }
    scores[pos] = score;
    rows[pos] = row;
  }

  private siftDown(pos: number, score: number, row: number): void {
    const scores = this.scores;
    const rows = this.rows;
    const n = this.count;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.worse(scores[right], rows[right], scores[child], rows[child])) child = right;
      if (!this.worse(scores[child], rows[child], score, row)) break;
      scores[pos] = scores[child];
      rows[pos] = rows[child];
      pos = child;
    }
    scores[pos] = score;
    rows[pos] = row;
  }
}
