"""Sentence-transformers folders (Transformer -> Pooling -> [Dense…] -> [Normalize]) read and written with our own BERT."""

import json
import os
import shutil

import numpy as np
import torch
from torch import nn

from . import safetensors_io
from .outputs import mark
from .paths import inside
from .teachers import encoder_class, read_config
from .teachers.bert import mean_pool
from .tokenizers import load_tokenizer
from .tokenizers.wordpiece import WordPieceTokenizer
from .weights import read_weights

TANH = "torch.nn.modules.activation.Tanh"
IDENTITY = "torch.nn.modules.linear.Identity"
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def _read_json(path, kind=dict):
    """A JSON file whose top level must be `kind` (an object unless said otherwise)."""
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    if not isinstance(value, kind):
        raise ValueError(f"{path}: expected a JSON {'object' if kind is dict else 'array'}")
    return value


class SentenceModel(nn.Module):
    """Encoder + pooling + Dense layers (+ L2 normalisation when the folder has a Normalize module). Pooling, in
    SimCSE's words: mean, cls_before_pooler (the first token's hidden state), cls (the pooler: tanh(dense(first)))."""

    def __init__(self, bert, pooling="mean", dense=(), normalize=False, max_tokens=128):
        super().__init__()
        self.bert, self.pooling, self.normalize, self.max_tokens = bert, pooling, normalize, max_tokens
        self.dense = nn.ModuleList(d for d, _ in dense)
        self.acts = [a for _, a in dense]

    def forward(self, ids, mask):
        h = self.bert(ids, mask)
        if self.pooling == "mean":
            x = mean_pool(h, mask)
        else:
            x = self.bert.pooler_output(h) if self.pooling == "cls" else h[:, 0]
        for lin, act in zip(self.dense, self.acts):
            x = lin(x)
            if act == TANH:
                x = torch.tanh(x)
        return nn.functional.normalize(x, dim=-1) if self.normalize else x

    @property
    def dim(self):
        return self.dense[-1].out_features if len(self.dense) else self.bert.config["hidden_size"]


POOLINGS = ("mean", "cls", "cls_before_pooler")


def load_encoder(folder):
    """The folder's encoder by config.json's model_type (BERT, RoBERTa, XLM-R, MPNet), weights loaded."""
    cfg = read_config(folder)
    enc = encoder_class(cfg, os.path.join(folder, "config.json"))(cfg)
    enc.load_hf_state(read_weights(folder))
    return enc


def load_bert(folder):
    """The student: a BERT (what `hpd-embed convert` compiles)."""
    cfg = read_config(folder)
    if cfg.get("model_type", "bert") != "bert":
        raise ValueError(
            f"{folder}: the student must be a BERT (model_type bert), not {cfg.get('model_type')!r}: hpd-embed convert compiles BERT"
        )
    return load_encoder(folder)


def student_max_tokens(folder):
    """max_seq_length from the folder's sentence_bert_config.json, else 128."""
    sbc = os.path.join(folder, "sentence_bert_config.json")
    return _read_json(sbc).get("max_seq_length", 128) if os.path.exists(sbc) else 128


def load_sentence_model(folder, pooling=None):
    """A sentence-transformers folder, or a plain Hugging Face encoder folder (then: mean pooling, no Dense);
    `pooling` (one of POOLINGS) replaces the folder's."""
    bert = load_encoder(folder)
    modules_path = os.path.join(folder, "modules.json")
    max_tokens = min(student_max_tokens(folder), bert.max_length)
    if not os.path.exists(modules_path):
        return SentenceModel(bert, pooling or "mean", max_tokens=max_tokens)
    folder_pooling, dense, normalize = "mean", [], False
    modules = _read_json(modules_path, list)
    if not all(isinstance(m, dict) and isinstance(m.get("idx", 0), int) for m in modules):
        raise ValueError(f"{modules_path}: every module must be an object with an integer idx")
    for m in sorted(modules, key=lambda m: m.get("idx", 0)):
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
            folder_pooling = "cls_before_pooler" if modes[0] == "cls_token" else "mean"
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
    return SentenceModel(bert, pooling or folder_pooling, dense, normalize, max_tokens)


@torch.no_grad()
def encode(model, tokenizer, texts, batch=64, device="cpu", label=None):
    """Texts -> float32 numpy [n, dim], batched by length (sorted) and returned in input order; a progress bar with
    ETA on stderr when `label` is given."""
    from .train import Progress

    model.eval()
    out = np.zeros((len(texts), model.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    bar = Progress(len(texts), label) if label else None
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        ids, mask = tokenizer.batch([texts[i] for i in idx])
        out[idx] = model(ids.to(device), mask.to(device)).float().cpu().numpy()
        if bar:
            bar.update(s + len(idx), s + len(idx))
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
    cfg.pop("hpd_embed_random_weights", None)  # a student started from a `hpd-embed fixture` is trained now, not random
    _write_json(os.path.join(out, "config.json"), cfg)
    safetensors_io.save(
        {k: v.float() for k, v in model.bert.encoder_state().items()},
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


def tokenizer_for(folder, max_tokens, student=False):
    """The folder's tokenizer; a student's must be a WordPiece tokenizer.json (what hpd-embed convert reads)."""
    tok = load_tokenizer(folder, max_tokens)
    if student and not isinstance(tok, WordPieceTokenizer):
        raise ValueError(
            f"{folder}: the student needs a WordPiece tokenizer.json (hpd-embed convert compiles BERT WordPiece)"
        )
    return tok
