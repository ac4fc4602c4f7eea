// Errors as plain data, so they cross a worker boundary as the class they were: `{ code, name, message, details }`
// plus `cause` (recursively where it is an Error), rebuilt on the other side by one registry.
import * as errors from '../errors.js';
import { HpdError, type ErrorDetails, type HpdErrorCode } from '../errors.js';

export interface WireError {
  name: string;
  message: string;
  code?: HpdErrorCode;
  details?: ErrorDetails;
  stack?: string;
  /** An Error cause, as wire data; any other cause travels in `causeValue` (structured-cloned, or its String()). */
  cause?: WireError;
  causeValue?: unknown;
}

/** Every class in src/errors.ts: a new class without a reviver below fails to compile. */
type ErrorClassName = {
  [K in keyof typeof errors]: (typeof errors)[K] extends abstract new (...args: never[]) => HpdError ? K : never;
}[keyof typeof errors];
type Reviver = (w: WireError, d: ErrorDetails, options: { cause?: unknown }) => HpdError;

const num = (d: ErrorDetails, k: string) => Number(d[k]);
const code = (w: WireError) => w.code ?? 'INVALID_INPUT';

/** The rebuild registry: class name → constructor call with the wire's details. */
export const ERROR_REVIVERS: Record<ErrorClassName, Reviver> = {
  HpdError: (w, d, o) => new errors.HpdError(code(w), w.message, { ...o, ...(w.details ? { details: d } : {}) }),
  ConvertError: (w, d, o) =>
    new errors.ConvertError(code(w), w.message, { ...o, ...(w.details ? { details: d } : {}) }),
  InvalidInputError: (w, _d, o) => new errors.InvalidInputError(w.message, o),
  DimMismatchError: (_w, d, o) => new errors.DimMismatchError(num(d, 'expected'), num(d, 'actual'), 'a vector', o),
  DuplicateIdError: (w, d, o) => new errors.DuplicateIdError(String(d.id), w.message, o),
  CorruptIndexError: (w, _d, o) => new errors.CorruptIndexError(w.message, o),
  UnsupportedIndexVersionError: (_w, d, o) =>
    new errors.UnsupportedIndexVersionError(num(d, 'version'), num(d, 'supported'), o),
  PersistError: (w, _d, o) => new errors.PersistError(w.message, o),
  ModelMismatchError: (_w, d, o) => {
    const model = (p: 'expected' | 'actual') => ({
      name: String(d[p]),
      dim: num(d, `${p}Dim`),
      dtype: String(d[`${p}Dtype`]),
      sha256: String(d[`${p}Sha256`]),
    });
    return new errors.ModelMismatchError(model('expected'), d.actual === null ? null : model('actual'), o);
  },
};

const BUILTIN: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
const MAX_DEPTH = 8;

/** An error (or any thrown value that is an Error) as wire data; `cause` follows up to MAX_DEPTH levels (cycles stop there). */
export function toWire(e: Error, depth = 0): WireError {
  const w: WireError = { name: e.name, message: e.message };
  if (e instanceof HpdError) {
    w.code = e.code;
    if (e.details) w.details = { ...e.details };
  }
  if (typeof e.stack === 'string') w.stack = e.stack;
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error && depth < MAX_DEPTH) w.cause = toWire(cause, depth + 1);
  else if (cause !== undefined) w.causeValue = cloneable(cause);
  return w;
}

/** Rebuilds the error `toWire` described: the same subclass, details, message, stack and cause. */
export function fromWire(w: WireError): Error {
  const cause = w.cause ? fromWire(w.cause) : w.causeValue;
  const options = cause === undefined ? {} : { cause };
  let err: Error;
  if (w.code !== undefined) {
    const revive = (ERROR_REVIVERS as Record<string, Reviver | undefined>)[w.name] ?? ERROR_REVIVERS.HpdError;
    err = revive(w, w.details ?? {}, options);
    err.message = w.message; // subclasses compose their message; keep the thrower's exact words
    err.name = w.name; // a subclass this side does not know (e.g. UsageError) keeps its name on an HpdError
  } else {
    const Ctor = BUILTIN[w.name] ?? Error;
    err = new Ctor(w.message);
    if ('cause' in options) Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true });
    err.name = w.name;
  }
  if (w.stack !== undefined) err.stack = w.stack;
  return err;
}

/** A non-Error cause as a structured-cloneable value (postMessage would throw on a function or a class instance with one). */
function cloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return String(v);
  }
}
