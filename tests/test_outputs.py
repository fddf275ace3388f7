"""GeoJSON per RFC 7946 (checked independently of the writer), CSV, and a report that is safe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main

XSS = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]


def _signed_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def check_rfc7946(path: Path) -> int:
    raw = path.read_bytes()
    text = raw.decode("utf-8")  # UTF-8, or this raises
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for num in re.findall(r"-?\d+\.(\d+)", re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
        assert len(num) <= 7, f"{path.name}: more than 7 decimals"
    n = 0
    for f in doc["features"]:
        assert f["type"] == "Feature" and "properties" in f
        g = f["geometry"]
        if g is None:
            continue
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"] if g["type"] == "MultiPolygon" else []
        for poly in polys:
            for k, ring in enumerate(poly):
                assert ring[0] == ring[-1] and len(ring) >= 4
                a = _signed_area(ring)
                assert (a > 0) if k == 0 else (a < 0), f"{path.name}: ring {k} wound wrongly"
                n += 1
        flat = re.findall(r"-?\d+(?:\.\d+)?", json.dumps(g["coordinates"]))
        vals = list(map(float, flat))
        assert all(-180 <= x <= 180 for x in vals[0::2]) and all(-90 <= y <= 90 for y in vals[1::2])
    return n


@pytest.fixture(scope="module")
def xss_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("xss")
    sc = small_scenario(base, n_biz=80)
    est = gpd.read_file(sc.parent / "estates.shp")
    est.loc[0, "name"] = XSS[0]
    est.loc[1, "name"] = XSS[1]
    est.to_file(sc.parent / "estates.shp", encoding="UTF-8")
    biz = gpd.read_file(sc.parent / "businesses.shp")
    biz.loc[0, "name"] = "تعمیرگاه " + XSS[0]
    biz.loc[1, "biz_id"] = XSS[1]
    biz.to_file(sc.parent / "businesses.shp", encoding="UTF-8")
    out = base / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def test_geojson_outputs_are_rfc7946(xss_run):
    rings = 0
    for f in ("estates", "zones", "sites", "clusters"):
        rings += check_rfc7946(xss_run / f"{f}.geojson")
    assert rings > 0
    est = json.loads((xss_run / "estates.geojson").read_text(encoding="utf-8"))
    names = [f["properties"]["name"] for f in est["features"]]
    assert XSS[0] in names  # data kept as it is in the data file
    assert any("شهرک" in n or "ناحیه" in n for n in names)  # Persian intact, not escaped


def test_report_escapes_data_strings(xss_run):
    html = (xss_run / "report.html").read_text(encoding="utf-8")
    for s in XSS:
        assert s not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the estate table of the panel
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in html  # the map data block
    assert html.count("<script") == html.count("</script>")


def test_csv_utf8_and_bom_option(xss_run, tmp_path):
    raw = (xss_run / "relocation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # on by default: Excel reads Persian
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ("biz_id,name,category,category_fa,class_by,class_confidence,lon,lat,"
                                    "estate_id,estate_name,zone_id,"
                                    "distance_km,road_km,minutes,land_m2,status,reason_code,reason,reason_fa,site_id,"
                                    "plot_id,plot_reason")
    assert "تعمیرگاه" in text
    import pandas as pd

    from siteplan.outputs.writer import write_csv

    write_csv(pd.DataFrame({"name": ["اصفهان"]}), tmp_path / "b.csv", bom=True)
    assert (tmp_path / "b.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    write_csv(pd.DataFrame({"name": ["اصفهان"]}), tmp_path / "n.csv", bom=False)
    assert (tmp_path / "n.csv").read_bytes().startswith(b"name")


def test_csv_bom_can_be_turned_off(tmp_path):
    from conftest import edit_yaml

    sc = small_scenario(tmp_path, n_biz=30)
    edit_yaml(sc, lambda d: d.setdefault("outputs", {}).update(csv_bom=False, report=False, suitability_tifs=False))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    for f in ("relocation.csv", "estate_summary.csv", "estates.csv", "flows.csv"):
        assert not (out / f).read_bytes().startswith(b"\xef\xbb\xbf"), f


def test_reason_codes_vocabulary_and_persian():
    from siteplan.relocation.reasons import REASON_CODES, reason_codes, reason_fa

    sentences = ["", "capacity exhausted in the eligible estates within reach",
                 "no eligible estate within 30 km (nearest: E15 at 38.2 km)",
                 "no eligible estate within 30 km (nearest E06: no wastewater)",
                 "too large (2.50 ha) for the free land of every eligible estate within 30 km",
                 "no existing estate in the scenario", "unclassified", "unclassified: no keyword in name",
                 "unclassified: category not in scope: scrap", "a reason added later"]
    codes = list(reason_codes(sentences))
    assert codes == ["", "capacity_full", "too_far", "not_eligible_nearby", "too_large", "no_estates",
                     "unclassified", "unclassified", "out_of_scope", "other"]
    assert set(codes) - {""} <= set(REASON_CODES)
    fa = list(reason_fa(sentences))
    assert fa[0] == ""
    assert "38.2" in fa[2] and "E15" in fa[2] and "کیلومتر" in fa[2]
    assert "E06" in fa[3] and "بدون شبکه فاضلاب" in fa[3] and "no wastewater" not in fa[3]  # all Persian
    assert "2.50" in fa[4] and "هکتار" in fa[4]
    assert fa[-1].endswith("a reason added later")  # unknown: Persian label, English kept, never guessed
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in t) for t in fa[1:])


def test_reasons_by_road_say_the_nearest_is_straight_and_persian_reach_is_road_distance():
    from siteplan.relocation.reasons import reason_codes, reason_fa

    sentences = ["no eligible estate within 30 km by road (nearest: E02 at 26.9 km in a straight line)",
                 "no eligible estate within 45 min by road (nearest E06: no wastewater)",
                 "too large (2.50 ha) for the free land of every eligible estate within 30 km by road",
                 "no eligible estate within 30 km (nearest: E15 at 38.2 km)"]
    assert list(reason_codes(sentences)) == ["too_far", "not_eligible_nearby", "too_large", "too_far"]
    fa = list(reason_fa(sentences))
    assert "تا 30 کیلومتر مسیر جاده‌ای" in fa[0] and "26.9 کیلومتری به خط مستقیم" in fa[0]
    assert "تا 45 دقیقه مسیر جاده‌ای" in fa[1] and "تا 30 کیلومتر مسیر جاده‌ای" in fa[2]
    assert not any("از راه" in t for t in fa)  # not "of the road"
    assert "در شعاع 30 کیلومتر" in fa[3] and "خط مستقیم" not in fa[3]  # straight runs: a radius


@pytest.fixture(scope="module")
def demo_run(demo_run_dir) -> Path:
    return demo_run_dir  # the session's shared demo run (read only)


def test_relocation_csv_names_codes_and_every_row(demo_run):
    xss_run = demo_run
    import pandas as pd

    from siteplan.relocation.reasons import REASON_CODES

    rel = pd.read_csv(xss_run / "relocation.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    est = pd.read_csv(xss_run / "estates.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    a = rel[rel.status == "assigned"]
    u = rel[rel.status == "unassigned"]
    assert len(a) and len(u) and len(rel) == 6000
    assert len(set(u.reason)) > 50 and len(set(u.reason_code)) <= len(REASON_CODES)  # a pivot-able vocabulary
    assert (a.reason_code == "").all() and (a.reason_fa == "").all()
    assert set(u.reason_code) <= set(REASON_CODES) and (u.reason_code != "").all() and (u.reason_fa != "").all()
    names = dict(zip(est.estate_id, est.estate_name))
    assert (a.estate_name == a.estate_id.map(names)).all()
    classified = rel[rel.category != ""]
    assert (classified.category_fa != "").all()
    assert any("\u0600" <= ch <= "\u06ff" for ch in "".join(classified.category_fa))


def test_estate_tables_cannot_be_summed_wrongly(demo_run):
    xss_run = demo_run
    import pandas as pd

    rel = pd.read_csv(xss_run / "relocation.csv", encoding="utf-8-sig", keep_default_na=False, dtype={"estate_id": str})
    est = pd.read_csv(xss_run / "estates.csv", encoding="utf-8-sig", dtype={"estate_id": str})
    summ = pd.read_csv(xss_run / "estate_summary.csv", encoding="utf-8-sig", dtype={"estate_id": str})
    # per-category rows hold no estate total: nothing a pivot could multiply
    assert not {"capacity_m2", "left_m2", "capacity_from"} & set(summ.columns)
    assert "estate_name" in summ and "estate_name" in est
    a = rel[rel.status == "assigned"]
    # every summable column adds up to the plan over any grouping
    by_est = a.groupby("estate_id")["land_m2"].sum()
    assert summ.groupby("estate_id")["used_m2"].sum().round(0).to_dict() == by_est.round(0).to_dict()
    assert summ["units"].sum() == len(a) == est["units"].sum()
    assert abs(summ["used_m2"].sum() - est["used_m2"].sum()) < 1.0
    assert (summ.groupby("estate_id")["share_of_estate_used"].sum().round(3) == 1.0).all()
    # one row per estate: its totals once
    assert est["estate_id"].is_unique
    assert ((est["capacity_m2"] - est["used_m2"]).clip(lower=0) - est["left_m2"]).abs().max() < 0.2


def test_gpkg_has_every_vector_output_at_a_version_gdal_36_reads(xss_run, tmp_path):
    import sqlite3

    import pyogrio

    gpkg = tmp_path / "run.gpkg"
    r = CliRunner().invoke(main, ["export", str(xss_run), "--gpkg", str(gpkg)])
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(gpkg)
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        app = con.execute("PRAGMA application_id").fetchone()[0]
    finally:
        con.close()
    assert app == 0x47504B47 and version <= 10300  # 'GPKG', at most 1.3: GDAL 3.6 reads it without a warning
    layers = {n: t for n, t in pyogrio.list_layers(gpkg)}
    want = {f.stem for f in xss_run.glob("*.geojson")} | {"relocation", "study_area", "layer_styles"}
    assert {"estates", "zones", "sites", "clusters", "flows", "relocation"} <= want == set(layers)
    assert layers["relocation"] == "Point" and layers["flows"] == "LineString"
    rel = gpd.read_file(gpkg, layer="relocation")
    csv_rows = (xss_run / "relocation.csv").read_text(encoding="utf-8-sig").count("\n") - 1
    assert len(rel) == csv_rows and "reason_code" in rel and rel.crs.to_epsg() == 4326
    flows = gpd.read_file(gpkg, layer="flows")
    assert flows["units"].sum() == (rel["status"] == "assigned").sum()
    tifs = sorted(p.name for p in (tmp_path / "run_suitability").glob("*.tif"))
    assert tifs == sorted(p.name for p in (xss_run / "suitability").glob("*.tif")) and tifs
