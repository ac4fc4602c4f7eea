/** One row of work: the token ids of one text and where its vector goes. */
export interface Row {
  ids: Int32Array;
  out: Float32Array;
  offset: number;
}

export interface Batch {
  rows: Row[];
  seqLen: number;
}

/**
 * Groups rows into batches of similar length (sorted, so padding is minimal), at most `batchSize`
 * rows and `maxTokens` padded tokens each.
 */
export function planBatches(rows: Row[], batchSize: number, maxTokens: number): Batch[] {
  const sorted = rows.slice().sort((a, b) => a.ids.length - b.ids.length);
  const batches: Batch[] = [];
  let cur: Row[] = [];
  for (const r of sorted) {
    // Sorted ascending, so r is the longest so far: the batch would pad to r.ids.length.
    if (cur.length > 0 && (cur.length >= batchSize || (cur.length + 1) * r.ids.length > maxTokens)) {
      batches.push({ rows: cur, seqLen: cur[cur.length - 1].ids.length });
      cur = [];
    }
    cur.push(r);
  }
  if (cur.length) batches.push({ rows: cur, seqLen: cur[cur.length - 1].ids.length });
  return batches;
}

/**
 * Fills right-padded int64 input_ids and attention_mask for a batch. Values are written through
 * an Int32Array view (low words; ids are non-negative) to avoid a BigInt per token.
 */
export function fillInputs(batch: Batch, ids: BigInt64Array, mask: BigInt64Array): void {
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
