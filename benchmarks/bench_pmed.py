#!/usr/bin/env python
"""p-median heuristic on Beasley's OR-Library pmed1–pmed40 (issue 16, deliver 7).

For each instance: siteplan's heuristic (:func:`siteplan.locate.facility.p_median` with the exact MILP off)
on the graph's shortest-path distances, unit weights, every vertex a candidate. Prints the objective,
the gap to the published optimum, the gap between the objective and the reported lower bound (and
that the bound does not exceed the optimum) and the time; then the mean and max (targets: mean gap
≤ 0.05 %, none above 0.5 %, each ≤ 10 s on 2 cores).

Instances stored in ``benchmarks/data/orlib/`` are read (their header checked against the published
n, edges, p). With ``--like``, each missing one is replaced by an instance of the same shape generated
like Beasley's (``_orlib.like``): no published optimum then, only the gap to the bound (an upper bound
on the gap to the optimum); ``--exact SECONDS`` also solves those with HiGHS to get their optimum.

Run: ``python benchmarks/bench_pmed.py [--like] [--only pmed1 pmed5 ...]``.
"""

from __future__ import annotations

import argparse
import time

import _orlib
import numpy as np

from siteplan.locate.facility import _pmedian_milp, p_median


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--like", action="store_true", help="generate same-shape instances for the missing files")
    ap.add_argument("--only", nargs="*", default=None, help="instances to run (default: all 40)")
    ap.add_argument("--exact", type=float, default=0.0, metavar="SECONDS",
                    help="solve generated instances with HiGHS (this time limit) to get their optimum")
    args = ap.parse_args()
    names = args.only or list(_orlib.PMED)
    gaps, times, bound_gaps, missing = [], [], [], []
    print(f"{'instance':9} {'n':>4} {'p':>4} {'source':9} {'objective':>10} {'optimum':>8} {'gap %':>7} "
          f"{'bound':>10} {'bound gap %':>11} {'time s':>7}")
    for name in names:
        n, e, p, opt = _orlib.PMED[name]
        path = _orlib.find(name)
        if path is not None:
            d, p_file, e_file = _orlib.read(path)
            if (d.shape[0], e_file, p_file) != (n, e, p):
                raise SystemExit(f"{path}: header n={d.shape[0]} edges={e_file} p={p_file}, published {n} {e} {p}")
            source, optimum = "OR-Lib", float(opt)
        elif args.like:
            d, p = _orlib.like(name)
            source, optimum = "like", float("nan")
            if args.exact:
                ex = _pmedian_milp(d, p, args.exact)
                if ex is not None and ex.status == "optimal":
                    optimum = ex.objective
        else:
            missing.append(name)
            continue
        t0 = time.perf_counter()
        res = p_median(d, np.ones(n), p, exact_max_vars=0)
        t = time.perf_counter() - t0
        gap = (res.objective - optimum) / optimum if np.isfinite(optimum) else float("nan")
        bgap = (res.objective - res.lower_bound) / res.objective
        if np.isfinite(optimum) and res.lower_bound > optimum + 1e-6:
            raise SystemExit(f"{name}: the lower bound {res.lower_bound} exceeds the optimum {optimum}")
        times.append(t)
        bound_gaps.append(bgap)
        if np.isfinite(gap):
            gaps.append(gap)
        print(f"{name:9} {n:4d} {p:4d} {source:9} {res.objective:10.0f} {optimum:8.0f} "
              f"{100 * gap:7.3f} {res.lower_bound:10.1f} {100 * bgap:11.3f} {t:7.2f}", flush=True)
    if gaps:
        print(f"gap to the optimum over {len(gaps)} instances: mean {100 * np.mean(gaps):.4f} %, "
              f"max {100 * np.max(gaps):.4f} % (targets: mean <= 0.05 %, max <= 0.5 %)")
    if bound_gaps:
        print(f"gap to the lower bound over {len(bound_gaps)} instances: mean {100 * np.mean(bound_gaps):.4f} %, "
              f"max {100 * np.max(bound_gaps):.4f} %; time: mean {np.mean(times):.2f} s, max {np.max(times):.2f} s "
              f"(target <= 10 s each)")
    if missing:
        print(f"not stored here (see benchmarks/data/orlib/README.md; --like runs same-shape instances): "
              f"{', '.join(missing)}")


if __name__ == "__main__":
    main()
