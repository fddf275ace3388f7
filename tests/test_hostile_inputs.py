"""Hostile and broken inputs (issue 24, "bad input that passes or crashes"): each case is built here in a
temporary folder, from a tiny synthetic scenario, and must give one clear error or warning naming the
file, layer, row or key, in ``siteplan validate`` as in ``siteplan run``, every problem in one call."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import Point, box

from siteplan.cli import main

LON, LAT = 51.60, 32.60  # near Isfahan
D = 0.01  # about 1 km


def _square(i: int, j: int = 0, size: float = D) -> Any:
    x, y = LON + i * 3 * D, LAT + j * 3 * D
    return box(x, y, x + size, y + size)


def build(tmp_path: Path, *, estates: gpd.GeoDataFrame | None = None, urban: gpd.GeoDataFrame | None = None,
          businesses: pd.DataFrame | None = None, extra: dict[str, Any] | None = None,
          layers: dict[str, Any] | None = None) -> Path:
    """A small valid scenario in ``tmp_path``: three estates, two towns (Persian names), eight businesses
    (a CSV registry); ``extra`` is merged into the scenario, ``layers`` into its layers. Returns the
    scenario file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if estates is None:
        estates = gpd.GeoDataFrame(
            {"estate_id": ["E1", "E2", "E3"], "name": ["شهرک یک", "شهرک دو", "شهرک سه"],
             "kind": ["estate"] * 3, "gross_ha": [100.0] * 3, "vacant_ha": [40.0] * 3},
            geometry=[_square(0, 0), _square(2, 0), _square(0, 2)], crs=4326)
    if urban is None:
        urban = gpd.GeoDataFrame(
            {"name": ["نجف‌آباد", "شاهین‌شهر"], "kind": ["city", "city"], "population": [200000, 150000]},
            geometry=[_square(-3, -3, 3 * D), _square(4, 4, 3 * D)], crs=4326)
    if businesses is None:
        businesses = pd.DataFrame({
            "biz_id": [f"B{i}" for i in range(8)],
            "name": ["تعمیرگاه خودرو"] * 4 + ["نجاری"] * 4,
            "category": ["car_repair"] * 4 + ["carpentry"] * 4,
            "lon": [LON - 0.08 + 0.002 * i for i in range(8)],
            "lat": [LAT - 0.08 + 0.002 * i for i in range(8)],
        })
    estates.to_file(tmp_path / "estates.geojson", driver="GeoJSON")
    urban.to_file(tmp_path / "urban.geojson", driver="GeoJSON")
    businesses.to_csv(tmp_path / "businesses.csv", index=False)
    data: dict[str, Any] = {
        "name": "hostile",
        "grid": {"resolution_m": 1000},
        "sensitivity": {"draws": 0},
        "sites": {"count": 0},
        "upgrades": {"count": 0},
        "layers": {
            "estates": {"path": "estates.geojson"},
            "urban": {"path": "urban.geojson"},
            "businesses": {"path": "businesses.csv", "lon": "lon", "lat": "lat"},
        },
    }
    data["layers"].update(layers or {})
    for k, v in (extra or {}).items():
        data[k] = {**data[k], **v} if isinstance(v, dict) and isinstance(data.get(k), dict) else v
    sc = tmp_path / "scenario.yaml"
    sc.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return sc


def validate(sc: Path) -> Any:
    return CliRunner().invoke(main, ["validate", str(sc)])


def run(sc: Path, out: Path) -> Any:
    return CliRunner().invoke(main, ["run", str(sc), "--out", str(out)])


def test_the_small_scenario_is_valid(tmp_path: Path) -> None:
    r = validate(build(tmp_path))
    assert r.exit_code == 0, r.output
    assert "valid" in r.output
