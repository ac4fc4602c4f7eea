import { describe, expect, it } from 'vitest';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { cosine, runModel } from '../helpers/ort-run.js';

describe('q8 dtype (int8 compute)', () => {
  it('emits DynamicQuantizeLinear + MatMulInteger for every weight MatMul with int8 weights, and runs in onnxruntime-web close to fp32', async () => {
    const fx = await compiledFixture();
    const q8 = await fx.bundle('q8');
    const fp32 = await fx.bundle('fp32');
    expect(q8.manifest.dtype).toBe('q8');
    const text = new TextDecoder('latin1').decode(q8.files.get('model.onnx')!);
    const count = (s: string) => text.split(s).length - 1;
    // TINY: 2 layers × (QKV, attention out, FFN in, FFN out) + 1 Dense = 9 weight MatMuls.
    expect(count('MatMulInteger')).toBe(9);
    expect(count('DynamicQuantizeLinear')).toBe(9);
    expect(q8.files.get('model.onnx')!.byteLength).toBeLessThan(fp32.files.get('model.onnx')!.byteLength / 2);
    const batch = [
      [7, 20, 8],
      [7, 21, 22, 23, 24, 25, 8],
    ];
    const a = await runModel(q8.files.get('model.onnx')!, batch);
    const b = await runModel(fp32.files.get('model.onnx')!, batch);
    for (let i = 0; i < batch.length; i++) expect(cosine(a[i], b[i])).toBeGreaterThan(0.98);
  });
});
