import { HpdError, type HpdErrorCode } from '../errors.js';

// fatal: bytes that are not UTF-8 are a damaged file, not text to parse with U+FFFD in it.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Builds the error; a module whose errors have their own class (ConvertError) passes it. */
export type JsonErrorClass = new (code: HpdErrorCode, message: string, options?: { cause?: unknown }) => HpdError;

/**
 * Decodes UTF-8 bytes (a leading BOM is dropped) and parses them as JSON. Bytes that are not UTF-8 or not JSON throw
 * `ErrorClass(code)` whose message names `where` (a file name or path) and the decoder's or parser's reason, with the cause attached.
 */
export function parseJsonBytes<T = unknown>(
  bytes: Uint8Array,
  where: string,
  code: HpdErrorCode,
  ErrorClass: JsonErrorClass = HpdError,
): T {
  try {
    return JSON.parse(utf8.decode(bytes)) as T;
  } catch (cause) {
    throw new ErrorClass(code, `${where} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}
