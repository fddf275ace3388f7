#!/usr/bin/env python
"""A one-estate what-if on the demo: "what if E14 gets wastewater?" (target: at most 5 s on a quiet
2-core machine).

Copies the demo's scenario and layers into a temporary folder, runs the demo as it is (run A, cold),
then the same scenario with estate ``--estate``'s ``wastewater`` set to 1 in the estates layer (run B)
with ``--reuse`` of run A (the stage cache, :mod:`siteplan.outputs.stagecache`), then run B cold (``--no-check``
leaves it out) to check that both write the same bytes; each in a fresh ``python -m siteplan run``
process. Prints for each the wall time, the CPU time of the process (user + sys: the figure to compare
on a loaded machine), the stage timings of its manifest (wall and CPU), what was reused and the load
average; then which outputs the what-if changed. ``--run-args`` replaces run B's extra arguments
(default ``--reuse RUN_A``). Runs A and B share a fresh, empty cache folder (so B finds A's solves and
the trained name model, never B's own from an earlier bench: the first-time what-if a planner meets);
``--user-cache`` uses the cache folder the environment says instead (a second asking of the same what-if
then reads B's solves and is faster: the figure the user's cache gives, not a first answer).

``--verify N`` sets ``upgrades.verify`` in both scenarios (0: the what-if with every upgrade an estimate).

Run: ``python benchmarks/bench_whatif.py [--estate E14] [--run-args "..."] [--no-check] [--verify N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_case(name: str, scenario: Path, out: Path, extra: list[str], env: dict[str, str] | None = None
             ) -> tuple[dict[str, str], dict[str, object]]:
    """Run one scenario in a fresh process; print its figures; return its outputs' hashes and manifest."""
    load = os.getloadavg()[0]
    c0, t0 = _child_cpu(), time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "siteplan", "--quiet", "run", str(scenario), "--out", str(out),
                        "--overwrite", *extra], capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
    if r.returncode != 0:
        raise SystemExit(f"{name} failed: {r.stderr}")
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s (user+sys), load average at start {load:.2f} on "
          f"{os.cpu_count()} CPUs")
    print("  stages (s, wall): " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings_s"].items()))
    if "timings_cpu_s" in m:
        print("  stages (s, CPU):  " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings_cpu_s"].items()))
    if m.get("reused"):
        r = m["reused"]
        print(f"  reused: {', '.join(r['stages']) or 'nothing'} "
              "(" + ", ".join(f"{k} {v['reused']} of {v['of']}" for k, v in r.items() if isinstance(v, dict)) + ")")
        for n in r.get("notes", []):
            print(f"  note: {n}")
    return dict(m["outputs_sha256"]), m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--estate", default="E14", help="the estate that gets wastewater")
    ap.add_argument("--run-args", default=None, help="extra arguments of run B (shell words; default --reuse RUN_A)")
    ap.add_argument("--no-check", action="store_true", help="do not run B cold to check the bytes")
    ap.add_argument("--user-cache", action="store_true",
                    help="use the environment's cache folder (default: a fresh one shared by A and B)")
    ap.add_argument("--verify", type=int, default=None,
                    help="set upgrades.verify in both scenarios (e.g. 0: every upgrade an estimate)")
    a = ap.parse_args()
    import geopandas as gpd

    from siteplan.pipeline import demo_scenario_path

    src = demo_scenario_path().parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-whatif-"))
    if not a.user_cache:
        os.environ["SITEPLAN_CACHE_DIR"] = str(tmp / "cache")
    base, what = tmp / "a", tmp / "b"
    for d in (base, what):
        shutil.copytree(src, d, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    if a.verify is not None:
        import yaml

        for d in (base, what):
            sc = yaml.safe_load((d / "demo.yaml").read_text(encoding="utf-8"))
            sc.setdefault("upgrades", {})["verify"] = a.verify
            (d / "demo.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shp = what / "shapefiles" / "isfahan_demo" / "estates.shp"
    est = gpd.read_file(shp)
    at = est["estate_id"].astype(str) == a.estate
    if not at.any():
        raise SystemExit(f"--estate {a.estate}: not an estate of the demo")
    est.loc[at, "wastewater"] = 1
    est.to_file(shp, encoding="utf-8")
    print(f"cache folder: {os.environ.get('SITEPLAN_CACHE_DIR', '~/.cache/siteplan (default)')}"
          f"{'' if a.user_cache else ' (fresh, shared by A and B)'}")
    h_a, _ = run_case("A: the demo, cold", base / "demo.yaml", tmp / "out-a", [])
    extra = shlex.split(a.run_args) if a.run_args is not None else ["--reuse", str(tmp / "out-a")]
    h_b, _ = run_case(f"B: {a.estate} gets wastewater, {' '.join(extra) or 'no options'}", what / "demo.yaml",
                        tmp / "out-b", extra)
    if not a.no_check:
        # no cache folder at all: B's relocation solves are not read from what run B stored
        h_c, _ = run_case(f"B cold (SITEPLAN_CACHE_DIR=off): {a.estate} gets wastewater", what / "demo.yaml",
                          tmp / "out-c", [], {"SITEPLAN_CACHE_DIR": "off"})
        skip = {"manifest.json"}
        same = {k: v for k, v in h_b.items() if k not in skip} == {k: v for k, v in h_c.items() if k not in skip}
        print(f"B with {' '.join(extra)} writes the bytes of B cold: {'yes' if same else 'NO'} "
              f"({len(h_c)} files, manifest's timings aside)")
    changed = sorted(k for k in h_a.keys() | h_b.keys() if h_a.get(k) != h_b.get(k))
    print(f"outputs the what-if changed: {len(changed)} of {len(h_b)} ({', '.join(changed[:12])}"
          f"{' …' if len(changed) > 12 else ''})")


if __name__ == "__main__":
    main()
