"""pytorch_model.bin (torch.save's zip format) read without torch.load, which runs whatever a crafted pickle names.
Written by hand because Debian's torch 1.13 ignores torch.load's `pickle_module` (it always uses `pickle`) and its
`weights_only` unpickler had code-execution bypasses until 2.6 (CVE-2025-32434). `find_class` allows the tensor and
parameter rebuild functions, the storage classes and OrderedDict, each mapped to our own code: nothing is imported."""

import collections
import io
import pickle
import zipfile

import torch

_STORAGES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for something other than tensors, storages and OrderedDict."""


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    if not isinstance(storage, torch.Tensor) or not all(
        isinstance(v, int) and v >= 0 for v in (offset, *size, *stride)
    ):
        raise UnsafePickleError("a tensor record is malformed")
    if len(size) != len(stride):
        raise UnsafePickleError("a tensor record has sizes and strides of different lengths")
    if 0 not in size and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.numel():
        raise UnsafePickleError("a tensor reaches past the end of its storage")
    return storage.as_strided(tuple(size), tuple(stride), offset)


def _rebuild_parameter(data, *_rest):
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("a parameter record is malformed")
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}
_ALLOWED.update({("torch", name): _StorageType(dtype) for name, dtype in _STORAGES.items()})


class Unpickler(pickle.Unpickler):
    def __init__(self, file, read_storage):
        super().__init__(file, encoding="utf-8")
        self._read_storage, self._storages = read_storage, {}

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise UnsafePickleError(
                f"it asks to load {module}.{name}; only tensors, storages and OrderedDict are allowed"
            )
        return found

    def persistent_load(self, pid):
        if not (
            isinstance(pid, tuple)
            and len(pid) >= 3
            and pid[0] == "storage"
            and isinstance(pid[1], _StorageType)
            and isinstance(pid[2], str)
        ):
            raise UnsafePickleError(f"unexpected persistent id {pid!r:.80}")
        dtype, key = pid[1].dtype, pid[2]
        if key not in self._storages:
            self._storages[key] = self._read_storage(key, dtype)
        return self._storages[key]


def read_bin(path):
    """torch.save zip file -> {name: tensor}; ValueError for anything that is not a plain state dict."""
    state = read_archive(path)
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{path}: is not a state dict (a mapping of names to tensors)")
    return dict(state)


def read_archive(path):
    """torch.save zip file -> its object, built from tensors, OrderedDicts and plain containers only."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path}: is not a torch.save zip archive (the pre-1.6 format is not read); convert it to model.safetensors"
        )
    with zipfile.ZipFile(path) as z:
        pkls = [n for n in z.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise ValueError(f"{path}: holds no single <name>/data.pkl; not a torch.save archive")
        prefix = pkls[0][: -len("data.pkl")]
        names = set(z.namelist())
        # torch.save stores entries uncompressed: a compressed one could be a decompression bomb.
        if any(i.compress_type != zipfile.ZIP_STORED for i in z.infolist()):
            raise ValueError(f"{path}: has compressed entries, which torch.save never writes; refused")
        if f"{prefix}byteorder" in names and z.read(f"{prefix}byteorder").strip() != b"little":
            raise ValueError(f"{path}: big-endian tensors are not supported")

        def read_storage(key, dtype):
            entry = f"{prefix}data/{key}"
            if "/" in key or entry not in names:
                raise UnsafePickleError(f"storage {key!r:.40} is missing from the archive")
            raw = bytearray(z.read(entry))
            itemsize = torch.empty((), dtype=dtype).element_size()
            if len(raw) % itemsize:
                raise UnsafePickleError(f"storage {key!r:.40} is not a whole number of {dtype} values")
            return torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)

        try:
            state = Unpickler(io.BytesIO(z.read(pkls[0])), read_storage).load()
        except UnsafePickleError as e:
            raise ValueError(f"{path}: refused: {e} (convert it to model.safetensors if it is yours)") from None
        except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, RuntimeError) as e:
            raise ValueError(f"{path}: cannot be read as PyTorch weights: {e}") from None
    return state
