#!/usr/bin/env python3
"""Two neuropop binaries against each other on the neuropop side of the bench-peers workloads
(a speed-regression check): for each repetition both binaries run the same input, one after
the other (which goes first alternates; 1 s pause before each call), and their outputs are
compared (they must agree exactly unless --allow-diff).

    target/bench-venv/bin/python benches/peers/ab.py --old OLD_BIN --new NEW_BIN \\
        [--only steinmetz,split-half-random,feature-split] [--repeat 9] [--json OUT]

Prints per workload: the medians, min and max of each binary's process wall time (and of its
own timer, `call`, where it reports one), new/old ratio of the medians, the paired new/old
ratios (same repetition) with their median and range and a Wilcoxon signed-rank p-value on
their logarithms, and for the Steinmetz pipeline the median of each manifest stage timer.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REGISTRY, REPO, Ctx  # noqa: E402
import workloads  # noqa: E402,F401


def same_output(name, a, b):
    """Whether two runs of the neuropop side produced the same numbers."""
    if isinstance(a.value, Path):
        if a.value.suffix == ".csv":
            return filecmp.cmp(a.value, b.value, shallow=False)
        return bool(np.array_equal(np.load(a.value), np.load(b.value)))
    return a.value == b.value


def summary(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--only", default="steinmetz,split-half-random,feature-split")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default=str(REPO / "target" / "bench-data"))
    ap.add_argument("--work", default=str(REPO / "target" / "bench-ab"))
    ap.add_argument("--threads", help="neuropop --threads for the Steinmetz pipeline")
    ap.add_argument("--json")
    a = ap.parse_args()
    bins = {"old": str(Path(a.old).resolve()), "new": str(Path(a.new).resolve())}
    ctxs = {k: Ctx(data=Path(a.data), work=Path(a.work) / k, quick=a.quick,
                   python=sys.executable, options={"threads": a.threads}) for k in bins}
    report = {"binaries": bins, "repeat": a.repeat, "workloads": {}}
    from scipy.stats import wilcoxon

    for name in a.only.split(","):
        w = REGISTRY[name]
        inputs = w.generate(ctxs["old"])
        runs = {"old": [], "new": []}
        identical = True
        for rep in range(a.repeat):
            order = ["old", "new"] if rep % 2 == 0 else ["new", "old"]
            pair = {}
            for k in order:
                r = w.run_neuropop(ctxs[k], inputs, bins[k], rep)
                pair[k] = r
                runs[k].append(r)
                call = f" (call {r.call_s:.4f} s)" if r.call_s is not None else ""
                print(f"  {name} rep {rep + 1} {k}: {r.wall_s:.4f} s{call}", flush=True)
            identical &= same_output(name, pair["old"], pair["new"])
        out = {"outputs_identical": identical}
        for k in bins:
            out[k] = {"wall_s": summary([r.wall_s for r in runs[k]]),
                      "peak_rss": max(r.peak_rss for r in runs[k]),
                      "runs": [{"wall_s": r.wall_s, "call_s": r.call_s, "peak_rss": r.peak_rss,
                                "stages": r.extra.get("stages")} for r in runs[k]]}
            if runs[k][0].call_s is not None:
                out[k]["call_s"] = summary([r.call_s for r in runs[k]])
            stages = [r.extra.get("stages") for r in runs[k] if r.extra.get("stages")]
            if stages:
                out[k]["stages_median_s"] = {
                    s: statistics.median(st[s] for st in stages if s in st) for s in stages[0]}
        for t in ("wall_s", "call_s"):
            if t not in out["new"]:
                continue
            paired = [getattr(n, t) / getattr(o, t)
                      for n, o in zip(runs["new"], runs["old"])]
            out[f"ratio_{t}"] = {
                "of_medians": out["new"][t]["median"] / out["old"][t]["median"],
                "paired": summary(paired),
                "wilcoxon_p": float(wilcoxon(np.log(paired)).pvalue) if len(paired) >= 5 else None}
        stages = [(o.extra.get("stages") or {}, n.extra.get("stages") or {})
                  for o, n in zip(runs["old"], runs["new"])]
        common = [s for s in stages[0][0] if s in stages[0][1]] if stages else []
        if common:  # which stage moved, paired by repetition
            out["stage_ratio_paired_median"] = {
                s: statistics.median(n[s] / o[s] for o, n in stages if o.get(s))
                for s in common if s != "hash_wait_s"}
        report["workloads"][name] = out
        print(json.dumps({name: {k: v for k, v in out.items() if k not in bins}}, indent=1),
              flush=True)
        for k in bins:
            print(f"  {k}: " + json.dumps({t: v for t, v in out[k].items() if t != "runs"}),
                  flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
