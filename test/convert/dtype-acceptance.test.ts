import { beforeAll, describe, expect, it } from 'vitest';
import { HPD_MINILM_F128 } from '../../src/convert/fixture.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { withBertVocab, hasSharedData, sentences } from '../helpers/fixtures.js';
import { cosine, openModel } from '../helpers/ort-run.js';

// Acceptance for the fp16, int8 and q8 (int8 compute) weight dtypes (issues: min cosine to fp32 ≥ 0.9999 / ≥ 0.995 / ≥ 0.99).
describe('weight dtypes keep the fp32 embeddings', () => {
  let fx: CompiledFixture;
  let fp32: Float32Array[];
  let batch: number[][];

  beforeAll(async () => {
    fx = await compiledFixture(withBertVocab(HPD_MINILM_F128));
    const corpus = sentences(hasSharedData ? Infinity : 300);
    console.info(`dtype acceptance over ${corpus.texts.length} sentences (${corpus.source})`);
    batch = fx.ids(corpus.texts, 128);
    fp32 = await embedAll('fp32');
  });

  async function embedAll(dtype: 'fp32' | 'fp16' | 'int8' | 'q8'): Promise<Float32Array[]> {
    const bundle = await fx.bundle(dtype);
    const out: Float32Array[] = [];
    const model = await openModel(bundle.files.get('model.onnx')!);
    // Sorted by length so padding stays small.
    const order = batch.map((_, i) => i).sort((a, b) => batch[a].length - batch[b].length);
    for (let i = 0; i < order.length; i += 128) {
      const idx = order.slice(i, i + 128);
      const rows = await model.run(idx.map((k) => batch[k]));
      idx.forEach((k, j) => (out[k] = rows[j]));
    }
    await model.release();
    return out;
  }

  it.each([
    ['fp16', 0.9999],
    ['int8', 0.995],
    ['q8', 0.99],
  ] as const)('%s: minimum cosine to fp32 ≥ %s', async (dtype, floor) => {
    const got = await embedAll(dtype);
    let min = 1;
    for (let i = 0; i < got.length; i++) min = Math.min(min, cosine(got[i], fp32[i]));
    console.info(`${dtype}: min cosine to fp32 over ${got.length} sentences = ${min.toFixed(6)}`);
    expect(min).toBeGreaterThanOrEqual(floor);
  });
});
