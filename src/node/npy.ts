// The .npy header (NumPy format 1.0–3.0): by hand because only the header is needed (rows are streamed from the file
// in chunks) and the npm readers load the whole array into memory.
import { InvalidInputError } from '../errors.js';

/** `\x93NUMPY`: every .npy file starts with it. */
const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);
/** Bytes to read for any header this parser accepts (the prefix and a header of at most 64 KiB). */
export const NPY_HEADER_MAX = 12 + 65536;

export interface NpyHeader {
  /** Little-endian float32 or float64. */
  dtype: 'f4' | 'f8';
  rows: number;
  cols: number;
  /** Where the row-major data starts. */
  dataOffset: number;
}

export const hasNpyMagic = (b: Uint8Array): boolean => NPY_MAGIC.every((x, i) => b[i] === x);

/**
 * The header of a 2-d, C-order, little-endian float32/float64 array from the first bytes of a .npy file (at least
 * the whole header; NPY_HEADER_MAX is enough). Anything else is INVALID_INPUT saying what to pass instead.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const bad = (why: string) => new InvalidInputError(`${path}: ${why}`);
  if (bytes.length < NPY_MAGIC.length || !hasNpyMagic(bytes))
    throw bad('not a .npy file (no \\x93NUMPY magic); pass a file written by numpy.save, or raw float32 rows.');
  if (bytes.length < 10) throw bad('the .npy header is truncated.');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(`.npy format version ${major}.${bytes[7]} is not supported (1.0–3.0 are).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw bad('the .npy header is truncated.');
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (len > NPY_HEADER_MAX - prefix) throw bad(`the .npy header claims ${len} bytes; the file is corrupt.`);
  if (bytes.length < prefix + len) throw bad('the .npy header is truncated.');
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(
      bytes.subarray(prefix, prefix + len),
    );
  } catch {
    throw bad('the .npy header is not valid text; the file is corrupt.');
  }
  const field = (name: string, value: string) =>
    new RegExp(`['"]${name}['"]\\s*:\\s*${value}`).exec(text) ??
    (() => {
      throw bad(`the .npy header has no valid '${name}' (${text.trim()}); the file is corrupt.`);
    })();
  const descr = field('descr', `['"]([^'"]*)['"]`)[1];
  const fortran = field('fortran_order', '(True|False)')[1];
  const shape = field('shape', '\\(([^)]*)\\)')[1];
  const dtype = descr === '<f4' ? 'f4' : descr === '<f8' ? 'f8' : undefined;
  if (!dtype)
    throw bad(
      `dtype ${descr} is not supported; save little-endian float32 or float64 (e.g. np.save(path, x.astype('<f4'))).`,
    );
  if (fortran === 'True')
    throw bad('the array is in Fortran order; save a C-order array (np.save(path, np.ascontiguousarray(x))).');
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (dims.length !== 2 || !dims.every((s) => /^\d+$/.test(s)))
    throw bad(`the array has shape (${shape}); pass a 2-d array of N teacher vectors × D dimensions.`);
  const [rows, cols] = dims.map(Number);
  if (!(Number.isSafeInteger(rows) && Number.isSafeInteger(cols)))
    throw bad(`shape (${shape}) is too large; the file is corrupt.`);
  return { dtype, rows, cols, dataOffset: prefix + len };
}
