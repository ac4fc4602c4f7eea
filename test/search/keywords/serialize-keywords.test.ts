// The keyword index as an optional trailing section of the serialised index (src/search/serialize.ts).
import { describe, expect, it } from 'vitest';
import { CorruptIndexError, UnsupportedIndexVersionError } from '../../../src/errors.js';
import { crc32 } from '../../../src/search/crc32.js';
import { CosineIndex } from '../../../src/search/cosine-index.js';
import { decodeIndex, encodeIndex } from '../../../src/search/serialize.js';

function withKeywords(): CosineIndex {
  const index = new CosineIndex({ dim: 4, keywords: { k1: 1.5, stopWords: ['a'] } });
  index.addVectors(
    ['x', 'y'],
    [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ],
    undefined,
    { texts: ['a red fox', 'a blue fox fox'] },
  );
  return index;
}

/** The buffer with `extra` inserted before the CRC, re-checksummed. */
function appendSection(buf: ArrayBuffer, extra: Uint8Array): Uint8Array {
  const u8 = new Uint8Array(buf);
  const out = new Uint8Array(u8.length + extra.length);
  out.set(u8.subarray(0, u8.length - 4));
  out.set(extra, u8.length - 4);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function section(tag: string, version: number, payload: number[]): Uint8Array {
  const len = payload.length + ((4 - (payload.length % 4)) % 4);
  const out = new Uint8Array(12 + len);
  out.set(new TextEncoder().encode(tag));
  new DataView(out.buffer).setUint32(4, version, true);
  new DataView(out.buffer).setUint32(8, payload.length, true);
  out.set(payload, 12);
  return out;
}

describe('keyword section', () => {
  it('round trips options and scores exactly; a file without it is byte-identical to the old format', () => {
    const index = withKeywords();
    const loaded = CosineIndex.deserialize(index.serialize());
    expect(loaded.search('FOX', 2, { mode: 'keyword' })).toEqual(index.search('FOX', 2, { mode: 'keyword' }));
    expect(loaded.search('a', 2, { mode: 'keyword' })).toEqual([]); // the stop words came back too
    const plain = new CosineIndex({ dim: 4 });
    plain.addVectors(['x'], [[1, 0, 0, 0]]);
    const raw = decodeIndex(plain.serialize());
    expect(raw.keywords).toBeNull();
    expect(new Uint8Array(encodeIndex({ ...raw, keywords: undefined }))).toEqual(new Uint8Array(plain.serialize()));
  });

  it('skips unknown trailing sections and refuses broken or newer keyword sections', () => {
    const plain = new CosineIndex({ dim: 4 });
    plain.addVectors(['x'], [[1, 0, 0, 0]]);
    const other = appendSection(plain.serialize(), section('ZZZZ', 7, [1, 2, 3]));
    expect(CosineIndex.deserialize(other).search([1, 0, 0, 0], 1)[0].id).toBe('x');
    expect(() => CosineIndex.deserialize(appendSection(plain.serialize(), new Uint8Array([1, 2, 3, 4])))).toThrow(
      CorruptIndexError,
    );
    expect(() => CosineIndex.deserialize(appendSection(plain.serialize(), section('KWDS', 2, [0])))).toThrow(
      UnsupportedIndexVersionError,
    );
    expect(() => CosineIndex.deserialize(appendSection(plain.serialize(), section('KWDS', 1, [1, 0, 0, 0])))).toThrow(
      CorruptIndexError,
    );
  });
});
