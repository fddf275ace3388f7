"""Road travel costs (:mod:`siteplan.roads`, issue #26).

1. ``travel_costs`` for 100,000 businesses to 1,000 estates within a 30 km reach on a synthetic road
   grid (a 200 × 200 km province, roads every 1 km, every 10th a primary road, one line in five one-way
   on the minor grid): time (target ≤ 60 s) and peak memory (target ≤ 4 GB), on at most 2 threads.
2. The demo's whole run (in process, no files written) with road costs (the default) and with
   ``allocation.distance: straight``: wall and CPU time (target: road ≤ 1.2 × straight).

Run: ``PYTHONPATH=. python benchmarks/bench_roads.py [--skip-demo]``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from siteplan.roads import build_network, travel_costs  # noqa: E402

SIDE_KM = 200
STEP_KM = 1.0
N_BIZ = 100_000
N_EST = 1_000
REACH_KM = 30.0


def synthetic_grid() -> gpd.GeoDataFrame:
    """Horizontal and vertical roads every STEP_KM across a SIDE_KM square (metres, UTM 39N)."""
    n = int(SIDE_KM / STEP_KM) + 1
    side = SIDE_KM * 1000.0
    pos = np.arange(n) * STEP_KM * 1000.0
    lines, cls, oneway = [], [], []
    for k, p in enumerate(pos):
        main = k % 10 == 0
        for coords in (np.column_stack([np.linspace(0, side, n), np.full(n, p)]),
                       np.column_stack([np.full(n, p), np.linspace(0, side, n)])):
            lines.append(shapely.linestrings(coords))
            cls.append("primary" if main else "other")
            oneway.append("yes" if (not main and k % 5 == 3) else "no")
    return gpd.GeoDataFrame({"road_class": cls, "oneway": oneway}, geometry=lines, crs=32639)


def bench_costs() -> None:
    rng = np.random.default_rng(0)
    roads = synthetic_grid()
    side = SIDE_KM * 1000.0
    biz = shapely.points(rng.uniform(0, side, (N_BIZ, 2)))
    centres = rng.uniform(0, side, (N_EST, 2))
    est = shapely.buffer(shapely.points(centres), 300.0)      # estates as polygons
    t0 = time.perf_counter()
    c0 = time.process_time()
    net = build_network(roads)
    t_build = time.perf_counter() - t0
    tc = travel_costs(biz, est, net, reach_km=REACH_KM)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    far = tc.straight_km > 1.0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"road costs: {N_BIZ:,} businesses × {N_EST:,} estates, reach {REACH_KM:g} km, grid {net.n_nodes:,} nodes, "
          f"{len(net.seg_a):,} segments ({int(net.seg_oneway.sum()):,} one-way)")
    print(f"  graph built in {t_build:.2f} s; pairs within reach {len(tc.i):,} "
          f"({len(tc.i) / N_BIZ:.1f} per business); median road/straight {np.median(tc.km[far] / tc.straight_km[far]):.3f} "
          "(pairs over 1 km apart)")
    print(f"  wall {wall:.1f} s (target ≤ 60 s), CPU {cpu:.1f} s, peak RSS {peak_gb:.2f} GB (target ≤ 4 GB)")
    assert (tc.km >= tc.straight_km - 1e-9).all()


def bench_demo() -> None:
    from siteplan.pipeline import demo_scenario_path, run
    from siteplan.scenario import load_scenario

    sc = load_scenario(demo_scenario_path())
    straight = sc.model_copy(update={"allocation": sc.allocation.model_copy(update={"distance": "straight"})})
    out = {}
    for name, s in (("straight", straight), ("road", sc)):
        t0, c0 = time.perf_counter(), time.process_time()
        res = run(s)
        out[name] = (time.perf_counter() - t0, time.process_time() - c0, res.timings)
        print(f"demo run, {name}: wall {out[name][0]:.1f} s, CPU {out[name][1]:.1f} s; "
              f"allocate {res.timings.get('allocate', 0):.2f} s, locate {res.timings.get('locate', 0):.2f} s")
    print(f"  road / straight: wall {out['road'][0] / out['straight'][0]:.2f}×, CPU {out['road'][1] / out['straight'][1]:.2f}× "
          "(target ≤ 1.20×)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-costs", action="store_true")
    a = ap.parse_args()
    if not a.skip_costs:
        bench_costs()
    if not a.skip_demo:
        bench_demo()
