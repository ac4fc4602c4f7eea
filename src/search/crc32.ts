// CRC-32 (IEEE, as in zip/PNG), slicing-by-16: written here because fflate keeps its (byte-at-a-time) crc internal and
// node:zlib's crc32 is Node-only (and 22+), while the index must (de)serialise in browsers and workers.

const TABLES: Int32Array = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let s = 1; s < 16; s++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
}

/** CRC-32 of `bytes`; pass a previous result as `seed` to continue over a further chunk. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  const t = TABLES;
  let c = ~seed;
  let i = 0;
  const n = bytes.length;
  const n16 = n - (n & 15);
  // Int32 tables keep every value a small integer (no heap numbers); 16 bytes per step, one table lookup per byte.
  for (; i < n16; i += 16) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c =
      t[3840 + (c & 0xff)] ^
      t[3584 + ((c >>> 8) & 0xff)] ^
      t[3328 + ((c >>> 16) & 0xff)] ^
      t[3072 + (c >>> 24)] ^
      t[2816 + bytes[i + 4]] ^
      t[2560 + bytes[i + 5]] ^
      t[2304 + bytes[i + 6]] ^
      t[2048 + bytes[i + 7]] ^
      t[1792 + bytes[i + 8]] ^
      t[1536 + bytes[i + 9]] ^
      t[1280 + bytes[i + 10]] ^
      t[1024 + bytes[i + 11]] ^
      t[768 + bytes[i + 12]] ^
      t[512 + bytes[i + 13]] ^
      t[256 + bytes[i + 14]] ^
      t[bytes[i + 15]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
