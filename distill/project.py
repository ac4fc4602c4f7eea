"""`python -m distill project`: teacher vectors into a distilled student's space, as `projectTeacher` does in
TypeScript, so a server can index a teacher-embedded corpus for student-embedded queries."""

import argparse
import json
import os

import numpy as np

from . import safetensors_io
from .paths import inside
from .teacher import load_vectors


def read_projection(folder):
    """(components [d, D], mean [D], center, normalized) from a compiled bundle (hpd.json) or a distill output folder."""
    manifest = os.path.join(folder, "hpd.json")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            info = json.load(f).get("teacherProjection")
        if not info:
            raise ValueError(f"{manifest}: no teacherProjection (the bundle was not compiled from a distilled student)")
        D, d = int(info["teacherDim"]), int(info["dim"])
        raw = np.fromfile(inside(folder, info["file"]["path"], manifest), dtype="<f4")
        if raw.size != d * D + D:
            raise ValueError(f"{manifest}: {info['file']['path']} holds {raw.size} floats, not {d} x {D} + {D}")
        return (
            raw[: d * D].reshape(d, D),
            raw[d * D :],
            _flag(info, "center", manifest),
            _flag(info, "normalizeInput", manifest),
        )
    path = os.path.join(folder, "teacher_projection.safetensors")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder}: neither hpd.json nor teacher_projection.safetensors")
    t = safetensors_io.load(path)
    meta = safetensors_io.metadata(path)
    return (
        t["components"].numpy(),
        t["mean"].numpy(),
        meta.get("center") == "true",
        meta.get("normalized", "false") == "true",
    )


def _flag(info, key, manifest):
    """hpd.json teacherProjection's boolean `key`, false when absent (bundles compiled before normalizeInput existed)."""
    v = info.get(key, False)
    if not isinstance(v, bool):
        raise ValueError(f"{manifest}: teacherProjection.{key} must be true or false, got {v!r}")
    return v


def unit_rows_f64(x):
    """Rows scaled to unit length in float64, as projectTeacher does: scaled by their largest magnitude first, so
    no finite row overflows; zero rows stay zero, as in training."""
    top = np.abs(x).max(axis=1, keepdims=True)
    top[top == 0] = 1
    x = x / top
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return x / norms


def project_vectors(x, components, mean, center, normalized):
    """Rows -> L2-normalised d-dim rows; inputs are made unit length first when the student was trained on unit vectors."""
    x = x.astype(np.float64)
    if normalized:
        x = unit_rows_f64(x)
    y = ((x - mean) if center else x) @ components.astype(np.float64).T
    norms = np.linalg.norm(y, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(f"teacher vector {int(np.argmax(norms[:, 0] == 0))} projects to zero; it cannot be normalised")
    return (y / norms).astype(np.float32)


def cmd_project(argv, log):
    p = argparse.ArgumentParser(prog="python -m distill project", description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", required=True, help="a compiled bundle (hpd.json) or the distill output folder")
    p.add_argument("--vectors", required=True, help="teacher vectors: .npy [n, D] or raw little-endian float32")
    p.add_argument("--out", required=True, help="raw little-endian float32 [n, d], unit rows")
    a = p.parse_args(argv)
    comps, mean, center, normalized = read_projection(a.bundle)
    D = comps.shape[1]
    if a.vectors.endswith(".npy"):
        x = np.load(a.vectors, allow_pickle=False)
        if x.ndim != 2 or x.shape[1] != D:
            raise ValueError(f"{a.vectors}: shape {x.shape}; the projection needs [n, {D}]")
        x = load_vectors(a.vectors, x.shape[0])
    else:
        size = os.path.getsize(a.vectors)
        if size % (4 * D):
            raise ValueError(f"{a.vectors}: {size} bytes is not a whole number of {D}-d float32 rows")
        x = load_vectors(a.vectors, size // (4 * D), D)
    y = project_vectors(x, comps, mean, center, normalized)
    y.astype("<f4").tofile(a.out)
    log(f"{len(y)} x {D} teacher vectors -> {len(y)} x {comps.shape[0]} (unit rows) -> {a.out}")
