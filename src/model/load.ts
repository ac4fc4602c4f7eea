// loadModel: a short dispatcher from a model spec to a ready-to-run bundle (in-memory files, a cached compile, a
// compiled bundle behind a URL, or a checkpoint built through the engine's `build`).
import {
  MANIFEST_FILE,
  checkDtype,
  parseManifest,
  type BundleFile,
  type BundleManifest,
  type WeightDtype,
} from '../bundle/manifest.js';
import { parseJsonBytes } from '../bundle/json.js';
import { sha256Hex } from '../bundle/sha256.js';
import { memorySource, type FileSource } from '../bundle/source.js';
import type { CompiledBundle, CompileOptions, CompileProgress } from '../convert/compile.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { bestEffortCache, noCache, type ModelCache } from './cache.js';
import { fetchBytes, isWebPage, verifySha256, type FetchLike } from './fetch.js';
import { DEFAULT_HUB_URL } from './hub.js';
import { locate, type Remote } from './locate.js';
import { modelNotFound, withPathHint } from './not-found.js';
import { DownloadTracker, type LoadProgress } from './progress.js';
import { MAX_TEXT_FILE_BYTES, openRemoteCheckpoint } from './remote-checkpoint.js';
import type { ModelSpec } from './spec.js';

/** Compiles a checkpoint into a bundle with golden probes: the engine's `buildBundle` with its CPU runtime. */
export type BuildBundle = (src: FileSource, options: CompileOptions) => Promise<CompiledBundle>;

export interface LoadOptions {
  cache: ModelCache;
  fetch: FetchLike;
  /** How a checkpoint becomes a bundle (compile + probes); model/ cannot reach the engine's CPU runtime itself. */
  build: BuildBundle;
  hubUrl?: string;
  /** Weight dtype to compile a checkpoint to; for a compiled bundle it must match the bundle's. */
  dtype?: WeightDtype;
  onProgress?: (p: LoadProgress) => void;
  /** Stops every download of this load: the promise rejects with ABORTED. */
  signal?: AbortSignal;
}

export interface LoadedModel {
  manifest: BundleManifest;
  model: Uint8Array;
  tokenizerJson: object;
  tokenizerConfig: object;
  /** How it was obtained: a compiled bundle, or a checkpoint compiled here; and whether the network was needed. */
  origin: { kind: 'bundle' | 'checkpoint'; location: string; fromCache: boolean };
}

/**
 * Resolves a model spec to a ready-to-run bundle: in-memory files, or a folder URL / Hub repo holding a compiled
 * bundle (hpd.json) or a checkpoint to compile. A path must already be resolved to a URL by the host.
 */
export async function loadModel(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
  const dtype = opts.dtype === undefined ? undefined : checkDtype(opts.dtype);
  if (typeof spec !== 'string') return loadFiles(spec, dtype, opts);
  const remote = locate(spec, opts.hubUrl ?? DEFAULT_HUB_URL);
  // Local folders (file: URLs in Node) are already on disk: caching them would only duplicate them.
  const cache = bestEffortCache(remote.base.startsWith('file:') ? noCache() : opts.cache, (key, reason) =>
    opts.onProgress?.({ stage: 'cache', ok: false, key, reason }),
  );
  const compiledPrefix = `compiled:${remote.base}#${dtype ?? 'fp32'}/`;
  const compiled = await cachedCompile(remote.base, compiledPrefix, cache, dtype, opts);
  if (compiled) return compiled;
  const manifest = await fetchManifest(remote, cache, opts).catch(withPathHint(remote));
  if (manifest) return bundleSource(remote, manifest, cache, dtype, opts);
  return checkpointSource(remote, compiledPrefix, cache, dtype, opts);
}

async function loadFiles(
  spec: Exclude<ModelSpec, string>,
  dtype: WeightDtype | undefined,
  opts: LoadOptions,
): Promise<LoadedModel> {
  if (!spec || typeof spec !== 'object' || !spec.files)
    throw new InvalidInputError('model must be a URL, a Hugging Face repo id, or { files }.');
  const src = memorySource(spec.files, spec.name ?? 'in-memory files');
  const manifestBytes = await src.read(MANIFEST_FILE);
  const location = src.label;
  if (manifestBytes)
    return bundleFromSource(src, parseManifest(manifestBytes, `${location}/${MANIFEST_FILE}`), dtype, {
      kind: 'bundle',
      location,
      fromCache: false,
    });
  const compiled = await opts.build(src, {
    ...(dtype ? { dtype } : {}),
    ...(spec.name ? { name: spec.name } : {}),
    ...compileProgress(opts),
  });
  return fromCompiled(compiled, { kind: 'checkpoint', location, fromCache: false });
}

/** A checkpoint compiled earlier loads with no network at all. */
async function cachedCompile(
  base: string,
  compiledPrefix: string,
  cache: BestEffortCache,
  dtype: WeightDtype | undefined,
  opts: LoadOptions,
): Promise<LoadedModel | undefined> {
  const cachedManifest = await cache.get(compiledPrefix + MANIFEST_FILE);
  if (!cachedManifest) return undefined;
  const manifest = parseManifest(cachedManifest, `cached ${compiledPrefix}${MANIFEST_FILE}`);
  const src: FileSource = { label: `cache:${base}`, read: (p) => cache.get(compiledPrefix + p) };
  try {
    return await bundleFromSource(
      src,
      manifest,
      dtype,
      { kind: 'checkpoint', location: base, fromCache: true },
      { verified: false, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
    );
  } catch (e) {
    if (!(e instanceof HpdError) || e.code !== 'MODEL_INTEGRITY') throw e;
    await cache.clear(compiledPrefix); // a damaged cache entry: rebuild it
    return undefined;
  }
}

/** hpd.json decides: a compiled bundle, or (404, or a web page) a sentence-transformers checkpoint. */
async function fetchManifest(
  r: Remote,
  cache: BestEffortCache,
  opts: LoadOptions,
): Promise<BundleManifest | undefined> {
  const manifestUrl = r.url(MANIFEST_FILE);
  let manifestBytes: Uint8Array | undefined;
  try {
    const got = await fetchBytes(opts.fetch, manifestUrl, {
      optional: true,
      maxBytes: MAX_TEXT_FILE_BYTES,
      ...signalOf(opts),
    });
    // A web page (a dev server's SPA fallback) instead of hpd.json: no bundle here, as a 404 would say.
    manifestBytes = got && !isWebPage(got, MANIFEST_FILE) ? got.bytes : undefined;
    if (manifestBytes) await cache.put(`manifest:${manifestUrl}`, manifestBytes);
  } catch (e) {
    if (e instanceof HpdError && e.code === 'ABORTED') throw e;
    // Offline: a bundle seen before still loads from the cache.
    manifestBytes = await cache.get(`manifest:${manifestUrl}`);
    if (!manifestBytes) throw e;
  }
  return manifestBytes ? parseManifest(manifestBytes, manifestUrl) : undefined;
}

/** A compiled bundle behind a URL: each file from the cache when it hashes right, else downloaded and verified. */
async function bundleSource(
  r: Remote,
  manifest: BundleManifest,
  cache: BestEffortCache,
  dtype: WeightDtype | undefined,
  opts: LoadOptions,
): Promise<LoadedModel> {
  const files = bundleFiles(manifest);
  const tracker = new DownloadTracker(opts.onProgress, new Map(files.map((f) => [f.path, f.bytes])));
  const src: FileSource = {
    label: r.base,
    read: async (path) => {
      const f = files.find((x) => x.path === path);
      if (!f) return undefined;
      const key = `${r.url(path)}?sha256=${f.sha256}`;
      const hit = await cache.get(key);
      // A damaged cache entry is simply downloaded again.
      if (hit && hit.byteLength === f.bytes && (await sha256Hex(hit)) === f.sha256) {
        tracker.update(path, hit.byteLength, hit.byteLength, true);
        return hit;
      }
      const got = await fetchBytes(opts.fetch, r.url(path), {
        maxBytes: f.bytes,
        onBytes: (l, t) => tracker.update(path, l, t),
        ...signalOf(opts),
      });
      await verifySha256(got!.bytes, f.sha256, r.url(path)); // before caching, so nothing bad is kept
      await cache.put(key, got!.bytes);
      return got!.bytes;
    },
  };
  return bundleFromSource(
    src,
    manifest,
    dtype,
    { kind: 'bundle', location: r.base, fromCache: false },
    { verified: true },
  );
}

/** A checkpoint behind a URL: downloaded, built into a bundle, and cached (manifest last: it marks the entry whole). */
async function checkpointSource(
  r: Remote,
  compiledPrefix: string,
  cache: BestEffortCache,
  dtype: WeightDtype | undefined,
  opts: LoadOptions,
): Promise<LoadedModel> {
  const checkpoint = await openRemoteCheckpoint({
    url: r.url,
    label: r.repo ? `${r.repo.repo}@${r.repo.revision}` : r.base,
    fetch: opts.fetch,
    notFound: (configUrl, html) => modelNotFound(r, configUrl, html),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...signalOf(opts),
  }).catch(withPathHint(r));
  const compiled = await opts.build(checkpoint, {
    ...(dtype ? { dtype } : {}),
    ...(r.repo ? { source: r.repo, name: r.repo.repo.split('/')[1].toLowerCase() } : {}),
    ...compileProgress(opts),
  });
  for (const [path, bytes] of compiled.files) if (path !== MANIFEST_FILE) await cache.put(compiledPrefix + path, bytes);
  if (!cache.failed) await cache.put(compiledPrefix + MANIFEST_FILE, compiled.files.get(MANIFEST_FILE)!);
  return fromCompiled(compiled, { kind: 'checkpoint', location: r.base, fromCache: false });
}

const signalOf = (o: { signal?: AbortSignal }) => (o.signal ? { signal: o.signal } : {});

type BestEffortCache = ReturnType<typeof bestEffortCache>;

function compileProgress(opts: LoadOptions): Pick<CompileOptions, 'onProgress'> {
  const emit = opts.onProgress;
  return emit
    ? { onProgress: (p: CompileProgress) => emit({ stage: 'compile', step: p.stage, fraction: p.fraction }) }
    : {};
}

function bundleFiles(m: BundleManifest): BundleFile[] {
  return [m.files.model, m.files.tokenizer, ...(m.files.tokenizerConfig ? [m.files.tokenizerConfig] : [])];
}

/** Reads a bundle's files through `src`, checking each against the manifest unless the source already did. */
async function bundleFromSource(
  src: FileSource,
  manifest: BundleManifest,
  dtype: WeightDtype | undefined,
  origin: LoadedModel['origin'],
  opts: { verified: boolean; onProgress?: (p: LoadProgress) => void } = { verified: false },
): Promise<LoadedModel> {
  if (dtype && manifest.dtype !== dtype) {
    throw new HpdError(
      'MODEL_INVALID',
      `${origin.location} is a compiled ${manifest.dtype} bundle but dtype "${dtype}" was asked for; omit dtype or point at a ${dtype} bundle.`,
    );
  }
  const read = async (f: BundleFile) => {
    const bytes = await src.read(f.path);
    if (!bytes) throw new HpdError('MODEL_FETCH_FAILED', `${src.label}: ${f.path} is missing.`);
    if (!opts.verified) await verifySha256(bytes, f.sha256, `${src.label}/${f.path}`);
    return bytes;
  };
  const tracker = opts.onProgress
    ? new DownloadTracker(opts.onProgress, new Map(bundleFiles(manifest).map((f) => [f.path, f.bytes])))
    : undefined;
  const model = await read(manifest.files.model);
  tracker?.update(manifest.files.model.path, model.byteLength, model.byteLength, true);
  const tokenizer = await read(manifest.files.tokenizer);
  tracker?.update(manifest.files.tokenizer.path, tokenizer.byteLength, tokenizer.byteLength, true);
  const config = manifest.files.tokenizerConfig ? await read(manifest.files.tokenizerConfig) : undefined;
  return {
    manifest,
    model,
    tokenizerJson: parseJsonFile(tokenizer, manifest.files.tokenizer.path),
    tokenizerConfig: config ? parseJsonFile(config, 'tokenizer_config.json') : {},
    origin,
  };
}

function fromCompiled(c: CompiledBundle, origin: LoadedModel['origin']): LoadedModel {
  const cfg = c.files.get('tokenizer_config.json');
  return {
    manifest: c.manifest,
    model: c.files.get('model.onnx')!,
    tokenizerJson: parseJsonFile(c.files.get('tokenizer.json')!, 'tokenizer.json'),
    tokenizerConfig: cfg ? parseJsonFile(cfg, 'tokenizer_config.json') : {},
    origin,
  };
}

function parseJsonFile(bytes: Uint8Array, what: string): object {
  return parseJsonBytes<object>(bytes, `${what} in the model bundle`, 'MODEL_INVALID');
}
