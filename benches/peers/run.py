#!/usr/bin/env python3
"""neuropop against its Python peers, side by side, into one table (`make bench-peers`).

For each workload (benches/peers/workloads.py): generate the inputs deterministically (fixed
numpy seeds, under target/bench-data/, made once), then for each repetition run the neuropop
CLI and the Python peer, each as a fresh process, one after the other (the side that goes
first alternates between repetitions; a 1 s pause precedes every timed call). Parity is
checked on the first repetition's outputs before any ratio is reported; a workload whose
parity fails is reported as failed, without a ratio, and not repeated. The medians of the
process wall times, their ratio, each side's own timer around the computation where both
report one ("call"), the peak RSS of each process, the commit, the date, the peer's version
and the command that reproduces the row go into a table written between
`<!-- bench-peers:begin -->` and `<!-- bench-peers:end -->` at the top of docs/benchmarks.md
(only the rows of the workloads run are replaced), and everything measured into
target/bench-peers/report.json.

    make bench-peers                                   # everything, about 15 minutes
    make bench-peers BENCH_ARGS="--only feature-split --repeat 5"
    target/bench-venv/bin/python benches/peers/run.py --quick      # smoke test, no doc write

Run it with the peers' venv (target/bench-venv, made by benches/peers/make-venv.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import REGISTRY, REPO, Ctx, MeasureError, median, versions  # noqa: E402
import workloads  # noqa: E402,F401  (registers the workloads)


def row_command(name, a):
    extra = "" if a.repeat == 3 else f" --repeat {a.repeat}"
    return f'make bench-peers BENCH_ARGS="--only {name}{extra}"'


def run_workload(w, ctx, a, binary):
    base = {"name": w.name, "peer": f"{w.peer} ({versions(w.packages)})",
            "commit": harness.git_commit(), "date": date.today().isoformat(),
            "command": row_command(w.name, a), "repeat": a.repeat}
    why = w.peer_available(ctx)
    if why:
        return {**base, "size": "–", "status": "skipped", "parity": why, "runs": []}
    t0 = time.perf_counter()
    inputs = w.generate(ctx)
    base["size"] = w.size(ctx)
    base["generate_s"] = time.perf_counter() - t0
    runs = []
    parity = None
    for rep in range(a.repeat):
        order = ["neuropop", "peer"] if rep % 2 == 0 else ["peer", "neuropop"]
        pair = {}
        for side in order:
            r = (w.run_neuropop(ctx, inputs, binary, rep) if side == "neuropop"
                 else w.run_peer(ctx, inputs, rep))
            pair[side] = r
            runs.append({"rep": rep, "side": side, "wall_s": r.wall_s, "call_s": r.call_s,
                         "peak_rss": r.peak_rss, "loadavg_1min": os.getloadavg()[0],
                         "extra": r.extra})
            call = f" (call {r.call_s:.3f} s)" if r.call_s is not None else ""
            print(f"  {w.name} rep {rep + 1}/{a.repeat} {side:8s} {r.wall_s:8.3f} s{call}, "
                  f"peak {r.peak_rss / 1e6:.0f} MB", flush=True)
        if rep == 0:
            parity = w.parity(ctx, inputs, pair["neuropop"], pair["peer"])
            print(f"  {w.name} parity {'ok' if parity.ok else 'FAILED'}: {parity.text}",
                  flush=True)
            if not parity.ok:
                return {**base, "status": "parity failed", "parity": parity.text, "runs": runs}
    out = {**base, "status": "ok", "parity": parity.text, "runs": runs}
    for side in ("neuropop", "peer"):
        sel = [r for r in runs if r["side"] == side]
        out[f"{side}_wall_s"] = median(r["wall_s"] for r in sel)
        out[f"{side}_call_s"] = median(r["call_s"] for r in sel)
        out[f"{side}_peak_rss"] = max(r["peak_rss"] for r in sel)
    out["ratio_wall"] = out["peer_wall_s"] / out["neuropop_wall_s"]
    out["ratio_call"] = (out["peer_call_s"] / out["neuropop_call_s"]
                         if w.timed_call and out["neuropop_call_s"] and out["peer_call_s"]
                         else None)
    if not w.timed_call:
        out["neuropop_call_s"] = None
    return out


def header(a, minutes, rows):
    loads = [r["loadavg_1min"] for row in rows for r in row.get("runs", [])]
    load = f"; 1-minute load average {min(loads):.1f}–{max(loads):.1f} during the run" if loads else ""
    return (
        "**How to read this table.** Each row runs the same generated input through neuropop's "
        "CLI (`target/release/neuropop`) and its Python peer, each side a fresh process, the two "
        f"alternated within each of {a.repeat} repetitions (1 s pause before every call). "
        "Times are medians of the process wall time (start-up, reading the input and writing "
        "the output included); *call* is each side's own timer around the computation alone, "
        "where both report one. Speed-up = peer median / neuropop median. Peak RSS is "
        "`ru_maxrss` of each process (largest over the repetitions). A speed-up is given only "
        "after parity passed on the same run's outputs (what was compared and the tolerance are "
        "in the row). Machine: " + harness.machine() + load + ". "
        f"**Reproduce:** `make bench-peers` (all rows, about {max(1, round(minutes))} min here; "
        "it makes the pinned venv `target/bench-venv` from `benches/peers/requirements.txt`, "
        "builds the release binary and generates the inputs in `target/bench-data/`), or one "
        "row with the command in its last column. What each side runs is described below; the "
        "earlier per-session logs are in [benchmarks-log.md](benchmarks-log.md)."
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[],
                    help=f"workload(s) to run (repeatable or comma-separated): {', '.join(REGISTRY)}")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="small inputs (smoke test); the doc is not written unless --doc is given")
    ap.add_argument("--neuropop", default=str(REPO / "target" / "release" / "neuropop"))
    ap.add_argument("--data", default=str(REPO / "target" / "bench-data"))
    ap.add_argument("--work", default=str(REPO / "target" / "bench-peers"))
    ap.add_argument("--doc", help="markdown file to update (default docs/benchmarks.md, "
                                  "not with --quick)")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--steinmetz-script",
                    help="the author's neuroscience.py (else $STEINMETZ_SCRIPT, a cached copy, "
                         "a clone from GitHub, or $GEOMETRIC_STABILITY_GIT)")
    ap.add_argument("--threads", help="neuropop --threads for the Steinmetz pipeline")
    ap.add_argument("--generate-only", action="store_true",
                    help="only write the inputs (e.g. while the release build runs)")
    a = ap.parse_args()
    names = [n for o in a.only for n in o.split(",") if n] or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {', '.join(REGISTRY)}")
    binary = str(Path(a.neuropop).resolve())
    if not Path(binary).exists() and not a.generate_only:
        ap.error(f"{binary} does not exist (cargo build --release)")
    work = Path(a.work) / ("quick" if a.quick else "full")
    ctx = Ctx(data=Path(a.data), work=work, quick=a.quick, python=sys.executable,
              options={"steinmetz_script": a.steinmetz_script, "threads": a.threads})
    ctx.data.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if a.generate_only:
        for n in names:
            REGISTRY[n].generate(ctx)
            print(f"{n}: {REGISTRY[n].size(ctx)} ({time.perf_counter() - t0:.0f} s)", flush=True)
        return 0
    rows = []
    for n in names:
        w = REGISTRY[n]
        print(f"{n}: {w.peer}", flush=True)
        try:
            rows.append(run_workload(w, ctx, a, binary))
        except (MeasureError, OSError, ValueError, KeyError) as e:
            traceback.print_exc()
            rows.append({"name": n, "peer": f"{w.peer} ({versions(w.packages)})", "size": "–",
                         "commit": harness.git_commit(), "date": date.today().isoformat(),
                         "command": row_command(n, a), "status": "failed",
                         "parity": str(e).splitlines()[0][:300], "runs": []})
        r = rows[-1]
        print(f"=> {harness.row_markdown(r)}\n", flush=True)
    minutes = (time.perf_counter() - t0) / 60
    report = {"machine": harness.machine(), "python": harness.python_version(),
              "neuropop": binary, "quick": a.quick, "minutes": minutes, "rows": rows}
    (work / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print("\n".join(harness.TABLE_HEAD + [harness.row_markdown(r) for r in rows]))
    print(f"\n{minutes:.1f} min; all numbers in {work / 'report.json'}")
    doc = a.doc or (None if a.quick or a.no_doc else str(REPO / "docs" / "benchmarks.md"))
    if doc and not a.no_doc:
        full = set(names) == set(REGISTRY)  # the note's run time is that of all rows
        harness.write_block(Path(doc), rows, header(a, minutes, rows) if full else None)
        print(f"table written to {doc}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
