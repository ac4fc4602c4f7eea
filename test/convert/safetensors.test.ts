import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/convert/safetensors.js';
import { HpdError } from '../../src/errors.js';

function rawFile(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips f32 tensors bit-exactly', () => {
    const a = { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-20, -0, 7]) };
    const b = { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, Number.MAX_VALUE > 1 ? 3.4e38 : 0]) };
    const bytes = writeSafetensors([
      ['a', a],
      ['b', b],
    ]);
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.get('a')!.shape).toEqual([2, 3]);
    expect(Buffer.from(back.get('a')!.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    expect(Array.from(back.get('b')!.data)).toEqual(Array.from(b.data));
  });

  it('decodes F16 and BF16 to their exact f32 values and skips integer tensors', () => {
    // f16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 0x0001 = 2^-24
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]);
    // bf16: 1.0 = 0x3f80, -0.5 = 0xbf00, 3.140625 = 0x4049
    const bf16 = new Uint16Array([0x3f80, 0xbf00, 0x4049]);
    const ids = new BigInt64Array([0n, 1n]);
    const data = new Uint8Array(8 + 6 + 16);
    data.set(new Uint8Array(f16.buffer), 0);
    data.set(new Uint8Array(bf16.buffer), 8);
    data.set(new Uint8Array(ids.buffer), 14);
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [3], data_offsets: [8, 14] },
        i: { dtype: 'I64', shape: [2], data_offsets: [14, 30] },
      },
      data,
    );
    const t = readSafetensors(file);
    expect(Array.from(t.get('h')!.data)).toEqual([1, -2, 65504, 2 ** -24]);
    expect(Array.from(t.get('b')!.data)).toEqual([1, -0.5, 3.140625]);
    expect(t.has('i')).toBe(false);
  });

  it('refuses truncated and malformed files with WEIGHTS_CORRUPT', () => {
    const good = writeSafetensors([['a', { shape: [64], data: new Float32Array(64).fill(1) }]]);
    const cases = [
      good.subarray(0, 5),
      good.subarray(0, 40),
      good.subarray(0, good.length - 4),
      rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
    ];
    const badJson = good.slice();
    badJson[9] = 0x7b; // '{' inside the header breaks the JSON
    badJson[10] = 0x7b;
    for (const bytes of [...cases, badJson]) {
      let err: unknown;
      try {
        readSafetensors(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HpdError);
      expect((err as HpdError).code).toBe('WEIGHTS_CORRUPT');
    }
  });

  it('reads a Node Buffer (whose slice is a view) like a Uint8Array', () => {
    const a = { shape: [3], data: Float32Array.from([1.5, -2, 3]) };
    const file = writeSafetensors([['a', a]]);
    const pooled = Buffer.concat([Buffer.alloc(13, 7), Buffer.from(file)]).subarray(13);
    expect(Array.from(readSafetensors(pooled).get('a')!.data)).toEqual([1.5, -2, 3]);
  });

  describe('hostile files (issue 8)', () => {
    /** The outcome of reading a file with this header and data: 'ok' or the error code. */
    const fileCode = (header: object, data: Uint8Array) => code(() => readSafetensors(rawFile(header, data)));
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof HpdError ? e.code : `untyped ${String(e)}`;
      }
      return 'ok';
    };

    it('refuses 200 entries aliasing one 2 MB range (was 381 MB)', () => {
      const header: Record<string, object> = {};
      for (let i = 0; i < 200; i++) header[`t${i}`] = { dtype: 'F32', shape: [1 << 19], data_offsets: [0, 1 << 21] };
      const bytes = rawFile(header, new Uint8Array(1 << 21));
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      expect(code(() => readSafetensors(bytes))).toBe('WEIGHTS_CORRUPT');
      expect(performance.now() - t0).toBeLessThan(1000);
      expect((process.memoryUsage().arrayBuffers - before) / 2 ** 20).toBeLessThan(64);
    });

    it('refuses string data_offsets instead of reading the wrong bytes', () => {
      const data = new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer);
      expect(
        fileCode(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: ['0', '8'] },
            b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
          },
          data,
        ),
      ).toBe('WEIGHTS_CORRUPT');
      expect(
        fileCode(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: ['2'], data_offsets: [8, 16] },
          },
          data,
        ),
      ).toBe('WEIGHTS_CORRUPT');
      expect(
        fileCode(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0.5, 8.5] },
            b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
          },
          data,
        ),
      ).toBe('WEIGHTS_CORRUPT');
    });

    it('refuses holes, overlaps and trailing bytes, as the spec says', () => {
      const data = new Uint8Array(16);
      expect(fileCode({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data)).toBe('WEIGHTS_CORRUPT');
      expect(fileCode({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data)).toBe('WEIGHTS_CORRUPT');
      expect(
        fileCode(
          {
            a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
            b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
          },
          data,
        ),
      ).toBe('WEIGHTS_CORRUPT');
      expect(
        fileCode(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
          },
          data,
        ),
      ).toBe('ok');
    });

    it('gives typed errors for a null or non-object header and absurd header lengths', () => {
      for (const header of [null, [], 5, 'x']) {
        const h = new TextEncoder().encode(JSON.stringify(header));
        const out = new Uint8Array(8 + h.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
        out.set(h, 8);
        expect(
          code(() => readSafetensors(out)),
          JSON.stringify(header),
        ).toBe('WEIGHTS_CORRUPT');
      }
      const huge = new Uint8Array(64);
      new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
      expect(code(() => readSafetensors(huge))).toBe('WEIGHTS_CORRUPT');
      expect(fileCode({ a: null }, new Uint8Array(0))).toBe('WEIGHTS_CORRUPT');
      expect(fileCode({ a: { dtype: '__proto__', shape: [], data_offsets: [0, 0] } }, new Uint8Array(0))).toBe(
        'WEIGHTS_CORRUPT',
      );
    });
  });
});
