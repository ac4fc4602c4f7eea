"""Encoders by config.json's model_type, each with Hugging Face parameter names."""

import json
import os

from .bert import Bert, Roberta
from .mpnet import MPNet

ENCODERS = {"bert": Bert, "roberta": Roberta, "xlm-roberta": Roberta, "mpnet": MPNet}


def encoder_class(cfg, where):
    kind = cfg.get("model_type", "bert")
    if kind not in ENCODERS:
        raise ValueError(f"{where}: model_type {kind!r} is not supported (supported: {', '.join(ENCODERS)})")
    return ENCODERS[kind]


def read_config(folder):
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such folder")
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder}: no config.json (a Hugging Face model folder has one)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
