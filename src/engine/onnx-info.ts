// A minimal ONNX (protobuf wire format) reader: the graph's inputs, outputs and initializer dims, nothing else.
// Hand-written: protobufjs is CommonJS (kept out of the worker), and these few fields need no schema.
import { HpdError } from '../errors.js';

interface OnnxValueInfo {
  name: string;
  /** One entry per dimension: a number (dim_value), a string (dim_param) or undefined (neither). */
  dims: (number | string | undefined)[] | undefined;
}

export interface OnnxInfo {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Initializer dims by name (their data is skipped, never copied). */
  initializers: Map<string, number[]>;
}

class Malformed extends Error {}

interface Field {
  field: number;
  wire: number;
  /** varint / fixed value (wire 0, 1, 5) */
  value: number;
  /** bytes of a length-delimited field (wire 2) */
  start: number;
  end: number;
}

/** Iterates the fields of one message in `b[start, end)`, checking every length against the bounds. */
function* fields(b: Uint8Array, start: number, end: number): Generator<Field> {
  let p = start;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw new Malformed('truncated varint');
      const byte = b[p++];
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    throw new Malformed('varint longer than 10 bytes');
  };
  while (p < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new Malformed('field number 0');
    if (wire === 0) yield { field, wire, value: varint(), start: p, end: p };
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p + n > end) throw new Malformed('truncated fixed-width field');
      p += n;
      yield { field, wire, value: 0, start: p - n, end: p };
    } else if (wire === 2) {
      const len = varint();
      if (len > end - p) throw new Malformed(`a field of ${len} bytes runs past its message`);
      p += len;
      yield { field, wire, value: 0, start: p - len, end: p };
    } else throw new Malformed(`wire type ${wire}`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const text = (b: Uint8Array, f: Field) => decoder.decode(b.subarray(f.start, f.end));

/** Packed (wire 2) or unpacked (wire 0) repeated int64 values. */
function int64s(b: Uint8Array, f: Field, out: number[]): void {
  if (f.wire === 0) return void out.push(f.value);
  if (f.wire !== 2) throw new Malformed('int64 with a fixed wire type');
  let v = 0;
  let mul = 1;
  for (let p = f.start; p < f.end; p++) {
    v += (b[p] & 0x7f) * mul;
    mul *= 128;
    if (b[p] < 0x80) (out.push(v), (v = 0), (mul = 1));
    else if (mul > 2 ** 70) throw new Malformed('varint longer than 10 bytes');
  }
  if (mul !== 1) throw new Malformed('truncated packed varint');
}

function valueInfo(b: Uint8Array, f: Field): OnnxValueInfo {
  let name = '';
  let dims: OnnxValueInfo['dims'];
  for (const v of fields(b, f.start, f.end)) {
    if (v.field === 1 && v.wire === 2) name = text(b, v);
    else if (v.field === 2 && v.wire === 2)
      for (const t of fields(b, v.start, v.end))
        // TypeProto.tensor_type
        if (t.field === 1 && t.wire === 2)
          for (const s of fields(b, t.start, t.end))
            // TypeProto.Tensor.shape
            if (s.field === 2 && s.wire === 2) {
              dims = [];
              for (const d of fields(b, s.start, s.end)) {
                if (d.field !== 1 || d.wire !== 2) continue;
                let dim: number | string | undefined;
                for (const x of fields(b, d.start, d.end))
                  if (x.field === 1 && x.wire === 0) dim = x.value;
                  else if (x.field === 2 && x.wire === 2) dim = text(b, x);
                dims.push(dim);
              }
            }
  }
  return { name, dims };
}

/** Reads ModelProto.graph's inputs (11), outputs (12) and initializers (5: dims 1, name 8); MODEL_INVALID when malformed. */
export function readOnnxInfo(model: Uint8Array, where = 'model.onnx'): OnnxInfo {
  const info: OnnxInfo = { inputs: [], outputs: [], initializers: new Map() };
  let graphs = 0;
  try {
    for (const m of fields(model, 0, model.length)) {
      if (m.field !== 7 || m.wire !== 2) continue;
      graphs++;
      for (const g of fields(model, m.start, m.end)) {
        if (g.wire !== 2) continue;
        if (g.field === 11) info.inputs.push(valueInfo(model, g));
        else if (g.field === 12) info.outputs.push(valueInfo(model, g));
        else if (g.field === 5) {
          let name = '';
          const dims: number[] = [];
          for (const t of fields(model, g.start, g.end))
            if (t.field === 8 && t.wire === 2) name = text(model, t);
            else if (t.field === 1) int64s(model, t, dims);
          info.initializers.set(name, dims);
        }
      }
    }
  } catch (e) {
    if (!(e instanceof Malformed || e instanceof TypeError)) throw e;
    throw new HpdError(
      'MODEL_INVALID',
      `${where} is not a well-formed ONNX model (${e.message}): the file is damaged or truncated; re-compile the bundle (hpd-embed convert) or fetch it again.`,
      { cause: e },
    );
  }
  if (graphs !== 1)
    throw new HpdError(
      'MODEL_INVALID',
      `${where} is not an ONNX model (${graphs} graphs, expected 1): re-compile the bundle (hpd-embed convert) or fetch it again.`,
    );
  return info;
}
