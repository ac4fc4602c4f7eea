// Node entry point (`hpd-embed/node`): re-exports only.
export { createEmbedder, startNodeWorker, type NodeEmbedderOptions } from './create-embedder.js';
export {
  Embedder,
  type EmbedderOptions,
  type LifecycleOptions,
  type DebugOptions,
  type IndexHandle,
} from '../api/embedder.js';
export {
  HpdError,
  ConvertError,
  InvalidInputError,
  DimMismatchError,
  DuplicateIdError,
  CorruptIndexError,
  UnsupportedIndexVersionError,
  PersistError,
  ModelMismatchError,
  type IndexModelIdentity,
  type HpdErrorCode,
  type ErrorDetails,
} from '../errors.js';
export type { DeviceInfo, DeviceRequest, Placement } from '../engine/device.js';
export type { EmbedResult, ModelInfo } from '../engine/engine.js';
export type { LoadProgress } from '../model/progress.js';
export type { ModelSpec } from '../model/load.js';
export { createPassageTexts, type PassageTextsOptions, type HitWithChunk } from '../api/passage-texts.js';
export type { IndexOptions, IndexSource, IndexImportOptions, IndexImportProgress } from '../protocol/messages.js';
export {
  CosineIndex,
  type CosineIndexOptions,
  type SearchHit,
  type SearchOptions,
  type IndexStats,
  type IndexStore,
  type IndexPersistence,
  type StorageKind,
  type JsonValue,
} from '../search/index.js';
export {
  compileCheckpoint,
  memorySource,
  generateFixture,
  HPD_MINILM_F128,
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
export { splitPassages, estimateTokens, type Passage, type SplitOptions } from '../text/passages.js';
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
