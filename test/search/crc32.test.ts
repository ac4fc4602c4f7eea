import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/search/crc32.js';
import { crc32Bitwise } from '../reference/crc32-bitwise.js';

describe('crc32', () => {
  it('is the IEEE CRC-32 (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('equals the bitwise definition at every length around the 16-byte step and at any offset, and chains by seed', () => {
    const bytes = new Uint8Array(300);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (let off = 0; off < 4; off++)
      for (let len = 0; len <= 70; len++) {
        const part = bytes.subarray(off, off + len);
        expect(crc32(part)).toBe(crc32Bitwise(part));
        const cut = len >> 1;
        expect(crc32(part.subarray(cut), crc32(part.subarray(0, cut)))).toBe(crc32Bitwise(part));
      }
  });
});
