"""A short BERT encoder whose state_dict uses Hugging Face `BertModel` parameter names (no `transformers` needed)."""

import math

import torch
from torch import nn


class _SelfAttention(nn.Module):
    def __init__(self, h, heads):
        super().__init__()
        self.heads, self.dh = heads, h // heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.dh).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh) + bias
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h)


class _DenseNorm(nn.Module):
    def __init__(self, inp, out, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(inp, out), nn.LayerNorm(out, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, h, heads, eps):
        super().__init__()
        self.self, self.output = _SelfAttention(h, heads), _DenseNorm(h, h, eps)

    def forward(self, x, bias):
        return self.output(self.self(x, bias), x)


class _Intermediate(nn.Module):
    def __init__(self, h, f):
        super().__init__()
        self.dense = nn.Linear(h, f)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, as BERT's "gelu"


class _Layer(nn.Module):
    def __init__(self, h, heads, f, eps):
        super().__init__()
        self.attention = _Attention(h, heads, eps)
        self.intermediate = _Intermediate(h, f)
        self.output = _DenseNorm(f, h, eps)

    def forward(self, x, bias):
        a = self.attention(x, bias)
        return self.output(self.intermediate(a), a)


class _Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(
            _Layer(
                cfg["hidden_size"],
                cfg["num_attention_heads"],
                cfg["intermediate_size"],
                cfg.get("layer_norm_eps", 1e-12),
            )
            for _ in range(cfg["num_hidden_layers"])
        )


class _Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], h, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(cfg.get("type_vocab_size", 2), h)
        self.LayerNorm = nn.LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class Bert(nn.Module):
    """BertModel without the pooler: returns the last hidden states."""

    def __init__(self, cfg):
        super().__init__()
        if cfg.get("hidden_act", "gelu") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT with exact GELU and absolute positions is supported")
        self.config = dict(cfg)
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Encoder(cfg)
        for m in self.modules():  # BERT's init: normal(0, initializer_range), zero biases, unit LayerNorm
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, cfg.get("initializer_range", 0.02))
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, mask):
        bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * -1e9
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, bias.to(x.dtype) if x.dtype != torch.float32 else bias)
        return x

    def load_hf_state(self, state):
        """Loads a Hugging Face BertModel state dict ('bert.' prefix, pooler and position_ids ignored)."""
        own = self.state_dict()
        clean = {}
        for k, v in state.items():
            k = k[5:] if k.startswith("bert.") else k
            if k in own:
                clean[k] = v.to(torch.float32)
        missing = [k for k in own if k not in clean]
        if missing:
            raise ValueError(f"checkpoint lacks {len(missing)} encoder tensors, e.g. {missing[:3]}")
        self.load_state_dict(clean)


def mean_pool(hidden, mask):
    m = mask[..., None].to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
