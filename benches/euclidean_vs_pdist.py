#!/usr/bin/env python3
"""Side-by-side timing of the Euclidean RDM (issue 22): `neuropop rsa rdm --metric euclidean`
against scipy's `pdist(x, 'euclidean')` on the same 2000 x 1000 .npy input, the two sides
alternated within each repetition.

    /work/venv/bin/python benches/euclidean_vs_pdist.py --neuropop target/release/neuropop \
        [--data DIR] [--repeat 5] [--old OTHER_NEUROPOP]

Inputs (written to DIR if absent, numpy default_rng(22)): X.npy, uniform [0, 1) values, and
C.npy, Poisson(3) spike counts, both 2000 x 1000 float64.

Each side is timed two ways:
* process: the whole command, as a user runs it (Python: `python -c` that imports numpy and
  scipy, loads X.npy and calls pdist; neuropop: the CLI, which also writes the 2000 x 2000
  square matrix to R.npy);
* compute: pdist alone (timed inside Python) against the CLI's process time (which includes
  start-up, reading and writing) -- the ratio neuropop must keep >= 5x.
Before any ratio is printed, neuropop's output is checked against pdist (squareform) bit for
bit. `--old` adds a second neuropop binary (e.g. the one before a change) to the rotation.
Each timed call starts after a 1 s pause, so neither side runs while the other's idle threads
still spin.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from scipy.spatial.distance import pdist, squareform


def ensure_inputs(d):
    os.makedirs(d, exist_ok=True)
    paths = {"uniform": os.path.join(d, "X.npy"), "counts": os.path.join(d, "C.npy")}
    if not all(os.path.exists(p) for p in paths.values()):
        rng = np.random.default_rng(22)
        np.save(paths["uniform"], rng.random((2000, 1000)))
        np.save(paths["counts"], rng.poisson(3.0, (2000, 1000)).astype(np.float64))
    return paths


PY = (
    "import sys, time, numpy as np; from scipy.spatial.distance import pdist; "
    "x = np.load(sys.argv[1]); t = time.perf_counter(); pdist(x, 'euclidean'); "
    "print(time.perf_counter() - t)"
)


def run_python(path):
    time.sleep(1.0)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PY, path], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, float(out.stdout.strip())


def run_neuropop(binary, path, out):
    time.sleep(1.0)
    t0 = time.perf_counter()
    subprocess.run([binary, "rsa", "rdm", "--x", path, "--metric", "euclidean", "--out", out],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neuropop", required=True)
    ap.add_argument("--old")
    ap.add_argument("--data", default="/tmp/neuropop-euclid-bench")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    paths = ensure_inputs(a.data)
    out = os.path.join(a.data, "R.npy")
    binaries = [("neuropop", a.neuropop)] + ([("old", a.old)] if a.old else [])
    for name, path in paths.items():
        x = np.load(path)
        want = squareform(pdist(x, "euclidean"))
        for label, binary in binaries:
            run_neuropop(binary, path, out)
            got = np.load(out)
            same = np.array_equal(got.view(np.uint64), want.view(np.uint64))
            print(f"{name}: {label} output {'==' if same else '!='} pdist bit for bit"
                  + ("" if same else f" (max |diff| {np.abs(got - want).max():.3e})"))
        rows = {label: [] for label, _ in binaries}
        py_proc, py_comp = [], []
        for _ in range(a.repeat):
            p, c = run_python(path)
            py_proc.append(p)
            py_comp.append(c)
            for label, binary in binaries:
                rows[label].append(run_neuropop(binary, path, out))
        print(f"{name}: python process {statistics.median(py_proc):.3f} s "
              f"(pdist alone {statistics.median(py_comp):.3f} s; "
              f"runs {', '.join(f'{v:.3f}' for v in py_comp)})")
        for label, ts in rows.items():
            med = statistics.median(ts)
            print(f"{name}: {label} process {med:.3f} s (runs {', '.join(f'{v:.3f}' for v in ts)}); "
                  f"pdist alone / neuropop process = {statistics.median(py_comp) / med:.1f}x, "
                  f"process / process = {statistics.median(py_proc) / med:.1f}x")


if __name__ == "__main__":
    main()
