import { describe, expect, it } from 'vitest';
import { chooseDevice, describeChoice, parsePlacement } from '../../src/engine/device.js';
import { HpdError } from '../../src/errors.js';

function adapter(isFallbackAdapter: boolean): GPUAdapter {
  return {
    info: { vendor: 'acme', architecture: isFallbackAdapter ? 'swiftshader' : 'rdna3', isFallbackAdapter },
    features: new Set(['shader-f16']),
  } as unknown as GPUAdapter;
}

describe('chooseDevice', () => {
  it('auto takes a hardware adapter, skips a software fallback adapter, and falls back without WebGPU', async () => {
    expect((await chooseDevice('auto', { requestAdapter: async () => adapter(false) })).device).toBe('webgpu');
    const sw = await chooseDevice('auto', { requestAdapter: async () => adapter(true) });
    expect(sw.device).toBe('wasm');
    expect(sw.reason).toMatch(/software fallback/);
    const none = await chooseDevice('auto', {});
    expect(none.device).toBe('wasm');
    expect(none.reason).toMatch(/no WebGPU/);
    expect((await chooseDevice('auto', { requestAdapter: async () => null })).reason).toMatch(/no adapter/);
  });

  it('webgpu insists on an adapter (DEVICE_UNAVAILABLE) but accepts a fallback one', async () => {
    await expect(chooseDevice('webgpu', {})).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    await expect(chooseDevice('webgpu', { requestAdapter: async () => null })).rejects.toBeInstanceOf(HpdError);
    expect((await chooseDevice('webgpu', { requestAdapter: async () => adapter(true) })).device).toBe('webgpu');
    expect((await chooseDevice('wasm', { requestAdapter: async () => adapter(false) })).device).toBe('wasm');
  });
});

describe('parsePlacement', () => {
  it('reads ORT verbose placement lines', () => {
    const all = parsePlacement([
      '2026 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 87',
    ]);
    expect(all).toEqual({ nodes: { WebGpuExecutionProvider: 87 }, cpuOps: [], cpuNodes: [] });
    const mixed = parsePlacement([
      'x VerifyEachNodeIsAssignedToAnEp] Node placements',
      'x VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 80',
      'x VerifyEachNodeIsAssignedToAnEp]   MatMul (m1)',
      'x VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2',
      'x VerifyEachNodeIsAssignedToAnEp]   EmbedLayerNormalization (e1)',
      'x VerifyEachNodeIsAssignedToAnEp]   Shape (s1)',
      'x session_state.cc CreateGraphInfo] SaveMLValueNameIndexMapping',
    ]);
    expect(mixed).toEqual({
      nodes: { WebGpuExecutionProvider: 80, CPUExecutionProvider: 2 },
      cpuOps: ['EmbedLayerNormalization', 'Shape'],
      cpuNodes: ['EmbedLayerNormalization (e1)', 'Shape (s1)'],
    });
    expect(parsePlacement(['nothing here'])).toBeUndefined();
  });
});

describe('device reasons are built from structured data', () => {
  it('chooseDevice reports why as data, and describeChoice words it for the runtime that actually runs', async () => {
    const sw = await chooseDevice('auto', { requestAdapter: async () => adapter(true) });
    expect(sw.why).toEqual({ kind: 'software-adapter', vendor: 'acme', architecture: 'swiftshader' });
    expect(sw.reason).toBe(describeChoice(sw.why, 'wasm'));
    expect(describeChoice(sw.why, 'cpu')).toBe(
      'used onnxruntime-node (CPU): the only WebGPU adapter is a software fallback (acme swiftshader), slower than wasm',
    );
    // An adapter error whose message happens to contain the fallback wording stays as the driver said it.
    const failed = await chooseDevice('auto', {
      requestAdapter: async () => Promise.reject(new Error('fell back to wasm once before')),
    });
    expect(failed.why).toEqual({ kind: 'adapter-failed', message: 'fell back to wasm once before' });
    expect(describeChoice(failed.why, 'cpu')).toBe(
      'used onnxruntime-node (CPU): requesting a WebGPU adapter failed: fell back to wasm once before',
    );
    expect((await chooseDevice('auto', {})).why).toEqual({ kind: 'no-webgpu' });
    expect((await chooseDevice('wasm', {})).why).toEqual({ kind: 'requested', device: 'wasm' });
    expect((await chooseDevice('auto', { requestAdapter: async () => adapter(false) })).why).toEqual({
      kind: 'hardware-adapter',
    });
  });
});
