#!/usr/bin/env python3
"""The Python side of each workload, run by benches/peers/run.py in a fresh interpreter so its
wall time and peak memory are those of one process, as for the neuropop side:

    python benches/peers/peer.py TASK ARGS...

Each task loads its input, times the peer's own call with time.perf_counter (`call_s`),
writes what parity needs, and prints one JSON object as its last line of output.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benches/


def pdist_task(metric, x_path, out_path):
    """scipy `pdist` of the rows, written as the square matrix (what `neuropop rsa rdm` writes)."""
    from scipy.spatial.distance import pdist, squareform

    x = np.load(x_path)
    t0 = time.perf_counter()
    d = pdist(x, metric)
    call = time.perf_counter() - t0
    np.save(out_path, squareform(d))
    return {"call_s": call}


def split_half_task(x_path, c_path, n_splits, seed):
    """The numpy/scipy loop of random split-half (benches/rsa_baseline.py)."""
    from rsa_baseline import split_half_scores

    x, c = np.load(x_path), np.load(c_path)
    t0 = time.perf_counter()
    scores = split_half_scores(x, c, int(n_splits), int(seed))
    call = time.perf_counter() - t0
    return {"call_s": call, "estimate": float(np.mean(scores)), "split_scores": scores}


def feature_split_task(y_path, n_splits, seed):
    """shesha-geometry's `feature_split` with its per-split scores."""
    import shesha

    y = np.load(y_path)
    t0 = time.perf_counter()
    r = shesha.feature_split(y, n_splits=int(n_splits), seed=int(seed), return_all_splits=True)
    call = time.perf_counter() - t0
    return {"call_s": call, "estimate": float(r["mean"]),
            "split_scores": [float(v) for v in r["split_scores"]]}


def nma_load_task(path):
    """`numpy.load(path, allow_pickle=True)['dat']`, one byte of every 4 KiB page of every array
    read (nothing stays unread), and the per-session summary `neuropop inspect` prints."""
    t0 = time.perf_counter()
    dat = np.load(path, allow_pickle=True)["dat"]
    touched = 0
    for d in dat:
        for v in d.values():
            if isinstance(v, np.ndarray) and v.nbytes:
                touched += int(v.reshape(-1).view(np.uint8)[::4096].sum())
    call = time.perf_counter() - t0
    sessions = []
    for d in dat:
        areas, counts = np.unique(np.asarray(d["brain_area"]).astype(str), return_counts=True)
        n_units, n_trials, n_bins = (int(v) for v in d["spks"].shape)
        sessions.append({"n_units": n_units, "n_trials": n_trials, "n_bins": n_bins,
                         "regions": {str(a): int(k) for a, k in zip(areas, counts)}})
    return {"call_s": call, "sessions": sessions, "checksum": touched}


def nwb_load_task(path):
    """What a pynwb user does to get every spike train, each unit's region and the trials table
    into memory (as benches/nwb_load_vs_pynwb.py)."""
    from pynwb import NWBHDF5IO

    t0 = time.perf_counter()
    with NWBHDF5IO(path, "r", load_namespaces=True) as io:
        nwb = io.read()
        units = nwb.units
        trains = [units["spike_times"][i] for i in range(len(units))]
        elec = units["electrodes"]
        regions = [elec[i]["location"].iloc[0] for i in range(len(units))]
        trials = nwb.trials.to_dataframe()
        call = time.perf_counter() - t0
        counts: dict[str, int] = {}
        for r in regions:
            counts[str(r)] = counts.get(str(r), 0) + 1
        out = {"call_s": call, "n_units": len(trains), "n_spikes": int(sum(len(t) for t in trains)),
               "n_trials": int(len(trials)), "regions": counts,
               "trial_columns": [str(c) for c in trials.columns]}
    return out


TASKS = {"pdist": pdist_task, "split_half": split_half_task, "feature_split": feature_split_task,
         "nma_load": nma_load_task, "nwb_load": nwb_load_task}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        raise SystemExit(f"usage: peer.py {{{','.join(TASKS)}}} ARGS...")
    print(json.dumps(TASKS[sys.argv[1]](*sys.argv[2:])))


if __name__ == "__main__":
    main()
