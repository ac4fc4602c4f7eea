// Public surface of src/search (`hpd-embed/search`): re-exports only, and only what users call or type against;
// internals (TopK, crc32, the codec, quantisation, kernels) are imported from their files by the code and tests that need them.
export { CosineIndex } from './cosine-index.js';
export type { CosineIndexOptions, IndexEntry } from './cosine-index.js';
export {
  HpdError,
  InvalidInputError,
  DimMismatchError,
  DuplicateIdError,
  CorruptIndexError,
  UnsupportedIndexVersionError,
  PersistError,
  ModelMismatchError,
} from './errors.js';
export type { SearchErrorCode } from './errors.js';
export { IdbIndexStore, DEFAULT_INDEX_DB } from './persist-idb.js';
export { OpfsIndexStore, DEFAULT_OPFS_DIR } from './persist-opfs.js';
export type { OpfsDirectory, OpfsFileHandle } from './persist-opfs.js';
export type { SaveOptions, SnapshotInfo } from './persist-idb.js';
export { INDEX_FORMAT_VERSION } from './serialize.js';
export { INDEX_FILE_VERSION, readIndexFile, writeIndexFile, checkIndexModel } from './index-file.js';
export type { IndexModelIdentity, IndexFileParts, ReadIndexFile } from './index-file.js';
export type { IndexStore, IndexPersistence } from './index-store.js';
export type {
  IndexStats,
  Int8Rescore,
  JsonValue,
  StorageKind,
  SearchHit,
  SearchOptions,
  VectorBatch,
  HitSources,
  KeywordOptions,
  SearchMode,
  TextSpan,
  VectorsOptions,
} from './types.js';
export { terms, termSpans, type TermSpan } from './keywords/terms.js';
export {
  projectTeacher,
  decodeTeacherProjection,
  encodeTeacherProjection,
  checkTeacherProjection,
} from './project-teacher.js';
export type { TeacherProjection } from './project-teacher.js';
