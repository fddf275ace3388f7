"""The report's headline figures and chart data add up to the plan; proposals read the run's absorption
table when there is one; warnings fold by pattern; robustness keeps only what differs; numbers with
units are isolated (and in Persian digits when asked); the summary comes before the details."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import small_scenario
from markupsafe import escape

from siteplan.report.bidi import Fmt, bi, fa_digits, fa_percent
from siteplan.report.summary import charts, group_warnings, headline, proposals, robustness, site_room


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from siteplan.pipeline import run_scenario_file

    base = tmp_path_factory.mktemp("summ")
    sc = small_scenario(base, n_biz=200)
    res = run_scenario_file(sc, base / "out")
    return res, base / "out"


def test_headline_adds_up_to_the_plan(run):
    res, out = run
    h = headline(res)
    rows = res.plan.rows
    assert h["businesses"] == len(rows) == h["assigned"] + h["unassigned"]
    assert sum(r[3] for r in h["reasons"]) == h["unassigned"]
    assert h["unclassified"] == int(rows["category"].isna().sum())
    assert abs(h["land_needed_ha"] - (h["land_assigned_ha"] + h["land_unplaced_ha"])) <= 0.15
    est = pd.read_csv(out / "estates.csv", encoding="utf-8-sig")
    assert abs(h["capacity_ha"] - est["capacity_m2"].sum() / 1e4) <= 0.1
    assert abs(h["left_ha"] - est["left_m2"].sum() / 1e4) <= 0.1


def test_chart_data_adds_up(run):
    res, _ = run
    c = charts(res)
    rows = res.plan.rows
    a = rows[rows.status == "assigned"]
    assert abs(sum(r[3] for r in c["estates"]["rows"]) - a["land_m2"].sum() / 1e4) < 0.05 * max(1, len(c["estates"]["rows"]))
    fl = c["flows"]
    if len(a):
        assert sum(x[1] for x in fl["towns"]) == sum(x[1] for x in fl["estates"]) == sum(x[2] for x in fl["links"]) == len(a)
    un = c["unassigned"]
    assert sum(sum(x[3]) for x in un["cats"]) == int((rows.status == "unassigned").sum())


def test_proposals_from_sites_never_absorb_more_than_is_unplaced(run):
    res, _ = run

    class OldSites:  # a run without an options table whose sites carry only their room per category
        def __getattr__(self, k):
            return getattr(res, k)

    r = OldSites()
    r.options = r.upgrades = None
    r.sites = res.sites.drop(columns=[c for c in ("takes",) if c in res.sites]).assign(
        units=["car_repair:1000, scrap:3"] * len(res.sites))
    unmet = res.plan.unmet.set_index("category")["units"].to_dict() if len(res.plan.unmet) else {}
    got = proposals(r)
    assert len(got) == len(res.sites)
    for p in got:
        assert p["units"] == min(1000, unmet.get("car_repair", 0)) + min(3, unmet.get("scrap", 0))
    assert site_room("car_repair:322, car_parts:136") == [("car_repair", 322), ("car_parts", 136)]
    assert site_room("") == [] and site_room(None) == []


def test_proposals_read_the_runs_absorption_table_when_present(run):
    res, _ = run

    class WithAbsorption:
        def __getattr__(self, k):
            return getattr(res, k)

    r = WithAbsorption()
    r.options = None  # no side-by-side table: the upgrade and absorption tables are read
    r.upgrades = pd.DataFrame({"estate_id": ["E01"], "units": [42], "added_ha": [3.5], "action": ["extend gas"]})
    r.absorption = [{"site_id": "S09", "absorbed_units": 17, "land_ha": 1.25, "categories": "scrap"}]
    got = proposals(r)
    assert {"kind": "site", "id": "S09", "label": "", "units": 17, "land_ha": 1.25, "detail": "scrap"} in got
    assert {"kind": "upgrade", "id": "E01", "label": "", "units": 42, "land_ha": 3.5, "detail": "extend gas"} in got
    sites_take = int(res.sites["units"].sum()) if "takes" in res.sites else 0
    assert headline(r)["proposals_units"] == 17 + sites_take  # upgrades are alternatives, not added


def test_proposals_read_the_runs_options_table(run):
    res, _ = run

    class WithOptions:
        def __getattr__(self, k):
            return getattr(res, k)

    r = WithOptions()
    r.options = pd.DataFrame({"rank": [1, 2], "option": ["new site", "upgrade"], "id": ["S02", "E14"],
                              "what": ["new auto estate of 20 ha", "add wastewater"], "businesses": [267, 17],
                              "land_ha": [11.48, 0.32], "mean_km": [15.0, 9.5],
                              "cost_proxy": ["extend: gas 5.3 km", "wastewater: 2 km"]})
    got = proposals(r)
    assert got == [{"kind": "site", "id": "S02", "label": "new auto estate of 20 ha", "units": 267, "land_ha": 11.48,
                    "detail": "extend: gas 5.3 km"},
                   {"kind": "upgrade", "id": "E14", "label": "add wastewater", "units": 17, "land_ha": 0.32,
                    "detail": "wastewater: 2 km"}]
    assert headline(r)["proposals_units"] == 267


def test_warnings_fold_by_pattern_with_counts():
    w = ["new sites: chain 'trade': candidate site of 50 ha not chosen by the p-median (sites.count = 4)",
         "new sites: chain 'auto': candidate site of 50 ha not chosen by the p-median (sites.count = 4)",
         "new sites: chain 'wood': candidate site of 25 ha not chosen by the p-median (sites.count = 4)",
         "businesses: 19 could not be classified (ids: B00294, B00486)",
         "new sites: chain 'wood': candidate site of 25 ha not chosen by the p-median (sites.count = 4)",
         "roads: unknown class"]
    g = group_warnings(w)
    assert g == [(w[0], 4), (w[3], 1), (w[5], 1)]


def test_robustness_keeps_only_what_differs(run):
    """The report draws findings.robustness_summary (one home for the idea): a count line, then only
    the uncertain tops and swaps, each line escaped."""
    res, out = run
    rob = robustness(res)
    assert rob.draws == res.prep.scenario.sensitivity.draws and rob.lines[0].startswith(f"{len(rob.certain)} of ")
    page = (out / "report.html").read_text(encoding="utf-8")
    for line in rob.lines:
        assert str(escape(line)) in page

    class R:
        ranks = pd.DataFrame({"category": ["a", "a", "b", "b"], "estate_id": ["E1", "E2", "<E3>", "E4"],
                              "rank": [1, 2, 1, 2], "p_first": [0.99, 0.01, 0.55, 0.45],
                              "oat_ranks": ["1-1", "2-2", "1-3", "1-2"], "swap_p": [0.0, 0.0, 0.0, 0.0],
                              "swap_by": ["", "", "", ""]})

        class prep:
            class scenario:
                class sensitivity:
                    draws = 200

    got = robustness(R())
    assert got.certain == ["a"] and [t["category"] for t in got.uncertain_top] == ["b"]
    assert len(got.lines) == 2 and "<E3>" in got.lines[1]


def test_numbers_with_units_are_one_isolate_and_persian_digits_optional():
    assert str(Fmt().qty(1234.5, "ha", ",.1f")) == '<bdi dir="ltr" class="num">1,234.5\u00a0ha</bdi>'
    assert str(Fmt(persian_digits=True).qty(1234.5, "ha", ",.1f")) == '<bdi dir="ltr" class="num">۱٬۲۳۴٫۵\u00a0ha</bdi>'
    assert fa_digits("40.5") == "۴۰٫۵"
    # Persian first, the English words after it as a secondary, each isolated and escaped
    assert str(bi("<b>", "ظرفیت")) == ('<span dir="rtl" lang="fa">ظرفیت</span><span class="en"> / '
                                        '<span dir="ltr" lang="en">&lt;b&gt;</span></span>')
    assert fa_percent(50) == "۵۰\u066a" and fa_percent(1234.4, persian_digits=False) == "1,234\u066a"


def test_summary_comes_first_in_the_page(run):
    res, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    i_sum, i_det = html.index('id="sp-summary"'), html.index('id="sp-details"')
    assert i_sum < html.index('class="headline"') < html.index('id="chart-estates"') < i_det
    assert "Businesses to move" in html[i_sum:i_det] and "Categories" in html[i_det:]
    assert re.search(r"<title>[^<]+</title>", html)
    data = json.loads(re.search(r'<script type="application/json" id="sp-data">(.*?)</script>', html, re.S).group(1))
    assert {"estates", "flows", "unassigned"} == set(data["charts"]) and data["labels"]
    # every layer has a group and every styled one a legend; names are bilingual
    for spec in data["layers"]:
        assert spec["group"] in ("base", "context", "analysis", "suitability")
        assert spec.get("legend"), spec["name"]
        # names are bilingual pairs, Persian first
        assert set(spec["name"]) == {"fa", "en"} and any("\u0600" <= ch <= "\u06ff" for ch in spec["name"]["fa"]), \
            spec["name"]
    assert "style=" not in html.split('id="sp-panel"', 1)[1].split("<script", 1)[0]  # no inline styles
    # Persian first, right to left; nothing the page would fetch on load (the online base is off)
    assert '<html lang="fa-IR" dir="rtl">' in html
    assert "autoTiles" not in data and "/0/0/0.png" not in html
    assert not any(b["show"] and b["url"] for b in data["basemaps"])
    # the unassigned businesses are a layer of their own, on, coloured by reason; flows lie under the estates
    names = [sp["name"]["en"] for sp in data["layers"]]
    n_un = int((res.plan.rows.status == "unassigned").sum())
    assert n_un > 0
    un = data["layers"][names.index("Unassigned businesses, by reason")]
    assert un["show"] and len(un["rows"]) == n_un
    assert names.index("Relocation flows") < names.index("Estates by share used")
    site_specs = [sp for sp in data["layers"] if sp["name"]["en"] == "Proposed new sites"]
    assert len(site_specs) == (1 if len(res.sites) else 0)
    for sp in site_specs:  # a labelled symbol per site, drawn over the estates
        assert len(sp["marks"]) == len(sp["features"]["features"]) > 0
        assert names.index("Estates by share used") < names.index("Proposed new sites")
    # category codes never show where a reviewer reads: the unassigned chart and site cards are in Persian
    codes = set(_codes(out))
    for r in data["charts"]["unassigned"]["cats"]:
        assert r[2] and r[2] not in codes
    for f in [f for sp in site_specs for f in sp["features"]["features"]]:
        assert not codes & set(re.findall(r"[a-z_]+", json.dumps(f["properties"]["_p"], ensure_ascii=False))), f


def _codes(out) -> list[str]:
    import pandas as pd

    return [c for c in pd.read_csv(out / "relocation.csv")["category"].dropna().unique() if "_" in c]


LATIN_OK = re.compile(r"\b(?:[A-Z]{1,3}\d+[\w-]*|km|ha|m)\b")  # ids (E02, S01, R-7) and units


def _latin_words(s: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z_'.]*", LATIN_OK.sub("", s))


def test_persian_reasons_have_no_english_fragments():
    from siteplan.relocation.reasons import eligibility_fa, reason_fa

    said = ["no eligible estate within 30 km (nearest E02: env. category 4.1 above the estate's max_cat 3.2)",
            "no eligible estate within 30 km (nearest E21: no gas; no wastewater)",
            "no eligible estate within 30 km (nearest: E04 at 33.4 km)",
            "no eligible estate within 25 km (nearest E07: estate kind 'خدماتی' not accepted; no usable land)",
            "no eligible estate within 25 km (nearest E08: no land of the estate satisfies R12 (500 m))",
            "capacity exhausted in the eligible estates within 30 km",
            "too large (3.2 ha) for the free land of every eligible estate within 30 km"]
    fa = reason_fa(said)
    for en, f in zip(said, fa):
        assert f and not _latin_words(f), (en, f)
    # a phrase it does not know is kept as written, never guessed
    assert eligibility_fa("no gas; flooded last spring") == "بدون شبکه گاز؛ flooded last spring"


def test_category_codes_become_persian_names():
    from siteplan.report.words import codes_fa

    names = {"car_repair": "تعمیرگاه خودرو", "car_parts": "لوازم یدکی"}
    assert codes_fa("car_repair, car_parts", names) == "تعمیرگاه خودرو، لوازم یدکی"
    assert codes_fa("car_repair:322, car_parts:136", names) == "تعمیرگاه خودرو: 322، لوازم یدکی: 136"
    assert codes_fa("car_repair, <b>x</b>", names) == "تعمیرگاه خودرو، <b>x</b>"  # unknown kept (escaped later)
