// Hand-written because the IEEE 754 bit arithmetic is ~30 lines and every library for it ships a Float16Array polyfill we don't need.

// A 64k-entry table makes f16 → f32 one load per value.
let f16Table: Float32Array | undefined;

/** One IEEE half (bits) → its exact f32 value: subnormals, ±0, ±inf and NaN included. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

function table(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = f16BitsToNumber(i);
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

/** One f32 (as its 32 bits) → IEEE half bits, round to nearest, ties to even; overflow → ±inf; NaN stays NaN. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand (implicit 1 included) right, rounding once.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const m = mant | 0x800000;
    const shift = 14 - e;
    const q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (rem > halfway || (rem === halfway && q & 1) ? q + 1 : q);
  }
  const q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, and out of the largest exponent gives inf: both are the +1.
  return sign | (rem > 0x1000 || (rem === 0x1000 && q & 1) ? q + 1 : q);
}

/** f32 values → IEEE half bits, round to nearest even. */
export function f32ToF16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToF16(u[i]);
  return out;
}
