// The index file: the one portable, checked artefact a build ships and a page imports. It wraps the serialised index
// (serialize.ts, HPDX) in a section table with the model that made it, so vectors are never read under another model.
// This module and serialize.ts are the only code that reads or writes index bytes (Node, browsers, the Vite plugin).
import { crc32 } from './crc32.js';
import {
  CorruptIndexError,
  InvalidInputError,
  ModelMismatchError,
  UnsupportedIndexVersionError,
  type IndexModelIdentity,
} from '../errors.js';
import { INDEX_MAGIC } from './serialize.js';

export type { IndexModelIdentity } from '../errors.js';

/*
 * INDEX FILE FORMAT (version 1), all integers little-endian; documented in README "Index file format":
 *   0  u8[4] magic "HPDF"
 *   4  u16   file format version (1)
 *   6  u16   section count n (1..64)
 *   8  u32   CRC-32 (IEEE) of bytes 12 .. 16 + 32·n (the rest of the header and the section table)
 *  12  u32   reserved, 0
 *  16  section table: n × 32 bytes
 *        +0  u8[4] tag (ASCII)
 *        +4  u32   flags: bit 0 = required (a reader that does not know the tag must refuse the file);
 *                         bit 1 = the section checks itself (its crc field is 0)
 *        +8  u32   CRC-32 of the section's bytes (0 with flag bit 1)
 *       +12  u32   reserved, 0
 *       +16  u64   offset from the file start (a multiple of 8)
 *       +24  u64   byte length
 *  sections, in table order, each at a multiple of 8 after zero padding; the file ends where the last one ends.
 * Sections of version 1:
 *   MODL (required) UTF-8 JSON { name, dim, dtype, sha256 }: hpd.json name, dim, dtype; sha256 of model.onnx
 *   VECS (required, self-checked) the serialised index: serialize.ts format 2 ("HPDX", its own CRC-32)
 *   DOCS (optional) UTF-8 JSON { [document path]: content sha256 }: what `index build --update` compares against
 * New optional sections (e.g. a keyword index) need no new version: readers skip optional tags they do not know.
 */

const INDEX_FILE_MAGIC = 'HPDF';
export const INDEX_FILE_VERSION = 1;
const MAGIC = [0x48, 0x50, 0x44, 0x46];
const LEGACY_MAGIC = [...INDEX_MAGIC].map((c) => c.charCodeAt(0));
const HEADER_BYTES = 16;
const ENTRY_BYTES = 32;
const MAX_SECTIONS = 64;
const REQUIRED = 1;
const SELF_CHECKED = 2;

/** What an index file holds besides the index: the model identity, and (optional) per-document content hashes. */
export interface IndexFileParts {
  model: IndexModelIdentity;
  /** The serialised index (CosineIndex.serialize() / encodeIndex output). */
  index: ArrayBuffer | Uint8Array;
  /** Document path → sha256 of its content, for incremental builds. */
  documents?: Readonly<Record<string, string>>;
  /** Further optional sections by 4-character tag (not MODL/VECS/DOCS); readers that do not know a tag skip it. */
  extra?: ReadonlyMap<string, Uint8Array>;
}

export interface ReadIndexFile {
  /** The model that built the index; null for a legacy file (a bare serialised index, written before format 1). */
  model: IndexModelIdentity | null;
  /** The serialised index bytes (a view into the input; decode copies what it keeps). */
  index: Uint8Array;
  documents?: Record<string, string>;
  /** Optional sections this build does not interpret, by tag. */
  extra: Map<string, Uint8Array>;
}

const align8 = (n: number): number => n + ((8 - (n % 8)) % 8);

function bytesOf(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new InvalidInputError('an index file is an ArrayBuffer or a typed array view of one.');
}

function checkTag(tag: string): void {
  if (!/^[\x21-\x7e]{4}$/.test(tag))
    throw new InvalidInputError(`section tag "${tag}" must be 4 printable ASCII characters.`);
}

/** Checks a model identity's shape (from a caller, or parsed from a file). */
function checkModelIdentity(m: unknown, what: string): IndexModelIdentity {
  const o = m as Partial<IndexModelIdentity> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.name !== 'string' ||
    typeof o.dtype !== 'string' ||
    !Number.isInteger(o.dim) ||
    (o.dim as number) < 1 ||
    typeof o.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(o.sha256)
  )
    throw new InvalidInputError(
      `${what} must be { name, dim, dtype, sha256 } (sha256: 64 lower-case hex digits of model.onnx), got ${JSON.stringify(m)}.`,
    );
  return { name: o.name, dim: o.dim as number, dtype: o.dtype, sha256: o.sha256 };
}

/** Writes an index file (a fresh ArrayBuffer: transferable as it is). */
export function writeIndexFile(parts: IndexFileParts): ArrayBuffer {
  const model = checkModelIdentity(parts.model, 'the index file model');
  const enc = new TextEncoder();
  const index = bytesOf(parts.index);
  if (index.length < 4 || LEGACY_MAGIC.some((b, i) => index[i] !== b))
    throw new InvalidInputError('writeIndexFile: `index` is not a serialised index (CosineIndex.serialize() output).');
  const sections: { tag: string; flags: number; bytes: Uint8Array }[] = [
    { tag: 'MODL', flags: REQUIRED, bytes: enc.encode(JSON.stringify(model)) },
    { tag: 'VECS', flags: REQUIRED | SELF_CHECKED, bytes: index },
  ];
  if (parts.documents) sections.push({ tag: 'DOCS', flags: 0, bytes: enc.encode(JSON.stringify(parts.documents)) });
  for (const [tag, bytes] of parts.extra ?? []) {
    checkTag(tag);
    if (sections.some((s) => s.tag === tag)) throw new InvalidInputError(`section ${tag} is given twice.`);
    sections.push({ tag, flags: 0, bytes });
  }
  const n = sections.length;
  if (n > MAX_SECTIONS) throw new InvalidInputError(`an index file holds at most ${MAX_SECTIONS} sections.`);
  let end = HEADER_BYTES + n * ENTRY_BYTES;
  const offsets = sections.map((s) => {
    const at = align8(end);
    end = at + s.bytes.length;
    return at;
  });
  const buf = new ArrayBuffer(end);
  const u8 = new Uint8Array(buf);
  const view = new DataView(buf);
  u8.set(MAGIC, 0);
  view.setUint16(4, INDEX_FILE_VERSION, true);
  view.setUint16(6, n, true);
  sections.forEach((s, i) => {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    for (let k = 0; k < 4; k++) u8[e + k] = s.tag.charCodeAt(k);
    view.setUint32(e + 4, s.flags, true);
    view.setUint32(e + 8, s.flags & SELF_CHECKED ? 0 : crc32(s.bytes), true);
    view.setBigUint64(e + 16, BigInt(offsets[i]), true);
    view.setBigUint64(e + 24, BigInt(s.bytes.length), true);
    u8.set(s.bytes, offsets[i]);
  });
  view.setUint32(8, crc32(u8.subarray(12, HEADER_BYTES + n * ENTRY_BYTES)), true);
  return buf;
}

function corrupt(what: string): CorruptIndexError {
  return new CorruptIndexError(
    `index file is corrupt: ${what}. Download or build it again (hpd-embed index build), or export it again from a live index.`,
  );
}

function parseJson(bytes: Uint8Array, tag: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new CorruptIndexError(`index file is corrupt: section ${tag} is not UTF-8 JSON.`, { cause });
  }
}

/** True for bytes that start like an index file or a bare (legacy) serialised index. */
export function isIndexFile(input: ArrayBuffer | ArrayBufferView): boolean {
  const u8 = bytesOf(input);
  return u8.length >= 4 && (MAGIC.every((b, i) => u8[i] === b) || LEGACY_MAGIC.every((b, i) => u8[i] === b));
}

/**
 * Reads an index file's sections (the serialised index inside is checked when decoded). A bare serialised index
 * (format 2 and before, no header) reads with `model: null`: the model check is impossible for it, so importing one
 * under a model is MODEL_MISMATCH (see checkIndexModel).
 */
export function readIndexFile(input: ArrayBuffer | ArrayBufferView): ReadIndexFile {
  const u8 = bytesOf(input);
  if (u8.length >= 4 && LEGACY_MAGIC.every((b, i) => u8[i] === b)) return { model: null, index: u8, extra: new Map() };
  if (u8.length < HEADER_BYTES) throw corrupt(`only ${u8.length} bytes (truncated?)`);
  if (!MAGIC.every((b, i) => u8[i] === b))
    throw corrupt(`it starts with neither "${INDEX_FILE_MAGIC}" nor "${INDEX_MAGIC}" (not an hpd-embed index file)`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const version = view.getUint16(4, true);
  if (version !== INDEX_FILE_VERSION) throw new UnsupportedIndexVersionError(version, INDEX_FILE_VERSION);
  const n = view.getUint16(6, true);
  if (n < 1 || n > MAX_SECTIONS) throw corrupt(`section count ${n} is outside 1..${MAX_SECTIONS}`);
  const tableEnd = HEADER_BYTES + n * ENTRY_BYTES;
  if (u8.length < tableEnd) throw corrupt(`only ${u8.length} bytes, shorter than its section table (truncated?)`);
  if (view.getUint32(8, true) !== crc32(u8.subarray(12, tableEnd))) throw corrupt('header checksum mismatch');
  if (view.getUint32(12, true) !== 0) throw corrupt('reserved header bytes are not zero');
  const sections = new Map<string, { flags: number; bytes: Uint8Array }>();
  let prevEnd = tableEnd;
  for (let i = 0; i < n; i++) {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    const tag = String.fromCharCode(u8[e], u8[e + 1], u8[e + 2], u8[e + 3]);
    const flags = view.getUint32(e + 4, true);
    const crc = view.getUint32(e + 8, true);
    const offset = Number(view.getBigUint64(e + 16, true));
    const length = Number(view.getBigUint64(e + 24, true));
    if ((flags & ~3) !== 0 || view.getUint32(e + 12, true) !== 0) throw corrupt(`section ${i} has unknown flags`);
    if (offset !== align8(prevEnd) || offset % 8 !== 0) throw corrupt(`section ${tag} is not where the table says`);
    if (offset + length > u8.length) throw corrupt(`section ${tag} runs past the end of the file (truncated?)`);
    if (sections.has(tag)) throw corrupt(`section ${tag} occurs twice`);
    const bytes = u8.subarray(offset, offset + length);
    if (!(flags & SELF_CHECKED) && crc32(bytes) !== crc) throw corrupt(`section ${tag} checksum mismatch`);
    sections.set(tag, { flags, bytes });
    prevEnd = offset + length;
  }
  if (prevEnd !== u8.length) throw corrupt(`${u8.length - prevEnd} bytes follow the last section`);
  for (const [tag, s] of sections)
    if (s.flags & REQUIRED && tag !== 'MODL' && tag !== 'VECS')
      throw new CorruptIndexError(
        `index file needs section ${tag}, which this build of hpd-embed does not know; upgrade hpd-embed to read it.`,
      );
  const modl = sections.get('MODL');
  const vecs = sections.get('VECS');
  if (!modl || !vecs) throw corrupt('the MODL or VECS section is missing');
  let model: IndexModelIdentity;
  try {
    model = checkModelIdentity(parseJson(modl.bytes, 'MODL'), 'MODL');
  } catch (cause) {
    if (cause instanceof CorruptIndexError) throw cause;
    throw new CorruptIndexError(`index file is corrupt: ${(cause as Error).message}`, { cause });
  }
  const out: ReadIndexFile = { model, index: vecs.bytes, extra: new Map() };
  const docs = sections.get('DOCS');
  if (docs) {
    const d = parseJson(docs.bytes, 'DOCS');
    if (typeof d !== 'object' || d === null || Array.isArray(d) || Object.values(d).some((v) => typeof v !== 'string'))
      throw corrupt('section DOCS is not an object of document → sha256 strings');
    out.documents = Object.assign(Object.create(null) as Record<string, string>, d as Record<string, string>);
  }
  for (const [tag, s] of sections) if (tag !== 'MODL' && tag !== 'VECS' && tag !== 'DOCS') out.extra.set(tag, s.bytes);
  return out;
}

/** MODEL_MISMATCH unless the file's model is `expected` (the same model.onnx bytes and dimension). */
export function checkIndexModel(actual: IndexModelIdentity | null, expected: IndexModelIdentity): void {
  if (actual === null || actual.sha256 !== expected.sha256 || actual.dim !== expected.dim)
    throw new ModelMismatchError(expected, actual);
}
