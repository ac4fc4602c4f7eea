// embed()'s argument check: the engine runs it for every caller; the page↔worker protocol re-exports it so the page
// rejects bad input before a call crosses.
import { InvalidInputError } from '../errors.js';

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
