#!/usr/bin/env python3
"""Side-by-side timing of the issue-5 RSA targets: neuropop's CLI against the Python tools on
the same .npy inputs, alternating the two sides within each repetition.

    /work/venv/bin/python benches/rsa_vs_python.py --neuropop target/release/neuropop \
        [--data DIR] [--repeat 3]

Inputs (written to DIR if absent, numpy seed 1, as benches/rsa_baseline.py):
X.npy 2000 x 500 with C.npy (40 conditions) for split-half with 1000 random splits,
Y.npy 1600 x 768 for feature_split (30 splits, seed 320).

Python side: a numpy/scipy loop of random split-half (benches/rsa_baseline.py) and
shesha-geometry's feature_split, timed around the call (input already loaded).
neuropop side: the CLI; reported both as process wall time (start-up and reading the .npy
included) and as `compute_s` from its JSON (the estimator call alone, like the Python timing).
Ratios are Python time over neuropop time within the same repetition. Each timed call
starts after a 1 s pause, so neither side runs while the other's idle threads still spin.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsa_baseline import split_half_random  # noqa: E402

import shesha  # noqa: E402


def ensure_inputs(d):
    os.makedirs(d, exist_ok=True)
    paths = {k: os.path.join(d, f"{k}.npy") for k in ("X", "C", "Y")}
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    rng = np.random.default_rng(1)
    rng.random((2000, 1000))  # the pdist input of rsa_baseline.py, drawn to keep the stream
    conds = rng.integers(0, 40, 2000)
    x = ((conds[:, None] * 7 + np.arange(500)) % 11) + 3 * rng.random((2000, 500))
    y = rng.random((1600, 768))
    np.save(paths["X"], x)
    np.save(paths["C"], conds.astype(np.int64))
    np.save(paths["Y"], y)
    return paths


def settle():
    # Let the other side's helper threads (numpy's OpenBLAS pool spins after a call) go idle
    # before timing this one.
    time.sleep(1.0)


def run_neuropop(args):
    settle()
    t0 = time.perf_counter()
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    d = json.loads(out)
    return wall, d["compute_s"], d["estimate"]


def timed(f):
    settle()
    t0 = time.perf_counter()
    v = f()
    return time.perf_counter() - t0, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neuropop", required=True)
    ap.add_argument("--data", default="/tmp/neuropop_rsa_bench")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    p = ensure_inputs(a.data)
    X, C, Y = np.load(p["X"]), np.load(p["C"]), np.load(p["Y"])
    sh_cmd = [a.neuropop, "shesha", "split-half", "--x", p["X"], "--conditions", p["C"],
              "--split", "random", "--n-splits", "1000", "--json"]
    fs_cmd = [a.neuropop, "shesha", "feature-split", "--x", p["Y"], "--n-splits", "30",
              "--seed", "320", "--json"]
    rows = {"split-half": [], "feature_split": []}
    for rep in range(a.repeat):
        py_sh, v_py = timed(lambda: split_half_random(X, C, 1000))
        np_sh = run_neuropop(sh_cmd)
        rows["split-half"].append((py_sh, *np_sh, v_py))
        np_fs = run_neuropop(fs_cmd)
        py_fs, v_fs = timed(lambda: shesha.feature_split(Y, n_splits=30, seed=320))
        rows["feature_split"].append((py_fs, *np_fs, v_fs))
        print(f"rep {rep + 1}: split-half python {py_sh:.3f} s, neuropop wall {np_sh[0]:.3f} s "
              f"compute {np_sh[1]:.3f} s; feature_split python {py_fs:.2f} s, neuropop wall "
              f"{np_fs[0]:.3f} s compute {np_fs[1]:.3f} s", flush=True)
    print()
    print("| task | rep | Python | neuropop wall | neuropop compute | ratio (compute) | ratio (wall) | estimates (Python / neuropop) |")
    print("|---|---|---|---|---|---|---|---|")
    for task, rs in rows.items():
        for k, (py, wall, comp, est, v_py) in enumerate(rs):
            print(f"| {task} | {k + 1} | {py:.3f} s | {wall:.3f} s | {comp:.3f} s | "
                  f"{py / comp:.1f}x | {py / wall:.1f}x | {v_py:.4f} / {est:.4f} |")
        med_c = statistics.median(py / comp for py, _, comp, _, _ in rs)
        med_w = statistics.median(py / wall for py, wall, _, _, _ in rs)
        print(f"| {task} | median | | | | **{med_c:.1f}x** | **{med_w:.1f}x** | |")


if __name__ == "__main__":
    main()
