#!/usr/bin/env python3
"""Reading all spike times and the trials table of an NWB file: neuropop vs pynwb.

Subcommands:

  generate --out FILE.nwb [--units 500] [--spikes-per-unit 20000] [--trials 1000] [--seed 3]
      A pynwb-written NWB 2.x file: an electrodes table with locations, a units table with
      ragged spike_times (units × spikes-per-unit spikes in total, default 10 M), and a trials
      table with float, int, bool and string columns.

  run --nwb FILE.nwb [--repeat 3] --neuropop-cmd "BIN inspect {path} --json" [--json OUT]
      Alternates, --repeat times, a fresh Python process doing what a pynwb user does to get
      the same data into memory — ``NWBHDF5IO(path, 'r').read()``, every unit's spike times
      as a numpy array (``units['spike_times'][i]``), ``units['location']`` via the electrodes,
      and ``nwb.trials.to_dataframe()`` — and a fresh process running the neuropop command
      (``inspect`` reads the whole file into a Recording: all spike times, validated, regions
      resolved through the electrodes table, all trial columns). Wall time includes start-up;
      peak RSS is ``ru_maxrss`` of the child. Decoded size = 8 bytes per spike time plus the
      trial table's arrays.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from nma_load_vs_numpy import measure  # noqa: E402  (same fresh-process timer)

import numpy as np  # noqa: E402


def cmd_generate(a):
    from pynwb import NWBFile, NWBHDF5IO
    from hdmf.backends.hdf5.h5_utils import H5DataIO

    rng = np.random.default_rng(a.seed)
    nwb = NWBFile(session_description="neuropop loader benchmark", identifier="bench-nwb",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    dev = nwb.create_device(name="probe")
    group = nwb.create_electrode_group(name="shank0", description="", location="VISp", device=dev)
    areas = ["VISp", "CA1", "LGd", "MOs", "SCm"]
    for e in range(64):
        nwb.add_electrode(location=areas[e % len(areas)], group=group)
    duration = 3600.0
    for u in range(a.units):
        t = np.sort(rng.uniform(0.0, duration, a.spikes_per_unit))
        nwb.add_unit(spike_times=t, electrodes=[u % 64])
    n = a.trials
    starts = np.sort(rng.uniform(0, duration - 5, n))
    nwb.add_trial_column("contrast", "stimulus contrast")
    nwb.add_trial_column("choice", "choice")
    nwb.add_trial_column("rewarded", "rewarded")
    nwb.add_trial_column("stim", "stimulus name")
    for i in range(n):
        nwb.add_trial(start_time=starts[i], stop_time=starts[i] + 2.0,
                      contrast=float(rng.choice([0, 0.25, 0.5, 1.0])),
                      choice=int(rng.integers(-1, 2)), rewarded=bool(rng.integers(0, 2)),
                      stim=str(rng.choice(["grating", "noise"])))
    with NWBHDF5IO(a.out, "w") as io:
        io.write(nwb)
    print(f"wrote {a.out}: {a.units} units, {a.units * a.spikes_per_unit} spikes, {n} trials")


def _child_pynwb(path):
    from pynwb import NWBHDF5IO
    t0 = time.perf_counter()
    with NWBHDF5IO(path, "r", load_namespaces=True) as io:
        nwb = io.read()
        units = nwb.units
        trains = [units["spike_times"][i] for i in range(len(units))]
        elec = units["electrodes"]
        regions = [elec[i]["location"].iloc[0] for i in range(len(units))]
        trials = nwb.trials.to_dataframe()
        n_spikes = sum(len(t) for t in trains)
        decoded = 8 * n_spikes + int(sum(trials[c].to_numpy().nbytes for c in trials.columns))
    print(json.dumps({"in_process_s": time.perf_counter() - t0, "n_spikes": n_spikes,
                      "n_regions": len(set(regions)), "decoded_bytes": decoded}))


def cmd_run(a):
    path = str(Path(a.nwb).resolve())
    py = [sys.executable, __file__, "_child_pynwb", path]
    np_cmd = shlex.split(a.neuropop_cmd.replace("{path}", path))
    rows, decoded = [], None
    for r in range(a.repeat):
        wall, rss, out = measure(py)
        info = json.loads(out)
        decoded = info["decoded_bytes"]
        rows.append({"rep": r, "tool": "pynwb", "wall_s": wall, "peak_rss": rss,
                     "in_process_s": info["in_process_s"], "n_spikes": info["n_spikes"]})
        print(json.dumps(rows[-1]), flush=True)
        wall, rss, out = measure(np_cmd)
        rows.append({"rep": r, "tool": "neuropop", "wall_s": wall, "peak_rss": rss})
        print(json.dumps(rows[-1]), flush=True)
    import pynwb
    summary = {"file": path, "decoded_bytes": decoded, "pynwb": pynwb.__version__,
               "python": sys.version.split()[0], "neuropop_cmd": a.neuropop_cmd, "runs": rows}
    for tool in ("pynwb", "neuropop"):
        sel = [x for x in rows if x["tool"] == tool]
        w = statistics.median(x["wall_s"] for x in sel)
        m = statistics.median(x["peak_rss"] for x in sel)
        summary[tool] = {"median_wall_s": w, "median_peak_rss": m}
        print(f"{tool:9s} median wall {w:.3f} s, median peak RSS {m / 1e6:.1f} MB = "
              f"{m / decoded:.2f} x decoded ({decoded / 1e6:.1f} MB)")
    print(f"pynwb / neuropop wall time: "
          f"{summary['pynwb']['median_wall_s'] / summary['neuropop']['median_wall_s']:.1f}")
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--units", type=int, default=500)
    g.add_argument("--spikes-per-unit", type=int, default=20000)
    g.add_argument("--trials", type=int, default=1000)
    g.add_argument("--seed", type=int, default=3)
    r = sub.add_parser("run")
    r.add_argument("--nwb", required=True)
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--neuropop-cmd", required=True)
    r.add_argument("--json")
    c = sub.add_parser("_child_pynwb")
    c.add_argument("path")
    a = ap.parse_args()
    if a.cmd == "generate":
        cmd_generate(a)
    elif a.cmd == "run":
        cmd_run(a)
    else:
        _child_pynwb(a.path)


if __name__ == "__main__":
    main()
