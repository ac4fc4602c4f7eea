// Public surface of src/search: re-exports only.
export { CosineIndex, int8CandidateCount } from './cosine-index.js';
export type { CosineIndexOptions, IndexEntry } from './cosine-index.js';
export {
  HpdError,
  InvalidInputError,
  DimMismatchError,
  DuplicateIdError,
  CorruptIndexError,
  UnsupportedIndexVersionError,
  PersistError,
} from './errors.js';
export type { SearchErrorCode } from './errors.js';
export { IdbIndexStore, DEFAULT_INDEX_DB } from './persist-idb.js';
export { OpfsIndexStore, DEFAULT_OPFS_DIR } from './persist-opfs.js';
export type { OpfsDirectory, OpfsFileHandle } from './persist-opfs.js';
export type { SaveOptions, SnapshotInfo } from './persist-idb.js';
export { encodeIndex, decodeIndex, INDEX_FORMAT_VERSION, INDEX_MAGIC } from './serialize.js';
export { TopK } from './topk.js';
export type { RowTieBreak } from './topk.js';
export { quantizeRow, dequantizeRow, INT8_MAX_CODE } from './quantize.js';
export { crc32 } from './crc32.js';
export type { Int8Rescore, JsonValue, StorageKind, SearchHit, SearchOptions, VectorBatch, RawIndex } from './types.js';
export { projectTeacher, decodeTeacherProjection, encodeTeacherProjection, checkTeacherProjection } from './project-teacher.js';
export type { TeacherProjection } from './project-teacher.js';
