import { describe, expect, it } from 'vitest';
import { HPD_MINILM_F128, type FixtureOptions } from '../../src/convert/fixture.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { bertVocab, withBertVocab, TINY } from '../helpers/fixtures.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';

/** Mixed lengths in one padded batch, so any leak of padding into real tokens shows. */
function mixedBatch(vocabSize: number, lengths: number[], seed = 1): number[][] {
  const rnd = seededRandom(seed);
  return lengths.map((n) => [
    2 + 5,
    ...Array.from({ length: n - 2 }, () => 10 + Math.floor(rnd() * (vocabSize - 10))),
    8,
  ]);
}

async function expectParity(opts: FixtureOptions, lengths: number[], tol = 1e-4) {
  const fx = await compiledFixture(opts);
  const bundle = await fx.bundle();
  const vocabSize = opts.vocab?.length ?? 150;
  const batch = mixedBatch(vocabSize, lengths);
  const got = await runModel(bundle.files.get('model.onnx')!, batch);
  const want = await fx.reference(batch);
  let worst = 0;
  got.forEach((g, i) => (worst = Math.max(worst, maxAbsDiff(g, want[i]))));
  console.info(
    `parity ${opts.layers}x${opts.hidden} ${(opts.pooling ?? ['mean']).join('+')}: max abs diff ${worst.toExponential(2)} over lengths [${lengths}]`,
  );
  expect(worst).toBeLessThanOrEqual(tol);
  // Each row alone (no padding at all) must equal its padded self.
  const alone = await runModel(bundle.files.get('model.onnx')!, [batch[0]]);
  expect(maxAbsDiff(alone[0], got[0])).toBeLessThanOrEqual(1e-5);
  return worst;
}

describe('compiled ONNX matches the float64 reference (fp32, onnxruntime-web wasm)', () => {
  it('tiny checkpoint, mean pooling + Dense tanh, padded batch of mixed lengths', async () => {
    await expectParity(TINY, [3, 17, 9, 40, 2]);
  });

  it.each([
    ['cls', { pooling: ['cls'] }],
    ['max', { pooling: ['max'] }],
    ['mean_sqrt_len', { pooling: ['mean_sqrt_len'] }],
    ['cls+max+mean concatenated', { pooling: ['cls', 'max', 'mean'] }],
    ['no Dense, with Normalize', { dim: 0, normalize: true }],
  ] as [string, Partial<FixtureOptions>][])('pooling variant: %s', async (_, extra) => {
    await expectParity({ ...TINY, ...extra }, [5, 12, 3, 20]);
  });

  it('HPD-MiniLM-F128-shaped checkpoint (6 layers, 384 hidden, 12 heads, 1536 FFN, 128-d)', async () => {
    const vocab = bertVocab();
    if (!vocab) console.warn('[skip-part] ../shared/data absent: HPD-shaped parity uses the generated vocabulary');
    await expectParity(withBertVocab(HPD_MINILM_F128), [24, 7, 33, 12]);
  });
});
