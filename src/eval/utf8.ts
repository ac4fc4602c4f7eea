// Strict UTF-8 for evaluation files: a byte that is not UTF-8 is refused with its line, never decoded to U+FFFD.
import { InvalidInputError } from '../search/errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** Decodes `bytes` (a leading BOM dropped); INVALID_INPUT naming `where` and the 1-based line of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    // 0x0A never occurs inside a multi-byte sequence, so lines can be checked one at a time.
    let start = 0;
    for (let line = 1; ; line++) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        throw new InvalidInputError(
          `${where}:${line}: not valid UTF-8; re-save the file as UTF-8 (bytes that are not UTF-8 are never replaced silently).`,
        );
      }
      if (nl < 0) break;
      start = nl + 1;
    }
    throw new InvalidInputError(`${where}: not valid UTF-8; re-save the file as UTF-8.`);
  }
}
