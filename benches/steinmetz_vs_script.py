#!/usr/bin/env python3
"""Side-by-side wall time: ``neuropop shesha steinmetz`` vs the author's own script
(``neuroscience/neuroscience.py`` of github.com/prashantcraju/geometric-stability, commit
ac38346cae1755c4de2b453f62e65acd5a146713) on the same NMA files.

The author's script is NOT part of this repository. Obtain it with

  git clone https://github.com/prashantcraju/geometric-stability
  git -C geometric-stability checkout ac38346cae1755c4de2b453f62e65acd5a146713
  # then pass --script geometric-stability/neuroscience/neuroscience.py

Subcommands:

  generate --out DIR [--sessions 39] [--files 3] [--seed 2019]
      Realistic-size simulated NMA files DIR/sim_part{0,1,2}.npz (sizes as the real NMA
      files: see ``nma_load_vs_numpy.realistic_session``), ``np.savez`` (uncompressed).

  run --script neuroscience.py --neuropop BIN --data F... [--repeat 3] [--threads 0 1]
      [--report OUT.json]
      For each repetition, in this order: (a) the script in a fresh Python process,
      (b) ``BIN shesha steinmetz --data F... --out TMP --force --quiet`` for each --threads
      value (0 = the binary's default, all cores). Wall time = ``time.perf_counter`` around
      each subprocess, so both include interpreter/binary start-up and reading the files.
      Afterwards compares shesha, wuc and rsa_cv of matching (session, area) rows.

What the Python side runs: the script is imported from --script in a temporary working
directory (it creates ./shesha-neuroscience at import, seeds the global numpy generator with
320 and prints a banner), ``load_steinmetz_data`` is replaced by a function that does what the
original does after each download -- ``np.load(path, allow_pickle=True)['dat']`` and extend the
session list -- for the given files in order, and then the script's own ``__main__`` sequence
runs unchanged: analyze_steinmetz (500 permutations per area-session), CSV write,
compute_regional_analysis (10,000 bootstrap draws per summary), CSV write,
compute_behavioral_analysis (10,000 draws per coupling row), two CSV writes,
compute_drift_analysis. Excluded: only the two HTTP downloads and the writing of the
downloaded bytes to disk (the script has no plotting). Its console output goes to a file.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def cmd_generate(args):
    import nma_load_vs_numpy as gen

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    per_file = math.ceil(args.sessions / args.files)
    index = 0
    for f in range(args.files):
        sessions = []
        while len(sessions) < per_file and index < args.sessions:
            sessions.append(gen.realistic_session(rng, index))
            index += 1
        path = out / f"sim_part{f}.npz"
        gen.write_nma(path, sessions)
        print(json.dumps({
            "path": str(path), "sessions": len(sessions),
            "neurons": [int(d["spks"].shape[0]) for d in sessions],
            "trials": [int(d["spks"].shape[1]) for d in sessions],
            "decoded_bytes": gen.decoded_nbytes(sessions),
            "file_bytes": path.stat().st_size}), flush=True)


def _child_script(script, outdir, files):
    """The Python side, in a fresh interpreter (cwd = outdir)."""
    import contextlib
    import importlib.util

    os.chdir(outdir)
    stages = {}
    t0 = time.perf_counter()
    log = open("script_stdout.txt", "w")
    with contextlib.redirect_stdout(log):
        spec = importlib.util.spec_from_file_location("author_neuroscience", script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        stages["import_s"] = time.perf_counter() - t0

        def load_local():
            sessions = []
            for p in files:
                dat = np.load(p, allow_pickle=True)["dat"]
                sessions.extend(dat)
            return sessions

        mod.load_steinmetz_data = load_local
        out = mod.OUTPUT_PATH
        t = time.perf_counter()
        df, dat_list = mod.analyze_steinmetz()  # includes load_local()
        df.to_csv(os.path.join(out, "shesha_neuro_v3.csv"), index=False)
        stages["load_and_analyze_s"] = time.perf_counter() - t
        t = time.perf_counter()
        regional = mod.compute_regional_analysis(df)
        regional.to_csv(os.path.join(out, "shesha_regional_v3.csv"), index=False)
        stages["regional_s"] = time.perf_counter() - t
        t = time.perf_counter()
        beh, detail = mod.compute_behavioral_analysis(df, dat_list)
        beh.to_csv(os.path.join(out, "shesha_behavioral_v3.csv"), index=False)
        detail.to_csv(os.path.join(out, "behavioral_detailed_v3.csv"), index=False)
        stages["behavioral_s"] = time.perf_counter() - t
        t = time.perf_counter()
        mod.compute_drift_analysis(df)
        stages["drift_s"] = time.perf_counter() - t
    stages["total_in_process_s"] = time.perf_counter() - t0
    log.close()
    Path("stages.json").write_text(json.dumps(stages))


def timed(argv, cwd=None):
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{argv} failed ({p.returncode}):\n{err.read().decode()[-3000:]}")
    return wall


def read_rows(path, key_cols=("session", "area")):
    with open(path) as f:
        return {(int(r["session"]), r["area"]): r for r in csv.DictReader(f)}


def num(s):
    return float("nan") if s in ("", None, "nan", "NaN") else float(s)


def compare(script_csv, neuropop_csv):
    a, b = read_rows(script_csv), read_rows(neuropop_csv)
    common = sorted(set(a) & set(b))
    out = {"rows_script": len(a), "rows_neuropop": len(b), "rows_matched": len(common)}
    for col in ("shesha", "wuc", "rsa_cv"):
        x = np.array([num(a[k][col]) for k in common])
        y = np.array([num(b[k][col]) for k in common])
        both = ~np.isnan(x) & ~np.isnan(y)
        out[col] = {
            "max_abs_diff": float(np.max(np.abs(x[both] - y[both]))) if both.any() else None,
            "finite_both": int(both.sum()),
            "nan_pattern_equal": bool(np.array_equal(np.isnan(x), np.isnan(y)))}
    return out


def machine_facts(neuropop):
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import pandas
    import scipy
    import sklearn

    facts = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
             "numpy": np.__version__, "scipy": scipy.__version__,
             "sklearn": sklearn.__version__, "pandas": pandas.__version__,
             "loadavg_before": os.getloadavg()}
    try:
        facts["neuropop_version"] = subprocess.run(
            [neuropop, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return facts


def cmd_run(args):
    files = [str(Path(f).resolve()) for f in args.data]
    script = str(Path(args.script).resolve())
    facts = machine_facts(args.neuropop)
    facts["files"] = [{"path": f, "bytes": os.path.getsize(f)} for f in files]
    runs = []
    work = Path(tempfile.mkdtemp(prefix="bench_steinmetz_"))
    for r in range(args.repeat):
        d = work / f"script_{r}"
        d.mkdir()
        wall = timed([sys.executable, __file__, "_child_script", script, str(d)] + files)
        stages = json.loads((d / "stages.json").read_text())
        runs.append({"rep": r, "tool": "script", "wall_s": wall, "stages": stages,
                     "loadavg_after": os.getloadavg(), "out": str(d)})
        print(json.dumps(runs[-1]), flush=True)
        for th in args.threads:
            o = work / f"neuropop_t{th}_{r}"
            argv = [args.neuropop, "shesha", "steinmetz", "--data", *files, "--out", str(o),
                    "--force", "--quiet"]
            if th:
                argv += ["--threads", str(th)]
            wall = timed(argv)
            man = json.loads((o / "manifest.json").read_text())
            runs.append({"rep": r, "tool": f"neuropop threads={th or 'default'}",
                         "wall_s": wall, "stages": man.get("stage_wall_time_s"),
                         "manifest_threads": man.get("threads"),
                         "git_commit": man.get("git_commit"),
                         "loadavg_after": os.getloadavg(), "out": str(o)})
            print(json.dumps(runs[-1]), flush=True)
    summary = {"machine": facts, "runs": runs, "medians": {}}
    for tool in dict.fromkeys(x["tool"] for x in runs):
        summary["medians"][tool] = statistics.median(x["wall_s"] for x in runs if x["tool"] == tool)
    s = summary["medians"]["script"]
    summary["ratio_script_over"] = {t: s / v for t, v in summary["medians"].items()
                                    if t != "script"}
    first_np = next(x for x in runs if x["tool"] != "script")
    summary["agreement"] = compare(Path(runs[0]["out"]) / "shesha-neuroscience" / "shesha_neuro_v3.csv",
                                   Path(first_np["out"]) / "area_sessions.csv")
    print(json.dumps({k: summary[k] for k in ("medians", "ratio_script_over", "agreement")},
                     indent=1))
    if args.report:
        Path(args.report).write_text(json.dumps(summary, indent=1))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "_child_script":
        _child_script(sys.argv[2], sys.argv[3], sys.argv[4:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--sessions", type=int, default=39)
    g.add_argument("--files", type=int, default=3)
    g.add_argument("--seed", type=int, default=2019)
    r = sub.add_parser("run")
    r.add_argument("--script", required=True, help="path of the author's neuroscience.py")
    r.add_argument("--neuropop", required=True, help="path of the neuropop binary")
    r.add_argument("--data", nargs="+", required=True)
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--threads", type=int, nargs="+", default=[0, 1],
                   help="neuropop --threads values per repetition (0 = default, all cores)")
    r.add_argument("--report", help="write all numbers as JSON here")
    args = ap.parse_args()
    {"generate": cmd_generate, "run": cmd_run}[args.cmd](args)


if __name__ == "__main__":
    main()
