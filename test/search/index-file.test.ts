import { describe, expect, it } from 'vitest';
import { CosineIndex } from '../../src/search/cosine-index.js';
import {
  INDEX_FILE_VERSION,
  checkIndexModel,
  isIndexFile,
  readIndexFile,
  writeIndexFile,
  type IndexModelIdentity,
} from '../../src/search/index-file.js';
import { crc32 } from '../../src/search/crc32.js';
import { ModelMismatchError } from '../../src/errors.js';

const modelA: IndexModelIdentity = { name: 'a', dim: 4, dtype: 'fp32', sha256: 'a'.repeat(64) };
const modelB: IndexModelIdentity = { name: 'b', dim: 4, dtype: 'int8', sha256: 'b'.repeat(64) };

function sample(storage: 'f32' | 'int8' = 'f32'): CosineIndex {
  const idx = new CosineIndex({ dim: 4, storage });
  idx.addVectors(['x', 'y', 'z'], new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0]), [{ t: 1 }, undefined, 'm']);
  return idx;
}

const hits = (idx: CosineIndex) => idx.search(new Float32Array([1, 0.5, 0, 0]), 3, { withMetadata: true });

describe('index file', () => {
  for (const storage of ['f32', 'int8'] as const) {
    it(`round-trips a ${storage} index with its model (export → import)`, () => {
      const idx = sample(storage);
      const bytes = idx.export(modelA);
      expect(isIndexFile(bytes)).toBe(true);
      const back = CosineIndex.import(bytes, { model: modelA });
      expect(back.storage).toBe(storage);
      expect(hits(back)).toEqual(hits(idx));
      expect(readIndexFile(bytes).model).toEqual(modelA);
    });
  }

  it('importing under another model is MODEL_MISMATCH naming both models, and without a model it loads', () => {
    const bytes = sample().export(modelA);
    let err: unknown;
    try {
      CosineIndex.import(bytes, { model: modelB });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelMismatchError);
    expect((err as ModelMismatchError).code).toBe('MODEL_MISMATCH');
    expect((err as Error).message).toContain('"a"');
    expect((err as Error).message).toContain('"b"');
    expect((err as ModelMismatchError).details).toMatchObject({ expected: 'b', actual: 'a' });
    expect(CosineIndex.import(bytes).size).toBe(3);
  });

  it('a same-named model with other weights is a mismatch; the same weights under another name is not', () => {
    expect(() => checkIndexModel(modelA, { ...modelA, sha256: 'c'.repeat(64) })).toThrow(ModelMismatchError);
    expect(() => checkIndexModel(modelA, { ...modelA, name: 'renamed' })).not.toThrow();
  });

  it('a previous-version file (a bare format-2 serialised index, no header) loads without a model, and is MODEL_MISMATCH under one', () => {
    const legacy = sample().serialize(); // exactly what format 2 wrote: "HPDX", version 2, no model
    expect(new DataView(legacy).getUint16(4, true)).toBe(2);
    expect(readIndexFile(legacy).model).toBeNull();
    expect(hits(CosineIndex.import(legacy))).toEqual(hits(sample()));
    expect(() => CosineIndex.import(legacy, { model: modelA })).toThrow(/names no model|no model/);
    try {
      CosineIndex.import(legacy, { model: modelA });
    } catch (e) {
      expect(e).toBeInstanceOf(ModelMismatchError);
      expect((e as ModelMismatchError).actual).toBeNull();
    }
  });

  it('a newer file version is UNSUPPORTED_INDEX_VERSION', () => {
    const bytes = new Uint8Array(sample().export(modelA));
    new DataView(bytes.buffer).setUint16(4, INDEX_FILE_VERSION + 1, true);
    expect(() => readIndexFile(bytes)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_INDEX_VERSION' }));
  });

  it('truncation or a flipped bit anywhere is CORRUPT_INDEX', () => {
    const bytes = new Uint8Array(sample().export(modelA));
    for (const cut of [3, 10, 40, 100, bytes.length - 1])
      expect(() => CosineIndex.import(bytes.slice(0, cut))).toThrow(expect.objectContaining({ code: 'CORRUPT_INDEX' }));
    for (let i = 4; i < bytes.length; i += 7) {
      const bad = bytes.slice();
      bad[i] ^= 0x10;
      expect(() => CosineIndex.import(bad, { model: modelA }), `byte ${i}`).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/CORRUPT_INDEX|UNSUPPORTED_INDEX_VERSION/) }),
      );
    }
  });

  it('keeps document hashes and unknown optional sections; refuses an unknown required one', () => {
    const extra = new Map([['KWDS', new Uint8Array([1, 2, 3])]]);
    const bytes = writeIndexFile({ model: modelA, index: sample().serialize(), documents: { 'a.md': 'h1' }, extra });
    const read = readIndexFile(bytes);
    expect(read.documents).toEqual({ 'a.md': 'h1' });
    expect([...read.extra.get('KWDS')!]).toEqual([1, 2, 3]);
    // Mark the KWDS entry (the 4th) required and re-checksum the table: a reader that does not know it must refuse.
    const u8 = new Uint8Array(bytes);
    const view = new DataView(bytes);
    view.setUint32(16 + 3 * 32 + 4, 1, true);
    view.setUint32(8, crc32(u8.subarray(12, 16 + 4 * 32)), true);
    expect(() => readIndexFile(bytes)).toThrow(/does not know; upgrade/);
  });

  it('import owns its rows: the file buffer can be overwritten after, and a view at an unaligned offset loads the same', () => {
    for (const storage of ['f32', 'int8'] as const) {
      const idx = sample(storage);
      const bytes = new Uint8Array(idx.export(modelA));
      const back = CosineIndex.import(bytes, { model: modelA });
      bytes.fill(0);
      expect(hits(back)).toEqual(hits(idx));
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(new Uint8Array(idx.export(modelA)), 1);
      expect(hits(CosineIndex.import(shifted.subarray(1), { model: modelA }))).toEqual(hits(idx));
    }
  });

  it('ids of 128+ bytes, non-ASCII ids and ids with a leading BOM come back byte for byte (not only all-ASCII sections)', () => {
    const sets = [
      ['x'.repeat(200), 'y'],
      ['\uFEFFdoc', 'doc'],
      ['é'.repeat(300), 'a'],
      ['x'.repeat(100_000), 'z'],
    ];
    for (const ids of sets) {
      const idx = new CosineIndex({ dim: 4 });
      idx.addVectors(ids, new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
      const back = CosineIndex.import(idx.export(modelA));
      expect(ids.map((id) => back.has(id))).toEqual([true, true]);
      expect(back.search(new Float32Array([1, 0, 0, 0]), 2).map((h) => h.id)).toEqual(ids);
    }
  });

  it('export() refuses a model of another dimension', () => {
    expect(() => sample().export({ ...modelA, dim: 8 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
