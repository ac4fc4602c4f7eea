// Issue 8, "Memory and CPU from small crafted files": each crafted torch zip gives a typed error in bounded time and memory.
import * as fflate from 'fflate';
import { describe, expect, it, vi } from 'vitest';
import { readTorchCheckpoint } from '../../src/convert/torch-pickle.js';
import { writeTorchCheckpoint } from '../../src/convert/torch-writer.js';
import { HpdError } from '../../src/errors.js';
import { ascii, tensorPickle, unicode } from '../helpers/pickle-bytes.js';

// Counts every byte fflate hands back from unzipSync, so a test can see what was inflated.
const inflated = { bytes: 0 };
vi.mock('fflate', async (importOriginal) => {
  const real = await importOriginal<typeof import('fflate')>();
  return {
    ...real,
    unzipSync: (data: Uint8Array, opts?: fflate.UnzipOptions) => {
      const out = real.unzipSync(data, opts);
      for (const v of Object.values(out)) inflated.bytes += v.byteLength;
      return out;
    },
  };
});

const binint = (n: number) => [0x4a, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const tuple = (items: number[][]) => [0x28, ...items.flat(), 0x74];

const zip = (pkl: Uint8Array, storage: Uint8Array, extra: fflate.Zippable = {}) =>
  fflate.zipSync({ 'archive/data.pkl': [pkl, { level: 0 }], 'archive/data/0': [storage, { level: 0 }], ...extra });

function outcome(fn: () => unknown): { code: string | undefined; ms: number; heapMb: number } {
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let code: string | undefined;
  try {
    fn();
  } catch (e) {
    code = e instanceof HpdError ? e.code : `untyped ${(e as Error).name}: ${(e as Error).message}`;
  }
  const m = process.memoryUsage();
  return { code, ms: performance.now() - t0, heapMb: (m.heapUsed + m.arrayBuffers - heap0) / 2 ** 20 };
}

describe('torch zip checkpoints from hostile sources (issue 8)', () => {
  it('size [5e7] with stride [0] over a 1-element storage: WEIGHTS_CORRUPT, no 200 MB allocation (was 800 MB, 9 s)', () => {
    const bytes = zip(tensorPickle([0x4b, 1], [0x4b, 0], tuple([binint(5e7)]), tuple([[0x4b, 0]])), new Uint8Array(4));
    expect(bytes.byteLength).toBeLessThan(1024);
    const r = outcome(() => readTorchCheckpoint(bytes));
    expect(r.code).toBe('WEIGHTS_CORRUPT');
    expect(r.ms).toBeLessThan(1000);
    expect(r.heapMb).toBeLessThan(64);
  });

  it('negative strides and offsets are WEIGHTS_CORRUPT, not NaN weights', () => {
    const storage = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
    expect(
      outcome(() =>
        readTorchCheckpoint(zip(tensorPickle([0x4b, 6], [0x4b, 5], tuple([[0x4b, 6]]), tuple([binint(-1)])), storage)),
      ).code,
    ).toBe('WEIGHTS_CORRUPT');
    expect(
      outcome(() =>
        readTorchCheckpoint(zip(tensorPickle([0x4b, 6], binint(-2), tuple([[0x4b, 2]]), tuple([[0x4b, 1]])), storage)),
      ).code,
    ).toBe('WEIGHTS_CORRUPT');
    // A float size, and a size that is not a tuple at all.
    expect(
      outcome(() =>
        readTorchCheckpoint(
          zip(
            tensorPickle([0x4b, 6], [0x4b, 0], tuple([[0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]]), tuple([[0x4b, 1]])),
            storage,
          ),
        ),
      ).code,
    ).toBe('WEIGHTS_CORRUPT');
    expect(
      outcome(() =>
        readTorchCheckpoint(zip(tensorPickle([0x4b, 6], [0x4b, 0], [0x4b, 6], tuple([[0x4b, 1]])), storage)),
      ).code,
    ).toBe('WEIGHTS_CORRUPT');
    // A storage numel that is not an integer.
    expect(
      outcome(() =>
        readTorchCheckpoint(
          zip(tensorPickle(unicode('6'), [0x4b, 0], tuple([[0x4b, 6]]), tuple([[0x4b, 1]])), storage),
        ),
      ).code,
    ).toBe('WEIGHTS_CORRUPT');
  });

  it('an 80 KB LONG4 decodes in linear time to WEIGHTS_CORRUPT (was 2.5 s)', () => {
    const n = 80_000;
    const long4 = [0x8b, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0, ...new Array<number>(n).fill(0x7f)];
    const storage = new Uint8Array(24);
    const r = outcome(() =>
      readTorchCheckpoint(zip(tensorPickle([0x4b, 6], long4, tuple([[0x4b, 6]]), tuple([[0x4b, 1]])), storage)),
    );
    expect(r.code).toBe('WEIGHTS_CORRUPT');
    expect(r.ms).toBeLessThan(500);
    // 1 MB of LONG4 zipped to about 1 KB: same answer, no minutes of CPU.
    const big = 1 << 20;
    const pkl = tensorPickle(
      [0x4b, 6],
      [0x8b, 0, 0, 0x10, 0, ...new Array<number>(big).fill(0x7f)],
      tuple([[0x4b, 6]]),
      tuple([[0x4b, 1]]),
    );
    const small = fflate.zipSync({ 'archive/data.pkl': [pkl, { level: 9 }], 'archive/data/0': storage });
    expect(small.byteLength).toBeLessThan(4096);
    const r2 = outcome(() => readTorchCheckpoint(small));
    expect(r2.code).toBe('WEIGHTS_CORRUPT');
    expect(r2.ms).toBeLessThan(1000);
  });

  it('inflates only data.pkl and the storages of wanted tensors, within the budget (was: every entry, 293 KB → 342 MB)', () => {
    const good = writeTorchCheckpoint([['w', { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }]]);
    const entries = fflate.unzipSync(good);
    // An unused 64 MiB entry that deflates to ~64 KB.
    const bomb = fflate.zipSync({
      ...Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 0 }]])),
      'archive/junk': [new Uint8Array(1 << 26), { level: 9 }],
    });
    expect(bomb.byteLength).toBeLessThan(300_000);
    inflated.bytes = 0;
    const t = readTorchCheckpoint(bomb);
    expect(Array.from(t.get('w')!.data)).toEqual([1, 2, 3, 4]);
    expect(inflated.bytes).toBeLessThan(4096);

    // A wanted storage declared larger than the budget is refused before it is inflated.
    const huge = fflate.zipSync({
      'archive/data.pkl': [entries['archive/data.pkl'], { level: 0 }],
      'archive/data/0': [new Uint8Array(1 << 24), { level: 9 }],
    });
    inflated.bytes = 0;
    expect(outcome(() => readTorchCheckpoint(huge, 'x', { maxBytes: 1 << 20 })).code).toBe('WEIGHTS_CORRUPT');
    expect(inflated.bytes).toBeLessThan(4096);
    // Unwanted tensors are neither inflated nor decoded.
    inflated.bytes = 0;
    expect(readTorchCheckpoint(huge, 'x', { want: () => false }).size).toBe(0);
    expect(inflated.bytes).toBeLessThan(4096);
  });

  it('cyclic arguments, APPENDS of 200k items and forged storages are typed errors', () => {
    // L = [_rebuild_from_type_v2, None, L]; _rebuild_from_type_v2(*L) would recurse forever.
    const g = ascii('ctorch._tensor\n_rebuild_from_type_v2\n');
    const cyclic = Uint8Array.from([0x80, 0x02, ...g, 0x5d, 0x71, 0, 0x28, ...g, 0x4e, 0x68, 0, 0x65, 0x52, 0x2e]);
    expect(outcome(() => readTorchCheckpoint(zip(cyclic, new Uint8Array(0)))).code).toBe('WEIGHTS_CORRUPT');

    const appends = Uint8Array.from([0x80, 0x02, 0x5d, 0x28, ...new Array<number>(200_000).fill(0x4e), 0x65, 0x2e]);
    expect(outcome(() => readTorchCheckpoint(zip(appends, new Uint8Array(0)))).code).toBe('WEIGHTS_CORRUPT');

    // A cyclic persistent id (its message must not JSON.stringify it).
    const pid = Uint8Array.from([0x80, 0x02, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x51, 0x2e]);
    expect(outcome(() => readTorchCheckpoint(zip(pid, new Uint8Array(0)))).code).toBe('WEIGHTS_CORRUPT');

    // OrderedDict over something that is not a list of pairs.
    const od = Uint8Array.from([0x80, 0x02, ...ascii('ccollections\nOrderedDict\n'), 0x4b, 5, 0x85, 0x52, 0x2e]);
    expect(outcome(() => readTorchCheckpoint(zip(od, new Uint8Array(0)))).code).toBe('WEIGHTS_CORRUPT');
  });
});
