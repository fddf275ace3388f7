"""siteplan compare: the demo against a variant with one upgrade (wastewater at estate E06), small
hand-made runs for the rules of each table, bad folders, the output folder and hostile names."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import DEMO_DIR, DEMO_YAML, needs_browser, start_browser
from shapely.geometry import box

from siteplan.cli import main
from siteplan.compare import CHANGES, compare_runs, read_run
from siteplan.errors import InputError

UPGRADED = "E06"


def _demo_scenario(root: Path, *, wastewater_at: str | None = None) -> Path:
    """The demo scenario and region copied under ``root`` (tifs and report off, to save time), with
    wastewater added at one estate through the estates layer's field."""
    region = root / "shapefiles" / "isfahan_demo"
    shutil.copytree(DEMO_DIR, region)
    data = yaml.safe_load(DEMO_YAML.read_text(encoding="utf-8"))
    data["outputs"] = {"suitability_tifs": False, "report": False}
    sc = root / "demo.yaml"
    sc.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if wastewater_at:
        est = gpd.read_file(region / "estates.shp")
        assert int(est.loc[est.estate_id == wastewater_at, "wastewater"].iloc[0]) == 0
        est.loc[est.estate_id == wastewater_at, "wastewater"] = 1
        est.to_file(region / "estates.shp", encoding="UTF-8")
    return sc


@pytest.fixture(scope="session")
def demo_pair(tmp_path_factory) -> tuple[Path, Path]:
    """Run folders of the demo (A) and of the demo with wastewater at E06 (B), via the pipeline API."""
    from siteplan.pipeline import run_scenario_file

    root = tmp_path_factory.mktemp("compare")
    a_sc = _demo_scenario(root / "a")
    b_sc = _demo_scenario(root / "b", wastewater_at=UPGRADED)
    run_scenario_file(a_sc, root / "run_a")
    run_scenario_file(b_sc, root / "run_b")
    return root / "run_a", root / "run_b"


@pytest.fixture(scope="session")
def demo_cmp(demo_pair, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmpout") / "cmp"
    r = CliRunner().invoke(main, ["compare", str(demo_pair[0]), str(demo_pair[1]), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def _rel(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "relocation.csv", dtype=str, keep_default_na=False)


def test_upgrade_unlocks_businesses_and_the_counts_add_up(demo_pair, demo_cmp):
    a, b = _rel(demo_pair[0]), _rel(demo_pair[1])
    moved = pd.read_csv(demo_cmp / "moved.csv", dtype=str, keep_default_na=False)
    # an independent account, business by business
    ia, ib = a.set_index("biz_id"), b.set_index("biz_id")
    want = {}
    for biz in ia.index:
        ra, rb = ia.loc[biz], ib.loc[biz]
        pa, pb = ra.status == "assigned", rb.status == "assigned"
        if pa and pb and ra.estate_id != rb.estate_id:
            want[biz] = "moved"
        elif not pa and pb:
            want[biz] = "newly_assigned"
        elif pa and not pb:
            want[biz] = "newly_unassigned"
        elif not pa and not pb and ra.site_id != rb.site_id:
            want[biz] = "site_changed"
        elif not pa and not pb and ra.reason != rb.reason:
            want[biz] = "reason_changed"
    assert dict(zip(moved.biz_id, moved.change)) == want
    counts = moved.change.value_counts()
    n_a, n_b = int((a.status == "assigned").sum()), int((b.status == "assigned").sum())
    assert n_a + counts.get("newly_assigned", 0) - counts.get("newly_unassigned", 0) == n_b
    # the upgrade is real: businesses that needed wastewater at E06 are placed, E06 takes more land
    new = moved[moved.change == "newly_assigned"]
    assert len(new) > 0 and n_b > n_a
    assert new.reason_a.str.contains(f"{UPGRADED}: no wastewater").any()
    assert (new.estate_id_b == UPGRADED).any()
    assert set(new.category) & {"car_wash_oil", "stone_cutting", "textile_dyeing"}
    est = pd.read_csv(demo_cmp / "estates.csv", keep_default_na=False)
    e6 = est.set_index("estate_id").loc[UPGRADED]
    assert e6.units_b > e6.units_a and e6.change_ha > 0
    # per-estate units and land add up to the totals of each run
    assert est.units_a.sum() == n_a and est.units_b.sum() == n_b
    assert est.change_units.sum() == n_b - n_a
    land_a = pd.to_numeric(a.land_m2[a.status == "assigned"]).sum() / 1e4
    land_b = pd.to_numeric(b.land_m2[b.status == "assigned"]).sum() / 1e4
    assert est.used_ha_a.sum() == pytest.approx(land_a, abs=1e-3)
    assert est.change_ha.sum() == pytest.approx(land_b - land_a, abs=1e-3)
    tot = pd.read_csv(demo_cmp / "totals.csv").set_index("metric")
    assert tot.loc["assigned", "a"] == n_a and tot.loc["assigned", "b"] == n_b
    assert tot.loc["businesses newly assigned", "change"] == counts.get("newly_assigned", 0)
    trip_b = pd.to_numeric(b.distance_km[b.status == "assigned"]).sum()
    assert tot.loc["total trip length (km)", "b"] == pytest.approx(trip_b, abs=1e-2)
    assert tot.loc["mean trip length (km)", "b"] == pytest.approx(trip_b / n_b, abs=1e-3)
    man = json.loads((demo_pair[1] / "manifest.json").read_text(encoding="utf-8"))
    assert tot.loc["objective", "b"] == pytest.approx(man["solver"]["objective"])


def test_upgrade_variant_zones_sites_and_notes(demo_pair, demo_cmp):
    zones = pd.read_csv(demo_cmp / "zones.csv", keep_default_na=False)
    za = gpd.read_file(demo_pair[0] / "zones.geojson")
    zb = gpd.read_file(demo_pair[1] / "zones.geojson")
    ka, kb = set(zip(za.estate_id, za.category)), set(zip(zb.estate_id, zb.category))
    assert set(zip(zones[zones.change == "added"].estate_id, zones[zones.change == "added"].category)) == kb - ka
    assert set(zip(zones[zones.change == "removed"].estate_id, zones[zones.change == "removed"].category)) == ka - kb
    assert (zones.estate_id == UPGRADED).any()  # E06 gets zones for what it now takes
    sites = pd.read_csv(demo_cmp / "sites.csv", keep_default_na=False)
    sa, sb = gpd.read_file(demo_pair[0] / "sites.geojson"), gpd.read_file(demo_pair[1] / "sites.geojson")
    assert (sites.change != "added").sum() == len(sa) and (sites.change != "removed").sum() == len(sb)
    html = (demo_cmp / "compare.html").read_text(encoding="utf-8")
    assert "<script" not in html and "Content-Security-Policy" in html and "script-src 'none'" in html
    assert "input layers that differ between the runs: estates" in html
    marker = json.loads((demo_cmp / ".siteplan-run").read_text(encoding="utf-8"))
    assert marker["kind"] == "compare"


def test_compare_is_deterministic(demo_pair, demo_cmp, tmp_path):
    out = tmp_path / "again"
    r = CliRunner().invoke(main, ["compare", str(demo_pair[0]), str(demo_pair[1]), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    for f in ("moved.csv", "estates.csv", "sites.csv", "zones.csv", "totals.csv", "compare.html"):
        assert (out / f).read_bytes() == (demo_cmp / f).read_bytes(), f


def test_a_run_against_itself_changes_nothing(demo_pair):
    c = compare_runs(demo_pair[0], demo_pair[0])
    assert c.moved.empty and c.zones.empty and not c.notes
    assert (c.sites.change == "kept").all() and np.allclose(c.sites.overlap, 1.0)
    t = c.totals.set_index("metric")["change"]
    assert (c.estates.change_ha == 0).all() and (t.drop("sites kept") == 0).all()
    assert t["sites kept"] == len(c.a.sites)


# ------------------------------------------------------------------------------------------------
# small hand-made runs
# ------------------------------------------------------------------------------------------------

COLS = ["biz_id", "name", "category", "lon", "lat", "estate_id", "zone_id", "distance_km", "land_m2", "status",
        "reason"]


def _run(folder: Path, rows: list[tuple], *, extra: dict | None = None, manifest: dict | None = None,
         sites: list[tuple] | None = None, zones: list[tuple] | None = None) -> Path:
    folder.mkdir(parents=True)
    df = pd.DataFrame([dict(zip(["biz_id", "name", "category", "estate_id", "distance_km", "land_m2", "status",
                                 "reason"], r)) for r in rows])
    df["lon"], df["lat"], df["zone_id"] = 51.0, 32.0, df["estate_id"].map(lambda e: f"{e}-Z01" if e else "")
    for k, v in (extra or {}).items():
        df[k] = v
    from siteplan.export import write_csv

    write_csv(df[[c for c in COLS if c in df] + list(extra or {})], folder / "relocation.csv")
    m = {"siteplan": "0.1.0", "scenario": {"name": folder.name}, "seed": 1,
         "solver": {"objective": float(len(rows)), "gap": 0.0}}
    m.update(manifest or {})
    (folder / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    if sites is not None:
        gpd.GeoDataFrame([{"site_id": s, "categories": c, "area_ha": a} for s, c, a, _ in sites],
                         geometry=[g for *_, g in sites], crs=4326).to_file(folder / "sites.geojson")
    if zones is not None:
        gpd.GeoDataFrame([{"estate_id": e, "zone_id": f"{e}-Z{i:02d}", "category": c, "area_ha": a, "units": u}
                          for i, (e, c, a, u, _) in enumerate(zones)],
                         geometry=[g for *_, g in zones], crs=4326).to_file(folder / "zones.geojson")
    return folder


BASE = [("B1", "one", "car_repair", "E1", 5.0, 400.0, "assigned", ""),
        ("B2", "two", "car_repair", "E1", 7.0, 400.0, "assigned", ""),
        ("B3", "three", "scrap", "", "", 1000.0, "unassigned", "no eligible estate within 30 km (nearest E2: no gas)"),
        ("B4", "four", "scrap", "", "", 1000.0, "unassigned", "capacity exhausted"),
        ("B5", "five", "metalwork", "E2", 3.0, 500.0, "assigned", ""),
        ("B7", "seven", "scrap", "", "", 1000.0, "unassigned", "capacity exhausted")]


def test_each_kind_of_change_and_extra_columns(tmp_path):
    a = _run(tmp_path / "a", BASE, sites=[("S01", "scrap", 25.0, box(51, 32, 51.01, 32.01)),
                                           ("S02", "metalwork", 25.0, box(52, 32, 52.01, 32.01))],
             zones=[("E1", "car_repair", 1.0, 2, box(51, 32, 51.001, 32.001)),
                    ("E2", "metalwork", 0.5, 1, box(51.1, 32, 51.101, 32.001))])
    b_rows = [("B1", "one", "car_repair", "E2", 6.0, 400.0, "assigned", ""),          # moved
              ("B2", "two", "car_repair", "", "", 400.0, "unassigned", "capacity exhausted"),  # newly unassigned
              ("B3", "three", "scrap", "E2", 9.0, 1000.0, "assigned", ""),          # newly assigned
              ("B4", "four", "scrap", "", "", 1000.0, "unassigned", "no eligible estate within 30 km"),  # reason
              ("B7", "seven", "scrap", "", "", 1000.0, "unassigned", "capacity exhausted"),  # site S01 in B
              ("B6", "six", "scrap", "E1", 1.0, 1000.0, "assigned", "")]            # only in B; B5 only in A
    # B is written with the columns others are adding (reason_code, plot_id, estate_name): ignored
    b = _run(tmp_path / "b", b_rows, extra={"reason_code": "x", "plot_id": "", "estate_name": "n",
                                             "site_id": ["", "", "", "", "S01", ""]},
             sites=[("S01", "scrap", 25.0, box(51, 32, 51.01, 32.0095)),   # same place: kept
                    ("S02", "car_repair", 25.0, box(53, 32, 53.01, 32.01))],  # elsewhere: added; A's S02 removed
             zones=[("E1", "car_repair", 0.5, 1, box(51, 32, 51.001, 32.0005)),
                    ("E2", "metalwork", 0.5, 1, box(51.1, 32, 51.101, 32.001)),
                    ("E2", "car_repair", 0.5, 1, box(51.2, 32, 51.201, 32.001))])
    c = compare_runs(a, b)
    got = dict(zip(c.moved.biz_id, c.moved.change))
    assert got == {"B1": "moved", "B3": "newly_assigned", "B2": "newly_unassigned", "B4": "reason_changed",
                   "B5": "only_in_a", "B6": "only_in_b", "B7": "site_changed"}
    assert list(c.moved.change) == [ch for ch in CHANGES if ch in got.values()]
    assert c.moved.set_index("biz_id").loc["B3", "reason_a"].endswith("no gas)")
    est = c.estates.set_index("estate_id")
    assert est.loc["E1", "units_a"] == 2 and est.loc["E1", "units_b"] == 1
    assert est.loc["E2", "used_ha_b"] == pytest.approx(0.14) and est.loc["E2", "change_units"] == 1
    s = c.sites.set_index("change")
    assert s.loc["kept", "site_id_a"] == "S01" and s.loc["kept", "overlap"] == pytest.approx(0.95, abs=1e-3)
    assert s.loc["removed", "site_id_a"] == "S02" and s.loc["added", "categories_b"] == "car_repair"
    z = c.zones.set_index(["estate_id", "category"])
    assert z.loc[("E1", "car_repair"), "change"] == "resized" and z.loc[("E2", "car_repair"), "change"] == "added"
    assert ("E2", "metalwork") not in z.index
    assert any("1 business(es) only in A and 1 only in B" in n for n in c.notes)
    t = c.totals.set_index("metric")
    assert t.loc["assigned", "a"] == 3 and t.loc["assigned", "b"] == 3
    assert t.loc["total trip length (km)", "b"] == pytest.approx(16.0)
    assert t.loc["unassigned a proposed site would take", "a"] == 0
    assert t.loc["unassigned a proposed site would take", "b"] == 1


def test_hostile_names_stay_text(tmp_path):
    evil = ["<script>alert(1)</script>", "=HYPERLINK(\"http://x\",\"y\")", "\u202eevil", "{{7*7}}",
            "<img src=x onerror=alert(1)>"]
    rows_a = [(f"B{i}", n, "car_repair", "E1", 1.0, 100.0, "assigned", "") for i, n in enumerate(evil)]
    rows_b = [(f"B{i}", n, "car_repair", "", "", 100.0, "unassigned", n) for i, n in enumerate(evil)]
    a = _run(tmp_path / "a", rows_a, manifest={"scenario": {"name": "</title><script>x()</script>"}})
    b = _run(tmp_path / "b", rows_b)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)])
    assert r.exit_code == 0, r.output
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;" in html
    csp = re.search(r'content="(default-src[^"]+)"', html).group(1)
    assert "script-src 'none'" in csp and "default-src 'none'" in csp
    moved = (out / "moved.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in moved and ",=HYPERLINK" not in moved
    # read back: the names are the runs' names (the quote that defused them is not doubled)
    assert read_run(out.parent / "a").relocation.name.tolist() == evil


def test_bad_folders_are_clear_errors(tmp_path):
    a = _run(tmp_path / "a", BASE)
    cases = {
        str(tmp_path / "missing"): "RUN_B",
        str(a / "relocation.csv"): "is a file, not a run folder",
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    cases[str(empty)] = "is not a siteplan run folder"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "relocation.csv").write_text("id,state\n1,x\n", encoding="utf-8")
    cases[str(bad)] = "missing column(s) biz_id, status"
    for path, needle in cases.items():
        r = CliRunner().invoke(main, ["compare", str(a), path, "--out", str(tmp_path / "o")])
        assert r.exit_code == 1 and needle in r.output and "Traceback" not in r.output, (path, r.output)
    assert not (tmp_path / "o").exists()


def test_runs_of_different_regions_are_refused(tmp_path):
    a = _run(tmp_path / "a", BASE)
    other = [("X" + r[0], r[1], r[2], ("F" + r[3]) if r[3] else "", *r[4:]) for r in BASE]
    b = _run(tmp_path / "b", other)
    with pytest.raises(InputError, match="share no business .* runs of different regions"):
        compare_runs(a, b)
    r = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "different regions" in r.output


def test_output_folder_rules(tmp_path):
    a = _run(tmp_path / "a", BASE)
    b = _run(tmp_path / "b", BASE[:5])
    for out, needle in ((a, "is inside RUN_A"), (a / "cmp", "is inside RUN_A"), (tmp_path, "holds RUN_A")):
        r = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)])
        assert r.exit_code == 1 and needle in r.output, r.output
    assert sorted(p.name for p in a.iterdir()) == ["manifest.json", "relocation.csv"]
    out = tmp_path / "cmp"
    assert CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)]).exit_code == 0
    r = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)])
    assert r.exit_code == 1 and "--overwrite" in r.output
    r = CliRunner().invoke(main, ["compare", str(b), str(a), "--out", str(out), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert pd.read_csv(out / "moved.csv").change.tolist() == ["only_in_b"]
    # a run folder is not replaced by a comparison, even with --overwrite
    run = tmp_path / "run"
    run.mkdir()
    (run / ".siteplan-run").write_text(json.dumps({"siteplan": "0.1.0", "kind": "run", "files": []}), encoding="utf-8")
    r = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(run), "--overwrite"])
    assert r.exit_code == 1 and "not `siteplan compare`" in r.output


@needs_browser
def test_compare_page_in_a_browser_shows_names_as_text(tmp_path):
    evil = "<img src=x onerror=\"document.title='pwned'\">"
    a = _run(tmp_path / "a", [("B1", evil, "car_repair", "E1", 1.0, 100.0, "assigned", "")])
    b = _run(tmp_path / "b", [("B1", evil, "car_repair", "", "", 100.0, "unassigned", "شهرک پر است")])
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)]).exit_code == 0
    d = start_browser()
    try:
        d.get((out / "compare.html").as_uri())
        assert d.title == "siteplan compare"
        body = d.find_element("tag name", "body").text
        assert evil in body and "شهرک پر است" in body and "newly unassigned: 1" in body
        assert not d.find_elements("tag name", "img") and not d.find_elements("tag name", "script")
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors  # no CSP violation: the stylesheet is allowed by its hash
    finally:
        d.quit()
