// Argument checks both sides run: the page before a call crosses, the worker because its callers may be anyone.
import { InvalidInputError } from '../errors.js';
import type { IndexOptions } from './messages.js';

/** Checks embed() input. */
export function validateTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new InvalidInputError(
      `embed() takes an array of strings, got ${texts === null ? 'null' : typeof texts}. For one text use embedOne(text).`,
    );
  }
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') {
      throw new InvalidInputError(
        `embed(): texts[${i}] is ${texts[i] === null ? 'null' : typeof texts[i]}, not a string.`,
      );
    }
  }
}

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
