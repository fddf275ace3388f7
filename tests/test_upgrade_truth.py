"""The figures of upgrades.csv, options.csv and sites.geojson are what the inputs give (issue 24).

* An upgrade's stated gain is what a rerun with the upgrade written into the estates layer gives: on
  the demo, the top three upgrades of upgrades.csv are applied to a copy of the estates layer, the plan
  is solved again by the pipeline's own stages, and the net change of assigned businesses (and of land)
  must equal the upgrades.csv figures.
* ``land_ha`` of an upgrade is a net change (it may be negative when the re-solved plan swaps one large
  business for several small ones); ``placed``/``placed_ha``/``displaced`` say how it comes about.
* A new site's ``extend`` covers every utility its categories need (water and wastewater included) and
  says when the inputs hold no network of one; ``sized_by`` says when a scenario bound set its size.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DEMO_DIR, DEMO_YAML, edit_yaml

from siteplan.common.atomic import write_shapefile
from siteplan.locate.ranking import EXTEND_KM, site_feasibility
from siteplan.locate.newsites import site_size
from siteplan.pipeline import plan_inputs, prepare, relocate
from siteplan.scenario import load_scenario

TOP = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_run_dir: Path) -> dict:
    """The baseline: the session's demo run (as the CLI writes it); a copy of its inputs for the reruns."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(DEMO_DIR, root / "shapefiles" / "isfahan_demo")
    sc = root / "demo.yaml"
    shutil.copy(DEMO_YAML, sc)
    out = demo_run_dir
    read = {"dtype": {"estate_id": str, "biz_id": str}, "encoding": "utf-8-sig"}
    return {"root": root, "yaml": sc, "out": out,
            "upgrades": pd.read_csv(out / "upgrades.csv", **read),
            "options": pd.read_csv(out / "options.csv", **read),
            "relocation": pd.read_csv(out / "relocation.csv", **read),
            "sites": gpd.read_file(out / "sites.geojson")}


def _apply(changes: str, estates: gpd.GeoDataFrame, eid: str) -> gpd.GeoDataFrame:
    """The estates layer with ``changes`` (``water=1; wastewater=1``, ``max_cat=5.1``) on estate ``eid``."""
    out = estates.copy()
    at = out["estate_id"].astype(str) == eid
    assert at.sum() == 1
    for part in changes.split(";"):
        field, _, value = part.strip().partition("=")
        assert field in out.columns, field
        out.loc[at, field] = value if out[field].dtype == object else float(value)
    return out


def _rerun(demo: dict, k: int) -> pd.DataFrame:
    """The relocation rows of the demo rerun with upgrade ``k`` (0-based row of upgrades.csv) applied
    to a copy of its estates layer, by the stages ``siteplan run`` uses."""
    row = demo["upgrades"].iloc[k]
    src = demo["root"] / "shapefiles" / "isfahan_demo" / "estates.shp"
    dst = demo["root"] / f"upgrade_{k}" / "estates.shp"
    dst.parent.mkdir()
    write_shapefile(_apply(str(row["changes"]), gpd.read_file(src), str(row["estate_id"])), dst)
    sc = demo["root"] / f"upgrade_{k}.yaml"
    shutil.copy(demo["yaml"], sc)
    edit_yaml(sc, lambda d: d["layers"]["estates"].update(path=str(dst)))
    prep = prepare(load_scenario(sc))
    return relocate(prep, plan_inputs(prep)).rows


@pytest.mark.parametrize("k", range(TOP))
def test_top_upgrade_gain_equals_a_rerun_with_it(demo, k):
    up = demo["upgrades"]
    assert len(up) > k, "the demo proposes fewer upgrades than the test checks"
    row = up.iloc[k]
    assert row["figure"] == "rerun"  # the top ones are verified, not estimated
    base = demo["relocation"]
    again = _rerun(demo, k)
    a0 = base["status"] == "assigned"
    a1 = again["status"] == "assigned"
    gain = int(a1.sum() - a0.sum())
    print(f"\n{row['estate_id']} {row['upgrade']}: upgrades.csv {row['businesses']} (estimate "
          f"{row['businesses_est']}), rerun {gain:+d}")
    assert int(row["businesses"]) == gain
    land = (again.loc[a1, "land_m2"].sum() - base.loc[a0, "land_m2"].sum()) / 1e4
    assert row["land_ha"] == pytest.approx(land, abs=0.011)
    both = base.merge(again, on="biz_id", suffixes=("_0", "_1"))
    placed = (both["status_1"] == "assigned") & (both["status_0"] != "assigned")
    displaced = (both["status_0"] == "assigned") & (both["status_1"] != "assigned")
    assert int(row["placed"]) == int(placed.sum())
    assert int(row["displaced"]) == int(displaced.sum())
    assert row["placed_ha"] == pytest.approx(both.loc[placed, "land_m2_1"].sum() / 1e4, abs=0.011)


def test_upgrade_columns_say_what_they_are(demo):
    up = demo["upgrades"]
    assert len(up)
    ver = up[up["figure"] == "rerun"]
    est = up[up["figure"] == "estimate"]
    assert len(ver) + len(est) == len(up)
    # listed only when the re-solved plan places someone more; net = placed − displaced
    assert (ver["businesses"] > 0).all()
    assert (ver["businesses"] == ver["placed"] - ver["displaced"]).all()
    assert (ver["placed_ha"] >= 0).all()
    # an estimate carries no verified figure; verified rows come first
    assert est["businesses"].isna().all() and (est["businesses_est"] > 0).all()
    assert list(up["figure"]) == sorted(up["figure"], key=lambda f: f != "rerun")
    # options.csv: an upgrade's figure says which, and an estimate is labelled in words too
    opts = demo["options"]
    ou = opts[opts["option"] == "upgrade"]
    assert set(ou["figure"]) <= {"rerun", "estimate"}
    assert ou.loc[ou["figure"] == "estimate", "what"].str.contains("estimate").all()
    assert (opts.loc[opts["option"] == "new site", "figure"] == "site allocation").all()


def test_site_extend_covers_every_utility_its_categories_need(demo):
    sites = demo["sites"]
    assert len(sites)
    cat = pd.read_csv(Path(__file__).parents[1] / "siteplan" / "data" / "catalogue.csv").set_index("code")
    for s in sites.itertuples():
        need = {u for c in s.categories.split(", ") for u in str(cat.loc[c, "utilities"]).split(";")}
        assert set(s.utilities.split(", ")) == need
        for u in need:
            km = getattr(s, f"{u}_km")
            if pd.isna(km):
                assert f"{u}: no network in the inputs" in s.extend
            elif km > EXTEND_KM:
                assert f"{u} {km:.1f} km" in s.extend
            else:
                assert u not in s.extend
        for u in {"power", "gas", "water", "wastewater"} - need:
            assert u not in s.extend
    # the demo's utilities layer has no water or sewer network: a site for car washes or stone cutters
    # says so (it said only "power …, gas …" before)
    wet = sites[sites["categories"].str.contains("stone_cutting|car_wash_oil")]
    assert len(wet) and wet["extend"].str.contains("wastewater: no network in the inputs").all()


def test_site_says_when_a_scenario_bound_set_its_size(demo):
    sites = demo["sites"]
    sc = load_scenario(demo["yaml"])
    for s in sites.itertuples():
        want, by = site_size(s.demand_ha, sc.sites.area_ha, sc.sites.min_area_ha, sc.sites.max_area_ha)
        assert s.sized_by == by
        if s.demand_ha < sc.sites.min_area_ha:
            assert s.sized_by == "min_area_ha" and "sites.min_area_ha" in s.sizing
    forced = sites[sites["sized_by"] == "min_area_ha"]
    assert len(forced), "the demo's min_area_ha of 20 ha sizes some of its sites"
    opts = demo["options"].set_index("id")
    report = (demo["out"] / "report.html").read_text(encoding="utf-8")
    for s in forced.itertuples():
        assert opts.loc[s.site_id, "sized_by"] == "min_area_ha"
        assert "sites.min_area_ha" in opts.loc[s.site_id, "what"]
        assert s.sizing in report or s.sizing.replace("'", "&#39;") in report


def test_site_size_bounds():
    assert site_size(0.25, None, 20, 300) == (20.0, "min_area_ha")
    assert site_size(50.0, None, 20, 300) == (50.0, "demand")
    assert site_size(400.0, None, 20, 300) == (300.0, "max_area_ha")
    assert site_size(0.25, 40.0, 20, 300) == (40.0, "area_ha")


def test_feasibility_measures_each_needed_network():
    crs = "EPSG:32639"
    site = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 500, 500)], crs=crs)
    util = gpd.GeoDataFrame({"kind": ["sewer", "power_line"]},
                            geometry=[shapely.LineString([(2500, 0), (2500, 500)]),
                                      shapely.LineString([(700, 0), (700, 500)])], crs=crs)
    f = site_feasibility(site, {"utilities": util}, net_to_gross=0.65, land_per_unit={"x": 100.0},
                         share={"x": 1.0}, needs=("power", "water", "wastewater"))
    r = f.iloc[0]
    assert r["wastewater_km"] == pytest.approx(2.0) and r["power_km"] == pytest.approx(0.2)
    assert np.isnan(r["water_km"]) and np.isnan(r["gas_km"])
    assert r["extend"] == "water: no network in the inputs, wastewater 2.0 km"
    assert r["utilities"] == "power, water, wastewater"
