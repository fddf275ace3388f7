"""The command line end to end: outputs, determinism, atomic writes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.cli import main

OUTPUTS = ["report.html", "relocation.csv", "estates.geojson", "zones.geojson", "sites.geojson",
           "clusters.geojson", "manifest.json"]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return small_scenario(tmp_path_factory.mktemp("small"), n_biz=150)


@pytest.fixture(scope="module")
def small_run(small, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def test_run_writes_every_output(small_run):
    for f in OUTPUTS:
        assert (small_run / f).is_file(), f
    assert list((small_run / "suitability").glob("*.tif"))
    m = json.loads((small_run / "manifest.json").read_text(encoding="utf-8"))
    assert m["inputs"]["estates"] and all(len(h) == 64 for h in m["inputs"]["estates"].values())
    assert m["solver"]["status"] in ("optimal", "feasible") and m["solver"]["gap"] >= 0
    assert set(m["timings_s"]) >= {"load", "classify", "suitability", "allocate", "zoning", "locate", "write"}
    assert m["versions"]["numpy"] and m["seed"] == 42
    assert m["counts"]["businesses"] == m["counts"]["assigned"] + m["counts"]["unassigned"]


def test_same_seed_gives_byte_identical_outputs(small, small_run, tmp_path):
    out2 = tmp_path / "again"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out2), "--quiet"])
    assert r.exit_code == 0, r.output
    for f in ["relocation.csv", "estates.geojson", "zones.geojson", "sites.geojson", "clusters.geojson",
              "estate_summary.csv"]:
        assert (small_run / f).read_bytes() == (out2 / f).read_bytes(), f
    for tif in (small_run / "suitability").glob("*.tif"):
        assert tif.read_bytes() == (out2 / "suitability" / tif.name).read_bytes()


def test_existing_output_needs_overwrite(small, small_run):
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(small_run)])
    assert r.exit_code == 1 and "--overwrite" in r.output


def test_failed_run_leaves_nothing_behind(small, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(bad, lambda d: d.update(categories=["car_repair", "no_such_guild"]))
    # relative paths now point nowhere: resolve them against the original folder
    edit_yaml(bad, lambda d: [v.update(path=str(small.parent / v["path"])) for v in d["layers"].values()])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(bad), "--out", str(out)])
    assert r.exit_code == 1
    assert "categories[1]: 'no_such_guild' is not a catalogue category" in r.output
    assert "Traceback" not in r.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_cli_process_exit_codes_and_quiet(small, tmp_path):
    exe = [sys.executable, "-m", "siteplan"]
    p = subprocess.run(exe + ["validate", str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert p.returncode == 1 and "scenario file not found" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run(exe + ["frobnicate"], capture_output=True, text=True)
    assert p.returncode == 2
    p = subprocess.run(exe + ["--quiet", "catalogue"], capture_output=True, text=True)
    assert p.returncode == 0 and "car_repair" in p.stdout and p.stderr == ""
    p = subprocess.run(exe + ["catalogue", "--format", "json"], capture_output=True, text=True)
    rows = json.loads(p.stdout)
    assert {"source", "sep_status", "land_status"} <= set(rows[0])


def test_weights_ahp_command(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text(",roads,towns,power\nroads,1,3,5\ntowns,1/3,1,3\npower,1/5,1/3,1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["weights", "ahp", str(f)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert set(d) >= {"weights", "lambda_max", "ci", "cr", "ri_table", "consistent"}
    assert d["criteria"] == ["roads", "towns", "power"] and d["consistent"]
    assert abs(sum(d["weights"]) - 1) < 1e-9


def test_suitability_command(small, tmp_path):
    import rasterio

    out = tmp_path / "s.tif"
    r = CliRunner().invoke(main, ["suitability", str(small), "--category", "car_repair", "--out", str(out)])
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        a = ds.read(1, masked=True)
        assert ds.nodata == -9999 and ds.profile["tiled"] and ds.compression is not None
        assert 0 <= a.min() and a.max() <= 1 and a.mask.any()


def test_whole_area_excluded_is_explained(small, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(small.parent / v["path"])) for v in d["layers"].values()])
    edit_yaml(sc, lambda d: d.update(catalogue={"overrides": {"scrap": {"sep_m": 500000}}}))
    r = CliRunner().invoke(main, ["suitability", str(sc), "--category", "scrap", "--out", str(tmp_path / "x.tif")])
    assert r.exit_code == 1
    assert "exclude the whole study area" in r.output and "VNG-4.1-HOMES" in r.output
    assert not (tmp_path / "x.tif").exists()


def test_export_gpkg(small_run, tmp_path):
    import pyogrio

    gpkg = tmp_path / "run.gpkg"
    r = CliRunner().invoke(main, ["export", str(small_run), "--gpkg", str(gpkg)])
    assert r.exit_code == 0, r.output
    names = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert {"estates", "zones", "clusters"} <= names


def test_plots_output(small, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(small.parent / v["path"])) for v in d["layers"].values()])
    edit_yaml(sc, lambda d: d.update(zoning={"plots": True}, outputs={"report": False, "suitability_tifs": False}))
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    plots = json.loads((out / "plots.geojson").read_text(encoding="utf-8"))
    zones = json.loads((out / "zones.geojson").read_text(encoding="utf-8"))
    assert plots["features"] and all("plots" in z["properties"] for z in zones["features"])
    # plots of the zones, and the existing plots of the plots layer (those not let have no zone)
    zid = {f["properties"]["zone_id"] for f in plots["features"]} - {None}
    assert zid <= {z["properties"]["zone_id"] for z in zones["features"]}
    assert {f["properties"]["status"] for f in plots["features"]} >= {"new", "occupied"}


def test_ahp_weights_in_scenario_and_report(small, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(small.parent / v["path"])) for v in d["layers"].values()])
    m5 = [[1, 2, 2, 3, 3], [0.5, 1, 1, 2, 2], [0.5, 1, 1, 2, 2], [1 / 3, 0.5, 0.5, 1, 1], [1 / 3, 0.5, 0.5, 1, 1]]
    edit_yaml(sc, lambda d: d.update(weights={"method": "ahp", "matrix": m5}, outputs={"suitability_tifs": False}))
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "AHP consistency ratio" in (out / "report.html").read_text(encoding="utf-8")
    bad = [[1, 9, 1 / 9, 1, 1], [1 / 9, 1, 9, 1, 1], [9, 1 / 9, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
    edit_yaml(sc, lambda d: d.update(weights={"method": "ahp", "matrix": bad}))
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(tmp_path / "o2")])
    assert r.exit_code == 1 and "consistency ratio" in r.output and "most inconsistent judgement" in r.output


def test_owa_aggregation(small, tmp_path):
    import rasterio

    sc = tmp_path / "s.yaml"
    sc.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(small.parent / v["path"])) for v in d["layers"].values()])
    # car_repair has 4 criteria in the demo scenario; with equal criterion weights, order weights
    # (1, 0, 0, 0) take the best criterion (OR); with unequal ones OWA is Torra's weighted OWA (test_owa.py)
    edit_yaml(sc, lambda d: d.update(categories=["car_repair"], aggregation={"method": "owa", "order_weights": [1, 0, 0, 0]},
                                     weights={"method": "direct"},
                                     criteria=[dict(c, weight=1.0) for c in d["criteria"]]))
    out = tmp_path / "owa.tif"
    r = CliRunner().invoke(main, ["suitability", str(sc), "--category", "car_repair", "--out", str(out)])
    assert r.exit_code == 0, r.output
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    prep = prepare(load_scenario(sc))
    best = np.max(np.stack([c.score for c in prep.crit if c.spec.name in prep.surfaces["car_repair"].weights]), axis=0)
    with rasterio.open(out) as ds:
        a = ds.read(1, masked=True)
    assert np.allclose(a.filled(np.nan)[~a.mask], best[~a.mask], atol=1e-6)
    edit_yaml(sc, lambda d: d.update(aggregation={"method": "owa", "order_weights": [1, 0]}))
    r = CliRunner().invoke(main, ["suitability", str(sc), "--category", "car_repair", "--out", str(tmp_path / "x.tif")])
    assert r.exit_code == 1 and "aggregation.order_weights" in r.output


def test_zero_capacity_everywhere_runs_to_the_end_with_reasons_and_new_sites(tmp_path):
    """No vacant land in any estate (and no plots): every classified business is unassigned with a
    reason, its land is unmet, and new sites are proposed for it — not a crash."""
    sc = small_scenario(tmp_path, n_biz=80)
    est = sc.parent / "estates.shp"
    g = gpd.read_file(est)
    g["vacant_ha"] = 0.0
    from siteplan.common.atomic import write_shapefile

    write_shapefile(g, est)
    edit_yaml(sc, lambda d: d["layers"].pop("plots", None))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    rel = pd.read_csv(out / "relocation.csv")
    assert (rel.status == "unassigned").all()
    assert rel.reason.fillna("").str.len().gt(0).all()
    classified = rel[rel.category.notna()]
    assert len(classified) and classified.reason.str.contains("capacity|too large|no eligible").all()
    sites = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))
    assert len(sites["features"]) > 0
