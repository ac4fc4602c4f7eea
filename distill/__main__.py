"""python -m distill [train] …  |  embed …  |  tokenize …  |  project …"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

from . import safetensors_io
from .config import TrainConfig
from .data import expand, load_corpus
from .outputs import check_output
from .pca import fit_pca, project
from .st_model import (
    POOLINGS,
    TANH,
    SentenceModel,
    encode,
    load_bert,
    load_sentence_model,
    save_student,
    student_max_tokens,
    tokenizer_for,
)
from .sts import read_sts, sts_evaluator
from .teacher import cached_teacher_vectors, load_teacher, load_vectors, read_sentences, unit_rows, warn_not_unit
from .train import Checkpoints, train


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def train_parser():
    p = argparse.ArgumentParser(
        prog="python -m distill",
        description="HPD distillation: teacher vectors -> PCA -> student (BERT + mean pooling + Dense tanh) trained with MSE.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--teacher",
        help="the teacher's folder: sentence-transformers, or Hugging Face BERT / RoBERTa / XLM-R / MPNet (config.json model_type)",
    )
    src.add_argument(
        "--teacher-vectors",
        help="teacher vectors the user brings: .npy [n, D] or raw little-endian float32, one row per --sentences line",
    )
    p.add_argument(
        "--teacher-dim", type=int, help="D for a raw float32 --teacher-vectors file (default: size / sentences)"
    )
    p.add_argument(
        "--pooling",
        choices=POOLINGS,
        help="teacher pooling (default: the folder's 1_Pooling, else mean): mean | cls (the pooler output, SimCSE) | cls_before_pooler",
    )
    p.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="L2-normalise teacher vectors before the PCA, as the paper's are (default on; --no-normalize keeps them)",
    )
    p.add_argument(
        "--sentences",
        required=True,
        nargs="+",
        help="training sentences, one a line (several files: read one after another)",
    )
    p.add_argument(
        "--weights",
        type=float,
        nargs="+",
        help="one per --sentences file: how often its sentences are seen per epoch (default 1 each)",
    )
    p.add_argument(
        "--dedup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="drop exact duplicate sentences (default on)",
    )
    p.add_argument("--max-chars", type=int, help="drop sentences longer than this (the paper keeps <= 256 characters)")
    p.add_argument(
        "--student",
        required=True,
        help="Hugging Face-layout BERT folder to start the student from (config.json, weights, tokenizer.json)",
    )
    p.add_argument("--out", required=True, help="output folder (sentence-transformers layout)")
    p.add_argument("--dim", type=int, default=128, help="PCA / student output dimension (default 128)")
    p.add_argument("--pca-sample", type=int, default=40000, help="teacher vectors the PCA is fitted on (default 40000)")
    p.add_argument(
        "--center", action="store_true", help="subtract the PCA mean when projecting (the released code does not)"
    )
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=1000, help="linear warmup steps, then linear decay (default 1000)")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--val-sentences", help="validation sentences (default: hold out --val-fraction of --sentences)")
    p.add_argument("--val-fraction", type=float, default=0.02)
    p.add_argument("--teacher-batch", type=int, default=64)
    p.add_argument(
        "--max-tokens", type=int, help="student max tokens (default: the student's sentence_bert_config, else 128)"
    )
    p.add_argument("--device", default="auto", help="auto (cuda when available) | cpu | cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--adam-eps", type=float, default=1e-6, help="AdamW epsilon (default 1e-6, as the paper's recipe)")
    p.add_argument("--max-grad-norm", type=float, default=1.0, help="gradient clipping (default 1.0)")
    p.add_argument("--dropout", type=float, help="student dropout (default: its config.json's, 0.1 when absent)")
    p.add_argument(
        "--val-every",
        type=int,
        default=0,
        help="also validate every N steps, keeping the best weights (default: each epoch only)",
    )
    p.add_argument("--checkpoint-every", type=int, default=0, help="save a checkpoint every N steps (default: none)")
    p.add_argument(
        "--checkpoint-dir", help="where checkpoints go (default: <--out>.checkpoint; removed when the run completes)"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint of an interrupted run with the same inputs and settings",
    )
    p.add_argument("--stop-after", type=int, default=0, help=argparse.SUPPRESS)  # stop as a kill would: tests --resume
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes tokenising batches ahead of the training loop (default 0: inline)",
    )
    p.add_argument(
        "--eval-sts",
        help="STS file (STS-B tsv, or sentence<TAB>sentence<TAB>score): its Spearman is logged at every validation and in the card",
    )
    p.add_argument(
        "--cache-dir", help="cache teacher vectors here, keyed by the teacher folder's bytes, pooling and sentences"
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing --out / --initial-out folders (only ones python -m distill wrote)",
    )
    p.add_argument(
        "--initial-out",
        help="also write the untrained student (same initialisation) here, as a baseline; an existing non-empty folder needs --overwrite",
    )
    return p


def embed_parser():
    p = argparse.ArgumentParser(
        prog="python -m distill embed",
        description="Embed sentences with a sentence-transformers folder (our BERT) into raw float32.",
    )
    p.add_argument("--model", required=True)
    p.add_argument("--sentences", required=True)
    p.add_argument("--out", required=True, help="raw little-endian float32 [n, dim]")
    p.add_argument("--normalize", action="store_true", help="L2-normalise the rows")
    p.add_argument(
        "--pooling", choices=POOLINGS, help="replace the folder's pooling (SimCSE's names; cls is the pooler output)"
    )
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="cpu")
    return p


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    return name


def cmd_embed(argv):
    a = embed_parser().parse_args(argv)
    model = load_sentence_model(a.model, a.pooling).to(a.device)
    tok = tokenizer_for(a.model, model.max_tokens)
    x = encode(model, tok, read_sentences(a.sentences), a.batch, a.device)
    if a.normalize:
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    x.astype("<f4").tofile(a.out)
    log(f"{len(x)} x {x.shape[1]} float32 -> {a.out}")


def card(cfg, teacher_name, D, hidden, ratio, history, best, n_train, n_val, seconds, device):
    cell = lambda h, k, f: format(h[k], f) if k in h else "-"
    epoch = lambda h: h["epoch"] if isinstance(h["epoch"], int) else f"{h['epoch']:.2f} (step {h['step']})"
    rows = "\n".join(
        f"| {epoch(h)} | {h['val_mse']:.6f} | {cell(h, 'sts_spearman', '.4f')} | {cell(h, 'train_loss', '.6f')} | {cell(h, 'sentences_per_s', '.1f')} |"
        for h in history
    )
    return f"""# HPD student distilled from {teacher_name}

Made with `python -m distill` (hpd-embed), following Homomorphic Projective Distillation (Zhao et al., 2022).

## Recipe
- Teacher: {teacher_name}, {D}-d vectors of {n_train + n_val} sentences{", L2-normalised" if cfg.normalize else " (not normalised)"}.
- PCA to {cfg.dim} dimensions, fitted on {min(cfg.pca_sample, n_train + n_val)} teacher vectors (centred covariance), applied {"with" if cfg.center else "without"} centring; {100 * ratio:.2f}% of the variance kept. Matrix and mean: `teacher_projection.safetensors`.
- Student: {cfg.student} + mean pooling + Dense({hidden}->{cfg.dim}, tanh); the Dense layer starts from PyTorch's nn.Linear default (Kaiming-uniform, bound 1/sqrt(hidden)), as sentence-transformers' Dense does.
- Loss: MSE to the projected teacher vectors. AdamW lr {cfg.lr}, weight decay {cfg.weight_decay}, batch {cfg.batch}, warmup {cfg.warmup} steps then linear decay, {cfg.epochs} epochs, seed {cfg.seed}, device {device}{" (mixed precision)" if device.startswith("cuda") else ""}.
- Data: {n_train} training sentences, {n_val} validation sentences. Wall time {seconds:.1f} s.

## Validation
Best validation MSE {best:.6f} (epoch 0 is the untrained student); the best epoch's weights are saved.

| epoch | validation MSE | STS Spearman | last batch loss | sentences/s |
| --- | --- | --- | --- | --- |
{rows}

## Use
`npx hpd-embed convert <this folder> --out <bundle>` compiles it; the bundle's hpd.json records the projection, and
`projectTeacher(vectors, projection)` from `hpd-embed/search` maps teacher vectors into this student's space.
"""


def _write_student(model, out, student_src, extra, comps, mean, cfg, teacher_name, teacher_dim):
    """Writes to a temporary sibling folder, then renames it into place, so a failure leaves no half-written student."""
    tmp = f"{os.path.normpath(out)}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    save_student(model, tmp, student_src, extra)
    safetensors_io.save(
        {"components": torch.from_numpy(comps), "mean": torch.from_numpy(mean)},
        os.path.join(tmp, "teacher_projection.safetensors"),
        {
            "center": str(cfg.center).lower(),
            "teacher": teacher_name,
            "teacher_dim": str(teacher_dim),
            "normalized": str(cfg.normalize).lower(),
        },
    )
    # Checked again: the folder may have changed since the start (a resumed run rewrites its own --initial-out).
    initial = out == cfg.initial_out
    check_output(out, "--initial-out" if initial else "--out", cfg.overwrite or (initial and cfg.resume))
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)


def cmd_train(argv):
    cfg = TrainConfig.from_args(train_parser().parse_args(argv))
    t0 = time.time()
    # Everything that can be wrong is checked before the teacher runs (a teacher pass can take hours).
    cfg.check()
    device = pick_device(cfg.device)
    check_output(cfg.out, "--out", cfg.overwrite)
    if cfg.initial_out:
        # A resumed run rewrites the same untrained student its first part wrote (still only a folder distill wrote).
        check_output(cfg.initial_out, "--initial-out", cfg.overwrite or cfg.resume)
        if os.path.realpath(cfg.initial_out) == os.path.realpath(cfg.out):
            raise ValueError("--initial-out and --out name the same folder")
    if cfg.eval_sts:
        read_sts(cfg.eval_sts)
    if cfg.resume and not os.path.isfile(os.path.join(cfg.checkpoint_folder, "checkpoint.pt")):
        raise ValueError(f"--resume: no checkpoint at {os.path.join(cfg.checkpoint_folder, 'checkpoint.pt')}")
    sentences, rows, repeats, n_lines = load_corpus(cfg.sentences, cfg.weights, cfg.dedup, cfg.max_chars, log)
    val_sentences = read_sentences(cfg.val_sentences) if cfg.val_sentences else []
    if not sentences:
        raise ValueError(f"{', '.join(cfg.sentences)}: no sentences")
    if cfg.teacher_vectors and val_sentences:
        raise ValueError(
            "--val-sentences needs --teacher (user-supplied vectors cover --sentences only); use --val-fraction"
        )
    given = load_vectors(cfg.teacher_vectors, n_lines, cfg.teacher_dim)[rows] if cfg.teacher_vectors else None
    if given is not None and not 0 < cfg.dim <= given.shape[1]:
        raise ValueError(f"--dim {cfg.dim} must be between 1 and the teacher's dimension {given.shape[1]}")

    bert = load_bert(cfg.student)
    max_tokens = cfg.max_tokens if cfg.max_tokens is not None else min(student_max_tokens(cfg.student), bert.max_length)
    if max_tokens > bert.max_length:
        raise ValueError(f"--max-tokens {max_tokens} exceeds the student's {bert.max_length} positions")
    tok = tokenizer_for(cfg.student, max_tokens, student=True)
    if cfg.dropout is not None:
        for m in bert.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = cfg.dropout
    teacher = None if given is not None else load_teacher(cfg.teacher, cfg.pooling)
    if given is not None and cfg.pooling:
        raise ValueError("--pooling applies to --teacher, not to --teacher-vectors")
    if teacher is not None and not 0 < cfg.dim <= teacher[0].dim:
        raise ValueError(f"--dim {cfg.dim} must be between 1 and the teacher's dimension {teacher[0].dim}")

    torch.manual_seed(cfg.seed)
    if given is not None:
        all_vecs, teacher_name = given, os.path.basename(cfg.teacher_vectors)
        log(f"teacher: {given.shape[0]} user-supplied vectors of dimension {given.shape[1]} from {cfg.teacher_vectors}")
        if cfg.normalize:
            warn_not_unit(given, cfg.teacher_vectors, log)
    else:
        all_vecs, teacher_name = cached_teacher_vectors(cfg, teacher, sentences + val_sentences, device, log)
    if cfg.normalize:
        all_vecs = unit_rows(all_vecs)
    comps, mean, ratio = fit_pca(all_vecs[: len(sentences)], cfg.dim, cfg.pca_sample, cfg.seed)
    log(
        f"PCA: {all_vecs.shape[1]} -> {cfg.dim} dimensions, {100 * ratio:.2f}% of the variance, centring {'on' if cfg.center else 'off'}"
    )
    targets = project(all_vecs, comps, mean, cfg.center).astype(np.float32)
    n = len(sentences)
    if cfg.val_sentences:
        tr_idx, val = np.arange(n), (val_sentences, targets[n:])
    else:
        order = np.random.default_rng(cfg.seed).permutation(n)
        n_val = max(1, int(round(n * cfg.val_fraction)))
        tr_idx, val = order[n_val:], ([sentences[i] for i in order[:n_val]], targets[order[:n_val]])
    tr_idx = expand(tr_idx, repeats, cfg.seed)
    tr_s, tr_y = [sentences[i] for i in tr_idx], targets[tr_idx]

    torch.manual_seed(cfg.seed)
    # nn.Linear's default init, as sentence-transformers' Dense
    dense = torch.nn.Linear(bert.config["hidden_size"], cfg.dim)
    model = SentenceModel(bert, "mean", [(dense, TANH)], False, max_tokens)
    if cfg.initial_out:
        _write_student(model, cfg.initial_out, cfg.student, {}, comps, mean, cfg, teacher_name, all_vecs.shape[1])
    log(
        f"student: {cfg.student} ({bert.config['num_hidden_layers']} layers, hidden {bert.config['hidden_size']}) + mean pooling + Dense({bert.config['hidden_size']}->{cfg.dim}, tanh); {len(tr_s)} train / {len(val[0])} validation sentences on {device}"
    )
    checkpoints = None
    if cfg.checkpoint_every:
        data = hashlib.sha256("\n".join(tr_s + val[0]).encode("utf-8") + tr_y.tobytes() + val[1].tobytes()).hexdigest()
        checkpoints = Checkpoints(cfg.checkpoint_folder, {**cfg.fingerprint(), "data": data})
    evaluate = sts_evaluator(cfg.eval_sts, tok, cfg.batch, device) if cfg.eval_sts else None
    history, best = train(model, tok, (tr_s, tr_y), val, cfg, device, log, checkpoints, evaluate)
    if history is None:
        return
    model.to("cpu")

    seconds = time.time() - t0
    metrics = {
        "teacher": teacher_name,
        "teacher_dim": int(all_vecs.shape[1]),
        "dim": cfg.dim,
        "center": cfg.center,
        "explained_variance": ratio,
        "history": history,
        "best_val_mse": best,
        "train_sentences": len(tr_s),
        "val_sentences": len(val[0]),
        "seconds": seconds,
        "device": device,
        "recipe": {
            k: getattr(cfg, k)
            for k in ("epochs", "batch", "lr", "warmup", "weight_decay", "pca_sample", "seed", "normalize", "pooling")
        },
    }
    _write_student(
        model,
        cfg.out,
        cfg.student,
        {
            "README.md": card(
                cfg,
                teacher_name,
                all_vecs.shape[1],
                bert.config["hidden_size"],
                ratio,
                history,
                best,
                len(tr_s),
                len(val[0]),
                seconds,
                device,
            ),
            "distill_metrics.json": json.dumps(metrics, indent=2) + "\n",
        },
        comps,
        mean,
        cfg,
        teacher_name,
        all_vecs.shape[1],
    )
    if checkpoints is not None and os.path.isfile(checkpoints.path):
        os.remove(checkpoints.path)
        if not os.listdir(cfg.checkpoint_folder):
            os.rmdir(cfg.checkpoint_folder)
    log(
        f"student -> {cfg.out} (best validation MSE {best:.6f}, from {history[0]['val_mse']:.6f} untrained) in {seconds:.1f} s"
    )


def cmd_tokenize(argv):
    p = argparse.ArgumentParser(
        prog="python -m distill tokenize",
        description="Token ids (with the special tokens) of each line, one JSON array a line.",
    )
    p.add_argument("--tokenizer", required=True, help="tokenizer.json (WordPiece or byte-level BPE), or a model folder")
    p.add_argument("--sentences", required=True)
    p.add_argument("--max-tokens", type=int, default=10**9)
    a = p.parse_args(argv)
    from .tokenizers import load_tokenizer, tokenizer_from_json

    tok = (
        load_tokenizer(a.tokenizer, a.max_tokens)
        if os.path.isdir(a.tokenizer)
        else tokenizer_from_json(a.tokenizer, a.max_tokens)
    )
    sys.stdout.write("".join(json.dumps(tok.encode(s)) + "\n" for s in read_sentences(a.sentences)))


def main(argv):
    if argv and argv[0] == "embed":
        return cmd_embed(argv[1:])
    if argv and argv[0] == "tokenize":
        return cmd_tokenize(argv[1:])
    if argv and argv[0] == "project":
        from .project import cmd_project

        return cmd_project(argv[1:], log)
    return cmd_train(argv[1:] if argv and argv[0] == "train" else argv)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, OSError, KeyError) as e:  # bad input: one clear line, no traceback
        sys.stderr.write(f"python -m distill: error: {e}\n")
        sys.exit(2)
