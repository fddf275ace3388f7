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
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from ..report.bidi import fa_digits
from ..report.page import json_block, offline_assets
from ..report.words import codes_fa

if TYPE_CHECKING:
    from .compare import Comparison

__all__ = ["comparison_page", "map_data", "category_names", "CSS", "csp", "CHANGE_FA", "SITE_FA", "MAX_ARROWS"]

#: rows of a table shown on the page; the CSV has them all
MAX_ROWS = 300
#: arrows drawn per kind (the largest flows first); the rest are counted in the legend
MAX_ARROWS = 3000

#: kinds of change of a business: (Persian, English)
CHANGE_FA = {
    "moved": ("به شهرک دیگر", "moved to another estate"),
    "newly_assigned": ("تازه جای‌گرفته", "newly assigned"),
    "newly_unassigned": ("تازه بی‌جا مانده", "newly unassigned"),
    "site_changed": ("سایت پیشنهادی دیگر", "another proposed site"),
    "reason_changed": ("دلیل دیگر برای بی‌جا ماندن", "unassigned for another reason"),
    "only_in_a": ("فقط در A", "only in A"),
    "only_in_b": ("فقط در B", "only in B"),
}
#: kinds of change of a proposed site
SITE_FA = {"kept": ("همان‌جا", "kept"), "moved": ("جابه‌جا شده", "moved"), "added": ("افزوده", "added"),
           "removed": ("حذف‌شده", "removed")}
#: kinds of change of a zone
ZONE_FA = {"added": ("افزوده", "added"), "removed": ("حذف‌شده", "removed"), "resized": ("تغییر اندازه", "resized"),
           "redrawn": ("بازترسیم", "redrawn")}
#: the metrics of totals.csv
METRIC_FA = {
    "businesses": "کسب‌وکارها", "assigned": "جای‌گرفته", "unassigned": "بی‌جا مانده", "unclassified": "طبقه‌بندی‌نشده",
    "unassigned a proposed site would take": "بی‌جا مانده‌هایی که سایت پیشنهادی می‌پذیرد",
    "land assigned (ha)": "زمین واگذارشده (هکتار)", "total trip length (km)": "جمع طول سفر (کیلومتر)",
    "mean trip length (km)": "میانگین طول سفر (کیلومتر)", "mean trip by road (km)": "میانگین سفر از راه (کیلومتر)",
    "mean trip time (min)": "میانگین زمان سفر (دقیقه)", "objective": "تابع هدف", "lower bound": "کران پایین",
    "gap": "شکاف بهینگی", "proposed sites": "سایت‌های پیشنهادی", "zones": "پهنه‌ها",
    "moved because of the change": "جابه‌جایی به سبب تغییر", "moved for nothing": "جابه‌جایی بی‌دلیل",
    **{f"businesses {c.replace('_', ' ')}": f"کسب‌وکارها: {fa}" for c, (fa, _) in CHANGE_FA.items()},
    **{f"sites {c}": f"سایت‌ها: {fa}" for c, (fa, _) in SITE_FA.items()},
    **{f"zones {c}": f"پهنه‌ها: {fa}" for c, (fa, _) in ZONE_FA.items()},
}

#: colours (constants, never data)
C_MOVED, C_NEW, C_LOST, C_SITE, C_SITE_MOVED = "#6a3d9a", "#1b7837", "#c51b29", "#e08214", "#2166ac"
C_SAME = "#bdbdbd"
#: estates: fewer units (strong to light), unchanged, more units (light to strong)
EST_DOWN, EST_UP = ("#cb181d", "#fb6a4a", "#fcbba1"), ("#c7e9c0", "#74c476", "#238b45")

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
# text
# ------------------------------------------------------------------------------------------------


class _Fmt:
    """Numbers as text, with ASCII or Persian digits (``outputs.persian_digits`` of run B)."""

    def __init__(self, persian: bool) -> None:
        self.persian = persian

    def num(self, v: Any, signed: bool = False) -> str:
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(float(v))):
            return ""
        f = float(v)
        s = f"{f:+,.4f}" if signed else f"{f:,.4f}"
        s = s.rstrip("0").rstrip(".") if "." in s else s
        if signed and f == 0:
            s = "0"
        return fa_digits(s) if self.persian else s

    def ltr(self, v: Any, unit: str = "", signed: bool = False) -> str:
        """A number (and unit) as a left-to-right isolate inside plain text (U+2066 … U+2069), so
        that a sign or a unit stays on its side in a right-to-left sentence."""
        return "\u2066" + self.num(v, signed) + (f"\u00a0{unit}" if unit else "") + "\u2069"


def category_names(cmp: Comparison) -> dict[str, str]:
    """Category code -> Persian name: the runs' own ``category_fa`` (B's wins), else the shipped
    catalogue's; a code neither knows is shown as written."""
    from ..guilds.catalogue import load_catalogue

    t = load_catalogue().table
    names = {str(c): str(f) for c, f in zip(t["code"], t["name_fa"]) if f is not None and str(f)}
    for r in (cmp.a.relocation, cmp.b.relocation):
        k = r[(r["category"] != "") & (r["category_fa"] != "")]
        names.update(zip(k["category"], k["category_fa"]))
    return names


def _reason_fa(text: Any, fa: Any, code: Any) -> str:
    from ..relocation.reasons import reason_fa, reason_label

    if isinstance(fa, str) and fa:
        return fa
    if isinstance(text, str) and text:
        return str(reason_fa([text])[0])
    return reason_label(str(code or ""), "fa")


def _persian_digits(cmp: Comparison) -> bool:
    sc = cmp.b.manifest.get("scenario")
    out = sc.get("outputs") if isinstance(sc, dict) else None
    return bool(out.get("persian_digits")) if isinstance(out, dict) else False


# ------------------------------------------------------------------------------------------------
# map data (plain JSON: strings are raw data, the script puts them on the page as text)
# ------------------------------------------------------------------------------------------------


def _geojson(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    g = shapely.transform(geoms, lambda c: np.round(c, 6)) if len(geoms) else []
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(x)}
                         for x, p in zip(g, props) if x is not None and not x.is_empty]}


def _ll(g: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if g is None or not len(g):
        return None
    g = g.to_crs(4326)
    g = g[g.geometry.notna() & ~g.geometry.is_empty]
    return g if len(g) else None


def _estates_layer(cmp: Comparison, f: _Fmt) -> tuple[dict[str, Any] | None, dict[str, tuple[float, float]],
                                                       list[Any]]:
    """Estates coloured by the change of their intake, their centres (for arrows) and the legend."""
    parts = [g for g in (_ll(cmp.b.estates), _ll(cmp.a.estates)) if g is not None and "estate_id" in g]
    if not parts:
        return None, {}, []
    est = pd.concat(parts, ignore_index=True)
    est["estate_id"] = est["estate_id"].astype(str)
    est = gpd.GeoDataFrame(est.drop_duplicates("estate_id", keep="first"), geometry=parts[0].geometry.name, crs=4326)
    centre = shapely.point_on_surface(est.geometry.values)
    centres = {e: (round(float(shapely.get_y(c)), 6), round(float(shapely.get_x(c)), 6))
               for e, c in zip(est["estate_id"], centre)}
    t = cmp.estates.set_index("estate_id")
    top = max(int(t["change_units"].abs().max()) if len(t) else 0, 1)
    bounds = [math.ceil(top / 3), math.ceil(2 * top / 3)]

    def fill(d: int) -> str:
        return _estate_fill(d, bounds)

    props, labels = [], []
    for e, name, c in zip(est["estate_id"], est["name"] if "name" in est else est["estate_id"], centre):
        r = t.loc[e] if e in t.index else None
        d = int(r["change_units"]) if r is not None else 0
        nm = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
        lines = [f"{nm} ({e})" if nm else e]
        if r is not None:
            lines += [f"واحدها در A: {f.ltr(r['units_a'])}، در B: {f.ltr(r['units_b'])}، تغییر: {f.ltr(d, signed=True)}",
                      f"زمین استفاده‌شده در A: {f.ltr(r['used_ha_a'], 'ha')}، در B: {f.ltr(r['used_ha_b'], 'ha')}، "
                      f"تغییر: {f.ltr(r['change_ha'], 'ha', signed=True)}"]
        changed = r is not None and (d != 0 or abs(float(r["change_ha"])) > 1e-9)
        props.append({"c": "#555555" if changed else "#9e9e9e", "f": fill(d), "fo": 0.75 if changed else 0.35,
                      "w": 1.5 if changed else 0.8, "t": lines})
        if changed:
            labels.append([round(float(shapely.get_y(c)), 6), round(float(shapely.get_x(c)), 6), 7, fill(d), lines,
                           f"{e} {f.num(d, signed=True)}"])
    layer = {"kind": "geojson", "cls": "cp-estates", "show": True,
             "name": "شهرک‌ها: تغییر واحدهای پذیرفته / estates: change of intake",
             "features": _geojson(est.geometry.values, props), "points": labels}
    seen = {fill(int(d)) for d in t["change_units"]} if len(t) else set()
    return layer, centres, _estate_legend(f, bounds, top, seen)


def _estate_fill(d: int, bounds: list[int]) -> str:
    """The colour of an estate whose intake changed by ``d`` units (three classes each way)."""
    if d == 0:
        return C_SAME
    k = 0 if abs(d) <= bounds[0] else 1 if abs(d) <= bounds[1] else 2
    return EST_UP[k] if d > 0 else EST_DOWN[2 - k]


def _estate_legend(f: _Fmt, bounds: list[int], top: int, seen: set[str]) -> list[tuple[str, str, str, str]]:
    """The legend of the estates' colours that the map uses: more units (largest first), unchanged, fewer."""
    ranges = [(1, bounds[0]), (bounds[0] + 1, bounds[1]), (bounds[1] + 1, top)]
    legend: list[tuple[str, str, str, str]] = []
    for k in (2, 1, 0):
        lo, hi = ranges[k]
        if EST_UP[k] in seen and lo <= hi:
            legend.append(("box", EST_UP[k], f"شهرک با واحدهای بیشتر: {f.ltr(lo, signed=True)} تا {f.ltr(hi, signed=True)}",
                           "more units"))
    legend.append(("box", C_SAME, "شهرک بدون تغییر", "unchanged"))
    for k in (0, 1, 2):
        lo, hi = ranges[k]
        if EST_DOWN[2 - k] in seen and lo <= hi:
            legend.append(("box", EST_DOWN[2 - k], f"شهرک با واحدهای کمتر: {f.ltr(-lo, signed=True)} تا "
                           f"{f.ltr(-hi, signed=True)}", "fewer units"))
    return legend


def _site_polys(g: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Site id -> its polygon in EPSG:4326 (the first of a repeated id)."""
    g = _ll(g)
    if g is None or "site_id" not in g:
        return {}
    out: dict[str, Any] = {}
    for s, geom in zip(g["site_id"].astype(str), g.geometry.values):
        out.setdefault(s, geom)
    return out


def _sites_layer(cmp: Comparison, f: _Fmt, names: dict[str, str]) -> tuple[dict[str, Any] | None,
                                                                            list[list[Any]], dict[str, Any]]:
    """Sites kept, added, removed and moved (polygons and ≥ 16 px markers), the arrows of the moved ones,
    and B's site centres (for the arrows of businesses that another site takes)."""
    pa, pb = _site_polys(cmp.a.sites), _site_polys(cmp.b.sites)
    style = {"kept": ("#616161", "#9e9e9e", 0), "added": (C_NEW, C_NEW, 0), "removed": (C_LOST, C_LOST, 1),
             "moved": (C_SITE_MOVED, C_SITE_MOVED, 0)}
    geoms, props, points, arrows = [], [], [], []
    centres: dict[str, Any] = {}
    for r in cmp.sites.itertuples(index=False):
        fa, en = SITE_FA.get(r.change, (r.change, r.change))
        sid = r.site_id_b or r.site_id_a
        cats = codes_fa(r.categories_b or r.categories_a, names)
        lines = [f"سایت پیشنهادی {sid}: {fa}", cats]
        if r.change in ("kept", "moved"):
            lines.append(f"در A: {r.site_id_a}، در B: {r.site_id_b}؛ جابه‌جایی مرکز: {f.ltr(r.shift_m, 'm')}، "
                         f"هم‌پوشانی: {f.ltr(r.overlap)}")
        area = r.area_ha_b if r.change != "removed" else r.area_ha_a
        lines.append(f"مساحت: {f.ltr(area, 'ha')}")
        col, fill, dash = style.get(r.change, style["kept"])
        if r.site_id_b:
            centres[r.site_id_b] = (r.lat, r.lon)
        if r.change == "moved" and r.site_id_a in pa:  # the old outline, dashed
            geoms.append(pa[r.site_id_a])
            props.append({"c": C_SITE_MOVED, "f": C_SITE_MOVED, "fo": 0.05, "w": 1.5, "d": 1,
                          "t": [f"جای پیشین سایت {r.site_id_a} در A", *lines[1:]]})
        poly = pb.get(r.site_id_b) if r.change != "removed" else pa.get(r.site_id_a)
        if poly is not None:
            geoms.append(poly)
            props.append({"c": col, "f": fill, "fo": 0.3, "w": 2, "d": dash, "t": lines})
        if not (isinstance(r.lat, float) and math.isnan(r.lat)):
            points.append([r.lat, r.lon, 8, col, lines, "" if r.change == "kept" else f"{sid} {fa}"])
        if r.change == "moved":
            arrows.append([r.lat_a, r.lon_a, r.lat, r.lon, 3, C_SITE_MOVED, 0,
                           [f"سایت {r.site_id_a} (A) به {r.site_id_b} (B) جابه‌جا شده است: {f.ltr(r.shift_m, 'm')}"],
                           1])
    if not geoms and not points:
        return None, arrows, centres
    layer = {"kind": "geojson", "cls": "cp-sites", "show": True,
             "name": "سایت‌های پیشنهادی / proposed sites",
             "features": _geojson(np.array(geoms, dtype=object), props), "points": points}
    return layer, arrows, centres


def _arrows(pairs: pd.DataFrame, cap: int) -> tuple[list[list[Any]], int]:
    """``pairs`` (columns lat0, lon0, lat1, lon1, n, colour, dash, lines) largest first, at most
    ``cap``; returns the rows and how many businesses the arrows left out stand for."""
    pairs = pairs.sort_values("n", ascending=False, kind="stable")
    drawn, rest = pairs.head(cap), pairs.iloc[cap:]
    rows = [[r.lat0, r.lon0, r.lat1, r.lon1, round(min(1.5 + 1.5 * math.log2(r.n), 9.0), 2), r.colour, int(r.dash),
             list(r.lines), int(r.n)] for r in drawn.itertuples(index=False)]
    return rows, int(rest["n"].sum()) if len(rest) else 0


@dataclass(frozen=True)
class _Moves:
    """What the business arrows are drawn from: the moved table, the number format, the category names,
    and where each estate (``est_c``) and B's sites (``site_c``) are."""

    mv: pd.DataFrame
    f: _Fmt
    names: dict[str, str]
    est_c: dict[str, tuple[float, float]]
    site_c: dict[str, Any]

    def where(self, e: str, s: str) -> Any:
        """The place of an estate, else of a site (None when it is not on the map)."""
        return self.est_c.get(e) if e else self.site_c.get(s)


class _Arrows(NamedTuple):
    """One layer of arrows, a business each: the change it shows, its colour, dash, CSS class and name,
    and whether it points at B's proposed site."""

    change: str
    colour: str
    dash: int
    cls: str
    name: str
    to_site: bool


def _business_layers(cmp: Comparison, f: _Fmt, names: dict[str, str], est_c: dict[str, tuple[float, float]],
                     site_c: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Arrow layers: old estate → new estate (aggregated by pair), origin → new estate (newly
    assigned), origin → another proposed site; dots for the newly unassigned. Returns the layers and
    notes on what could not be drawn."""
    ms = _Moves(cmp.moved, f, names, est_c, site_c)
    mv = ms.mv
    layers: list[dict[str, Any]] = []
    notes: list[str] = []
    _estate_arrows(ms, layers, notes)
    _business_arrows(ms, _Arrows("newly_assigned", C_NEW, 0, "cp-new",
                                 "کسب‌وکارهای تازه جای‌گرفته / newly assigned", False), layers, notes)
    b = mv[(mv["change"] == "site_changed") & (mv["site_id_b"] != "")]
    if len(b):
        _business_arrows(ms, _Arrows("site_changed", C_SITE, 1, "cp-site-changed",
                                     "بی‌جا مانده‌هایی که سایت دیگری می‌پذیرد / taken by another proposed site", True),
                         layers, notes)
    lost = mv[(mv["change"] == "newly_unassigned") & mv["lat"].notna() & mv["lon"].notna()]
    if len(lost):
        pts = [[round(float(r.lat), 6), round(float(r.lon), 6), 5, C_LOST,
                [f"{r.name} ({r.biz_id})", names.get(r.category, r.category), f"در A: {r.estate_id_a or r.site_id_a}",
                 f"در B بی‌جا: {_reason_fa(r.reason_b, r.reason_fa_b, r.reason_code_b)}"], ""]
               for r in lost.head(MAX_ARROWS).itertuples(index=False)]
        layers.append({"kind": "points", "cls": "cp-lost", "show": True, "items": pts, "left": max(len(lost) - MAX_ARROWS, 0),
                       "name": "کسب‌وکارهای تازه بی‌جا مانده / newly unassigned"})
    return layers, notes


def _estate_arrows(ms: _Moves, layers: list[dict[str, Any]], notes: list[str]) -> None:
    """Estate to estate, one arrow per pair (added to ``layers``; what cannot be drawn to ``notes``)."""
    mv, f, names, where = ms.mv, ms.f, ms.names, ms.where
    m = mv[mv["change"] == "moved"]
    if not len(m):
        return
    src = [where(e, s) for e, s in zip(m["estate_id_a"], m["site_id_a"])]
    dst = [where(e, s) for e, s in zip(m["estate_id_b"], m["site_id_b"])]
    ok = np.array([a is not None and b is not None for a, b in zip(src, dst)], dtype=bool)
    if (~ok).sum():
        notes.append(f"{f.ltr(int((~ok).sum()))} کسب‌وکار جابه‌جاشده بی‌مختصات شهرک (estates.geojson) روی نقشه نیست")
    k = m[ok].assign(fa=[a for a, o in zip(m["estate_id_a"].where(m["estate_id_a"] != "", m["site_id_a"]), ok) if o],
                     fb=[b for b, o in zip(m["estate_id_b"].where(m["estate_id_b"] != "", m["site_id_b"]), ok) if o])
    g = k.groupby(["fa", "fb"], sort=True)
    rows = []
    for (ea, eb), grp in g:
        (la, oa), (lb, ob) = where(ea, ea), where(eb, eb)
        cats = grp["category"].value_counts()
        top = "، ".join(f"{names.get(c, c)}: {f.ltr(n)}" for c, n in cats.head(4).items())
        rows.append({"lat0": la, "lon0": oa, "lat1": lb, "lon1": ob, "n": len(grp), "colour": C_MOVED, "dash": 0,
                     "lines": [f"{f.ltr(len(grp))} کسب‌وکار از {ea} (A) به {eb} (B)", top]})
    items, left = _arrows(pd.DataFrame(rows), MAX_ARROWS)
    layers.append({"kind": "arrows", "cls": "cp-moved", "show": True, "items": items, "left": left,
                   "name": "کسب‌وکارهایی که به شهرک دیگر می‌روند / businesses moved to another estate"})


def _business_arrows(ms: _Moves, style: _Arrows, layers: list[dict[str, Any]], notes: list[str]) -> None:
    """One arrow per business of a change, from its origin (added to ``layers``; those without
    coordinates counted in ``notes``)."""
    mv, f, names = ms.mv, ms.f, ms.names
    change = style.change
    b = mv[mv["change"] == change]
    if not len(b):
        return
    rows, missing = [], 0
    for r in b.itertuples(index=False):
        dst = ms.site_c.get(r.site_id_b) if style.to_site else ms.where(r.estate_id_b, r.site_id_b)
        if dst is None or not np.isfinite([r.lat, r.lon]).all():
            missing += 1
            continue
        to = r.site_id_b if style.to_site else (r.estate_id_b or r.site_id_b)
        rows.append({"lat0": round(float(r.lat), 6), "lon0": round(float(r.lon), 6), "lat1": dst[0], "lon1": dst[1],
                     "n": 1, "colour": style.colour, "dash": style.dash,
                     "lines": [f"{r.name} ({r.biz_id})", names.get(r.category, r.category),
                               f"{CHANGE_FA[change][0]}: {to}"]})
    if missing:
        notes.append(f"{f.ltr(missing)} کسب‌وکار «{CHANGE_FA[change][0]}» بی‌مختصات روی نقشه نیست")
    if rows:
        items, left = _arrows(pd.DataFrame(rows), MAX_ARROWS)
        layers.append({"kind": "arrows", "cls": style.cls, "show": True, "items": items, "left": left,
                       "name": style.name})


def _bounds(layers: list[dict[str, Any]], *, focus: bool) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of what the layers draw; with ``focus`` only of what changes
    (arrows, labelled estates and sites), so that the map opens on the story."""
    lat: list[float] = []
    lon: list[float] = []
    for lay in layers:
        if lay["kind"] == "geojson" and not focus:
            for ft in lay["features"]["features"]:
                b = shapely.bounds(shapely.geometry.shape(ft["geometry"]))
                lon += [b[0], b[2]]
                lat += [b[1], b[3]]
        for it in lay.get("items", []) + lay.get("points", []):
            if focus and lay["kind"] == "geojson" and not it[5]:
                continue
            lat.append(it[0])
            lon.append(it[1])
            if lay["kind"] == "arrows":
                lat.append(it[2])
                lon.append(it[3])
    ok = [(a, o) for a, o in zip(lat, lon) if np.isfinite(a) and np.isfinite(o)]
    if not ok:
        return None
    return [[min(a for a, _ in ok), min(o for _, o in ok)], [max(a for a, _ in ok), max(o for _, o in ok)]]


def map_data(cmp: Comparison, names: dict[str, str] | None = None) -> dict[str, Any]:
    """The map of a comparison as plain data for ``compare.js``.

    Returns
    -------
    dict
        ``bounds`` (``[[south, west], [north, east]]`` of what changes, else of everything; None when
        nothing has coordinates), ``layers``
        (each ``kind`` ``geojson`` with optional ``points``, ``arrows`` with ``items`` ``[lat0, lon0,
        lat1, lon1, width, colour, dashed, lines, businesses]`` or ``points`` with ``items`` ``[lat,
        lon, radius, colour, lines, label]``; ``cls`` is the CSS class of the drawn shapes, ``left``
        the businesses not drawn beyond :data:`MAX_ARROWS`), ``legend`` and ``notes``.
    """
    f = _Fmt(_persian_digits(cmp))
    names = names if names is not None else category_names(cmp)
    est, est_c, legend = _estates_layer(cmp, f)
    sites, site_arrows, site_c = _sites_layer(cmp, f, names)
    biz, notes = _business_layers(cmp, f, names, est_c, site_c)
    layers = [x for x in (est, sites) if x is not None]
    if site_arrows:
        layers.append({"kind": "arrows", "cls": "cp-site-moved", "show": True, "items": site_arrows, "left": 0,
                       "name": "جابه‌جایی سایت‌ها / sites moved"})
    layers += biz
    bounds = _bounds(layers, focus=True) or _bounds(layers, focus=False)
    lines = {"cp-moved": ("line", C_MOVED, "کسب‌وکارهایی که به شهرک دیگر می‌روند (پهنا: تعداد)",
                          "moved to another estate (width: number)"),
             "cp-new": ("line", C_NEW, "تازه جای‌گرفته: از محل کسب‌وکار به شهرک", "newly assigned"),
             "cp-site-changed": ("dash", C_SITE, "بی‌جا مانده‌ای که سایت پیشنهادی دیگری می‌پذیرد",
                                 "taken by another proposed site"),
             "cp-lost": ("dot", C_LOST, "تازه بی‌جا مانده (محل کسب‌وکار)", "newly unassigned"),
             "cp-site-moved": ("line", C_SITE_MOVED, "جابه‌جایی سایت پیشنهادی", "a proposed site moved")}
    present = {lay["cls"] for lay in layers}
    legend = [x for c, x in lines.items() if c in present] + legend
    if sites is not None:
        legend += [("ring", "#616161", "سایت پیشنهادی همان‌جا", "site kept"), ("ring", C_NEW, "سایت افزوده", "site added"),
                   ("ring", C_LOST, "سایت حذف‌شده (نقطه‌چین)", "site removed"),
                   ("ring", C_SITE_MOVED, "سایت جابه‌جا شده (جای پیشین نقطه‌چین)", "site moved")]
    for lay in layers:
        if lay.get("left"):
            notes.append(f"{f.ltr(lay['left'])} کسب‌وکار دیگر از «{lay['name'].split(' / ')[0]}» کشیده نشده است "
                         f"(بیش از {f.ltr(MAX_ARROWS)} پیکان؛ همه در moved.csv)")
    return {"bounds": bounds, "layers": layers, "legend": legend, "notes": notes}


# ------------------------------------------------------------------------------------------------
# the page
# ------------------------------------------------------------------------------------------------


def _bi(fa: str, en: str) -> Markup:
    """A bilingual label, Persian first, each part its own direction isolate (the separator between
    them in the page's right-to-left flow)."""
    return Markup('<span dir="rtl" lang="fa">{}</span><span class="en"> / <bdi dir="ltr" lang="en">{}</bdi></span>'
                  ).format(fa, en)


def _cell(v: Any, f: _Fmt) -> Markup:
    if isinstance(v, Markup):
        return Markup("<td>{}</td>").format(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return Markup('<td class="n"><bdi dir="ltr">{}</bdi></td>').format(f.num(v))
    return Markup('<td><bdi dir="auto">{}</bdi></td>').format("" if v is None else str(v))


def _table(rows: pd.DataFrame, heads: list[tuple[str, str]], f: _Fmt, *, csv: str, limit: int = MAX_ROWS) -> Markup:
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


def _tables(cmp: Comparison, f: _Fmt, names: dict[str, str]) -> dict[str, Markup]:
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
        "ra": [_reason_fa(r, fa, c) for r, fa, c in zip(mv["reason_a"], mv["reason_fa_a"], mv["reason_code_a"])],
        "rb": [_reason_fa(r, fa, c) for r, fa, c in zip(mv["reason_b"], mv["reason_fa_b"], mv["reason_code_b"])]}),
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
    f = _Fmt(_persian_digits(cmp))
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
