"""Plausibility checks (siteplan.inputs.plausibility): data that reads but cannot be true is an error or a
warning naming the layer, the rows and the values; `siteplan validate` lists them all at once."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import edit_yaml, small_scenario

from siteplan.inputs import plausibility
from siteplan.common.atomic import write_shapefile
from siteplan.cli import main
from siteplan.errors import InputError
from siteplan.inputs.region import ID_FIELDS, load_region
from siteplan.scenario import load_scenario
from siteplan.common.textnorm import has_persian


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return small_scenario(tmp_path)


def _layer(sc: Path, name: str) -> tuple[Path, gpd.GeoDataFrame]:
    shp = sc.parent / f"{name}.shp"
    return shp, gpd.read_file(shp)


def _problems(sc: Path) -> str:
    with pytest.raises(InputError) as err:
        load_region(load_scenario(sc))
    return "\n".join(err.value.problems)


def _warnings(sc: Path) -> str:
    with pytest.warns():
        region = load_region(load_scenario(sc))
    return "\n".join(w.message for w in region.warnings)


def _validate(sc: Path):
    r = CliRunner().invoke(main, ["validate", str(sc)])
    assert "Traceback" not in r.output
    return r


# ------------------------------------------------------------------------------------------ capacity

def test_empty_vacant_ha_is_a_warning_naming_the_estates(small):
    shp, g = _layer(small, "estates")
    with_plots = set(_layer(small, "plots")[1].estate_id)  # their capacity comes from the plots
    i, j = [k for k in range(len(g)) if g.estate_id[k] not in with_plots][:2]
    g.loc[[i, j], "vacant_ha"] = np.nan
    write_shapefile(g, shp)
    w = _warnings(small)
    assert f"vacant_ha is empty for 2 of {len(g)} estate(s)" in w
    assert f"row {i + 1} ({g.estate_id[i]})" in w and f"row {j + 1} ({g.estate_id[j]})" in w
    assert "their capacity is 0" in w and "allocation.default_vacant_share" in w
    edit_yaml(small, lambda d: d.setdefault("allocation", {}).update(default_vacant_share=0.3))
    assert "assumed to be allocation.default_vacant_share = 0.3" in _warnings(small)


def test_negative_vacant_ha_is_an_error(small):
    shp, g = _layer(small, "estates")
    g.loc[0, "vacant_ha"] = -176.3
    write_shapefile(g, shp)
    assert f"vacant_ha is negative for 1 estate(s): row 1 ({g.estate_id[0]}): -176.3" in _problems(small)


def test_text_in_a_number_field_is_an_error_naming_the_value(small):
    shp, g = _layer(small, "estates")
    g["vacant_ha"] = g["vacant_ha"].map(lambda v: f"{v:g}").astype(object)
    g.loc[1, "vacant_ha"] = "about 40"
    g.loc[2, "vacant_ha"] = "۴۶٫۸"  # Persian digits read fine
    write_shapefile(g, shp)
    p = _problems(small)
    assert "field 'vacant_ha' must be a number, but 1 value(s) are text" in p
    assert f"row 2 ({g.estate_id[1]}): 'about 40'" in p


def test_vacant_above_gross_and_far_above_the_polygon_are_errors(small):
    shp, g = _layer(small, "estates")
    area = g.to_crs(32639).area / 1e4
    g.loc[0, "vacant_ha"] = g.loc[0, "gross_ha"] * 50
    write_shapefile(g, shp)
    p = _problems(small)
    assert f"vacant_ha is above gross_ha for 1 estate(s): row 1 ({g.estate_id[0]}): vacant" in p
    assert f"{g.loc[0, 'vacant_ha']:,.0f} ha of capacity in a {area[0]:,.0f} ha estate" in p


def test_gross_far_from_the_polygon_is_a_warning_with_both_numbers(small):
    shp, g = _layer(small, "estates")
    g.loc[0, "gross_ha"] = g.loc[0, "gross_ha"] * 10
    write_shapefile(g, shp)
    w = _warnings(small)
    assert "gross_ha is far from the polygon's own area for 1 estate(s)" in w
    assert f"gross_ha {g.loc[0, 'gross_ha']:,.6g} ha, polygon" in w


def test_estate_capacity_refuses_negative_capacity():
    from siteplan.relocation import estate_capacity

    e = gpd.GeoDataFrame({"estate_id": ["E1"], "vacant_ha": [-3.0]},
                         geometry=[shapely.box(0, 0, 1000, 1000)], crs=32639)
    with pytest.raises(InputError, match="negative"):
        estate_capacity(e, None, 0.65)


# --------------------------------------------------------------------------------------- coordinates

def test_all_businesses_with_lat_lon_swapped(small):
    shp, g = _layer(small, "businesses")
    g.geometry = gpd.points_from_xy(g.geometry.y, g.geometry.x, crs=4326)
    write_shapefile(g, shp)
    p = _problems(small)
    assert "lat/lon swapped? all feature(s)" in p
    assert g.biz_id[0] in p and "write x = longitude" in p


def test_one_swapped_business_is_named_and_does_not_flip_the_utm_zone(small):
    shp, g = _layer(small, "businesses")
    x, y = g.geometry.x.copy(), g.geometry.y.copy()
    x[0], y[0] = y[0], x[0]
    g.geometry = gpd.points_from_xy(x, y, crs=4326)
    write_shapefile(g, shp)
    p = _problems(small)
    assert f"lat/lon swapped? 1 of {len(g)} feature(s)" in p and f"row 1 ({g.biz_id[0]})" in p
    sc = load_scenario(small)
    raw = {n: gpd.read_file(small.parent / sc.layers[n].path) for n in sc.layers}
    check = plausibility.check_coordinates(raw, {n: n for n in raw}, ID_FIELDS)
    from siteplan.inputs.region import utm_crs_for

    assert check.centre is not None and utm_crs_for(*check.centre).to_epsg() == 32639


def test_utm_numbers_under_a_4326_prj_are_an_error_not_an_overflow(small):
    shp, g = _layer(small, "businesses")
    g = g.to_crs(32639).set_crs(4326, allow_override=True)
    write_shapefile(g, shp)
    p = _problems(small)
    assert "coordinates impossible for WGS 84" in p and "look like projected metres" in p


def test_feature_at_null_island_and_on_another_continent(small):
    shp, g = _layer(small, "businesses")
    x, y = g.geometry.x.copy(), g.geometry.y.copy()
    x[2], y[2] = 0.0, 0.0
    x[3], y[3] = -47.9, -15.8  # Brasília
    g.geometry = gpd.points_from_xy(x, y, crs=4326)
    write_shapefile(g, shp)
    p = _problems(small)
    assert f"1 feature(s) lie at (0, 0), a placeholder for missing coordinates: row 3 ({g.biz_id[2]})" in p
    assert "lie far from the rest of the study" in p and f"row 4 ({g.biz_id[3]})" in p
    assert "resolution_m" not in p


def test_wrong_utm_zone_is_named(small):
    shp, g = _layer(small, "businesses")
    g = g.to_crs(32639).set_crs(32637, allow_override=True)  # zone-39 numbers declared as zone 37
    write_shapefile(g, shp)
    p = _problems(small)
    assert f"{len(g)} of {len(g)} feature(s) lie far from the rest of the study" in p
    assert "is UTM zone 37N in its .prj the zone of its numbers?" in p


def test_outside_the_crs_area_of_use(small):
    shp, g = _layer(small, "businesses")
    g = g.to_crs(32639)
    g.geometry = g.geometry.translate(1_500_000, 0)  # 15 degrees east of zone 39
    write_shapefile(g, shp)
    p = _problems(small)
    assert "lie outside the area of use of its CRS WGS 84 / UTM zone 39N (48° to 54°E" in p


def test_geojson_whose_crs_member_lies(small):
    shp, g = _layer(small, "businesses")
    data = json.loads(g.to_json())
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32639"}}
    (small.parent / "businesses.geojson").write_text(json.dumps(data), encoding="utf-8")
    edit_yaml(small, lambda d: d["layers"]["businesses"].update(path="businesses.geojson"))
    p = _problems(small)
    assert "declares the projected CRS WGS 84 / UTM zone 39N" in p
    assert "look like longitude/latitude degrees" in p and "RFC 7946" in p


# ---------------------------------------------------------------------------------------------- text

def test_control_characters_in_ids(small):
    shp, g = _layer(small, "businesses")
    g.loc[4, "biz_id"] = "B\x01" + g.loc[4, "biz_id"]
    g.to_file(small.parent / "businesses.geojson", driver="GeoJSON")
    edit_yaml(small, lambda d: d["layers"]["businesses"].update(path="businesses.geojson"))
    p = _problems(small)
    assert "biz_id holds control characters" in p and "row 5: 'B\\x01" in p


def test_nul_byte_in_a_dbf_id_is_an_error(small):
    shp, g = _layer(small, "estates")
    g.loc[1, "estate_id"] = "E9|TAIL"
    write_shapefile(g, shp)
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes().replace(b"E9|TAIL", b"E9\x00TAIL"))
    p = _problems(small)
    assert "field 'estate_id' has a NUL byte inside the text of 1 row(s)" in p
    assert "row 2: 'E9\\x00TAIL' (read as 'E9')" in p


def test_cpg_naming_the_wrong_encoding_is_read_right_with_a_warning(small):
    shp, g = _layer(small, "estates")
    shp.with_suffix(".cpg").write_text("1256", encoding="ascii")  # the DBF is UTF-8
    w = _warnings(small)
    assert "says 1256 but the text is UTF-8" in w
    region = load_region(load_scenario(small))
    assert list(region.layers["estates"]["name"]) == list(g["name"])


def test_cpg_utf8_over_a_cp1256_dbf_falls_back(small):
    shp, g = _layer(small, "estates")
    g["name"] = [f"شهرك صنعتي {i}" for i in range(len(g))]  # Arabic ك ي: what cp1256 files hold
    for c in ("name_en", "source", "max_cat", "kind"):
        if c in g:
            g[c] = g[c].map(lambda v: v.encode("cp1256", "ignore").decode("cp1256") if isinstance(v, str) else v)
    g.to_file(shp, encoding="cp1256")
    shp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    w = _warnings(small)
    assert "says UTF-8 but the text is not UTF-8; read as Windows-1256" in w
    names = load_region(load_scenario(small)).layers["estates"]["name"]
    assert all(has_persian(n) for n in names)
    assert not plausibility.mojibake_rows(load_region(load_scenario(small)).layers["estates"])


def test_mojibake_text_is_a_warning(small):
    shp, g = _layer(small, "estates")
    g.loc[0, "name"] = "شهرک صنعتی".encode("utf-8").decode("cp1252")  # 'Ø´Ù‡Ø±Ú© ØµÙ†Ø¹ØªÛŒ'
    # 'فرش فلزی' holds bytes cp1252 leaves undefined (0x81), shown as U+0081 by Windows
    g.loc[1, "name"] = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in "فرش فلزی".encode())
    g.to_file(small.parent / "estates.geojson", driver="GeoJSON")
    edit_yaml(small, lambda d: d["layers"]["estates"].update(path="estates.geojson"))
    w = _warnings(small)
    assert "field 'name' has 2 value(s) that look like UTF-8 Persian read with the wrong encoding" in w


# ------------------------------------------------------------------------------------------ all at once

def test_validate_reports_several_problems_in_one_call(small):
    shp, g = _layer(small, "estates")
    g.loc[0, "vacant_ha"] = -5.0
    g.loc[1, "vacant_ha"] = g.loc[1, "gross_ha"] * 50
    write_shapefile(g, shp)
    bshp, b = _layer(small, "businesses")
    x, y = b.geometry.x.copy(), b.geometry.y.copy()
    x[0], y[0] = y[0], x[0]
    x[1], y[1] = 0.0, 0.0
    b.geometry = gpd.points_from_xy(x, y, crs=4326)
    write_shapefile(b, bshp)

    def scenario_problems(d):  # problems of the scenario that only its data can reveal
        d["grid"]["resolution_m"] = 0.5  # far too many cells over the study area
        d["criteria"][0]["filter"] = {"road_class": ["primery"]}  # a typo'd filter value

    edit_yaml(small, scenario_problems)
    r = _validate(small)
    assert r.exit_code == 1
    out = r.output
    assert "vacant_ha is negative" in out
    assert "ha of capacity in a" in out
    assert "lat/lon swapped? 1 of" in out
    assert "lie at (0, 0)" in out
    # ... and, in the same call, what is wrong with the scenario for this data
    assert "grid.resolution_m: 0.5 m gives a grid" in out
    assert "primery" in out


def test_validate_lists_data_problems_with_the_scenarios_own(small):
    shp, g = _layer(small, "estates")
    g.loc[0, "vacant_ha"] = -5.0
    write_shapefile(g, shp)
    edit_yaml(small, lambda d: d["grid"].update(resolution="1km"))  # an unknown key: the scenario is invalid
    r = _validate(small)
    assert r.exit_code == 1
    assert "grid.resolution: unknown key" in r.output
    assert "vacant_ha is negative" in r.output


def test_features_outside_the_boundary_are_a_warning(small):
    shp, g = _layer(small, "businesses")
    est = _layer(small, "estates")[1]
    area = gpd.GeoDataFrame(geometry=[shapely.box(*g.total_bounds).union(shapely.box(*est.total_bounds))], crs=4326)
    write_shapefile(area.assign(name="study"), small.parent / "boundary.shp")
    edit_yaml(small, lambda d: d["layers"].update(boundary={"path": "boundary.shp"}))
    x, y = g.geometry.x.copy(), g.geometry.y.copy()
    x[5] = float(area.total_bounds[2]) + 0.5  # about 47 km east of the boundary
    g.geometry = gpd.points_from_xy(x, y, crs=4326)
    write_shapefile(g, shp)
    w = _warnings(small)
    assert f"1 of {len(g)} feature(s) lie outside the boundary layer (more than 1 km): row 6 ({g.biz_id[5]})" in w


def _mojibake_by_definition(v: str) -> bool:
    """UTF-8 Persian read with a code page, character by character (C1 controls as their own byte)."""
    if v.isascii():
        return False
    for enc in ("cp1256", "cp1252"):
        try:
            data = b"".join(c.encode(enc) if ord(c) > 0xFF or not 0x80 <= ord(c) <= 0x9F else bytes([ord(c)])
                            for c in v)
            fixed = data.decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != v and any("\u0600" <= c <= "\u06ff" for c in fixed):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="اب پ\u0080\u0081\u009d\u00d8\u00a7\u00d9\u2026\u0637\u0638abc é\u00a0\u00ff", max_size=10),
       st.sampled_from(["cp1256", "cp1252", None]))
def test_mojibake_check_is_its_definition(text, misread):
    """The mojibake check encodes whole strings at C speed (and each distinct text once): the same verdict
    as encoding character by character."""
    from siteplan.inputs.encoding import is_mojibake as _is_mojibake
    from siteplan.inputs.encoding import mojibake_rows

    if misread:
        text = text.encode("utf-8").decode(misread, errors="replace")
    assert _is_mojibake(text) == _mojibake_by_definition(text)
    rows = mojibake_rows(pd.DataFrame({"name": [text, None, text, "x"]}))
    assert rows == ({"name": [0, 2]} if _mojibake_by_definition(text) else {})
