// The .npy header parser: format versions 1.0–3.0, and a typed error for everything it cannot stream.
import { describe, expect, it } from 'vitest';
import { parseNpyHeader } from '../../src/node/npy.js';
import { npyBytes } from '../helpers/teacher-files.js';

/** A header-only .npy file of format `major`.0 with `dict` as its header text. */
function header(major: number, dict: string): Uint8Array {
  const text = new TextEncoder().encode(`${dict}\n`);
  const prefix = major === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  return out;
}

describe('parseNpyHeader', () => {
  it('reads numpy.save headers of versions 1.0, 2.0 and 3.0 (a UTF-8 header)', () => {
    const v1 = npyBytes(new Float32Array(6), 2, 3);
    expect(parseNpyHeader(v1, 'a.npy')).toEqual({ dtype: 'f4', rows: 2, cols: 3, dataOffset: v1.length - 24 });
    const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (7, 1024), }`;
    expect(parseNpyHeader(header(2, dict), 'b.npy')).toEqual({
      dtype: 'f8',
      rows: 7,
      cols: 1024,
      dataOffset: 12 + dict.length + 1,
    });
    const v3 = header(3, `{"descr": "<f4", "fortran_order": False, "shape": (1,5), "note": "é"}`);
    expect(parseNpyHeader(v3, 'c.npy')).toMatchObject({ dtype: 'f4', rows: 1, cols: 5 });
  });

  it('refuses other versions, missing fields, 1-d arrays and headers that claim too much', () => {
    const ok = `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`;
    expect(() => parseNpyHeader(header(4, ok), 'x.npy')).toThrow(/format version 4\.0 is not supported/);
    expect(() => parseNpyHeader(header(1, `{'descr': '<f4', 'shape': (2, 3), }`), 'x.npy')).toThrow(
      /no valid 'fortran_order'/,
    );
    expect(() => parseNpyHeader(header(1, ok.replace('(2, 3)', '(6,)')), 'x.npy')).toThrow(
      /shape \(6,\); pass a 2-d array/,
    );
    const huge = header(2, ok);
    new DataView(huge.buffer).setUint32(8, 2 ** 31, true);
    expect(() => parseNpyHeader(huge, 'x.npy')).toThrow(/claims 2147483648 bytes; the file is corrupt/);
    for (const bad of [header(1, ok.replace('<f4', 'i4')), header(1, ok.replace('(2, 3)', '(2, -3)'))])
      expect(() => parseNpyHeader(bad, 'x.npy')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
