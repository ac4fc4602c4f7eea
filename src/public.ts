// The public names both entries (`hpd-embed`, `hpd-embed/node`) export: one list, so they cannot drift. An entry adds
// only what its environment alone has (createEmbedder's host, stores, files); re-exports only.
export {
  Embedder,
  type EmbedderOptions,
  type LifecycleOptions,
  type DebugOptions,
  type IndexHandle,
} from './api/embedder.js';
// Every error class and its code union (src/errors.ts holds nothing else).
export * from './errors.js';
export type { DeviceInfo, DeviceRequest, Device, Placement } from './engine/device.js';
export type { EmbedResult, ModelInfo } from './engine/engine.js';
export type { LoadProgress } from './model/progress.js';
export type { ModelSpec } from './model/spec.js';
export type { CacheEntry } from './model/cache.js';
export { createPassageTexts, type PassageTextsOptions, type HitWithChunk } from './api/passage-texts.js';
export type { IndexOptions, IndexSource, IndexImportOptions, IndexImportProgress } from './protocol/messages.js';
export {
  CosineIndex,
  type CosineIndexOptions,
  type IndexEntry,
  type SearchHit,
  type SearchOptions,
  type IndexStats,
  type IndexStore,
  type IndexPersistence,
  type StorageKind,
  type JsonValue,
  type SearchMode,
  type HitSources,
  type TextSpan,
  type KeywordOptions,
  type VectorsOptions,
  termSpans,
  type TermSpan,
} from './search/index.js';
export { splitPassages, estimateTokens, type Passage, type SplitOptions } from './text/passages.js';
