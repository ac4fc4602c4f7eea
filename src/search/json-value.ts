// Metadata values: validated deep copies of plain JSON, built without prototype effects, and the check a loaded value
// gets. A leaf (errors only): the page runs the same check before metadata crosses to the worker (protocol/validate.ts).
import { InvalidInputError } from '../errors.js';
import type { JsonValue } from './types.js';

const MAX_JSON_DEPTH = 64;

/**
 * Validates a metadata value and returns a deep copy, so later mutation by the caller cannot desync the index.
 * `path` names the value in messages (`metadata[3]`, `metadata of id "a"`). A "__proto__" key becomes an own data
 * property (as JSON.parse makes it), never the copy's prototype; -0 becomes 0 (a save writes it as 0).
 * The copy is plain JSON, so it also passes structured clone (a worker boundary) where the input might not.
 */
export function cloneJson(value: unknown, path: string, depth = 0): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidInputError(`${path} is ${value}, which JSON cannot hold; use null or a finite number.`);
    return value === 0 ? 0 : value;
  }
  if (depth > MAX_JSON_DEPTH)
    throw new InvalidInputError(`${path} nests deeper than ${MAX_JSON_DEPTH} levels (cyclic?); store plain JSON data.`);
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i], `${path}[${i}]`, depth + 1);
    return out;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      throw new InvalidInputError(
        `${path} is a ${(value.constructor as { name?: string } | undefined)?.name || 'non-plain object'}; store plain JSON objects, arrays, strings, numbers, booleans or null.`,
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
  throw new InvalidInputError(
    `${path} is ${value === undefined ? 'undefined' : `a ${typeof value}`}, which is not JSON; store plain JSON data.`,
  );
}

/**
 * Why a value JSON.parse made from a loaded file is one cloneJson would not have stored, or undefined: nesting deeper
 * than MAX_JSON_DEPTH, a number that parsed to ±Infinity (e.g. 1e9999), or -0. Walks without copying; the path is
 * built only on a fault.
 */
export function loadedJsonFault(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return ` holds a number that reads as ${value}, which add() refuses`;
    return Object.is(value, -0) ? ' holds -0, which a save writes as 0' : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_JSON_DEPTH) return ` nests deeper than the ${MAX_JSON_DEPTH} levels add() allows`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const fault = loadedJsonFault(value[i], depth + 1);
      if (fault !== undefined) return `[${i}]${fault}`;
    }
    return undefined;
  }
  for (const key in value) {
    const fault = loadedJsonFault((value as Record<string, unknown>)[key], depth + 1);
    if (fault !== undefined) return `.${key}${fault}`;
  }
  return undefined;
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
