"""safetensors read/write without the `safetensors` package (Debian ships none; the format is an 8-byte
little-endian header length, a JSON header and raw little-endian tensor bytes). Uses the package when present."""

import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F32": (np.float32, torch.float32),
    "F16": (np.float16, torch.float16),
    "F64": (np.float64, torch.float64),
    "I64": (np.int64, torch.int64),
    "I32": (np.int32, torch.int32),
    "I8": (np.int8, torch.int8),
    "U8": (np.uint8, torch.uint8),
}
_BY_TORCH = {t: name for name, (_, t) in _DTYPES.items()}

try:  # pragma: no cover - only when the real package is installed
    from safetensors.torch import load_file as _st_load
    from safetensors.torch import save_file as _st_save
except ImportError:  # Debian's python has no safetensors: use the small reader/writer below
    _st_load = _st_save = None


def load(path):
    """Path -> {name: torch.Tensor} (BF16 widened to float32)."""
    if _st_load is not None:
        return {k: (v.float() if v.dtype == torch.bfloat16 else v) for k, v in _st_load(path).items()}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = body[start:end]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        elif info["dtype"] in _DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_DTYPES[info["dtype"]][0]).newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def metadata(path):
    """The header's __metadata__ (string to string), without reading the tensors."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            raise ValueError(f"{path}: header length {n} is implausible")
        return json.loads(f.read(n)).get("__metadata__") or {}


def save(tensors, path, metadata=None):
    """{name: tensor} -> safetensors file (names sorted, contiguous little-endian data, 8-byte aligned header)."""
    if _st_save is not None:
        _st_save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, path, metadata=metadata)
        return
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in _BY_TORCH:
            raise ValueError(f"tensor {name}: dtype {t.dtype} cannot be written")
        raw = t.numpy().astype(np.dtype(t.numpy().dtype).newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _BY_TORCH[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
