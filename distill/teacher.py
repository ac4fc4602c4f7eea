"""Teacher vectors: computed from a sentence-transformers folder, or brought by the user (.npy or raw float32)."""

import hashlib
import json
import os

import numpy as np

from .st_model import encode, load_sentence_model, tokenizer_for


def read_sentences(path):
    """One sentence a line (a final newline adds none); empty lines are kept so rows stay aligned with vector files."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def load_vectors(path, n, dim=None):
    """.npy (float, [n, D]) or raw little-endian float32 (needs `dim`, or infers it from the size and n)."""
    if path.endswith(".npy"):
        x = np.load(path, allow_pickle=False).astype(np.float32)
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


def unit_rows(x):
    """Rows scaled to unit length (zero rows stay zero)."""
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def warn_not_unit(x, path, log, tolerance=0.01):
    """The paper's teacher vectors are unit length: say so when the given ones are far from it (they are normalised)."""
    norms = np.linalg.norm(x.astype(np.float64), axis=1)
    far = np.abs(norms - 1) > tolerance
    if far.any():
        log(
            f"warning: {int(far.sum())} of {len(x)} vectors in {path} are not unit length (norms {norms.min():.4g} to {norms.max():.4g}); "
            "they are L2-normalised before the PCA (--no-normalize keeps them as given)"
        )


def load_teacher(folder, pooling=None):
    """(model, tokenizer) of a teacher folder, loaded before any work so a bad folder fails at once."""
    model = load_sentence_model(folder, pooling)
    return model, tokenizer_for(folder, model.max_tokens)


def teacher_vectors(cfg, teacher, sentences, device, log):
    """Embeds `sentences` with a loaded teacher -> (float32 [n, D], teacher name)."""
    model, tok = teacher
    model.to(device)
    log(
        f"teacher: {cfg.teacher} ({model.bert.NAME}, {model.pooling} pooling, {model.bert.config['num_hidden_layers']} layers, hidden {model.bert.config['hidden_size']}, output {model.dim}-d); embedding {len(sentences)} sentences"
    )
    x = encode(model, tok, sentences, cfg.teacher_batch, device, label="teacher")
    return x, os.path.basename(os.path.normpath(cfg.teacher))


def _hash_files(h, folder):
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)


def cached_teacher_vectors(cfg, teacher, sentences, device, log):
    """teacher_vectors, reused from cfg.cache_dir when the same teacher folder (every file's bytes), pooling, token
    limit and sentences were embedded before."""
    if not cfg.cache_dir:
        return teacher_vectors(cfg, teacher, sentences, device, log)
    h = hashlib.sha256()
    _hash_files(h, cfg.teacher)
    h.update(json.dumps([teacher[0].pooling, teacher[0].max_tokens]).encode())
    for s in sentences:
        h.update(s.encode("utf-8") + b"\n")
    key = h.hexdigest()[:32]
    path = os.path.join(cfg.cache_dir, f"teacher-{key}.npy")
    name = os.path.basename(os.path.normpath(cfg.teacher))
    if os.path.isfile(path):
        x = np.load(path, allow_pickle=False)
        if x.shape[0] == len(sentences):
            log(f"teacher: {len(sentences)} vectors reused from the cache {path}")
            return x, name
    x, name = teacher_vectors(cfg, teacher, sentences, device, log)
    os.makedirs(cfg.cache_dir, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}.npy"
    np.save(tmp, x)
    os.replace(tmp, path)
    log(f"teacher: vectors cached at {path}")
    return x, name
