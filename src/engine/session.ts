import { HpdError } from '../errors.js';
import type { LoadProgress } from '../model/progress.js';
import type { WeightDtype } from '../bundle/manifest.js';
import {
  chooseDevice,
  describeChoice,
  parsePlacement,
  type DeviceChoice,
  type DeviceInfo,
  type DeviceRequest,
} from './device.js';
import { captureOrtLog, ortLogBypassesTap, ortLogTapped, whileOrtStarts } from './ort-log.js';
import type { Platform } from './platform.js';
import type { Ort, OrtSession } from './ort-types.js';

/** An ONNX model with one Identity node (83 bytes, from src/convert's writer): ORT's runtime only starts with a session. */
const START_MODEL = new Uint8Array([
  8, 8, 18, 9, 104, 112, 100, 45, 101, 109, 98, 101, 100, 26, 0, 58, 62, 10, 19, 10, 1, 120, 18, 1, 121, 26, 1, 105, 34,
  8, 73, 100, 101, 110, 116, 105, 116, 121, 18, 5, 115, 116, 97, 114, 116, 90, 15, 10, 1, 120, 18, 10, 10, 8, 8, 1, 18,
  4, 10, 2, 8, 1, 98, 15, 10, 1, 121, 18, 10, 10, 8, 8, 1, 18, 4, 10, 2, 8, 1, 66, 2, 16, 17,
]);

const started = new WeakMap<Ort, Promise<void>>();

/**
 * Starts onnxruntime-web's wasm runtime (wasm fetch and compile, thread pool) once per ORT instance on a tiny model,
 * with console wrapped only for that start, so that ORT binds the log tap (ort-log.ts). Used when a placement is to be
 * captured; a plain load lets the model's own session start the runtime (a separate start showed no gain in the browser
 * bench, within its noise). Never rejects: a runtime that cannot start fails again, with its error, on the model's session.
 */
function startRuntime(platform: Platform): Promise<void> {
  const { ort } = platform;
  let p = started.get(ort);
  if (!p) {
    ort.env.wasm.numThreads = platform.wasmThreads; // before the runtime starts, or it is ignored
    p = whileOrtStarts(async () => {
      const s = await ort.InferenceSession.create(START_MODEL, { executionProviders: ['wasm'] });
      await s.release();
    }).catch(() => undefined);
    started.set(ort, p);
  }
  return p;
}

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
  const base = {
    requested: request,
    threads: platform.wasmThreads,
    ...(choice.adapter ? { adapter: choice.adapter } : {}),
  };

  const attempt = async (ep: 'webgpu' | 'wasm' | 'cpu') => {
    opts.onProgress?.({ stage: 'session', device: ep });
    if (ep !== 'cpu' && opts.capturePlacement) await startRuntime(platform);
    const lines: string[] = [];
    // ORT's log is readable only when a capture started its runtime (ort-log.ts); onnxruntime-node logs to stderr.
    const capture = opts.capturePlacement && ep !== 'cpu' && ortLogTapped();
    const stop = capture ? captureOrtLog((line) => lines.push(line)) : undefined;
    try {
      const runtime = ep === 'cpu' ? platform.nativeCpu! : ort;
      const session = await runtime.InferenceSession.create(model, {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
        ...(ep === 'cpu' ? { intraOpNumThreads: platform.wasmThreads } : {}),
        ...(capture ? { logSeverityLevel: 0 as const, logVerbosityLevel: 0 } : {}),
      });
      if (capture && lines.length === 0) ortLogBypassesTap();
      const placement = capture ? parsePlacement(lines) : undefined;
      return { session, placement, ort: runtime };
    } finally {
      stop?.();
    }
  };

  if (choice.device === 'webgpu') {
    try {
      const { session, placement } = await attempt('webgpu');
      return {
        session,
        ort,
        device: { ...base, actual: 'webgpu', reason: choice.reason, ...(placement ? { placement } : {}) },
      };
    } catch (e) {
      if (request === 'webgpu') {
        throw new HpdError(
          'DEVICE_UNAVAILABLE',
          `device "webgpu" was requested but the WebGPU session failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
      const { session, placement } = await attempt('wasm');
      return {
        session,
        ort,
        device: {
          ...base,
          actual: 'wasm',
          reason: `fell back to wasm: the WebGPU session failed (${(e as Error).message})`,
          ...(placement ? { placement } : {}),
        },
      };
    }
  }
  // Under 'auto', a native CPU runtime beats wasm; an explicit 'wasm' request is honoured as asked.
  if (request === 'auto' && platform.nativeCpu) {
    const r = await attempt('cpu');
    return {
      session: r.session,
      ort: r.ort,
      device: {
        ...base,
        actual: 'cpu',
        reason: describeChoice(choice.why, 'cpu'),
        ...(r.placement ? { placement: r.placement } : {}),
      },
    };
  }
  const { session, placement } = await attempt('wasm');
  const reason =
    request === 'auto' && platform.nativeCpuMissing ? `${choice.reason}; ${platform.nativeCpuMissing}` : choice.reason;
  return { session, ort, device: { ...base, actual: 'wasm', reason, ...(placement ? { placement } : {}) } };
}

/**
 * A 'q8' bundle computes in int8 (DynamicQuantizeLinear + MatMulInteger), which the WebGPU EP runs slowly or wrongly
 * (transformers.js users report q8 on WebGPU silently wrong or falling back to CPU): `auto` runs it on the CPU path
 * with the reason recorded, and an explicit 'webgpu' request is refused.
 */
export function cpuOnlyDtype(
  choice: DeviceChoice,
  request: DeviceRequest,
  dtype: WeightDtype | undefined,
): DeviceChoice {
  if (dtype !== 'q8' || choice.device !== 'webgpu') return choice;
  if (request === 'webgpu')
    throw new HpdError(
      'DEVICE_UNAVAILABLE',
      'device "webgpu" was requested for a q8 (int8-compute) bundle, which runs only on the CPU execution providers; use device "auto" or "wasm", or an fp32/fp16/int8 bundle on WebGPU.',
    );
  const why = { kind: 'q8-cpu-only' } as const;
  return {
    device: 'wasm',
    why,
    reason: describeChoice(why, 'wasm'),
    ...(choice.adapter ? { adapter: choice.adapter } : {}),
  };
}
