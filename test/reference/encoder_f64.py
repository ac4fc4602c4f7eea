"""Float64 reference encoders for test/distill/teachers.test.ts, independent of distill/: RoBERTa and MPNet written
from Hugging Face's modeling code in numpy, one unpadded sentence at a time, plus the random checkpoints they read.

  make <folder> roberta|mpnet <seed> <layers> <hidden> <heads> <ffn> <vocab> <positions>
  forward <folder> mean|cls|cls_before_pooler <ids.json> <out.json>
"""

import json
import math
import os
import struct
import sys

import numpy as np

PREFIX = {"roberta": "roberta.", "mpnet": ""}  # SimCSE-style prefixed keys / sentence-transformers' bare ones


def names(kind, layers):
    emb = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.LayerNorm"]
    if kind == "roberta":
        emb.append("embeddings.token_type_embeddings.weight")
        per = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm"]
    else:
        per = ["attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm"]
    per += ["intermediate.dense", "output.dense", "output.LayerNorm"]
    extra = ["encoder.relative_attention_bias.weight"] if kind == "mpnet" else []
    return emb + [f"encoder.layer.{i}.{p}" for i in range(layers) for p in per] + extra + ["pooler.dense"]


def make(folder, kind, seed, layers, hidden, heads, ffn, vocab, positions):
    rng = np.random.default_rng(seed)
    cfg = {
        "model_type": kind, "architectures": ["RobertaModel" if kind == "roberta" else "MPNetModel"], "vocab_size": vocab,
        "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": ffn,
        "hidden_act": "gelu", "max_position_embeddings": positions, "layer_norm_eps": 1e-5, "pad_token_id": 1,
        "bos_token_id": 0, "eos_token_id": 2, "type_vocab_size": 1, "relative_attention_num_buckets": 32,
    }
    shapes = {"word_embeddings": (vocab, hidden), "position_embeddings": (positions, hidden), "token_type_embeddings": (1, hidden),
              "relative_attention_bias": (32, heads)}
    tensors = {}
    for n in names(kind, layers):
        leaf = n.split(".")[-2] if n.endswith(".weight") else n.split(".")[-1]
        if n.endswith(".weight"):
            tensors[n] = rng.normal(0, 0.3, shapes[leaf])
        elif leaf == "LayerNorm":
            tensors[n + ".weight"], tensors[n + ".bias"] = 1 + rng.normal(0, 0.1, hidden), rng.normal(0, 0.1, hidden)
        else:
            layer_out = n.endswith(".output.dense") and ".attention." not in n
            out_f, in_f = (ffn, hidden) if ".intermediate." in n else (hidden, ffn) if layer_out else (hidden, hidden)
            tensors[n + ".weight"], tensors[n + ".bias"] = rng.normal(0, 0.3 / math.sqrt(in_f) * 4, (out_f, in_f)), rng.normal(0, 0.1, out_f)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    write_safetensors({PREFIX[kind] + k: v.astype(np.float32) for k, v in tensors.items()}, os.path.join(folder, "model.safetensors"))


def write_safetensors(tensors, path):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        raw = tensors[k].astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return {k: np.frombuffer(data[8 + n + v["data_offsets"][0] : 8 + n + v["data_offsets"][1]], "<f4").reshape(v["shape"]).astype(np.float64)
            for k, v in header.items() if k != "__metadata__"}


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def mpnet_bucket(rel):
    """HF MPNetEncoder.relative_position_bucket (32 buckets, max distance 128), with its float32 log as HF computes it."""
    n = -rel
    ret = (n < 0).astype(np.int64) * 16
    n = np.abs(n)
    large = 8 + (np.log(n.astype(np.float32) / np.float32(8)) / np.float32(math.log(16)) * np.float32(8)).astype(np.int64)
    return ret + np.where(n < 8, n, np.minimum(large, 15))


def forward(w, cfg, ids):
    kind, eps, heads = cfg["model_type"], cfg["layer_norm_eps"], cfg["num_attention_heads"]
    p = lambda k: w[PREFIX[kind] + k]
    s = len(ids)
    pos = np.arange(s) + cfg["pad_token_id"] + 1  # an unpadded sentence without <pad> tokens
    x = p("embeddings.word_embeddings.weight")[ids] + p("embeddings.position_embeddings.weight")[pos]
    if kind == "roberta":
        x = x + p("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"), eps)
    bias = 0
    if kind == "mpnet":
        rel = np.arange(s)[None, :] - np.arange(s)[:, None]
        with np.errstate(divide="ignore"):
            bias = p("encoder.relative_attention_bias.weight")[mpnet_bucket(rel)].transpose(2, 0, 1)
    lin = lambda name, v: v @ p(name + ".weight").T + p(name + ".bias")
    h = x.shape[1]
    dh = h // heads
    for i in range(cfg["num_hidden_layers"]):
        L = f"encoder.layer.{i}."
        qn, kn, vn, on, ln = (["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm"]
                              if kind == "roberta" else ["attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm"])
        split = lambda t: t.reshape(s, heads, dh).transpose(1, 0, 2)
        q, k, v = split(lin(L + qn, x)), split(lin(L + kn, x)), split(lin(L + vn, x))
        ctx = (softmax(q @ k.transpose(0, 2, 1) / math.sqrt(dh) + bias) @ v).transpose(1, 0, 2).reshape(s, h)
        a = layer_norm(lin(L + on, ctx) + x, p(L + ln + ".weight"), p(L + ln + ".bias"), eps)
        x = layer_norm(lin(L + "output.dense", gelu(lin(L + "intermediate.dense", a))) + a, p(L + "output.LayerNorm.weight"), p(L + "output.LayerNorm.bias"), eps)
    return x


def main(argv):
    if argv[0] == "make":
        folder, kind, *nums = argv[1:]
        return make(folder, kind, *map(int, nums))
    folder, pooling, ids_path, out_path = argv[1:]
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    pre = PREFIX[cfg["model_type"]]
    out = []
    for ids in json.load(open(ids_path)):
        x = forward(w, cfg, np.array(ids))
        if pooling == "mean":
            out.append(x.mean(0).tolist())
        elif pooling == "cls_before_pooler":
            out.append(x[0].tolist())
        else:
            out.append(np.tanh(x[0] @ w[pre + "pooler.dense.weight"].T + w[pre + "pooler.dense.bias"]).tolist())
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":
    main(sys.argv[1:])
