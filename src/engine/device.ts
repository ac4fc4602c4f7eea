import { HpdError } from '../errors.js';

export type DeviceRequest = 'auto' | 'webgpu' | 'wasm';
/** 'cpu' is onnxruntime-node's native CPU EP (Node only), used for the non-WebGPU path when present. */
export type Device = 'webgpu' | 'wasm' | 'cpu';

/** What actually runs, and why (after a fallback, the reason names it). */
export interface DeviceInfo {
  requested: DeviceRequest;
  actual: Device;
  reason: string;
  /** CPU threads in use (wasm: 1 unless crossOriginIsolated). */
  threads: number;
  adapter?: { vendor: string; architecture: string; isFallbackAdapter: boolean; shaderF16: boolean };
  /** Execution-provider placement from ORT's verbose log, when captured. */
  placement?: Placement;
  /** With `smallBatchesOnWasm`: batches of at most maxRows rows run on a second, wasm session. */
  smallBatches?: { device: 'wasm'; maxRows: number; measured: boolean };
}

export interface Placement {
  /** Node count per execution provider, e.g. { WebGpuExecutionProvider: 120, CPUExecutionProvider: 0 }. */
  nodes: Record<string, number>;
  /** Op types ORT placed on the CPU EP (empty when everything runs on the accelerator). */
  cpuOps: string[];
  /** The same nodes as "OpType (node name)". */
  cpuNodes: string[];
}

export interface AdapterProbe {
  /** `navigator.gpu.requestAdapter()`, or undefined where WebGPU does not exist. */
  requestAdapter?: () => Promise<GPUAdapter | null>;
}

export interface DeviceChoice {
  device: 'webgpu' | 'wasm';
  reason: string;
  adapter?: DeviceInfo['adapter'];
}

/** Picks webgpu or wasm: `auto` takes WebGPU only on a hardware adapter; `webgpu` insists on one. */
export async function chooseDevice(req: DeviceRequest, probe: AdapterProbe): Promise<DeviceChoice> {
  if (req === 'wasm') return { device: 'wasm', reason: 'wasm was requested' };
  let adapter: GPUAdapter | null = null;
  let why = 'this environment has no WebGPU (navigator.gpu is missing)';
  if (probe.requestAdapter) {
    try {
      adapter = await probe.requestAdapter();
      if (!adapter) why = 'navigator.gpu.requestAdapter() returned no adapter';
    } catch (e) {
      why = `requesting a WebGPU adapter failed: ${(e as Error).message}`;
    }
  }
  if (!adapter) {
    if (req === 'webgpu') throw new HpdError('DEVICE_UNAVAILABLE', `device "webgpu" was requested but ${why}. Use device "auto" or "wasm", or enable WebGPU.`);
    return { device: 'wasm', reason: `fell back to wasm: ${why}` };
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const isFallbackAdapter = Boolean((info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const described = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', isFallbackAdapter, shaderF16: adapter.features.has('shader-f16') };
  if (req === 'webgpu') return { device: 'webgpu', reason: 'webgpu was requested', adapter: described };
  if (isFallbackAdapter) {
    return { device: 'wasm', reason: `fell back to wasm: the only WebGPU adapter is a software fallback (${described.vendor} ${described.architecture}), slower than wasm`, adapter: described };
  }
  return { device: 'webgpu', reason: 'auto chose a hardware WebGPU adapter', adapter: described };
}

/** Parses ORT's verbose "Node placements" lines. */
export function parsePlacement(lines: readonly string[]): Placement | undefined {
  const nodes: Record<string, number> = {};
  const cpuOps = new Set<string>();
  const cpuNodes: string[] = [];
  let inCpu = false;
  let seen = false;
  for (const line of lines) {
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    const some = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (all || some) {
      const [, ep, n] = (all ?? some)!;
      nodes[ep] = (nodes[ep] ?? 0) + Number(n);
      inCpu = ep === 'CPUExecutionProvider';
      seen = true;
      continue;
    }
    // Lines following a CPU placement header list "  OpType (node_name)".
    const op = inCpu ? /VerifyEachNodeIsAssignedToAnEp\]\s+((\w+) \(.*\))/.exec(line) : null;
    if (op) {
      cpuOps.add(op[2]);
      cpuNodes.push(op[1]);
    }
    else if (inCpu && !/VerifyEachNodeIsAssignedToAnEp/.test(line)) inCpu = false;
  }
  return seen ? { nodes, cpuOps: [...cpuOps], cpuNodes } : undefined;
}
