"""Teacher vectors: computed from a sentence-transformers folder, or brought by the user (.npy or raw float32)."""
import os
import sys

import numpy as np
import torch

from .st_model import encode, load_sentence_model, tokenizer_for


def read_sentences(path):
    """One sentence a line (a final newline adds none); empty lines are kept so rows stay aligned with vector files."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def load_vectors(path, n, dim=None):
    """.npy (float, [n, D]) or raw little-endian float32 (needs `dim`, or infers it from the size and n)."""
    if path.endswith(".npy"):
        x = np.load(path).astype(np.float32)
    else:
        raw = np.fromfile(path, dtype="<f4")
        if dim is None:
            if raw.size % n:
                raise ValueError(f"{path}: {raw.size} floats is not a multiple of {n} sentences; pass --teacher-dim")
            dim = raw.size // n
        x = raw.reshape(-1, dim)
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f"{path}: expected {n} rows (one per sentence), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{path}: contains NaN or infinite values")
    return x


def teacher_vectors(args, sentences, device, log):
    if args.teacher_vectors:
        x = load_vectors(args.teacher_vectors, len(sentences), args.teacher_dim)
        log(f"teacher: {x.shape[0]} user-supplied vectors of dimension {x.shape[1]} from {args.teacher_vectors}")
        return x, os.path.basename(args.teacher_vectors)
    model = load_sentence_model(args.teacher).to(device)
    tok = tokenizer_for(args.teacher, model.max_tokens)
    log(f"teacher: {args.teacher} ({model.bert.config['num_hidden_layers']} layers, hidden {model.bert.config['hidden_size']}, output {model.dim}-d); embedding {len(sentences)} sentences")
    x = encode(model, tok, sentences, args.teacher_batch, device)
    return x, os.path.basename(os.path.normpath(args.teacher))
