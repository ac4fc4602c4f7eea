import { HpdError } from '../errors.js';

/** Checks embed() input on either side of the worker boundary (kept apart so the page bundle stays small). */
export function validateTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new HpdError('INVALID_INPUT', `embed() takes an array of strings, got ${texts === null ? 'null' : typeof texts}. For one text use embedOne(text).`);
  }
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') {
      throw new HpdError('INVALID_INPUT', `embed(): texts[${i}] is ${texts[i] === null ? 'null' : typeof texts[i]}, not a string.`);
    }
  }
}
