"""The report's side panel as HTML: the summary first (headline figures and chart placeholders that
``app.js`` fills from the data block), then the details (per-category and per-estate tables, proposed
sites, method with robustness condensed to what differs, warnings folded with counts, sources).

Built with :mod:`markupsafe`: markup is written as :class:`~markupsafe.Markup` literals and every value
goes in through ``Markup.format`` or :func:`cell`, which escape it, so a data string can never become
markup, a template or script. Data strings sit in ``<bdi>`` elements so Persian and English mix in the
right order. No ``style`` attributes (the page's Content-Security-Policy forbids them): colours travel
in ``data-colour`` and the page's script applies them.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

from ..common.notice import messages
from ..common.units import M2_PER_HA
from ..locate.ranking import POP_REACH_KM
from ..relocation.reasons import REASON_CODES, reason_codes
from ..zoning.zones import zoning_sheets
from . import lang as _lang
from .bidi import Fmt, bi
from .headline import headline_html
from .method import method_html
from .programme import programme_html
from .summary import group_warnings
from .tables import cell, table, zoom
from .words import ESTATE_KIND, LAYER_NAME, cat_fa, codes_fa, digits, extend_fa, kind_name, land_basis, sizing_text, text, tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["panel_html"]

#: warnings listed in the panel; the rest are in manifest.json
MAX_WARNINGS = 40


def _swatch(colour: str) -> Markup:
    return Markup('<span class="sw" data-colour="{}"></span>').format(colour)


def _category_rows(res: RunResult, colour: dict[str, str], f: Fmt | None = None) -> list[list[Any]]:
    f = f or Fmt()
    prep = res.prep
    cat = prep.catalogue.table.set_index("code")
    rows = res.plan.rows
    out: list[list[Any]] = []
    for code in prep.codes:
        r = rows[rows.category == code]
        un = r[r.status == "unassigned"]
        en = _lang.current() == "en"
        why = tr("؛ ", "; ").join(f"{REASON_CODES[k][1 - en]} ({f.num(v)})" for k, v in
                                 Counter(c for c in reason_codes(un.reason) if c).most_common(3))
        if _lang.current() == "both":
            name = Markup("{}{}<br><small>{}</small>").format(_swatch(colour[code]), cell(cat.loc[code, "name_fa"]),
                                                              cell(cat.loc[code, "name_en"]))
        else:
            name = Markup("{}{}").format(_swatch(colour[code]), cell(cat.loc[code, "name_en" if en else "name_fa"]))
        out.append([name, digits(cat.loc[code, "env_cat"]), f.num(len(r)), f.num(r.land_m2.sum() / M2_PER_HA, ",.1f"),
                    f.num(int((r.status == "assigned").sum())), f.num(len(un)), why])
    un_cls = rows[rows.category.isna()]
    if len(un_cls):
        out.append([tr("طبقه‌بندی‌نشده", "unclassified"), "", f.num(len(un_cls)), "", f.num(0), f.num(len(un_cls)),
                    tr(REASON_CODES["unclassified"][1], REASON_CODES["unclassified"][0])])
    return out


def _estate_rows(res: RunResult, f: Fmt | None = None) -> list[list[Any]]:
    from ..programme.summaries import estate_totals

    f = f or Fmt()
    t = estate_totals(res)
    return [[zoom("estate", r.estate_id), r.estate_name, kind_name(r.kind, ESTATE_KIND) if r.kind is not None else "",
             f.num(r.capacity_m2 / M2_PER_HA, ",.1f"),
             f.num(r.used_m2 / M2_PER_HA, ",.1f"), f.num(r.left_m2 / M2_PER_HA, ",.1f"), f.num(int(r.units)),
             capacity_from(r.capacity_from)] for r in t.itertuples()]


def capacity_from(v: Any) -> str:
    """What an estate's capacity was read from, in the report's language."""
    t = text(v)
    fa = {"vacant_ha": "زمین خالی", "plots": "قطعات", "gross_ha": "مساحت ناخالص", "none": "هیچ", "area": "مساحت"}
    en = {"vacant_ha": "vacant land", "plots": "plots", "gross_ha": "gross area", "none": "none", "area": "area"}
    return tr(fa.get(t, t), en.get(t, t))


#: the value chains of the catalogue (``chain``) in Persian and English
CHAIN = {"auto": ("خودرو", "vehicles"), "metal": ("فلز", "metal"), "stone": ("سنگ", "stone"),
         "tech": ("فناوری", "technology"), "textile": ("نساجی", "textiles"), "trade": ("بازرگانی", "trade"),
         "wood": ("چوب", "wood")}


def chain_name(v: Any) -> str:
    """A value chain in the report's language (one the table does not know, as written)."""
    t = text(v)
    return tr(*CHAIN[t]) if t in CHAIN else t


#: zone fills of the zoning sheets' maps (by position in the estate's list, never from data); beyond
#: these, :func:`sheet_fill` turns the hue by the golden angle, so no two zones of a sheet share a colour
_SHEET_FILLS = ("#8c2d04", "#cc4c02", "#ec7014", "#fe9929", "#fec44f", "#74a9cf", "#3690c0", "#0570b0",
                "#045a8d", "#016c59", "#02818a", "#67a9cf")


def sheet_fill(i: int) -> str:
    """The fill of the ``i``-th zone of a zoning sheet: distinct for every ``i`` (a hex colour)."""
    import colorsys

    if i < len(_SHEET_FILLS):
        return _SHEET_FILLS[i]
    k = i - len(_SHEET_FILLS)
    hue = (k * 137.50776405 + 20.0) % 360.0 / 360.0
    light = (0.42, 0.58, 0.50)[k % 3]
    sat = (0.65, 0.50, 0.80)[(k // 3) % 3]
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _zoning_sheets(res: RunResult, f: Fmt) -> Markup:
    """Per estate a small map of its zones inside the estate's outline, and their table (issue 17)."""
    out = []
    mode = _lang.current()
    for sh in zoning_sheets(res.zones, estates=res.prep.region.layers.get("estates")):
        outline = (Markup('<path class="zs-outline" d="{}" fill="#f4f4f0" stroke="#000" stroke-width="1.2" '
                          'stroke-dasharray="3 1.5"/>').format(sh.outline) if sh.outline else Markup(""))
        paths = Markup("").join(Markup('<path d="{}" fill="{}" stroke="#333" stroke-width="0.3"/>').format(
            d, sheet_fill(i)) for i, d in enumerate(sh.paths))
        svg = Markup('<svg viewBox="-2 -2 104 104" width="160" height="160" role="img" aria-label="{} {}">'
                     '{}{}</svg>').format(tr("زون‌های", "zones of"), sh.estate_id, outline, paths)
        # plain tuples, in the order of zoning.zones.SHEET_COLUMNS (a namedtuple class per sheet costs more than its rows)
        rows = [[Markup('<span class="sw" data-colour="{}"></span>').format(sheet_fill(i)),
                 zone_id,
                 (Markup("{}<br><small>{}</small>").format(cell(name_fa), cell(name_en)) if mode == "both"
                  else name_en if mode == "en" else name_fa),
                 digits(env_cat), f.num(float(sep_m), "g"),
                 "" if pd.isna(min_home_m) else f.num(float(min_home_m), ",.0f"), f.num(float(area_ha), ".2f"),
                 f.num(int(units)), "" if pd.isna(plots) else f.num(int(plots)), f.num(float(convexity), ".2f"),
                 land_basis(basis)]
                for i, (zone_id, name_fa, name_en, env_cat, sep_m, min_home_m, area_ha, units, plots, convexity,
                        basis) in enumerate(sh.rows.itertuples(index=False, name=None))]
        out.append(Markup('<div class="zs"><h4>{}</h4>{}<div class="zs-table">{}</div></div>').format(
            cell(sh.estate_id), svg, table(
            ["", bi("zone", "زون"), bi("category", "صنف"), bi("env", "رده"), bi("sep m", "حریم (متر)"),
             bi("from homes m", "تا مسکونی (متر)"), bi("ha", "هکتار"), bi("units", "واحد"), bi("plots", "قطعه"),
             bi("convexity", "فشردگی"), bi("land", "زمین")], rows)))
    return Markup("").join(out)


def _sources(res: RunResult, f: Fmt) -> list[Markup]:
    out = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        if "source" in gdf:
            label = tr(*LAYER_NAME[name]) if name in LAYER_NAME else name
            for s, n in sorted(gdf["source"].dropna().astype(str).value_counts().items()):
                out.append(Markup("<b>{}</b> ({}): {}").format(label, f.num(n), cell(s)))
    return out


def _chart_box(cid: str, en: str, fa: str, note: str) -> Markup:
    return Markup('<figure class="chart"><figcaption>{}</figcaption><div class="chart-svg" id="{}" role="img" '
                  'aria-label="{}"></div><p class="note">{}</p></figure>').format(bi(en, fa), cid, tr(fa, en), note)


def _warnings(res: RunResult, f: Fmt) -> tuple[Markup, int]:
    """The run's warnings, repeats folded. They are the run's log (``manifest.json``), in English: on a
    Persian page each sits in a left-to-right English isolate."""
    groups = group_warnings(messages(res.warnings))
    items = [Markup('<li><bdi dir="ltr" lang="en">{}</bdi>{}</li>').format(
        text(w), Markup(' <span class="count">{} {}</span>').format(Markup("×"), f.qty(n)) if n > 1 else "")
        for w, n in groups[:MAX_WARNINGS]]
    if len(groups) > MAX_WARNINGS:
        items.append(Markup("<li>{}</li>").format(tr(
            f"… {f.num(len(groups) - MAX_WARNINGS)} نوع دیگر در manifest.json",
            f"… {len(groups) - MAX_WARNINGS} more kinds in manifest.json")))
    return Markup("").join(items), len(groups)


def _site_rows(res: RunResult, f: Fmt) -> list[list[Any]]:
    out = []
    for s in res.sites.itertuples():
        def km(v: object) -> Markup | str:
            return f.qty(float(v), "km", ",.1f") if isinstance(v, (int, float)) and pd.notna(v) else ""
        takes = getattr(s, "takes", None)
        room = getattr(s, "capacity_units", None) if takes is not None else getattr(s, "units", "")
        names = cat_fa(res)
        took = (Markup("{} ({})").format(f.qty(int(s.units)), cell(codes_fa(takes, names)))
                if takes is not None else "")
        area = f.qty(float(s.area_ha), "ha", ",.1f")
        if getattr(s, "sized_by", "demand") not in ("demand", "", None):
            area = Markup('{}<div class="sub">{}</div>').format(area, cell(sizing_text(s, res)))
        out.append([zoom("site", s.site_id), chain_name(getattr(s, "chain", "")), codes_fa(s.categories, names), area,
                    f.num(float(s.score), ".2f"), took, codes_fa(room, names), km(getattr(s, "trunk_km", None)),
                    km(getattr(s, "rail_km", None)), km(getattr(s, "power_km", None)),
                    km(getattr(s, "gas_km", None)), km(getattr(s, "water_km", None)),
                    km(getattr(s, "wastewater_km", None)), extend_fa(getattr(s, "extend", "")),
                    f.qty(int(getattr(s, "pop_reach", 0) or 0))])
    return out


def _date_span() -> Markup:
    """The page's date (Solar Hijri in Persian), only when ``SOURCE_DATE_EPOCH`` fixes it: a date of
    the day the report was written would make the same inputs give other bytes tomorrow."""
    d = _lang.report_date()
    return Markup(' · <span class="date">{}</span>').format(_lang.date_text(d)) if d is not None else Markup("")


def panel_html(res: RunResult, colour: dict[str, str]) -> Markup:
    """The side panel of the report: summary first, then details."""
    f = Fmt(persian_digits=bool(getattr(res.prep.scenario.outputs, "persian_digits", False)))
    mode = _lang.current()
    page_lang = {"fa": "fa", "en": "en"}.get(mode, "fa-IR")
    return Markup("""<aside id="sp-panel" lang="{page_lang}" aria-label="{k_aside}">
<button type="button" id="sp-handle" aria-expanded="true" aria-controls="sp-body">{k_sheet}</button>
<div id="sp-body">
{summary}
{details}
</div>
</aside>""").format(
        page_lang=page_lang, k_aside=tr("خلاصه و جزئیات گزارش", "report summary and details"),
        k_sheet=bi("Summary", "خلاصه"), summary=_summary_section(res, f), details=_details_section(res, colour, f))


def _summary_section(res: RunResult, f: Fmt) -> Markup:
    """The panel's summary: the title, the headline figures and the charts' placeholders."""
    mode = _lang.current()
    sub = (Markup('<p class="sub" dir="ltr" lang="en">Relocation of nuisance guilds and zoning of the estates{}</p>')
           if mode == "en" else
           Markup('<p class="sub" dir="rtl" lang="fa">گزارش جابجایی اصناف مزاحم و پهنه‌بندی شهرک‌ها{}</p>')).format(
        _date_span())
    title = (Markup("{}") if mode == "fa" else Markup('<span dir="ltr" lang="en">siteplan</span> — {}')).format(
        cell(res.prep.scenario.name))
    return Markup("""<section id="sp-summary" aria-labelledby="sp-title">
<h1 id="sp-title">{title}</h1>
{sub}
{headline}
<details open class="charts"><summary>{k_charts}</summary>
{c_est}{c_flow}{c_un}
</details>
</section>""").format(
        title=title, sub=sub, headline=headline_html(res, f), k_charts=bi("Charts", "نمودارها"),
        c_est=_chart_box("chart-estates", "Demand against capacity per estate", "تقاضا در برابر ظرفیت هر شهرک",
                         tr("میله: زمین تخصیص‌یافته (هکتار)؛ قاب: ظرفیت (هکتار)",
                            "bar: land assigned (ha); frame: capacity (ha)")),
        c_flow=_chart_box("chart-flows", "Where they come from and go: towns to estates",
                          "از کجا به کجا: شهرها به شهرک‌ها", tr("پهنای نوار: شمار کسب‌وکارها", "band width: businesses")),
        c_un=_chart_box("chart-unassigned", "Unassigned by reason and category", "بدون تخصیص به تفکیک دلیل و صنف",
                        tr("کسب‌وکارهای هر صنف، رنگ به تفکیک دلیل", "businesses per category, coloured by reason")))


def _details_section(res: RunResult, colour: dict[str, str], f: Fmt) -> Markup:
    """The panel's details: categories, estates, sites, zoning sheets, programme, method, warnings, sources."""
    warn, nw = _warnings(res, f)
    src = Markup("").join(Markup("<li>{}</li>").format(s) for s in _sources(res, f))
    return Markup("""<section id="sp-details" aria-label="{k_det_aria}">
<h2>{k_details}</h2>
<details><summary>{k_cats}</summary>{cats}</details>
<details><summary>{k_ests}</summary>{ests}</details>
<details><summary>{k_sites}</summary>{sites}</details>
<details class="zsheets"><summary>{k_zs}</summary>
<p class="print-only">{k_zs_print}</p>{zsheets}</details>
{programme}
{method}
<details><summary>{k_warn} <span class="count">({nw})</span></summary><ul>{warn}</ul></details>
<details><summary>{k_src}</summary><ul>{src}</ul>
<p>{k_osm}</p></details>
</section>""").format(
        k_det_aria=tr("جزئیات", "details"),
        k_osm=tr("نقشه پایه در حالت آنلاین: © مشارکت‌کنندگان OpenStreetMap (ODbL).",
                 "Base map when online: © OpenStreetMap contributors (ODbL)."),
        programme=programme_html(res, f),
        k_details=bi("Details", "جزئیات"), k_cats=bi("Categories", "اصناف"), cats=_category_table(res, colour, f),
        k_ests=bi("Estates", "شهرک‌ها و نواحی"), ests=_estate_table(res, f),
        k_sites=bi("Proposed sites", "سایت‌های پیشنهادی"), sites=_site_table(res, f),
        k_zs=bi("Zoning sheets", "پهنه‌بندی شهرک‌ها"), zsheets=_zoning_sheets(res, f),
        k_zs_print=bi("printed as maps; each zone's table is in the report on screen and in zones.geojson",
                      "در چاپ فقط نقشه‌ها؛ جدول هر زون در نسخه صفحه‌نمایش و zones.geojson"),
        method=method_html(res, f), k_warn=bi("Warnings", "هشدارها"), nw=f.num(nw), warn=warn,
        k_src=bi("Data sources", "منابع داده"), src=src)


def _category_table(res: RunResult, colour: dict[str, str], f: Fmt) -> Markup:
    """Per category: businesses, land, assigned, unassigned and the main reasons why."""
    return table([bi("category", "صنف"), bi("env", "رده محیطی"), bi("businesses", "کسب‌وکار"),
                  bi("land ha", "زمین (هکتار)"), bi("assigned", "تخصیص‌یافته"), bi("unassigned", "بدون تخصیص"),
                  bi("why unassigned", "دلیل عدم تخصیص")],
                 _category_rows(res, colour, f))


def _estate_table(res: RunResult, f: Fmt) -> Markup:
    """Per estate: capacity, land used and left, businesses, and what the capacity was read from."""
    return table([bi("id", "شناسه"), bi("name", "نام"), bi("kind", "نوع"), bi("capacity ha", "ظرفیت (هکتار)"),
                  bi("used ha", "استفاده‌شده (هکتار)"), bi("left ha", "باقی (هکتار)"), bi("businesses", "کسب‌وکار"),
                  bi("capacity from", "مبنای ظرفیت")],
                 _estate_rows(res, f))


def _site_table(res: RunResult, f: Fmt) -> Markup:
    """The proposed sites: what they take, their room, the distances to networks and the people in reach."""
    return table([bi("site", "سایت"), bi("chain", "زنجیره"), bi("categories", "اصناف"), bi("area", "مساحت"),
                  bi("score", "امتیاز"), bi("takes (unassigned businesses)", "جذب (کسب‌وکار بدون تخصیص)"),
                  bi("room (units per category)", "ظرفیت (واحد برای هر صنف)"), bi("to trunk road", "تا راه اصلی"),
                  bi("to rail", "تا راه‌آهن"), bi("to power", "تا برق"), bi("to gas", "تا گاز"),
                  bi("to water", "تا آب"), bi("to wastewater", "تا فاضلاب"),
                  bi("utilities to extend", "تأسیسات لازم"),
                  bi(f"population within {POP_REACH_KM:g} km", f"جمعیت در شعاع {f.plain(POP_REACH_KM, 'km', 'g')}")],
                 _site_rows(res, f))
