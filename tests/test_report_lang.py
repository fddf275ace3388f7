"""report.language (issue 29): a fully Persian page (``fa``), an English one (``en``) and today's
bilingual one (``both``); the Solar Hijri date, Persian numbers and units, complete Persian reasons, the
embedded Persian font; zoning sheets with the estate's outline and a colour per zone; the new-sites
warning counting the same unassigned businesses as the headline."""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import pytest
import shapely

from siteplan.errors import ScenarioError
from siteplan.report import lang as L
from siteplan.report.bidi import ALM, Fmt, bi, fa_numbers


@pytest.mark.parametrize("g, j", [("2026-03-21", (1405, 1, 1)), ("2026-03-20", (1404, 12, 29)),
                                  ("2024-03-20", (1403, 1, 1)), ("2025-03-20", (1403, 12, 30)),
                                  ("2025-03-21", (1404, 1, 1)), ("1979-02-11", (1357, 11, 22)),
                                  ("2000-01-01", (1378, 10, 11)), ("2023-03-21", (1402, 1, 1))])
def test_gregorian_to_jalali_known_dates(g, j):
    assert L.gregorian_to_jalali(dt.date.fromisoformat(g)) == j


def test_jalali_months_run_in_order_over_years():
    d, last = dt.date(1990, 1, 1), None
    while d < dt.date(2040, 1, 1):
        y, m, day = L.gregorian_to_jalali(d)
        if last is not None:
            ly, lm, ld = last
            assert (y, m, day) in ((ly, lm, ld + 1), (ly, lm + 1, 1), (ly + 1, 1, 1)), (d, last, (y, m, day))
            if (y, m, day) == (ly, lm + 1, 1):
                assert ld == (31 if lm <= 6 else 30), (d, last)
            if (y, m, day) == (ly + 1, 1, 1):
                assert lm == 12 and ld in (29, 30)
        last = (y, m, day)
        d += dt.timedelta(days=1)


def test_no_date_without_source_date_epoch(monkeypatch):
    """The same inputs give the same report bytes on any day: no date unless SOURCE_DATE_EPOCH fixes it."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert L.report_date() is None


def test_report_date_follows_source_date_epoch_in_iran_time(monkeypatch):
    # 2026-03-20 21:00 UTC is 00:30 on 21 March in Iran: Nowruz 1405
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2026, 3, 20, 21, 0, tzinfo=dt.timezone.utc).timestamp())))
    d = L.report_date()
    assert d == dt.date(2026, 3, 21)
    with L.language("fa"):
        assert L.date_text(d) == "۱ فروردین ۱۴۰۵"
    with L.language("en"):
        assert L.date_text(d) == "2026-03-21"
    with L.language("both"):
        assert L.date_text(d) == "1405/01/01 (2026-03-21)"


def test_scenario_report_language():
    import yaml

    from siteplan.pipeline import demo_scenario_path
    from siteplan.scenario import parse_scenario

    path = demo_scenario_path()
    base = yaml.safe_load(path.read_text(encoding="utf-8"))
    base.pop("report", None)

    def parse(**extra):
        return parse_scenario(dict(base, **extra), base_dir=path.parent)

    assert parse().report.language == "both"
    assert parse(report={"language": "fa"}).report.language == "fa"
    with pytest.raises(ScenarioError) as e:
        parse(report={"language": "de"})
    assert "report.language" in str(e.value) and "'fa'" in str(e.value)
    with pytest.raises(ScenarioError) as e:
        parse(report={"lang": "fa"})
    assert "report.lang" in str(e.value)


def test_persian_numbers_units_and_percent():
    with L.language("fa"):
        f = Fmt()
        assert f.num(6000) == "۶٬۰۰۰" and f.num(41.25, ",.1f") == "۴۱٫۲"
        assert str(f.qty(41.9, "ha", ".1f")) == '<bdi dir="rtl" class="num">۴۱٫۹\u00a0هکتار</bdi>'
        assert str(f.qty(87, "%", ".0f")) == f'<bdi dir="rtl" class="num">{ALM}۸۷٪</bdi>'
        assert fa_numbers("شبکه برق در 1.5 km؛ E15 و car_2 و 12 m") == "شبکه برق در ۱٫۵ کیلومتر؛ E15 و car_2 و ۱۲ متر"
        assert str(bi("Summary", "خلاصه")) == '<span dir="rtl" lang="fa">خلاصه</span>'
    with L.language("en", digits=True):
        assert Fmt().num(6000) == "6,000" and str(bi("Summary", "خلاصه")) == '<span dir="ltr" lang="en">Summary</span>'
        assert fa_numbers("12 km") == "12 km"
    with L.language("both", digits=True):
        assert Fmt().num(6000) == "۶٬۰۰۰" and "Summary" in str(bi("Summary", "خلاصه"))
    assert L.current() == "both" and not L.persian_digits()  # reset after the block


def test_headline_trip_line_keeps_each_figure_with_its_unit():
    from siteplan.report.page import app_css
    from siteplan.report.headline import trip_line as _trip_line

    with L.language("both", digits=True):
        t = {"road": True, "unit": "min", "reach": 20, "mean_km": 12.3, "mean_min": 18.0}
        line = str(_trip_line(t, Fmt()))
    # the minutes and their unit (both languages) in one unbreakable isolate, never split at a phone's width
    figs = re.findall(r'<bdi class="fig">(.*?)</bdi>', line)
    assert len(figs) == 2 and "۲۰" in figs[0] and "دقیقه" in figs[0] and "min" in figs[0]
    assert figs[1].startswith("(۱۸") and "min" in figs[1] and figs[1].endswith(")")
    assert "مسیر جاده‌ای" in line and "از راه" not in line  # "by road", not "of the road"
    assert re.search(r"\.fig[^{]*\{[^}]*white-space:\s*nowrap", app_css())


def test_every_unclassified_reason_has_a_complete_persian_text():
    from siteplan.relocation.reasons import reason_fa

    reasons = [
        "unclassified: no keyword in name; name model not sure (wholesale_building 0.26, wholesale_food 0.22 < 0.5): "
        "listed in review.csv",
        "unclassified: no keyword in name; name model: a trade outside the catalogue (0.81; next car_repair 0.10): "
        "listed in review.csv",
        "unclassified: category 'x' unknown; ISIC '4520' not in catalogue; OSM tag 'shop=x' not mapped; keywords of "
        "several categories in the name (car_repair, car_parts)",
        "unclassified: a generic word of car_repair in the name, but the name is of another trade",
        "unclassified: no name",
    ]
    names = {"wholesale_building": "عمده‌فروشی مصالح", "wholesale_food": "عمده‌فروشی غذا", "car_repair": "تعمیرگاه",
             "car_parts": "لوازم یدکی"}
    for r, fa in zip(reasons, reason_fa(reasons, names)):
        rest = re.sub(r"review\.csv|ISIC|OSM|shop=x|'x'|«x»", "", fa)
        assert not re.search(r"[A-Za-z]", rest), (r, fa)


def test_zoning_sheets_draw_the_estate_outline_and_never_repeat_a_colour():
    from siteplan.report.panel import sheet_fill
    from siteplan.zoning.zones import zoning_sheets

    est = gpd.GeoDataFrame({"estate_id": ["E1"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=32639)
    zs = [shapely.box(100 + 20 * i, 100, 115 + 20 * i, 300) for i in range(30)]
    zones = gpd.GeoDataFrame({"estate_id": ["E1"] * 30, "zone_id": [f"Z{i}" for i in range(30)], "name_fa": "ص",
                              "name_en": "c", "env_cat": "2", "sep_m": 0.0, "min_home_m": 10.0, "area_ha": 1.0,
                              "units": 1, "plots": 1, "convexity": 1.0, "land_basis": "indicative"},
                             geometry=zs, crs=32639)
    sh = zoning_sheets(zones, estates=est)[0]
    assert all(c in sh.outline for c in ("0.0,0.0", "100.0,100.0", "0.0,100.0", "100.0,0.0"))  # the estate fills the box
    assert zoning_sheets(zones)[0].outline == ""
    fills = [sheet_fill(i) for i in range(60)]
    assert len(set(fills)) == 60 and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in fills)


def test_font_subset_is_small_deterministic_and_has_the_glyphs():
    import io

    from fontTools.ttLib import TTFont

    from siteplan.report.fontface import font_css, subset_woff

    text = "گزارش جابجایی اصناف ۱۴۰۵ هکتار"
    a = subset_woff(400, text)
    assert a == subset_woff(700 - 300, text[::-1])  # same characters, same bytes
    assert a[:4] == b"wOFF" and len(a) < 40_000
    cmap = TTFont(io.BytesIO(a)).getBestCmap()
    assert all(ord(c) in cmap for c in set(text))
    assert ord("ڤ") not in cmap  # cut to what the page uses
    css = font_css(text)
    assert css.count("@font-face") == 2 and "Open Font License" in css and "data:font/woff;base64," in css


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from conftest import small_scenario

    from siteplan.pipeline import run
    from siteplan.scenario import load_scenario

    sc = small_scenario(tmp_path_factory.mktemp("lang"), n_biz=120)
    return run(load_scenario(sc))


def _build(res, lang: str, path):
    from siteplan.report import build_report
    from siteplan.scenario import ReportSpec

    res.prep.scenario = res.prep.scenario.model_copy(update={"report": ReportSpec(language=lang)})
    build_report(res, path)
    return path.read_text(encoding="utf-8")


def test_fa_page_is_persian_right_to_left_with_persian_digits(small_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1774051200")  # 2026-03-21
    page = _build(small_run, "fa", tmp_path / "fa.html")
    assert '<html lang="fa" dir="rtl">' in page and '<aside id="sp-panel" lang="fa"' in page
    assert "۱ فروردین ۱۴۰۵" in page and "font-src data:" in page and "@font-face" in page
    panel = page[page.index('<aside id="sp-panel"'):page.index('id="sp-data"')]
    head = panel[:panel.index('<section id="sp-details"')]
    words = re.sub(r"<[^>]+>", " ", head)
    # no English label, no ASCII digit in the summary (ids and the scenario name aside)
    words = re.sub(r"\b[A-Z]{1,3}\d+\b", " ", words.replace(small_run.prep.scenario.name, " "))
    assert not re.search(r"[0-9]", words), re.findall(r".{20}[0-9].{20}", words)[:5]
    assert not re.search(r"[A-Za-z]{2,}", words), re.findall(r"[A-Za-z]{2,}", words)[:10]
    assert "Businesses to move" not in page and "Method" not in panel
    again = _build(small_run, "fa", tmp_path / "fa2.html")
    assert again == page  # the same run, the same bytes


def test_en_page_is_english_left_to_right(small_run, tmp_path):
    page = _build(small_run, "en", tmp_path / "en.html")
    assert '<html lang="en" dir="ltr">' in page
    panel = page[page.index('<aside id="sp-panel"'):page.index('id="sp-data"')]
    assert "Businesses to move" in panel and "کسب‌وکارهای جابجاشونده" not in panel and "Method" in panel
    assert '"lang":"en"' in page


def test_both_page_keeps_the_bilingual_labels(small_run, tmp_path):
    page = _build(small_run, "both", tmp_path / "both.html")
    assert '<html lang="fa-IR" dir="rtl">' in page
    assert "Businesses to move" in page and "کسب‌وکارهای جابجاشونده" in page


def test_new_sites_warning_counts_like_the_headline(small_run):
    res = small_run
    un = int((res.plan.rows["status"] == "unassigned").sum())
    ws = [w.message for w in res.warnings if w.message.startswith("new sites: the ")]
    for w in ws:
        n = int(re.search(r"of the (\d+)", w)[1])
        assert n == un or f"({un} unassigned in all" in w, (w, un)
