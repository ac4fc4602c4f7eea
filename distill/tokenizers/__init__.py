"""A model folder's tokenizer: tokenizer.json (WordPiece or byte-level BPE), else vocab.json + merges.txt."""

import json
import os

from .bpe import ByteLevelBPETokenizer, roberta_tokenizer_json
from .wordpiece import WordPieceTokenizer

KINDS = {"WordPiece": WordPieceTokenizer, "BPE": ByteLevelBPETokenizer}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f) if path.endswith(".json") else f.read()


def tokenizer_from_json(path, max_tokens=128):
    cfg = _read(path)
    kind = (cfg.get("model") or {}).get("type")
    if kind not in KINDS:
        raise ValueError(
            f"{path}: tokenizer model {kind} is not supported (supported: {', '.join(KINDS)}; Unigram/SentencePiece is not)"
        )
    return KINDS[kind](cfg, max_tokens, path)


def load_tokenizer(folder, max_tokens=128):
    path = os.path.join(folder, "tokenizer.json")
    if os.path.isfile(path):
        return tokenizer_from_json(path, max_tokens)
    vocab, merges = os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")
    if os.path.isfile(vocab) and os.path.isfile(merges):
        lines = [line for line in _read(merges).split("\n") if line and not line.startswith("#version")]
        return ByteLevelBPETokenizer(roberta_tokenizer_json(_read(vocab), lines), max_tokens, merges)
    raise FileNotFoundError(f"{folder}: no tokenizer.json, nor vocab.json + merges.txt")
