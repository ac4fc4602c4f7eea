/** Every error the SDK throws carries a stable `code`; match on it, not on the message. */
export type HpdErrorCode =
  | 'CHECKPOINT_MISSING_FILE'
  | 'CHECKPOINT_INVALID'
  | 'UNSUPPORTED_POOLING'
  | 'UNSUPPORTED_ACTIVATION'
  | 'UNSUPPORTED_DTYPE'
  | 'DIM_MISMATCH'
  | 'WEIGHTS_CORRUPT'
  | 'LEGACY_TORCH_FORMAT'
  | 'OUTPUT_EXISTS'
  | 'MODEL_FETCH_FAILED'
  | 'MODEL_INTEGRITY'
  | 'MODEL_INVALID'
  | 'INVALID_INPUT'
  | 'DEVICE_UNAVAILABLE'
  | 'WORKER_CRASHED'
  | 'DISPOSED'
  | 'DUPLICATE_ID'
  | 'NOT_FOUND'
  | 'CORRUPT_INDEX'
  | 'UNSUPPORTED_INDEX_VERSION'
  | 'PERSIST_FAILED'
  | 'ABORTED'
  | 'WORKER_START_FAILED'
  | 'DEVICE_LOST'
  | 'INDEX_OPTIONS_CONFLICT'
  | 'MODEL_MISMATCH'
  | 'INDEX_FETCH_FAILED'
  | 'INDEX_INTEGRITY'
  | 'INTERNAL';

/** Machine-readable facts about an error (plain values, so they cross the worker boundary unchanged). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface HpdErrorOptions {
  cause?: unknown;
  details?: ErrorDetails;
}

/**
 * The one error class of the SDK: `HpdError(code, message, { cause, details })`. A subclass exists only where it
 * carries typed details (DimMismatchError, DuplicateIdError, UnsupportedIndexVersionError) or names a family callers
 * catch as a whole (ConvertError, and the search family kept for `hpd-embed/search`'s public API). One rule: a code
 * that has a subclass is always thrown as that subclass (every INVALID_INPUT is an InvalidInputError, anywhere), so
 * `instanceof` and `code` agree; the one exception is the compiler, whose errors are ConvertError whatever their code.
 */
export class HpdError extends Error {
  /** One of the documented codes: a `switch` on it is checked by the compiler. */
  readonly code: HpdErrorCode;
  /** Facts a program can act on (which id, which dimensions); present where the code has any. */
  readonly details?: ErrorDetails;
  constructor(code: HpdErrorCode, message: string, options?: HpdErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.details) this.details = options.details;
    this.name = new.target.name;
  }
}

/** A checkpoint could not be compiled: missing or malformed files, unsupported settings. */
export class ConvertError extends HpdError {}

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
  /** `options.message` replaces the index wording where the mismatch is another one (a saved index vs the model, teacher vectors). */
  constructor(expected: number, actual: number, what: string, options?: { cause?: unknown; message?: string }) {
    const { message, ...rest } = options ?? {};
    super(
      'DIM_MISMATCH',
      message ??
        `${what} has dimension ${actual} but this index holds ${expected}-d vectors; pass vectors of length ${expected} (a flat Float32Array must have length ids.length × ${expected}).`,
      { ...rest, details: { expected, actual } },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** An id occurs twice in one batch, or `add` was given an id the index already holds. */
export class DuplicateIdError extends HpdError {
  declare readonly code: 'DUPLICATE_ID';
  readonly id: string;
  constructor(id: string, message: string, options?: { cause?: unknown }) {
    super('DUPLICATE_ID', message, { ...options, details: { id } });
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
  readonly supported: number;
  constructor(version: number, supported: number, options?: { cause?: unknown }) {
    super(
      'UNSUPPORTED_INDEX_VERSION',
      `serialised index has format version ${version}; this build reads version ${supported}. Rebuild the index from its source vectors, or load it with a matching hpd-embed version.`,
      { ...options, details: { version, supported } },
    );
    this.version = version;
    this.supported = supported;
  }
}

/** Storage (IndexedDB in a browser, the filesystem in Node) refused a read or write. */
export class PersistError extends HpdError {
  declare readonly code: 'PERSIST_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERSIST_FAILED', message, options);
  }
}

/** The model an index file names (hpd.json name, dim, dtype and the sha256 of model.onnx). */
export interface IndexModelIdentity {
  name: string;
  dim: number;
  dtype: string;
  sha256: string;
}

const describeModel = (m: IndexModelIdentity | null) =>
  m === null
    ? 'no model (a file written before index file format 1)'
    : `"${m.name}" (${m.dim}-d ${m.dtype}, model.onnx sha256 ${m.sha256.slice(0, 12)}…)`;

/** An index file was made by another model than the one it is imported under: its vectors would be meaningless here. */
export class ModelMismatchError extends HpdError {
  declare readonly code: 'MODEL_MISMATCH';
  /** The model the index is imported under. */
  readonly expected: IndexModelIdentity;
  /** The model the file names; null for a file that names none (a bare serialised index, written before format 1). */
  readonly actual: IndexModelIdentity | null;
  constructor(expected: IndexModelIdentity, actual: IndexModelIdentity | null, options?: { cause?: unknown }) {
    super(
      'MODEL_MISMATCH',
      `this index was built with ${describeModel(actual)}, but it is imported under ${describeModel(expected)}; its vectors mean nothing to this model. Rebuild the index with this model (hpd-embed index build --model …), or load the model that built it.`,
      {
        ...options,
        details: {
          expected: expected.name,
          expectedDim: expected.dim,
          expectedDtype: expected.dtype,
          expectedSha256: expected.sha256,
          actual: actual?.name ?? null,
          actualDim: actual?.dim ?? null,
          actualDtype: actual?.dtype ?? null,
          actualSha256: actual?.sha256 ?? null,
        },
      },
    );
    this.expected = expected;
    this.actual = actual;
  }
}
