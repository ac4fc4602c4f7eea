"""One typed record for a training run: the command line fills it once, and every step reads it (no 13-argument calls)."""

from dataclasses import dataclass, fields
from typing import Optional


@dataclass(frozen=True)
class TrainConfig:
    sentences: str
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

    @classmethod
    def from_args(cls, ns):
        """From an argparse namespace whose destinations are this record's field names."""
        return cls(**{f.name: getattr(ns, f.name) for f in fields(cls)})

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
