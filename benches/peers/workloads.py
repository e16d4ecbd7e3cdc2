"""The workloads of `make bench-peers`, one registered class each.

To add one (e.g. the maze study against numpy, decoding against scikit-learn + MNE): write a
`Workload` subclass with `name`, `peer`, `packages`, `size`, `generate` (deterministic inputs
under ctx.data, fixed seeds, `stamp_ok`/`write_stamp` so they are made once), `run_neuropop`
(the CLI through `ctx.measure`), `run_peer` (a task in peer.py through `ctx.peer`, so the
Python side is a fresh process too) and `parity` (the numbers both sides produced, compared
within a stated tolerance); decorate it with `@register`; add its peer's pins to
requirements.txt and a short section to docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np

from harness import (BENCHES, REPO, Ctx, Parity, Run, Workload, register, stamp_ok,
                     write_stamp)

sys.path.insert(0, str(BENCHES))


def _e(x):
    """A difference or tolerance in one significant digit; an exact 0 as 0."""
    return "0" if x == 0 else f"{x:.0e}"


def _max_abs_diff(a, b):
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _mc_parity(ours, theirs, what):
    """Parity of two Monte Carlo estimates drawn with different random partitions: the means
    of the per-partition scores must agree within 4 combined standard errors."""
    a = np.asarray(ours, dtype=float)
    b = np.asarray(theirs, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return Parity(False, f"fewer than two finite {what} scores ({len(a)}, {len(b)})")
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    d = abs(a.mean() - b.mean())
    ok = d <= 4 * se + 1e-12
    return Parity(ok, f"means {a.mean():.4f} / {b.mean():.4f}: |Δ| {_e(d)} {'≤' if ok else '>'} "
                      f"4 SE {_e(4 * se)} ({len(a)} / {len(b)} random {what})")


# ---------------------------------------------------------------- RDMs vs scipy pdist

def _rdm_inputs(ctx: Ctx):
    n, p = (300, 100) if ctx.quick else (2000, 1000)
    d = ctx.data / f"rdm-{n}x{p}"
    params = {"n": n, "p": p, "seed": 1, "draw": "default_rng(1).random((n, p))"}
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        # the first draw of benches/rsa_baseline.py's stream: the same matrix as its pdist rows
        np.save(d / "X.npy", np.random.default_rng(1).random((n, p)))
        write_stamp(d, params)
    return {"x": d / "X.npy", "n": n, "p": p}


class _Rdm(Workload):
    metric = ""
    packages = ("scipy", "numpy")

    def size(self, ctx):
        i = _rdm_inputs(ctx)
        return f"{i['n']} × {i['p']}"

    def generate(self, ctx):
        return _rdm_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        out = ctx.fresh_dir(f"{self.name}/neuropop-{rep}") / "R.npy"
        wall, rss, _ = ctx.measure([binary, "rsa", "rdm", "--x", inputs["x"], "--metric",
                                    self.metric, "--out", out])
        return Run(wall, rss, value=out)

    def run_peer(self, ctx, inputs, rep):
        out = ctx.fresh_dir(f"{self.name}/peer-{rep}") / "R.npy"
        wall, rss, info = ctx.peer("pdist", self.metric, inputs["x"], out)
        return Run(wall, rss, call_s=info["call_s"], value=out)

    def parity(self, ctx, inputs, ours, theirs):
        a, b = np.load(ours.value), np.load(theirs.value)
        if a.shape != b.shape:
            return Parity(False, f"shapes {a.shape} vs {b.shape}")
        d = _max_abs_diff(a, b)
        tol = 1e-10 * max(1.0, float(np.max(np.abs(b))))
        return Parity(d <= tol, f"max |Δ| {_e(d)} {'≤' if d <= tol else '>'} {_e(tol)} "
                                f"({a.size:,} entries)")


@register
class RdmCosine(_Rdm):
    name = "rdm-cosine"
    metric = "cosine"
    peer = "scipy `pdist(x, 'cosine')` + `squareform`"


@register
class RdmEuclidean(_Rdm):
    name = "rdm-euclidean"
    metric = "euclidean"
    peer = "scipy `pdist(x, 'euclidean')` + `squareform`"


# ---------------------------------------------------------------- Shesha estimators

def _split_half_inputs(ctx: Ctx):
    n, p, k, splits = (400, 100, 10, 100) if ctx.quick else (2000, 500, 40, 1000)
    d = ctx.data / f"split-half-{n}x{p}x{k}"
    params = {"n": n, "p": p, "k": k, "seed": 1, "as": "benches/rsa_vs_python.py ensure_inputs"}
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(1)
        rng.random((2000, 1000) if not ctx.quick else (300, 100))  # keep rsa_baseline's stream
        conds = rng.integers(0, k, n)
        x = ((conds[:, None] * 7 + np.arange(p)) % 11) + 3 * rng.random((n, p))
        np.save(d / "X.npy", x)
        np.save(d / "C.npy", conds.astype(np.int64))
        write_stamp(d, params)
    return {"x": d / "X.npy", "c": d / "C.npy", "n": n, "p": p, "k": k, "splits": splits}


@register
class SplitHalfRandom(Workload):
    name = "split-half-random"
    peer = "numpy/scipy loop (`benches/rsa_baseline.py`)"
    packages = ("numpy", "scipy")
    timed_call = True

    def size(self, ctx):
        i = _split_half_inputs(ctx)
        return f"{i['splits']} random splits, {i['n']} trials × {i['p']} units, {i['k']} conditions"

    def generate(self, ctx):
        return _split_half_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        wall, rss, out = ctx.measure([binary, "shesha", "split-half", "--x", inputs["x"],
                                      "--conditions", inputs["c"], "--split", "random",
                                      "--n-splits", inputs["splits"], "--json"])
        r = json.loads(out)
        return Run(wall, rss, call_s=r["compute_s"], value=r["split_scores"],
                   extra={"estimate": r["estimate"]})

    def run_peer(self, ctx, inputs, rep):
        wall, rss, r = ctx.peer("split_half", inputs["x"], inputs["c"], inputs["splits"], 0)
        return Run(wall, rss, call_s=r["call_s"], value=r["split_scores"],
                   extra={"estimate": r["estimate"]})

    def parity(self, ctx, inputs, ours, theirs):
        return _mc_parity([np.nan if v is None else v for v in ours.value], theirs.value,
                          "splits")


def _feature_split_inputs(ctx: Ctx):
    n, p, rank, splits = (300, 64, 4, 5) if ctx.quick else (1600, 768, 8, 30)
    d = ctx.data / f"feature-split-{n}x{p}"
    params = {"n": n, "p": p, "rank": rank, "seed": 2, "noise": 2.0}
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        # a planted rank-`rank` geometry in noise, so that the estimate (about 0.5) is far from
        # 0 and parity of the two sides' means says something
        rng = np.random.default_rng(2)
        y = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, p))
        y += 2.0 * rng.standard_normal((n, p))
        np.save(d / "Y.npy", y)
        write_stamp(d, params)
    return {"y": d / "Y.npy", "n": n, "p": p, "splits": splits}


@register
class FeatureSplit(Workload):
    name = "feature-split"
    peer = "shesha-geometry `feature_split`"
    packages = ("shesha-geometry", "numpy", "scipy")
    timed_call = True

    def size(self, ctx):
        i = _feature_split_inputs(ctx)
        return f"{i['n']} × {i['p']}, {i['splits']} splits"

    def generate(self, ctx):
        return _feature_split_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        wall, rss, out = ctx.measure([binary, "shesha", "feature-split", "--x", inputs["y"],
                                      "--n-splits", inputs["splits"], "--seed", 320, "--json"])
        r = json.loads(out)
        return Run(wall, rss, call_s=r["compute_s"], value=r["split_scores"],
                   extra={"estimate": r["estimate"]})

    def run_peer(self, ctx, inputs, rep):
        wall, rss, r = ctx.peer("feature_split", inputs["y"], inputs["splits"], 320)
        return Run(wall, rss, call_s=r["call_s"], value=r["split_scores"],
                   extra={"estimate": r["estimate"]})

    def parity(self, ctx, inputs, ours, theirs):
        return _mc_parity([np.nan if v is None else v for v in ours.value], theirs.value,
                          "partitions")


# ---------------------------------------------------------------- Steinmetz replication

AUTHOR_REPO = "https://github.com/prashantcraju/geometric-stability"
AUTHOR_COMMIT = "ac38346cae1755c4de2b453f62e65acd5a146713"
AUTHOR_BLOB = "317bc7c829e3825b7044096e8ba8c89c4c43cec9"  # neuroscience/neuroscience.py there
# Columns of the script's per area-session table that are deterministic on both sides (the
# centroid-drift nulls and every bootstrap use different generators, so they agree only
# statistically and are not compared here; tests/steinmetz_* test them).
STEINMETZ_EXACT = ["n_neurons", "n_trials", "n_conditions"]
STEINMETZ_FLOAT = ["shesha", "wuc", "rsa_cv", "shesha_temporal", "centroid_drift",
                   "stability_early_mid", "stability_mid_late"]


def _blob(path: Path) -> str:
    return subprocess.run(["git", "hash-object", str(path)], check=True, capture_output=True,
                          text=True).stdout.strip()


def author_script(ctx: Ctx) -> tuple[Path | None, str]:
    """The author's neuroscience.py at AUTHOR_COMMIT: --steinmetz-script or $STEINMETZ_SCRIPT,
    else a copy cached under ctx.data, else cloned from GitHub, else read from a local git
    mirror named by $GEOMETRIC_STABILITY_GIT. Returns (path, how) or (None, why not)."""
    cache = ctx.data / "author-script" / "neuroscience.py"
    given = ctx.options.get("steinmetz_script") or os.environ.get("STEINMETZ_SCRIPT")
    if given:
        p = Path(given)
        if not p.exists():
            return None, f"{p} does not exist"
        b = _blob(p)
        return (p, "given") if b == AUTHOR_BLOB else (
            None, f"{p} is not neuroscience.py of {AUTHOR_COMMIT[:7]} (blob {b[:7]})")
    if cache.exists() and _blob(cache) == AUTHOR_BLOB:
        return cache, "cached"
    cache.parent.mkdir(parents=True, exist_ok=True)
    clone = ctx.data / "author-script" / "geometric-stability"
    try:
        if not clone.exists():
            subprocess.run(["git", "clone", "--quiet", AUTHOR_REPO, str(clone)], check=True,
                           capture_output=True, timeout=300)
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", AUTHOR_COMMIT],
                       check=True, capture_output=True)
        shutil.copyfile(clone / "neuroscience" / "neuroscience.py", cache)
    except (OSError, subprocess.SubprocessError):
        mirror = os.environ.get("GEOMETRIC_STABILITY_GIT")
        if not mirror:
            return None, (f"the author's script is not available: clone of {AUTHOR_REPO} "
                          "failed and neither --steinmetz-script, STEINMETZ_SCRIPT nor "
                          "GEOMETRIC_STABILITY_GIT is set")
        try:
            src = subprocess.run(["git", "--git-dir", mirror, "show",
                                  f"{AUTHOR_COMMIT}:neuroscience/neuroscience.py"],
                                 check=True, capture_output=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None, f"{AUTHOR_COMMIT[:7]} not readable from {mirror}"
        cache.write_bytes(src)
    if _blob(cache) != AUTHOR_BLOB:
        return None, f"{cache} does not match neuroscience.py of {AUTHOR_COMMIT[:7]}"
    return cache, "fetched"


def _steinmetz_inputs(ctx: Ctx):
    if ctx.quick:
        fx = REPO / "tests" / "fixtures" / "steinmetz"
        files = [fx / "nma_part0.npz", fx / "nma_part1.npz"]
        return {"files": files, "desc": "the 5 fixture sessions (tests/fixtures/steinmetz)"}
    import nma_load_vs_numpy as gen

    sessions, n_files, seed = 39, 3, 2019
    d = ctx.data / "steinmetz-sim"
    params = {"sessions": sessions, "files": n_files, "seed": seed,
              "as": "benches/steinmetz_vs_script.py generate"}
    files = [d / f"sim_part{f}.npz" for f in range(n_files)]
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed)
        per_file = math.ceil(sessions / n_files)
        index = 0
        for path in files:
            batch = []
            while len(batch) < per_file and index < sessions:
                batch.append(gen.realistic_session(rng, index))
                index += 1
            gen.write_nma(path, batch)
            del batch
        write_stamp(d, params)
    gb = sum(f.stat().st_size for f in files) / 1e9
    return {"files": files, "desc": f"{sessions} simulated NMA sessions, {n_files} files, "
                                    f"{gb:.1f} GB"}


def read_table(path: Path) -> dict:
    with open(path, newline="") as f:
        return {(int(r["session"]), r["area"]): r for r in csv.DictReader(f)}


def _num(s):
    return float("nan") if s in ("", None, "nan", "NaN") else float(s)


def steinmetz_parity(ours_csv: Path, script_csv: Path, tol=1e-12) -> Parity:
    a, b = read_table(ours_csv), read_table(script_csv)
    if set(a) != set(b):
        return Parity(False, f"area-sessions differ: {len(set(a) - set(b))} only in neuropop, "
                             f"{len(set(b) - set(a))} only in the script")
    keys = sorted(a)
    worst, bad = 0.0, []
    for col in STEINMETZ_EXACT + STEINMETZ_FLOAT:
        x = np.array([_num(a[k][col]) for k in keys])
        y = np.array([_num(b[k][col]) for k in keys])
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            bad.append(f"{col}: NaN patterns differ")
            continue
        f = ~np.isnan(x)
        d = _max_abs_diff(x[f], y[f])
        if col in STEINMETZ_EXACT:
            if d != 0:
                bad.append(f"{col} differs")
        elif d > tol:
            bad.append(f"{col} max |Δ| {d:.1e}")
        else:
            worst = max(worst, d)
    if bad:
        return Parity(False, "; ".join(bad))
    return Parity(True, f"{len(keys)} area-sessions: counts equal, {len(STEINMETZ_FLOAT)} metrics "
                        f"max |Δ| {_e(worst)} ≤ {_e(tol)}")


@register
class Steinmetz(Workload):
    name = "steinmetz"
    peer = f"the author's `neuroscience.py` ({AUTHOR_COMMIT[:7]})"
    packages = ("numpy", "scipy", "pandas", "scikit-learn")

    def size(self, ctx):
        return _steinmetz_inputs(ctx)["desc"]

    def peer_available(self, ctx):
        path, how = author_script(ctx)
        if path is None:
            return how
        ctx.options["steinmetz_script_path"] = path
        return None

    def generate(self, ctx):
        return _steinmetz_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        out = ctx.fresh_dir(f"{self.name}/neuropop-{rep}")
        argv = [binary, "shesha", "steinmetz", "--data", *inputs["files"], "--out", out,
                "--force", "--quiet"]
        if ctx.options.get("threads"):
            argv += ["--threads", ctx.options["threads"]]
        wall, rss, _ = ctx.measure(argv)
        man = json.loads((out / "manifest.json").read_text())
        return Run(wall, rss, value=out / "area_sessions.csv",
                   extra={"stages": man.get("stage_wall_time_s"), "threads": man.get("threads")})

    def run_peer(self, ctx, inputs, rep):
        out = ctx.fresh_dir(f"{self.name}/peer-{rep}")
        wall, rss, _ = ctx.measure([ctx.python, BENCHES / "steinmetz_vs_script.py",
                                    "_child_script", ctx.options["steinmetz_script_path"], out,
                                    *inputs["files"]])
        stages = json.loads((out / "stages.json").read_text())
        return Run(wall, rss, value=out / "shesha-neuroscience" / "shesha_neuro_v3.csv",
                   extra={"stages": stages})

    def parity(self, ctx, inputs, ours, theirs):
        return steinmetz_parity(ours.value, theirs.value)


# ---------------------------------------------------------------- loaders

def _nma_inputs(ctx: Ctx):
    import nma_load_vs_numpy as gen

    target_mb, seed = (20.0, 7) if ctx.quick else (300.0, 7)
    d = ctx.data / f"nma-{target_mb:.0f}mb"
    params = {"target_mb": target_mb, "seed": seed, "as": "benches/nma_load_vs_numpy.py generate"}
    path = d / "nma.npz"
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        gen.cmd_generate(Namespace(out=path, target_mb=target_mb, seed=seed, compressed=False))
        write_stamp(d, params)
    return {"path": path, "mb": path.stat().st_size / 1e6}


def _overview_sessions(js):
    """Per-session (units, trials, bins, region counts) from `neuropop inspect --json`."""
    out = []
    for s in js["sessions"]:
        regions = s["regions"]
        if isinstance(regions, list):
            regions = {r[0]: r[1] for r in regions}
        out.append({"n_units": s["n_units"], "n_trials": s["n_trials"],
                    "n_bins": s.get("n_bins"), "regions": dict(regions)})
    return out


@register
class NmaLoad(Workload):
    name = "nma-load"
    peer = "`numpy.load(allow_pickle=True)` + touching every page"
    packages = ("numpy",)

    def size(self, ctx):
        return f"{_nma_inputs(ctx)['mb']:.0f} MB npz (uncompressed)"

    def generate(self, ctx):
        return _nma_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        wall, rss, out = ctx.measure([binary, "inspect", inputs["path"], "--json"])
        return Run(wall, rss, value=_overview_sessions(json.loads(out)))

    def run_peer(self, ctx, inputs, rep):
        wall, rss, r = ctx.peer("nma_load", inputs["path"])
        return Run(wall, rss, call_s=r["call_s"], value=r["sessions"])

    def parity(self, ctx, inputs, ours, theirs):
        ok = ours.value == theirs.value
        n = sum(s["n_units"] for s in theirs.value)
        return Parity(ok, f"{len(theirs.value)} session{'s' * (len(theirs.value) != 1)}, {n} units: "
                          "units, trials, bins, regions "
                          "equal" if ok else
                          f"session summaries differ: {ours.value} vs {theirs.value}")


def _nwb_inputs(ctx: Ctx):
    import nwb_load_vs_pynwb as gen

    units, spu, trials = (50, 2000, 100) if ctx.quick else (500, 20000, 1000)
    d = ctx.data / f"nwb-{units}x{spu}"
    params = {"units": units, "spikes_per_unit": spu, "trials": trials, "seed": 3,
              "as": "benches/nwb_load_vs_pynwb.py generate"}
    path = d / "bench.nwb"
    if not stamp_ok(d, params):
        d.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        gen.cmd_generate(Namespace(out=str(path), units=units, spikes_per_unit=spu,
                                   trials=trials, seed=3))
        write_stamp(d, params)
    return {"path": path, "units": units, "spikes": units * spu, "trials": trials}


@register
class NwbLoad(Workload):
    name = "nwb-load"
    peer = "pynwb: spike trains, unit regions, `trials.to_dataframe()`"
    packages = ("pynwb", "hdmf", "h5py")

    def size(self, ctx):
        i = _nwb_inputs(ctx)
        return f"{i['spikes'] / 1e6:g} M spikes, {i['units']} units, {i['trials']} trials"

    def generate(self, ctx):
        return _nwb_inputs(ctx)

    def run_neuropop(self, ctx, inputs, binary, rep):
        wall, rss, out = ctx.measure([binary, "inspect", inputs["path"], "--json"])
        js = json.loads(out)
        s = _overview_sessions(js)
        return Run(wall, rss, value={"sessions": s, "raw": js["sessions"]})

    def run_peer(self, ctx, inputs, rep):
        wall, rss, r = ctx.peer("nwb_load", inputs["path"])
        return Run(wall, rss, call_s=r["call_s"], value=r)

    def parity(self, ctx, inputs, ours, theirs):
        s = ours.value["sessions"]
        t = theirs.value
        if len(s) != 1:
            return Parity(False, f"neuropop read {len(s)} sessions, expected 1")
        s = s[0]
        bad = [k for k, a, b in [("units", s["n_units"], t["n_units"]),
                                  ("trials", s["n_trials"], t["n_trials"]),
                                  ("units per region", s["regions"], t["regions"])] if a != b]
        if bad:
            return Parity(False, f"{', '.join(bad)} differ")
        return Parity(True, f"{t['n_units']} units, {t['n_trials']} trials: counts and regions "
                            "equal")
