"""BERT WordPiece tokenisation from a tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece), written by hand
because Debian's python has no `tokenizers`/`transformers`; test/distill checks ids equal @huggingface/tokenizers'."""

import json
import unicodedata


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


class WordPieceTokenizer:
    def __init__(self, tokenizer_json_path, max_tokens=128):
        with open(tokenizer_json_path, encoding="utf-8") as f:
            cfg = json.load(f)
        model, norm = cfg["model"], cfg.get("normalizer") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"{tokenizer_json_path}: model type {model.get('type')} is not WordPiece")
        self.vocab = model["vocab"]
        self.unk = model.get("unk_token", "[UNK]")
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = model.get("max_input_chars_per_word", 100)
        self.lowercase = norm.get("lowercase", True)
        sa = norm.get("strip_accents")
        self.strip_accents = self.lowercase if sa is None else sa
        self.clean_text = norm.get("clean_text", True)
        self.chinese = norm.get("handle_chinese_chars", True)
        self.added = sorted((t["content"] for t in cfg.get("added_tokens", [])), key=len, reverse=True)
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.pad = self.vocab.get("[PAD]", 0)
        self.max_tokens = max_tokens

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

    def _split_added(self, text):
        """Added (special) tokens match verbatim before normalisation, as in tokenizers."""
        parts = [(text, False)]
        for tok in self.added:
            nxt = []
            for seg, special in parts:
                if special or tok not in seg:
                    nxt.append((seg, special))
                    continue
                pieces = seg.split(tok)
                for i, p in enumerate(pieces):
                    if p:
                        nxt.append((p, False))
                    if i < len(pieces) - 1:
                        nxt.append((tok, True))
            parts = nxt
        return parts

    def encode(self, text):
        """Text -> ids with [CLS] … [SEP], truncated to max_tokens keeping both specials."""
        ids = []
        for seg, special in self._split_added(text):
            if special:
                ids.append(self.vocab[seg])
                continue
            for w in self._pretokenize(self._normalize(seg)):
                self._wordpiece(w, ids)
        ids = ids[: self.max_tokens - 2]
        return [self.cls] + ids + [self.sep]

    def batch(self, texts):
        """Texts -> (input_ids, attention_mask) as padded int64 tensors."""
        import torch

        enc = [self.encode(t) for t in texts]
        n = max(len(e) for e in enc)
        ids = torch.full((len(enc), n), self.pad, dtype=torch.long)
        mask = torch.zeros((len(enc), n), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = torch.tensor(e)
            mask[i, : len(e)] = 1
        return ids, mask
