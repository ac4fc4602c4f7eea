import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { buildSentenceGraph, LAST_HIDDEN_STATE } from '../../src/convert/bert-graph.js';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { encodeModel } from '../../src/convert/onnx-writer.js';
import { readLayout } from '../../src/convert/st-layout.js';
import { readCheckpointWeights } from '../../src/convert/weights.js';
import { folderSource } from '../../src/node/fs-source.js';
import { fixtureDir, TINY } from '../helpers/fixtures.js';
import { maxAbsDiff, runModel } from '../helpers/ort-run.js';
import { referenceHiddenStates } from '../reference/bert-reference.js';

ort.env.wasm.numThreads = 1;

/** Right-padded [B, S] ids and mask for ORT. */
function feeds(batch: number[][]): { feeds: Record<string, ort.Tensor>; S: number } {
  const S = Math.max(...batch.map((s) => s.length));
  const ids = new BigInt64Array(batch.length * S);
  const mask = new BigInt64Array(batch.length * S);
  batch.forEach((seq, b) => seq.forEach((id, t) => ((ids[b * S + t] = BigInt(id)), (mask[b * S + t] = 1n))));
  return {
    feeds: {
      input_ids: new ort.Tensor('int64', ids, [batch.length, S]),
      attention_mask: new ort.Tensor('int64', mask, [batch.length, S]),
    },
    S,
  };
}

describe("buildSentenceGraph({ output: 'last_hidden_state' }) (encoder-only, for the browser bench's transformers.js row)", () => {
  it("equals the float64 reference BERT's last hidden state on every real token of a padded batch; mean pooling × Dense + tanh + normalize equals the full graph", async () => {
    const fx = await fixtureDir(TINY);
    try {
      const src = folderSource(fx.dir);
      const layout = await readLayout(src);
      const weights = await readCheckpointWeights(src, layout);
      const graph = buildSentenceGraph(layout, weights, 'fp32', { output: LAST_HIDDEN_STATE });
      expect(graph.outputs).toEqual([
        { name: LAST_HIDDEN_STATE, elemType: 1, shape: ['batch', 'sequence', TINY.hidden] },
      ]);
      expect(graph.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
      // Nothing of the pooling head is left in it.
      expect(graph.nodes.some((n) => /^(pool|dense|l2)_/.test(n.name) || n.name === 'mask_3d')).toBe(false);

      const batch = [
        [7, 40, 51, 8],
        [7, 12, 99, 23, 140, 61, 17, 30, 8],
        [7, 8],
      ];
      const session = await ort.InferenceSession.create(encodeModel(graph));
      const { feeds: f, S } = feeds(batch);
      const out = (await session.run(f))[LAST_HIDDEN_STATE];
      await session.release();
      const H = TINY.hidden!;
      expect(out.dims).toEqual([batch.length, S, H]);
      const hs = out.data as Float32Array;
      const want = await referenceHiddenStates(fx.dir, batch);
      let worst = 0;
      batch.forEach(
        (seq, b) => (worst = Math.max(worst, maxAbsDiff(hs.subarray(b * S * H, (b * S + seq.length) * H), want[b]))),
      );
      expect(worst).toBeLessThanOrEqual(1e-4);

      // What the bench does with transformers.js' output: masked mean, then the checkpoint's Dense (tanh) and L2 norm.
      const full = await runModel((await compileCheckpoint(src)).files.get('model.onnx')!, batch);
      const dense = weights.dense[0];
      const [outDim, inDim] = dense.weight.shape;
      batch.forEach((seq, b) => {
        const mean = new Float32Array(H);
        for (let t = 0; t < seq.length; t++)
          for (let h = 0; h < H; h++) mean[h] += hs[(b * S + t) * H + h] / seq.length;
        const y = new Float32Array(outDim);
        for (let o = 0; o < outDim; o++) {
          let s = dense.bias?.data[o] ?? 0;
          for (let i = 0; i < inDim; i++) s += dense.weight.data[o * inDim + i] * mean[i];
          y[o] = Math.tanh(s);
        }
        const norm = Math.hypot(...y);
        expect(
          maxAbsDiff(
            y.map((v) => v / norm),
            full[b],
          ),
        ).toBeLessThanOrEqual(1e-5);
      });
    } finally {
      await fx.cleanup();
    }
  });

  it('leaves the default (sentence_embedding) graph as it was: same nodes and initializers as without options', async () => {
    const fx = await fixtureDir(TINY);
    try {
      const src = folderSource(fx.dir);
      const layout = await readLayout(src);
      const weights = await readCheckpointWeights(src, layout);
      const a = encodeModel(buildSentenceGraph(layout, weights, 'q8'));
      const b = encodeModel(buildSentenceGraph(layout, weights, 'q8', { output: 'sentence_embedding' }));
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    } finally {
      await fx.cleanup();
    }
  });
});
