"""Sentence-transformers folders (Transformer -> Pooling -> [Dense…] -> [Normalize]) read and written with our own BERT."""

import json
import os
import shutil

import numpy as np
import torch
from torch import nn

from . import safetensors_io
from .bert import Bert, mean_pool
from .outputs import mark
from .paths import inside
from .tokenizer import WordPieceTokenizer
from .weights import read_weights

TANH = "torch.nn.modules.activation.Tanh"
IDENTITY = "torch.nn.modules.linear.Identity"
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SentenceModel(nn.Module):
    """BERT + pooling (cls or mean) + Dense layers (+ L2 normalisation when the folder has a Normalize module)."""

    def __init__(self, bert, pooling="mean", dense=(), normalize=False, max_tokens=128):
        super().__init__()
        self.bert, self.pooling, self.normalize, self.max_tokens = bert, pooling, normalize, max_tokens
        self.dense = nn.ModuleList(d for d, _ in dense)
        self.acts = [a for _, a in dense]

    def forward(self, ids, mask):
        h = self.bert(ids, mask)
        x = h[:, 0] if self.pooling == "cls" else mean_pool(h, mask)
        for lin, act in zip(self.dense, self.acts):
            x = lin(x)
            if act == TANH:
                x = torch.tanh(x)
        return nn.functional.normalize(x, dim=-1) if self.normalize else x

    @property
    def dim(self):
        return self.dense[-1].out_features if len(self.dense) else self.bert.config["hidden_size"]


def load_bert(folder):
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such folder")
    bert = Bert(_read_json(os.path.join(folder, "config.json")))
    bert.load_hf_state(read_weights(folder))
    return bert


def student_max_tokens(folder):
    """max_seq_length from the folder's sentence_bert_config.json, else 128."""
    sbc = os.path.join(folder, "sentence_bert_config.json")
    return _read_json(sbc).get("max_seq_length", 128) if os.path.exists(sbc) else 128


def load_sentence_model(folder):
    """A sentence-transformers folder, or a plain Hugging Face BERT folder (then: mean pooling, no Dense)."""
    bert = load_bert(folder)
    modules_path = os.path.join(folder, "modules.json")
    max_tokens = student_max_tokens(folder)
    if not os.path.exists(modules_path):
        return SentenceModel(bert, max_tokens=max_tokens)
    pooling, dense, normalize = "mean", [], False
    for m in sorted(_read_json(modules_path), key=lambda m: m.get("idx", 0)):
        kind, sub = (
            str(m.get("type", "")).rsplit(".", 1)[-1],
            inside(folder, m.get("path", ""), modules_path, allow_empty=True),
        )
        if kind == "Pooling":
            cfg = _read_json(os.path.join(sub, "config.json"))
            modes = [k for k in ("cls_token", "mean_tokens") if cfg.get(f"pooling_mode_{k}")]
            others = [
                k
                for k, v in cfg.items()
                if k.startswith("pooling_mode_") and v and k[13:] not in ("cls_token", "mean_tokens")
            ]
            if len(modes) != 1 or others:
                raise ValueError(f"{sub}: only a single cls or mean pooling is supported")
            pooling = "cls" if modes[0] == "cls_token" else "mean"
        elif kind == "Dense":
            cfg = _read_json(os.path.join(sub, "config.json"))
            act = cfg.get("activation_function", TANH)
            if act not in (TANH, IDENTITY):
                raise ValueError(f"{sub}: activation {act} is not supported")
            lin = nn.Linear(cfg["in_features"], cfg["out_features"], bias=cfg.get("bias", True))
            w = read_weights(sub)
            lin.load_state_dict({k.replace("linear.", ""): v.float() for k, v in w.items()})
            dense.append((lin, act))
        elif kind == "Normalize":
            normalize = True
        elif kind != "Transformer":
            raise ValueError(
                f"{modules_path}: module type {m.get('type')!r} is not supported (Transformer, Pooling, Dense, Normalize are)"
            )
    return SentenceModel(bert, pooling, dense, normalize, max_tokens)


@torch.no_grad()
def encode(model, tokenizer, texts, batch=64, device="cpu"):
    """Texts -> float32 numpy [n, dim], batched by length (sorted) and returned in input order."""
    model.eval()
    out = np.zeros((len(texts), model.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        ids, mask = tokenizer.batch([texts[i] for i in idx])
        out[idx] = model(ids.to(device), mask.to(device)).float().cpu().numpy()
    return out


def save_student(model, out, tokenizer_src, extra_files=None):
    """Writes the sentence-transformers layout `hpd-embed convert` reads: config, safetensors, pooling, Dense, tokenizer."""
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(out, "2_Dense"), exist_ok=True)
    h = model.bert.config["hidden_size"]
    cfg = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        **model.bert.config,
    }
    _write_json(os.path.join(out, "config.json"), cfg)
    safetensors_io.save(
        {k: v.float() for k, v in model.bert.state_dict().items()},
        os.path.join(out, "model.safetensors"),
        {"format": "pt"},
    )
    _write_json(
        os.path.join(out, "modules.json"),
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
        ],
    )
    _write_json(
        os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": model.max_tokens, "do_lower_case": False}
    )
    _write_json(
        os.path.join(out, "1_Pooling", "config.json"),
        {
            "word_embedding_dimension": h,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    lin = model.dense[0]
    _write_json(
        os.path.join(out, "2_Dense", "config.json"),
        {"in_features": lin.in_features, "out_features": lin.out_features, "bias": True, "activation_function": TANH},
    )
    safetensors_io.save(
        {"linear.weight": lin.weight.float(), "linear.bias": lin.bias.float()},
        os.path.join(out, "2_Dense", "model.safetensors"),
        {"format": "pt"},
    )
    for name in TOKENIZER_FILES:
        src = os.path.join(tokenizer_src, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out, name))
    for name, text in (extra_files or {}).items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)
    mark(out)


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def tokenizer_for(folder, max_tokens):
    path = os.path.join(folder, "tokenizer.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{folder}: no tokenizer.json (the student needs a WordPiece tokenizer.json)")
    return WordPieceTokenizer(path, max_tokens)
