#!/usr/bin/env python
"""The whole pipeline end to end, stage by stage (targets on a quiet 2-core machine: the demo at most
10 s; 100,000 businesses × 1,000 estates at most 60 s and 4 GB).

Each case runs in a fresh process (``python -m siteplan run``), so imports and the name model's
training or cache hit count, and prints wall time, CPU time (user + sys of the process: the figure to
compare on a loaded machine), peak memory, the stage timings of the manifest and the load average.
``--cold`` points siteplan's cache folder (``SITEPLAN_CACHE_DIR``: the name model and the relocation
solves) at an empty folder, so training and the solve are counted; by default the user's cache is used
as a second run would (the synthetic case is seeded, so its solve is cached after its first run: compare
``allocate`` only between runs of the same kind).

Run: ``python benchmarks/bench_pipeline.py [--demo-only] [--cold] [--businesses 100000 --estates 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def run_case(name: str, scenario: Path, out: Path, env: dict[str, str]) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "siteplan", "--quiet", "run", str(scenario), "--out", str(out),
                        "--overwrite"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{name} failed: {r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s (user+sys), peak RSS {after.ru_maxrss / 1024:.0f} MB, "
          f"load average at start {load:.2f} on {os.cpu_count()} CPUs")
    print("  stages (s, wall): " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings_s"].items()))
    if "timings_cpu_s" in m:
        print("  stages (s, CPU):  " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings_cpu_s"].items()))
    print(f"  solver gap {m['solver']['gap']:.3g}; assigned {m['counts']['assigned']}, sites {m['counts']['sites']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo-only", action="store_true")
    ap.add_argument("--cold", action="store_true", help="an empty name model cache (training counted)")
    ap.add_argument("--businesses", type=int, default=100_000)
    ap.add_argument("--estates", type=int, default=1_000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    env = dict(os.environ)
    if a.cold:
        env["SITEPLAN_CACHE_DIR"] = str(tmp / "cache")
    from siteplan.pipeline import demo_scenario_path

    run_case("demo", demo_scenario_path(), tmp / "demo", env)
    if not a.demo_only:
        from _synthetic import write_region

        sc = write_region(tmp / "big", n_businesses=a.businesses, n_estates=a.estates)
        run_case(f"{a.businesses} businesses × {a.estates} estates", sc, tmp / "big-out", env)


if __name__ == "__main__":
    main()
