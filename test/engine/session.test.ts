import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it, vi } from 'vitest';
import { memorySource } from '../../src/bundle/source.js';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { chooseDevice } from '../../src/engine/device.js';
import type { Ort } from '../../src/engine/ort-types.js';
import type { Platform } from '../../src/engine/platform.js';
import { cpuOnlyDtype, createSession } from '../../src/engine/session.js';
import { memoryCache } from '../../src/model/cache.js';
import { TINY } from '../helpers/fixtures.js';
import { HpdError } from '../../src/errors.js';

const hardware = {
  requestAdapter: async () =>
    ({
      info: { vendor: 'acme', architecture: 'rdna3', isFallbackAdapter: false },
      features: new Set<string>(),
    }) as unknown as GPUAdapter,
};

describe('cpuOnlyDtype: q8 (int8 compute) never runs on WebGPU', () => {
  it('auto on a hardware adapter: q8 goes to the CPU path with a reason; other dtypes keep WebGPU', async () => {
    const choice = await chooseDevice('auto', hardware);
    expect(choice.device).toBe('webgpu');
    const q8 = cpuOnlyDtype(choice, 'auto', 'q8');
    expect(q8.device).toBe('wasm');
    expect(q8.reason).toMatch(/q8.*never picks WebGPU/);
    for (const dtype of ['fp32', 'fp16', 'int8', undefined] as const)
      expect(cpuOnlyDtype(choice, 'auto', dtype)).toBe(choice);
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

describe("createSession: the placement log, without swallowing anyone else's console output", () => {
  const placementLine = (n: number) =>
    `2026-01-01 00:00:00.000000 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: ${n}`;
  /** An ORT whose runtime, like onnxruntime-web's browser build, binds console.log when it starts and logs through it. */
  function fakeOrt(): { ort: Ort; creates: number } {
    let out: ((line: string) => void) | undefined;
    const state = { creates: 0 } as { ort: Ort; creates: number };
    const InferenceSession = {
      create: async (_model: Uint8Array, o: { logSeverityLevel?: number }) => {
        if (!out) {
          await new Promise((r) => setTimeout(r, 20)); // the runtime's start is asynchronous (wasm compile)
          out = console.log.bind(console);
        }
        state.creates++;
        await new Promise((r) => setTimeout(r, 20));
        if (o.logSeverityLevel === 0) out(placementLine(state.creates));
        return { release: async () => {} };
      },
    };
    state.ort = { InferenceSession, Tensor: class {}, env: { wasm: {} } } as unknown as Ort;
    return state;
  }

  it('every capturePlacement session gets its placement, and console.log calls from other code during creation all arrive', async () => {
    const fake = fakeOrt();
    const platform: Platform = { ort: fake.ort, cache: memoryCache(), fetch: (u) => fetch(u), gpu: {}, wasmThreads: 1 };
    const other: string[] = [];
    const spy = vi
      .spyOn(console, 'log')
      .mockImplementation((...a: unknown[]) => void other.push(a.map(String).join(' ')));
    let sent = 0;
    const timer = setInterval(() => console.log(`other ${sent++}`), 1);
    try {
      const a = await createSession(platform, new Uint8Array(1), 'wasm', { capturePlacement: true });
      const b = await createSession(platform, new Uint8Array(1), 'wasm', { capturePlacement: true });
      clearInterval(timer);
      // Creates: the runtime start (no log asked), then a and b.
      expect(a.device.placement).toEqual({ nodes: { CPUExecutionProvider: 2 }, cpuOps: [], cpuNodes: [] });
      expect(b.device.placement).toEqual({ nodes: { CPUExecutionProvider: 3 }, cpuOps: [], cpuNodes: [] });
      expect(sent).toBeGreaterThan(0);
      expect(other).toEqual(Array.from({ length: sent }, (_, i) => `other ${i}`));
    } finally {
      clearInterval(timer);
      spy.mockRestore();
    }
  });

  it('real onnxruntime-web: console.log from other code while the runtime starts and sessions are created is not swallowed', async () => {
    const c = await compileCheckpoint(memorySource(generateFixture(TINY)));
    const platform: Platform = { ort: ortWeb, cache: memoryCache(), fetch: (u) => fetch(u), gpu: {}, wasmThreads: 1 };
    const other: string[] = [];
    const spy = vi
      .spyOn(console, 'log')
      .mockImplementation((...a: unknown[]) => void (String(a[0]).startsWith('other ') && other.push(String(a[0]))));
    let sent = 0;
    const timer = setInterval(() => console.log(`other ${sent++}`), 1);
    try {
      const r = await createSession(platform, c.files.get('model.onnx')!, 'wasm', { capturePlacement: true });
      clearInterval(timer);
      await r.session.release();
      expect(sent).toBeGreaterThan(0);
      expect(other).toHaveLength(sent);
    } finally {
      clearInterval(timer);
      spy.mockRestore();
    }
  }, 60_000);
});
