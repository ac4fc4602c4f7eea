// transformers.js' device and dtype names → createEmbedder's (README "transformers.js users" has the table).
import type { DeviceRequest } from '../engine/device.js';
import type { WeightDtype } from '../bundle/manifest.js';
import { InvalidInputError } from '../errors.js';

/** transformers.js device names this adapter accepts. */
export type CompatDevice = 'auto' | 'cpu' | 'wasm' | 'gpu' | 'webgpu';
/** transformers.js dtype names this adapter accepts. */
export type CompatDtype = 'auto' | 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';

/** 'cpu' is the environment's CPU path, given by its entry (deviceFor's `cpu`). */
const DEVICES: Readonly<Record<Exclude<CompatDevice, 'cpu'>, DeviceRequest>> = {
  auto: 'auto',
  wasm: 'wasm',
  gpu: 'webgpu',
  webgpu: 'webgpu',
};

/**
 * Their q8/int8/uint8 compute in 8-bit integers: our q8. Our int8 only stores weights in 8 bits (f32 compute), the
 * smallest download we have, so it stands in for their 4-bit q4. 'auto': our default (fp32).
 */
export const DTYPES: Readonly<Record<CompatDtype, WeightDtype | undefined>> = {
  auto: undefined,
  fp32: 'fp32',
  fp16: 'fp16',
  q8: 'q8',
  int8: 'q8',
  uint8: 'q8',
  q4: 'int8',
};

/**
 * Our device for theirs; INVALID_INPUT naming the accepted ones otherwise. `cpu`: the environment's CPU path ('wasm' in
 * a browser; 'auto' in Node, which has no WebGPU: onnxruntime-node when installed, else wasm).
 */
export function deviceFor(device: string | undefined, cpu: DeviceRequest): DeviceRequest {
  if (device === undefined) return 'auto';
  if (device === 'cpu') return cpu;
  if (!Object.hasOwn(DEVICES, device))
    throw new InvalidInputError(
      `device "${device}" is not supported by hpd-embed/compat; use one of cpu, ${Object.keys(DEVICES).join(', ')}.`,
    );
  return DEVICES[device as Exclude<CompatDevice, 'cpu'>];
}

/** Our dtype for theirs (undefined: the default); INVALID_INPUT naming the accepted ones otherwise. */
export function dtypeFor(dtype: string | undefined): WeightDtype | undefined {
  if (dtype === undefined) return undefined;
  if (!Object.hasOwn(DTYPES, dtype))
    throw new InvalidInputError(
      `dtype "${dtype}" is not supported by hpd-embed/compat; use one of ${Object.keys(DTYPES).join(', ')}.`,
    );
  return DTYPES[dtype as CompatDtype];
}
