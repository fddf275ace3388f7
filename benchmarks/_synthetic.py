"""A synthetic province of any size for benchmarks: towns, roads, estates and businesses (seeded)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, box

from siteplan.guilds.catalogue import load_catalogue

UTM = "EPSG:32639"
X0, Y0 = 400_000.0, 3_400_000.0


def write_region(folder: Path, *, n_businesses: int, n_estates: int, n_towns: int = 300, extent_m: float = 400_000,
                 seed: int = 0, max_distance_km: float = 10.0, resolution_m: float = 1000.0) -> Path:
    """Write ``region.gpkg`` and ``scenario.yaml`` into ``folder``; return the scenario path."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tx, ty = X0 + rng.uniform(0, extent_m, n_towns), Y0 + rng.uniform(0, extent_m, n_towns)
    pop = np.round(rng.pareto(1.2, n_towns) * 5000 + 2000)
    r = np.sqrt(pop / 8000 * 1e6 / np.pi)
    towns = gpd.GeoDataFrame({"name": [f"شهر {i}" for i in range(n_towns)], "population": pop,
                              "kind": np.where(pop > 50000, "city", "town")},
                             geometry=[Point(x, y).buffer(rr, quad_segs=8) for x, y, rr in zip(tx, ty, r)], crs=UTM)
    xy = np.c_[tx, ty]
    mst = minimum_spanning_tree(cKDTree(xy).sparse_distance_matrix(cKDTree(xy), extent_m).tocsr()).tocoo()
    roads = gpd.GeoDataFrame({"road_class": np.where(rng.random(len(mst.row)) < 0.3, "trunk", "primary")},
                             geometry=[LineString([xy[a], xy[b]]) for a, b in zip(mst.row, mst.col)], crs=UTM)
    k = rng.integers(n_towns, size=n_estates)
    ang = rng.uniform(0, 2 * np.pi, n_estates)
    d = r[k] + rng.uniform(1500, 8000, n_estates)
    ex, ey = tx[k] + d * np.cos(ang), ty[k] + d * np.sin(ang)
    side = np.sqrt(rng.uniform(20, 200, n_estates) * 1e4)
    estates = gpd.GeoDataFrame({"estate_id": [f"E{i:04d}" for i in range(n_estates)],
                                "name": [f"شهرک صنعتی {i}" for i in range(n_estates)], "kind": "estate",
                                "vacant_ha": np.round(side ** 2 / 1e4 * rng.uniform(0.1, 0.5, n_estates), 1),
                                "power": 1, "gas": 1, "water": 1, "wastewater": 1, "max_cat": "5.1"},
                               geometry=[box(x - s / 2, y - s / 2, x + s / 2, y + s / 2) for x, y, s in zip(ex, ey, side)],
                               crs=UTM)
    cat = load_catalogue()
    p = pop / pop.sum()
    kb = rng.choice(n_towns, size=n_businesses, p=p)
    a = rng.uniform(0, 2 * np.pi, n_businesses)
    rad = r[kb] * np.sqrt(rng.uniform(0, 1, n_businesses)) * 0.95
    codes = rng.choice(cat.codes, size=n_businesses)
    biz = gpd.GeoDataFrame({"biz_id": [f"B{i:06d}" for i in range(n_businesses)],
                            "name": [f"کسب‌وکار {i}" for i in range(n_businesses)], "category": codes},
                           geometry=gpd.points_from_xy(tx[kb] + rad * np.cos(a), ty[kb] + rad * np.sin(a)), crs=UTM)
    gpkg = folder / "region.gpkg"
    for name, g in (("urban", towns), ("roads", roads), ("estates", estates), ("businesses", biz)):
        g.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
    sc = {"name": f"synthetic {n_businesses} businesses, {n_estates} estates", "seed": 1,
          "grid": {"resolution_m": resolution_m},
          "layers": {k: {"path": "region.gpkg", "layer": k} for k in ("urban", "roads", "estates", "businesses")},
          "allocation": {"max_distance_km": max_distance_km}, "sensitivity": {"draws": 50},
          "outputs": {"suitability_tifs": False}}
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
