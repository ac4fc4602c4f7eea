// Argument checks both sides run: the page before a call crosses, the worker because its callers may be anyone.
import { InvalidInputError } from '../errors.js';
import type { IndexOptions } from './messages.js';

// embed()'s check is the engine's own (the worker's engine runs it for any caller); the page runs it too.
export { validateTexts } from '../text/validate-texts.js';

export function checkIndexName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !name) throw new InvalidInputError('index name must be a non-empty string.');
}

export function checkStorage(storage: unknown): asserts storage is 'f32' | 'int8' {
  if (storage !== 'f32' && storage !== 'int8')
    throw new InvalidInputError(`storage must be "f32" or "int8", got "${String(storage)}".`);
}

/** The index options with only the keys we know; a bad value is INVALID_INPUT. */
export function checkIndexOptions(options: unknown): IndexOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('index options must be an object ({ storage }).');
  const { storage } = options as IndexOptions;
  if (storage === undefined) return {};
  checkStorage(storage);
  return { storage };
}
