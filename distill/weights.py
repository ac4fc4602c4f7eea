"""Checkpoint tensors: <stem>.safetensors, else pytorch_model.bin through the allow-listed reader."""

import os

from . import safetensors_io
from .safe_pickle import read_bin


def read_weights(folder, stem="model"):
    """{name: tensor} from <stem>.safetensors, else pytorch_model.bin."""
    st = os.path.join(folder, f"{stem}.safetensors")
    if os.path.exists(st):
        return safetensors_io.load(st)
    pt = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(pt):
        return read_bin(pt)
    raise FileNotFoundError(f"{folder}: no {stem}.safetensors or pytorch_model.bin")
