// Hand-written: we only encode, and the few wire types ONNX needs fit in this file, where protobufjs is CommonJS
// that Vite's dev server cannot load in a module worker.

import { HpdError } from '../errors.js';

const CHUNK = 1 << 16;
const utf8 = new TextEncoder();

/**
 * A protobuf wire-format encoder with protobufjs Writer's semantics: `fork()` opens a length-delimited
 * field, `ldelim()` closes it. Large byte fields are kept by reference until `finish()` copies once.
 */
export class ProtoWriter {
  private parts: Uint8Array[] = [];
  private total = 0;
  private buf = new Uint8Array(CHUNK);
  private pos = 0;
  /** Open forks: index of the placeholder part that receives the length, and the total when opened. */
  private forks: { part: number; start: number }[] = [];
  private readonly f32 = new DataView(new ArrayBuffer(4));

  private flush(): void {
    if (this.pos === 0) return;
    this.parts.push(this.buf.subarray(0, this.pos));
    this.total += this.pos;
    this.buf = this.buf.byteLength - this.pos >= 64 ? this.buf.subarray(this.pos) : new Uint8Array(CHUNK);
    this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.byteLength) {
      this.flush();
      if (n > this.buf.byteLength) this.buf = new Uint8Array(Math.max(n, CHUNK));
    }
  }

  /** Unsigned 32-bit varint (a tag, a length, an enum). */
  uint32(v: number): this {
    this.room(5);
    let x = v >>> 0;
    while (x > 0x7f) {
      this.buf[this.pos++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.buf[this.pos++] = x;
    return this;
  }

  /** Signed 64-bit varint; negative values take ten bytes (two's complement), as protobuf requires. */
  int64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`int64 field: ${v} is not a safe integer`);
    if (v >= 0 && v <= 0xffffffff) return this.uint32(v);
    this.room(10);
    let x = BigInt.asUintN(64, BigInt(v));
    while (x > 0x7fn) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
    return this;
  }

  /** Signed 32-bit varint (sign-extended to 64 bits when negative). */
  int32(v: number): this {
    return this.int64(v | 0);
  }

  /** Little-endian float32 (fixed32). */
  float(v: number): this {
    this.room(4);
    this.f32.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = this.f32.getUint8(i);
    return this;
  }

  /** Length-prefixed bytes; big arrays are referenced, not copied, until finish(). */
  bytes(b: Uint8Array): this {
    this.uint32(b.byteLength);
    if (b.byteLength > 1024) {
      this.flush();
      this.parts.push(b);
      this.total += b.byteLength;
    } else {
      this.room(b.byteLength);
      this.buf.set(b, this.pos);
      this.pos += b.byteLength;
    }
    return this;
  }

  /** Length-prefixed UTF-8. */
  string(s: string): this {
    return this.bytes(utf8.encode(s));
  }

  /** Opens a nested message; its length is written by the matching ldelim(). */
  fork(): this {
    this.flush();
    this.forks.push({ part: this.parts.length, start: this.total });
    this.parts.push(new Uint8Array(0));
    return this;
  }

  /** Closes the innermost fork, prefixing it with its length. */
  ldelim(): this {
    const f = this.forks.pop();
    if (!f) throw new HpdError('INTERNAL', 'ProtoWriter: ldelim() without fork() (an ONNX writer bug).');
    this.flush();
    const len = this.total - f.start;
    const prefix = new ProtoWriter().uint32(len).finish();
    this.parts[f.part] = prefix;
    this.total += prefix.byteLength;
    return this;
  }

  /** The encoded bytes (one copy). */
  finish(): Uint8Array {
    if (this.forks.length)
      throw new HpdError(
        'INTERNAL',
        `ProtoWriter: finish() with ${this.forks.length} open fork() (an ONNX writer bug).`,
      );
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}
