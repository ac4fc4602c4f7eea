import { unzipSync } from 'fflate';
import { ConvertError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from './half.js';
import { PickleError, PyGlobal, unpickle } from './pickle.js';
import { numel, type ReadLimits, type TensorMap } from './tensor.js';

type StorageDtype = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

const STORAGE_TYPES: Record<string, StorageDtype> = {
  FloatStorage: 'f32',
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  DoubleStorage: 'f64',
  LongStorage: 'i64',
  IntStorage: 'i32',
  ShortStorage: 'i16',
  CharStorage: 'i8',
  ByteStorage: 'u8',
  BoolStorage: 'bool',
};
const WIDTH: Record<StorageDtype, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  f64: 8,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  bool: 1,
};

/** A storage reference from the pickle's persistent ids; a class so a forged dict cannot pose as one. */
class Storage {
  constructor(
    readonly dtype: StorageDtype,
    readonly key: string,
    readonly numel: number,
  ) {}
}
interface TorchTensor {
  storage: Storage;
  offset: number;
  size: number[];
  stride: number[];
}

const isTorchTensor = (v: unknown): v is TorchTensor =>
  typeof v === 'object' && v !== null && 'storage' in v && (v as TorchTensor).storage instanceof Storage;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Sizes, strides and offsets are non-negative integers; anything else is a corrupt (or hostile) pickle. */
function counts(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 8 || !v.every(isCount))
    throw new PickleError(`tensor ${what} must be a tuple of at most 8 non-negative integers`);
  return v;
}

/** Python values in messages: short, and safe on cyclic structures. */
function describe(v: unknown): string {
  if (v instanceof PyGlobal) return v.qualified;
  if (Array.isArray(v))
    return `(${v
      .slice(0, 4)
      .map((x) => (Array.isArray(x) ? '(…)' : describe(x)))
      .join(', ')}${v.length > 4 ? ', …' : ''})`;
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 64));
  return typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : String(v);
}

/**
 * Reads a `torch.save` checkpoint in the zip format (torch ≥ 1.6): `<archive>/data.pkl` plus raw
 * storages under `<archive>/data/`. Float tensors come back as contiguous f32.
 * Only data.pkl and the storages of wanted float tensors are inflated, within `limits.maxBytes`.
 */
export function readTorchCheckpoint(
  bytes: Uint8Array,
  label = 'pytorch_model.bin',
  limits: ReadLimits = {},
): TensorMap {
  const corrupt = (why: string, cause?: unknown): never => {
    throw new ConvertError(
      'WEIGHTS_CORRUPT',
      `${label} is not a readable PyTorch checkpoint: ${why}. Re-download or re-save it.`,
      { cause },
    );
  };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new ConvertError(
      'LEGACY_TORCH_FORMAT',
      `${label} uses PyTorch's legacy (pre-1.6) serialization. Re-save it in the zip format with torch >= 1.6: ` +
        `torch.save(torch.load(path), path), or save it as safetensors (safetensors.torch.save_file).`,
    );
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) corrupt('it is neither a zip archive nor a pickle');
  // torch stores entries uncompressed; a deflated archive may inflate to at most this.
  const budget = limits.maxBytes ?? 4 * bytes.byteLength + (1 << 24);
  const want = limits.want ?? (() => true);

  // Inflates only the entries `pick` accepts, refusing before allocation when their declared sizes exceed the budget.
  const unzip = (pick: (name: string) => boolean, cap: number, what: string): Record<string, Uint8Array> => {
    let seen = 0;
    let total = 0;
    try {
      return unzipSync(bytes, {
        filter(f) {
          // Each central-directory record takes at least 46 bytes: a larger count is a lie that would spin for minutes.
          if (++seen > bytes.byteLength / 46)
            throw new PickleError('the zip directory claims more entries than the file can hold');
          if (!pick(f.name)) return false;
          total += f.originalSize;
          if (total > cap) throw new PickleError(`${what} would inflate to more than ${cap} bytes`);
          return true;
        },
      });
    } catch (cause) {
      if (cause instanceof PickleError) return corrupt(cause.message, cause);
      return corrupt(`the zip archive is damaged or truncated (${(cause as Error).message})`, cause);
    }
  };

  const pkl = unzip((n) => n === 'data.pkl' || n.endsWith('/data.pkl'), Math.min(budget, 1 << 26), 'data.pkl');
  const pklName = Object.keys(pkl).find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName) return corrupt('no data.pkl inside the archive');
  const prefix = pklName.slice(0, -'data.pkl'.length);

  let root: unknown;
  try {
    root = unpickle(pkl[pklName], {
      persistentLoad(pid) {
        if (
          !Array.isArray(pid) ||
          pid[0] !== 'storage' ||
          !(pid[1] instanceof PyGlobal) ||
          typeof pid[2] !== 'string'
        ) {
          throw new PickleError(`unexpected persistent id ${describe(pid)}`);
        }
        const dtype = STORAGE_TYPES[pid[1].name];
        if (!dtype) throw new PickleError(`unsupported storage type ${pid[1].qualified}`);
        if (!isCount(pid[4]))
          throw new PickleError(`storage ${describe(pid[2])} has an invalid element count ${describe(pid[4])}`);
        return new Storage(dtype, pid[2], pid[4]);
      },
      reduce(fn, args) {
        switch (fn.qualified) {
          case 'collections.OrderedDict': {
            const pairs = args[0] ?? [];
            if (!Array.isArray(pairs) || !pairs.every((p) => Array.isArray(p) && p.length === 2))
              throw new PickleError('OrderedDict needs a list of pairs');
            return new Map(pairs as [unknown, unknown][]);
          }
          case 'torch._utils._rebuild_tensor_v2':
          case 'torch._utils._rebuild_tensor': {
            if (!(args[0] instanceof Storage) || !isCount(args[1]))
              throw new PickleError(`${fn.name} needs a storage and a non-negative integer offset`);
            const size = counts(args[2], 'size');
            const stride = counts(args[3], 'stride');
            if (stride.length !== size.length) throw new PickleError('tensor stride and size differ in length');
            return { storage: args[0], offset: args[1], size, stride } satisfies TorchTensor;
          }
          case 'torch._utils._rebuild_parameter':
          case 'torch._utils._rebuild_parameter_with_state':
            return args[0];
          case 'torch._tensor._rebuild_from_type_v2': {
            // The inner call is resolved without further nesting, so a cyclic argument cannot recurse forever.
            const [inner, , innerArgs] = args;
            if (!(inner instanceof PyGlobal) || inner.qualified === fn.qualified || !Array.isArray(innerArgs)) {
              throw new PickleError('_rebuild_from_type_v2 needs a rebuild function and its arguments');
            }
            return this.reduce(inner, innerArgs);
          }
          default:
            throw new PickleError(`the checkpoint calls ${fn.qualified}, which a weights-only checkpoint never needs`);
        }
      },
    });
  } catch (cause) {
    if (cause instanceof PickleError) return corrupt(cause.message, cause);
    if (cause instanceof RangeError || cause instanceof TypeError)
      return corrupt(`the pickle is malformed (${cause.message})`, cause);
    throw cause;
  }

  const dict =
    root instanceof Map && root.get('state_dict') instanceof Map
      ? (root.get('state_dict') as Map<unknown, unknown>)
      : root;
  if (!(dict instanceof Map)) return corrupt('the pickle does not hold a state dict');
  // Every wanted float tensor is checked against its storage's declared size before anything is inflated.
  const tensors: [string, TorchTensor][] = [];
  const keys = new Set<string>();
  let decoded = 0;
  for (const [key, value] of dict) {
    const name = String(typeof key === 'string' ? key : describe(key));
    if (!isTorchTensor(value) || !want(name)) continue;
    const { storage } = value;
    if (storage.dtype !== 'f32' && storage.dtype !== 'f16' && storage.dtype !== 'bf16') continue;
    checkView(value, name, corrupt);
    decoded += numel(value.size) * 4;
    if (decoded > budget) corrupt(`its tensors would decode to more than ${budget} bytes`);
    keys.add(`${prefix}data/${storage.key}`);
    tensors.push([name, value]);
  }
  const entries = unzip((n) => keys.has(n), budget, 'the storages');
  const out: TensorMap = new Map();
  const values = new Map<string, Float32Array>();
  for (const [name, value] of tensors) {
    const { storage } = value;
    const entry = `${prefix}data/${storage.key}`;
    const raw = entries[entry];
    if (!raw) corrupt(`storage ${storage.key} of ${name} is missing from the archive`);
    if (raw.byteLength < storage.numel * WIDTH[storage.dtype])
      corrupt(`storage ${storage.key} of ${name} is truncated`);
    let v = values.get(entry);
    if (!v || v.length < storage.numel) values.set(entry, (v = storageToF32(raw, storage)));
    out.set(name, { shape: value.size, data: gather(v, value) });
  }
  return out;
}

/** A view must lie inside its storage and address distinct elements: no weight aliases its own entries. */
function checkView(t: TorchTensor, name: string, corrupt: (why: string) => never): void {
  let n = 1;
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) {
    n *= t.size[d];
    if (t.size[d] > 1 && t.stride[d] === 0) corrupt(`tensor ${name} repeats one element ${t.size[d]} times (stride 0)`);
    if (t.size[d] > 0) last += (t.size[d] - 1) * t.stride[d];
  }
  if (n > t.storage.numel) corrupt(`tensor ${name} has ${n} elements but its storage holds ${t.storage.numel}`);
  if (n > 0 && !(last < t.storage.numel)) corrupt(`tensor ${name} reads past the end of its storage`);
}

function storageToF32(raw: Uint8Array, s: Storage): Float32Array {
  const aligned = raw.slice(0, s.numel * WIDTH[s.dtype]); // zip entries need not be aligned in memory
  if (s.dtype === 'f32') return new Float32Array(aligned.buffer, 0, s.numel);
  const bits = new Uint16Array(aligned.buffer, 0, s.numel);
  return s.dtype === 'f16' ? f16BitsToF32(bits) : bf16BitsToF32(bits);
}

/** Materialises a (possibly strided) view of a storage as a contiguous array. */
function gather(values: Float32Array, t: TorchTensor): Float32Array {
  const n = numel(t.size);
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
