"""towns.csv, counties.csv and flows.csv: where the businesses come from and where they go, adding up
to the plan."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main


def test_origin_and_flow_tables_add_up_to_the_plan(tmp_path):
    sc = small_scenario(tmp_path, n_biz=120)
    biz = gpd.read_file(sc.parent / "businesses.shp")
    biz["county"] = ["شهرستان اصفهان" if i % 3 else "شهرستان نجف‌آباد" for i in range(len(biz))]
    biz.to_file(sc.parent / "businesses.shp", encoding="UTF-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    rel = pd.read_csv(out / "relocation.csv", dtype=str, keep_default_na=False)
    n_as = int((rel.status == "assigned").sum())
    towns = pd.read_csv(out / "towns.csv")
    assert towns.businesses.sum() == len(rel) and towns.assigned.sum() == n_as
    assert (towns.businesses == towns.assigned + towns.unassigned).all()
    counties = pd.read_csv(out / "counties.csv")
    assert set(counties.county) == {"شهرستان اصفهان", "شهرستان نجف‌آباد"}
    assert counties.businesses.sum() == len(rel) and counties.assigned.sum() == n_as
    flows = pd.read_csv(out / "flows.csv")
    assert flows.units.sum() == n_as and set(flows.estate_id) <= set(rel.estate_id)
    # a town's destinations list the same estates and counts as the flows from it
    top = towns.iloc[0]
    want = flows[flows.town == top.town].sort_values(["units", "estate_id"], ascending=[False, True])
    got = dict(part.rsplit(" (", 1) for part in str(top.destinations).split("; ") if part)
    assert {k: int(v.rstrip(")")) for k, v in got.items()} == dict(zip(want.estate_id, want.units))


def test_no_county_field_no_counties_table(tmp_path):
    sc = small_scenario(tmp_path, n_biz=40)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "towns.csv").is_file() and (out / "flows.csv").is_file() and not (out / "counties.csv").exists()
