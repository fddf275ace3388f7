"""The map of the comparison page (:mod:`siteplan.outputs.compare_page`) as plain JSON data for
``compare.js``: estates coloured by the change of their intake, proposed sites kept, added, removed or
moved, and arrows for the businesses that change place. Strings are raw data: the script puts them on
the page as text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..report.words import codes_fa
from .compare_words import CHANGE_FA, SITE_FA, Fmt, business_reason_fa, category_names, persian_digits

if TYPE_CHECKING:
    from .compare import Comparison

__all__ = ["map_data", "MAX_ARROWS"]

#: arrows drawn per kind (the largest flows first); the rest are counted in the legend
MAX_ARROWS = 3000

#: colours (constants, never data)
C_MOVED, C_NEW, C_LOST, C_SITE, C_SITE_MOVED = "#6a3d9a", "#1b7837", "#c51b29", "#e08214", "#2166ac"
C_SAME = "#bdbdbd"
#: estates: fewer units (strong to light), unchanged, more units (light to strong)
EST_DOWN, EST_UP = ("#cb181d", "#fb6a4a", "#fcbba1"), ("#c7e9c0", "#74c476", "#238b45")


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


def _estates_layer(cmp: Comparison, f: Fmt) -> tuple[dict[str, Any] | None, dict[str, tuple[float, float]],
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
                      (f"زمین استفاده‌شده در A: {f.ltr(r['used_ha_a'], 'ha')}، در B: {f.ltr(r['used_ha_b'], 'ha')}، "
                      f"تغییر: {f.ltr(r['change_ha'], 'ha', signed=True)}")]
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


def _estate_legend(f: Fmt, bounds: list[int], top: int, seen: set[str]) -> list[tuple[str, str, str, str]]:
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
            legend.append(("box", EST_DOWN[2 - k], (f"شهرک با واحدهای کمتر: {f.ltr(-lo, signed=True)} تا "
                           f"{f.ltr(-hi, signed=True)}"), "fewer units"))
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


def _sites_layer(cmp: Comparison, f: Fmt, names: dict[str, str]) -> tuple[dict[str, Any] | None,
                                                                            list[list[Any]], dict[str, Any]]:
    """Sites kept, added, removed and moved (polygons and ≥ 16 px markers), the arrows of the moved ones,
    and B's site centres (for the arrows of businesses that another site takes)."""
    pa, pb = _site_polys(cmp.a.sites), _site_polys(cmp.b.sites)
    style = {"kept": ("#616161", "#9e9e9e", 0), "added": (C_NEW, C_NEW, 0), "removed": (C_LOST, C_LOST, 1),
             "moved": (C_SITE_MOVED, C_SITE_MOVED, 0)}
    geoms, props, points, arrows = [], [], [], []
    centres: dict[str, Any] = {}
    for r in cmp.sites.itertuples(index=False):
        fa, _en = SITE_FA.get(r.change, (r.change, r.change))
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
    f: Fmt
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


def _business_layers(cmp: Comparison, f: Fmt, names: dict[str, str], est_c: dict[str, tuple[float, float]],
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
                                 "کسب‌وکارهای تازه جای‌گرفته / newly assigned", to_site=False), layers, notes)
    b = mv[(mv["change"] == "site_changed") & (mv["site_id_b"] != "")]
    if len(b):
        _business_arrows(ms, _Arrows("site_changed", C_SITE, 1, "cp-site-changed",
                                     "بی‌جا مانده‌هایی که سایت دیگری می‌پذیرد / taken by another proposed site",
                                     to_site=True),
                         layers, notes)
    lost = mv[(mv["change"] == "newly_unassigned") & mv["lat"].notna() & mv["lon"].notna()]
    if len(lost):
        pts = [[round(float(r.lat), 6), round(float(r.lon), 6), 5, C_LOST,
                [f"{r.name} ({r.biz_id})", names.get(r.category, r.category), f"در A: {r.estate_id_a or r.site_id_a}",
                 f"در B بی‌جا: {business_reason_fa(r.reason_b, r.reason_fa_b, r.reason_code_b)}"], ""]
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
    f = Fmt(persian=persian_digits(cmp))
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
