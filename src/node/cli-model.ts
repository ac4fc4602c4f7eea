// The model flags every embedding command shares (embed, search, bench, eval): their checks, the Hub reachability
// check, loading the embedder, and the model line printed first.
import { existsSync } from 'node:fs';
import type { Embedder } from '../api/embedder.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../bundle/manifest.js';
import type { DeviceRequest } from '../engine/device.js';
import type { DeviceInfo } from '../engine/device.js';
import type { ModelInfo } from '../engine/engine.js';
import { HpdError } from '../errors.js';
import { DEFAULT_HUB_URL, hubFileUrl, parseRepoId } from '../model/hub.js';
import { UsageError, type CliIO } from './cli-io.js';
import { createEmbedder } from './create-embedder.js';
import { NATIVE_INSTALL, nativeRuntimeInstalled } from './platform.js';

export const MODEL_FLAGS = `--model is a compiled bundle folder or URL (with hpd.json), a sentence-transformers checkpoint folder,
  or a Hugging Face repo id owner/name[@revision]; --hub-url URL and --dtype ${WEIGHT_DTYPES.join('|')} apply to repo ids,
  and a repo id's Hub is checked first: no answer within --hub-timeout seconds (default 15) fails at once.
  --device auto|webgpu|wasm (default auto: onnxruntime-node's CPU runtime when installed, else wasm), --batch N (most texts per
  session run, default 32; a run holds at most 4096 padded tokens, so long texts run in smaller batches).`;

/** parseArgs options for the model flags. */
export const modelOptions = {
  model: { type: 'string' },
  device: { type: 'string', default: 'auto' },
  batch: { type: 'string' },
  'hub-url': { type: 'string' },
  'hub-timeout': { type: 'string', default: '15' },
  dtype: { type: 'string' },
} as const;

export interface ModelFlagValues {
  model?: string;
  device?: string;
  batch?: string;
  'hub-url'?: string;
  'hub-timeout'?: string;
  dtype?: string;
}

export interface ModelSettings {
  model: string;
  device: DeviceRequest;
  batchSize?: number;
  hubUrl: string;
  hubTimeout: number;
  dtype?: WeightDtype;
}

const DEVICES: readonly string[] = ['auto', 'webgpu', 'wasm'];

/** Checks the model flags (usage errors, exit 2) without loading anything, so commands can check them first. */
export function modelSettings(v: ModelFlagValues): ModelSettings {
  if (!v.model) throw new UsageError('--model is required (a bundle folder, a bundle URL, or a Hugging Face repo id).');
  const device = v.device ?? 'auto';
  if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of auto, webgpu, wasm, got "${device}".`);
  const batchSize = v.batch === undefined ? undefined : Number(v.batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))
    throw new UsageError(`--batch must be a positive integer, got "${v.batch}".`);
  const hubTimeout = Number(v['hub-timeout'] ?? '15');
  if (!(hubTimeout > 0 && Number.isFinite(hubTimeout)))
    throw new UsageError(`--hub-timeout must be a positive number of seconds, got "${v['hub-timeout']}".`);
  if (v.dtype !== undefined && !(WEIGHT_DTYPES as readonly string[]).includes(v.dtype))
    throw new UsageError(`--dtype must be one of ${WEIGHT_DTYPES.join(', ')}, got "${v.dtype}".`);
  return {
    model: v.model,
    device: device as DeviceRequest,
    ...(batchSize ? { batchSize } : {}),
    hubUrl: v['hub-url'] ?? DEFAULT_HUB_URL,
    hubTimeout,
    ...(v.dtype ? { dtype: v.dtype as WeightDtype } : {}),
  };
}

/**
 * Fails fast when a repo id's Hub cannot be reached (refused, unresolvable, or silent past `seconds`), instead of
 * leaving the user waiting on the worker's first download. A string naming an existing local folder is not a repo id.
 */
async function checkHubReachable(model: string, hubUrl: string, seconds: number): Promise<void> {
  if (existsSync(model)) return;
  const repo = parseRepoId(model);
  if (!repo) return;
  const url = hubFileUrl(hubUrl, repo, 'config.json');
  try {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(seconds * 1000) });
    await res.body?.cancel();
  } catch (cause) {
    const why =
      (cause as Error).name === 'TimeoutError'
        ? `no answer within ${seconds} s`
        : ((cause as { cause?: Error }).cause?.message ?? (cause as Error).message);
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `cannot reach the Hugging Face Hub for ${model} at ${hubUrl} (${why}). Check the network, pass --hub-url for a mirror, or run \`hpd-embed convert\` on a local checkpoint and pass the bundle folder.`,
      { cause },
    );
  }
}

/** Says, wherever a model is named, that its weights are random (a `hpd-embed fixture` checkpoint). */
export const RANDOM_WEIGHTS_NOTE = 'random weights: rankings are meaningless';

/**
 * The first line a command prints about its model. `hinted`: the onnxruntime-node note was already printed, so the
 * reason's copy of it is left out (it would print twice).
 */
export function modelLine(info: ModelInfo, device: DeviceInfo, hinted: boolean): string {
  const reason = device.reason
    .split('; ')
    .filter((part) => !(hinted && part.includes(NATIVE_INSTALL)))
    .join('; ');
  const random = info.randomWeights ? `, ${RANDOM_WEIGHTS_NOTE}` : '';
  return `model ${info.name} (${info.dim}-d, ${info.dtype}${random}) on ${device.actual}, ${device.threads} thread(s): ${reason}\n`;
}

/** Checks the Hub (repo ids), loads the embedder with progress on stderr, and prints the model line. */
export async function openEmbedder(s: ModelSettings, io: CliIO): Promise<Embedder> {
  // First, before any progress: the CPU path is several times slower without the native runtime.
  const hinted = s.device === 'auto' && !nativeRuntimeInstalled();
  if (hinted)
    io.err(
      `note: onnxruntime-node is not installed, so the CPU path runs on wasm (several times slower). Add it: ${NATIVE_INSTALL}\n`,
    );
  await checkHubReachable(s.model, s.hubUrl, s.hubTimeout);
  let lastPct = -1;
  const e = await createEmbedder({
    model: s.model,
    device: s.device,
    ...(s.batchSize ? { batchSize: s.batchSize } : {}),
    ...(s.hubUrl !== DEFAULT_HUB_URL ? { hubUrl: s.hubUrl } : {}),
    ...(s.dtype ? { dtype: s.dtype } : {}),
    onProgress: (p) => {
      if (p.stage === 'download' && p.aggregate.total) {
        const pct = Math.floor((100 * p.aggregate.loaded) / p.aggregate.total);
        if (pct !== lastPct && pct % 10 === 0) io.err(`loading model files ${pct}%\n`);
        lastPct = pct;
      } else if (p.stage === 'compile' && p.step === 'layout') io.err('compiling checkpoint…\n');
    },
  });
  io.err(modelLine(e.info, e.device, hinted));
  return e;
}
