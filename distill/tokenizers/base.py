"""What every tokenizer.json tokenizer shares: added (special) tokens matched verbatim, the post-processor's
specials around a sentence, truncation and padded batches."""

import torch


def _specials(post, token_id):
    """(prefix ids, suffix ids) for one sentence from a tokenizer.json post_processor."""
    kind = (post or {}).get("type")
    if kind in ("BertProcessing", "RobertaProcessing"):
        return [post["cls"][1]], [post["sep"][1]]
    if kind == "TemplateProcessing":
        ids = {name: spec["ids"] for name, spec in post.get("special_tokens", {}).items()}
        before, after, seen = [], [], False
        for piece in post["single"]:
            if "Sequence" in piece:
                seen = True
            else:
                (after if seen else before).extend(ids[piece["SpecialToken"]["id"]])
        return before, after
    if kind is None:
        return None
    raise ValueError(
        f"post_processor {kind} is not supported (BertProcessing, RobertaProcessing, TemplateProcessing are)"
    )


class Tokenizer:
    """Subclasses set self.vocab and implement `_encode_text(text, ids)` (normalise, pre-tokenise, model)."""

    def __init__(self, cfg, max_tokens, default_specials):
        self.added = {t["content"]: t["id"] for t in cfg.get("added_tokens", [])}
        self._added_order = sorted(self.added, key=len, reverse=True)
        specials = _specials(cfg.get("post_processor"), self.token_id)
        if specials is None:
            specials = [self.token_id(default_specials[0])], [self.token_id(default_specials[1])]
        self.prefix_ids, self.suffix_ids = specials
        padding = cfg.get("padding") or {}
        self.pad = padding.get(
            "pad_id", next((self.token_id(t) for t in ("[PAD]", "<pad>") if t in self.vocab or t in self.added), 0)
        )
        self.max_tokens = max_tokens
        if max_tokens <= len(self.prefix_ids) + len(self.suffix_ids):
            raise ValueError(f"max tokens {max_tokens} leaves no room beside the special tokens")

    def token_id(self, token):
        if token in self.added:
            return self.added[token]
        if token in self.vocab:
            return self.vocab[token]
        raise ValueError(f"the tokenizer has no token {token!r}")

    def _split_added(self, text):
        """Added (special) tokens match verbatim before normalisation, as in tokenizers."""
        parts = [(text, False)]
        for tok in self._added_order:
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
        """Text -> ids with the specials around it, truncated to max_tokens keeping the specials."""
        ids = []
        for seg, special in self._split_added(text):
            if special:
                ids.append(self.added[seg])
            else:
                self._encode_text(seg, ids)
        ids = ids[: self.max_tokens - len(self.prefix_ids) - len(self.suffix_ids)]
        return self.prefix_ids + ids + self.suffix_ids

    def batch(self, texts):
        """Texts -> (input_ids, attention_mask) as padded int64 tensors."""
        enc = [self.encode(t) for t in texts]
        n = max(len(e) for e in enc)
        ids = torch.full((len(enc), n), self.pad, dtype=torch.long)
        mask = torch.zeros((len(enc), n), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = torch.tensor(e)
            mask[i, : len(e)] = 1
        return ids, mask
