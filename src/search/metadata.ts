// Per-row metadata of an index: validated deep copies in (so later mutation by the caller cannot desync the index)
// and copies out (so a caller cannot mutate what the index holds).
import { InvalidInputError } from '../errors.js';
import { cloneJson } from './json-value.js';
import type { JsonValue } from './types.js';

/** Checks the shape of an add/upsert metadata argument: undefined, or one entry per id. */
export function checkMetadataShape(metadata: readonly unknown[] | undefined, n: number, op: string): void {
  if (metadata !== undefined && (!Array.isArray(metadata) || metadata.length !== n))
    throw new InvalidInputError(
      `${op}() metadata must be an array with one entry (or undefined) per id: expected length ${n}.`,
    );
}

/** Validated copies of a metadata argument whose shape `checkMetadataShape` has checked. */
export function copyMetadataIn<M extends JsonValue>(
  metadata: readonly (M | undefined)[] | undefined,
  ids: readonly string[],
): (M | undefined)[] {
  const n = ids.length;
  const out: (M | undefined)[] = new Array<M | undefined>(n);
  for (let i = 0; i < n; i++) {
    const m = metadata?.[i];
    out[i] = m === undefined ? undefined : (cloneJson(m, `metadata[${i}]`) as M);
  }
  return out;
}

/** A copy of one row's stored metadata for `get`. */
export function copyMetadataOut<M extends JsonValue>(m: M | undefined, id: string): M | undefined {
  return m === undefined ? undefined : (cloneJson(m, `metadata of id "${id}"`) as M);
}
