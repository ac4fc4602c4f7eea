// `hpd-embed/vite`: a thin adapter over index-build (no second indexing path). At `vite build` and when the dev
// server starts (again on each change) it builds the configured indexes, keeping the previous build's vectors for
// unchanged documents; emits each as a hashed asset (served from memory in dev); and gives pages their URLs and
// integrity through the virtual module `virtual:hpd-embed`. It can also ship the model bundle itself as assets.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';
import type { Plugin, ResolvedConfig, ViteDevServer } from 'vite';
import type { Embedder } from '../api/embedder.js';
import { buildBundle } from '../engine/build-bundle.js';
import { wasmProbes } from '../node/probe-runtime.js';
import { InvalidInputError } from '../errors.js';
import type { StorageKind } from '../search/types.js';
import { isDocumentFile } from '../text/documents.js';
import { writeFileAtomic, readFileIfExists } from '../node/atomic-write.js';
import { createEmbedder, type NodeEmbedderOptions } from '../node/create-embedder.js';
import { folderSource } from '../node/fs-source.js';
import { buildIndex, type BuildStats, type TextPlacement } from '../node/index-build.js';

export interface IndexConfig {
  /** Glob(s) of documents, relative to the Vite root (.md, .markdown, .txt, .html, .jsonl). */
  include: string | string[];
  /** Globs to leave out. */
  exclude?: string[];
  storage?: StorageKind;
  /** The folder passage ids are relative to (default: the Vite root). */
  root?: string;
  /** 'chunks': passage texts in small chunk assets fetched per hit (createPassageTexts(indexes[name].texts)). */
  texts?: TextPlacement;
}

export interface HpdEmbedPluginOptions {
  /** The model the indexes are built with: a bundle folder (hpd.json), a checkpoint folder, or a Hugging Face repo id. */
  model: string;
  /** Index name → its documents. */
  indexes: Record<string, IndexConfig>;
  /**
   * Ship the model as assets under `<base>hpd-models/<name>/` (a local bundle as it is; a checkpoint folder compiled),
   * exported as `modelUrl`; a repo id is never copied (the page loads it from the Hub, `modelUrl` is the id).
   */
  emitModel?: boolean;
  /** Where the previous build's index files are kept, for reuse (default `<root>/node_modules/.hpd-embed`). */
  cacheDir?: string;
  /** Options for the Node embedder that builds (device, threads, cacheDir, …). */
  embedder?: Omit<NodeEmbedderOptions, 'model'>;
  /** Called after each index build (default: one line on the Vite logger). */
  onBuild?: (name: string, stats: BuildStats) => void;
}

export const VIRTUAL_ID = 'virtual:hpd-embed';
const RESOLVED = `\0${VIRTUAL_ID}`;
const DEV_PREFIX = '@hpd-embed/';

interface Built {
  bytes: Uint8Array;
  fileName: string;
  integrity: string;
  /** Text chunks by asset file name (under `assets/<name>-texts/`). */
  chunks: Map<string, Uint8Array>;
}

/** The Vite plugin: `plugins: [hpdEmbed({ model, indexes: { docs: { include: 'docs/**\/*.md' } } })]`. */
export function hpdEmbed(options: HpdEmbedPluginOptions): Plugin {
  const names = Object.keys(options.indexes ?? {});
  if (typeof options.model !== 'string' || names.length === 0)
    throw new InvalidInputError('hpdEmbed({ model, indexes }) needs a model and at least one index.');
  for (const n of names)
    if (!/^[\w.-]+$/.test(n))
      throw new InvalidInputError(`index name "${n}" may use letters, digits, "_", "-" and "." only.`);
  let config: ResolvedConfig;
  let embedder: Promise<Embedder> | undefined;
  let server: ViteDevServer | undefined;
  const built = new Map<string, Built>();
  /** Each index's documents at its last build (so a deleted one triggers a rebuild too). */
  const inputs = new Map<string, Set<string>>();
  let model: { url: string; files: Map<string, Uint8Array> } | undefined;
  let building: Promise<void> = Promise.resolve();

  const root = () => config.root;
  const cacheDir = () => resolve(root(), options.cacheDir ?? 'node_modules/.hpd-embed');
  const modelPath = () => {
    const p = resolve(root(), options.model);
    return existsSync(p) && statSync(p).isDirectory() ? p : undefined;
  };
  const open = () =>
    (embedder ??= createEmbedder({ ...(options.embedder ?? {}), model: modelPath() ?? options.model }));

  async function files(c: IndexConfig): Promise<string[]> {
    const include = Array.isArray(c.include) ? c.include : [c.include];
    const found = await glob(include, { cwd: root(), absolute: true, ignore: c.exclude ?? [], onlyFiles: true });
    return found.filter(isDocumentFile).sort();
  }

  async function buildOne(name: string): Promise<void> {
    const c = options.indexes[name];
    const found = await files(c);
    if (found.length === 0)
      throw new InvalidInputError(`hpd-embed index "${name}": no documents match ${JSON.stringify(c.include)}.`);
    inputs.set(name, new Set(found));
    const e = await open();
    const { name: modelName, dim, dtype, sha256 } = e.info;
    const keep = join(cacheDir(), `${name}.hpdx`);
    const previous = await readFileIfExists(keep);
    const result = await buildIndex({
      inputs: found,
      root: resolve(root(), c.root ?? '.'),
      embed: (texts) => e.embed(texts),
      model: { name: modelName, dim, dtype, sha256 },
      ...(c.storage ? { storage: c.storage } : {}),
      ...(c.texts ? { texts: c.texts } : {}),
      ...(previous ? { previous } : {}),
    });
    const bytes = new Uint8Array(result.file);
    await writeFileAtomic(keep, bytes);
    const digest = createHash('sha256').update(bytes);
    const hex = digest.copy().digest('hex');
    built.set(name, {
      bytes,
      fileName: `assets/${name}-${hex.slice(0, 10)}.hpdx`,
      integrity: `sha256-${digest.digest('base64')}`,
      chunks: new Map([...(result.chunks ?? [])].map(([k, v]) => [`${textsDir(name)}${k}.json`, v])),
    });
    (options.onBuild ?? ((n, s) => config.logger.info(`hpd-embed: index "${n}": ${describe(s)}`)))(name, result.stats);
  }

  const buildAll = () => (building = building.then(async () => void (await Promise.all(names.map(buildOne)))));

  async function loadModelFiles(): Promise<void> {
    if (!options.emitModel || model) return;
    const dir = modelPath();
    if (!dir) return; // a repo id: the page loads it from the Hub
    const out = new Map<string, Uint8Array>();
    if (existsSync(join(dir, 'hpd.json'))) {
      for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (!f.isFile() || f.name.startsWith('.')) continue;
        const p = join(f.parentPath, f.name);
        out.set(relative(dir, p).split(sep).join('/'), new Uint8Array(await readFile(p)));
      }
    } else {
      // The one way to make a bundle: compiled, then golden probes recorded, so WebGPU checks it before trusting it.
      const compiled = await buildBundle(folderSource(dir), { probes: await wasmProbes() });
      for (const [p, b] of compiled.files) out.set(p, b);
    }
    const name = dir
      .split(sep)
      .pop()!
      .replace(/[^\w.-]/g, '_');
    model = { url: `hpd-models/${name}/`, files: out };
  }

  const textsDir = (name: string) => `assets/${name}-texts/`;
  const url = (fileName: string) => (server ? `${config.base}${DEV_PREFIX}${fileName}` : `${config.base}${fileName}`);

  return {
    name: 'hpd-embed',
    configResolved(c) {
      config = c;
    },
    async buildStart() {
      await Promise.all([buildAll(), loadModelFiles()]);
      await building;
      if (server) return;
      for (const b of built.values()) {
        this.emitFile({ type: 'asset', fileName: b.fileName, source: b.bytes });
        for (const [fileName, source] of b.chunks) this.emitFile({ type: 'asset', fileName, source });
      }
      if (model)
        for (const [p, bytes] of model.files)
          this.emitFile({ type: 'asset', fileName: `${model.url}${p}`, source: bytes });
    },
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED : undefined;
    },
    async load(id) {
      if (id !== RESOLVED) return undefined;
      await building;
      const indexes: Record<string, { url: string; integrity: string; bytes: number; texts?: string }> = {};
      for (const [n, b] of built)
        indexes[n] = {
          url: url(b.fileName),
          integrity: b.integrity,
          bytes: b.bytes.length,
          ...(b.chunks.size ? { texts: url(textsDir(n)) } : {}),
        };
      const modelUrl = model ? url(model.url) : options.model;
      return `export const indexes = ${JSON.stringify(indexes)};\nexport const modelUrl = ${JSON.stringify(modelUrl)};\n`;
    },
    configureServer(s) {
      server = s;
      s.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const prefix = `${config.base}${DEV_PREFIX}`;
        if (!path.startsWith(prefix)) return next();
        const file = decodeURIComponent(path.slice(prefix.length));
        let bytes: Uint8Array | undefined;
        for (const b of built.values()) bytes ??= b.fileName === file ? b.bytes : b.chunks.get(file);
        if (!bytes && model && file.startsWith(model.url)) bytes = model.files.get(file.slice(model.url.length));
        if (!bytes) return next();
        res.setHeader('content-type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('content-length', String(bytes.length));
        res.end(bytes);
      });
      // A change to a document of an index (matched again by its globs, or one it had) rebuilds the indexes, reusing
      // every unchanged document's vectors, then reloads the pages.
      const onChange = (file: string) => {
        if (!isDocumentFile(file)) return;
        const abs = resolve(file);
        void Promise.all(
          names.map(async (n) => inputs.get(n)?.has(abs) || (await files(options.indexes[n])).includes(abs)),
        )
          .then((hit) => {
            if (!hit.some(Boolean)) return;
            return buildAll().then(() => {
              const mod = s.moduleGraph.getModuleById(RESOLVED);
              if (mod) s.moduleGraph.invalidateModule(mod);
              s.ws.send({ type: 'full-reload' });
            });
          })
          .catch((e: unknown) => config.logger.error(`hpd-embed: rebuild failed: ${(e as Error).message}`));
      };
      s.watcher.on('change', onChange);
      s.watcher.on('add', onChange);
      s.watcher.on('unlink', onChange);
      s.httpServer?.once('close', () => void close());
    },
    async closeBundle() {
      if (!server) await close();
    },
  };

  async function close(): Promise<void> {
    const e = embedder;
    embedder = undefined;
    await (await e?.catch(() => undefined))?.dispose();
  }
}

function describe(s: BuildStats): string {
  return `${s.documents} documents, ${s.passages} passages (${s.embedded} embedded, ${s.reused} reused), ${s.bytes} bytes, ${s.seconds.toFixed(1)} s`;
}
