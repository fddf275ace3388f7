"""`siteplan validate` on broken copies of the demo scenario: every problem named clearly."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from conftest import edit_yaml

from siteplan.cli import main
from siteplan.errors import InputError, ScenarioError
from siteplan.inputs.region import detect_dbf_encoding, load_region
from siteplan.scenario import load_scenario
from siteplan.common.textnorm import has_persian


def _validate(path):
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert "Traceback" not in r.output
    return r


def test_demo_is_valid(demo_copy):
    r = _validate(demo_copy)
    assert r.exit_code == 0, r.output
    assert "valid" in r.output


def test_missing_file(demo_copy):
    edit_yaml(demo_copy, lambda d: d["layers"]["estates"].update(path="shapefiles/x.shp"))
    r = _validate(demo_copy)
    assert r.exit_code == 1
    assert "layers.estates.path: file not found: shapefiles/x.shp" in r.output


def test_misspelt_key_is_an_error_with_suggestion(demo_copy):
    def typo(d):
        d["allocation"]["max_distanse_km"] = 10
        d["grd"] = {}

    edit_yaml(demo_copy, typo)
    r = _validate(demo_copy)
    assert r.exit_code == 1
    assert "allocation.max_distanse_km: unknown key (did you mean 'max_distance_km'?)" in r.output
    assert "grd: unknown key (did you mean 'grid'?)" in r.output


def test_unknown_layer_and_missing_required_layer(demo_copy):
    def f(d):
        d["layers"]["estate"] = d["layers"].pop("estates")

    edit_yaml(demo_copy, f)
    r = _validate(demo_copy)
    assert r.exit_code == 1
    assert "unknown layer 'estate' (did you mean 'estates'?)" in r.output
    assert "required layer(s) missing: estates" in r.output


def test_missing_required_field(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "estates.shp"
    g = gpd.read_file(shp).drop(columns=["name"])
    g.to_file(shp, encoding="UTF-8")
    r = _validate(demo_copy)
    assert r.exit_code == 1
    assert "layer 'estates'" in r.output and "missing required field(s): name" in r.output


def test_field_mapping_renames_users_fields(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "estates.shp"
    g = gpd.read_file(shp).rename(columns={"name": "نام", "estate_id": "کد"})
    g.to_file(shp, encoding="UTF-8")
    edit_yaml(demo_copy, lambda d: d["layers"]["estates"].update(fields={"name": "نام", "estate_id": "کد"}))
    assert _validate(demo_copy).exit_code == 0


def test_layer_without_crs(demo_copy):
    d = demo_copy.parent / "shapefiles" / "isfahan_demo"
    (d / "roads.prj").unlink()
    r = _validate(demo_copy)
    assert r.exit_code == 1
    assert "layer 'roads'" in r.output and "no coordinate reference system" in r.output
    assert "layers.roads.crs" in r.output
    # declaring it fixes the problem
    edit_yaml(demo_copy, lambda x: x["layers"]["roads"].update(crs="EPSG:4326"))
    assert _validate(demo_copy).exit_code == 0


def test_invalid_polygon_repaired_with_warning_naming_id(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "estates.shp"
    g = gpd.read_file(shp)
    b = g.geometry.iloc[0].bounds
    bowtie = shapely.Polygon([(b[0], b[1]), (b[2], b[3]), (b[2], b[1]), (b[0], b[3])])
    assert not bowtie.is_valid
    g.loc[0, "geometry"] = bowtie
    g.to_file(shp, encoding="UTF-8")
    r = _validate(demo_copy)
    assert r.exit_code == 0, r.output
    assert "repaired 1 invalid geometry (ids: E01)" in r.output
    sc = load_scenario(demo_copy)
    with pytest.warns(Warning):
        region = load_region(sc)
    assert region.layers["estates"].geometry.is_valid.all()
    assert (region.layers["estates"].estate_id == "E01").any()


def test_empty_geometry_excluded_and_reported(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "businesses.shp"
    g = gpd.read_file(shp)
    g.loc[3, "geometry"] = None
    g.to_file(shp, encoding="UTF-8")
    sc = load_scenario(demo_copy)
    with pytest.warns(Warning, match="excluded 1 feature"):
        region = load_region(sc)
    ex = region.excluded
    assert list(ex["id"]) == ["B00004"] and "empty or missing geometry" in ex["reason"].iat[0]
    assert len(region.layers["businesses"]) == len(g) - 1


def test_duplicate_ids_error(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "businesses.shp"
    g = gpd.read_file(shp)
    g.loc[5, "biz_id"] = g.loc[4, "biz_id"]
    g.to_file(shp, encoding="UTF-8")
    r = _validate(demo_copy)
    assert r.exit_code == 1 and "duplicate biz_id values: B00005" in r.output


def test_empty_required_layer_is_an_error(demo_copy):
    shp = demo_copy.parent / "shapefiles" / "isfahan_demo" / "estates.shp"
    g = gpd.read_file(shp).iloc[:0]
    g.to_file(shp, encoding="UTF-8")
    r = _validate(demo_copy)
    assert r.exit_code == 1 and "the layer is empty" in r.output


def test_windows_1256_dbf_without_cpg_loads_persian(demo_copy):
    d = demo_copy.parent / "shapefiles" / "isfahan_demo"
    g = gpd.read_file(d / "urban.shp")[["name", "population", "kind", "geometry"]]
    g = g[g["name"].map(has_persian)].copy()  # the few Latin fallback names are not representable in CP1256
    # CP1256 has no Farsi yeh (U+06CC): Persian CP1256 data stores the Arabic yeh, as here
    g["name"] = g["name"].str.replace("ی", "ي")
    for f in d.glob("urban.*"):
        f.unlink()
    g.to_file(d / "urban.shp", encoding="cp1256")
    (d / "urban.cpg").unlink(missing_ok=True)
    assert detect_dbf_encoding(d / "urban.dbf") == "cp1256"
    assert _validate(demo_copy).exit_code == 0
    region = load_region(load_scenario(demo_copy))
    names = set(region.layers["urban"]["name"])
    assert "شاهين شهر" in names and "كاشان" in names
    # Persian survived exactly, and matches the UTF-8 spelling after normalization
    assert sorted(names) == sorted(set(g["name"]))
    assert "شاهین شهر" in set(region.layers["urban"]["name_norm"])


def test_explicit_encoding_is_honoured(demo_copy):
    d = demo_copy.parent / "shapefiles" / "isfahan_demo"
    g = gpd.read_file(d / "estates.shp").drop(columns=["name_en", "source"])
    g = g[g["name"].map(lambda s: all(ord(c) < 0x80 or has_persian(c) for c in s))].copy()
    g["name"] = g["name"].str.replace("ی", "ي")
    for f in d.glob("estates.*"):
        f.unlink()
    g.to_file(d / "estates.shp", encoding="cp1256")
    (d / "estates.cpg").unlink(missing_ok=True)
    edit_yaml(demo_copy, lambda x: x["layers"]["estates"].update(encoding="cp1256"))
    region = load_region(load_scenario(demo_copy))
    assert set(region.layers["estates"]["name"]) == set(g["name"])


def test_persian_digits_in_numeric_fields(demo_copy):
    d = demo_copy.parent / "shapefiles" / "isfahan_demo"
    g = gpd.read_file(d / "estates.shp")
    g["vacant_ha"] = g["vacant_ha"].map(lambda v: str(v).translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")))
    g.to_file(d / "estates.shp", encoding="UTF-8")
    region = load_region(load_scenario(demo_copy))
    assert region.layers["estates"]["vacant_ha"].dtype.kind == "f"
    expected = g["vacant_ha"].map(lambda s: float(s.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٫", "0123456789.")))).sum()
    assert abs(region.layers["estates"]["vacant_ha"].sum() - expected) < 1e-6


def test_scenario_error_lists_every_problem(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("layers: {estates: {path: a.shp}, urban: {path: b.shp}, businesses: {path: c.shp}}\n"
                 "grid: {resolution_m: -5}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "grid.resolution_m" in str(e.value)
    p.write_text("layers: {estates: {path: a.shp}, urban: {path: b.shp}, businesses: {path: c.shp}}\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(p)
    assert len(e.value.problems) == 3


def test_not_yaml(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("layers: [unclosed\n", encoding="utf-8")
    r = _validate(p)
    assert r.exit_code == 1 and "not valid YAML" in r.output


def test_unreadable_layer_file(demo_copy):
    d = demo_copy.parent / "shapefiles" / "isfahan_demo"
    (d / "roads.shp").write_bytes(b"not a shapefile")
    r = _validate(demo_copy)
    assert r.exit_code == 1 and "layer 'roads'" in r.output and "cannot read roads.shp" in r.output
