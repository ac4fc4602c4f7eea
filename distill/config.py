"""One typed record for a training run: the command line fills it once, and every step reads it (no 13-argument calls)."""

from dataclasses import dataclass, fields
from typing import Optional


@dataclass(frozen=True)
class TrainConfig:
    sentences: tuple  # one or more files, one sentence a line
    student: str
    out: str
    teacher: Optional[str] = None
    teacher_vectors: Optional[str] = None
    teacher_dim: Optional[int] = None
    pooling: Optional[str] = None
    normalize: bool = True
    dim: int = 128
    pca_sample: int = 40000
    center: bool = False
    epochs: int = 5
    batch: int = 256
    lr: float = 1e-4
    warmup: int = 1000
    weight_decay: float = 0.01
    val_sentences: Optional[str] = None
    val_fraction: float = 0.02
    teacher_batch: int = 64
    max_tokens: Optional[int] = None
    device: str = "auto"
    seed: int = 0
    overwrite: bool = False
    initial_out: Optional[str] = None
    weights: Optional[tuple] = None  # one per --sentences file: how often its sentences are seen per epoch
    dedup: bool = True
    max_chars: Optional[int] = None
    adam_eps: float = 1e-6
    max_grad_norm: float = 1.0
    dropout: Optional[float] = None  # the student's dropout; None: its config.json's (0.1 when absent)
    val_every: int = 0  # also validate every N steps (0: each epoch only)
    checkpoint_every: int = 0
    checkpoint_dir: Optional[str] = None
    resume: bool = False
    stop_after: int = 0  # stop after N steps, as a kill would (tests resumption)
    cache_dir: Optional[str] = None
    eval_sts: Optional[str] = None
    workers: int = 0  # DataLoader processes tokenising ahead of the training loop

    @classmethod
    def from_args(cls, ns):
        """From an argparse namespace whose destinations are this record's field names."""
        values = {f.name: getattr(ns, f.name) for f in fields(cls)}
        values["sentences"] = tuple(values["sentences"])
        values["weights"] = tuple(values["weights"]) if values["weights"] else None
        return cls(**values)

    def check(self):
        """Numbers a run cannot start with, as ValueError naming the flag."""
        for name in ("dim", "epochs", "batch", "pca_sample", "teacher_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.max_tokens is not None and self.max_tokens < 3:
            raise ValueError("--max-tokens must be at least 3 ([CLS], one token, [SEP])")
        if not 0 < self.val_fraction < 1:
            raise ValueError("--val-fraction must be between 0 and 1")
        if self.lr <= 0 or self.warmup < 0 or self.weight_decay < 0:
            raise ValueError("--lr must be positive, --warmup and --weight-decay not negative")
        if self.max_grad_norm <= 0 or self.adam_eps <= 0:
            raise ValueError("--max-grad-norm and --adam-eps must be positive")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError("--dropout must be in [0, 1)")
        if min(self.val_every, self.checkpoint_every, self.stop_after, self.workers) < 0 or (
            self.max_chars is not None and self.max_chars < 1
        ):
            raise ValueError(
                "--val-every, --checkpoint-every, --stop-after and --workers must not be negative, --max-chars at least 1"
            )
        if (self.resume or self.stop_after) and not self.checkpoint_every:
            raise ValueError("--resume and --stop-after need --checkpoint-every")

    @property
    def checkpoint_folder(self):
        return self.checkpoint_dir or f"{self.out.rstrip('/')}.checkpoint"

    def fingerprint(self):
        """What a checkpoint must share with the run resuming it (everything that shapes the training)."""
        keep = (
            "dim",
            "pca_sample",
            "center",
            "epochs",
            "batch",
            "lr",
            "warmup",
            "weight_decay",
            "val_fraction",
            "seed",
            "normalize",
            "pooling",
            "adam_eps",
            "max_grad_norm",
            "dropout",
            "val_every",
            "checkpoint_every",
            "weights",
            "dedup",
            "max_chars",
            "max_tokens",
        )
        return {k: getattr(self, k) for k in keep}
