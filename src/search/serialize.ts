// Versioned little-endian binary format for a CosineIndex; see FORMAT below. The checksum covers every
// byte before it, so truncation or any flipped bit is caught before a single field is trusted.
import { crc32 } from './crc32.js';
import { CorruptIndexError, InvalidInputError, UnsupportedIndexVersionError } from './errors.js';
import { loadedJsonFault } from './json-value.js';
import { f32RowsFault, int8MatchesF32Fault, int8RowsFault, type RowFault } from './row-checks.js';
import type { JsonValue, RawIndex, StorageKind } from './types.js';

/*
 * FORMAT (version 2; version 1 is read too: it is version 2 without flag bit 1), all integers little-endian:
 *   0  u8[4] magic "HPDX"
 *   4  u16   version (2)
 *   6  u8    storage: 0 = f32, 1 = int8
 *   7  u8    flags: bit 0 = int8 index also holds float32 rescore rows; bit 1 = int8 residual codes; other bits 0
 *   8  u32   dim
 *  12  u32   count
 *  16  u32   ids section byte length
 *  20  u32   metadata section byte length
 *  24  u32×2 reserved, 0
 *  32  ids: count × (u32 byte length, UTF-8 bytes)
 *      metadata: UTF-8 JSON array of [row, value] pairs, rows ascending, only rows that have metadata
 *      zero padding to a multiple of 4 (so vector sections can be viewed in place)
 *      f32: count × dim float32
 *      int8: count float32 scales, count × dim int8 codes, zero padding to a multiple of 4,
 *            then (flag bit 0 only) count × dim float32 rescore rows,
 *            then (flag bit 1 only) count × dim int8 residual codes, zero padding to a multiple of 4
 *      optional trailing sections (a file without them is the same format): u8[4] tag, u32 section version,
 *      u32 byte length, the bytes, zero padding to a multiple of 4; unknown tags are skipped.
 *      "KWDS" version 1: the keyword index (keywords/bm25.ts serialize()).
 *  end-4 u32 CRC-32 (IEEE) of all bytes before it
 */

export const INDEX_MAGIC = 'HPDX';
export const INDEX_FORMAT_VERSION = 2;
const HEADER_BYTES = 32;
const MAGIC_BYTES = [0x48, 0x50, 0x44, 0x58];
const KEYWORDS_TAG = [0x4b, 0x57, 0x44, 0x53]; // "KWDS"
const KEYWORDS_VERSION = 1;

/** Largest `dim` an index may have (and a file may declare): far above any embedding model, small enough that a header alone cannot make a loader reserve gigabytes. */
export const MAX_INDEX_DIM = 65_536;

// Plain arithmetic, not `& ~3`: sizes here can exceed 2^31 and 32-bit bit operations would wrap.
const align4 = (n: number): number => n + ((4 - (n % 4)) % 4);

function vectorBytes(
  storage: StorageKind,
  count: number,
  dim: number,
  rescoreRows: boolean,
  residual: boolean,
): number {
  return storage === 'f32'
    ? count * dim * 4
    : align4(count * 4 + count * dim) + (rescoreRows ? count * dim * 4 : 0) + (residual ? align4(count * dim) : 0);
}

/** Serialises index contents into a fresh ArrayBuffer. */
export function encodeIndex(raw: RawIndex): ArrayBuffer {
  const { dim, storage, count } = raw;
  const enc = new TextEncoder();
  const idBytes: Uint8Array[] = new Array<Uint8Array>(count);
  let idsLen = 0;
  for (let i = 0; i < count; i++) {
    const b = enc.encode(raw.ids[i]);
    idBytes[i] = b;
    idsLen += 4 + b.length;
  }
  const pairs: [number, JsonValue][] = [];
  for (let i = 0; i < count; i++) {
    const m = raw.metadata[i];
    if (m !== undefined) pairs.push([i, m]);
  }
  const metaBytes = enc.encode(JSON.stringify(pairs));
  const vecStart = align4(HEADER_BYTES + idsLen + metaBytes.length);
  const rescoreRows = storage === 'int8' && raw.f32 !== null;
  const residual = storage === 'int8' && raw.res !== null;
  const trailerStart = vecStart + vectorBytes(storage, count, dim, rescoreRows, residual);
  const keywords = raw.keywords ?? null;
  const total = trailerStart + (keywords ? 12 + align4(keywords.length) : 0) + 4;
  if (idsLen > 0xffffffff || metaBytes.length > 0xffffffff)
    throw new InvalidInputError(
      'ids or metadata exceed the 4 GiB a format-1 section can hold; split the index into several.',
    );

  const buf = new ArrayBuffer(total);
  const u8 = new Uint8Array(buf);
  const view = new DataView(buf);
  u8.set(MAGIC_BYTES, 0);
  view.setUint16(4, INDEX_FORMAT_VERSION, true);
  view.setUint8(6, storage === 'f32' ? 0 : 1);
  view.setUint8(7, (rescoreRows ? 1 : 0) | (residual ? 2 : 0));
  view.setUint32(8, dim, true);
  view.setUint32(12, count, true);
  view.setUint32(16, idsLen, true);
  view.setUint32(20, metaBytes.length, true);

  let p = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const b = idBytes[i];
    view.setUint32(p, b.length, true);
    u8.set(b, p + 4);
    p += 4 + b.length;
  }
  u8.set(metaBytes, p);

  const n = count * dim;
  if (storage === 'f32') {
    if (raw.f32 === null) throw new InvalidInputError('f32 index has no f32 storage');
    // Copy through a byte view: Float32Array element order is platform-endian; every JS engine we target is little-endian.
    new Float32Array(buf, vecStart, n).set(raw.f32.subarray(0, n));
  } else {
    if (raw.i8 === null || raw.scales === null) throw new InvalidInputError('int8 index has no int8 storage');
    new Float32Array(buf, vecStart, count).set(raw.scales.subarray(0, count));
    new Int8Array(buf, vecStart + count * 4, n).set(raw.i8.subarray(0, n));
    const codesEnd = vecStart + align4(count * 4 + n);
    if (raw.f32 !== null) new Float32Array(buf, codesEnd, n).set(raw.f32.subarray(0, n));
    if (raw.res !== null) new Int8Array(buf, codesEnd + (rescoreRows ? n * 4 : 0), n).set(raw.res.subarray(0, n));
  }
  if (keywords) {
    u8.set(KEYWORDS_TAG, trailerStart);
    view.setUint32(trailerStart + 4, KEYWORDS_VERSION, true);
    view.setUint32(trailerStart + 8, keywords.length, true);
    u8.set(keywords, trailerStart + 12);
  }
  view.setUint32(total - 4, crc32(u8.subarray(0, total - 4)), true);
  return buf;
}

/** An id quoted for a message, cut to 60 characters (a file may hold megabyte ids). */
const idName = (id: string): string => JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id);

function corrupt(what: string): CorruptIndexError {
  return new CorruptIndexError(
    `serialised index is corrupt: ${what}. Re-save it from a live index, or rebuild it from the source vectors.`,
  );
}

/** Parses and fully validates a serialised index into storage of its own; throws CorruptIndexError / UnsupportedIndexVersionError. */
export function decodeIndex(input: ArrayBuffer | ArrayBufferView): RawIndex {
  const raw = parseIndex(input);
  checkUniqueIds(raw.ids, new Set(raw.ids).size);
  // Copy out of the input so the index owns its storage (the caller may reuse or transfer the buffer).
  const own: RawIndex = {
    ...raw,
    f32: raw.f32?.slice() ?? null,
    i8: raw.i8?.slice() ?? null,
    scales: raw.scales?.slice() ?? null,
    res: raw.res?.slice() ?? null,
  };
  checkDecodedRows(own);
  return own;
}

/** CorruptIndexError naming the first id that occurs twice, unless `distinct` (how many different ids there are) is all of them. */
export function checkUniqueIds(ids: readonly string[], distinct: number): void {
  if (distinct === ids.length) return;
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw corrupt(`id "${id}" occurs twice`);
    seen.add(id);
  }
}

/**
 * Throws CorruptIndexError unless every row of a parsed index is what add() writes (row-checks.ts): a valid checksum
 * proves only that the bytes were not altered since. Run it on the storage that is kept, after the copy into it.
 */
export function checkDecodedRows(raw: RawIndex): void {
  const { count, dim, ids, f32, i8, scales, res } = raw;
  let fault: RowFault | undefined;
  if (raw.storage === 'f32') fault = f32RowsFault(f32 as Float32Array, count, dim);
  else if (f32 !== null) {
    const rowFault = f32RowsFault(f32, count, dim);
    if (rowFault !== undefined)
      throw corrupt(`rescore row ${rowFault.row} (id ${idName(ids[rowFault.row])}) ${rowFault.why}`);
    fault = int8MatchesF32Fault(i8 as Int8Array, scales as Float32Array, f32, count, dim);
  } else fault = int8RowsFault(i8 as Int8Array, scales as Float32Array, res, count, dim);
  if (fault !== undefined) throw corrupt(`row ${fault.row} (id ${idName(ids[fault.row])}) ${fault.why}`);
}

/**
 * Parses a serialised index and checks all of it but two things: the checksum, header, ids (UTF-8), metadata and
 * padding. Left to the caller: duplicate ids (checkUniqueIds, e.g. while building its id map) and the rows
 * (checkDecodedRows, on its own copy). The vector arrays are views into `input` where it is 4-byte aligned.
 */
export function parseIndex(input: ArrayBuffer | ArrayBufferView): RawIndex {
  let u8: Uint8Array;
  if (input instanceof ArrayBuffer) u8 = new Uint8Array(input);
  else if (ArrayBuffer.isView(input)) u8 = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  else throw new InvalidInputError('deserialize expects an ArrayBuffer or a typed array view of one.');
  const total = u8.length;
  if (total < HEADER_BYTES + 4)
    throw corrupt(`only ${total} bytes, shorter than the ${HEADER_BYTES + 4}-byte minimum (truncated?)`);
  for (let i = 0; i < 4; i++)
    if (u8[i] !== MAGIC_BYTES[i]) throw corrupt(`magic is not "${INDEX_MAGIC}" (not an hpd-embed index)`);
  const view = new DataView(u8.buffer, u8.byteOffset, total);
  const stored = view.getUint32(total - 4, true);
  const actual = crc32(u8.subarray(0, total - 4));
  if (stored !== actual)
    throw corrupt(
      `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}; truncated or altered)`,
    );

  const version = view.getUint16(4, true);
  if (version !== INDEX_FORMAT_VERSION && version !== 1)
    throw new UnsupportedIndexVersionError(version, INDEX_FORMAT_VERSION);
  const storageCode = view.getUint8(6);
  if (storageCode > 1) throw corrupt(`unknown storage code ${storageCode}`);
  const storage: StorageKind = storageCode === 0 ? 'f32' : 'int8';
  const dim = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const idsLen = view.getUint32(16, true);
  const metaLen = view.getUint32(20, true);
  if (dim === 0 || dim > MAX_INDEX_DIM) throw corrupt(`dim ${dim} is outside 1..${MAX_INDEX_DIM}`);
  const flags = view.getUint8(7);
  if ((flags & ~(version === 1 ? 1 : 3)) !== 0 || (storage === 'f32' && flags !== 0))
    throw corrupt(`unknown flags ${flags}`);
  // A row store keeps rescore rows or residual codes, never both.
  if (flags === 3) throw corrupt('flags 3 (rescore rows and residual codes together), which no save writes');
  const rescoreRows = (flags & 1) === 1;
  const residual = (flags & 2) === 2;
  if (view.getUint32(24, true) !== 0 || view.getUint32(28, true) !== 0)
    throw corrupt('reserved header bytes are not zero');
  // Every size below is checked against the buffer's real length before anything is allocated. All terms are < 2^52
  // (u32 × 65536 × 4), so this double arithmetic is exact.
  if (idsLen < 4 * count) throw corrupt(`ids section of ${idsLen} bytes cannot hold ${count} ids`);
  const vecStart = align4(HEADER_BYTES + idsLen + metaLen);
  const expected = vecStart + vectorBytes(storage, count, dim, rescoreRows, residual) + 4;
  if (expected > total) throw corrupt(`header describes ${expected} bytes but the buffer has ${total}`);
  const keywords = trailingKeywords(u8, view, expected - 4, total - 4);

  // ignoreBOM: a leading U+FEFF is part of an id ("\uFEFFdoc" is not "doc"), never a marker to strip.
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const ids: string[] = new Array<string>(count);
  let p = HEADER_BYTES;
  const idsEnd = HEADER_BYTES + idsLen;
  // Fast path: when the whole section (ids and their length prefixes) is ASCII, one decode gives a string whose UTF-16
  // offsets are the byte offsets, so each id is a substring (a per-id decode costs ~10× as much).
  let block: string | null = null;
  try {
    block = dec.decode(u8.subarray(HEADER_BYTES, idsEnd));
  } catch {
    // not UTF-8 as a whole (e.g. a length byte ≥ 0x80): decode id by id below, which names the bad id
  }
  if (block !== null && block.length !== idsLen) block = null;
  for (let i = 0; i < count; i++) {
    if (p + 4 > idsEnd) throw corrupt(`ids section ends before id ${i}`);
    const len = view.getUint32(p, true);
    p += 4;
    if (p + len > idsEnd) throw corrupt(`id ${i} runs past the ids section`);
    if (block !== null) ids[i] = block.substring(p - HEADER_BYTES, p - HEADER_BYTES + len);
    else
      try {
        ids[i] = dec.decode(u8.subarray(p, p + len));
      } catch (cause) {
        throw new CorruptIndexError(`serialised index is corrupt: id ${i} is not valid UTF-8.`, { cause });
      }
    p += len;
  }
  if (p !== idsEnd) throw corrupt('ids section has trailing bytes');

  const metadata: (JsonValue | undefined)[] = new Array<JsonValue | undefined>(count).fill(undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(dec.decode(u8.subarray(idsEnd, idsEnd + metaLen)));
  } catch (cause) {
    throw new CorruptIndexError('serialised index is corrupt: metadata section is not valid UTF-8 JSON.', { cause });
  }
  if (!Array.isArray(parsed)) throw corrupt('metadata section is not a JSON array');
  let prev = -1;
  for (const entry of parsed as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) throw corrupt('metadata entry is not a [row, value] pair');
    const row: unknown = entry[0];
    if (typeof row !== 'number' || !Number.isInteger(row) || row <= prev || row >= count)
      throw corrupt(`metadata row ${String(row)} is out of order or out of range`);
    // JSON.parse already makes "__proto__" an own key; left to check: depth, numbers that parse to ±Infinity, -0.
    const fault = loadedJsonFault(entry[1]);
    if (fault !== undefined)
      throw corrupt(`metadata${fault.startsWith(' ') ? '' : ' value'}${fault} (row ${row}, id ${idName(ids[row])})`);
    metadata[row] = entry[1] as JsonValue;
    prev = row;
  }
  for (let i = idsEnd + metaLen; i < vecStart; i++) if (u8[i] !== 0) throw corrupt('padding bytes are not zero');

  const n = count * dim;
  const vecLen = vectorBytes(storage, count, dim, rescoreRows, residual);
  // Views need 4-byte alignment; an unaligned input (a view at an odd offset) is copied once.
  let vb: ArrayBufferLike = u8.buffer;
  let at = u8.byteOffset + vecStart;
  if (at % 4 !== 0) {
    vb = u8.slice(vecStart, vecStart + vecLen).buffer;
    at = 0;
  }
  let f32: Float32Array | null = null;
  let i8: Int8Array | null = null;
  let scales: Float32Array | null = null;
  let res: Int8Array | null = null;
  if (storage === 'f32') f32 = new Float32Array(vb, at, n);
  else {
    scales = new Float32Array(vb, at, count);
    i8 = new Int8Array(vb, at + count * 4, n);
    const codesEnd = vecStart + align4(count * 4 + n);
    for (let i = vecStart + count * 4 + n; i < codesEnd; i++)
      if (u8[i] !== 0) throw corrupt('padding bytes are not zero');
    if (rescoreRows) f32 = new Float32Array(vb, at + codesEnd - vecStart, n);
    if (residual) {
      const start = codesEnd + (rescoreRows ? n * 4 : 0);
      res = new Int8Array(vb, at + start - vecStart, n);
      for (let i = start + n; i < vecStart + vecLen; i++) if (u8[i] !== 0) throw corrupt('padding bytes are not zero');
    }
  }
  return { dim, storage, count, ids, metadata, f32, i8, scales, res, keywords };
}

/** The keyword section among the trailing sections in [start, end), or null; checks their framing. */
function trailingKeywords(u8: Uint8Array, view: DataView, start: number, end: number): Uint8Array | null {
  let keywords: Uint8Array | null = null;
  for (let p = start; p < end;) {
    if (p + 12 > end) throw corrupt('a trailing section header is truncated');
    const version = view.getUint32(p + 4, true);
    const len = view.getUint32(p + 8, true);
    const next = p + 12 + align4(len);
    if (next > end) throw corrupt('a trailing section runs past the end');
    const tag = u8.subarray(p, p + 4);
    if (KEYWORDS_TAG.every((b, i) => tag[i] === b)) {
      if (version !== KEYWORDS_VERSION) throw new UnsupportedIndexVersionError(version, KEYWORDS_VERSION);
      keywords = u8.slice(p + 12, p + 12 + len);
    }
    p = next;
  }
  return keywords;
}
