#!/usr/bin/env python
"""Zoning 1,000 estates (target: at most 60 s).

Builds 1,000 rectangular estates beside 300 towns (seeded), assigns 3–5 guild categories to each
with demand filling 30–70 % of the estate, then times :func:`siteplan.zoning.zone_estates` with the
default rules. Prints the time, zones made and shortfalls.

Run: ``python benchmarks/bench_zoning.py [--estates 1000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

from siteplan.guilds import load_catalogue
from siteplan.rules import compile_rulesets, usable_land
from siteplan.scenario import parse_scenario
from siteplan.zoning import zone_estates

UTM = "EPSG:32639"


def build(n_estates: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_towns = max(10, n_estates // 3)
    tx, ty = rng.uniform(0, 400_000, n_towns), rng.uniform(0, 400_000, n_towns)
    towns = [Point(x, y).buffer(rng.uniform(500, 3000), quad_segs=16) for x, y in zip(tx, ty)]
    est = []
    for i in range(n_estates):
        k = rng.integers(n_towns)
        ang = rng.uniform(0, 2 * np.pi)
        d = towns[k].bounds[2] - tx[k] + rng.uniform(50, 2000)
        cx, cy = tx[k] + d * np.cos(ang), ty[k] + d * np.sin(ang)
        w, h = rng.uniform(300, 1200), rng.uniform(300, 1200)
        est.append(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    layers = {
        "urban": gpd.GeoDataFrame({"name": [f"t{i}" for i in range(n_towns)], "name_norm": "",
                                   "population": 1e4}, geometry=towns, crs=UTM),
        "estates": gpd.GeoDataFrame({"estate_id": [f"E{i:04d}" for i in range(n_estates)], "name": "e"},
                                    geometry=est, crs=UTM),
    }
    cat = load_catalogue()
    rows = []
    for e, g in zip(layers["estates"].estate_id, est):
        codes = rng.choice(cat.codes, size=int(rng.integers(3, 6)), replace=False)
        share = rng.dirichlet(np.ones(len(codes))) * g.area * rng.uniform(0.3, 0.7) * 0.65
        rows += [(e, c, float(s), 10) for c, s in zip(codes, share)]
    demand = pd.DataFrame(rows, columns=["estate_id", "category", "land_m2", "units"])
    return layers, demand, cat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--estates", type=int, default=1000)
    args = ap.parse_args()
    layers, demand, cat = build(args.estates)
    with tempfile.TemporaryDirectory() as tmp:
        for k in ("urban", "estates", "businesses"):
            (Path(tmp) / f"{k}.geojson").write_text("{}")
        sc = parse_scenario({"layers": {k: {"path": f"{k}.geojson"} for k in ("urban", "estates", "businesses")}},
                            base_dir=tmp)
        study = shapely.box(*shapely.union_all([g.union_all() for g in layers.values()]).buffer(10_000).bounds)
        rules = compile_rulesets(cat, sc, layers, study)
        t0 = time.perf_counter()
        usable = usable_land(layers["estates"], rules)
        t1 = time.perf_counter()
        zones, short = zone_estates(layers["estates"], demand, cat, rules, layers, sc, usable)
        t2 = time.perf_counter()
    print(f"estates: {args.estates}, category demands: {len(demand)}")
    print(f"usable land (every estate x category): {t1 - t0:.2f} s")
    print(f"zoning: {t2 - t1:.2f} s for {len(zones)} zones, {len(short)} shortfalls (target <= 60 s)")
    print(f"total: {t2 - t0:.2f} s")


if __name__ == "__main__":
    main()
