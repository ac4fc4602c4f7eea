// The page's side of an index call: its arguments checked with the index's own rules and copied as plain JSON before
// they are posted. Page only: the worker's index runs the same checks itself, and the worker's up-front graph must not
// load search code (test/scripts/bundle-sizes.test.ts), so this stays out of validate.ts.
import { InvalidInputError } from '../errors.js';
import { cloneJson } from '../search/json-value.js';
import { checkMetadataShape, copyMetadataIn } from '../search/metadata.js';
import type { JsonValue } from '../search/types.js';
import type { IndexApi, HandleSearchOptions, Metadata } from './messages.js';

/** A list of strings (ids or texts) as a call's `what` argument; anything else would fail to cross or be refused there. */
function checkStrings(list: unknown, what: string, method: string): asserts list is readonly string[] {
  if (!Array.isArray(list)) throw new InvalidInputError(`${method}() takes an array of strings as ${what}.`);
  for (let i = 0; i < list.length; i++)
    if (typeof list[i] !== 'string')
      throw new InvalidInputError(`${method}(): ${what}[${i}] is a ${typeof list[i]}, not a string.`);
}

/** `search` options as they cross: the known keys only, `where` and the keyword options as checked plain-JSON copies. */
function searchOptions(options: unknown): HandleSearchOptions | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError(
      'search options must be an object: { minScore?, where?, withMetadata?, mode?, text?, texts?, weights? }.',
    );
  const { minScore, where, withMetadata, filter, mode, text, texts, weights } = options as HandleSearchOptions & {
    filter?: unknown;
  };
  if (filter !== undefined)
    throw new InvalidInputError(
      'search options.filter: a function cannot cross to the worker; use where: { key: value } to match metadata.',
    );
  if (where !== undefined && (where === null || typeof where !== 'object' || Array.isArray(where)))
    throw new InvalidInputError('search options.where must be an object of metadata keys and values.');
  const json = <T>(v: T | undefined, what: string): Partial<Record<string, T>> =>
    v === undefined ? {} : { [what]: cloneJson(v as JsonValue, `search options.${what}`) as T };
  // The worker's index checks each value (its rules, one place); here they only have to cross as plain data.
  return {
    ...(minScore !== undefined ? { minScore } : {}),
    ...json(where, 'where'),
    ...(withMetadata !== undefined ? { withMetadata } : {}),
    ...(mode !== undefined ? { mode } : {}),
    ...(text !== undefined ? { text } : {}),
    ...json(texts, 'texts'),
    ...json(weights, 'weights'),
  } as HandleSearchOptions;
}

/**
 * An index call's arguments as the page posts them: ids, texts and metadata checked with the index's own rules
 * (search/metadata.ts, search/json-value.ts), metadata and `where` replaced by plain-JSON copies. So a value structured
 * clone rejects (a function, symbol, BigInt, WeakMap, class instance) is INVALID_INPUT naming its field, never a
 * DataCloneError, and a caller mutating its objects after the call cannot change what is stored. The worker checks again.
 */
export function indexCallArgs(method: keyof IndexApi, args: readonly unknown[]): unknown[] {
  const out = [...args];
  switch (method) {
    case 'addTexts':
    case 'upsertTexts':
    case 'addVectors':
    case 'upsertVectors': {
      const [ids, , metadata] = args;
      checkStrings(ids, 'ids', method);
      if (method === 'addTexts' || method === 'upsertTexts') checkStrings(args[1], 'texts', method);
      const op = method.startsWith('add') ? 'add' : 'upsert';
      checkMetadataShape(metadata as readonly unknown[] | undefined, ids.length, op);
      if (metadata !== undefined) out[2] = copyMetadataIn(metadata as Metadata, ids);
      return out;
    }
    case 'search':
    case 'searchMany':
      if (args.length > 2) out[2] = searchOptions(args[2]);
      return out;
    case 'remove':
      checkStrings(args[0], 'ids', method);
      return out;
    default:
      return out;
  }
}
