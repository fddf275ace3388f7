#!/usr/bin/env python
"""Relocation solver benchmarks.

1. 100,000 businesses and 1,000 estates within a 30 km limit (targets: at most 30 s, gap to the LP
   bound at most 0.5 %, peak memory under 4 GB): times :func:`siteplan.relocation.allocate`
   and prints the solver report and the process's peak memory.
2. 20,000 businesses × 200 estates: the relaxed problem as a dense LP solved by
   ``scipy.optimize.linprog(method="highs")`` against siteplan's relaxation (a min-cost flow on the
   pruned arcs); prints both times, the speed ratio (target at least 20×) and both relaxed objectives
   (should agree).

3. ``--hard SECONDS``: a small but hard instance (959 units with fractional land, 7 estates with tight
   capacities, about 4,240 arcs — under the 5,000 arcs of the exact path): the exact MILP stops at the
   time limit and the large-instance path answers; prints the fallback, the objective, the bound and
   the time, and the same instance through the large-instance path alone (issue 16, deliver 6).

Run: ``python benchmarks/bench_relocation.py [--businesses 100000 --estates 1000] [--hard 10]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from shapely.geometry import box

from siteplan.guilds.catalogue import load_catalogue
from siteplan.relocation import allocate, estate_capacity
from siteplan.scenario import AllocationSpec

UTM = "EPSG:32639"


def world(n_biz: int, n_est: int, extent_m: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    # businesses clustered around 300 towns, estates near towns
    tx, ty = rng.uniform(0, extent_m, 300), rng.uniform(0, extent_m, 300)
    k = rng.integers(300, size=n_biz)
    bx, by = tx[k] + rng.normal(0, 2000, n_biz), ty[k] + rng.normal(0, 2000, n_biz)
    ke = rng.integers(300, size=n_est)
    ex, ey = tx[ke] + rng.normal(0, 8000, n_est), ty[ke] + rng.normal(0, 8000, n_est)
    side = np.sqrt(rng.uniform(20, 200, n_est) * 1e4)
    est = gpd.GeoDataFrame({"estate_id": [f"E{i:04d}" for i in range(n_est)], "name": "e", "kind": "estate",
                            "vacant_ha": np.round(side ** 2 / 1e4 * rng.uniform(0.1, 0.4, n_est), 1)},
                           geometry=[box(x - s / 2, y - s / 2, x + s / 2, y + s / 2) for x, y, s in zip(ex, ey, side)],
                           crs=UTM)
    biz = gpd.GeoDataFrame({"biz_id": [f"B{i:06d}" for i in range(n_biz)],
                            "category": rng.choice(cat.codes, n_biz).astype(object)},
                           geometry=gpd.points_from_xy(bx, by), crs=UTM)
    elig = pd.DataFrame([(e, c, bool(rng.random() < 0.85), "", float(rng.choice([0.6, 0.8, 1.0])), 1.0)
                         for e in est.estate_id for c in cat.codes],
                        columns=["estate_id", "category", "eligible", "reason", "usable_frac", "usable_ha"])
    return cat, est, biz, elig


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--businesses", type=int, default=100_000)
    ap.add_argument("--estates", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="another random province (default 0)")
    ap.add_argument("--passes", type=int, default=None, help="allocation.search_passes (default: the scenario default)")
    ap.add_argument("--skip-dense", action="store_true")
    ap.add_argument("--exact", type=float, default=0, metavar="SECONDS",
                    help="also: 10,000 x 100 at the same density, siteplan against HiGHS on the whole MILP "
                         "with this time limit")
    ap.add_argument("--hard", type=int, default=0, metavar="NODES",
                    help="only the hard small instance, with this allocation.exact_node_limit")
    args = ap.parse_args()
    if args.hard:
        hard_check(args.hard)
        return
    cat, est, biz, elig = world(args.businesses, args.estates, 400_000, seed=args.seed)
    spec = AllocationSpec(max_distance_km=30, **({} if args.passes is None else {"search_passes": args.passes}))
    cap = estate_capacity(est, None, spec.net_to_gross)
    t0 = time.perf_counter()
    plan = allocate(biz, est, cat, elig, cap, None, spec)
    t = time.perf_counter() - t0
    s = plan.solver
    tm = s.get("timings_s", {})
    print(f"{args.businesses} businesses x {args.estates} estates (30 km, seed {args.seed}): allocate {t:.1f} s "
          f"(relaxation {tm.get('relaxation_s', 0):.1f} s, repair {tm.get('repair_s', 0):.1f} s, "
          f"local search {tm.get('search_s', 0):.1f} s, the rest = building arcs and rows) (target <= 30 s); "
          f"arcs {s['arcs']}; relaxation {s['relaxation']}; objective {s['objective']:.2f}, bound {s['lp_bound']:.2f}: "
          f"gap to the LP bound {100 * s['gap']:.4f} % (target <= 0.5 %); status {s['status']}; "
          f"peak memory {peak_mb():.0f} MB (target < 4096); assigned {(plan.rows.status == 'assigned').sum()}")
    if args.exact:
        exact_check(args.exact)
    if args.skip_dense:
        return
    # the relaxed problem on 20,000 x 200: dense linprog against siteplan's relaxation on pruned arcs
    cat, est, biz, elig = world(20_000, 200, 150_000, seed=1)
    elig["usable_frac"] = 1.0  # one capacity row per estate, as in the dense model
    elig["eligible"] = True
    cap = estate_capacity(est, None, spec.net_to_gross)
    big_spec = AllocationSpec(max_distance_km=30, suitability_weight=0.0)
    ours = allocate(biz, est, cat, elig, cap, None, big_spec).solver
    t_ours = ours["timings_s"]["relaxation_s"]
    # dense: every business to every estate, arcs beyond 30 km priced out above the unassigned penalty
    land = biz["category"].map(dict(zip(cat.table.code, cat.table.land_m2))).to_numpy(float)
    import shapely

    exact_d = shapely.distance(np.asarray(biz.geometry.values)[:, None], np.asarray(est.geometry.values)[None, :]) / 1000
    n, m = exact_d.shape
    rank = biz["category"].map(lambda c: cat.env_rank(c)).to_numpy(float)
    pen = land / 1e4 * (30 * 1 + 1.0) * (1 + rank / 10)
    cost = np.where(exact_d <= 30, land[:, None] / 1e4 * exact_d, pen[:, None] * 2)
    c = np.concatenate([cost.ravel(), pen])
    nv = n * m + n
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([np.repeat(np.arange(n), m), np.arange(n)]), np.arange(nv))),
                             shape=(n, nv))
    a_ub = sparse.csr_matrix((np.repeat(land, m),
                              (np.tile(np.arange(m), n), np.arange(n * m))), shape=(m, nv))
    b_ub = cap["capacity_m2"].to_numpy()
    t0 = time.perf_counter()
    r = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")
    t_dense = time.perf_counter() - t0
    print(f"20000 x 200 relaxed problem: dense linprog {t_dense:.2f} s, objective {r.fun:.4f}; siteplan "
          f"({ours['relaxation']}, {ours['arcs']} arcs) {t_ours:.2f} s, objective of its solution "
          f"{ours['relaxed_objective']:.4f}, proven bound {ours['lp_bound']:.4f}; speed ratio {t_dense / t_ours:.1f}x "
          f"(target >= 20x); objectives differ by {abs(r.fun - ours['relaxed_objective']) / abs(r.fun):.2e} (relative)")


def exact_check(seconds: float) -> None:
    """siteplan's answer against HiGHS on the whole MILP (10,000 x 100, same density as 100k x 1k)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from siteplan.relocation import SolverOptions, build_model, solve_model

    cat, est, biz, elig = world(10_000, 100, 400_000 * np.sqrt(0.1))
    spec = AllocationSpec(max_distance_km=30)
    model = build_model(biz.reset_index(drop=True), est, cat, elig, estate_capacity(est, None, spec.net_to_gross),
                        None, spec)
    t0 = time.perf_counter()
    ours = solve_model(model, SolverOptions.from_spec(spec))
    t_ours = time.perf_counter() - t0
    nu, na = model.n_units, model.n_arcs
    a_ub, b_ub = model.capacity_matrix()
    nv = na + nu
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([model.arc_u, np.arange(nu)]), np.arange(nv))),
                             shape=(nu, nv))
    cons = [LinearConstraint(a_eq, 1, 1),
            LinearConstraint(sparse.hstack([a_ub, sparse.csr_matrix((len(b_ub), nu))]), -np.inf, b_ub)]
    t0 = time.perf_counter()
    r = milp(np.concatenate([model.cost, model.penalty]), constraints=cons, integrality=np.ones(nv),
             bounds=Bounds(0, 1), options={"time_limit": seconds, "mip_rel_gap": 1e-4})
    t_ex = time.perf_counter() - t0
    print(f"10000 x 100 (same density): siteplan {t_ours:.1f} s, objective {ours.objective:.2f} "
          f"(gap to the LP bound {100 * ours.gap:.3f} %); HiGHS on the whole MILP ({t_ex:.0f} s, "
          f"limit {seconds:g} s): objective {r.fun:.2f}, dual bound {getattr(r, 'mip_dual_bound', float('nan')):.2f}; "
          f"siteplan is {100 * (ours.objective / r.fun - 1):.3f} % above HiGHS's best")


def hard_instance():
    """The instance of tests/test_relocation_limits.py (its generator, its seed)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_relocation_limits import hard_instance as generate

    return generate()


def hard_check(nodes: int) -> None:
    """The hard small instance under ``allocation.exact_node_limit = nodes``, and the large path alone."""
    from siteplan.relocation import SolverOptions, solve_model

    model = hard_instance()
    t0 = time.perf_counter()
    res = solve_model(model, SolverOptions.from_spec(AllocationSpec(exact_node_limit=nodes)))
    t = time.perf_counter() - t0
    print(f"hard instance: {model.n_units} units, {model.n_estates} estates, {model.n_arcs} arcs, fractional land; "
          f"node limit {nodes}: answered in {t:.1f} s; fallback: {res.fallback or 'none'}; objective "
          f"{res.objective:.4f}, bound {res.lp_bound:.4f}, gap {100 * res.gap:.4f} %, status {res.status}")
    t0 = time.perf_counter()
    large = solve_model(model, exact_max_arcs=0)
    t = time.perf_counter() - t0
    print(f"hard instance, large-instance path alone: {t:.1f} s, objective {large.objective:.4f}, bound "
          f"{large.lp_bound:.4f}, gap {100 * large.gap:.4f} %")


if __name__ == "__main__":
    main()
