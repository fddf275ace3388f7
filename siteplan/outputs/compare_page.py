"""The comparison page (``compare.html``) of ``siteplan compare``: one self-contained HTML file with a
map and the tables, Persian first and right to left, like the main report.

What the map shows (all drawn from the comparison, nothing fetched):

* **businesses that change estate**: one arrow per pair of estates (old estate → new estate, width by
  the number of businesses); businesses newly assigned: an arrow from where the business is to its
  new estate; unassigned businesses that another proposed site takes: a dashed arrow to that site;
  businesses newly unassigned: a red dot where they are;
* **estates whose intake changes**, coloured by the change of units (green more, red fewer), with a
  label (``E06 +18``); unchanged estates in grey;
* **proposed sites** kept (grey), added (green), removed (red, dashed) and moved (the old outline
  dashed, an arrow to the new one), each with a marker at least 16 px wide.

Safe by construction, as the report (:mod:`siteplan.report.page`): markup is written as
:class:`~markupsafe.Markup` literals and every value from the runs goes in through
``Markup.format``, which escapes it; map data travels as JSON in a data block (``<``, ``>``, ``&``
escaped) read by the page's one static script (``compare.js``), which puts strings on the page with
``textContent`` only. A Content-Security-Policy allows only the page's own scripts and styles (by
SHA-256 hash, taken before any data is added) and images from data URIs: no network at all. Leaflet
is embedded (:func:`siteplan.report.page.offline_assets`). The same comparison gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from ..report.page import json_block, offline_assets
from ..report.words import codes_fa
from .compare_map import MAX_ARROWS, map_data
from .compare_words import CHANGE_FA, METRIC_FA, SITE_FA, ZONE_FA, Fmt, business_reason_fa, category_names, persian_digits

if TYPE_CHECKING:
    from .compare import Comparison

__all__ = ["comparison_page", "map_data", "category_names", "CSS", "csp", "CHANGE_FA", "SITE_FA", "MAX_ARROWS"]

#: rows of a table shown on the page; the CSV has them all
MAX_ROWS = 300

CSS = """:root{--ink:#1d1d1f;--muted:#5c5c66;--line:#d0d0d7}
html{-webkit-text-size-adjust:100%}
body{font:14px/1.5 Tahoma,'Vazirmatn','Noto Sans Arabic',sans-serif;margin:0 auto;padding:12px 16px 32px;color:var(--ink);
  max-width:1400px;box-sizing:border-box;overflow-wrap:anywhere}
h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid var(--line)}
.en{color:var(--muted);font-size:.9em}.note{color:var(--muted);font-size:12px}
bdi,[dir=rtl],[dir=ltr]{unicode-bidi:isolate}
.runs{margin:4px 0 10px}.runs div{margin:2px 0}
.top{display:grid;grid-template-columns:minmax(0,2fr) minmax(260px,1fr);gap:14px;align-items:start}
#cp-map{height:min(70vh,640px);min-height:320px;border:1px solid var(--line);border-radius:6px;background:#eef0ea}
#cp-map.empty{display:none}
.side{min-width:0}
.counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:6px;margin:0 0 10px}
.hl{border:1px solid var(--line);border-radius:6px;padding:6px 8px;background:#fafafa}
.hl .v{font-size:20px;font-weight:bold}.hl .k{font-size:12px;color:var(--muted)}
ul.legend{list-style:none;margin:0;padding:0;font-size:13px}ul.legend li{display:flex;gap:6px;align-items:center;margin:3px 0}
ul.legend svg{flex:none}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:start;vertical-align:top;overflow-wrap:normal}
td{max-width:24em}
th{background:#f2f2f5;font-weight:bold}th .en{display:block;font-weight:normal;font-size:11px}
td.n{text-align:end;white-space:nowrap;font-variant-numeric:tabular-nums}
.pop{font:13px/1.45 Tahoma,'Vazirmatn',sans-serif;max-width:260px}.pop div{margin:1px 0}
.cp-label{font:bold 11px/1.2 Tahoma,sans-serif;padding:1px 4px}
@media (max-width:820px){.top{grid-template-columns:minmax(0,1fr)}#cp-map{height:58vh;min-height:280px}
  body{padding:8px 10px 24px}h1{font-size:18px}}
@media print{#cp-map{height:16cm}.scroll{overflow:visible}}"""


def _sha(s: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(scripts: list[str], styles: list[str]) -> str:
    """The page's Content-Security-Policy: its own scripts and styles by hash, images from data URIs
    (Leaflet's icons), nothing else: no network, frame, form or plug-in."""
    return ("default-src 'none'; "
            f"script-src {' '.join(sorted({_sha(s) for s in scripts}))}; "
            f"style-src {' '.join(sorted({_sha(s) for s in styles}))}; "
            "img-src data:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'; "
            "frame-src 'none'; object-src 'none'")


def page_script() -> str:
    """The page's static script (``compare.js``)."""
    return resources.files("siteplan.outputs").joinpath("compare.js").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# the page
# ------------------------------------------------------------------------------------------------


def _bi(fa: str, en: str) -> Markup:
    """A bilingual label, Persian first, each part its own direction isolate (the separator between
    them in the page's right-to-left flow)."""
    return Markup('<span dir="rtl" lang="fa">{}</span><span class="en"> / <bdi dir="ltr" lang="en">{}</bdi></span>'
                  ).format(fa, en)


def _cell(v: Any, f: Fmt) -> Markup:
    if isinstance(v, Markup):
        return Markup("<td>{}</td>").format(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return Markup('<td class="n"><bdi dir="ltr">{}</bdi></td>').format(f.num(v))
    return Markup('<td><bdi dir="auto">{}</bdi></td>').format("" if v is None else str(v))


def _table(rows: pd.DataFrame, heads: list[tuple[str, str]], f: Fmt, *, csv: str, limit: int = MAX_ROWS) -> Markup:
    """An escaped table of the first ``limit`` rows in a horizontal scroll box, headers Persian with
    the CSV column (or English) under them, saying where the rest are."""
    if rows.empty:
        return Markup('<p class="note">{}</p>').format("هیچ / none")
    head = Markup("").join(Markup('<th scope="col"><span lang="fa">{}</span><span class="en" dir="ltr">{}</span></th>'
                                  ).format(fa, en) for fa, en in heads)
    body = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(_cell(v, f) for v in row))
                           for row in rows.head(limit).itertuples(index=False, name=None))
    more = Markup("")
    if len(rows) > limit:
        more = Markup('<p class="note">… {} ردیف دیگر در {} / more rows in the CSV</p>').format(
            f.num(len(rows) - limit), csv)
    return Markup('<div class="scroll"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>{}').format(
        head, body, more)


def _ch(kinds: dict[str, tuple[str, str]], v: str) -> Markup:
    fa, en = kinds.get(v, (v, v))
    return _bi(fa, en)


def _legend(items: list[tuple[str, str, str, str]]) -> Markup:
    """The map's legend: SVG swatches (presentation attributes, no style attribute) with their labels."""
    shapes = {
        "line": '<svg width="28" height="12" aria-hidden="true"><line x1="2" y1="6" x2="20" y2="6" stroke="{c}" '
                'stroke-width="3"/><path d="M20 1 L27 6 L20 11 Z" fill="{c}"/></svg>',
        "dash": '<svg width="28" height="12" aria-hidden="true"><line x1="2" y1="6" x2="20" y2="6" stroke="{c}" '
                'stroke-width="2" stroke-dasharray="4 3"/><path d="M20 1 L27 6 L20 11 Z" fill="{c}"/></svg>',
        "dot": '<svg width="28" height="12" aria-hidden="true"><circle cx="14" cy="6" r="5" fill="{c}" '
               'stroke="#333"/></svg>',
        "box": '<svg width="28" height="14" aria-hidden="true"><rect x="3" y="1" width="22" height="12" fill="{c}" '
               'stroke="#555"/></svg>',
        "ring": '<svg width="28" height="16" aria-hidden="true"><circle cx="14" cy="8" r="7" fill="{c}" '
                'stroke="#fff" stroke-width="2"/></svg>',
    }
    out = []
    for shape, colour, fa, en in items:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):  # constants of this module; never data
            raise ValueError(f"legend colour {colour!r}")
        out.append(Markup("<li>{}{}</li>").format(Markup(shapes[shape].format(c=colour)), _bi(fa, en)))
    return Markup('<ul class="legend">{}</ul>').format(Markup("").join(out))


def _tables(cmp: Comparison, f: Fmt, names: dict[str, str]) -> dict[str, Markup]:
    """The page's tables (the CSVs hold every row and column)."""
    def cat(c: str) -> Markup:
        return Markup('<bdi dir="auto">{}</bdi>').format(names.get(c, c) if c else "طبقه‌بندی‌نشده")

    t = cmp.totals
    totals = pd.DataFrame({"m": [_bi(METRIC_FA.get(m, m), m) for m in t["metric"]], "a": t["a"], "b": t["b"],
                           "c": t["change"]})
    out = {"totals": _table(totals, [("شاخص", "metric"), ("A", "a"), ("B", "b"), ("تغییر", "change")], f,
                            csv="totals.csv", limit=100)}
    mv = cmp.moved
    if len(mv):
        x = pd.crosstab(mv["category"], mv["change"]).reindex(columns=[c for c in CHANGE_FA if c in set(mv["change"])])
        x.insert(0, "category", [cat(c) for c in x.index])
        out["bycat"] = _table(x.reset_index(drop=True), [("صنف", "category")] + [(CHANGE_FA[c][0], c) for c in x.columns[1:]],
                              f, csv="moved.csv")
    else:
        out["bycat"] = Markup("")
    e = cmp.estates
    e = e[(e["change_ha"].abs() > 1e-9) | (e["change_units"] != 0)]
    e = e.reindex(e["change_units"].abs().sort_values(ascending=False, kind="stable").index)
    out["estates"] = _table(e[["estate_id", "name", "units_a", "units_b", "change_units", "used_ha_a", "used_ha_b",
                               "change_ha", "cap_ha"]],
                            [("شهرک", "estate_id"), ("نام", "name"), ("واحدها A", "units_a"), ("واحدها B", "units_b"),
                             ("تغییر واحدها", "change_units"), ("زمین A (هکتار)", "used_ha_a"),
                             ("زمین B (هکتار)", "used_ha_b"), ("تغییر زمین (هکتار)", "change_ha"),
                             ("ظرفیت (هکتار)", "cap_ha")], f, csv="estates.csv")
    out["unchanged"] = Markup(f.num(len(cmp.estates) - len(e)))
    s = cmp.sites
    order = {c: i for i, c in enumerate(("moved", "added", "removed", "kept"))}
    s = s.iloc[np.argsort([order.get(c, 9) for c in s["change"]], kind="stable")]
    out["sites"] = _table(pd.DataFrame({
        "change": [_ch(SITE_FA, c) for c in s["change"]], "a": s["site_id_a"], "b": s["site_id_b"],
        "cats": [codes_fa(cb or ca, names) for ca, cb in zip(s["categories_a"], s["categories_b"])],
        "area_a": s["area_ha_a"], "area_b": s["area_ha_b"], "shift": s["shift_m"], "overlap": s["overlap"]}),
        [("تغییر", "change"), ("سایت در A", "site_id_a"), ("سایت در B", "site_id_b"), ("صنف‌ها", "categories"),
         ("مساحت A (هکتار)", "area_ha_a"), ("مساحت B (هکتار)", "area_ha_b"), ("جابه‌جایی مرکز (متر)", "shift_m"),
         ("هم‌پوشانی", "overlap")], f, csv="sites.csv")
    z = cmp.zones
    out["zones"] = _table(pd.DataFrame({
        "e": z["estate_id"], "cat": [cat(c) for c in z["category"]], "change": [_ch(ZONE_FA, c) for c in z["change"]],
        "za": z["zone_id_a"], "zb": z["zone_id_b"], "aa": z["area_ha_a"], "ab": z["area_ha_b"], "ua": z["units_a"],
        "ub": z["units_b"]}),
        [("شهرک", "estate_id"), ("صنف", "category"), ("تغییر", "change"), ("پهنه A", "zone_id_a"),
         ("پهنه B", "zone_id_b"), ("مساحت A (هکتار)", "area_ha_a"), ("مساحت B (هکتار)", "area_ha_b"),
         ("واحدها A", "units_a"), ("واحدها B", "units_b")], f, csv="zones.csv")
    out["moved"] = _table(pd.DataFrame({
        "id": mv["biz_id"], "name": mv["name"], "cat": [cat(c) for c in mv["category"]],
        "change": [_ch(CHANGE_FA, c) for c in mv["change"]],
        "ea": mv["estate_id_a"].where(mv["estate_id_a"] != "", mv["site_id_a"]),
        "eb": mv["estate_id_b"].where(mv["estate_id_b"] != "", mv["site_id_b"]),
        "da": mv["distance_km_a"], "db": mv["distance_km_b"],
        "ra": [business_reason_fa(r, fa, c) for r, fa, c in zip(mv["reason_a"], mv["reason_fa_a"], mv["reason_code_a"])],
        "rb": [business_reason_fa(r, fa, c) for r, fa, c in zip(mv["reason_b"], mv["reason_fa_b"], mv["reason_code_b"])]}),
        [("شناسه", "biz_id"), ("نام", "name"), ("صنف", "category"), ("تغییر", "change"),
         ("شهرک یا سایت A", "estate_id_a / site_id_a"), ("شهرک یا سایت B", "estate_id_b / site_id_b"),
         ("فاصله A (کیلومتر)", "distance_km_a"), ("فاصله B (کیلومتر)", "distance_km_b"),
         ("دلیل بی‌جا ماندن در A", "reason_a"), ("دلیل بی‌جا ماندن در B", "reason_b")], f, csv="moved.csv")
    return out


_PAGE = Markup("""<!DOCTYPE html>
<html lang="fa-IR" dir="rtl">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>مقایسه دو سناریو — siteplan compare</title>
<style>{leaflet_css}</style>
<style>{css}</style>
</head>
<body>
<h1>{h1}</h1>
<div class="runs">
<div>اجرای <bdi dir="ltr">A</bdi>: <bdi dir="auto">{name_a}</bdi>
<span class="en">(<bdi dir="ltr">{path_a}</bdi>)</span></div>
<div>اجرای <bdi dir="ltr">B</bdi>: <bdi dir="auto">{name_b}</bdi>
<span class="en">(<bdi dir="ltr">{path_b}</bdi>)</span></div>
</div>
<div class="top">
<div id="cp-map" dir="ltr" role="region" aria-label="نقشه تغییرات / map of the changes"></div>
<div class="side">
<div class="counts">{counts}</div>
<h2>{h_legend}</h2>
{legend}
{map_notes}
</div>
</div>
<h2>{h_totals}</h2>
{totals}
<h2>{h_biz}</h2>
{bycat}
<h2>{h_est}</h2>
<p class="note">{unchanged} شهرک بدون تغییر (همه در estates.csv) / unchanged estates are in estates.csv</p>
{estates}
<h2>{h_sites}</h2>
<p class="note">{site_rule}</p>
{sites}
<h2>{h_zones}</h2>
{zones}
<h2>{h_moved}</h2>
<p class="note">{reason_rule}</p>
{moved}
<h2>{h_notes}</h2>
<ul>{notes}</ul>
{data}
<script>{leaflet_js}</script>
<script>{app}</script>
</body>
</html>
""")


def comparison_page(cmp: Comparison) -> str:
    """The comparison as one HTML page (see the module's docstring): the runs' names and folders, the
    map with its legend, the businesses per kind of change, and the tables of :mod:`siteplan.outputs.compare`.
    """
    f = Fmt(persian=persian_digits(cmp))
    names = category_names(cmp)
    data = map_data(cmp, names)
    counts = Markup("").join(
        Markup('<div class="hl"><div class="v"><bdi dir="ltr">{}</bdi></div><div class="k">{}</div></div>').format(
            f.num(n), _bi(*CHANGE_FA[c])) for c, n in cmp.counts().items() if c in CHANGE_FA)
    why = cmp.counts()
    counts += Markup("").join(
        Markup('<div class="hl"><div class="v"><bdi dir="ltr">{}</bdi></div><div class="k">{}</div></div>').format(
            f.num(why[k]), _bi(fa, en)) for k, fa, en in (
                ("because_change", "جابه‌جایی به سبب تغییر", "moved because of the change"),
                ("because_scenario", "جابه‌جایی با تغییر سراسری سناریو", "moved with a scenario-wide change"),
                ("for_nothing", "جابه‌جایی بی‌دلیل", "moved for nothing")))
    sc = cmp.sites["change"].value_counts()
    counts += Markup("").join(
        Markup('<div class="hl"><div class="v"><bdi dir="ltr">{}</bdi></div><div class="k">{}</div></div>').format(
            f.num(int(sc.get(c, 0))), _bi("سایت‌ها: " + SITE_FA[c][0], "sites " + c)) for c in ("moved", "added", "removed"))
    map_notes = Markup("").join(Markup('<p class="note">{}</p>').format(n) for n in data["notes"])
    if data["bounds"] is None:
        map_notes += Markup('<p class="note">{}</p>').format(
            "هیچ لایه‌ای با مختصات برای نقشه نیست / nothing to map: the runs have no GeoJSON layers or coordinates")
    notes = Markup("").join(Markup('<li><bdi dir="auto">{}</bdi> <span class="en">/ <bdi dir="ltr">{}</bdi></span></li>'
                                   ).format(fa, en) for fa, en in zip(cmp.notes_fa, cmp.notes))
    tabs = _tables(cmp, f, names)
    leaflet_js, leaflet_css = offline_assets()
    app = page_script()
    values = {
        "leaflet_css": Markup(leaflet_css), "css": Markup(CSS), "leaflet_js": Markup(leaflet_js), "app": Markup(app),
        "h1": _bi("مقایسه دو سناریو", "siteplan compare"), "name_a": cmp.a.name, "name_b": cmp.b.name,
        "path_a": str(cmp.a.path), "path_b": str(cmp.b.path), "counts": counts,
        "h_legend": _bi("راهنمای نقشه", "map legend"), "legend": _legend(data["legend"]), "map_notes": map_notes,
        "h_totals": _bi("جمع‌ها", "totals"), "h_biz": _bi("کسب‌وکارها بر پایه صنف و نوع تغییر", "businesses by category"),
        "h_est": _bi("شهرک‌هایی که پذیرش آن‌ها تغییر می‌کند", "estates whose intake changes"),
        "h_sites": _bi("سایت‌های پیشنهادی", "proposed sites"),
        "site_rule": "سایتی که در B در اندازه خودش دوباره پیدا شود (هم‌پوشانی یا جابه‌جایی مرکز کمتر از شعاع هم‌ارز "
                     "سایت) «جابه‌جا شده» است، نه حذف و افزوده / a site found again within its own size is moved",
        "h_zones": _bi("پهنه‌هایی که تغییر می‌کنند", "zones that change"),
        "h_moved": _bi("کسب‌وکارهایی که تغییر می‌کنند", "businesses that change"),
        "reason_rule": "دلیل‌ها با کد دلیل (reason_code) مقایسه می‌شوند، نه با متن / reasons are compared by code",
        "h_notes": _bi("یادداشت‌ها", "notes"), "notes": notes or Markup("<li>هیچ / none</li>"),
        **tabs,
    }
    # the policy hashes the page's own code only (no data in it)
    policy = csp([leaflet_js, app], [leaflet_css, CSS])
    values["csp"] = Markup(policy)
    values["data"] = Markup(json_block(data, "cp-data"))
    return str(_PAGE.format(**values))
