#!/usr/bin/env python3
"""Reading a Neuromatch-Academy (NMA) Steinmetz npz: neuropop vs ``numpy.load``.

Also the generator of realistic-size simulated NMA files used by
``benches/steinmetz_vs_script.py`` (``make_session`` / ``write_nma``).

Subcommands:

  generate --out FILE.npz [--target-mb 300] [--seed 7] [--compressed]
      Simulated sessions with the NMA keys, dtypes and shapes (see ``make_session``) until
      the decoded arrays reach --target-mb; written with ``np.savez`` (``--compressed``:
      ``np.savez_compressed``) as the single member ``dat.npy`` (object array of dicts).

  run --npz FILE.npz [--repeat 3] [--neuropop-cmd "BIN inspect {path} --json"] [--json OUT]
      Alternates, --repeat times: a fresh Python process doing
      ``np.load(path, allow_pickle=True)['dat']`` and touching one byte of every 4 KiB page of
      every array (so nothing can stay lazily unread), and a fresh process running the
      neuropop command ({path} is substituted).  Wall time = ``time.perf_counter`` around the
      subprocess (start-up included); peak RSS = ``ru_maxrss`` of that child alone
      (``os.wait4``, the same number ``getrusage(RUSAGE_CHILDREN)`` gives in a fresh parent).
      Prints per-run numbers, medians, the decoded-array size (sum of ``nbytes`` of every
      array in every session dict) and peak RSS / decoded size.

Usage:
  /work/venv/bin/python benches/nma_load_vs_numpy.py generate --out /tmp/nma_300mb.npz
  /work/venv/bin/python benches/nma_load_vs_numpy.py run --npz /tmp/nma_300mb.npz \\
      --neuropop-cmd "/work/main/target/release/neuropop inspect {path} --json"
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_BINS = 250
BIN_SIZE = 0.01
STIM_BIN = 50
CONTRASTS = np.array([0.0, 0.25, 0.5, 1.0])

# Allen acronyms recorded in the Steinmetz sessions (a subset), with a stimulus-tuning gain
# so that the condition geometry is more stable in visual areas than elsewhere.
AREAS = {
    "VISp": 1.5, "VISl": 1.3, "VISam": 1.0, "VISpm": 1.0, "VISrl": 0.9, "VISa": 0.8,
    "LGd": 1.2, "LP": 0.9, "LD": 0.6, "PO": 0.6, "VPM": 0.5, "MD": 0.5, "TH": 0.4,
    "MOs": 0.7, "MOp": 0.5, "ACA": 0.5, "PL": 0.4, "ILA": 0.3, "ORB": 0.4, "RSP": 0.5,
    "SSp": 0.4, "CA1": 0.4, "CA3": 0.3, "DG": 0.3, "SUB": 0.3, "POST": 0.3,
    "CP": 0.35, "ACB": 0.3, "LS": 0.25, "GPe": 0.3, "SNr": 0.3, "SCm": 0.6, "SCs": 0.8,
    "MRN": 0.3, "APN": 0.3, "ZI": 0.3, "MB": 0.3, "BLA": 0.2, "OLF": 0.1, "EPd": 0.1,
}


def _kernels():
    t = np.arange(N_BINS) - STIM_BIN
    tt = np.clip(t - 4, 0, None).astype(float)
    transient = (tt / 5.0) * np.exp(1 - tt / 5.0)
    sustained = 1 - np.exp(-tt / 15.0)
    return np.stack([transient, sustained])  # 2 x 250


def make_session(rng, n_neurons, n_trials, n_passive, n_areas, mouse, date):
    """One session dict with the NMA keys/dtypes: spks uint8 neurons x trials x 250,
    wheel int8 1 x T x 250, pupil float32 3 x T x 250, face float32, licks uint8, lfp float32
    per LFP area, trial vectors float64 (T,) or (T, 1), brain_area '<U', ccf, passive
    counterparts, numpy scalar bin_size / stim_onset, numpy.str_ names."""
    names = list(AREAS)
    chosen = list(rng.choice(names, size=n_areas, replace=False)) + ["root"]
    # uneven area sizes: a few large areas, some below the 10-neuron threshold
    share = rng.dirichlet(np.full(len(chosen), 0.8))
    counts = np.maximum(1, np.round(share * n_neurons).astype(int))
    counts[-1] += n_neurons - counts.sum()
    if counts[-1] < 1:  # keep the total exact without negative root counts
        counts[np.argmax(counts)] += counts[-1] - 1
        counts[-1] = 1
    labels = np.concatenate([[a] * c for a, c in zip(chosen, counts)])
    gains = np.array([AREAS.get(a, 0.0) for a in labels])

    # trial conditions: NoGo and unilateral trials most frequent
    grid = [(l, r) for l in CONTRASTS for r in CONTRASTS]
    w = np.array([3.0 if (l == 0 and r == 0) else 1.5 if (l == 0 or r == 0) else 1.0
                  for l, r in grid])
    n_all = n_trials + n_passive
    pick = rng.choice(len(grid), size=n_all, p=w / w.sum())
    cl = np.array([grid[k][0] for k in pick])
    cr = np.array([grid[k][1] for k in pick])

    kern = _kernels()
    base = rng.lognormal(np.log(4.0), 0.8, size=n_neurons).clip(0.3, 60.0)  # Hz
    wl = rng.normal(0, 1, n_neurons) * gains
    wr = rng.normal(0, 1, n_neurons) * gains
    mix = rng.dirichlet([1.0, 1.0], size=n_neurons)
    drift = rng.normal(0, 0.2, n_neurons)
    pos = np.linspace(-0.5, 0.5, n_all)
    g = lambda c: np.power(c, 0.6)
    spks_all = np.empty((n_neurons, n_all, N_BINS), dtype=np.uint8)
    for s in range(0, n_neurons, 64):  # chunks keep the float temporaries small
        e = min(n_neurons, s + 64)
        drive = np.exp(np.clip(np.outer(wl[s:e], g(cl)) + np.outer(wr[s:e], g(cr)), -2, 2))
        shape = mix[s:e] @ kern  # k x 250
        lam = (base[s:e, None, None] * np.exp(np.outer(drift[s:e], pos))[:, :, None]
               * (1.0 + (drive[:, :, None] - 0.5) * shape[:, None, :])) * BIN_SIZE
        spks_all[s:e] = np.minimum(rng.poisson(np.clip(lam, 0.0, 2.0)), 255)
    spks, spks_p = spks_all[:, :n_trials], spks_all[:, n_trials:]

    correct_choice = np.sign(cl - cr)
    hit = rng.random(n_all) < np.linspace(0.6, 0.8, n_all)
    response = np.where(hit, correct_choice, rng.choice([-1.0, 0.0, 1.0], size=n_all))
    feedback = np.where(response == correct_choice, 1.0, -1.0)

    def traces(n):
        wheel = np.clip(np.cumsum(rng.integers(-1, 2, (1, n, N_BINS)), axis=2), -127, 127)
        pupil = rng.normal(0, 1, (3, n, N_BINS)).astype(np.float32)
        face = rng.normal(1, 0.1, (1, n, N_BINS)).astype(np.float32)
        licks = (rng.random((1, n, N_BINS)) < 0.02).astype(np.uint8)
        return wheel.astype(np.int8), pupil, face, licks

    lfp_areas = [a for a in chosen if a != "root"][:7]
    wheel, pupil, face, licks = traces(n_trials)
    wheel_p, pupil_p, face_p, licks_p = traces(n_passive)
    gocue = rng.uniform(0.4, 1.0, (n_trials, 1))
    rt = gocue + rng.uniform(0.1, 1.2, (n_trials, 1))
    t = slice(0, n_trials)
    return {
        "spks": np.ascontiguousarray(spks),
        "wheel": wheel,
        "pupil": pupil,
        "response": response[t].astype(np.float64),
        "response_time": rt,
        "bin_size": np.float64(BIN_SIZE),
        "stim_onset": np.float64(0.5),
        "contrast_right": cr[t].astype(np.float64),
        "contrast_left": cl[t].astype(np.float64),
        "brain_area": np.array([str(a) for a in labels]),
        "feedback_time": rt + rng.uniform(0.01, 0.05, (n_trials, 1)),
        "feedback_type": feedback[t].astype(np.float64),
        "gocue": gocue,
        "mouse_name": np.str_(mouse),
        "date_exp": np.str_(date),
        "trough_to_peak": rng.integers(6, 30, n_neurons).astype(np.float64),
        "active_trials": np.concatenate([np.ones(n_trials, bool), np.zeros(n_passive, bool)]),
        "contrast_left_passive": cl[n_trials:].astype(np.float64),
        "contrast_right_passive": cr[n_trials:].astype(np.float64),
        "spks_passive": np.ascontiguousarray(spks_p),
        "pupil_passive": pupil_p,
        "wheel_passive": wheel_p,
        "prev_reward": rng.uniform(-4, -1.5, (n_trials, 1)),
        "ccf": rng.uniform([5000, 1000, 1000], [10000, 5000, 4000], (n_neurons, 3)),
        "ccf_axes": np.array(["ap", "dv", "lr"]),
        "reaction_time": rng.uniform(0.15, 0.6, (n_trials, 2)),
        "face": face,
        "face_passive": face_p,
        "licks": licks,
        "licks_passive": licks_p,
        "lfp": rng.normal(0, 1, (len(lfp_areas), n_trials, N_BINS)).astype(np.float32),
        "lfp_passive": rng.normal(0, 1, (len(lfp_areas), n_passive, N_BINS)).astype(np.float32),
        "brain_area_lfp": np.array(lfp_areas),
    }


def realistic_session(rng, index):
    """Session sizes in the range of the real NMA files: 450-1100 neurons (about 30,000 over
    39 sessions), 214-447 active trials, 0-120 passive trials, 6-13 areas plus root."""
    return make_session(rng, int(rng.integers(450, 1101)), int(rng.integers(214, 448)),
                        int(rng.integers(0, 121)), int(rng.integers(6, 14)),
                        f"Simmouse{index // 4}", f"2017-01-{1 + index % 28:02d}")


def decoded_nbytes(sessions):
    return int(sum(v.nbytes for d in sessions for v in d.values() if isinstance(v, np.ndarray)))


def write_nma(path, sessions, compressed=False):
    dat = np.empty(len(sessions), dtype=object)
    for i, d in enumerate(sessions):
        dat[i] = d
    (np.savez_compressed if compressed else np.savez)(path, dat=dat)


def cmd_generate(args):
    rng = np.random.default_rng(args.seed)
    sessions, total = [], 0
    while total < args.target_mb * 1e6:
        sessions.append(realistic_session(rng, len(sessions)))
        total = decoded_nbytes(sessions)
    write_nma(args.out, sessions, args.compressed)
    print(json.dumps({"path": str(args.out), "sessions": len(sessions),
                      "decoded_bytes": total, "file_bytes": os.path.getsize(args.out)}))


def _child_numpy(path):
    """The Python side, run in a fresh interpreter: load, touch every page, report sizes."""
    t0 = time.perf_counter()
    dat = np.load(path, allow_pickle=True)["dat"]
    t_load = time.perf_counter() - t0
    touched = 0
    for d in dat:
        for v in d.values():
            if isinstance(v, np.ndarray) and v.nbytes:
                touched += int(v.reshape(-1).view(np.uint8)[::4096].sum())
    t_all = time.perf_counter() - t0
    print(json.dumps({"in_process_load_s": t_load, "in_process_load_touch_s": t_all,
                      "sessions": len(dat), "decoded_bytes": decoded_nbytes(dat),
                      "checksum": touched}))


def measure(argv):
    """Wall time and peak RSS (bytes) of one fresh child process, and its stdout."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise SystemExit(f"{argv} failed ({p.returncode}):\n{err.read().decode()[-2000:]}")
        return wall, ru.ru_maxrss * 1024, out.read().decode()


def cmd_run(args):
    path = str(Path(args.npz).resolve())
    py = [sys.executable, __file__, "_child_numpy", path]
    baseline = [sys.executable, "-c", "import numpy"]
    np_cmd = shlex.split(args.neuropop_cmd.replace("{path}", path)) if args.neuropop_cmd else None
    rows = []
    _, rss_import, _ = measure(baseline)
    decoded = None
    for r in range(args.repeat):
        wall, rss, out = measure(py)
        info = json.loads(out)
        decoded = info["decoded_bytes"]
        rows.append({"rep": r, "tool": "numpy.load", "wall_s": wall, "peak_rss": rss,
                     "in_process_load_s": info["in_process_load_s"],
                     "in_process_load_touch_s": info["in_process_load_touch_s"]})
        print(json.dumps(rows[-1]), flush=True)
        if np_cmd:
            wall, rss, _ = measure(np_cmd)
            rows.append({"rep": r, "tool": "neuropop", "wall_s": wall, "peak_rss": rss})
            print(json.dumps(rows[-1]), flush=True)
    summary = {"file": path, "file_bytes": os.path.getsize(path), "decoded_bytes": decoded,
               "python_import_numpy_peak_rss": rss_import,
               "numpy": np.__version__, "python": sys.version.split()[0],
               "neuropop_cmd": args.neuropop_cmd, "runs": rows}
    for tool in ("numpy.load", "neuropop"):
        sel = [x for x in rows if x["tool"] == tool]
        if sel:
            med_wall = statistics.median(x["wall_s"] for x in sel)
            med_rss = statistics.median(x["peak_rss"] for x in sel)
            summary[tool] = {"median_wall_s": med_wall, "median_peak_rss": med_rss,
                             "peak_rss_over_decoded": med_rss / decoded}
            print(f"{tool:10s} median wall {med_wall:.3f} s, median peak RSS "
                  f"{med_rss / 1e6:.1f} MB = {med_rss / decoded:.2f} x decoded "
                  f"({decoded / 1e6:.1f} MB)")
    if "neuropop" in summary:
        print(f"numpy.load / neuropop wall time: "
              f"{summary['numpy.load']['median_wall_s'] / summary['neuropop']['median_wall_s']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "_child_numpy":
        _child_numpy(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--target-mb", type=float, default=300.0)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--compressed", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("--npz", required=True)
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--neuropop-cmd", help='e.g. "neuropop inspect {path} --json"')
    r.add_argument("--json", help="write the summary here")
    args = ap.parse_args()
    {"generate": cmd_generate, "run": cmd_run}[args.cmd](args)


if __name__ == "__main__":
    main()
