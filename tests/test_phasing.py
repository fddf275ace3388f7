"""Phasing (issue 27, item 2): the demo in two phases — the existing estates now, the proposed sites and
the top upgrade in phase 2 — placing every business at most once, never over the capacity each phase
has, and the report's timeline; Solar Hijri starts; bad phase settings refused with the key named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from siteplan.common.dates import jalali_to_gregorian, parse_start
from siteplan.errors import ScenarioError
from siteplan.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO_YAML = ROOT / "data" / "demo.yaml"
PHASES = [{"name": "existing estates", "label": "مرحله ۱", "start": 1404},
          {"name": "new sites and upgrade", "start": "1406-01-01", "sites": "all", "upgrades": [1]}]


def _demo_with(tmp: Path, programme: dict, **over: object) -> Path:
    """The demo scenario with ``programme`` (layer paths made absolute), written into ``tmp``."""
    data = yaml.safe_load(DEMO_YAML.read_text(encoding="utf-8"))
    for spec in data["layers"].values():
        spec["path"] = str((DEMO_YAML.parent / spec["path"]).resolve())
    data["programme"] = programme
    data.update(over)
    p = tmp / "phased.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def phased(tmp_path_factory: pytest.TempPathFactory):
    """One demo run in two phases (fewer robustness draws and one upgrade verified, to keep it short)."""
    from siteplan.pipeline import run_scenario_file

    tmp = tmp_path_factory.mktemp("phased")
    sc = _demo_with(tmp, {"phases": PHASES}, sensitivity={"draws": 20}, upgrades={"count": 5, "verify": 1},
                    outputs={"csv_bom": True, "suitability_tifs": False})
    res = run_scenario_file(sc, tmp / "out")
    return res, tmp / "out"


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, encoding="utf-8-sig", keep_default_na=False, na_values=[""], dtype={"phase": str})


def test_every_business_at_most_once_and_later_phases_take_only_the_unplaced(phased):
    res, out = phased
    rel = _read(out, "relocation.csv")
    assert list(rel.columns[-2:]) == ["phase", "phase_estate"]  # added at the end (a contract change)
    assert rel["biz_id"].is_unique and len(rel) == len(res.plan.rows)
    names = [p["name"] for p in PHASES]
    assert set(rel["phase"].dropna()) <= set(names)
    assert rel["phase"].notna().eq(rel["phase_estate"].notna()).all()
    assert rel.loc[rel["phase"].notna(), "category"].notna().all()  # only classified businesses are placed
    ph = res.programme.phasing.rows.set_index("biz_id")
    one = set(ph.index[ph["phase_no"] == 1])
    two = set(ph.index[ph["phase_no"] == 2])
    assert one and two and not one & two
    # phase 1 has only the existing estates; phase 2 takes businesses phase 1 left out, into the new
    # capacity or the room phase 1 left
    est_ids = set(res.prep.region.layers["estates"]["estate_id"].astype(str))
    assert set(ph.loc[list(one), "phase_estate"]) <= est_ids
    site_ids = set(res.sites["site_id"].astype(str))
    assert set(ph.loc[list(two), "phase_estate"]) & site_ids, "no business goes to a proposed site in phase 2"
    # the table agrees with relocation.csv
    t = _read(out, "phases.csv")
    assert t["businesses"].tolist() == [int((rel["phase"] == n).sum()) for n in names]
    assert t["cum_businesses"].tolist() == np.cumsum(t["businesses"]).tolist()
    in_scope = int(rel["category"].notna().sum())  # classified and in scope: what the phases may place
    assert t["unplaced"].tolist() == [in_scope - c for c in t["cum_businesses"]]
    assert t["start_gregorian"].tolist() == ["2025-03-21", "2027-03-21"]
    assert (t["calendar"] == "solar_hijri").all()


def test_eligible_and_within_reach_in_its_phase(phased):
    res, _ = phased
    ph = res.programme.phasing.rows
    placed = ph[ph["phase_no"] > 0]
    biz = res.prep.businesses.set_index("biz_id").geometry
    est = res.prep.region.layers["estates"]
    sites = res.sites.to_crs(est.crs)
    geom = {**dict(zip(est["estate_id"].astype(str), est.geometry.values)),
            **dict(zip(sites["site_id"].astype(str), sites.geometry.values))}
    d = shapely.distance(biz.reindex(placed["biz_id"]).to_numpy(), np.array([geom[e] for e in placed["phase_estate"]]))
    assert (d <= res.prep.scenario.allocation.max_distance_km * 1000 + 1e-6).all()
    el = res.elig.assign(estate_id=res.elig["estate_id"].astype(str)).set_index(["estate_id", "category"])["eligible"]
    top = res.upgrades.iloc[0]
    cats = {str(s.site_id): {c.strip() for c in str(s.categories).split(",")} for s in res.sites.itertuples()}
    unlocked = {c.strip() for c in str(top["categories"]).split(",")}
    for r in placed.itertuples():
        if r.phase_estate in cats:
            assert r.phase_no == 2 and r.category in cats[r.phase_estate]
        elif not el.get((r.phase_estate, r.category), False):
            # only the upgrade of phase 2 makes an estate eligible that was not
            assert r.phase_no == 2 and r.phase_estate == str(top["estate_id"]) and r.category in unlocked


def test_never_over_the_capacity_of_its_phase(phased):
    """Recomputed from the run's own capacity and usable shares (not from the phasing's record): at every
    estate and after every phase, the land placed so far within each usable-share level of the
    category-aware capacity, the plots on plot estates (Hall's condition), the net land of each site."""
    from siteplan.zoning.plots import plot_need_m2

    res, out = phased
    ph = res.programme.phasing.rows
    cap = res.capacity.assign(estate_id=res.capacity["estate_id"].astype(str)).set_index("estate_id")
    uf = res.elig.assign(estate_id=res.elig["estate_id"].astype(str)).set_index(["estate_id", "category"])["usable_frac"]
    net = {str(s.site_id): float(s.net_ha) * 1e4 for s in res.sites.itertuples()}
    t = res.prep.catalogue.table
    norms = (dict(zip(t["code"], t["plot_m2"].astype(float))), dict(zip(t["code"], t["land_m2"].astype(float))))
    checked = 0
    for k in (1, 2):
        upto = ph[(ph["phase_no"] > 0) & (ph["phase_no"] <= k)]
        for e, g in upto.groupby("phase_estate"):
            if e in net:
                assert g["land_m2"].sum() <= net[e] + 1.0, (k, e)
                continue
            sizes = cap.at[e, "plot_m2"]
            if isinstance(sizes, tuple):
                need = np.sort(plot_need_m2(g["land_m2"].to_numpy(float), g["category"].to_numpy(), *norms))[::-1]
                plots = np.sort(np.array(sizes))[::-1]
                assert len(need) <= len(plots), (k, e)
                assert (plots[: len(need)] >= need - 1e-6).all(), (k, e)  # every business a plot of its own
                continue
            land = g.groupby("category")["land_m2"].sum()
            share = np.array([uf.get((e, c), 1.0) for c in land.index])
            for level in np.unique(share):
                assert land.to_numpy()[share <= level + 1e-9].sum() <= cap.at[e, "capacity_m2"] * level + 1.0, (k, e)
            checked += 1
    assert checked > 10
    # phases.csv: the capacity online grows by the sites' net land; what is available never exceeds it
    tab = _read(out, "phases.csv")
    assert tab["capacity_ha"].iloc[1] == pytest.approx(tab["capacity_ha"].iloc[0] + sum(net.values()) / 1e4, abs=0.02)
    assert (tab["available_ha"] <= tab["capacity_ha"] + 1e-9).all()
    assert (tab["land_ha"] <= tab["available_ha"]).all()


def test_priority_fills_short_capacity_with_the_most_harmful_first(phased):
    """Where capacity runs short in phase 1, the businesses left out are of lower priority tiers than
    those placed at the estates they could have used (per hectare, a higher tier always goes first)."""
    from siteplan.programme.impact import placements
    from siteplan.programme.phasing import priority_weights

    res, _ = phased
    w = priority_weights(res, placements(res))
    ph = res.programme.phasing.rows.set_index("biz_id")
    first = ph[ph["phase_no"] == 1]
    left = ph[(ph["phase_no"] != 1) & ph["category"].notna()]
    assert w is not None and w.min() >= 1 and w.max() == 10
    # placed businesses rank higher on average than those phase 1 leaves out
    assert w.reindex(first.index).mean() > w.reindex(left.index).mean()
    # and the phased programme relieves at least as many residents in phase 1 as the plan does
    tab = res.programme.phasing.table
    prov = res.programme.impact.query("level == 'province'").iloc[0]
    assert tab["residents_relieved"].iloc[0] >= 0.98 * prov["residents_relieved"]


def test_report_shows_the_timeline(phased):
    res, out = phased
    html = (out / "report.html").read_text(encoding="utf-8")
    i = html.index('<details id="sp-phasing">')
    sec = html[i: html.index("</details>", i)]
    assert '<svg class="timeline"' in sec and "<script" not in sec and "style=" not in sec
    tab = res.programme.phasing.table
    for r in tab.itertuples():
        assert f"<title>{r.name}: {r.businesses} businesses, {r.residents_relieved} residents relieved</title>" in sec
    assert sec.count('<g class="phase">') == 2
    assert "1406-01-01 (2027-03-21)" in sec


# ------------------------------------------------------------------ dates and settings (fast)

@pytest.mark.parametrize("written, calendar, day", [
    (1405, "solar_hijri", dt.date(2026, 3, 21)),
    ("1405-01-01", "solar_hijri", dt.date(2026, 3, 21)),
    (dt.date(1405, 1, 1), "solar_hijri", dt.date(2026, 3, 21)),  # YAML reads an unquoted 1405-01-01 so
    ("۱۴۰۳/۱۲/۳۰", "solar_hijri", dt.date(2025, 3, 20)),          # 1403 is a leap year
    ("1357-11-22", "solar_hijri", dt.date(1979, 2, 11)),
    (2026, "gregorian", dt.date(2026, 1, 1)),
    ("2027-03-21", "gregorian", dt.date(2027, 3, 21)),
])
def test_solar_hijri_and_gregorian_starts(written, calendar, day):
    s = parse_start(written)
    assert (s.calendar, s.date) == (calendar, day)


def test_solar_hijri_calendar_round_year():
    # every day of 1400..1410 maps to consecutive Gregorian days, Nowruz on 20 or 21 March
    days = [jalali_to_gregorian(y, m, d) for y in range(1400, 1411) for m in range(1, 13)
            for d in range(1, 32) if _exists(y, m, d)]
    assert all((b - a).days == 1 for a, b in zip(days, days[1:]))
    assert {jalali_to_gregorian(y, 1, 1).day for y in range(1400, 1411)} <= {20, 21}
    with pytest.raises(ValueError, match="29 days"):
        parse_start("1404-12-30")


def _exists(y: int, m: int, d: int) -> bool:
    try:
        jalali_to_gregorian(y, m, d)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("phases, key, words", [
    ([{"name": "a", "start": "next spring"}], "programme.phases[0].start", "year or a date"),
    ([{"name": "a", "start": "1404-13-01"}], "programme.phases[0].start", "month 13"),
    ([{"name": "a", "start": 1405}, {"name": "b", "start": 1404}], "programme", "phases[1] ('b').start"),
    ([{"name": "a", "start": 1405}, {"name": "a", "start": 1406}], "programme", "phases[1] ('a').name"),
    ([{"name": "a", "start": 1405, "sites": ["S01"]}, {"name": "b", "start": 1406, "sites": "all"}],
     "programme", "a site is built once"),
    ([{"name": "a", "start": 1405, "upgrades": ["E05"]}, {"name": "b", "start": 1406, "estates": ["E05"]}],
     "programme", "opens only in phases[1]"),
    ([{"name": "a", "start": 1405, "upgrades": [0]}], "programme.phases[0].upgrades", "not a rank"),
    ([{"name": "a", "start": 1405, "upgrades": [{"estate": "E05", "changes": "sewer=1"}]}],
     "programme.phases[0].upgrades", "did you mean 'wastewater'"),
    ([{"name": "a", "start": 1405, "site": "all"}], "programme.phases[0].site", "did you mean 'sites'"),
    ([{"start": 1405}], "programme.phases[0].name", "required"),
])
def test_bad_phase_settings_name_the_key(tmp_path, phases, key, words):
    sc = _demo_with(tmp_path, {"phases": phases})
    with pytest.raises(ScenarioError) as e:
        load_scenario(sc)
    msg = str(e.value)
    assert f"{key}" in msg and words in msg, msg


def test_unknown_estates_in_phases_are_refused_before_the_run(tmp_path):
    from siteplan.checks import validate_scenario

    sc = _demo_with(tmp_path, {"phases": [{"name": "a", "start": 1404},
                                          {"name": "b", "start": 1405, "estates": ["E5"],
                                           "upgrades": [{"estate": "E99", "changes": "water=1"}]}]})
    with pytest.raises(ScenarioError) as e:
        validate_scenario(sc)
    msg = str(e.value)
    assert "programme.phases[1] ('b').estates[0]: no estate 'E5' in the estates layer" in msg
    assert "programme.phases[1] ('b').upgrades[0]: no estate 'E99'" in msg


def test_without_phases_nothing_changes():
    """No ``programme.phases``: no phasing, no phase columns (the rest of the run is the plan as before)."""
    from siteplan.programme.summaries import RELOCATION_COLUMNS

    sc = load_scenario(DEMO_YAML)
    assert sc.programme.phases == [] and RELOCATION_COLUMNS[-2:] == ["phase", "phase_estate"]
