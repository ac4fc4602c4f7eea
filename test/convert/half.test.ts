import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f16BitsToNumber, f32BitsToF16, f32ToF16Bits } from '../../src/convert/half.js';
import { seededRandom } from '../../src/seeded-random.js';

// Independent oracle: every finite non-negative half, by value, from the IEEE 754 definition (sign · 2^(e−15) · 1.m).
function oracleValue(h: number): number {
  const e = (h >> 10) & 31,
    m = h & 1023,
    s = h & 0x8000 ? -1 : 1;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (e === 0 ? (m / 1024) * Math.pow(2, -14) : (1 + m / 1024) * Math.pow(2, e - 15));
}
// Ascending magnitudes 0 … 65504, then 65536 standing for +inf (the next "even" step after the largest half).
const LADDER = Array.from({ length: 0x7c00 }, (_, h) => oracleValue(h)).concat(65536);

/** Nearest half to |v| by search, ties to the even bit pattern; the sign is copied. */
function oracleRound(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (Number.isNaN(v)) return -1;
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0,
    hi = LADDER.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (LADDER[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - LADDER[lo],
    dh = LADDER[hi] - a;
  const pick = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

const f = new Float32Array(1);
const u = new Uint32Array(f.buffer);
const bitsOf = (v: number) => ((f[0] = v), u[0]);
const fromBits = (b: number) => ((u[0] = b >>> 0), f[0]);

describe('half', () => {
  it('decodes all 65536 half values exactly (subnormals, ±0, ±inf, NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const got = f16BitsToF32(all);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = oracleValue(h);
      const same = (x: number) => (Number.isNaN(want) ? Number.isNaN(x) : Object.is(x, want));
      if (!same(got[h]) || !same(f16BitsToNumber(h))) wrong.push(`0x${h.toString(16)}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('round-trips every half through f32 bit for bit (NaN stays NaN)', () => {
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const back = f32BitsToF16(bitsOf(oracleValue(h)));
      const ok = Number.isNaN(oracleValue(h)) ? (back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0 : back === h;
      if (!ok) wrong.push(`0x${h.toString(16)}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('rounds to nearest, ties to even, at every midpoint between halves and at its f32 neighbours', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      const mid = (LADDER[h] + LADDER[h + 1]) / 2; // exact in f32: 12 significant bits
      const mb = bitsOf(mid);
      for (const b of [mb - 1, mb, mb + 1]) {
        for (const sign of [0, 0x80000000]) {
          const bits = (b | sign) >>> 0;
          if (f32BitsToF16(bits) !== oracleRound(fromBits(bits))) wrong.push(`f32 0x${bits.toString(16)}`);
          checked++;
        }
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(checked).toBe(0x7c00 * 6);
  });

  it('handles f32 edge values: overflow, underflow, f32 subnormals, inf, NaN', () => {
    const cases: [number, number][] = [
      [0, 0],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00],
      [3.4028234663852886e38, 0x7c00],
      [-1e10, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [2 ** -25 * 1.0000001, 0x0001],
      [3 * 2 ** -25, 0x0002],
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -25, 0x0400],
      [1.401298464324817e-45, 0],
      [-1.401298464324817e-45, 0x8000],
      [1.1754943508222875e-38, 0],
      [1, 0x3c00],
      [-2, 0xc000],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
    ];
    for (const [v, want] of cases) expect(f32BitsToF16(bitsOf(v)), String(v)).toBe(want);
    const nan = f32BitsToF16(bitsOf(NaN));
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
    expect(f32BitsToF16(0x7f800001) & 0x3ff).not.toBe(0); // a signalling NaN whose payload sits in the low bits stays NaN
  });

  it('agrees with the oracle on 200k random f32 bit patterns', () => {
    const rnd = seededRandom(12345);
    const wrong: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const bits = Math.floor(rnd() * 2 ** 32); // mulberry32's output is a whole u32 over 2^32
      const v = fromBits(bits);
      if (!Number.isNaN(v) && f32BitsToF16(bits) !== oracleRound(v)) wrong.push(`f32 0x${bits.toString(16)}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('converts arrays at any offset in a buffer', () => {
    const buf = new Float32Array([9, 1, -2, 0.5]);
    expect([...f32ToF16Bits(buf.subarray(1))]).toEqual([0x3c00, 0xc000, 0x3800]);
  });
});
