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
        cfg = json.load(f)
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: expected a JSON object")
    need = (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
    )
    missing = [k for k in need if not isinstance(cfg.get(k), int) or cfg[k] < 1]
    if missing and cfg.get("model_type", "bert") in ENCODERS:
        raise ValueError(f"{path}: {', '.join(missing)} missing or not a positive integer")
    if not missing and cfg["hidden_size"] % cfg["num_attention_heads"]:
        raise ValueError(
            f"{path}: hidden_size {cfg['hidden_size']} is not a multiple of num_attention_heads {cfg['num_attention_heads']}"
        )
    return cfg
