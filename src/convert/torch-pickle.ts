import { unzipSync } from 'fflate';
import { ConvertError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from './half.js';
import { PickleError, PyGlobal, unpickle } from './pickle.js';
import { numel, type TensorMap } from './tensor.js';

type StorageDtype = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

const STORAGE_TYPES: Record<string, StorageDtype> = {
  FloatStorage: 'f32', HalfStorage: 'f16', BFloat16Storage: 'bf16', DoubleStorage: 'f64',
  LongStorage: 'i64', IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8', ByteStorage: 'u8', BoolStorage: 'bool',
};
const WIDTH: Record<StorageDtype, number> = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

interface Storage { dtype: StorageDtype; key: string; numel: number }
interface TorchTensor { storage: Storage; offset: number; size: number[]; stride: number[] }

const isTorchTensor = (v: unknown): v is TorchTensor =>
  typeof v === 'object' && v !== null && 'storage' in v && 'stride' in v;

/**
 * Reads a `torch.save` checkpoint in the zip format (torch ≥ 1.6): `<archive>/data.pkl` plus raw
 * storages under `<archive>/data/`. Float tensors come back as contiguous f32.
 */
export function readTorchCheckpoint(bytes: Uint8Array, label = 'pytorch_model.bin'): TensorMap {
  const corrupt = (why: string, cause?: unknown): never => {
    throw new ConvertError('WEIGHTS_CORRUPT', `${label} is not a readable PyTorch checkpoint: ${why}. Re-download or re-save it.`, { cause });
  };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new ConvertError(
      'LEGACY_TORCH_FORMAT',
      `${label} uses PyTorch's legacy (pre-1.6) serialization. Re-save it in the zip format with torch >= 1.6: ` +
        `torch.save(torch.load(path), path), or save it as safetensors (safetensors.torch.save_file).`,
    );
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) corrupt('it is neither a zip archive nor a pickle');

  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (cause) {
    return corrupt(`the zip archive is damaged or truncated (${(cause as Error).message})`, cause);
  }
  const pklName = Object.keys(entries).find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName) return corrupt('no data.pkl inside the archive');
  const prefix = pklName.slice(0, -'data.pkl'.length);

  let root: unknown;
  try {
    root = unpickle(entries[pklName], {
      persistentLoad(pid) {
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal)) {
          throw new PickleError(`unexpected persistent id ${JSON.stringify(pid)}`);
        }
        const dtype = STORAGE_TYPES[pid[1].name];
        if (!dtype) throw new PickleError(`unsupported storage type ${pid[1].qualified}`);
        return { dtype, key: String(pid[2]), numel: Number(pid[4]) } satisfies Storage;
      },
      reduce(fn, args) {
        switch (fn.qualified) {
          case 'collections.OrderedDict':
            return new Map((args[0] as [unknown, unknown][] | undefined) ?? []);
          case 'torch._utils._rebuild_tensor_v2':
          case 'torch._utils._rebuild_tensor':
            return { storage: args[0] as Storage, offset: Number(args[1]), size: (args[2] as number[]).map(Number), stride: (args[3] as number[]).map(Number) } satisfies TorchTensor;
          case 'torch._utils._rebuild_parameter':
          case 'torch._utils._rebuild_parameter_with_state':
            return args[0];
          case 'torch._tensor._rebuild_from_type_v2': {
            const [inner, , innerArgs] = args as [PyGlobal, unknown, unknown[]];
            return this.reduce(inner, innerArgs);
          }
          default:
            throw new PickleError(`the checkpoint calls ${fn.qualified}, which a weights-only checkpoint never needs`);
        }
      },
    });
  } catch (cause) {
    if (cause instanceof PickleError) return corrupt(cause.message, cause);
    throw cause;
  }

  const dict = root instanceof Map && root.get('state_dict') instanceof Map ? (root.get('state_dict') as Map<unknown, unknown>) : root;
  if (!(dict instanceof Map)) return corrupt('the pickle does not hold a state dict');
  const out: TensorMap = new Map();
  for (const [name, value] of dict) {
    if (!isTorchTensor(value)) continue;
    const { storage } = value;
    if (storage.dtype !== 'f32' && storage.dtype !== 'f16' && storage.dtype !== 'bf16') continue;
    const raw = entries[`${prefix}data/${storage.key}`];
    if (!raw) corrupt(`storage ${storage.key} of ${String(name)} is missing from the archive`);
    if (raw.byteLength < storage.numel * WIDTH[storage.dtype]) corrupt(`storage ${storage.key} of ${String(name)} is truncated`);
    const values = storageToF32(raw, storage);
    out.set(String(name), { shape: value.size, data: gather(values, value, String(name), corrupt) });
  }
  return out;
}

function storageToF32(raw: Uint8Array, s: Storage): Float32Array {
  const aligned = raw.slice(0, s.numel * WIDTH[s.dtype]); // zip entries need not be aligned in memory
  if (s.dtype === 'f32') return new Float32Array(aligned.buffer, 0, s.numel);
  const bits = new Uint16Array(aligned.buffer, 0, s.numel);
  return s.dtype === 'f16' ? f16BitsToF32(bits) : bf16BitsToF32(bits);
}

/** Materialises a (possibly strided) view of a storage as a contiguous array. */
function gather(values: Float32Array, t: TorchTensor, name: string, corrupt: (why: string) => never): Float32Array {
  const n = numel(t.size);
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) if (t.size[d] > 0) last += (t.size[d] - 1) * t.stride[d];
  if (n > 0 && (t.offset < 0 || last >= values.length)) corrupt(`tensor ${name} reads past the end of its storage`);
  let contiguous = true;
  for (let d = t.size.length - 1, expect = 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.size[d];
  }
  if (contiguous) return values.slice(t.offset, t.offset + n);
  const out = new Float32Array(n);
  const idx = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = t.offset;
    for (let d = 0; d < idx.length; d++) src += idx[d] * t.stride[d];
    out[i] = values[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
