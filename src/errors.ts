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
  | 'INTERNAL';

export class HpdError extends Error {
  /** One of the documented codes: a `switch` on it is checked by the compiler. */
  readonly code: HpdErrorCode;
  constructor(code: HpdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A checkpoint could not be compiled: missing or malformed files, unsupported settings. */
export class ConvertError extends HpdError {}
