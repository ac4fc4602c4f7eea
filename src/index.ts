// Browser entry point: re-exports only.
export { createEmbedder, browserHost, type BrowserEmbedderOptions } from './api/create-embedder.js';
export { Embedder, type EmbedderOptions, type IndexHandle, type WorkerHost } from './api/embedder.js';
export { HpdError, ConvertError, type HpdErrorCode } from './errors.js';
export type { DeviceInfo, DeviceRequest, Device, Placement } from './engine/device.js';
export type { EmbedResult, ModelInfo } from './engine/engine.js';
export type { LoadProgress } from './model/progress.js';
export type { ModelSpec } from './model/load.js';
export type { CacheEntry } from './model/cache.js';
export type { IndexHit, IndexSearchOptions, IndexStats } from './worker/worker-api.js';
export { CosineIndex, IdbIndexStore, OpfsIndexStore, type CosineIndexOptions, type IndexEntry, type SearchHit, type SearchOptions, type StorageKind, type JsonValue } from './search/index.js';
export { splitPassages, estimateTokens, type Passage, type SplitOptions } from './text/passages.js';
