// Typed errors with stable `code` strings: callers branch on `code`, humans read `message`.

import { HpdError } from '../errors.js';

// One base class for the whole SDK, so `instanceof HpdError` and `code` work across modules and the worker boundary.
export { HpdError };

/** Codes raised by src/search; stable across versions. */
export type SearchErrorCode =
  | 'INVALID_INPUT'
  | 'DIM_MISMATCH'
  | 'DUPLICATE_ID'
  | 'CORRUPT_INDEX'
  | 'UNSUPPORTED_INDEX_VERSION'
  | 'PERSIST_FAILED';

/** A value is malformed: non-finite or zero vector, bad k, non-string id, non-JSON metadata, bad option. */
export class InvalidInputError extends HpdError {
  declare readonly code: 'INVALID_INPUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** A vector (or batch) does not have the index's dimension. */
export class DimMismatchError extends HpdError {
  declare readonly code: 'DIM_MISMATCH';
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number, what: string) {
    super('DIM_MISMATCH', `${what} has dimension ${actual} but this index holds ${expected}-d vectors; pass vectors of length ${expected} (a flat Float32Array must have length ids.length × ${expected}).`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** An id occurs twice in one batch, or `add` was given an id the index already holds. */
export class DuplicateIdError extends HpdError {
  declare readonly code: 'DUPLICATE_ID';
  readonly id: string;
  constructor(id: string, message: string) {
    super('DUPLICATE_ID', message);
    this.id = id;
  }
}

/** A serialised index is truncated, altered or structurally invalid. */
export class CorruptIndexError extends HpdError {
  declare readonly code: 'CORRUPT_INDEX';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CORRUPT_INDEX', message, options);
  }
}

/** A serialised index was written by a format version this build cannot read. */
export class UnsupportedIndexVersionError extends HpdError {
  declare readonly code: 'UNSUPPORTED_INDEX_VERSION';
  readonly version: number;
  constructor(version: number, supported: number) {
    super('UNSUPPORTED_INDEX_VERSION', `serialised index has format version ${version}; this build reads version ${supported}. Rebuild the index from its source vectors, or load it with a matching hpd-embed version.`);
    this.version = version;
  }
}

/** Storage (IndexedDB in a browser, the filesystem in Node) refused a read or write. */
export class PersistError extends HpdError {
  declare readonly code: 'PERSIST_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERSIST_FAILED', message, options);
  }
}
