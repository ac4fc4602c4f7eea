import { parseJsonBytes } from '../bundle/json.js';
import { ConvertError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from './half.js';
import { numel, type ReadLimits, type Tensor, type TensorMap } from './tensor.js';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const FLOAT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
const ALL_BYTES: Record<string, number> = {
  ...FLOAT_BYTES,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  U16: 2,
  U32: 4,
  U64: 8,
};

/** The safetensors spec caps the JSON header at 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses a .safetensors file; float tensors (F32, F16, BF16) come back as f32.
 * Checked as the spec says: integer offsets, tensors contiguous and non-overlapping, covering the data exactly.
 */
export function readSafetensors(bytes: Uint8Array, label = 'model.safetensors', limits: ReadLimits = {}): TensorMap {
  const corrupt = (why: string): never => {
    throw new ConvertError(
      'WEIGHTS_CORRUPT',
      `${label} is not a valid safetensors file: ${why}. Re-download or re-save it.`,
    );
  };
  if (bytes.byteLength < 8) corrupt('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 === 0n || headerLen64 > BigInt(Math.min(bytes.byteLength - 8, MAX_HEADER_BYTES))) {
    corrupt(`header length ${headerLen64} exceeds the file size ${bytes.byteLength} or the spec's 100 MB`);
  }
  const headerLen = Number(headerLen64);
  const header = parseJsonBytes(
    bytes.subarray(8, 8 + headerLen),
    `${label} (safetensors header)`,
    'WEIGHTS_CORRUPT',
    ConvertError,
  );
  if (!header || typeof header !== 'object' || Array.isArray(header))
    return corrupt('the JSON header is not an object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const want = limits.want ?? (() => true);
  const maxBytes = limits.maxBytes ?? Infinity;
  const entries: { name: string; e: HeaderEntry; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    if (!e || typeof e !== 'object') corrupt(`entry ${name} is malformed`);
    const width = Object.hasOwn(ALL_BYTES, e.dtype) ? ALL_BYTES[e.dtype] : undefined;
    const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (
      !width ||
      !Array.isArray(e.shape) ||
      !e.shape.every(isCount) ||
      !Array.isArray(e.data_offsets) ||
      e.data_offsets.length !== 2 ||
      !e.data_offsets.every(isCount)
    ) {
      corrupt(
        `entry ${name} is malformed (dtype, shape and data_offsets must be a known dtype and non-negative integers)`,
      );
    }
    const [begin, end] = e.data_offsets;
    if (!(end >= begin && end <= dataLen)) corrupt(`tensor ${name} lies outside the file (truncated?)`);
    if (end - begin !== numel(e.shape) * width!)
      corrupt(`tensor ${name} has ${end - begin} bytes for shape [${e.shape}] ${e.dtype}`);
    entries.push({ name, e, begin, end });
  }
  // Sorted by range, each tensor starts where the previous one ended: no aliasing, no holes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin !== at)
      corrupt(
        t.begin < at ? `tensor ${t.name} overlaps another tensor` : `bytes ${at}..${t.begin} belong to no tensor`,
      );
    at = t.end;
  }
  if (at !== dataLen) corrupt(`bytes ${at}..${dataLen} belong to no tensor`);
  const out: TensorMap = new Map();
  let decoded = 0;
  for (const { name, e, begin } of entries) {
    if (!FLOAT_BYTES[e.dtype] || !want(name)) continue;
    decoded += numel(e.shape) * 4;
    if (decoded > maxBytes) corrupt(`its tensors would decode to more than ${maxBytes} bytes`);
    out.set(name, { shape: e.shape, data: decode(bytes, dataStart + begin, numel(e.shape), e.dtype) });
  }
  return out;
}

function decode(bytes: Uint8Array, offset: number, n: number, dtype: string): Float32Array {
  // Copy into an aligned buffer: safetensors offsets need not be 4-byte aligned in memory.
  // Uint8Array's slice, not Buffer's (a view): a Node Buffer passed in must be copied too.
  const copy = Uint8Array.prototype.slice.call(bytes, offset, offset + n * FLOAT_BYTES[dtype]);
  if (dtype === 'F32') return new Float32Array(copy.buffer, 0, n);
  const bits = new Uint16Array(copy.buffer, 0, n);
  return dtype === 'F16' ? f16BitsToF32(bits) : bf16BitsToF32(bits);
}

/** Writes f32 tensors as a .safetensors file. */
export function writeSafetensors(
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const list = [...tensors];
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of list) {
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // pad so tensor data starts 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
