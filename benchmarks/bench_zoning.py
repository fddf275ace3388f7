#!/usr/bin/env python
"""Zoning 1,000 estates (target: at most 60 s), and the Qom reference case in blocks and plots.

Builds 1,000 rectangular estates beside 300 towns (seeded), assigns 3–5 guild categories to each
with demand filling 30–70 % of the estate, then times :func:`siteplan.zoning.zones.zone_plan` with the
default rules and shape (``blocks``; ``--shape bands`` for the other). Prints the time, zones made,
shortfalls, how each estate's result passed the checks (``verified`` at once, or after recomputing
on the precision grid or the raster), what the blocks were aligned with, and the zones' convexity.

``--qom`` zones the Qom car-services guild estate of STANDARDS.md §4 (1,404 units: 911 repair, 197
showroom, 296 service on 136 ha, 1,604 plots) into blocks and plots of the catalogue's sizes and
prints the counts next to the case's.

Run: ``python benchmarks/bench_zoning.py [--estates 1000] [--shape blocks] [--qom]``.
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

from siteplan.guilds.catalogue import load_catalogue
from siteplan.rules.ruleset import compile_rulesets, usable_land
from siteplan.scenario import parse_scenario
from siteplan.zoning.zones import zone_plan

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


def _scenario(tmp: str, shape: str, plots: bool = False):
    for k in ("urban", "estates", "businesses"):
        (Path(tmp) / f"{k}.geojson").write_text("{}")
    return parse_scenario({"layers": {k: {"path": f"{k}.geojson"} for k in ("urban", "estates", "businesses")},
                           "zoning": {"shape": shape, "plots": plots}}, base_dir=tmp)


def qom() -> None:
    """The Qom case: 1,404 units on 136 ha beside a town, zoned into blocks with plots."""
    side = 136e4 ** 0.5
    town = Point(550000, 3600000).buffer(1500, quad_segs=32)
    estate = box(551550, 3599000, 551550 + side, 3599000 + side)
    layers = {
        "urban": gpd.GeoDataFrame({"name": ["town"], "name_norm": [""], "population": [1e5]}, geometry=[town],
                                  crs=UTM),
        "estates": gpd.GeoDataFrame({"estate_id": ["QOM"], "name": ["شهرک صنفی خودرو قم"]}, geometry=[estate],
                                    crs=UTM),
    }
    cat = load_catalogue()
    units = {"car_repair": 911, "car_showroom": 197, "car_wash_oil": 296}
    demand = pd.DataFrame({"estate_id": "QOM", "category": list(units),
                           "land_m2": [n * float(cat.row(c)["land_m2"]) for c, n in units.items()],
                           "units": list(units.values())})
    with tempfile.TemporaryDirectory() as tmp:
        sc = _scenario(tmp, "blocks", plots=True)
        study = shapely.box(*estate.union(town).buffer(10_000).bounds)
        rules = compile_rulesets(cat, sc, layers, study)
        t0 = time.perf_counter()
        zp = zone_plan(layers["estates"], demand, cat, rules, layers, sc, usable_land(layers["estates"], rules))
        dt = time.perf_counter() - t0
    z = zp.zones.set_index("category")
    placed = int(zp.tenancy.plot_id.notna().sum())
    print(f"Qom case (STANDARDS.md §4): 1,404 units on 136 ha with 1,604 plots — zoned in {dt:.2f} s")
    for c, n in units.items():
        r = z.loc[c]
        print(f"  {c:14s} {n:4d} units  zone {r.area_ha:6.2f} ha (net {r.net_ha:6.2f})  {int(r.plots):5d} plots of "
              f"{float(cat.row(c)['plot_m2']):g} m²  convexity {r.convexity:.2f}")
    print(f"  total: {int(z.plots.sum())} plots (case: 1,604), {placed} of 1,404 units on a plot, zones "
          f"{z.area_ha.sum():.1f} ha of 136 ha ({z.area_ha.sum() / 136:.0%}); shortfalls: {len(zp.shortfall)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--estates", type=int, default=1000)
    ap.add_argument("--shape", default="blocks", choices=["blocks", "bands", "compact"])
    ap.add_argument("--qom", action="store_true", help="also zone the Qom reference case")
    args = ap.parse_args()
    layers, demand, cat = build(args.estates)
    with tempfile.TemporaryDirectory() as tmp:
        sc = _scenario(tmp, args.shape)
        study = shapely.box(*shapely.union_all([g.union_all() for g in layers.values()]).buffer(10_000).bounds)
        rules = compile_rulesets(cat, sc, layers, study)
        t0 = time.perf_counter()
        usable = usable_land(layers["estates"], rules)
        t1 = time.perf_counter()
        zp = zone_plan(layers["estates"], demand, cat, rules, layers, sc, usable)
        t2 = time.perf_counter()
    zones, short = zp.zones, zp.shortfall
    per_estate = zones.groupby("estate_id")["check"].first().value_counts()
    print(f"estates: {args.estates}, category demands: {len(demand)}, shape: {args.shape}")
    print(f"usable land (every estate x category): {t1 - t0:.2f} s")
    print(f"zoning: {t2 - t1:.2f} s for {len(zones)} zones, {len(short)} shortfalls (target <= 60 s)")
    print("checks per estate: " + ", ".join(f"{k} {v}" for k, v in per_estate.items()))
    print("aligned with: " + ", ".join(f"{k or '-'} {v}" for k, v in zones["aligned_with"].value_counts().items()))
    q = zones["convexity"].quantile([0.05, 0.5]).to_numpy()
    print(f"convexity: mean {zones['convexity'].mean():.2f}, 5th percentile {q[0]:.2f}, median {q[1]:.2f}")
    print(f"total: {t2 - t0:.2f} s")
    if args.qom:
        qom()


if __name__ == "__main__":
    main()
