import { parseJsonBytes } from '../bundle/json.js';
import { MANIFEST_FILE, type BundleManifest, type BundleProbes } from '../bundle/manifest.js';
import { sha256Hex } from '../bundle/sha256.js';
import type { ModelCache } from '../model/cache.js';
import type { Row } from './batcher.js';
import { checkModelBytes, checkSession, creationFailed } from './model-check.js';
import type { Ort, OrtSession } from './ort-types.js';
import { DEFAULT_BATCH_TOKENS, RunQueue } from './queue.js';
import { TextTokenizer } from './tokenizer.js';

/** Fixed probe sentences: short and long, punctuation, digits, an accent, so a broken kernel shows up in some row. */
export const PROBE_TEXTS: readonly string[] = [
  'A man is playing a flute.',
  'The stock market fell sharply on Tuesday after the central bank raised interest rates by 0.5%.',
  'Café owners in Zürich said: "we open at 7, close at 19, and never on Sundays!"',
  'x',
];

/** Below this cosine (any probe against its compile-time CPU vector) an execution provider is not trusted. */
export const GOLDEN_MIN_COSINE = 0.999;

const QUEUE_OPTS = { batchSize: 8, maxBatchTokens: DEFAULT_BATCH_TOKENS, maxRoundRows: 64 };

/** Embeds texts through an existing queue (the engine's own path: same tokenizer, batching and session). */
export async function embedWith(
  queue: RunQueue,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  dim: number,
): Promise<Float32Array> {
  const out = new Float32Array(texts.length * dim);
  const rows: Row[] = texts.map((t, i) => ({ ids: tokenizer.encode(t).ids, out, offset: i * dim }));
  await queue.submit(rows);
  return out;
}

/** The smallest cosine between each embedded probe and its recorded vector (NaN counts as -1). */
export function minCosine(got: Float32Array, probes: BundleProbes, dim: number): number {
  let worst = 1;
  probes.vectors.forEach((want, i) => {
    let dot = 0,
      a = 0,
      b = 0;
    for (let j = 0; j < dim; j++) {
      const x = got[i * dim + j],
        y = want[j];
      dot += x * y;
      a += x * x;
      b += y * y;
    }
    const c = dot / Math.sqrt(a * b);
    worst = Math.min(worst, Number.isFinite(c) ? c : -1);
  });
  return worst;
}

/**
 * The probes' vectors from a CPU run (wasm or onnxruntime-node) of a freshly compiled model: the reference the
 * runtime later checks each device against. Kept out of src/convert, which stays free of ORT.
 */
export async function computeProbes(
  ort: Ort,
  ep: 'wasm' | 'cpu',
  model: Uint8Array,
  tokenizerJson: object,
  tokenizerConfig: object,
  manifest: BundleManifest,
): Promise<BundleProbes> {
  checkModelBytes(model, manifest, tokenizerJson);
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw creationFailed(e);
  }
  try {
    checkSession(session);
    const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, manifest.maxTokens);
    const v = await embedWith(
      new RunQueue(ort, session, manifest.dim, QUEUE_OPTS),
      tokenizer,
      PROBE_TEXTS,
      manifest.dim,
    );
    // 1e-6 steps keep hpd.json small and are far below the 0.999 cosine threshold.
    const vectors = PROBE_TEXTS.map((_, i) =>
      Array.from(v.subarray(i * manifest.dim, (i + 1) * manifest.dim), (x) => Math.round(x * 1e6) / 1e6),
    );
    return { texts: [...PROBE_TEXTS], vectors, ep };
  } finally {
    await session.release();
  }
}

/** Files of a compiled bundle with `probes` added to hpd.json (hpd.json itself carries no hash, so nothing else changes). */
export function withProbes<B extends { manifest: BundleManifest; files: Map<string, Uint8Array> }>(
  bundle: B,
  probes: BundleProbes,
): B {
  const manifest: BundleManifest = { ...bundle.manifest, probes };
  const files = new Map(bundle.files);
  files.set(MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { ...bundle, manifest, files };
}

export interface GoldenVerdict {
  ok: boolean;
  minCosine: number;
}

/** Verdicts per model, probes and adapter: in the model cache (Cache Storage in browsers), so a GPU is checked once. */
export async function verdictKey(
  manifest: BundleManifest,
  ep: string,
  adapter: { vendor: string; architecture: string } | undefined,
): Promise<string> {
  const probesHash = (await sha256Hex(new TextEncoder().encode(JSON.stringify(manifest.probes)))).slice(0, 16);
  return `golden:${manifest.files.model.sha256}:${probesHash}:${ep}:${adapter ? `${adapter.vendor}/${adapter.architecture}` : 'cpu'}`;
}

export async function readVerdict(cache: ModelCache, key: string): Promise<GoldenVerdict | undefined> {
  try {
    const bytes = await cache.get(key);
    return bytes ? parseJsonBytes<GoldenVerdict>(bytes, `golden verdict ${key}`, 'MODEL_INVALID') : undefined;
  } catch {
    return undefined; // an unreadable verdict only means the probes run again
  }
}

export async function writeVerdict(cache: ModelCache, key: string, v: GoldenVerdict): Promise<void> {
  try {
    await cache.put(key, new TextEncoder().encode(JSON.stringify(v)));
  } catch {
    // Best effort: without a stored verdict the probes simply run again next time.
  }
}
