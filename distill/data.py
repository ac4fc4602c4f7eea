"""Training sentences from one or more files: a length filter, exact-duplicate removal, and per-file weights that
repeat a file's sentences in training (the teacher embeds each distinct sentence once)."""

import numpy as np

from .teacher import read_sentences


def load_corpus(files, weights=None, dedup=True, max_chars=None, log=print):
    """-> (sentences, rows, repeats, lines): the kept sentences, their row numbers in the files read one after another
    (to select rows of --teacher-vectors), each sentence's weight (how often it is seen per epoch), the lines read."""
    weights = list(weights) if weights else [1.0] * len(files)
    if len(weights) != len(files):
        raise ValueError(f"--weights has {len(weights)} values for {len(files)} --sentences files")
    if any(not w > 0 for w in weights):
        raise ValueError("--weights must be positive")
    sentences, rows, repeats, where, row = [], [], [], {}, 0
    too_long = dupes = 0
    for path, w in zip(files, weights):
        for s in read_sentences(path):
            if max_chars is not None and len(s) > max_chars:
                too_long += 1
            elif dedup and s in where:
                dupes += 1
                repeats[where[s]] = max(repeats[where[s]], w)
            else:
                where.setdefault(s, len(sentences))
                sentences.append(s)
                rows.append(row)
                repeats.append(w)
            row += 1
    if too_long or dupes:
        log(
            f"data: {row} lines read, {too_long} longer than --max-chars {max_chars} dropped, {dupes} duplicates dropped; {len(sentences)} sentences kept"
        )
    return sentences, np.asarray(rows, dtype=np.int64), np.asarray(repeats, dtype=np.float64), row


def expand(indices, repeats, seed):
    """Training rows with weights applied: weight 2 lists a sentence twice, 0.5 keeps it with probability 0.5."""
    rng = np.random.default_rng(seed + 1)
    w = repeats[indices]
    counts = np.floor(w).astype(np.int64) + (rng.random(len(w)) < w - np.floor(w))
    return np.repeat(indices, counts)
