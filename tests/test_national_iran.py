"""National runs on real province polygons (issue 19): three Iranian provinces from ../shared/data with
Persian keys, towns and businesses made here around the provinces (a CSV with Persian headers, a
UTF-8 shapefile, a GeoPackage), as a provincial office would hand them over. Skipped when the shared
data folder is absent."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from siteplan.errors import InputError
from siteplan.national import PartitionsFailed, run_national_file
from siteplan.national import runner as runner_mod
from siteplan.national.report import EMPTY_FILL

PROVINCES = Path(__file__).resolve().parents[2] / "shared" / "data" / "iran" / "provinces.geojson"
pytestmark = pytest.mark.skipif(not PROVINCES.is_file(), reason=f"{PROVINCES} is absent")

KEYS = ["تهران", "قم", "سمنان"]  # Semnan: an estate and no business
LCC = "+proj=lcc +lat_1=29 +lat_2=36 +lat_0=32.5 +lon_0=54 +datum=WGS84 +units=m"


def _build(root: Path, *, prj: bool = True) -> Path:
    prov = gpd.read_file(PROVINCES)
    prov = prov[prov["name_fa"].isin(KEYS)][["name_fa", "geometry"]].reset_index(drop=True)
    prov.to_file(root / "ostan.shp", encoding="utf-8")
    if not prj:
        (root / "ostan.prj").unlink()
    m = prov.to_crs(LCC)
    centres = shapely.point_on_surface(m.geometry.values)
    rng = np.random.default_rng(1)
    towns, biz, est = [], [], []
    for i, (key, c) in enumerate(zip(prov["name_fa"], centres)):
        for j in range(2):
            towns.append((f"شهر {key} {j}", 150000, shapely.Point(c.x + 8000 * j, c.y).buffer(2500)))
        est.append((f"E{i}", f"شهرک صنعتی {key}", "شهرک صنعتی", 120.0, 60.0,
                    shapely.box(c.x + 12000, c.y - 500, c.x + 13000, c.y + 500)))
        if key == "سمنان":
            continue
        for k in range(25):
            biz.append((f"ب-{i}{k:02d}", ["مکانیکی", "نجاری", "جوشکاری"][k % 3] + " رضا" if k else "=1+1 {{7*7}}",
                        c.x + rng.uniform(-4000, 4000), c.y + rng.uniform(-3000, 3000)))
    gpd.GeoDataFrame(pd.DataFrame(towns, columns=["name", "population", "geometry"]), crs=LCC).to_crs(4326).to_file(
        root / "towns.gpkg", layer="شهرها")
    gpd.GeoDataFrame(pd.DataFrame(est, columns=["estate_id", "name", "kind", "gross_ha", "vacant_ha", "geometry"]),
                     crs=LCC).to_crs(4326).to_file(root / "estates.shp", encoding="utf-8")
    b = pd.DataFrame(biz, columns=["شناسه", "نام", "x", "y"])
    ll = gpd.GeoSeries(gpd.points_from_xy(b.pop("x"), b.pop("y")), crs=LCC).to_crs(4326)
    b["طول"], b["عرض"] = ll.x.round(6), ll.y.round(6)
    b.to_csv(root / "registry.csv", index=False, encoding="utf-8-sig")
    sc = {"name": "ایران", "seed": 3, "crs": LCC, "grid": {"resolution_m": 5000},
          "layers": {"estates": {"path": "estates.shp"}, "urban": {"path": "towns.gpkg", "layer": "شهرها"},
                     "businesses": {"path": "registry.csv", "lon": "طول", "lat": "عرض",
                                    "fields": {"biz_id": "شناسه", "name": "نام"}}},
          "categories": ["car_repair", "carpentry", "metalwork"], "classification": {"model": False},
          "sensitivity": {"draws": 10}, "sites": {"count": 0}, "upgrades": {"count": 0},
          "national": {"partitions": {"path": "ostan.shp"}, "field": "name_fa"}}
    (root / "nation.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return root / "nation.yaml"


def test_real_provinces_one_with_estates_and_no_business(tmp_path: Path) -> None:
    """A province with estates and no business is an empty plan (it failed with a solver error); the map
    shades it as "no business", not as 0 % placed, and every province on the map links its report."""
    res = run_national_file(_build(tmp_path), tmp_path / "out", cache=tmp_path / "cache")
    assert [o.status for o in res.outcomes] == ["ok"] * 3
    parts = {p["partition"]: p for p in json.loads((tmp_path / "out" / "partitions.json").read_text(encoding="utf-8"))}
    assert set(parts) == set(KEYS)
    assert parts["سمنان"]["businesses"] == 0 and parts["سمنان"]["estates"] == 1
    assert parts["تهران"]["businesses"] == parts["قم"]["businesses"] == 25
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f'fill="{EMPTY_FILL}"><title>سمنان: no business</title>' in page
    for p in parts.values():
        assert f'<a href="provinces/{p["folder"]}/report.html"><path' in page
    assert '<div class="wide"><table>' in page and "no business; " in page
    assert "style=" not in page  # the CSP allows no inline style
    rel = pd.read_csv(tmp_path / "out" / "relocation.csv", dtype=str, keep_default_na=False)
    assert "'=1+1 {{7*7}}" in set(rel["name"])  # a formula neutralised, a template kept as text


def test_every_partition_failed_still_writes_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Every run failing is reported (report, partitions.json, exit), not an internal error about
    national.gpkg; the log line names the first problem of a multi-problem error; the message says
    how to retry."""
    def failing(task: runner_mod.UnitTask) -> runner_mod.Outcome:
        return runner_mod.Outcome(task.label, task.key, "failed", error="2 problems:\n  first one\n  second one")

    monkeypatch.setattr(runner_mod, "run_unit", failing)
    with caplog.at_level(logging.INFO, logger="siteplan"), pytest.raises(PartitionsFailed, match="--overwrite"):
        run_national_file(_build(tmp_path), tmp_path / "out", cache=tmp_path / "cache")
    out = tmp_path / "out"
    assert (out / "report.html").is_file() and not (out / "national.gpkg").exists()
    assert {p["status"] for p in json.loads((out / "partitions.json").read_text(encoding="utf-8"))} == {"failed"}
    assert any(re.search(r"FAILED in .*: 2 problems: first one …", r.getMessage()) for r in caplog.records)


def test_partitions_without_crs_are_refused_not_read_as_metres(tmp_path: Path) -> None:
    """A province shapefile without .prj, in a scenario whose crs is metric: the degrees were read as
    metres, every business fell "outside every partition" and every run failed. Now a clear error."""
    with pytest.raises(InputError, match=r"national.partitions \(ostan.shp\).*look like longitude/latitude degrees"):
        run_national_file(_build(tmp_path, prj=False), tmp_path / "out", cache=tmp_path / "cache")


def test_unwritable_cache_is_an_input_error(tmp_path: Path) -> None:
    """A cache folder that cannot be written (here: a file in its place; a read-only disk alike) is named
    before any work, not an internal PermissionError from deep in the partitioning."""
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match=r"--cache .*cache: cannot write there"):
        run_national_file(_build(tmp_path), tmp_path / "out", cache=blocker)
    assert not (tmp_path / "out").exists()


def test_national_cog_is_nodata_outside_every_partition(tmp_path: Path) -> None:
    """The national surface's study area is the union of the partitions: cells outside every province
    (the bounding box's corners here; the sea and neighbouring countries for all of Iran) are nodata,
    not scored as land (they were valid cells of score 0 or more)."""
    import rasterio
    from rasterio.features import geometry_mask

    from siteplan.national.raster import write_suitability_cog

    from siteplan.cli.suitability import write_suitability

    nation = _build(tmp_path)
    counts = write_suitability_cog(nation, "car_repair", tmp_path / "s.tif", chunk=64)
    write_suitability(nation, "car_repair", tmp_path / "w.tif")  # without --cog: the same study area
    for f in ("s.tif", "w.tif"):
        with rasterio.open(tmp_path / f) as r:
            a = r.read(1)
            prov = gpd.read_file(tmp_path / "ostan.shp").to_crs(r.crs)
            inside = ~geometry_mask([shapely.union_all(prov.geometry.values)], a.shape, r.transform, all_touched=True)
            valid = a != r.nodata
        assert counts["STUDY-AREA"] > 0 and (~inside).sum() > 0
        assert valid.any() and not (valid & ~inside).any(), f


def test_cp1256_partitions_without_cpg_keep_their_persian_keys(tmp_path: Path) -> None:
    """A provincial office's shapefile in Windows-1256 without a .cpg: its keys were read as Latin-1
    mojibake (and named the provinces so in every output); now detected as a layer's DBF is."""
    from siteplan.national.partition import read_partitions
    from siteplan.scenario import load_scenario

    sc = _build(tmp_path)
    prov = gpd.read_file(tmp_path / "ostan.shp")
    prov["name_fa"] = prov["name_fa"].str.replace("ی", "ي").str.replace("ک", "ك")  # as cp1256 writes them
    for f in tmp_path.glob("ostan.*"):
        f.unlink()
    prov.to_file(tmp_path / "ostan.shp", encoding="cp1256")
    (tmp_path / "ostan.cpg").unlink(missing_ok=True)
    parts = read_partitions(load_scenario(sc), LCC)
    assert sorted(parts["partition"]) == sorted(k.replace("ی", "ي").replace("ک", "ك") for k in KEYS)


def test_keys_that_differ_only_in_writing_are_refused(tmp_path: Path) -> None:
    """'كرمان' (Arabic kaf) and 'کرمان' name one province to a reader: two partitions so named would
    show as twins in the report; refused like a repeated key."""
    from siteplan.national.partition import read_partitions
    from siteplan.scenario import load_scenario

    sc = _build(tmp_path)
    prov = gpd.read_file(tmp_path / "ostan.shp")
    prov.loc[0, "name_fa"] = "كرمان"
    prov.loc[1, "name_fa"] = "کرمان"
    prov.to_file(tmp_path / "ostan.shp", encoding="utf-8")
    with pytest.raises(InputError, match="partitions 'كرمان' and 'کرمان' differ only in writing|"
                                         "partitions 'کرمان' and 'كرمان' differ only in writing"):
        read_partitions(load_scenario(sc), LCC)
