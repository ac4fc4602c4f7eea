"""PCA as in the HPD release: components fitted on a sample (centred covariance, like sklearn's PCA), then applied
to every teacher vector without subtracting the mean unless `center` is set."""

import numpy as np


def fit_pca(x, d, sample=40000, seed=0):
    """x [n, D] -> (components [d, D] float32, mean [D] float32, explained-variance ratio of the d components)."""
    n, D = x.shape
    if not 0 < d <= D:
        raise ValueError(f"--dim {d} must be between 1 and the teacher's dimension {D}")
    rows = x if n <= sample else x[np.random.default_rng(seed).choice(n, sample, replace=False)]
    rows = rows.astype(np.float64)
    mean = rows.mean(0)
    cov = np.cov(rows - mean, rowvar=False, bias=False) if len(rows) > 1 else np.zeros((D, D))
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:d]
    comps = vecs[:, order].T
    # A deterministic sign per component (largest-magnitude entry positive), as sklearn's svd_flip does.
    signs = np.sign(comps[np.arange(d), np.abs(comps).argmax(1)])
    comps *= np.where(signs == 0, 1, signs)[:, None]
    ratio = float(vals[order].sum() / max(vals.sum(), 1e-30))
    return comps.astype(np.float32), mean.astype(np.float32), ratio


def project(x, components, mean, center=False):
    return ((x - mean) if center else x) @ components.T
