// Browser entry point: re-exports only.
export { createEmbedder, type BrowserEmbedderOptions } from './api/create-embedder.js';
export {
  Embedder,
  type EmbedderOptions,
  type LifecycleOptions,
  type DebugOptions,
  type IndexHandle,
} from './api/embedder.js';
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
} from './errors.js';
export type { DeviceInfo, DeviceRequest, Device, Placement } from './engine/device.js';
export type { EmbedResult, ModelInfo } from './engine/engine.js';
export type { LoadProgress } from './model/progress.js';
export type { ModelSpec } from './model/load.js';
export type { CacheEntry } from './model/cache.js';
export { createPassageTexts, type PassageTextsOptions, type HitWithChunk } from './api/passage-texts.js';
export type { IndexOptions, IndexSource, IndexImportOptions, IndexImportProgress } from './protocol/messages.js';
export {
  CosineIndex,
  IdbIndexStore,
  OpfsIndexStore,
  type CosineIndexOptions,
  type IndexEntry,
  type SearchHit,
  type SearchOptions,
  type IndexStats,
  type IndexStore,
  type IndexPersistence,
  type StorageKind,
  type JsonValue,
} from './search/index.js';
export { splitPassages, estimateTokens, type Passage, type SplitOptions } from './text/passages.js';
