import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

/** Runs a compiled sentence-embedding model once on right-padded id sequences; one row per sequence. */
export async function runModel(model: Uint8Array, batch: number[][]): Promise<Float32Array[]> {
  const m = await openModel(model);
  try {
    return await m.run(batch);
  } finally {
    await m.release();
  }
}

export async function openModel(
  model: Uint8Array,
): Promise<{ run: (batch: number[][]) => Promise<Float32Array[]>; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(model);
  return { run: (batch) => runSession(session, batch), release: () => session.release() };
}

async function runSession(session: ort.InferenceSession, batch: number[][]): Promise<Float32Array[]> {
  {
    const S = Math.max(...batch.map((s) => s.length));
    const ids = new BigInt64Array(batch.length * S);
    const mask = new BigInt64Array(batch.length * S);
    batch.forEach((seq, b) =>
      seq.forEach((id, t) => {
        ids[b * S + t] = BigInt(id);
        mask[b * S + t] = 1n;
      }),
    );
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [batch.length, S]),
      attention_mask: new ort.Tensor('int64', mask, [batch.length, S]),
    });
    const y = out.sentence_embedding;
    const dim = y.dims[1];
    const data = y.data as Float32Array;
    return batch.map((_, b) => data.slice(b * dim, (b + 1) * dim));
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}
