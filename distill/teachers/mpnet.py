"""MPNet (MPNetModel, e.g. sentence-transformers' all-mpnet-base-v2 / nli-mpnet-base-v2) with Hugging Face parameter
names: RoBERTa-style positions, no token types, and a relative-position attention bias shared by all layers."""

import math

import torch
from torch import nn

from .bert import Roberta


class _SelfAttention(nn.Module):
    def __init__(self, h, heads):
        super().__init__()
        self.heads, self.dh = heads, h // heads
        self.q, self.k, self.v, self.o = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.dh).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh) + bias
        return self.o((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h))


class _Attention(nn.Module):
    def __init__(self, h, heads, eps):
        super().__init__()
        self.attn, self.LayerNorm = _SelfAttention(h, heads), nn.LayerNorm(h, eps=eps)

    def forward(self, x, bias):
        return self.LayerNorm(self.attn(x, bias) + x)


class _Dense(nn.Module):
    def __init__(self, inp, out):
        super().__init__()
        self.dense = nn.Linear(inp, out)


class _Output(nn.Module):
    def __init__(self, inp, out, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(inp, out), nn.LayerNorm(out, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class _Layer(nn.Module):
    def __init__(self, h, heads, f, eps):
        super().__init__()
        self.attention, self.intermediate, self.output = _Attention(h, heads, eps), _Dense(h, f), _Output(f, h, eps)

    def forward(self, x, bias):
        a = self.attention(x, bias)
        return self.output(nn.functional.gelu(self.intermediate.dense(a)), a)


class _Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, eps = cfg["hidden_size"], cfg.get("layer_norm_eps", 1e-12)
        self.layer = nn.ModuleList(
            _Layer(h, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
            for _ in range(cfg["num_hidden_layers"])
        )
        self.relative_attention_bias = nn.Embedding(
            cfg.get("relative_attention_num_buckets", 32), cfg["num_attention_heads"]
        )


class _Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], h, padding_idx=cfg.get("pad_token_id", 1))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))

    def forward(self, ids, pos):
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos))


def relative_position_bucket(rel, num_buckets=32, max_distance=128):
    """MPNet's (T5-style) bucketing of key - query offsets: exact near zero, logarithmic up to max_distance."""
    half = num_buckets // 2
    ret = (rel > 0).to(torch.long) * half  # n = -rel < 0
    n = rel.abs()
    max_exact = half // 2
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (half - max_exact)).to(
        torch.long
    )
    large = torch.clamp(large, max=half - 1)
    return ret + torch.where(n < max_exact, n, large)


class MPNet(Roberta):
    PREFIX = "mpnet."
    NAME = "MPNet"

    def __init__(self, cfg):
        nn.Module.__init__(self)
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError("only MPNet with exact GELU is supported")
        self.config = dict(cfg)
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Encoder(cfg)
        self.pooler = None

    def forward(self, ids, mask):
        s = ids.shape[1]
        pos = torch.arange(s, device=ids.device)
        # Hugging Face buckets with 32 whatever relative_attention_num_buckets says; kept for identical outputs.
        rel = self.encoder.relative_attention_bias(relative_position_bucket(pos[None, :] - pos[:, None], 32))
        bias = rel.permute(2, 0, 1)[None] + (1.0 - mask[:, None, None, :].to(torch.float32)) * -1e9
        x = self.embeddings(ids, self.positions(ids))
        for layer in self.encoder.layer:
            x = layer(x, bias.to(x.dtype))
        return x
