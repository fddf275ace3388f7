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
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    assert text.splitlines()[0] == ("biz_id,name,category,lon,lat,estate_id,zone_id,distance_km,land_m2,status,reason,"
                                    "site_id,plot_id,plot_reason")
    assert "تعمیرگاه" in text
    import pandas as pd

    from siteplan.export import write_csv

    write_csv(pd.DataFrame({"name": ["اصفهان"]}), tmp_path / "b.csv", bom=True)
    assert (tmp_path / "b.csv").read_bytes().startswith(b"\xef\xbb\xbf")
