"""Runs a command and reports its wall time and peak RSS, for harness.Ctx.measure:

    python -S benches/peers/spawn.py REPORT.json ARGV...

Why a separate small process: Linux counts in a child's ru_maxrss the resident size of the
process it was forked from (the address space it replaced at exec), so a child forked straight
from the benchmark runner, which holds generated inputs and outputs, would be reported at
least as large as the runner. Forked from this small interpreter (about 10 MB), the child's
peak is its own. The wall time is taken here, around the child alone.
"""

import json
import os
import subprocess
import sys
import time

report, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
p = subprocess.Popen(argv)
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as f:
    json.dump({"wall_s": wall, "peak_rss": ru.ru_maxrss * 1024, "exit": code}, f)
sys.exit(code if 0 <= code < 256 else 1)
