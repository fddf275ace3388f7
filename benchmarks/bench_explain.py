#!/usr/bin/env python
"""Explain from a finished run (target: at most 1 s on the demo).

Runs the demo once (or takes ``--run DIR``, a folder ``siteplan run`` wrote), then times
``siteplan explain RUN_DIR`` as a user runs it — a fresh ``python -m siteplan`` process, start-up
and imports included — for an estate and for a point, and :func:`siteplan.outputs.explain.explain_run` inside
one process. Prints wall time and the process's CPU time (user + sys: the figure to compare on a loaded
machine) and the machine's load average.

Run: ``python benchmarks/bench_explain.py [--run DIR] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_cli(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``python -m siteplan ARGS`` in a fresh process."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = _child_cpu(), time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "siteplan", *args], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(_child_cpu() - c0)
        if r.returncode != 0:
            raise SystemExit(f"explain failed: {r.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=None, help="a finished run of the demo (default: run it now)")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    run = a.run
    if run is None:
        from siteplan.pipeline import demo_scenario_path, run_scenario_file

        run = Path(tempfile.mkdtemp(prefix="bench-explain-")) / "demo"
        run_scenario_file(demo_scenario_path(), run)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; run {run}")
    cases = {"estate": ["--category", "stone_cutting", "--estate", "E14"],
             "point": ["--category", "car_repair", "--at", "51.6776,32.6572"]}
    for what, args in cases.items():
        wall, cpu = time_cli(["explain", str(run), *args, "--format", "json"], a.repeat)
        print(f"siteplan explain RUN_DIR ({what}), fresh process: wall {wall:.2f} s, CPU {cpu:.2f} s (median of {a.repeat})")
    from siteplan.outputs.explain import explain_run

    for what, (code, kw) in {"estate": ("stone_cutting", {"estate": "E14"}),
                             "point": ("car_repair", {"at": (51.6776, 32.6572)})}.items():
        t0, c0 = time.perf_counter(), time.process_time()
        explain_run(run, code, **kw)  # type: ignore[arg-type]
        print(f"explain_run ({what}), in process: wall {time.perf_counter() - t0:.3f} s, "
              f"CPU {time.process_time() - c0:.3f} s")


if __name__ == "__main__":
    main()
