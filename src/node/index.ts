// Node entry point (`hpd-embed/node`): the shared public names (src/public.ts) and Node's own; re-exports only.
export * from '../public.js';
export { createEmbedder, startNodeWorker, type NodeEmbedderOptions } from './create-embedder.js';
export { buildBundle, type BuildOptions, type ProbeRuntime } from '../engine/build-bundle.js';
export { wasmProbes } from './probe-runtime.js';
export {
  memorySource,
  type CompileOptions,
  type CompiledBundle,
  type BundleManifest,
  type FileSource,
  type WeightDtype,
} from '../convert/index.js';
export { folderSource } from './fs-source.js';
export { folderCache, defaultCacheDir } from './fs-cache.js';
export { writeFolderAtomic } from './write-folder.js';
export { main as cli } from './cli.js';
export {
  evaluateSts,
  evaluateRetrieval,
  parseSts,
  parseBeir,
  spearman,
  pearson,
  type StsData,
  type StsFormat,
  type BeirData,
  type StsResult,
  type RetrievalResult,
  type RetrievalScores,
  type EmbedFn,
} from '../eval/index.js';
export { readStsFile, readBeirFolder, readTeacherProjection } from './eval-files.js';
export { projectTeacher, type TeacherProjection } from '../search/project-teacher.js';
