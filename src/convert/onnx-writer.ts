import type { AttributeValue, OnnxInitializer, OnnxModel, OnnxNode, OnnxValueInfo } from './onnx-graph.js';
import { ProtoWriter } from './protobuf-writer.js';

type W = ProtoWriter;

// Field numbers and wire types from onnx.proto (onnx/onnx, proto2 syntax).
const VARINT = 0,
  FIXED32 = 5,
  LEN = 2;
const tag = (field: number, wire: number) => (field << 3) | wire;

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** Serialises a model to ONNX protobuf bytes (encoded directly; no code generation, so it runs under strict CSP). */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.uint32(tag(1, VARINT)).int64(m.irVersion);
  w.uint32(tag(2, LEN)).string(m.producerName);
  w.uint32(tag(3, LEN)).string(m.producerVersion);
  if (m.docString) w.uint32(tag(6, LEN)).string(m.docString);
  w.uint32(tag(7, LEN)).fork();
  encodeGraph(w, m);
  w.ldelim();
  for (const o of m.opsets) {
    w.uint32(tag(8, LEN)).fork();
    if (o.domain) w.uint32(tag(1, LEN)).string(o.domain);
    w.uint32(tag(2, VARINT)).int64(o.version);
    w.ldelim();
  }
  for (const [key, value] of Object.entries(m.metadata)) {
    w.uint32(tag(14, LEN)).fork();
    w.uint32(tag(1, LEN)).string(key);
    w.uint32(tag(2, LEN)).string(value);
    w.ldelim();
  }
  return w.finish();
}

function encodeGraph(w: W, m: OnnxModel) {
  for (const n of m.nodes) {
    w.uint32(tag(1, LEN)).fork();
    encodeNode(w, n);
    w.ldelim();
  }
  w.uint32(tag(2, LEN)).string(m.graphName);
  for (const t of m.initializers) {
    w.uint32(tag(5, LEN)).fork();
    encodeTensor(w, t);
    w.ldelim();
  }
  for (const v of m.inputs) {
    w.uint32(tag(11, LEN)).fork();
    encodeValueInfo(w, v);
    w.ldelim();
  }
  for (const v of m.outputs) {
    w.uint32(tag(12, LEN)).fork();
    encodeValueInfo(w, v);
    w.ldelim();
  }
}

function encodeNode(w: W, n: OnnxNode) {
  for (const i of n.inputs) w.uint32(tag(1, LEN)).string(i);
  for (const o of n.outputs) w.uint32(tag(2, LEN)).string(o);
  w.uint32(tag(3, LEN)).string(n.name);
  w.uint32(tag(4, LEN)).string(n.opType);
  for (const [name, value] of Object.entries(n.attributes)) {
    w.uint32(tag(5, LEN)).fork();
    encodeAttribute(w, name, value);
    w.ldelim();
  }
  if (n.domain) w.uint32(tag(7, LEN)).string(n.domain);
}

function encodeAttribute(w: W, name: string, v: AttributeValue) {
  w.uint32(tag(1, LEN)).string(name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}: use { float } for non-integers`);
    w.uint32(tag(3, VARINT)).int64(v).uint32(tag(20, VARINT)).int32(AttrType.INT);
  } else if (typeof v === 'string') {
    w.uint32(tag(4, LEN)).bytes(new TextEncoder().encode(v)).uint32(tag(20, VARINT)).int32(AttrType.STRING);
  } else if (Array.isArray(v)) {
    for (const x of v) w.uint32(tag(8, VARINT)).int64(x);
    w.uint32(tag(20, VARINT)).int32(AttrType.INTS);
  } else if ('float' in v) {
    w.uint32(tag(2, FIXED32)).float(v.float).uint32(tag(20, VARINT)).int32(AttrType.FLOAT);
  } else {
    for (const x of v.floats) w.uint32(tag(7, FIXED32)).float(x);
    w.uint32(tag(20, VARINT)).int32(AttrType.FLOATS);
  }
}

function encodeTensor(w: W, t: OnnxInitializer) {
  for (const d of t.dims) w.uint32(tag(1, VARINT)).int64(d);
  w.uint32(tag(2, VARINT)).int32(t.dataType);
  w.uint32(tag(8, LEN)).string(t.name);
  w.uint32(tag(9, LEN)).bytes(t.raw);
}

function encodeValueInfo(w: W, v: OnnxValueInfo) {
  w.uint32(tag(1, LEN)).string(v.name);
  w.uint32(tag(2, LEN)).fork(); // TypeProto
  w.uint32(tag(1, LEN)).fork(); // TypeProto.Tensor
  w.uint32(tag(1, VARINT)).int32(v.elemType);
  w.uint32(tag(2, LEN)).fork(); // TensorShapeProto
  for (const d of v.shape) {
    w.uint32(tag(1, LEN)).fork();
    if (typeof d === 'number') w.uint32(tag(1, VARINT)).int64(d);
    else w.uint32(tag(2, LEN)).string(d);
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  w.ldelim();
}
