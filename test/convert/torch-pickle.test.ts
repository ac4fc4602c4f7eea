import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readTorchCheckpoint } from '../../src/convert/torch-pickle.js';
import { writeTorchCheckpoint } from '../../src/convert/torch-writer.js';
import { HpdError } from '../../src/errors.js';
import { tensorPickle } from '../helpers/pickle-bytes.js';

const tensors = (): [string, { shape: number[]; data: Float32Array }][] => [
  [
    'embeddings.word_embeddings.weight',
    { shape: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => i * 0.25 - 1) },
  ],
  ['encoder.layer.0.attention.self.query.bias', { shape: [3], data: Float32Array.from([0.5, -1e-7, 3e5]) }],
  ['scalar_like', { shape: [1], data: Float32Array.from([42]) }],
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof HpdError ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

const hasPython = spawnSync('python3', ['-c', 'import zipfile, pickle'], { stdio: 'ignore' }).status === 0;

describe('torch zip checkpoints', () => {
  it('round-trips through the writer and skips int64 buffers', () => {
    const bytes = writeTorchCheckpoint(tensors(), [
      ['embeddings.position_ids', { shape: [1, 4], data: BigInt64Array.from([0n, 1n, 2n, 3n]) }],
    ]);
    const back = readTorchCheckpoint(bytes);
    expect([...back.keys()]).toEqual(tensors().map(([n]) => n));
    for (const [name, t] of tensors()) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      expect(Array.from(back.get(name)!.data)).toEqual(Array.from(t.data));
    }
  });

  it('lays records out as torch does: one archive folder, version record, 64-byte aligned data', () => {
    const bytes = writeTorchCheckpoint(tensors());
    const names = Object.keys(unzipSync(bytes));
    expect(names).toContain('archive/data.pkl');
    expect(names).toContain('archive/version');
    expect(names.filter((n) => n.startsWith('archive/data/'))).toHaveLength(3);
    // Local file headers: data offset = header offset + 30 + name length + extra length.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    let p = 0;
    while (view.getUint32(p, true) === 0x04034b50) {
      const size = view.getUint32(p + 18, true);
      const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
      expect(start % 64).toBe(0);
      p = start + size;
    }
  });

  it.skipIf(!hasPython)('is read identically by Python pickle + zipfile (the way torch.load unpickles)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpd-torch-'));
    try {
      await writeFile(join(dir, 'w.bin'), writeTorchCheckpoint(tensors()));
      const script = `
import json, pickle, struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
prefix = [n for n in z.namelist() if n.endswith('data.pkl')][0][:-8]
assert z.read(prefix + 'version').strip() == b'3'
class Storage:
    def __init__(self, key, numel): self.key, self.numel = key, numel
def rebuild(storage, offset, size, stride, requires_grad, hooks):
    raw = z.read(prefix + 'data/' + storage.key)
    vals = struct.unpack('<%df' % storage.numel, raw)
    n = 1
    for s in size: n *= s
    return {'shape': list(size), 'stride': list(stride), 'values': list(vals[offset:offset + n])}
class U(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'): return rebuild
        if (module, name) == ('collections', 'OrderedDict'):
            import collections; return collections.OrderedDict
        if module == 'torch' and name.endswith('Storage'): return name
        raise pickle.UnpicklingError('unexpected global %s.%s' % (module, name))
    def persistent_load(self, pid):
        assert pid[0] == 'storage' and pid[3] == 'cpu'
        return Storage(pid[2], pid[4])
d = U(z.open(prefix + 'data.pkl')).load()
print(json.dumps({k: v for k, v in d.items()}))
`;
      const out = JSON.parse(
        execFileSync('python3', ['-c', script, join(dir, 'w.bin')], { encoding: 'utf8' }),
      ) as Record<string, { shape: number[]; stride: number[]; values: number[] }>;
      for (const [name, t] of tensors()) {
        expect(out[name].shape).toEqual(t.shape);
        expect(out[name].values).toEqual(Array.from(t.data));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives LEGACY_TORCH_FORMAT for pre-1.6 checkpoints, with the re-save command', () => {
    const legacy = Uint8Array.from([
      0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
    ]);
    expect(codeOf(() => readTorchCheckpoint(legacy))).toBe('LEGACY_TORCH_FORMAT');
    try {
      readTorchCheckpoint(legacy);
    } catch (e) {
      expect((e as Error).message).toMatch(/torch\.save/);
    }
  });

  it('refuses truncated archives, missing storages and unexpected globals with WEIGHTS_CORRUPT', () => {
    const bytes = writeTorchCheckpoint(tensors());
    expect(codeOf(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 100)))).toBe('WEIGHTS_CORRUPT');
    expect(codeOf(() => readTorchCheckpoint(new TextEncoder().encode('not a checkpoint')))).toBe('WEIGHTS_CORRUPT');

    const entries = unzipSync(bytes);
    delete entries['archive/data/1'];
    expect(codeOf(() => readTorchCheckpoint(zipSync(entries, { level: 0 })))).toBe('WEIGHTS_CORRUPT');

    const short = unzipSync(bytes);
    short['archive/data/0'] = short['archive/data/0'].subarray(0, 8);
    expect(codeOf(() => readTorchCheckpoint(zipSync(short, { level: 0 })))).toBe('WEIGHTS_CORRUPT');

    // A pickle that asks to call os.system must be refused, never executed.
    const evil = new TextEncoder().encode('\x80\x02cos\nsystem\nX\x04\x00\x00\x00echoq\x00\x85R.');
    expect(
      codeOf(() =>
        readTorchCheckpoint(
          zipSync({ 'archive/data.pkl': evil, 'archive/version': new TextEncoder().encode('3\n') }, { level: 0 }),
        ),
      ),
    ).toBe('WEIGHTS_CORRUPT');
  });

  it('materialises strided (non-contiguous) views as contiguous tensors', () => {
    // A transposed 2x3 view of a 3x2 storage: size (2,3), stride (1,2).
    const storage = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const pkl = tensorPickle([0x4b, 6], [0x4b, 0], [0x28, 0x4b, 2, 0x4b, 3, 0x74], [0x28, 0x4b, 1, 0x4b, 2, 0x74]);
    const zip = zipSync({ 'archive/data.pkl': pkl, 'archive/data/0': new Uint8Array(storage.buffer) }, { level: 0 });
    const t = readTorchCheckpoint(zip).get('t')!;
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 3, 5, 2, 4, 6]);
  });
});
