"""Shared parts of the side-by-side benchmark (`benches/peers/run.py`): the workload interface
and registry, fresh-process measurement, the run context, and the table written into
docs/benchmarks.md.

A workload is a subclass of `Workload` registered with `@register`; it says how to generate
its inputs (deterministically, into the data folder), how to run the neuropop side and the
peer side (each a fresh process, measured by `Ctx.measure`), and how to decide parity from the
two sides' outputs. The runner does the rest (alternation, pauses, medians, the table).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCHES = REPO / "benches"
PEERS = BENCHES / "peers"
BEGIN = "<!-- bench-peers:begin -->"
END = "<!-- bench-peers:end -->"
SETTLE_S = 1.0


class MeasureError(RuntimeError):
    """A measured process failed; the message carries its exit status and stderr tail."""


@dataclass
class Run:
    """One timed side of one repetition.

    wall_s: wall time of the whole fresh process (start-up and reading inputs included);
    call_s: the side's own timer around the computation alone, when it reports one;
    peak_rss: ru_maxrss of that process, bytes; value: what `parity` compares;
    extra: anything else worth keeping in the JSON report (stage times, estimates)."""

    wall_s: float
    peak_rss: int
    call_s: float | None = None
    value: Any = None
    extra: dict = field(default_factory=dict)


@dataclass
class Parity:
    ok: bool
    text: str


@dataclass
class Ctx:
    """What a workload needs from the runner."""

    data: Path  # generated inputs, kept between runs (target/bench-data)
    work: Path  # outputs of this run (target/bench-peers/<stamp>)
    quick: bool
    python: str  # the peers' interpreter (the pinned venv's)
    options: dict = field(default_factory=dict)  # runner options a workload may read

    def measure(self, argv, cwd=None) -> tuple[float, int, str]:
        """Runs argv as a fresh process after a SETTLE_S pause (so the other side's idle
        threads, e.g. OpenBLAS's spinning pool, have gone quiet); returns its wall seconds,
        its peak RSS in bytes (ru_maxrss of that process alone, see spawn.py) and its stdout."""
        time.sleep(SETTLE_S)
        argv = [str(a) for a in argv]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
                tempfile.NamedTemporaryFile(suffix=".json") as rep:
            p = subprocess.run([sys.executable, "-S", str(PEERS / "spawn.py"), rep.name, *argv],
                               stdout=out, stderr=err, cwd=cwd)
            out.seek(0)
            err.seek(0)
            if p.returncode != 0:
                tail = err.read().decode(errors="replace")[-3000:]
                raise MeasureError(f"{' '.join(argv)} exited with {p.returncode}:\n{tail}")
            r = json.loads(Path(rep.name).read_text())
            return r["wall_s"], r["peak_rss"], out.read().decode()

    def peer(self, task: str, *args, cwd=None) -> tuple[float, int, dict]:
        """Runs `peer.py TASK ARGS...` in a fresh interpreter; returns wall, peak RSS and the
        JSON object it prints last."""
        wall, rss, out = self.measure([self.python, PEERS / "peer.py", task, *args], cwd=cwd)
        return wall, rss, json.loads(out.strip().splitlines()[-1])

    def fresh_dir(self, name: str) -> Path:
        d = self.work / name
        if d.exists():
            import shutil

            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d


class Workload:
    """Base of a workload. Subclasses set the class attributes and implement the methods."""

    name = ""  # key for --only and first cell of the table row
    peer = ""  # what the peer is, e.g. "scipy `pdist`"
    packages: tuple[str, ...] = ()  # distributions whose versions the row names
    timed_call = False  # True when both sides report the computation's own time (call_s)

    def size(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def generate(self, ctx: Ctx) -> dict:
        """Writes the inputs under ctx.data (skipping files already generated with the same
        parameters) and returns whatever the run methods need (paths, sizes)."""
        raise NotImplementedError

    def run_neuropop(self, ctx: Ctx, inputs: dict, binary: str, rep: int) -> Run:
        raise NotImplementedError

    def run_peer(self, ctx: Ctx, inputs: dict, rep: int) -> Run:
        raise NotImplementedError

    def parity(self, ctx: Ctx, inputs: dict, ours: Run, theirs: Run) -> Parity:
        raise NotImplementedError

    def peer_available(self, ctx: Ctx) -> str | None:
        """None when the peer can run, else why not (the row then says so)."""
        return None


REGISTRY: dict[str, Workload] = {}


def register(cls):
    REGISTRY[cls.name] = cls()
    return cls


def stamp_ok(folder: Path, params: dict) -> bool:
    """True when `folder` was generated with exactly `params` (see `write_stamp`)."""
    s = folder / "params.json"
    return s.exists() and json.loads(s.read_text()) == params


def write_stamp(folder: Path, params: dict):
    (folder / "params.json").write_text(json.dumps(params, sort_keys=True))


def versions(packages) -> str:
    out = []
    for p in packages:
        try:
            out.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            out.append(f"{p} (not installed)")
    return ", ".join(out)


def git_commit() -> str:
    """Short HEAD, `-dirty` when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, check=True, capture_output=True, text=True).stdout
        return head + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        mem_s = f"{mem / 2**20:.0f} GB RAM"
    except (OSError, StopIteration):
        mem_s = "? RAM"
    return f"{cpu}, {os.cpu_count()} cores, {mem_s}, Python {platform.python_version()}"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(s):
    if s is None:
        return "–"
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 0.01:
        return f"{s * 1e3:.0f} ms"
    return f"{s * 1e3:.1f} ms"


def fmt_mb(b):
    return "–" if b is None else f"{b / 1e6:.0f} MB"


def fmt_ratio(r):
    if r is None:
        return "–"
    return f"{r:.0f}×" if r >= 100 else f"{r:.1f}×"


TABLE_HEAD = [
    "| workload | size | peer (version) | neuropop median | peer median | speed-up "
    "| peak RSS neuropop / peer | parity | commit | date | reproduce |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def row_markdown(r: dict) -> str:
    """One table row from a workload's summary (see run.py `summarise`)."""
    if r["status"] == "ok":
        speed = f"**{fmt_ratio(r['ratio_wall'])}**"
        if r.get("ratio_call") is not None:
            speed += f" (call {fmt_ratio(r['ratio_call'])})"
        ours = fmt_s(r["neuropop_wall_s"])
        theirs = fmt_s(r["peer_wall_s"])
        if r.get("neuropop_call_s") is not None and r.get("peer_call_s") is not None:
            ours += f" (call {fmt_s(r['neuropop_call_s'])})"
            theirs += f" (call {fmt_s(r['peer_call_s'])})"
        mem = f"{fmt_mb(r['neuropop_peak_rss'])} / {fmt_mb(r['peer_peak_rss'])}"
        parity = f"ok: {r['parity']}"
    else:
        ours = theirs = speed = mem = "–"
        parity = f"**{r['status'].upper()}**: {r['parity']}"
    cells = [f"`{r['name']}`", r["size"], r["peer"], ours, theirs, speed, mem, parity,
             f"`{r['commit']}`", r["date"], f"`{r['command']}`"]
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def write_block(doc: Path, rows: list[dict], header: str | None):
    """Writes the generated block at the top of `doc` (after its title), replacing the rows of
    the workloads in `rows` and keeping any other rows already in the block; `header` None
    keeps the block's current note."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    old_rows: dict[str, str] = {}
    old_header = ""
    if BEGIN in text and END in text:
        pre, rest = text.split(BEGIN, 1)
        block, post = rest.split(END, 1)
        for line in block.splitlines():
            if line.startswith("| `"):
                old_rows[line.split("`", 2)[1]] = line
            elif line.startswith("**How to read"):
                old_header = line
    else:
        lines = text.splitlines(keepends=True)
        title = 1 if lines and lines[0].startswith("# ") else 0
        pre = "".join(lines[:title]) + "\n"
        post = "\n\n" + "".join(lines[title:]).lstrip("\n")
    for r in rows:
        old_rows[r["name"]] = row_markdown(r)
    order = list(REGISTRY) + [k for k in old_rows if k not in REGISTRY]
    table = TABLE_HEAD + [old_rows[k] for k in order if k in old_rows]
    body = "\n".join([BEGIN, "<!-- generated by benches/peers/run.py (make bench-peers); "
                      "edit that script, not this block -->", header or old_header, "", *table, END])
    doc.write_text(pre.rstrip("\n") + "\n\n" + body + post)


def python_version():
    return sys.version.split()[0]
