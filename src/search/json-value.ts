// Metadata values: validated deep copies of plain JSON, built without prototype effects.
import { InvalidInputError } from './errors.js';
import type { JsonValue } from './types.js';

const MAX_JSON_DEPTH = 64;

/**
 * Validates a metadata value and returns a deep copy, so later mutation by the caller cannot desync the index.
 * A "__proto__" key becomes an own data property (as JSON.parse makes it), never the copy's prototype.
 */
export function cloneJson(value: unknown, path: string, depth: number): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidInputError(`metadata ${path} is ${value}, which JSON cannot hold; use null or a finite number.`);
    return value;
  }
  if (depth > MAX_JSON_DEPTH)
    throw new InvalidInputError(
      `metadata ${path} nests deeper than ${MAX_JSON_DEPTH} levels (cyclic?); store plain JSON data.`,
    );
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i], `${path}[${i}]`, depth + 1);
    return out;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      throw new InvalidInputError(
        `metadata ${path} is a ${value.constructor?.name ?? 'non-plain object'}; store plain JSON objects, arrays, strings, numbers, booleans or null.`,
      );
    const out: { [key: string]: JsonValue } = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue; // JSON.stringify drops undefined properties too.
      const copy = cloneJson(v, `${path}.${key}`, depth + 1);
      // Assigning "__proto__" would call Object.prototype's setter and replace the prototype instead of storing a key.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
      else out[key] = copy;
    }
    return out;
  }
  throw new InvalidInputError(`metadata ${path} is a ${typeof value}, which is not JSON; store plain JSON data.`);
}

/** True when a parsed JSON value nests no deeper than cloneJson accepts; walks without copying (index loads use it). */
export function withinJsonDepth(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!withinJsonDepth(value[i], depth + 1)) return false;
    return true;
  }
  for (const key in value) if (!withinJsonDepth((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

// String.prototype.isWellFormed is ES2024 (Chrome 111, Safari 16.4, Node 20); the regex covers older engines.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** `isWellFormedString` for engines without String.prototype.isWellFormed (exported to test it where the native one exists). */
export const isWellFormedFallback = (s: string): boolean => !LONE_SURROGATE.test(s);

/** True when `s` has no lone surrogate, i.e. it survives a UTF-8 round trip unchanged. */
export function isWellFormedString(s: string): boolean {
  return nativeWellFormed !== undefined ? nativeWellFormed.call(s) : isWellFormedFallback(s);
}
