#!/usr/bin/env python3
"""Python baselines for benches/rsa.rs (same shapes): scipy pdist, a numpy loop of random
split-half Shesha, shesha-geometry feature_split. Prints seconds per call (best of `--repeat`).

    /work/venv/bin/python benches/rsa_baseline.py [--repeat 3] [--splits 1000]
"""

import argparse
import time

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def split_half_random(X, conds, n_splits, seed=0):
    return float(np.mean(split_half_scores(X, conds, n_splits, seed)))


def split_half_scores(X, conds, n_splits, seed=0):
    """The valid splits' Spearman scores (the estimate is their mean)."""
    rng = np.random.default_rng(seed)
    labels = [c for c in np.unique(conds) if np.sum(conds == c) >= 2]
    trials = {c: np.flatnonzero(conds == c) for c in labels}
    scores = []
    for _ in range(n_splits):
        A, B = [], []
        for c in labels:
            idx = rng.permutation(trials[c])
            h = len(idx) // 2
            A.append(X[idx[:h]].mean(axis=0))
            B.append(X[idx[h:]].mean(axis=0))
        ra, rb = pdist(np.array(A), "cosine"), pdist(np.array(B), "cosine")
        if np.std(ra) < 1e-10 or np.std(rb) < 1e-10:
            continue
        scores.append(float(spearmanr(ra, rb).statistic))
    return scores


def main():
    import shesha  # only here: importers of split_half_scores need not load it

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--splits", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    x = rng.random((2000, 1000))
    print(f"pdist cosine 2000x1000:      {best(lambda: pdist(x, 'cosine'), a.repeat):.3f} s")
    print(f"pdist correlation 2000x1000: {best(lambda: pdist(x, 'correlation'), a.repeat):.3f} s")
    print(f"x @ x.T 2000x1000 (numpy BLAS): {best(lambda: x @ x.T, a.repeat):.3f} s")
    conds = rng.integers(0, 40, 2000)
    X = ((conds[:, None] * 7 + np.arange(500)) % 11) + 3 * rng.random((2000, 500))
    t = best(lambda: split_half_random(X, conds, a.splits), 1)
    print(f"split-half {a.splits} random splits 2000x500x40 (numpy loop): {t:.3f} s")
    y = rng.random((1600, 768))
    t = best(lambda: shesha.feature_split(y, n_splits=30, seed=320), 1)
    print(f"shesha.feature_split 1600x768, 30 splits: {t:.3f} s")


if __name__ == "__main__":
    main()
