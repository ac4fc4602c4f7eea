import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/bundle/sha256.js';
import type { OnnxModel } from '../../src/convert/onnx-graph.js';
import { encodeModel } from '../../src/convert/onnx-writer.js';
import { ProtoWriter } from '../../src/convert/protobuf-writer.js';

// Every field kind the writer emits: negative and > 2^32 int64s, floats incl. NaN and -0, UTF-8, symbolic dims, domains.
const MODEL: OnnxModel = {
  irVersion: 8,
  producerName: 'p',
  producerVersion: '1',
  docString: 'd',
  graphName: 'g',
  opsets: [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ],
  metadata: { a: 'b', ü: 'ñ' },
  nodes: [
    {
      name: 'n',
      opType: 'X',
      domain: 'com.microsoft',
      inputs: ['a', ''],
      outputs: ['b'],
      attributes: {
        i: -5,
        big: 2 ** 40,
        f: { float: 0.1 },
        fs: { floats: [1.5, -0, NaN] },
        s: 'héllo',
        is: [-1, 0, 2 ** 33],
      },
    },
  ],
  initializers: [
    { name: 't', dims: [2, 3], dataType: 1, raw: new Uint8Array(24).fill(7) },
    { name: 'big', dims: [4096], dataType: 2, raw: new Uint8Array(4096).fill(3) },
  ],
  inputs: [{ name: 'a', elemType: 7, shape: ['batch', 5] }],
  outputs: [{ name: 'b', elemType: 1, shape: [-1, 0] }],
};

describe('encodeModel', () => {
  it('gives the same bytes protobufjs 8.8.1 gave for the same model (golden sha256 recorded before the switch)', async () => {
    // Recorded with protobufjs/minimal's Writer on this model; compile outputs of the test fixture (fp32/fp16/int8) matched too.
    expect(await sha256Hex(encodeModel(MODEL))).toBe(
      'f1f92c6e117359e6f25797b2a66275cc9bd68ee2ebfd0b686c69707158d621dd',
    );
  });
});

describe('ProtoWriter', () => {
  it('encodes varints, negative int64 as ten bytes, floats little-endian, nested lengths', () => {
    expect([...new ProtoWriter().uint32(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new ProtoWriter().int64(-1).finish()]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
    expect([...new ProtoWriter().int64(2 ** 35).finish()]).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect([...new ProtoWriter().float(1).finish()]).toEqual([0, 0, 0x80, 0x3f]);
    const w = new ProtoWriter().uint32(10).fork().string('hi').fork().uint32(1).ldelim().ldelim();
    expect([...w.finish()]).toEqual([10, 5, 2, 0x68, 0x69, 1, 1]);
    expect(() => new ProtoWriter().int64(2 ** 64)).toThrow(RangeError);
    expect(() => new ProtoWriter().fork().finish()).toThrow();
  });
});
