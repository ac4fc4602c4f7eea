import { Float16Array, getFloat16 } from '@petamoriken/float16';

// A 64k-entry table makes f16 → f32 one load per value; the library defines each entry.
let f16Table: Float32Array | undefined;

function table(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    const view = new DataView(new ArrayBuffer(2));
    for (let i = 0; i < 65536; i++) {
      view.setUint16(0, i, true);
      t[i] = getFloat16(view, 0, true);
    }
    f16Table = t;
  }
  return f16Table;
}

/** IEEE half bits → f32 values. */
export function f16BitsToF32(bits: Uint16Array): Float32Array {
  const t = table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** bfloat16 bits → f32 values (bf16 is the top half of an f32). */
export function bf16BitsToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

/** f32 values → IEEE half bits, round to nearest even. */
export function f32ToF16Bits(values: Float32Array): Uint16Array {
  const half = new Float16Array(values);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}
