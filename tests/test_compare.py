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
from siteplan.outputs.compare import CHANGES, compare_runs, read_run
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
def demo_pair(demo_run_dir, tmp_path_factory) -> tuple[Path, Path]:
    """Run folders of the demo (A: the session's shared demo run, read only) and of the demo with
    wastewater at E06 (B, via the pipeline API; its tifs and report off, to save time)."""
    from siteplan.pipeline import run_scenario_file

    root = tmp_path_factory.mktemp("compare")
    b_sc = _demo_scenario(root / "b", wastewater_at=UPGRADED)
    run_scenario_file(b_sc, root / "run_b")
    return demo_run_dir, root / "run_b"


@pytest.fixture(scope="session")
def demo_cmp(demo_pair, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmpout") / "cmp"
    r = CliRunner().invoke(main, ["compare", str(demo_pair[0]), str(demo_pair[1]), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def _rel(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "relocation.csv", dtype=str, keep_default_na=False)


def _page_data(html: str) -> dict:
    """compare.html's map data block, after checking that its only scripts are its own (each allowed
    by its hash in the Content-Security-Policy) and the JSON data block."""
    import base64
    import hashlib

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "img-src data:;" in csp
    allowed = set(re.search(r"script-src ([^;]+);", csp).group(1).split())
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    code = [body for attrs, body in scripts if not attrs]
    assert len(code) == 2 and len(scripts) == 3, [a for a, _ in scripts]
    for body in code:
        assert "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'" in allowed
    (block,) = [body for attrs, body in scripts if attrs == ' type="application/json" id="cp-data"']
    assert "<" not in block and ">" not in block
    return json.loads(block)


def test_upgrade_unlocks_businesses_and_the_counts_add_up(demo_pair, demo_cmp):
    a, b = _rel(demo_pair[0]), _rel(demo_pair[1])
    moved = pd.read_csv(demo_cmp / "moved.csv", dtype=str, keep_default_na=False)
    sites = pd.read_csv(demo_cmp / "sites.csv", dtype=str, keep_default_na=False)
    matched = sites[sites.change.isin(["kept", "moved"])]
    site_ab = dict(zip(matched.site_id_a, matched.site_id_b))  # site ids are each run's labels
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
        elif not pa and not pb and site_ab.get(ra.site_id, ra.site_id) != rb.site_id:
            want[biz] = "site_changed"
        elif not pa and not pb and ra.reason_code != rb.reason_code:  # by code, not by sentence
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
    data = _page_data(html)
    assert "input layers that differ between the runs: estates" in html
    assert "لایه‌های ورودی متفاوت دو اجرا: estates" in html
    # the newly assigned businesses are drawn, each from where it is to its new estate
    new = pd.read_csv(demo_cmp / "moved.csv", dtype=str, keep_default_na=False).query("change == 'newly_assigned'")
    (arrows,) = [lay for lay in data["layers"] if lay["cls"] == "cp-new"]
    assert sum(a[8] for a in arrows["items"]) == len(new) and arrows["left"] == 0
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
    from siteplan.outputs.writer import write_csv

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
    # B is written with the columns of newer runs (reason_code is used; plot_id, estate_name are ignored)
    b = _run(tmp_path / "b", b_rows, extra={"reason_code": ["", "capacity_full", "", "not_eligible_nearby",
                                                            "capacity_full", ""], "plot_id": "", "estate_name": "n",
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
    data = _page_data(html)  # the only scripts are the page's own, allowed by hash
    assert "<img" not in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert "&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;" in html
    # the map data carries the names as data (the script shows them as text)
    (lost,) = [lay for lay in data["layers"] if lay["cls"] == "cp-lost"]
    assert sorted(p[4][0] for p in lost["items"]) == sorted(f"{n} (B{i})" for i, n in enumerate(evil))
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
    for out, needle in ((a, "is RUN_A"), (a / "cmp", "is inside RUN_A"), (tmp_path, "holds RUN_A")):
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


UTM = 32639  # UTM zone 39N, the demo's


def _square(x: float, y: float, side: float):
    """A square of ``side`` metres centred at UTM (x, y), in EPSG:4326."""
    return gpd.GeoSeries([box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)], crs=UTM).to_crs(4326).iloc[0]


def _unassigned(biz: str, reason: str = "capacity exhausted") -> tuple:
    return (biz, biz.lower(), "scrap", "", "", 1000.0, "unassigned", reason)


def test_a_site_shifted_within_its_size_is_moved_not_removed_and_added(tmp_path):
    x0, y0, big, small = 560_000.0, 3_600_000.0, 447.2, 141.4  # 20 ha and 2 ha squares
    a = _run(tmp_path / "a", [_unassigned("B1"), _unassigned("B2"), _unassigned("B3")],
             extra={"site_id": ["S02", "S01", "S03"]},
             sites=[("S01", "scrap", 20.0, _square(x0, y0, big)),
                    ("S02", "metalwork", 20.0, _square(x0 + 5000, y0, big)),
                    ("S03", "scrap", 20.0, _square(x0 + 20_000, y0, big)),
                    ("S05", "scrap", 2.0, _square(x0, y0 + 10_000, small))])
    # B labels its sites in another order: its S01 is A's S02 shifted by 200 m (overlap 0.38 < 0.5), its
    # S02 is A's S01; A's S03 is gone, S04 is new, and the small S05 jumps 1 km (more than its size)
    b = _run(tmp_path / "b", [_unassigned("B1"), _unassigned("B2"), _unassigned("B3")],
             extra={"site_id": ["S01", "S02", ""]},
             sites=[("S01", "metalwork", 20.0, _square(x0 + 5200, y0, big)),
                    ("S02", "scrap", 20.0, _square(x0, y0, big)),
                    ("S04", "scrap", 20.0, _square(x0 + 40_000, y0, big)),
                    ("S05", "scrap", 2.0, _square(x0 + 1000, y0 + 10_000, small))])
    c = compare_runs(a, b)
    s = c.sites
    moved = s[s.change == "moved"]
    assert moved[["site_id_a", "site_id_b"]].values.tolist() == [["S02", "S01"]]
    assert moved.shift_m.iloc[0] == pytest.approx(200, abs=1) and 0 < moved.overlap.iloc[0] < 0.5
    assert s[s.change == "kept"][["site_id_a", "site_id_b"]].values.tolist() == [["S01", "S02"]]
    assert sorted(s[s.change == "removed"].site_id_a) == ["S03", "S05"]
    assert sorted(s[s.change == "added"].site_id_b) == ["S04", "S05"]
    # the businesses that the moved (and relabelled) sites take have not changed site; B3 has
    assert dict(zip(c.moved.biz_id, c.moved.change)) == {"B3": "site_changed"}
    t = c.totals.set_index("metric")["change"]
    assert (t["sites kept"], t["sites moved"], t["sites added"], t["sites removed"]) == (1, 1, 2, 2)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)]).exit_code == 0
    data = _page_data((out / "compare.html").read_text(encoding="utf-8"))
    (arrow,) = [lay for lay in data["layers"] if lay["cls"] == "cp-site-moved"]
    (lat0, lon0, lat1, lon1) = arrow["items"][0][:4]
    start, end = (gpd.GeoSeries(gpd.points_from_xy([lo], [la]), crs=4326).to_crs(UTM).iloc[0]
                  for la, lo in ((lat0, lon0), (lat1, lon1)))
    assert start.distance(end) == pytest.approx(200, abs=1)


def test_reasons_are_compared_by_code_and_csvs_have_a_bom(tmp_path):
    model = "unclassified: no keyword in name; name model not sure (wholesale_food {}, scrap 0.14 < 0.5): listed in review.csv"
    rows_a = [_unassigned("B1", model.format("0.41")), _unassigned("B2", "capacity exhausted"),
              _unassigned("B3", "no eligible estate within 30 km (nearest: E9 at 38.2 km)")]
    rows_b = [_unassigned("B1", model.format("0.43")),  # same reason, another probability: no change
              _unassigned("B2", "no eligible estate within 30 km (nearest: E9 at 31.0 km)"),  # another reason
              _unassigned("B3", "no eligible estate within 30 km (nearest: E9 at 36.0 km)")]  # same code
    a, b = _run(tmp_path / "a", rows_a), _run(tmp_path / "b", rows_b)  # written without reason_code
    c = compare_runs(a, b)
    got = c.moved.set_index("biz_id")
    assert list(got.index) == ["B2"] and got.loc["B2", "change"] == "reason_changed"
    assert (got.loc["B2", "reason_code_a"], got.loc["B2", "reason_code_b"]) == ("capacity_full", "too_far")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(out)]).exit_code == 0
    for f in ("moved.csv", "estates.csv", "sites.csv", "zones.csv", "totals.csv"):
        assert (out / f).read_bytes().startswith(b"\xef\xbb\xbf"), f  # Excel reads Persian right
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "هیچ شهرک مجازی در شعاع 30 کیلومتر نیست" in html  # the reasons in Persian
    # runs written with outputs.csv_bom: false give CSVs without it
    off = {"scenario": {"name": "x", "outputs": {"csv_bom": False}}}
    a2, b2 = _run(tmp_path / "a2", rows_a, manifest=off), _run(tmp_path / "b2", rows_b, manifest=off)
    out2 = tmp_path / "out2"
    assert CliRunner().invoke(main, ["compare", str(a2), str(b2), "--out", str(out2)]).exit_code == 0
    assert not (out2 / "moved.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(out2 / "moved.csv").change.tolist() == ["reason_changed"]


def _shift_site_and_move_businesses(run: Path, dest: Path, *, site: str, metres: float, n: int) -> tuple[str, str]:
    """A copy of a run folder with one proposed site shifted east by ``metres`` and ``n`` businesses of
    the busiest estate sent to another estate: the estates (from, to)."""
    dest.mkdir()
    for f in ("relocation.csv", "estates.geojson", "sites.geojson", "zones.geojson", "manifest.json"):
        shutil.copy(run / f, dest / f)
    s = gpd.read_file(dest / "sites.geojson")
    m = s.to_crs(UTM)
    m.loc[m.site_id == site, "geometry"] = m.loc[m.site_id == site, "geometry"].translate(metres, 0)
    m.to_crs(4326).to_file(dest / "sites.geojson")
    rel = pd.read_csv(dest / "relocation.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    busy = rel[rel.status == "assigned"].estate_id.value_counts()
    src, dst = busy.index[0], busy.index[1]
    rel.loc[rel.index[rel.estate_id == src][:n], "estate_id"] = dst
    from siteplan.outputs.writer import write_csv

    write_csv(rel, dest / "relocation.csv", bom=True)
    return src, dst


def test_demo_with_a_site_shifted_200_m_and_the_page_draws_the_moved_businesses(demo_pair, tmp_path):
    a = demo_pair[0]
    sites_a = gpd.read_file(a / "sites.geojson")
    # the narrowest site east to west: a 200 m shift east leaves less than half of it in common (a wide
    # site shifted 200 m is the same site, "kept")
    b = sites_a.to_crs(UTM).bounds
    site = sites_a.site_id.iloc[int((b.maxx - b.minx).to_numpy().argmin())]
    src, dst = _shift_site_and_move_businesses(a, tmp_path / "b", site=site, metres=200.0, n=25)
    out = tmp_path / "cmp"
    r = CliRunner().invoke(main, ["compare", str(a), str(tmp_path / "b"), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    assert sites.set_index("site_id_a").loc[site, "change"] == "moved"
    assert sites.set_index("site_id_a").loc[site, "shift_m"] == pytest.approx(200, abs=1)
    assert (sites.change == "kept").sum() == len(sites_a) - 1 and not sites.change.isin(["added", "removed"]).any()
    moved = pd.read_csv(out / "moved.csv", dtype=str, keep_default_na=False)
    assert moved.change.tolist() == ["moved"] * 25  # and no business changed site: the site only moved
    assert set(moved.estate_id_a) == {src} and set(moved.estate_id_b) == {dst}
    data = _page_data((out / "compare.html").read_text(encoding="utf-8"))
    (arrows,) = [lay for lay in data["layers"] if lay["cls"] == "cp-moved"]
    ((lat0, lon0, lat1, lon1, width, colour, dashed, lines, count),) = arrows["items"]
    assert count == 25 and lines[0].startswith("\u206625\u2069 کسب‌وکار از " + src)
    est = gpd.read_file(a / "estates.geojson").set_index("estate_id")
    for (la, lo), e in (((lat0, lon0), src), ((lat1, lon1), dst)):
        assert est.loc[e].geometry.contains(gpd.points_from_xy([lo], [la])[0])  # from one estate to the other
    (estates,) = [lay for lay in data["layers"] if lay["cls"] == "cp-estates"]
    labels = {p[5] for p in estates["points"]}
    assert labels == {f"{src} -25", f"{dst} +25"}  # the two estates whose intake changes, labelled
    assert data["bounds"][0][0] <= min(lat0, lat1) and data["bounds"][1][0] >= max(lat0, lat1)
    _browser_check(out / "compare.html", shot=tmp_path)


def _browser_check(page: Path, shot: Path) -> None:
    """At 1400×900 and 390×844 with the network blocked: the moved businesses are drawn (arrow and
    head), nothing is requested, no console error, no sideways scroll on the phone; screenshots kept."""
    from conftest import CHROMEDRIVER, CHROMIUM

    if not (CHROMIUM and CHROMEDRIVER):
        return
    for w, h in ((1400, 900), (390, 844)):
        d = start_browser(w, h)
        try:
            if w < 500:
                d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                  {"width": w, "height": h, "deviceScaleFactor": 2, "mobile": True})
            d.get(page.as_uri())
            got = d.execute_script(
                "return {arrows: document.querySelectorAll('path.cp-moved').length,"
                " heads: document.querySelectorAll('path.cp-moved-head').length,"
                " estates: document.querySelectorAll('path.cp-estates').length,"
                " requests: performance.getEntriesByType('resource').length,"
                " wide: document.documentElement.scrollWidth, inner: window.innerWidth}")
            assert got["arrows"] == 1 and got["heads"] == 1 and got["estates"] > 0, got
            assert got["requests"] == 0 and got["wide"] <= got["inner"], got
            errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors
            d.save_screenshot(str(shot / f"compare-{w}.png"))
        finally:
            d.quit()


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
        assert d.title == "مقایسه دو سناریو — siteplan compare"
        body = d.find_element("tag name", "body").text
        assert evil in body and "شهرک پر است" in body
        counts = [e.text for e in d.find_elements("css selector", ".counts .hl")]
        assert "1\nتازه بی‌جا مانده / newly unassigned" in counts, counts
        assert not d.find_elements("tag name", "img") and d.title != "pwned"
        assert len(d.find_elements("tag name", "script")) == 3  # the data block, Leaflet, the page's script
        # the business is drawn where it is, its name a text in its card
        marks = d.find_elements("css selector", "path.cp-lost-mark")
        assert len(marks) == 1
        marks[0].click()
        from selenium.webdriver.support.ui import WebDriverWait

        # the popup opens with Leaflet's animation: wait (up to 10 s) for its card, then read it as text
        WebDriverWait(d, 10).until(lambda dr: dr.find_elements("css selector", ".leaflet-popup-content")
                                   and dr.find_element("css selector", ".leaflet-popup-content").text)
        assert evil in d.find_element("css selector", ".leaflet-popup-content").text
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors  # no CSP violation: scripts and styles are allowed by their hashes
    finally:
        d.quit()
