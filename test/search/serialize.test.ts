import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CorruptIndexError,
  CosineIndex,
  HpdError,
  INDEX_FORMAT_VERSION,
  UnsupportedIndexVersionError,
} from '../../src/search/index.js';
import { crc32 } from '../../src/search/crc32.js';
import type { Int8Rescore, JsonValue, StorageKind } from '../../src/search/index.js';
import { randomVectors, seededRandom } from '../reference/naive-cosine.js';

const DIM = 24;

function build(storage: StorageKind, rescore?: Int8Rescore): CosineIndex<JsonValue> {
  const rand = seededRandom(31);
  const index = new CosineIndex<JsonValue>({ dim: DIM, storage, rescore });
  const ids = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `ünï-${i}-😀` : `id-${i}`));
  const meta: (JsonValue | undefined)[] = ids.map((id, i) =>
    i % 3 === 0 ? undefined : i % 3 === 1 ? { id, n: i, nested: [1, 'two', null, true] } : i,
  );
  index.addVectors(ids, randomVectors(rand, ids.length, DIM), meta);
  index.remove(['id-5', 'id-100', 'id-299']); // exercise swap-with-last before serialising
  index.upsertVectors(['id-1'], randomVectors(rand, 1, DIM), ['replaced']);
  return index;
}

function withCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function expectRefused(bytes: Uint8Array, code = 'CORRUPT_INDEX'): void {
  let caught: unknown;
  try {
    CosineIndex.deserialize(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(HpdError);
  expect((caught as HpdError).code).toBe(code);
}

describe('serialisation', () => {
  const variants: [StorageKind, Int8Rescore | undefined][] = [
    ['f32', undefined],
    ['int8', undefined],
    ['int8', 'dequantized'],
    ['int8', 'f32'],
  ];
  for (const [storage, rescore] of variants) {
    it(`round-trips bit-exactly (${storage}, rescore ${rescore ?? 'default'})`, () => {
      const index = build(storage, rescore);
      const bytes = new Uint8Array(index.serialize());
      const back = CosineIndex.deserialize(bytes);
      expect(back.dim).toBe(DIM);
      expect(back.storage).toBe(storage);
      expect(back.rescore).toBe(index.rescore);
      expect(back.size).toBe(index.size);
      expect(back.ids()).toEqual(index.ids());
      expect(new Uint8Array(back.serialize())).toEqual(bytes);
      for (const id of index.ids()) {
        const a = index.get(id);
        const b = back.get(id);
        expect(new Uint32Array((b?.vector as Float32Array).buffer)).toEqual(
          new Uint32Array((a?.vector as Float32Array).buffer),
        );
        expect(b?.metadata).toEqual(a?.metadata);
      }
      const q = randomVectors(seededRandom(32), 5, DIM);
      expect(back.searchMany(q, 10)).toEqual(index.searchMany(q, 10));
      // The copy is independent: changing it does not touch the original.
      back.remove(back.ids().slice(0, 10));
      back.addVectors(['fresh'], randomVectors(seededRandom(33), 1, DIM));
      expect(new Uint8Array(index.serialize())).toEqual(bytes);
    });
  }

  it('round-trips an empty index and accepts a typed-array view at an offset', () => {
    const bytes = new Uint8Array(new CosineIndex({ dim: 3, storage: 'int8' }).serialize());
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    const back = CosineIndex.deserialize(padded.subarray(5));
    expect(back.size).toBe(0);
    expect(back.storage).toBe('int8');
    expect(new Uint8Array(back.serialize())).toEqual(bytes);
  });

  it('crc32 agrees with zlib', () => {
    const rand = seededRandom(34);
    for (const n of [0, 1, 3, 4, 5, 1000, 4099]) {
      const b = new Uint8Array(n).map(() => Math.floor(rand() * 256));
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
  });
});

describe('corrupt buffers are refused with typed errors', () => {
  const bytes = new Uint8Array(build('int8', 'f32').serialize());

  it('refuses every truncation', () => {
    for (const len of [0, 1, 4, 31, 35, 36, 100, bytes.length >> 1, bytes.length - 5, bytes.length - 1])
      expectRefused(bytes.slice(0, len));
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expectRefused(longer);
  });

  it('refuses any single flipped bit', () => {
    const rand = seededRandom(35);
    for (let t = 0; t < 200; t++) {
      const copy = bytes.slice();
      const pos = t < 40 ? t : Math.floor(rand() * bytes.length);
      copy[pos] ^= 1 << Math.floor(rand() * 8);
      expect(() => CosineIndex.deserialize(copy)).toThrow(HpdError);
    }
  });

  it('still reads format version 1 (no residual codes), and refuses residual flags in a version-1 header', () => {
    const compact = new Uint8Array(build('int8', 'dequantized').serialize());
    const v1 = compact.slice();
    new DataView(v1.buffer).setUint16(4, 1, true);
    const back = CosineIndex.deserialize(withCrc(v1));
    expect(back.rescore).toBe('dequantized');
    expect(back.size).toBeGreaterThan(0);
    const residual = new Uint8Array(build('int8').serialize());
    const bad = residual.slice();
    new DataView(bad.buffer).setUint16(4, 1, true);
    expectRefused(withCrc(bad), 'CORRUPT_INDEX');
  });

  it('refuses wrong magic, a newer version, and structurally bad buffers even with a valid checksum', () => {
    const magic = bytes.slice();
    magic[0] = 0x50;
    expectRefused(withCrc(magic));
    const version = bytes.slice();
    new DataView(version.buffer).setUint16(4, INDEX_FORMAT_VERSION + 1, true);
    expectRefused(withCrc(version), 'UNSUPPORTED_INDEX_VERSION');
    expect(() => CosineIndex.deserialize(withCrc(version))).toThrow(UnsupportedIndexVersionError);
    const count = bytes.slice();
    const view = new DataView(count.buffer);
    view.setUint32(12, view.getUint32(12, true) + 1, true);
    expectRefused(withCrc(count));
    const storage = bytes.slice();
    storage[6] = 9;
    expectRefused(withCrc(storage));
    const flags = bytes.slice();
    flags[7] = 2;
    expectRefused(withCrc(flags));
  });

  it('refuses duplicate ids, non-finite values and bad metadata under a valid checksum', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(
      ['aa', 'ab'],
      [
        [1, 0],
        [0, 1],
      ],
      [{ x: 1 }, undefined],
    );
    const good = new Uint8Array(index.serialize());
    const dup = good.slice();
    dup[32 + 4 + 2 + 4 + 1] = 'a'.charCodeAt(0); // second id "ab" -> "aa"
    expectRefused(withCrc(dup));
    const nan = good.slice();
    new DataView(nan.buffer).setFloat32(nan.length - 4 - 8, Number.NaN, true);
    expectRefused(withCrc(nan));
    const meta = good.slice();
    const text = new TextDecoder().decode(meta);
    meta[text.indexOf('[[0')] = '{'.charCodeAt(0);
    expectRefused(withCrc(meta));
    expect(() => CosineIndex.deserialize(withCrc(meta))).toThrow(CorruptIndexError);
  });
});

/** A CRC-valid file from header fields and body sections: what an attacker can write by hand. */
function craft(
  h: { storage?: number; flags?: number; dim: number; count: number; idsLen?: number; metaLen?: number },
  body: Uint8Array,
  vectorBytes = 0,
): Uint8Array {
  const total = 32 + body.length + ((4 - ((32 + body.length) % 4)) % 4) + vectorBytes + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([0x48, 0x50, 0x44, 0x58]);
  view.setUint16(4, INDEX_FORMAT_VERSION, true);
  out[6] = h.storage ?? 0;
  out[7] = h.flags ?? 0;
  view.setUint32(8, h.dim, true);
  view.setUint32(12, h.count, true);
  view.setUint32(16, h.idsLen ?? 0, true);
  view.setUint32(20, h.metaLen ?? body.length, true);
  out.set(body, 32);
  return withCrc(out);
}

/** Deserialises, and returns the error plus how many ArrayBuffer bytes the attempt left allocated at its peak (sampled after). */
function attempt(bytes: Uint8Array): { error: unknown; grew: number } {
  const before = process.memoryUsage().arrayBuffers;
  let error: unknown;
  let index: CosineIndex | undefined;
  try {
    index = CosineIndex.deserialize(bytes);
  } catch (e) {
    error = e;
  }
  const grew = process.memoryUsage().arrayBuffers - before;
  void index;
  return { error, grew };
}

describe('crafted headers: sizes are checked against the file before anything is allocated (issue 8)', () => {
  it('a 40-byte file with count = 0 cannot declare a huge dim (was: 2 GiB reserved / untyped RangeError)', () => {
    const meta = new TextEncoder().encode('[]');
    for (const dim of [65_537, 1 << 24, 0xffffffff]) {
      const file = craft({ dim, count: 0 }, meta);
      expect(file.length).toBe(40);
      const { error, grew } = attempt(file);
      expect(error).toBeInstanceOf(CorruptIndexError);
      expect((error as HpdError).message).toContain(`dim ${dim}`);
      expect(grew).toBeLessThan(16 << 20);
    }
    // The limit itself is fine, and an index of that dim round-trips.
    const wide = new CosineIndex({ dim: 65_536 });
    expect(CosineIndex.deserialize(wide.serialize()).dim).toBe(65_536);
    expect(() => new CosineIndex({ dim: 65_537 })).toThrow(/1 to 65536/);
  });

  it('sizes past 2^31 do not wrap: count × (dim + 4) = 2^32 with no vector bytes is CORRUPT_INDEX, not a RangeError', () => {
    // int8, count 65536, dim 65532: scales + codes = 2^32 bytes, which `(n + 3) & ~3` turned into 0.
    const count = 1 << 16;
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [];
    let idsLen = 0;
    for (let i = 0; i < count; i++) {
      const b = enc.encode(i.toString(36));
      const p = new Uint8Array(4 + b.length);
      new DataView(p.buffer).setUint32(0, b.length, true);
      p.set(b, 4);
      parts.push(p);
      idsLen += p.length;
    }
    const meta = enc.encode('[]');
    const body = new Uint8Array(idsLen + meta.length);
    let o = 0;
    for (const p of parts) {
      body.set(p, o);
      o += p.length;
    }
    body.set(meta, o);
    const file = craft({ storage: 1, dim: 65_532, count, idsLen, metaLen: meta.length }, body);
    const { error, grew } = attempt(file);
    expect(error).toBeInstanceOf(CorruptIndexError);
    expect(grew).toBeLessThan(16 << 20);
  });

  it('counts the ids section cannot hold are refused before arrays of that length are made', () => {
    const meta = new TextEncoder().encode('[]');
    for (const count of [1, 1000, 0xffffffff]) {
      const { error, grew } = attempt(craft({ dim: 1, count }, meta));
      expect(error).toBeInstanceOf(CorruptIndexError);
      expect(grew).toBeLessThan(16 << 20);
    }
  });

  it('metadata nested deeper than addVectors() allows, in a CRC-valid file, is CORRUPT_INDEX at load', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(['a'], [[1, 0]]);
    const meta = new TextEncoder().encode(`[[0,${'['.repeat(100)}${']'.repeat(100)}]]`);
    const ids = new Uint8Array([1, 0, 0, 0, 0x61]);
    const body = new Uint8Array(ids.length + meta.length);
    body.set(ids);
    body.set(meta, ids.length);
    const file = craft({ dim: 2, count: 1, idsLen: ids.length, metaLen: meta.length }, body, 8);
    new DataView(file.buffer).setFloat32(file.length - 12, 1, true);
    expect(attempt(withCrc(file)).error).toBeInstanceOf(CorruptIndexError);
  });
});

/** Byte offsets of a serialised index's sections, read from its header (see FORMAT in serialize.ts). */
function sections(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dim = v.getUint32(8, true);
  const count = v.getUint32(12, true);
  const idsLen = v.getUint32(16, true);
  const metaStart = 32 + idsLen;
  const metaLen = v.getUint32(20, true);
  const vecStart = metaStart + metaLen + ((4 - ((metaStart + metaLen) % 4)) % 4);
  const n = count * dim;
  const codesEnd = vecStart + count * 4 + n + ((4 - ((count * 4 + n) % 4)) % 4);
  const flags = bytes[7];
  return {
    view: v,
    dim,
    count,
    metaStart,
    metaLen,
    /** f32 storage: row i, value j. */
    f32: (i: number, j: number) => vecStart + (i * dim + j) * 4,
    scale: (i: number) => vecStart + i * 4,
    code: (i: number, j: number) => vecStart + count * 4 + i * dim + j,
    rescore: (i: number, j: number) => codesEnd + (i * dim + j) * 4,
    res: (i: number, j: number) => codesEnd + (flags & 1 ? n * 4 : 0) + i * dim + j,
  };
}

/** Deserialising throws CorruptIndexError whose message matches `pattern`. */
function expectCorrupt(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    CosineIndex.deserialize(withCrc(bytes));
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CorruptIndexError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('ids and metadata strings round-trip byte for byte (issue 16)', () => {
  // One string per code point class, plus BOMs and NFC/NFD pairs that must stay distinct.
  const strings = [
    'doc',
    '\uFEFFdoc',
    '\uFEFF',
    '\uFEFF\uFEFF',
    'do\uFEFFc',
    'doc\uFEFF',
    '\u00E9', // é, NFC
    'e\u0301', // é, NFD
    '\u00C5ngstr\u00F6m',
    'A\u030Angstro\u0308m',
    '',
    ' ',
    'plain ASCII ~!@#$%^&*()',
    '\u0000',
    'a\u0000b',
    '\u0001\u0007\u001F\u007F\u0080\u009F',
    'tab\tnew\nline\rcr',
    '"quoted" \\ back/slash',
    '\u00A0\u00FF latin-1',
    '\u2028\u2029 separators',
    '\u20AC\u4E2D\uD55C BMP',
    '\uE000\uF8FF private use',
    '\uFFFE\uFFFF noncharacters',
    '\uFDD0\uFDEF',
    '\uD83D\uDE00 \uD800\uDC00 \uDBFF\uDFFF astral',
    '\uDB80\uDC00 plane-15 private use',
    '\u{1F468}\u200D\u{1F469}\u200D\u{1F467} ZWJ',
    'x'.repeat(5000),
  ];

  for (const [storage, rescore] of [
    ['f32', undefined],
    ['int8', 'residual'],
  ] as const) {
    it(`every code point class, BOMs and NFC/NFD pairs as distinct ids and in metadata (${storage})`, () => {
      const index = new CosineIndex<JsonValue>({ dim: 4, storage, rescore });
      const meta = strings.map((s, i) => ({ s, [s]: i, list: [s, { [s]: s }] }));
      index.addVectors(strings, randomVectors(seededRandom(40), strings.length, 4), meta);
      const bytes = new Uint8Array(index.serialize());
      const back = CosineIndex.deserialize(bytes);
      expect(back.ids()).toEqual(strings);
      for (const s of strings) {
        expect(back.has(s)).toBe(true);
        expect(back.get(s)?.metadata).toEqual(index.get(s)?.metadata);
      }
      // Byte for byte: each id's UTF-16 code units, and the whole file re-saved.
      expect(back.ids().map((s) => Array.from(s, (c) => c.codePointAt(0)))).toEqual(
        strings.map((s) => Array.from(s, (c) => c.codePointAt(0))),
      );
      expect(new Uint8Array(back.serialize())).toEqual(bytes);
    });
  }

  it('"doc" and "\\uFEFFdoc" saved together load as two ids (was CORRUPT_INDEX: the BOM was stripped)', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(
      ['\uFEFFdoc', 'doc'],
      [
        [1, 0],
        [0, 1],
      ],
    );
    const back = CosineIndex.deserialize(index.serialize());
    expect(back.ids()).toEqual(['\uFEFFdoc', 'doc']);
    expect(back.search([1, 0], 1)).toEqual([{ id: '\uFEFFdoc', score: 1 }]);
  });

  it('lone surrogates: refused as ids (UTF-8 cannot hold them), kept in metadata strings and keys (JSON escapes them)', () => {
    const index = new CosineIndex({ dim: 2 });
    for (const id of ['\uD800', 'a\uDC00', '\uDBFFz'])
      expect(() => index.addVectors([id], [[1, 0]])).toThrow(/lone UTF-16 surrogate/);
    const meta = { '\uD800key': ['\uDC00', 'x\uDBFF'] };
    index.addVectors(['a'], [[1, 0]], [meta]);
    const back = CosineIndex.deserialize(index.serialize());
    expect(back.get('a')?.metadata).toEqual(meta);
    // A file holding a surrogate encoded as UTF-8 bytes (ED A0 80) in an id is refused, as add() refuses the id.
    const three = new CosineIndex({ dim: 2 });
    three.addVectors(['abc'], [[1, 0]]);
    const bad = new Uint8Array(three.serialize());
    expect(new TextDecoder().decode(bad.subarray(36, 39))).toBe('abc');
    bad.set([0xed, 0xa0, 0x80], 36);
    expectCorrupt(bad, /id 0 is not valid UTF-8/);
  });

  it('a BOM before the metadata JSON is refused, not stripped', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(['a'], [[1, 0]], [{ k: 'v   ' }]);
    const bytes = new Uint8Array(index.serialize());
    const s = sections(bytes);
    const text = new TextDecoder().decode(bytes.subarray(s.metaStart, s.metaStart + s.metaLen));
    expect(text).toBe('[[0,{"k":"v   "}]]');
    // The same length: EF BB BF in front, three spaces fewer in the string.
    const shifted = new TextEncoder().encode('\uFEFF[[0,{"k":"v"}]]');
    expect(shifted.length).toBe(s.metaLen);
    const bad = bytes.slice();
    bad.set(shifted, s.metaStart);
    expectCorrupt(bad, /metadata section is not valid UTF-8 JSON/);
  });
});

describe('a checksum-valid file holding values add() never writes is CORRUPT_INDEX, naming the row (issue 16)', () => {
  const ids = ['r0', 'r1', 'r2', 'r3'];
  const make = (storage: StorageKind, rescore?: Int8Rescore) => {
    const index = new CosineIndex<JsonValue>({ dim: 8, storage, rescore });
    index.addVectors(ids, randomVectors(seededRandom(41), 4, 8), [
      undefined,
      undefined,
      { x: '1234567890' },
      undefined,
    ]);
    return new Uint8Array(index.serialize());
  };

  it('f32 rows: 3e38, a norm of 1e-30, NaN, Infinity, and a row slightly off unit length', () => {
    const good = make('f32');
    const s = sections(good);
    const cases: [(b: Uint8Array) => void, RegExp][] = [
      [(b) => new DataView(b.buffer).setFloat32(s.f32(2, 3), 3e38, true), /row 2 \(id "r2"\) has squared length/],
      [
        (b) => {
          for (let j = 0; j < 8; j++) new DataView(b.buffer).setFloat32(s.f32(1, j), j === 0 ? 1e-30 : 0, true);
        },
        /row 1 \(id "r1"\) has squared length 1\.0+\d*e-60/,
      ],
      [(b) => new DataView(b.buffer).setFloat32(s.f32(3, 0), Number.NaN, true), /row 3 .* not finite/],
      [(b) => new DataView(b.buffer).setFloat32(s.f32(0, 7), -Infinity, true), /row 0 .* not finite/],
      [
        (b) => {
          const v = new DataView(b.buffer);
          for (let j = 0; j < 8; j++) v.setFloat32(s.f32(0, j), v.getFloat32(s.f32(0, j), true) * 1.001, true);
        },
        /row 0 \(id "r0"\) has squared length 1\.00/,
      ],
    ];
    for (const [change, pattern] of cases) {
      const bad = good.slice();
      change(bad);
      expectCorrupt(bad, pattern);
    }
    // The unchanged file still loads, and scores stay cosines.
    expect(CosineIndex.deserialize(good).search(randomVectors(seededRandom(1), 1, 8), 4)[0].score).toBeLessThanOrEqual(
      1 + 1e-6,
    );
  });

  it('int8 scales: 3e38, 0, negative, NaN, above 1/127 and below 1/(127·√dim)', () => {
    for (const rescore of ['residual', 'dequantized'] as const) {
      const good = make('int8', rescore);
      const s = sections(good);
      for (const scale of [3e38, 0, -0.005, Number.NaN, Infinity, 1.01 / 127, 0.99 / (127 * Math.sqrt(8))]) {
        const bad = good.slice();
        new DataView(bad.buffer).setFloat32(s.scale(1), scale, true);
        expectCorrupt(bad, /row 1 \(id "r1"\) has scale/);
      }
    }
  });

  it('int8 codes: -128, a largest |code| under 127, and codes that decode far from unit length', () => {
    for (const rescore of ['residual', 'dequantized'] as const) {
      const good = make('int8', rescore);
      const s = sections(good);
      const at = (row: number) => {
        let j = 0;
        while (Math.abs((good[s.code(row, j)] << 24) >> 24) !== 127) j++;
        return j;
      };
      const minus128 = good.slice();
      minus128[s.code(2, at(2))] = 0x80;
      expectCorrupt(minus128, /row 2 \(id "r2"\) has largest \|int8 code\| 128/);
      const small = good.slice();
      for (let j = 0; j < 8; j++) small[s.code(0, j)] = ((good[s.code(0, j)] << 24) >> 24) >> 1;
      expectCorrupt(small, /row 0 \(id "r0"\) has largest \|int8 code\| 6[34]/);
      const full = good.slice();
      for (let j = 0; j < 8; j++) {
        full[s.code(3, j)] = 127; // length 127·√8·scale ≫ 1
        if (rescore === 'residual') full[s.res(3, j)] = 0;
      }
      expectCorrupt(full, /row 3 \(id "r3"\) decodes to length/);
    }
  });

  it('residual codes: -128, and a residual pointing beyond a ±127 code', () => {
    const good = make('int8', 'residual');
    const s = sections(good);
    let j = 0;
    while (Math.abs((good[s.code(1, j)] << 24) >> 24) !== 127) j++;
    const sign = Math.sign((good[s.code(1, j)] << 24) >> 24);
    const minus128 = good.slice();
    minus128[s.res(1, (j + 1) % 8)] = 0x80;
    expectCorrupt(minus128, /row 1 \(id "r1"\) has residual code -128/);
    const beyond = good.slice();
    beyond[s.res(1, j)] = (sign * 5) & 0xff;
    expectCorrupt(beyond, /row 1 \(id "r1"\) has residual code (5|-5) at/);
  });

  it('int8 with rescore rows: codes and scales must be what the float32 rows quantise to; the rows must be unit', () => {
    const good = make('int8', 'f32');
    const s = sections(good);
    const code = good.slice();
    code[s.code(2, 0)] ^= 1;
    expectCorrupt(code, /row 2 \(id "r2"\) has int8 code/);
    const scale = good.slice();
    s.view; // the original stays untouched
    new DataView(scale.buffer).setFloat32(
      s.scale(0),
      new DataView(good.buffer).getFloat32(s.scale(0), true) * 1.01,
      true,
    );
    expectCorrupt(scale, /row 0 \(id "r0"\) has scale/);
    const row = good.slice();
    new DataView(row.buffer).setFloat32(s.rescore(3, 1), 3e38, true);
    expectCorrupt(row, /rescore row 3 \(id "r3"\) has squared length/);
  });

  it('flags 3 (rescore rows and residual codes together) is refused', () => {
    const good = make('int8', 'residual');
    const bad = good.slice();
    bad[7] = 3;
    expectCorrupt(bad, /flags 3/);
  });

  it('metadata numbers that parse to ±Infinity, and -0, are refused with the row and path', () => {
    const good = make('f32');
    const s = sections(good);
    const text = new TextDecoder().decode(good.subarray(s.metaStart, s.metaStart + s.metaLen));
    expect(text).toBe('[[2,{"x":"1234567890"}]]');
    const cases: [string, RegExp][] = [
      ['1e9999      ', /metadata value\.x holds a number that reads as Infinity.*\(row 2, id "r2"\)/],
      ['-1e9999     ', /value\.x holds a number that reads as -Infinity/],
      ['[0,[-1e999]]', /value\.x\[1\]\[0\] holds a number that reads as -Infinity/],
      ['-0          ', /value\.x holds -0/],
    ];
    for (const [literal, pattern] of cases) {
      const bad = good.slice();
      bad.set(new TextEncoder().encode(literal), s.metaStart + text.indexOf('"1234567890"'));
      expectCorrupt(bad, pattern);
    }
    const top = good.slice();
    top.set(new TextEncoder().encode('1e400             '), s.metaStart + text.indexOf('{'));
    expectCorrupt(top, /metadata holds a number that reads as Infinity, which add\(\) refuses \(row 2/);
  });

  it('-0 given as metadata is stored as 0, so the value read back before and after a save is the same', () => {
    const index = new CosineIndex({ dim: 2 });
    index.addVectors(['a'], [[1, 0]], [{ z: -0, list: [-0] }]);
    expect(Object.is((index.get('a')?.metadata as { z: number }).z, 0)).toBe(true);
    const back = CosineIndex.deserialize(index.serialize());
    expect(back.get('a')?.metadata).toEqual(index.get('a')?.metadata);
  });
});

describe('property: random indexes add() can build always load and re-save byte for byte (issue 16)', () => {
  const cases = Number(process.env.HPD_FUZZ_CASES ?? 60);
  it(`${cases} random indexes: f32, int8 × residual / dequantized / f32; extreme and degenerate vectors`, () => {
    const rand = seededRandom(Number(process.env.HPD_FUZZ_SEED ?? 4242));
    const variants: [StorageKind, Int8Rescore | undefined][] = [
      ['f32', undefined],
      ['int8', 'residual'],
      ['int8', 'dequantized'],
      ['int8', 'f32'],
    ];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    for (let c = 0; c < cases; c++) {
      const [storage, rescore] = variants[c % variants.length];
      const dim = pick([1, 2, 3, 7, 16, 128, 384, 1000]);
      const index = new CosineIndex<JsonValue>({ dim, storage, rescore, kernel: rand() < 0.5 ? 'js' : 'auto' });
      const n = 1 + Math.floor(rand() * 40);
      const vecs = new Float64Array(n * dim);
      for (let i = 0; i < n; i++) {
        const kind = Math.floor(rand() * 7);
        const mag = pick([1, 1e-30, 1e30, 1e-150, 1e150, 0.5]);
        for (let j = 0; j < dim; j++) {
          const g = rand() * 2 - 1;
          vecs[i * dim + j] =
            mag *
            (kind === 0
              ? g // isotropic-ish
              : kind === 1
                ? j === 0
                  ? 1
                  : 0 // one-hot: the largest scale
                : kind === 2
                  ? 1 // constant: the smallest scale
                  : kind === 3
                    ? j % 2
                      ? -1
                      : 1
                    : kind === 4
                      ? rand() < 0.1
                        ? g
                        : 0 // sparse
                      : kind === 5
                        ? (Math.round(g * 127) + 0.5) / 127 // values on rounding half-points
                        : g * 1e-6 + (j === 0 ? 1 : 0)); // one big value, tiny rest
        }
        if (vecs.subarray(i * dim, i * dim + dim).every((x) => x === 0)) vecs[i * dim] = mag;
      }
      const ids = Array.from({ length: n }, (_, i) => `${c}-${i}-${pick(['', '\uFEFF', 'é', 'e\u0301', '😀'])}`);
      index.addVectors(ids, vecs);
      if (rand() < 0.3) index.remove(ids.slice(0, Math.floor(n / 3)));
      const bytes = new Uint8Array(index.serialize());
      const back = CosineIndex.deserialize(bytes);
      expect(new Uint8Array(back.serialize())).toEqual(bytes);
    }
  });
});
