#!/usr/bin/env python
"""A 20,000 × 20,000 grid with 6 criteria, block by block (target: peak memory under 2 GB).

Builds a synthetic 600 × 600 km region at 30 m (towns, roads, power lines, estates, a protected area)
and computes one category's suitability with :func:`siteplan.scoring.blockwise.suitability_blockwise`,
writing a tiled GeoTIFF. Prints the wall time and the process's peak resident memory.

Run: ``python benchmarks/bench_blockwise.py [--size 20000 --res 30]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from siteplan.scoring.blockwise import suitability_blockwise
from siteplan.scoring.criteria import Grid
from siteplan.guilds.catalogue import load_catalogue
from siteplan.rules.ruleset import compile_rulesets
from siteplan.scenario import CriterionSpec, TransformSpec, parse_scenario

UTM = "EPSG:32639"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=20000)
    ap.add_argument("--res", type=float, default=30.0)
    ap.add_argument("--block", type=int, default=2048)
    args = ap.parse_args()
    ext = args.size * args.res
    rng = np.random.default_rng(0)
    tx, ty = rng.uniform(0, ext, 400), rng.uniform(0, ext, 400)
    pop = rng.pareto(1.2, 400) * 5000 + 2000
    towns = gpd.GeoDataFrame({"name": [f"t{i}" for i in range(400)], "name_norm": "", "population": pop},
                             geometry=[Point(x, y).buffer(np.sqrt(p / 8000 * 1e6 / np.pi)) for x, y, p in zip(tx, ty, pop)],
                             crs=UTM)
    order = np.argsort(tx)
    rl = [LineString([(tx[a], ty[a]), (tx[b], ty[b])]) for a, b in zip(order[:-1], order[1:])]
    roads = gpd.GeoDataFrame({"road_class": ["trunk"] * len(rl)}, geometry=rl, crs=UTM)
    pl = [LineString([(tx[i], ty[i]), (tx[i] + 30000, ty[i] + 5000)]) for i in range(0, 400, 4)]
    power = gpd.GeoDataFrame({"kind": ["power_line"] * len(pl)}, geometry=pl, crs=UTM)
    est = gpd.GeoDataFrame({"estate_id": [f"E{i}" for i in range(300)], "name": "e"},
                           geometry=[box(x, y, x + 800, y + 800) for x, y in rng.uniform(0, ext, (300, 2))], crs=UTM)
    prot = gpd.GeoDataFrame({"kind": ["protected"]}, geometry=[Point(ext / 2, ext / 2).buffer(40000)], crs=UTM)
    layers = {"urban": towns, "roads": roads, "utilities": power, "estates": est, "constraints": prot}
    crit = [
        CriterionSpec(name="roads", kind="distance", layer="roads",
                      transform=TransformSpec(type="linear", points=[500, 20000], increasing=False), weight=0.25),
        CriterionSpec(name="towns", kind="distance", layer="urban",
                      transform=TransformSpec(type="linear", points=[2000, 5000, 10000, 15000]), weight=0.2),
        CriterionSpec(name="estates", kind="distance", layer="estates",
                      transform=TransformSpec(type="linear", points=[0, 15000], increasing=False), weight=0.15),
        CriterionSpec(name="power", kind="distance", layer="utilities",
                      transform=TransformSpec(type="linear", points=[0, 10000], increasing=False), weight=0.15),
        CriterionSpec(name="people", kind="catchment", layer="urban", field="population", radius_m=10000,
                      transform=TransformSpec(type="linear", points=[0, 200000]), weight=0.15),
        CriterionSpec(name="protected", kind="inside", layer="constraints",
                      transform=TransformSpec(type="threshold", points=[0.5], increasing=False), weight=0.1),
    ]
    w = {c.name: float(c.weight) for c in crit}
    with tempfile.TemporaryDirectory() as tmp:
        for k in ("urban", "estates", "businesses"):
            (Path(tmp) / f"{k}.geojson").write_text("{}")
        sc = parse_scenario({"layers": {k: {"path": f"{k}.geojson"} for k in ("urban", "estates", "businesses")},
                             "rules": {"doe_table": "none"}}, base_dir=tmp)
        grid = Grid(Affine(args.res, 0, 0.0, 0, -args.res, ext), args.size, args.size, args.res, CRS.from_user_input(UTM))
        study = shapely.box(0.0, ext - args.size * args.res, args.size * args.res, ext)
        rules = compile_rulesets(load_catalogue(), sc, layers, study)["metalwork"]
        out = Path(tmp) / "metalwork.tif"
        t0 = time.perf_counter()
        counts = suitability_blockwise(crit, w, rules, layers, sc, grid, out, block=args.block)
        t = time.perf_counter() - t0
        size = out.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.size} x {args.size} grid ({args.size ** 2 / 1e6:.0f} M cells at {args.res:g} m), 6 criteria, "
          f"{len(rules)} rules: {t:.0f} s; peak memory {peak:.0f} MB (target < 2048 MB); GeoTIFF {size / 1e6:.0f} MB; "
          f"cells excluded by the homes rule: {counts.get('VNG-3.2-HOMES', 0)}")


if __name__ == "__main__":
    main()
