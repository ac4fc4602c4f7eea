import { describe, expect, it } from 'vitest';
import { chooseDevice } from '../../src/engine/device.js';
import { cpuOnlyDtype } from '../../src/engine/session.js';
import { HpdError } from '../../src/errors.js';

const hardware = { requestAdapter: async () => ({ info: { vendor: 'acme', architecture: 'rdna3', isFallbackAdapter: false }, features: new Set<string>() }) as unknown as GPUAdapter };

describe('cpuOnlyDtype: q8 (int8 compute) never runs on WebGPU', () => {
  it('auto on a hardware adapter: q8 goes to the CPU path with a reason; other dtypes keep WebGPU', async () => {
    const choice = await chooseDevice('auto', hardware);
    expect(choice.device).toBe('webgpu');
    const q8 = cpuOnlyDtype(choice, 'auto', 'q8');
    expect(q8.device).toBe('wasm');
    expect(q8.reason).toMatch(/q8.*never picks WebGPU/);
    for (const dtype of ['fp32', 'fp16', 'int8', undefined] as const) expect(cpuOnlyDtype(choice, 'auto', dtype)).toBe(choice);
  });

  it('an explicit webgpu request for a q8 bundle is refused with DEVICE_UNAVAILABLE; wasm stays wasm', async () => {
    const choice = await chooseDevice('webgpu', hardware);
    let err: unknown;
    try {
      cpuOnlyDtype(choice, 'webgpu', 'q8');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HpdError);
    expect((err as HpdError).code).toBe('DEVICE_UNAVAILABLE');
    const wasm = await chooseDevice('wasm', hardware);
    expect(cpuOnlyDtype(wasm, 'wasm', 'q8')).toBe(wasm);
  });
});
