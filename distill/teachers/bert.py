"""BERT and RoBERTa / XLM-R encoders whose state_dicts use Hugging Face parameter names (no `transformers` needed)."""

import math

import torch
from torch import nn


class _SelfAttention(nn.Module):
    def __init__(self, h, heads, p=0.0):
        super().__init__()
        self.heads, self.dh, self.dropout = heads, h // heads, nn.Dropout(p)
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.dh).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh) + bias
        return (self.dropout(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, s, h)


class _DenseNorm(nn.Module):
    def __init__(self, inp, out, eps, p=0.0):
        super().__init__()
        self.dense, self.LayerNorm, self.dropout = nn.Linear(inp, out), nn.LayerNorm(out, eps=eps), nn.Dropout(p)

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, h, heads, eps, p_attn=0.0, p_hidden=0.0):
        super().__init__()
        self.self, self.output = _SelfAttention(h, heads, p_attn), _DenseNorm(h, h, eps, p_hidden)

    def forward(self, x, bias):
        return self.output(self.self(x, bias), x)


class _Intermediate(nn.Module):
    def __init__(self, h, f):
        super().__init__()
        self.dense = nn.Linear(h, f)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, as BERT's "gelu"


class _Layer(nn.Module):
    def __init__(self, h, heads, f, eps, p_attn=0.0, p_hidden=0.0):
        super().__init__()
        self.attention = _Attention(h, heads, eps, p_attn, p_hidden)
        self.intermediate = _Intermediate(h, f)
        self.output = _DenseNorm(f, h, eps, p_hidden)

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
                cfg.get("attention_probs_dropout_prob", 0.1),
                cfg.get("hidden_dropout_prob", 0.1),
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
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, ids, pos):
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _Pooler(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.dense = nn.Linear(h, h)


class Bert(nn.Module):
    """BertModel: returns the last hidden states; `pooler_output` when the checkpoint has the pooler."""

    PREFIX = "bert."
    NAME = "BERT"

    def __init__(self, cfg):
        super().__init__()
        if cfg.get("hidden_act", "gelu") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"only {self.NAME} with exact GELU and absolute positions is supported")
        self.config = dict(cfg)
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Encoder(cfg)
        self.pooler = None
        for m in self.modules():  # BERT's init: normal(0, initializer_range), zero biases, unit LayerNorm
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, cfg.get("initializer_range", 0.02))
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def positions(self, ids):
        return torch.arange(ids.shape[1], device=ids.device)[None].expand_as(ids)

    @property
    def max_length(self):
        """The most tokens (specials included) the position table covers."""
        return self.config["max_position_embeddings"]

    def forward(self, ids, mask):
        bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * -1e9
        x = self.embeddings(ids, self.positions(ids))
        for layer in self.encoder.layer:
            x = layer(x, bias.to(x.dtype) if x.dtype != torch.float32 else bias)
        return x

    def pooler_output(self, hidden):
        """tanh(dense(first token)): BertPooler, SimCSE's `cls` pooling."""
        if self.pooler is None:
            raise ValueError(
                f"--pooling cls needs the pooler (pooler.dense.*), which this {self.NAME} checkpoint lacks; use cls_before_pooler"
            )
        return torch.tanh(self.pooler.dense(hidden[:, 0]))

    def load_hf_state(self, state):
        """Loads a Hugging Face state dict (with or without the model prefix; the pooler when present)."""
        state = {k[len(self.PREFIX) :] if k.startswith(self.PREFIX) else k: v for k, v in state.items()}
        if "pooler.dense.weight" in state and "pooler.dense.bias" in state:
            self.pooler = _Pooler(self.config["hidden_size"])
        own = self.state_dict()
        clean = {k: state[k].to(torch.float32) for k in own if k in state}
        missing = [k for k in own if k not in clean]
        if missing:
            raise ValueError(f"checkpoint lacks {len(missing)} {self.NAME} encoder tensors, e.g. {missing[:3]}")
        wrong = [k for k in own if tuple(clean[k].shape) != tuple(own[k].shape)]
        if wrong:
            raise ValueError(
                f"checkpoint tensor {wrong[0]} has shape {tuple(clean[wrong[0]].shape)}, config.json implies {tuple(own[wrong[0]].shape)}"
            )
        self.load_state_dict(clean)

    def encoder_state(self):
        """The state dict without the pooler (a student is saved without one)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("pooler.")}


class Roberta(Bert):
    """RobertaModel / XLMRobertaModel: BERT with positions counted from padding_idx + 1 over non-pad tokens."""

    PREFIX = "roberta."
    NAME = "RoBERTa"

    def positions(self, ids):
        pad = self.config.get("pad_token_id", 1)
        keep = ids.ne(pad).to(torch.long)
        return torch.cumsum(keep, 1) * keep + pad

    @property
    def max_length(self):
        return self.config["max_position_embeddings"] - self.config.get("pad_token_id", 1) - 1


def mean_pool(hidden, mask):
    m = mask[..., None].to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
