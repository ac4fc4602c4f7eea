import { describe, expect, it } from 'vitest';
import { DTYPES, deviceFor, dtypeFor } from '../../src/compat/names.js';
import { WEIGHT_DTYPES } from '../../src/bundle/manifest.js';

describe('transformers.js names → createEmbedder names', () => {
  it("maps devices: 'cpu' is the environment's CPU path, gpu/webgpu → webgpu", () => {
    expect(deviceFor(undefined, 'wasm')).toBe('auto');
    expect(deviceFor('cpu', 'wasm')).toBe('wasm');
    expect(deviceFor('cpu', 'auto')).toBe('auto');
    expect(deviceFor('wasm', 'auto')).toBe('wasm');
    expect(deviceFor('gpu', 'wasm')).toBe('webgpu');
    expect(deviceFor('webgpu', 'wasm')).toBe('webgpu');
    expect(() => deviceFor('cuda', 'wasm')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/"cuda".*cpu, auto, wasm/) }),
    );
    expect(() => deviceFor('toString', 'wasm')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('maps dtypes: their 8-bit compute (q8, int8, uint8) → our q8; q4 → our int8 (smallest download); fp16/fp32 as is', () => {
    expect(dtypeFor(undefined)).toBeUndefined();
    expect(dtypeFor('auto')).toBeUndefined();
    expect(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4'].map(dtypeFor)).toEqual([
      'fp32',
      'fp16',
      'q8',
      'q8',
      'q8',
      'int8',
    ]);
    for (const ours of Object.values(DTYPES)) if (ours) expect(WEIGHT_DTYPES).toContain(ours);
    expect(() => dtypeFor('bnb4')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/"bnb4".*fp32, fp16, q8/) }),
    );
  });
});
