// The minimal ONNX reader: what the model check needs from the compiled graph, and MODEL_INVALID for anything malformed.
import { describe, expect, it } from 'vitest';
import { readOnnxInfo } from '../../src/engine/onnx-info.js';
import { HpdError } from '../../src/errors.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { Mutator } from '../helpers/mutate.js';

describe('readOnnxInfo', () => {
  it('reads the compiled graph: inputs, the output shape, initializer dims per dtype', async () => {
    const fx = await compiledFixture();
    for (const dtype of ['fp32', 'fp16', 'int8', 'q8'] as const) {
      const b = await fx.bundle(dtype);
      const info = readOnnxInfo(b.files.get('model.onnx')!);
      expect(info.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask']);
      expect(info.outputs.map((v) => v.name)).toEqual(['sentence_embedding']);
      expect(info.outputs[0].dims?.length).toBe(2);
      expect(info.outputs[0].dims?.[1]).toBe(b.manifest.dim);
      const suffix = dtype === 'fp32' ? '' : dtype === 'fp16' ? '_fp16' : '_int8';
      const pos = info.initializers.get(`position_embeddings${suffix}`);
      expect(pos?.length, dtype).toBe(2);
      expect(pos![0]).toBeGreaterThanOrEqual(b.manifest.maxTokens);
    }
  });

  it('mutated bytes (seeded) give MODEL_INVALID or a result, never another error', async () => {
    const model = (await (await compiledFixture()).bundle()).files.get('model.onnx')!;
    const m = new Mutator(16);
    for (let i = 0; i < 300; i++) {
      const { bytes, what } = m.mutate(model);
      try {
        readOnnxInfo(bytes);
      } catch (e) {
        expect(e, what).toBeInstanceOf(HpdError);
        expect((e as HpdError).code, what).toBe('MODEL_INVALID');
      }
    }
  });

  it('refuses bytes that are not an ONNX model', () => {
    for (const bytes of [
      new Uint8Array(0),
      Uint8Array.of(0x3a, 0x7f, 1), // a length past the end
      Uint8Array.of(0x0b), // a group (wire type 3)
      Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // an 11-byte varint
      Uint8Array.of(0x3a, 0x00, 0x3a, 0x00), // two graphs
    ])
      expect(() => readOnnxInfo(bytes)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});
