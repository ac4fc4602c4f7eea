"""Byte-level BPE (GPT-2 / RoBERTa): from tokenizer.json or vocab.json + merges.txt. Written by hand because
Debian's python has no `tokenizers` and no `regex` (for \\p{L}); test/distill checks ids equal @huggingface/tokenizers'."""

import unicodedata

from .base import Tokenizer

_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
# JavaScript's \s (the reference's regex engine): Python's isspace() differs on U+001C-001F, U+0085 and U+FEFF.
_JS_SPACE = set("\t\n\x0b\x0c\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _cls(ch):
    if ch in _JS_SPACE:
        return "s"
    cat = unicodedata.category(ch)
    return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "o"


def gpt2_split(text):
    """`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`, alternative by alternative."""
    out, i, n = [], 0, len(text)
    kinds = [_cls(c) for c in text]

    def run(j, kind):
        while j < n and kinds[j] == kind:
            j += 1
        return j

    while i < n:
        c = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
        if c:
            out.append(c)
            i += len(c)
            continue
        start = i + 1 if text[i] == " " and i + 1 < n and kinds[i + 1] != "s" else i
        if kinds[start] != "s":  # ' ?\p{L}+', ' ?\p{N}+' and ' ?[^\s\p{L}\p{N}]+' all take one run of one class
            end = run(start, kinds[start])
            out.append(text[i:end])
            i = end
            continue
        end = run(i, "s")
        if end < n and end - i > 1:  # \s+(?!\S): leave the last space to prefix the next word
            end -= 1
        out.append(text[i:end])
        i = end
    return out


class ByteLevelBPETokenizer(Tokenizer):
    def __init__(self, cfg, max_tokens=128, where="tokenizer.json"):
        model = cfg["model"]
        if model.get("type") != "BPE":
            raise ValueError(f"{where}: model type {model.get('type')} is not BPE")
        pre = cfg.get("pre_tokenizer") or {}
        if pre.get("type") != "ByteLevel":
            raise ValueError(f"{where}: BPE needs a ByteLevel pre_tokenizer (got {pre.get('type')})")
        if cfg.get("normalizer"):
            raise ValueError(f"{where}: a normalizer with byte-level BPE is not supported")
        self.add_prefix_space = pre.get("add_prefix_space", False)
        self.use_regex = pre.get("use_regex", True)
        self.vocab = model["vocab"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.unk = model.get("unk_token")
        self.byte_map = bytes_to_unicode()
        self.cache = {}
        super().__init__(cfg, max_tokens, ("<s>", "</s>"))

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best = min(range(len(parts) - 1), key=lambda i: self.ranks.get((parts[i], parts[i + 1]), float("inf")))
            pair = (parts[best], parts[best + 1])
            if pair not in self.ranks:
                break
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def _encode_text(self, text, ids):
        if self.add_prefix_space and not text.startswith(" "):
            text = " " + text
        for piece in gpt2_split(text) if self.use_regex else [text]:
            for tok in self._bpe("".join(self.byte_map[b] for b in piece.encode("utf-8"))):
                if tok in self.vocab:
                    ids.append(self.vocab[tok])
                elif self.unk is not None:
                    ids.append(self.token_id(self.unk))
                else:
                    raise ValueError(f"token {tok!r} is not in the vocabulary and the tokenizer has no unk_token")


def roberta_tokenizer_json(vocab, merges):
    """vocab.json + merges.txt (no tokenizer.json) as the tokenizer.json RoBERTa's tokenizer would write."""
    specials = [t for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>") if t in vocab]
    return {
        "added_tokens": [{"id": vocab[t], "content": t, "special": True} for t in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", vocab["</s>"]], "cls": ["<s>", vocab["<s>"]]},
        "model": {"type": "BPE", "vocab": vocab, "merges": merges, "unk_token": "<unk>" if "<unk>" in vocab else None},
    }
