"""STS evaluation during training (--eval-sts): Spearman between gold scores and the student's pair cosines."""

import numpy as np

from .st_model import encode


def read_sts(path):
    """STS-B (tab-separated, score in column 5, sentences in 6 and 7) or `s1<TAB>s2<TAB>score` -> (pairs, scores)."""
    pairs, scores = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) >= 7:
                score, a, b = cols[4], cols[5], cols[6]
            elif len(cols) == 3:
                a, b, score = cols
            elif not line.strip():
                continue
            else:
                raise ValueError(f"{path}:{n}: expected STS-B's 7+ tab-separated columns or sentence, sentence, score")
            try:
                scores.append(float(score))
            except ValueError:
                if n == 1:  # a header line
                    continue
                raise ValueError(f"{path}:{n}: score {score!r} is not a number") from None
            pairs.append((a, b))
    if len(pairs) < 2:
        raise ValueError(f"{path}: needs at least two scored pairs")
    return pairs, np.asarray(scores, dtype=np.float64)


def ranks(x):
    """Ranks from 1, ties given their average rank (as src/eval/correlation.ts)."""
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        r[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(np.asarray(a, dtype=np.float64)), ranks(np.asarray(b, dtype=np.float64))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def sts_evaluator(path, tok, batch, device):
    """A function model -> {"sts_spearman": …} over the file's pairs (each distinct sentence embedded once)."""
    pairs, gold = read_sts(path)
    texts = sorted({s for p in pairs for s in p})
    slot = {t: i for i, t in enumerate(texts)}
    a, b = np.array([slot[p[0]] for p in pairs]), np.array([slot[p[1]] for p in pairs])

    def evaluate(model):
        v = encode(model, tok, texts, batch, device).astype(np.float64)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return {"sts_spearman": spearman(gold, (v[a] * v[b]).sum(1))}

    return evaluate
