/** One row of work: the token ids of one text and where its vector goes. */
export interface Row {
  ids: Int32Array;
  out: Float32Array;
  offset: number;
}

export interface Batch {
  rows: Row[];
  seqLen: number;
  /** Each row's index in the array given to planBatches (the queue maps a failed run back to its requests). */
  index: Uint32Array;
}

/**
 * Groups rows into batches of similar length (sorted, so padding is minimal), at most `maxRows` rows and
 * `maxTokens` padded tokens (rows × longest row, the tensor ORT runs) each; a row longer than `maxTokens` runs alone.
 */
export function planBatches(rows: readonly Row[], maxRows: number, maxTokens: number): Batch[] {
  const order = new Uint32Array(rows.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // Ties keep input order, so equal-length rows from one request stay together.
  order.sort((a, b) => rows[a].ids.length - rows[b].ids.length || a - b);
  const batches: Batch[] = [];
  let start = 0;
  const close = (end: number) => {
    const index = order.subarray(start, end);
    batches.push({ rows: Array.from(index, (i) => rows[i]), seqLen: rows[order[end - 1]].ids.length, index });
    start = end;
  };
  for (let k = 0; k < order.length; k++) {
    // Sorted ascending, so row k is the longest so far: the batch would pad to its length.
    const n = k - start;
    if (n > 0 && (n >= maxRows || (n + 1) * rows[order[k]].ids.length > maxTokens)) close(k);
  }
  if (start < order.length) close(order.length);
  return batches;
}

/**
 * Fills right-padded int64 input_ids and attention_mask for a batch. Values are written through
 * an Int32Array view (low words; ids are non-negative) to avoid a BigInt per token.
 */
export function fillInputs(batch: Pick<Batch, 'rows' | 'seqLen'>, ids: BigInt64Array, mask: BigInt64Array): void {
  const S = batch.seqLen;
  const idWords = new Int32Array(ids.buffer, ids.byteOffset, ids.length * 2);
  const maskWords = new Int32Array(mask.buffer, mask.byteOffset, mask.length * 2);
  idWords.fill(0, 0, batch.rows.length * S * 2);
  maskWords.fill(0, 0, batch.rows.length * S * 2);
  batch.rows.forEach((r, b) => {
    const base = b * S * 2;
    for (let t = 0; t < r.ids.length; t++) {
      idWords[base + 2 * t] = r.ids[t];
      maskWords[base + 2 * t] = 1;
    }
  });
}
