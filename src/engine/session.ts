import { HpdError } from '../errors.js';
import type { LoadProgress } from '../model/progress.js';
import type { WeightDtype } from '../bundle/manifest.js';
import { chooseDevice, parsePlacement, type DeviceChoice, type DeviceInfo, type DeviceRequest } from './device.js';
import type { Platform } from './platform.js';
import type { Ort, OrtSession } from './ort-types.js';

/** Creates the ORT session on the chosen execution provider, falling back from WebGPU to wasm under `auto`. */
export async function createSession(
  platform: Platform,
  model: Uint8Array,
  request: DeviceRequest,
  opts: { capturePlacement: boolean; onProgress?: (p: LoadProgress) => void; dtype?: WeightDtype },
): Promise<{ session: OrtSession; device: DeviceInfo; ort: Ort }> {
  const { ort } = platform;
  const choice = cpuOnlyDtype(await chooseDevice(request, platform.gpu), request, opts.dtype);
  ort.env.wasm.numThreads = platform.wasmThreads;
  const base = { requested: request, threads: platform.wasmThreads, ...(choice.adapter ? { adapter: choice.adapter } : {}) };

  const attempt = async (ep: 'webgpu' | 'wasm' | 'cpu') => {
    opts.onProgress?.({ stage: 'session', device: ep });
    const lines: string[] = [];
    const restore = opts.capturePlacement ? captureConsole(lines) : undefined;
    try {
      const runtime = ep === 'cpu' ? platform.nativeCpu! : ort;
      const session = await runtime.InferenceSession.create(model, {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
        ...(ep === 'cpu' ? { intraOpNumThreads: platform.wasmThreads } : {}),
        ...(opts.capturePlacement ? { logSeverityLevel: 0 as const, logVerbosityLevel: 0 } : {}),
      });
      const placement = opts.capturePlacement ? parsePlacement(lines) : undefined;
      return { session, placement, ort: runtime };
    } finally {
      restore?.();
    }
  };

  if (choice.device === 'webgpu') {
    try {
      const { session, placement } = await attempt('webgpu');
      return { session, ort, device: { ...base, actual: 'webgpu', reason: choice.reason, ...(placement ? { placement } : {}) } };
    } catch (e) {
      if (request === 'webgpu') {
        throw new HpdError('DEVICE_UNAVAILABLE', `device "webgpu" was requested but the WebGPU session failed: ${(e as Error).message}`, { cause: e });
      }
      const { session, placement } = await attempt('wasm');
      return { session, ort, device: { ...base, actual: 'wasm', reason: `fell back to wasm: the WebGPU session failed (${(e as Error).message})`, ...(placement ? { placement } : {}) } };
    }
  }
  // Under 'auto', a native CPU runtime beats wasm; an explicit 'wasm' request is honoured as asked.
  if (request === 'auto' && platform.nativeCpu) {
    const r = await attempt('cpu');
    return { session: r.session, ort: r.ort, device: { ...base, actual: 'cpu', reason: `${choice.reason.replace('fell back to wasm', 'used onnxruntime-node (CPU)')}`, ...(r.placement ? { placement: r.placement } : {}) } };
  }
  const { session, placement } = await attempt('wasm');
  const reason = request === 'auto' && platform.nativeCpuMissing ? `${choice.reason}; ${platform.nativeCpuMissing}` : choice.reason;
  return { session, ort, device: { ...base, actual: 'wasm', reason, ...(placement ? { placement } : {}) } };
}

/** ORT's wasm build prints its log through console; copy the lines while a session is created. */
function captureConsole(lines: string[]): () => void {
  const keys = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = keys.map((k) => console[k]);
  for (const k of keys) {
    console[k] = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
  }
  return () => keys.forEach((k, i) => (console[k] = saved[i]));
}

/**
 * A 'q8' bundle computes in int8 (DynamicQuantizeLinear + MatMulInteger), which the WebGPU EP runs slowly or wrongly
 * (transformers.js users report q8 on WebGPU silently wrong or falling back to CPU): `auto` runs it on the CPU path
 * with the reason recorded, and an explicit 'webgpu' request is refused.
 */
export function cpuOnlyDtype(choice: DeviceChoice, request: DeviceRequest, dtype: WeightDtype | undefined): DeviceChoice {
  if (dtype !== 'q8' || choice.device !== 'webgpu') return choice;
  if (request === 'webgpu') throw new HpdError('DEVICE_UNAVAILABLE', 'device "webgpu" was requested for a q8 (int8-compute) bundle, which runs only on the CPU execution providers; use device "auto" or "wasm", or an fp32/fp16/int8 bundle on WebGPU.');
  return { device: 'wasm', reason: 'a q8 (int8-compute) bundle runs on the CPU path: auto never picks WebGPU for it', ...(choice.adapter ? { adapter: choice.adapter } : {}) };
}
