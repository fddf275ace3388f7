#!/usr/bin/env python
"""Locate benchmarks.

1. p-median with 2,000 demand points, 200 candidates, p = 20 (target: at most 5 s with a reported gap of
   at most 1 %), and the same instance with spopt's ``PMedian`` and its default CBC solver under a
   120 s limit (skipped when spopt is not installed: ``pip install spopt``). Prints both objectives
   and times.
2. Finding 5 regions of 50 ha each on a 2,000 × 2,000 grid (target: at most 10 s).

Run: ``python benchmarks/bench_locate.py [--no-spopt]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from siteplan.scoring.criteria import Grid
from siteplan.locate.facility import p_median
from siteplan.locate.ranking import grow_regions


def instance(seed: int = 0):
    rng = np.random.default_rng(seed)
    d, f = rng.uniform(0, 100, (2000, 2)), rng.uniform(0, 100, (200, 2))
    cost = np.hypot(*(d[:, None, :] - f[None, :, :]).transpose(2, 0, 1))
    return cost, rng.integers(1, 10, 2000).astype(float)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-spopt", action="store_true")
    args = ap.parse_args()
    cost, w = instance()
    times, res = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        res = p_median(cost, w, 20)
        times.append(time.perf_counter() - t0)
    print(f"p-median 2000 x 200, p = 20, siteplan: median {sorted(times)[1]:.2f} s, objective {res.objective:.2f}, "
          f"lower bound {res.lower_bound:.2f}, gap {100 * res.gap:.3f} % ({res.method})")
    if not args.no_spopt:
        try:
            import pulp
            from spopt.locate import PMedian
        except ImportError:
            print("spopt not installed: skipped (pip install spopt)")
        else:
            t0 = time.perf_counter()
            pm = PMedian.from_cost_matrix(cost, w, p_facilities=20)
            t1 = time.perf_counter()
            try:
                pm = pm.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
                note = ""
            except RuntimeError as exc:  # spopt raises when CBC stops at the limit without proving optimality
                note = f" ({exc})"
            t2 = time.perf_counter()
            obj = pulp.value(pm.problem.objective)
            obj_txt = f"{obj:.2f}" if obj is not None else "none"
            print(f"p-median 2000 x 200, p = 20, spopt PMedian + CBC (120 s limit): build {t1 - t0:.1f} s, "
                  f"solve {t2 - t1:.1f} s, objective {obj_txt}, status {pulp.LpStatus[pm.problem.status]}{note}")
    rng = np.random.default_rng(1)
    score = ndimage.gaussian_filter(rng.random((2000, 2000)), 20).astype(np.float32)
    score = (score - score.min()) / (score.max() - score.min())
    allowed = ndimage.gaussian_filter(rng.random((2000, 2000)), 8) > 0.497
    grid = Grid(Affine(10, 0, 500000, 0, -10, 3620000), 2000, 2000, 10.0, CRS.from_epsg(32639))
    t0 = time.perf_counter()
    found = grow_regions(score, allowed, grid, count=5, area_ha=50, min_area_ha=40, max_area_ha=60,
                         min_spacing_m=1000)
    t = time.perf_counter() - t0
    areas = [round(float(r.sum()) * 0.01, 2) for r in found.regions]
    print(f"5 regions of 50 ha on a 2000 x 2000 grid (10 m cells): {t:.2f} s; areas {areas} ha; "
          f"failures: {found.failures or 'none'}")


if __name__ == "__main__":
    main()
