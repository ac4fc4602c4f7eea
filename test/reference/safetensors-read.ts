// Minimal, independent safetensors reader used only by the test reference.
// Format: 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}},
// then the data buffer; offsets are relative to the start of the data buffer.
// Every tensor is widened to float64.

import { readFile } from 'node:fs/promises';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16';

export interface ReferenceTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface ReferenceSafetensors {
  readonly tensors: Map<string, ReferenceTensor>;
  readonly metadata: Record<string, string>;
}

const BYTES_PER: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Decodes IEEE 754 binary16 bits into a number (exact). */
export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero / subnormal
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

/** Decodes bfloat16 bits (the upper half of a float32) into a number (exact). */
export function bf16BitsToNumber(bits: number): number {
  bf16Scratch.setUint32(0, ((bits & 0xffff) << 16) >>> 0, true);
  return bf16Scratch.getFloat32(0, true);
}

function decode(view: DataView, begin: number, count: number, dtype: SafetensorsDtype): Float64Array {
  const out = new Float64Array(count);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(begin + 8 * i, true);
      break;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(begin + 4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfBitsToNumber(view.getUint16(begin + 2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bf16BitsToNumber(view.getUint16(begin + 2 * i, true));
      break;
  }
  return out;
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array): ReferenceSafetensors {
  if (bytes.byteLength < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) throw new Error('safetensors: header runs past the end of the file');
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;

  const tensors = new Map<string, ReferenceTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (!(dtype in BYTES_PER)) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${dtype}`);
    const dt = dtype as SafetensorsDtype;
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offsets;
    if (end - begin !== count * BYTES_PER[dt]) {
      throw new Error(`safetensors: tensor ${name} has ${end - begin} bytes, expected ${count * BYTES_PER[dt]}`);
    }
    if (begin < 0 || end > dataLength) throw new Error(`safetensors: tensor ${name} lies outside the data buffer`);
    tensors.set(name, { dtype: dt, shape: [...shape], data: decode(view, dataStart + begin, count, dt) });
  }
  return { tensors, metadata };
}

/** Reads and parses a safetensors file from disk. */
export async function readSafetensors(path: string): Promise<ReferenceSafetensors> {
  const buf = await readFile(path);
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}
