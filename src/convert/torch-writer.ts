import { zipSync, type Zippable } from 'fflate';
import type { Tensor } from './tensor.js';

/**
 * Writes f32 tensors as a `torch.save` zip checkpoint (pickle protocol 2, storages under
 * `archive/data/`, data 64-byte aligned like torch's writer), readable by `torch.load`.
 * Int64 buffers (e.g. `embeddings.position_ids`) can be added with `longs`.
 */
export function writeTorchCheckpoint(
  tensors: Iterable<[string, Tensor]>,
  longs: Iterable<[string, { shape: number[]; data: BigInt64Array }]> = [],
): Uint8Array {
  const p = new PickleWriter();
  const storages: Uint8Array[] = [];
  p.proto2();
  p.global('collections', 'OrderedDict');
  p.emptyTuple();
  p.reduce();
  p.mark();
  const entry = (name: string, storageType: string, shape: readonly number[], bytes: Uint8Array, count: number) => {
    const key = String(storages.length);
    storages.push(bytes);
    p.unicode(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    // persistent id: ('storage', storage_type, key, location, numel)
    p.mark();
    p.unicode('storage');
    p.global('torch', storageType);
    p.unicode(key);
    p.unicode('cpu');
    p.int(count);
    p.tuple();
    p.binpersid();
    p.int(0); // storage offset
    p.intTuple(shape);
    p.intTuple(contiguousStrides(shape));
    p.bool(false); // requires_grad
    p.global('collections', 'OrderedDict');
    p.emptyTuple();
    p.reduce(); // backward hooks
    p.tuple();
    p.reduce();
  };
  for (const [name, t] of tensors) {
    entry(
      name,
      'FloatStorage',
      t.shape,
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      t.data.length,
    );
  }
  for (const [name, t] of longs) {
    entry(
      name,
      'LongStorage',
      t.shape,
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      t.data.length,
    );
  }
  p.setItems();
  p.stop();

  const files: Zippable = {};
  const order: [string, Uint8Array][] = [
    ['archive/data.pkl', p.finish()],
    ['archive/byteorder', new TextEncoder().encode('little')],
    ...storages.map((b, i): [string, Uint8Array] => [`archive/data/${i}`, b]),
    ['archive/version', new TextEncoder().encode('3\n')],
    ['archive/.data/version', new TextEncoder().encode('3\n')],
  ];
  // Pad each local header's extra field so every record's data starts on a 64-byte boundary, as torch does.
  let offset = 0;
  for (const [name, data] of order) {
    const nameLen = new TextEncoder().encode(name).length;
    const base = offset + 30 + nameLen + 4; // local header + name + extra-field header
    const pad = (64 - (base % 64)) % 64;
    files[name] = [data, { level: 0, extra: { 0x4246: new Uint8Array(pad) } }];
    offset = base + pad + data.length;
  }
  return zipSync(files);
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Emits the handful of protocol-2 opcodes a state dict needs. */
class PickleWriter {
  private chunks: number[] = [];
  private enc = new TextEncoder();
  private byte(...b: number[]) {
    for (const x of b) this.chunks.push(x);
  }
  private u32(n: number) {
    this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto2() {
    this.byte(0x80, 2);
  }
  mark() {
    this.byte(0x28);
  }
  tuple() {
    this.byte(0x74);
  }
  emptyTuple() {
    this.byte(0x29);
  }
  reduce() {
    this.byte(0x52);
  }
  binpersid() {
    this.byte(0x51);
  }
  setItems() {
    this.byte(0x75);
  }
  stop() {
    this.byte(0x2e);
  }
  bool(v: boolean) {
    this.byte(v ? 0x88 : 0x89);
  }
  global(module: string, name: string) {
    this.byte(0x63, ...this.enc.encode(`${module}\n${name}\n`));
  }
  unicode(s: string) {
    const b = this.enc.encode(s);
    this.byte(0x58);
    this.u32(b.length);
    this.byte(...b);
  }
  int(n: number) {
    if (n >= 0 && n < 256) this.byte(0x4b, n);
    else if (n >= 0 && n < 65536) this.byte(0x4d, n & 0xff, n >> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) (this.byte(0x4a), this.u32(n >>> 0));
    else throw new RangeError(`integer ${n} does not fit BININT`);
  }
  intTuple(v: readonly number[]) {
    this.mark();
    for (const x of v) this.int(x);
    this.tuple();
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
