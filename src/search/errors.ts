// Typed errors with stable `code` strings: callers branch on `code`, humans read `message`. The classes live in
// src/errors.ts (one place for every error, so the worker protocol can rebuild each one); re-exported here.
export {
  HpdError,
  InvalidInputError,
  DimMismatchError,
  DuplicateIdError,
  CorruptIndexError,
  UnsupportedIndexVersionError,
  PersistError,
  ModelMismatchError,
} from '../errors.js';

/** Codes raised by src/search; stable across versions. */
export type SearchErrorCode =
  | 'INVALID_INPUT'
  | 'DIM_MISMATCH'
  | 'DUPLICATE_ID'
  | 'CORRUPT_INDEX'
  | 'UNSUPPORTED_INDEX_VERSION'
  | 'PERSIST_FAILED'
  | 'MODEL_MISMATCH';
