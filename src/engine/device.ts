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

/** What we read of a WebGPU adapter: structural, so the published types compile without @webgpu/types. */
interface GpuAdapterLike {
  readonly features: { has(feature: string): boolean };
  /** Chrome ≥ 114; `isFallbackAdapter` moved here from the adapter in newer browsers. */
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

export interface AdapterProbe {
  /** `navigator.gpu.requestAdapter()`, or undefined where WebGPU does not exist. */
  requestAdapter?: () => Promise<GpuAdapterLike | null>;
}

/** Why a device was chosen, as data; `describeChoice` turns it into `DeviceInfo.reason`. */
export type ChoiceWhy =
  | { kind: 'requested'; device: 'webgpu' | 'wasm' }
  | { kind: 'hardware-adapter' }
  | { kind: 'no-webgpu' }
  | { kind: 'no-adapter' }
  | { kind: 'adapter-failed'; message: string }
  | { kind: 'software-adapter'; vendor: string; architecture: string }
  | { kind: 'q8-cpu-only' };

export interface DeviceChoice {
  device: 'webgpu' | 'wasm';
  why: ChoiceWhy;
  /** `describeChoice(why, device)`. */
  reason: string;
  adapter?: DeviceInfo['adapter'];
}

/** A choice's reason text for the runtime that actually runs it ('cpu': onnxruntime-node replaces wasm). */
export function describeChoice(why: ChoiceWhy, runsOn: Device): string {
  const fellBack = runsOn === 'cpu' ? 'used onnxruntime-node (CPU)' : `fell back to ${runsOn}`;
  switch (why.kind) {
    case 'requested':
      return `${why.device} was requested`;
    case 'hardware-adapter':
      return 'auto chose a hardware WebGPU adapter';
    case 'no-webgpu':
    case 'no-adapter':
    case 'adapter-failed':
      return `${fellBack}: ${unavailable(why)}`;
    case 'software-adapter':
      return `${fellBack}: the only WebGPU adapter is a software fallback (${why.vendor} ${why.architecture}), slower than wasm`;
    case 'q8-cpu-only':
      return 'a q8 (int8-compute) bundle runs on the CPU path: auto never picks WebGPU for it';
  }
}

/** Why there is no WebGPU adapter, for a fallback reason or a refused 'webgpu' request. */
function unavailable(why: Extract<ChoiceWhy, { kind: 'no-webgpu' | 'no-adapter' | 'adapter-failed' }>): string {
  if (why.kind === 'no-webgpu') return 'this environment has no WebGPU (navigator.gpu is missing)';
  if (why.kind === 'no-adapter') return 'navigator.gpu.requestAdapter() returned no adapter';
  return `requesting a WebGPU adapter failed: ${why.message}`;
}

const choose = (device: 'webgpu' | 'wasm', why: ChoiceWhy, adapter?: DeviceInfo['adapter']): DeviceChoice => ({
  device,
  why,
  reason: describeChoice(why, device),
  ...(adapter ? { adapter } : {}),
});

/** Picks webgpu or wasm: `auto` takes WebGPU only on a hardware adapter; `webgpu` insists on one. */
export async function chooseDevice(req: DeviceRequest, probe: AdapterProbe): Promise<DeviceChoice> {
  if (req === 'wasm') return choose('wasm', { kind: 'requested', device: 'wasm' });
  let adapter: GpuAdapterLike | null = null;
  let why: Extract<ChoiceWhy, { kind: 'no-webgpu' | 'no-adapter' | 'adapter-failed' }> = { kind: 'no-webgpu' };
  if (probe.requestAdapter) {
    try {
      adapter = await probe.requestAdapter();
      if (!adapter) why = { kind: 'no-adapter' };
    } catch (e) {
      why = { kind: 'adapter-failed', message: (e as Error).message };
    }
  }
  if (!adapter) {
    if (req === 'webgpu')
      throw new HpdError(
        'DEVICE_UNAVAILABLE',
        `device "webgpu" was requested but ${unavailable(why)}. Use device "auto" or "wasm", or enable WebGPU.`,
      );
    return choose('wasm', why);
  }
  const info = adapter.info;
  const isFallbackAdapter = Boolean(info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const described = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    isFallbackAdapter,
    shaderF16: adapter.features.has('shader-f16'),
  };
  if (req === 'webgpu') return choose('webgpu', { kind: 'requested', device: 'webgpu' }, described);
  if (isFallbackAdapter)
    return choose(
      'wasm',
      { kind: 'software-adapter', vendor: described.vendor, architecture: described.architecture },
      described,
    );
  return choose('webgpu', { kind: 'hardware-adapter' }, described);
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
    } else if (inCpu && !/VerifyEachNodeIsAssignedToAnEp/.test(line)) inCpu = false;
  }
  return seen ? { nodes, cpuOps: [...cpuOps], cpuNodes } : undefined;
}
