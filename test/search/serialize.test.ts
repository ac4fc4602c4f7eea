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
