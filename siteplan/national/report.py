"""The national summary page (``report.html`` of a national run), read in a minute.

It shows:

* a headline that never hides a failure (``29 of 31 provinces; Fars and Yazd failed: …``) and totals
  that say which provinces they cover;
* a map of the provinces shaded by the share of businesses placed, each with its name written on it
  (failed ones hatched and marked "failed"), the estates, the proposed sites, and the flows of
  relocated businesses from each province to the estates (line width by businesses; across a province
  border in another colour), with the categories as a layer switch;
* the provinces' table (totals row), the categories' table (totals row) and the flows between
  provinces, in Persian alphabetical order (:mod:`siteplan.national.collate`).

Security follows the provincial report's design: every value from the data (province names, the
scenario's name, categories, error messages) goes through :mod:`markupsafe`; the page has no script at
all (the layer switch is radio buttons and CSS), and its Content-Security-Policy allows only its own
stylesheet (by SHA-256 hash) and nothing from the network, so it works offline and an escaping mistake
could not run anything. Text direction is ``auto`` per cell and label, so Persian names read right to
left and mixed Persian/English names keep their order. No timing or date is written: the same run
gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import math
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from .gather import NationalFigures, read_stage_layer

__all__ = ["national_report", "FAILED_FILL", "EMPTY_FILL"]

_CSS = """
body{font-family:system-ui,"Vazirmatn",Tahoma,sans-serif;margin:1rem;color:#222;max-width:80rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .3rem}
.head{font-size:1.05rem;font-weight:600}.head.bad{color:#a00}.cover{color:#444}
table{border-collapse:collapse;margin-top:.4rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:start;unicode-bidi:plaintext}
td.n,th.n{text-align:end;font-variant-numeric:tabular-nums;unicode-bidi:isolate}
th{background:#f3f3f3;font-weight:600}tfoot td{font-weight:600;background:#f7f7f7}
tr.failed td{background:#fde8e8}.err{color:#a00;white-space:pre-wrap;max-width:40rem;unicode-bidi:plaintext}
.wide{overflow-x:auto;max-width:100%}
.map svg{border:1px solid #ddd;background:#f4f7fb;width:100%;max-width:760px;height:auto;display:block}
.map path.pv{stroke:#555;stroke-width:1;vector-effect:non-scaling-stroke}
.map text{font-size:14px;font-weight:600;fill:#111;stroke:#fff;stroke-width:3.5px;paint-order:stroke;
stroke-linejoin:round;text-anchor:middle;dominant-baseline:middle}
.map text.f{fill:#a00}.map line{stroke-linecap:round}.map .w{stroke:#1f5fa8;stroke-opacity:.75}
.map .x{stroke:#d9480f;stroke-opacity:.8}
.map path.pa{fill:none;stroke:#d9480f;stroke-opacity:.85;stroke-linecap:round}.map rect{fill:#333;stroke:#fff;stroke-width:.8}
.map polygon.site{fill:#f59f00;stroke:#7a4a00;stroke-width:1}
.switch input{position:absolute;opacity:0;width:1px;height:1px}
.switch label{display:inline-block;margin:0 .3rem .35rem 0;padding:.15rem .55rem;border:1px solid #999;
border-radius:1rem;cursor:pointer;font-size:.92rem;background:#fff}
.switch input:checked+label{background:#1f5fa8;color:#fff;border-color:#1f5fa8}
.switch input:focus-visible+label{outline:2px solid #d9480f}
.legend{font-size:.9rem;color:#444;max-width:760px}
.sw{display:inline-block;width:.9em;height:.9em;border:1px solid #555;vertical-align:middle}
.s0{background:hsl(0,60%,65%)}.s1{background:hsl(120,60%,65%)}.se{background:#ffffff}.sf{background:#cccccc}
.lw,.lx{display:inline-block;width:1.6em;height:.3em;vertical-align:middle}.lw{background:#8fafd4}.lx{background:#d9480f}
.code{color:#666;font-size:.85em}.le{display:inline-block;width:.55em;height:.55em;background:#333}.ls{color:#f59f00}
@media (max-width:700px){body{margin:.5rem}.map text{font-size:24px;stroke-width:5px}}
"""

#: map fill of a province whose run failed, and of one with no business to place (no share to shade)
FAILED_FILL, EMPTY_FILL = "#cccccc", "#ffffff"

#: the tables' column heads: English, Persian
_HEADS = {"province": ("province", "استان"), "report": ("report", "گزارش"), "status": ("status", "وضعیت"),
          "businesses": ("businesses", "واحدها"), "assigned": ("placed", "تخصیص‌یافته"),
          "unassigned": ("not placed", "بدون تخصیص"), "share_placed": ("% placed", "درصد تخصیص"),
          "land_ha": ("land (ha)", "زمین (هکتار)"), "mean_km": ("mean km", "میانگین فاصله (کیلومتر)"),
          "estates": ("estates", "شهرک‌ها"), "zones": ("zones", "پهنه‌ها"), "sites": ("proposed sites", "سایت‌های پیشنهادی"),
          "category": ("category", "رسته"), "origin": ("from province", "از استان"),
          "destination": ("to estates of", "به شهرک‌های استان")}


def _num(v: Any, digits: int = 2) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.{digits}f}"
    return str(v)


def _pct(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * float(v):.0f} %"


def _rtl(text: str) -> bool:
    """True when the first strong character of ``text`` is right-to-left (Persian, Arabic, Hebrew)."""
    for c in text:
        d = unicodedata.bidirectional(c)
        if d in ("R", "AL"):
            return True
        if d == "L":
            return False
    return False


def _th(key: str, *, num: bool = False) -> Markup:
    en, fa = _HEADS[key]
    return Markup('<th{}>{}<br><span lang="fa" dir="rtl">{}</span></th>').format(
        Markup(' class="n"') if num else Markup(""), en, fa)


class _Frame:
    """The map's projection: the national CRS's coordinates into the SVG's (y down)."""

    def __init__(self, polygons: gpd.GeoDataFrame, size: int) -> None:
        self.minx, self.miny, maxx, self.maxy = polygons.total_bounds
        span = max(maxx - self.minx, self.maxy - self.miny, 1.0)
        self.pad = 8
        self.scale = size / span
        self.w = int(np.ceil((maxx - self.minx) * self.scale)) + 2 * self.pad
        self.h = int(np.ceil((self.maxy - self.miny) * self.scale)) + 2 * self.pad
        self.crs = polygons.crs
        self.span = span

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.round((np.asarray(x) - self.minx) * self.scale + self.pad, 1),
                np.round((self.maxy - np.asarray(y)) * self.scale + self.pad, 1))

    def points(self, gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        if gdf.empty:
            return np.array([]), np.array([])
        pts = shapely.point_on_surface(gdf.to_crs(self.crs).geometry.values)
        return self.xy(shapely.get_x(pts), shapely.get_y(pts))


def _province_paths(fr: _Frame, polygons: gpd.GeoDataFrame, share: dict[str, float | None],
                    links: dict[str, str], failed: frozenset[str]) -> list[Markup]:
    geoms = shapely.simplify(polygons.geometry.values, fr.span / 500)
    out = []
    for key, g in zip(polygons["partition"].astype(str), geoms):
        d = []
        for poly in getattr(g, "geoms", [g]):
            if poly.is_empty or not hasattr(poly, "exterior"):
                continue
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px, py = fr.xy(xy[:, 0], xy[:, 1])
                d.append("M" + "L".join(f"{x:g} {y:g}" for x, y in zip(px, py)) + "Z")
        s = share.get(key)
        fill = ("url(#hatch)" if key in failed else EMPTY_FILL if s is None
                else f"hsl({round(120 * s)},60%,65%)")
        label = f"{key}: " + ("failed" if key in failed else "no business" if s is None else f"{100 * s:.0f} % placed")
        path = Markup('<path class="pv" d="{}" fill="{}"><title>{}</title></path>').format(" ".join(d), fill, label)
        folder = links.get(key)
        out.append(Markup('<a href="provinces/{}/report.html">{}</a>').format(folder, path) if folder else path)
    return out


def _province_arrows(sub: pd.DataFrame, at: dict[str, tuple[float, float]], top: int) -> list[Markup]:
    """Curved arrows from province to province (names' points) for the flows that cross a border, width
    by businesses (on the same scale as the lines to the estates)."""
    x = sub[sub["o"] != sub["d"]].groupby(["o", "d"], sort=True)["n"].sum().reset_index()
    out = []
    for r in x.sort_values("n", kind="stable").itertuples():
        if r.o not in at or r.d not in at:
            continue
        (x0, y0), (x1, y1) = at[r.o], at[r.d]
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1:
            continue
        cut = min(16.0, length / 4) / length  # stop short of the names: they stay readable
        x0, y0, x1, y1 = (round(v, 1) for v in (x0 + (x1 - x0) * cut, y0 + (y1 - y0) * cut,
                                                x1 - (x1 - x0) * cut, y1 - (y1 - y0) * cut))
        cx, cy = (x0 + x1) / 2 - (y1 - y0) * 0.2, (y0 + y1) / 2 + (x1 - x0) * 0.2  # bent to one side: A→B ≠ B→A
        w = round(1.5 + 9.0 * math.sqrt(r.n / top), 1)
        out.append(Markup('<path class="pa" d="M{:g} {:g}Q{:g} {:g} {:g} {:g}" stroke-width="{:g}" '
                          'marker-end="url(#arr)"><title>{} → {}: {} businesses</title></path>').format(
            x0, y0, round(cx, 1), round(cy, 1), x1, y1, w, r.o, r.d, f"{int(r.n):,}"))
    return out


def _flow_lines(fr: _Frame, flows: gpd.GeoDataFrame, cats: list[str],
                at: dict[str, tuple[float, float]] | None = None) -> list[Markup]:
    """The flows: one group for every category together, one per category (the layer switch shows one):
    lines from the businesses to the estates, and arrows between provinces (names' points ``at``)."""
    if flows.empty:
        return []
    out = []
    g = flows.to_crs(fr.crs)
    start = shapely.get_point(g.geometry.values, 0)
    end = shapely.get_point(g.geometry.values, -1)
    x0, y0 = fr.xy(shapely.get_x(start), shapely.get_y(start))
    x1, y1 = fr.xy(shapely.get_x(end), shapely.get_y(end))
    df = pd.DataFrame({"o": g["origin_province"].astype(str).to_numpy(),
                       "d": g["destination_province"].astype(str).to_numpy(), "e": g["estate_name"].astype(str),
                       "c": g["category"].astype(str).to_numpy(), "n": g["businesses"].astype(int).to_numpy(),
                       "x0": x0, "y0": y0, "x1": x1, "y1": y1})
    groups: list[tuple[str, pd.DataFrame]] = [("kall", df.groupby(["o", "d", "e"], sort=False).agg(
        n=("n", "sum"), x0=("x0", "first"), y0=("y0", "first"), x1=("x1", "first"), y1=("y1", "first")).reset_index())]
    for i, c in enumerate(cats):
        sub = df[df["c"] == c]
        if len(sub):
            groups.append((f"k{i}", sub))
    for cls, sub in groups:
        top = max(int(sub["n"].max()), 1)
        lines = []
        for r in sub.sort_values("n", kind="stable").itertuples():  # the big ones on top
            w = round(1.0 + 9.0 * math.sqrt(r.n / top), 1)
            kind = "w" if r.o == r.d else "x"
            lines.append(Markup('<line class="{}" x1="{:g}" y1="{:g}" x2="{:g}" y2="{:g}" stroke-width="{:g}">'
                                '<title>{} → {} ({}): {} businesses</title></line>').format(
                kind, r.x0, r.y0, r.x1, r.y1, w, r.o, r.e, r.d, f"{r.n:,}"))
        lines += _province_arrows(sub, at or {}, top)
        out.append(Markup('<g class="fl {}">').format(cls) + Markup("").join(lines) + Markup("</g>"))
    return out


def _markers(fr: _Frame, estates: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> list[Markup]:
    out = []
    ex, ey = fr.points(estates)
    names = estates["name"].astype(str).tolist() if "name" in estates.columns else [""] * len(estates)
    parts = estates["partition"].astype(str).tolist() if len(estates) else []
    out.append(Markup("<g>") + Markup("").join(
        Markup('<rect x="{:g}" y="{:g}" width="6" height="6"><title>{} ({})</title></rect>').format(
            x - 3, y - 3, n, p) for x, y, n, p in zip(ex, ey, names, parts)) + Markup("</g>"))
    sx, sy = fr.points(sites)
    sids = sites["site_id"].astype(str).tolist() if "site_id" in sites.columns else [""] * len(sites)
    sparts = sites["partition"].astype(str).tolist() if len(sites) else []
    out.append(Markup("<g>") + Markup("").join(
        Markup('<polygon class="site" points="{:g},{:g} {:g},{:g} {:g},{:g} {:g},{:g}"><title>proposed site {} ({})'
               '</title></polygon>').format(x, y - 7, x + 6, y, x, y + 7, x - 6, y, i, p)
        for x, y, i, p in zip(sx, sy, sids, sparts)) + Markup("</g>"))
    return out


def _labels(fr: _Frame, polygons: gpd.GeoDataFrame, failed: frozenset[str]) -> list[Markup]:
    pts = shapely.point_on_surface(polygons.geometry.values)
    xs, ys = fr.xy(shapely.get_x(pts), shapely.get_y(pts))
    out = []
    for key, x, y in zip(polygons["partition"].astype(str), xs, ys):
        d = "rtl" if _rtl(key) else "ltr"
        if key in failed:
            out.append(Markup('<text class="f" x="{:g}" y="{:g}" direction="{}" unicode-bidi="plaintext">{}'
                              '<tspan x="{:g}" dy="1.2em">✕ failed</tspan></text>').format(x, y, d, key, x))
        else:
            out.append(Markup('<text x="{:g}" y="{:g}" direction="{}" unicode-bidi="plaintext">{}</text>').format(
                x, y, d, key))
    return out


def _svg_map(polygons: gpd.GeoDataFrame, figs: NationalFigures, share: dict[str, float | None],
             links: dict[str, str], failed: frozenset[str], cats: list[str],
             places: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], size: int = 720) -> Markup:
    """The map (coordinates only numbers; every name escaped): provinces, flows, estates and sites
    (``places``), names."""
    estates, sites = places
    fr = _Frame(polygons, size)
    hatch = Markup('<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
                   'patternTransform="rotate(45)"><rect width="8" height="8" fill="#cccccc"/>'
                   '<line x1="0" y1="0" x2="0" y2="8" stroke="#a00" stroke-width="3"/></pattern>'
                   '<marker id="arr" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="4" markerHeight="4" '
                   'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#d9480f"/></marker></defs>')
    pts = shapely.point_on_surface(polygons.geometry.values)
    lx, ly = fr.xy(shapely.get_x(pts), shapely.get_y(pts))
    at = {k: (float(x), float(y)) for k, x, y in zip(polygons["partition"].astype(str), lx, ly)}
    body = (_province_paths(fr, polygons, share, links, failed) + _flow_lines(fr, figs.estate_flows, cats, at)
            + _markers(fr, estates, sites) + _labels(fr, polygons, failed))
    return (Markup('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
                   'aria-label="map of the provinces">').format(fr.w, fr.h, fr.w, fr.h)
            + hatch + Markup("").join(body) + Markup("</svg>"))


def _switch(cats: list[tuple[str, str]]) -> tuple[Markup, str]:
    """Radio buttons choosing the flows shown (all categories, or one), and the CSS that does it."""
    inputs = [Markup('<input type="radio" name="cat" id="kall" checked><label for="kall">flows: all categories</label>')]
    css = ["#kall:checked~.map .fl:not(.kall){display:none}"]
    for i, (code, fa) in enumerate(cats):
        inputs.append(Markup('<input type="radio" name="cat" id="k{}"><label for="k{}"><bdi>{}</bdi>{}</label>').format(
            i, i, fa or code, Markup(' <bdi class="code">{}</bdi>').format(code) if fa else ""))
        css.append(f"#k{i}:checked~.map .fl:not(.k{i}){{display:none}}")
    return Markup("").join(inputs), "\n".join(css) + "\n"


def _province_table(figs: NationalFigures, headline: str) -> Markup:
    p = figs.provinces
    cols = ("businesses", "assigned", "unassigned", "share_placed", "land_ha", "mean_km", "estates", "zones", "sites")
    head = Markup("").join([_th("province"), _th("status")] + [_th(c, num=True) for c in cols])
    rows = []
    for r in p.itertuples(index=False):
        name = (Markup('<a href="provinces/{}/report.html" dir="auto">{}</a>').format(r.folder, r.province)
                if r.folder else Markup('<span dir="auto">{}</span>').format(r.province))
        if r.status == "failed":
            listed = f" ({int(r.businesses_listed):,} businesses in its files, not counted)" if pd.notna(
                r.businesses_listed) else ""
            rows.append(Markup('<tr class="failed"><td>{}</td><td>failed</td><td colspan="{}" class="err" dir="auto">'
                               '{}{}</td></tr>').format(name, len(cols), r.error, listed))
            continue
        cells = [_num(getattr(r, c)) if c != "share_placed" else _pct(r.share_placed) for c in cols]
        rows.append(Markup("<tr><td>{}</td><td>{}</td>{}</tr>").format(
            name, r.status, Markup("").join(Markup('<td class="n">{}</td>').format(v) for v in cells)))
    ok = p[p["status"] != "failed"]
    tot = _totals(ok)
    foot = Markup('<tr><td colspan="2">Total: {}</td>{}</tr>').format(headline, Markup("").join(
        Markup('<td class="n">{}</td>').format(_pct(tot[c]) if c == "share_placed" else _num(tot[c])) for c in cols))
    return Markup('<div class="wide"><table><thead><tr>{}</tr></thead><tbody>\n{}\n</tbody><tfoot>{}</tfoot>'
                  '</table></div>').format(head, Markup("\n").join(rows), foot)


def _totals(df: pd.DataFrame) -> dict[str, Any]:
    """Sums (and the share and mean distance over every placed business) of figure rows."""
    tot: dict[str, Any] = {}
    for c in ("businesses", "assigned", "unassigned", "estates", "zones", "sites"):
        if c in df.columns:
            tot[c] = int(pd.to_numeric(df[c], errors="coerce").fillna(0).sum())
    tot["land_ha"] = round(float(pd.to_numeric(df["land_ha"], errors="coerce").fillna(0).sum()), 2)
    tot["share_placed"] = tot["assigned"] / tot["businesses"] if tot["businesses"] else None
    km = pd.to_numeric(df["mean_km"], errors="coerce")
    n = pd.to_numeric(df["assigned"], errors="coerce").fillna(0)
    tot["mean_km"] = round(float((km.fillna(0) * n).sum() / n[km.notna()].sum()), 3) if n[km.notna()].sum() else None
    return tot


def _category_table(figs: NationalFigures, cover: str) -> Markup:
    c = figs.categories
    cols = ("businesses", "assigned", "unassigned", "share_placed", "land_ha", "mean_km")
    head = Markup("").join([_th("category")] + [_th(k, num=True) for k in cols])
    rows = []
    for r in c.itertuples(index=False):
        name = (Markup('<span dir="auto">{}</span> <span dir="ltr">({})</span>').format(r.category_fa, r.category)
                if r.category else Markup("outside the scenario's categories or unclassified"))
        cells = [_pct(r.share_placed) if k == "share_placed" else _num(getattr(r, k)) for k in cols]
        rows.append(Markup("<tr><td>{}</td>{}</tr>").format(
            name, Markup("").join(Markup('<td class="n">{}</td>').format(v) for v in cells)))
    tot = _totals(c) if len(c) else dict.fromkeys(cols)
    foot = Markup("<tr><td>Total: {}</td>{}</tr>").format(cover, Markup("").join(
        Markup('<td class="n">{}</td>').format(_pct(tot[k]) if k == "share_placed" else _num(tot[k])) for k in cols))
    return Markup('<div class="wide"><table><thead><tr>{}</tr></thead><tbody>\n{}\n</tbody><tfoot>{}</tfoot>'
                  '</table></div>').format(head, Markup("\n").join(rows), foot)


def _flows_table(figs: NationalFigures) -> Markup:
    f = figs.flows
    within = f[f["origin_province"] == f["destination_province"]]
    across = f[f["origin_province"] != f["destination_province"]]
    n_in, n_x = int(within["businesses"].sum()), int(across["businesses"].sum())
    text = Markup("<p>{} businesses relocated within their own province, {} to an estate of another.").format(
        _num(n_in), _num(n_x))
    if across.empty:
        return text + Markup(" No flow crosses a province border (with closed borders none can).</p>")
    head = Markup("").join([_th("origin"), _th("destination"), _th("businesses", num=True), _th("land_ha", num=True)])
    rows = Markup("\n").join(Markup('<tr><td dir="auto">{}</td><td dir="auto">{}</td><td class="n">{}</td>'
                                    '<td class="n">{}</td></tr>').format(r.origin_province, r.destination_province,
                                                                         _num(int(r.businesses)), _num(r.land_ha))
                             for r in across.itertuples(index=False))
    return text + Markup('</p><div class="wide"><table><thead><tr>{}</tr></thead><tbody>\n{}\n</tbody></table>'
                         '</div>').format(head, rows)


def _headline(figs: NationalFigures) -> tuple[Markup, str]:
    """The headline (``3 of 4 provinces; NE failed: …``) and what the totals cover."""
    p = figs.provinces
    failed = p[p["status"] == "failed"]
    n, k = len(p), len(p) - len(failed)
    cover = f"{k} of {n} provinces"
    if failed.empty:
        return Markup('<p class="head">{} provinces, all computed.</p>').format(n), cover
    names = failed["province"].tolist()
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    if len(names) == 1:
        errors = Markup("{}").format(_first_line(failed["error"].iloc[0]))
    else:
        errors = Markup("; ").join(Markup('<span dir="auto">{}</span>: {}').format(r.province, _first_line(r.error))
                                   for r in failed.itertuples(index=False))
    return Markup('<p class="head bad">{}; {} failed: {}</p>').format(cover, joined, errors), cover


def _first_line(error: str) -> str:
    lines = [s.strip() for s in str(error).splitlines() if s.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}" + (" …" if len(lines) > 2 else "")
    return lines[0] if lines else ""


def national_report(name: str, polygons: gpd.GeoDataFrame, path: Path, figs: NationalFigures) -> None:
    """Write the national summary page.

    Parameters
    ----------
    name
        The national scenario's name.
    polygons
        The partitions (``partition``, geometry) in the working CRS.
    path
        The page to write (its folder holds the gathered ``estates.geojson`` and ``sites.geojson``).
    figs
        The national figures (:func:`siteplan.national.gather.national_figures`).
    """
    p = figs.provinces
    share = {str(r.province): (None if r.status == "failed" or not r.businesses else float(r.assigned) / r.businesses)
             for r in p.itertuples(index=False)}
    links = {str(r.province): str(r.folder) for r in p.itertuples(index=False) if r.folder}
    failed = frozenset(p.loc[p["status"] == "failed", "province"].astype(str))
    cats = [(str(c), str(f)) for c, f in zip(figs.categories["category"], figs.categories["category_fa"]) if c]
    headline, cover = _headline(figs)
    ok = p[p["status"] != "failed"]
    tot = _totals(ok)
    lost = p.loc[p["status"] == "failed", "businesses_listed"]
    cover_text = Markup('<p class="cover">Totals cover {}: {} businesses, {} placed ({}, {} ha), {} not placed; '
                        '{} estates, {} proposed sites.{}</p>').format(
        cover, _num(tot["businesses"]), _num(tot["assigned"]), _pct(tot["share_placed"]), _num(tot["land_ha"]),
        _num(tot["unassigned"]), _num(tot["estates"]), _num(tot["sites"]),
        Markup(" The failed provinces ({} businesses in their files) are not in them.").format(
            _num(int(pd.to_numeric(lost, errors="coerce").fillna(0).sum()))) if len(lost) else "")
    switch, switch_css = _switch(cats)
    css = _CSS + switch_css
    css_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{css_hash}'; img-src 'self'; base-uri 'none'; form-action 'none'"
    svg = _svg_map(polygons, figs, share, links, failed, [c for c, _ in cats],
                   (read_stage_layer(path.parent, "estates.geojson"), read_stage_layer(path.parent, "sites.geojson")))
    legend = Markup(
        '<p class="legend">Shading: share of the businesses placed, <span class="sw s0"></span> 0 % to '
        '<span class="sw s1"></span> 100 %; <span class="sw se"></span> no business; <span class="sw sf"></span> '
        'failed (hatched). <span class="le"></span> estate, <span class="ls">◆</span> proposed site; '
        '<span class="lw"></span> businesses relocated within their province, <span class="lx"></span> to an estate '
        'of another province (line width by businesses, from where they are on average to the estate; the curved '
        'arrows join the provinces\' names, from the businesses\' province to the estates\'). '
        'Each province links its report.</p>')
    page = Markup(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="{}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{}</title><style>{}</style></head>\n<body><h1 dir="auto">{}</h1>{}{}'
        '<div class="switch">{}<div class="map">{}</div></div>{}'
        '<h2>Provinces <span lang="fa" dir="rtl">(استان‌ها)</span></h2>{}'
        '<h2>Categories <span lang="fa" dir="rtl">(رسته‌ها)</span></h2>{}'
        '<h2>Between provinces <span lang="fa" dir="rtl">(جابه‌جایی میان استان‌ها)</span></h2>{}'
        '<p class="legend">Files: provinces.csv (these figures), province_flows.csv (every origin and destination '
        'province), national.gpkg (layers provinces, flows, sites, estates, zones, relocation).</p>'
        '</body></html>\n'
    ).format(csp, name, Markup(css), name, headline, cover_text, switch, svg, legend,
             _province_table(figs, cover), _category_table(figs, cover), _flows_table(figs))
    path.write_text(str(page), encoding="utf-8")
