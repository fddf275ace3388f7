"""Hostile and broken inputs (issue 24, "bad input that passes or crashes"): each case is built here in a
temporary folder, from a tiny synthetic scenario, and must give one clear error or warning naming the
file, layer, row or key, in ``siteplan validate`` as in ``siteplan run``, every problem in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import LineString, box

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
    # written as JSON (GDAL's writer would cut a text at a NUL character)
    (tmp_path / "estates.geojson").write_text(estates.to_json(), encoding="utf-8")
    (tmp_path / "urban.geojson").write_text(urban.to_json(), encoding="utf-8")
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


def _both(sc: Path, tmp_path: Path) -> list[Any]:
    """``validate`` and ``run`` of a scenario that must be refused: both exit 1 with no traceback and
    no run folder."""
    out = tmp_path / "run_out"
    results = [validate(sc), run(sc, out)]
    for r in results:
        assert r.exit_code == 1, r.output
        assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert not out.exists()
    return results


def _manifest_warnings(out: Path) -> list[str]:
    import json

    return list(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"])


def _estates(geoms: list[Any], ids: list[str] | None = None) -> gpd.GeoDataFrame:
    ids = ids or [f"E{i + 1}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"estate_id": ids, "name": [f"شهرک {i}" for i in ids], "kind": ["estate"] * len(ids),
                             "gross_ha": [100.0] * len(ids), "vacant_ha": [10.0] * len(ids)},
                            geometry=geoms, crs=4326)


# --------------------------------------------------------------------------------- accepted silently

@pytest.mark.parametrize("shift", [0.0, 0.0002])  # the same polygon; one moved by about 20 m
def test_two_estates_with_the_same_polygon_are_refused(tmp_path: Path, shift: float) -> None:
    from shapely.affinity import translate

    est = _estates([_square(0), translate(_square(0), shift, 0), _square(2)], ["A7", "Q3", "Z1"])
    for r in _both(build(tmp_path, estates=est), tmp_path):
        assert "layer 'estates' (estates.geojson)" in r.output
        assert "row 1 (A7) and row 2 (Q3)" in r.output and "counted twice" in r.output
        assert "Z1" not in r.output


def test_a_small_estate_inside_a_large_one_is_not_a_duplicate(tmp_path: Path) -> None:
    est = _estates([_square(0, 0, 5 * D), _square(0, 0, D), _square(4, 4)])
    r = validate(build(tmp_path, estates=est))
    assert "counted twice" not in r.output


def test_plots_of_no_estate_are_refused(tmp_path: Path) -> None:
    sc = build(tmp_path, layers={"plots": {"path": "plots.geojson"}})
    gpd.GeoDataFrame({"plot_id": ["P1", "P2", "P3", "P4"], "estate_id": ["E1", "E7", "e2", None],
                      "status": ["vacant"] * 4},
                     geometry=[_square(0, 0, D / 10)] * 4, crs=4326).to_file(tmp_path / "plots.geojson")
    for r in _both(sc, tmp_path):
        assert "layer 'plots' (plots.geojson)" in r.output and "3 of 4 plot(s)" in r.output
        assert "row 2 (P2): estate_id 'E7'" in r.output and "row 4 (P4): no estate_id" in r.output
        assert "'e2' → 'E2'" in r.output and "(P1)" not in r.output


def test_a_geopackage_with_several_layers_needs_layer(tmp_path: Path) -> None:
    sc = build(tmp_path)
    est = gpd.read_file(tmp_path / "estates.geojson")
    for layer in ("old_estates", "new_estates"):
        est.to_file(tmp_path / "estates.gpkg", layer=layer)
    sc = build(tmp_path, layers={"estates": {"path": "estates.gpkg"}})
    for r in _both(sc, tmp_path):
        assert "estates.gpkg holds 2 layers" in r.output
        assert "'old_estates'" in r.output and "'new_estates'" in r.output and "layer:" in r.output
    sc = build(tmp_path, layers={"estates": {"path": "estates.gpkg", "layer": "estates_2023"}})
    r = validate(sc)
    assert r.exit_code == 1 and "has no layer 'estates_2023'" in r.output and "'new_estates'" in r.output
    sc = build(tmp_path, layers={"estates": {"path": "estates.gpkg", "layer": "new_estates"}})
    assert validate(sc).exit_code == 0


def test_a_geopackage_with_one_layer_and_a_table_reads_the_layer(tmp_path: Path) -> None:
    import pyogrio

    build(tmp_path)
    gpd.read_file(tmp_path / "estates.geojson").to_file(tmp_path / "estates.gpkg", layer="estates")
    pyogrio.write_dataframe(pd.DataFrame({"styleName": ["x"]}), tmp_path / "estates.gpkg", layer="layer_styles")
    r = validate(build(tmp_path, layers={"estates": {"path": "estates.gpkg"}}))
    assert r.exit_code == 0, r.output
    assert "estates 3" in r.output


def test_mixed_areas_must_name_towns(tmp_path: Path) -> None:
    # ي/ی and a space for the ZWNJ: the same town after normalisation
    sc = build(tmp_path, extra={"rules": {"mixed_areas": ["شاهين شهر", "نجف ابد", "Atlantis"]}})
    for r in _both(sc, tmp_path):
        assert "rules.mixed_areas[1]" in r.output and "did you mean 'نجف‌آباد'" in r.output
        assert "rules.mixed_areas[2]: 'Atlantis'" in r.output
        assert "mixed_areas[0]" not in r.output
    assert validate(build(tmp_path, extra={"rules": {"mixed_areas": ["شاهين شهر"]}})).exit_code == 0


def test_unknown_encoding_is_refused_with_the_data_problems(tmp_path: Path) -> None:
    est = _estates([_square(0), _square(0), _square(2)])
    sc = build(tmp_path, estates=est, layers={"urban": {"path": "urban.geojson", "encoding": "no-such-codec"}})
    r = validate(sc)
    assert r.exit_code == 1
    assert "layers.urban.encoding: 'no-such-codec' is not a text encoding" in r.output
    assert "counted twice" in r.output  # the data is still checked
    assert "Traceback" not in r.output
    r = run(sc, tmp_path / "out")
    assert r.exit_code == 1 and "layers.urban.encoding" in r.output


def _shapefile(tmp_path: Path, n: int = 12) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    towns = gpd.GeoDataFrame({"name": [f"town {i}" for i in range(n)], "kind": ["town"] * n},
                             geometry=[_square(-3 + i, -3, D) for i in range(n)], crs=4326)
    towns.to_file(tmp_path / "towns.shp", engine="pyogrio")
    return tmp_path / "towns.shp"


@pytest.mark.parametrize("cut", ["shp", "shp_header", "dbf"])
def test_a_truncated_shapefile_is_refused(tmp_path: Path, cut: str) -> None:
    sc = build(tmp_path, layers={"urban": {"path": "towns.shp"}})
    shp = _shapefile(tmp_path)
    if cut == "shp":  # half the records lost: GDAL would read them as empty geometries
        data = shp.read_bytes()
        shp.write_bytes(data[: len(data) // 2])
    elif cut == "shp_header":  # cut inside the last record, no index to tell how many
        data = shp.read_bytes()
        shp.write_bytes(data[:-20])
        shp.with_suffix(".shx").unlink()
    else:
        dbf = shp.with_suffix(".dbf")
        dbf.write_bytes(dbf.read_bytes()[:-100])
    for r in _both(sc, tmp_path):
        assert "layer 'urban' (towns.shp)" in r.output and "cut short" in r.output, r.output
        assert ("towns.dbf" if cut == "dbf" else "towns.shp:") in r.output


def test_shapefile_files_that_do_not_belong_together(tmp_path: Path) -> None:
    from siteplan.inputs.region import shapefile_problems

    shp = _shapefile(tmp_path / "a")
    other = _shapefile(tmp_path / "b", n=5)
    other.with_suffix(".dbf").replace(shp.with_suffix(".dbf"))
    (problem,) = shapefile_problems(shp, "layer 'x'")
    assert "towns.dbf has 5 records but towns.shx indexes 12 features" in problem
    assert shapefile_problems(other, "layer 'x'") == []


def test_control_characters_in_an_estate_id_are_refused(tmp_path: Path) -> None:
    est = _estates([_square(0), _square(2), _square(0, 2)], ["E1", "E\x002", "E\x1b3"])
    for r in _both(build(tmp_path, estates=est), tmp_path):
        # the reader would cut 'E\x002' to 'E': said from the file itself
        assert "layer 'estates' (estates.geojson): field 'estate_id' has a NUL character" in r.output
        assert "row 2: 'E\\x002' (read as 'E')" in r.output
        assert "estate_id holds control characters" in r.output and "row 3: 'E\\x1b3'" in r.output


def test_control_characters_in_an_estate_id_of_a_table_are_refused(tmp_path: Path) -> None:
    sc = build(tmp_path, layers={"estates": {"path": "estates.csv", "wkt": "wkt", "crs": "EPSG:4326"}})
    est = _estates([_square(0), _square(2)], ["E\x001", "E2"])
    pd.DataFrame({**{c: est[c] for c in ("estate_id", "name", "kind", "vacant_ha")},
                  "wkt": est.geometry.to_wkt()}).to_csv(tmp_path / "estates.csv", index=False)
    r = validate(sc)
    assert r.exit_code == 1 and "estate_id holds control characters" in r.output and "row 2: 'E\\x001'" in r.output


@pytest.mark.parametrize("ref", ["E1\x00", "E\x011"])
def test_control_characters_in_a_plots_estate_id_are_refused(tmp_path: Path, ref: str) -> None:
    sc = build(tmp_path, layers={"plots": {"path": "plots.geojson"}})
    plots = gpd.GeoDataFrame({"plot_id": ["P1"], "estate_id": [ref], "status": ["vacant"]},
                             geometry=[_square(0, 0, D / 10)], crs=4326)
    (tmp_path / "plots.geojson").write_text(plots.to_json(), encoding="utf-8")
    r = validate(sc)
    assert r.exit_code == 1 and "layer 'plots' (plots.geojson)" in r.output and "estate_id" in r.output
    assert ("has a NUL character" if "\x00" in ref else "estate_id holds control characters") in r.output


def test_control_characters_in_a_registry_name_are_removed_with_a_warning(tmp_path: Path) -> None:
    biz = pd.DataFrame({"biz_id": ["B1", "B2", "B3"], "name": ["تعمیرگاه\x00 خودرو", "نجاری\x1b[2Jیاس", "نجاری\tنو"],
                        "category": ["car_repair", "carpentry", "carpentry"],
                        "lon": [LON - 0.05, LON - 0.049, LON - 0.048], "lat": [LAT - 0.05] * 3})
    sc = build(tmp_path, businesses=biz)
    r = validate(sc)
    assert r.exit_code == 0, r.output
    assert "layer 'businesses' (businesses.csv): field 'name' held control characters" in r.output
    assert "row 2 (B1)" in r.output and "row 3 (B2)" in r.output and "row 4" not in r.output
    out = tmp_path / "out"
    r = run(sc, out)
    assert r.exit_code == 0, r.output
    assert any("field 'name' held control characters" in w for w in _manifest_warnings(out))
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".geojson", ".json", ".html"):
            assert b"\x00" not in f.read_bytes(), f
    rel = pd.read_csv(out / "relocation.csv", dtype=str)
    # NUL and escape removed; a tab is white space, kept as written (the CSV quotes it)
    assert set(rel["name"]) >= {"تعمیرگاه خودرو", "نجاری[2Jیاس", "نجاری\tنو"}


def test_a_text_file_named_tif_is_refused_as_dem(tmp_path: Path) -> None:
    sc = build(tmp_path, layers={"dem": {"path": "dem.tif"}})
    (tmp_path / "dem.tif").write_text("elevation 1200 m\n", encoding="utf-8")
    for r in _both(sc, tmp_path):
        assert "layer 'dem' (dem.tif): cannot read dem.tif as a raster" in r.output


def test_a_dem_without_crs_is_refused(tmp_path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    sc = build(tmp_path, layers={"dem": {"path": "dem.tif"}})
    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(LON, LAT, 0.01, 0.01)) as dst:
        dst.write(np.ones((1, 4, 4), dtype="float32"))
    r = validate(sc)
    assert r.exit_code == 1 and "dem.tif has no coordinate reference system" in r.output


@pytest.mark.parametrize("at", ["nan,nan", "inf,32.6", "51.6,-inf", "200,32.6", "51.6,95", "32.6,51.6,1"])
def test_explain_at_a_point_that_is_no_place_is_a_usage_error(tmp_path: Path, at: str) -> None:
    sc = build(tmp_path)
    r = CliRunner().invoke(main, ["explain", str(sc), "--category", "car_repair", "--at", at])
    assert r.exit_code == 2, r.output
    assert "--at" in r.output and "Traceback" not in r.output


# ---------------------------------------------------------------------- validate lists every problem

def test_a_missing_field_does_not_hide_other_layers_problems(tmp_path: Path) -> None:
    towns = gpd.GeoDataFrame({"nom": ["a", "b"]}, geometry=[_square(-3, -3, 3 * D), _square(4, 4, 3 * D)], crs=4326)
    est = _estates([_square(0), _square(2), _square(0, 2)])
    est["gross_ha"] = [-5.0, 100.0, 100.0]
    est["vacant_ha"] = [20.0, 5000.0, 10.0]
    biz = pd.DataFrame({"biz_id": ["B1", "B2"], "name": ["نجاری"] * 2, "category": ["carpentry"] * 2,
                        "area_m2": ["big", "300"], "lon": [LON, LON], "lat": [LAT, LAT]})
    for r in _both(build(tmp_path, urban=towns, estates=est, businesses=biz), tmp_path):
        out = r.output
        assert "layer 'urban' (urban.geojson): missing required field(s): name" in out
        assert "gross_ha is negative" in out and "row 1 (E1)" in out
        assert "vacant_ha is above gross_ha" in out
        assert "capacity far above the estate's own area" in out and "row 2 (E2)" in out
        assert "field 'area_m2' must be a number" in out


def test_a_key_typo_does_not_hide_a_missing_file(tmp_path: Path) -> None:
    sc = build(tmp_path, extra={"alocation": {"max_distance_km": 20}},
               layers={"roads": {"path": "roads/missing.shp"}, "estates": {"path": "estates.geojson", "feilds": {}}})
    for r in (validate(sc), run(sc, tmp_path / "out")):
        assert r.exit_code == 1
        assert "alocation: unknown key (did you mean 'allocation'?)" in r.output
        assert "layers.estates.feilds: unknown key" in r.output
        assert "layers.roads.path: file not found: roads/missing.shp" in r.output


def test_a_zero_zero_error_does_not_hide_rows_without_coordinates(tmp_path: Path) -> None:
    biz = pd.DataFrame({"biz_id": ["B1", "B2", "B3", "B4"], "name": ["نجاری"] * 4, "category": ["carpentry"] * 4,
                        "lon": [LON, 0, None, LON + 0.01], "lat": [LAT, 0, LAT, "?"]})
    for r in _both(build(tmp_path, businesses=biz), tmp_path):
        assert "row 3 (B2) at (0, 0)" in r.output
        assert "warning:" in r.output and "excluded 2 feature(s)" in r.output
        assert "row 4 (B3): no usable coordinates: 'lon' is empty" in r.output
        assert "row 5 (B4): no usable coordinates: 'lat' is not a number" in r.output


def test_deprecated_compact_zoning_is_said_by_validate_and_run(tmp_path: Path) -> None:
    sc = build(tmp_path, extra={"zoning": {"shape": "compact"}})
    r = validate(sc)
    assert r.exit_code == 0 and "warning: zoning.shape: 'compact' is deprecated" in r.output
    r = run(sc, tmp_path / "out")
    assert r.exit_code == 0, r.output
    said = [w for w in _manifest_warnings(tmp_path / "out") if "compact" in w]
    assert said == ["zoning.shape: 'compact' is deprecated (discs that ignore the estate's streets); use 'blocks' "
                    "(the default) or 'bands'"]  # once, at load


def test_a_field_mapping_wins_over_a_field_of_the_canonical_name(tmp_path: Path) -> None:
    from siteplan.inputs.region import load_region
    from siteplan.scenario import load_scenario

    towns = gpd.GeoDataFrame({"name": ["نجف‌آباد", "شاهین‌شهر"], "نوع": ["city", "village"], "kind": ["x", "y"]},
                             geometry=[_square(-3, -3, 3 * D), _square(4, 4, 3 * D)], crs=4326)
    sc = build(tmp_path, urban=towns, layers={"urban": {"path": "urban.geojson", "fields": {"kind": "نوع"}}})
    r = validate(sc)
    assert r.exit_code == 0, r.output
    assert "fields.kind: maps 'نوع' to kind; the file's own field named 'kind' is not read" in r.output
    with pytest.warns(UserWarning):
        region = load_region(load_scenario(sc))
    assert list(region.layers["urban"]["kind"]) == ["city", "village"]


def test_every_data_problem_in_one_validate(tmp_path: Path) -> None:
    """The cases above together: one call lists them all."""
    est = _estates([_square(0), _square(0), _square(2)], ["E1", "E2", "E\x003"])
    sc = build(tmp_path, estates=est, extra={"rules": {"mixed_areas": ["Atlantis"]}},
               layers={"dem": {"path": "dem.tif"}, "plots": {"path": "plots.geojson"},
                       "roads": {"path": "roads.gpkg"}})
    (tmp_path / "dem.tif").write_text("no raster", encoding="utf-8")
    gpd.GeoDataFrame({"plot_id": ["P1"], "estate_id": ["E9"], "status": ["vacant"]},
                     geometry=[_square(0, 0, D / 10)], crs=4326).to_file(tmp_path / "plots.geojson")
    roads = gpd.GeoDataFrame({"road_class": ["primary"]}, geometry=[LineString([(LON, LAT), (LON + D, LAT + D)])], crs=4326)
    for layer in ("a", "b"):
        roads.to_file(tmp_path / "roads.gpkg", layer=layer)
    r = validate(sc)
    assert r.exit_code == 1
    for part in ("cannot read dem.tif as a raster", "roads.gpkg holds 2 layers", "field 'estate_id' has a NUL",
                 "counted twice", "plot(s) name an estate_id", "problems:"):
        assert part in r.output, part
