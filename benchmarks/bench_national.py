#!/usr/bin/env python
"""National run benchmark (issue 19): a synthetic nation of 31 provinces (Voronoi cells of a
1,265 km square, about Iran's 1.6 million km²) with ≥ 500,000 businesses and ≥ 1,000 estates
(benchmarks/_synthetic.py), run with a Dask LocalCluster of 1 and of 2 worker processes (each with a
fresh cache). Prints the partitioning time, the wall time of the partitions' runs with 1, 2 (and
``--workers``) workers, the peak resident memory per worker, and what separates the product from the
machine:

* the machine's load (``os.getloadavg``, 1-minute average, before and after each run) and its CPUs;
* the CPU time of every partition's run (``Outcome.cpu_s``, the worker process's CPU while it ran)
  next to its wall time. The **CPU share** Σ cpu / Σ wall says how much of the runs' time got a CPU
  (below 1: the runs waited for one — a loaded machine — or for the disk);
* the **wall efficiency** T1 / (n × Tn), what a user sees, which a loaded machine lowers;
* the **CPU-bound efficiency** W1 / (n × Ŧn): the CPU-bound work with 1 worker (W1 = Σ cpu) over n times
  the makespan Ŧn of the n-worker run had each partition taken its CPU time (the runner's order, largest
  first, each to the first free worker) — the efficiency the product would show on a machine to itself:
  load imbalance, a long last partition and extra work with more workers lower it; other users' load
  does not.

With ``--raster N`` it also writes one category's suitability over the whole nation on an N × N grid
(``siteplan.national.raster.write_surface_cog``, 2,048-cell chunks on a LocalCluster of 2 worker
processes) and prints its wall time and the peak memory of each worker and of the writing process
(the issue's figure is N = 40,000).

Run: ``python benchmarks/bench_national.py [--businesses 500000 --estates 1000 --partitions 31] [--raster 40000]``;
``--scale 0.1`` runs a scaled-down nation (businesses, estates and towns × 0.1) and says so;
``--skip-runs`` only the raster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import X0, Y0, write_region  # noqa: E402

from siteplan.national import PartitionsFailed, run_national_file  # noqa: E402


def nation(folder: Path, *, businesses: int, estates: int, partitions: int, towns: int, extent_m: float,
           resolution_m: float) -> Path:
    sc_path = write_region(folder, n_businesses=businesses, n_estates=estates, n_towns=towns, extent_m=extent_m,
                           seed=7, max_distance_km=30.0, resolution_m=resolution_m)
    # a 1,265 km square spans three UTM zones: the nation is laid on a Lambert conformal conic over
    # Iran (the synthetic coordinates kept, the CRS declared as that projection), as a national study would do
    lcc = (f"+proj=lcc +lat_1=29 +lat_2=36 +lat_0=32.5 +lon_0=54 +x_0={X0 + extent_m / 2:.0f} "
           f"+y_0={Y0 + extent_m / 2:.0f} +datum=WGS84 +units=m +no_defs")
    gpkg = folder / "region.gpkg"
    for layer in ("urban", "roads", "estates", "businesses"):
        g = gpd.read_file(gpkg, layer=layer).set_crs(lcc, allow_override=True)
        g.to_file(folder / "nation.gpkg", layer=layer, driver="GPKG", engine="pyogrio")
    rng = np.random.default_rng(11)
    seeds = shapely.multipoints(np.c_[X0 + rng.uniform(0, extent_m, partitions), Y0 + rng.uniform(0, extent_m, partitions)])
    frame = shapely.box(X0, Y0, X0 + extent_m, Y0 + extent_m)
    cells = [shapely.intersection(c, frame) for c in shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))]
    gpd.GeoDataFrame({"ostan": [f"استان {i + 1:02d}" for i in range(len(cells))]}, geometry=cells, crs=lcc).to_file(
        folder / "provinces.gpkg", driver="GPKG", engine="pyogrio")
    sc = yaml.safe_load(sc_path.read_text(encoding="utf-8"))
    sc["layers"] = {k: {"path": "nation.gpkg", "layer": k} for k in sc["layers"]}
    sc["crs"] = lcc
    sc["national"] = {"partitions": {"path": "provinces.gpkg"}, "field": "ostan"}
    sc.update(upgrades={"count": 0}, sites={"count": 1}, classification={"model": False}, sensitivity={"draws": 20})
    out = folder / "national.yaml"
    out.write_text(yaml.safe_dump(sc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def cpu_makespan(units: list[dict], n: int) -> float:
    """The n-worker makespan had every partition taken its CPU time: the runner's order (largest first,
    by businesses owned), each to the first free worker."""
    free = [0.0] * n
    for u in sorted(units, key=lambda u: -(u.get("businesses_owned") or 0)):
        i = free.index(min(free))
        free[i] += u.get("cpu_s") or 0.0
    return max(free)


def raster(path: Path, n: int, extent: float, sample: int = 0, chunk: int = 2048) -> None:
    import resource

    from distributed import Client, LocalCluster

    from siteplan.national.raster import write_surface_cog
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    sc = load_scenario(path)
    sc = sc.national_study().model_copy(update={"categories": ["car_repair"],  # as `suitability --cog` does
                               "grid": sc.grid.model_copy(update={"resolution_m": extent / n})})
    t = time.perf_counter()
    prep = prepare(sc, with_surfaces=False)
    print(f"raster: grid {prep.grid.width:,} × {prep.grid.height:,} cells of {prep.grid.res:.1f} m "
          f"(prepared in {time.perf_counter() - t:.1f} s)")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        t = time.perf_counter()
        out = path.parent / "car_repair.tif"
        if sample:
            from siteplan.scoring.blockwise import BlockPlan
            from siteplan.national.raster import chunk_windows, surface_plan

            windows = chunk_windows(prep.grid.height, prep.grid.width, chunk)
            pick = [windows[i] for i in np.linspace(0, len(windows) - 1, sample).round().astype(int)]
            plan = surface_plan(prep, "car_repair")
            with Client(cluster) as client:
                shared = client.scatter(plan, broadcast=True)
                t = time.perf_counter()
                for fut in client.map(BlockPlan.block, [shared] * len(pick), pick, pure=False):
                    fut.result()
                wall = time.perf_counter() - t
            print(f"raster: {sample} of {len(windows)} chunks ({chunk:,} cells) in {wall:.1f} s on 2 workers; the whole "
                  f"grid projected at {wall / sample * len(windows) / 60:,.0f} min (not run in full)")
        else:
            write_surface_cog(prep, "car_repair", out, chunk=chunk, scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - t

        def peak() -> float:
            import resource as r

            return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024

        with Client(cluster) as client:
            peaks = client.run(peak)
    finally:
        cluster.close()
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = f"COG {out.stat().st_size / 1e6:,.1f} MB; " if out.exists() else ""
    print(f"raster: {wall:.1f} s on 2 workers; {size}peak memory per worker: "
          + ", ".join(f"{v:,.0f} MB" for v in sorted(peaks.values())) + f"; main process {me:,.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--businesses", type=int, default=500_000)
    ap.add_argument("--estates", type=int, default=1_000)
    ap.add_argument("--partitions", type=int, default=31)
    ap.add_argument("--scale", type=float, default=1.0, help="scale businesses, estates and towns (< 1: scaled down)")
    ap.add_argument("--resolution", type=float, default=5000.0, help="suitability grid (m)")
    ap.add_argument("--raster", type=int, default=0, help="N: the national raster path on an N × N grid")
    ap.add_argument("--chunk", type=int, default=2048, help="raster chunk size (cells)")
    ap.add_argument("--skip-runs", action="store_true", help="only the raster path")
    ap.add_argument("--workers", type=int, nargs="*", default=[],
                    help="more worker counts to measure after 1 and 2 (e.g. --workers 4 8)")
    ap.add_argument("--raster-sample", type=int, default=0,
                    help="K > 0: compute only K chunks spread over the grid (real chunk size and halos, so the "
                         "real peak memory per worker) and project the whole grid's time from them")
    args = ap.parse_args()
    nb, ne = int(args.businesses * args.scale), int(args.estates * args.scale)
    towns = max(3 * args.partitions, int(1500 * args.scale))
    extent = 1_265_000.0
    tmp = Path(tempfile.mkdtemp(prefix="siteplan-bench-national-"))
    try:
        t = time.perf_counter()
        path = nation(tmp, businesses=nb, estates=ne, partitions=args.partitions, towns=towns, extent_m=extent,
                      resolution_m=args.resolution)
        print(f"synthetic nation: {args.partitions} partitions, {nb:,} businesses, {ne:,} estates, {towns} towns, "
              f"{extent / 1000:,.0f} km square, grid {args.resolution:g} m (built in {time.perf_counter() - t:.1f} s)"
              + ("" if args.scale >= 1 else f"  [SCALED DOWN × {args.scale:g}]"))
        if args.raster:
            raster(path, args.raster, extent, args.raster_sample, args.chunk)
        if args.skip_runs:
            return
        runs: dict[int, dict[str, float]] = {}
        for workers in [1, 2, *[w for w in args.workers if w > 2]]:
            out = tmp / f"out{workers}"
            load0 = os.getloadavg()[0]
            t = time.perf_counter()
            try:
                run_national_file(path, out, workers=workers, cache=tmp / f"cache{workers}")
            except PartitionsFailed as exc:
                print(f"workers={workers}: {exc}")
            wall = time.perf_counter() - t
            load1 = os.getloadavg()[0]
            man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            peaks: dict[str, float] = {}
            for u in man["units"]:
                peaks[u["worker"]] = max(peaks.get(u["worker"], 0.0), u.get("peak_mb") or 0.0)
            cpu = sum(u.get("cpu_s") or 0.0 for u in man["units"])
            busy = sum(u.get("seconds") or 0.0 for u in man["units"])
            runs[workers] = {"run": man["timings_s"]["run"], "cpu": cpu, "wait": max(busy - cpu, 0.0),
                             "span": cpu_makespan(man["units"], workers)}
            print(f"workers={workers}: partition {man['timings_s']['partition']:.1f} s, partitions' runs "
                  f"{man['timings_s']['run']:.1f} s (CPU {cpu:.1f} s, CPU share {cpu / busy if busy else 0:.0%}), "
                  f"gather {man['timings_s']['gather']:.1f} s, total {wall:.1f} s; machine load {load0:.1f} → "
                  f"{load1:.1f} on {os.cpu_count()} CPUs; peak memory per worker: "
                  + ", ".join(f"{v:,.0f} MB" for v in sorted(peaks.values())))
        for n in sorted(runs)[1:]:
            r1, rn = runs[1], runs[n]
            wall_eff = r1["run"] / (n * rn["run"])
            cpu_eff = r1["cpu"] / max(n * rn["span"], 1e-9)
            print(f"1 → {n} workers: wall efficiency {100 * wall_eff:.0f} %; CPU-bound efficiency {100 * cpu_eff:.0f} % "
                  f"(work {r1['cpu']:.1f} → {rn['cpu']:.1f} CPU s, CPU makespan {rn['span']:.1f} s; the runs waited "
                  f"{rn['wait']:.1f} s for a CPU or the disk)")
        same = all((tmp / "out1" / f).read_bytes() == (tmp / "out2" / f).read_bytes()
                   for f in ("relocation.csv", "estate_summary.csv", "estates.geojson", "zones.geojson"))
        print(f"national outputs byte-identical with 1 and 2 workers: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
