"""BERT WordPiece tokenisation from a tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece), written by hand
because Debian's python has no `tokenizers`/`transformers`; test/distill checks ids equal @huggingface/tokenizers'."""

import unicodedata

from .base import Tokenizer


def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs")


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


class WordPieceTokenizer(Tokenizer):
    def __init__(self, cfg, max_tokens=128, where="tokenizer.json"):
        model, norm = cfg["model"], cfg.get("normalizer") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"{where}: model type {model.get('type')} is not WordPiece")
        if norm and norm.get("type", "BertNormalizer") != "BertNormalizer":
            raise ValueError(
                f"{where}: normalizer {norm.get('type')} is not supported with WordPiece (BertNormalizer is)"
            )
        self.vocab = model["vocab"]
        self.unk = model.get("unk_token", "[UNK]")
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = model.get("max_input_chars_per_word", 100)
        self.lowercase = norm.get("lowercase", True)
        sa = norm.get("strip_accents")
        self.strip_accents = self.lowercase if sa is None else sa
        self.clean_text = norm.get("clean_text", True)
        self.chinese = norm.get("handle_chinese_chars", True)
        super().__init__(cfg, max_tokens, ("[CLS]", "[SEP]"))

    def _normalize(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if self.clean_text:
                if cp == 0 or cp == 0xFFFD or _is_control(ch):
                    continue
                if _is_whitespace(ch):
                    ch = " "
            if self.chinese and _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        s = "".join(out)
        if self.strip_accents:
            s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            s = s.lower()
        return s

    def _pretokenize(self, s):
        words, cur = [], []
        for ch in s:
            if _is_whitespace(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
            elif _is_punct(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return words

    def _wordpiece(self, word, ids):
        if len(word) > self.max_chars:
            ids.append(self.vocab[self.unk])
            return
        start, pieces = 0, []
        while start < len(word):
            end, piece = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else self.prefix + word[start:end]
                if sub in self.vocab:
                    piece = self.vocab[sub]
                    break
                end -= 1
            if piece is None:
                ids.append(self.vocab[self.unk])
                return
            pieces.append(piece)
            start = end
        ids.extend(pieces)

    def _encode_text(self, text, ids):
        for w in self._pretokenize(self._normalize(text)):
            self._wordpiece(w, ids)
