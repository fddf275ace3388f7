"""The HTML map report (Folium): layers, legends, popups, summary tables, method and sources.

Every string that comes from the data is HTML-escaped before it reaches the page (names, ids,
categories, reasons), so a name such as ``<img src=x onerror=alert(1)>`` shows as text and runs
nothing. Persian text is laid out right-to-left.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from rasterio.warp import Resampling, calculate_default_transform, reproject

from ._io import atomic_path
from .export import to_rfc7946
from .textnorm import has_persian

if TYPE_CHECKING:
    from .pipeline import RunResult

__all__ = ["build_report", "esc"]

PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
           "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#aaffc3", "#808000",
           "#000075", "#808080"]
ENV_COLOURS = {"1": "#1a9850", "2": "#91cf60", "3.1": "#d9ef8b", "3.2": "#fee08b", "4.1": "#fc8d59",
               "4.2": "#f46d43", "5.1": "#d73027", "5.2": "#a50026", "5.3": "#67001f", "6": "#40004b"}
VIRIDIS = np.array([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
                    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], float)


def offline_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (images inlined as data URIs), from the ``django-js-lib-leaflet``
    package installed with siteplan, so the report needs no network at view time."""
    import base64
    import re
    from importlib import resources

    root = resources.files("js_lib_leaflet").joinpath("static/js_lib_leaflet")
    js = root.joinpath("leaflet.js").read_text(encoding="utf-8")
    css = root.joinpath("leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match[str]) -> str:
        data = root.joinpath(m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\((images/[\w\-.]+\.png)\)", inline, css)
    js = js.replace("</script", "<\\/script")  # cannot close the inline script early
    return js, css


class _PointLayer(MacroElement):
    """Businesses as circle markers on the canvas renderer, from a compact array (fast for thousands).
    Labels are escaped in Python; Leaflet renders them as HTML, so they show as text."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var rows = {{ this.data }};
            var colours = {{ this.colours }};
            var renderer = L.canvas({padding: 0.5});
            var group = L.featureGroup();
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                L.circleMarker([r[0], r[1]], {renderer: renderer, radius: r[4] || 3, weight: 1,
                    color: colours[r[2]], fillColor: colours[r[2]], fillOpacity: 0.8})
                    .bindTooltip(r[3]).addTo(group);
            }
            return group;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, data: list[list[Any]], colours: list[str]) -> None:
        super().__init__()
        self._name = "PointLayer"
        self.data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.colours = json.dumps(colours)


def esc(v: Any) -> str:
    """HTML-escape any value for the page (None and NaN give an empty string)."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    return html.escape(str(v), quote=True)


def _txt(v: Any) -> str:
    """Escaped text, wrapped right-to-left when it is Persian."""
    s = esc(v)
    return f'<span dir="rtl">{s}</span>' if has_persian(v) else s


def _gj(gdf: gpd.GeoDataFrame, props: dict[str, list[Any]], simplify_m: float = 0.0) -> dict[str, Any]:
    """A GeoJSON dict (EPSG:4326) with escaped string properties."""
    geoms = gdf.geometry.values
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    # display precision: 6 decimals (about 0.1 m) is plenty on screen and keeps the page small
    g4 = shapely.transform(to_rfc7946(geoms, gdf.crs), lambda c: np.round(c, 6))
    feats = []
    for i, g in enumerate(g4):
        p = {}
        for k, vals in props.items():
            v = vals[i]
            p[k] = v if isinstance(v, (int, float, bool)) and not isinstance(v, np.generic) else (
                float(v) if isinstance(v, np.floating) else int(v) if isinstance(v, np.integer) else esc(v) if k != "popup" else v)
        feats.append({"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def _colour_ramp(a: np.ndarray) -> np.ndarray:
    """RGBA image of values in [0, 1] (viridis), NaN transparent."""
    t = np.clip(np.nan_to_num(a, nan=0.0), 0, 1) * (len(VIRIDIS) - 1)
    i = np.floor(t).astype(int).clip(0, len(VIRIDIS) - 2)
    f = (t - i)[..., None]
    rgb = VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f
    alpha = np.where(np.isnan(a), 0, 40 + 180 * np.clip(np.nan_to_num(a), 0, 1))[..., None]
    return np.concatenate([rgb, alpha], axis=-1).astype(np.uint8)


def _overlay(res: "RunResult", code: str, max_px: int = 320) -> tuple[np.ndarray, list[list[float]]]:
    grid = res.prep.grid
    src = res.prep.surfaces[code].masked
    dst_crs = "EPSG:4326"
    left, top = grid.transform.c, grid.transform.f
    right, bottom = left + grid.width * grid.res, top - grid.height * grid.res
    scale = max(grid.width, grid.height) / max_px
    w = max(int(grid.width / max(scale, 1)), 1)
    h = max(int(grid.height / max(scale, 1)), 1)
    tr, w2, h2 = calculate_default_transform(grid.crs, dst_crs, grid.width, grid.height, left, bottom, right, top,
                                             dst_width=w, dst_height=h)
    out = np.full((h2, w2), np.nan, dtype=np.float32)
    reproject(src, out, src_transform=grid.transform, src_crs=grid.crs, dst_transform=tr, dst_crs=dst_crs,
              resampling=Resampling.average, src_nodata=np.nan, dst_nodata=np.nan)
    bounds = [[tr.f + h2 * tr.e, tr.c], [tr.f, tr.c + w2 * tr.a]]
    return _colour_ramp(out), bounds


def _svg_curve(spec: Any) -> str:
    """A small inline SVG of a criterion's transform curve."""
    from .criteria import transform

    pts = [p for p in spec.transform.points] or [0.0, 1.0]
    lo, hi = (min(pts), max(pts)) if len(pts) > 1 else (pts[0] - 1, pts[0] + 1)
    pad = (hi - lo) * 0.2 or 1.0
    x = np.linspace(lo - pad, hi + pad, 60)
    try:
        y = transform(x, spec.transform)
    except Exception:  # categorical or invalid: no curve
        return ""
    px = (x - x[0]) / (x[-1] - x[0]) * 110 + 5
    py = 35 - np.nan_to_num(y) * 30
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
    return (f'<svg width="120" height="40" role="img" aria-label="transform curve"><rect x="5" y="5" width="110" '
            f'height="30" fill="#f4f4f4"/><polyline fill="none" stroke="#3366cc" stroke-width="2" points="{path}"/>'
            f'<text x="5" y="40" font-size="7">{lo - pad:g}</text><text x="85" y="40" font-size="7">{hi + pad:g}</text></svg>')


def _table(headers: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="sp"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _sources(res: "RunResult") -> list[str]:
    out = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        if "source" in gdf:
            for s, n in sorted(Counter(gdf["source"].dropna()).items()):
                out.append(f"<b>{esc(name)}</b> ({n}): {esc(s)}")
    return out


_LICENCES = {"geonames": "GeoNames (CC-BY 4.0)", "openstreetmap": "© OpenStreetMap contributors (ODbL)",
             "natural earth": "Natural Earth"}


def _attribution(res: "RunResult") -> str:
    """One line naming the data sources that need attribution and the layers that are generated."""
    credits: dict[str, list[str]] = {}
    generated = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        srcs = set(gdf["source"].dropna()) if "source" in gdf else set()
        if srcs and all(s.lower().startswith("generated") for s in srcs):
            generated.append(name)
        for s in srcs:
            for key, lic in _LICENCES.items():
                if key in s.lower():
                    credits.setdefault(lic, []).append(name)
    parts = [f"{lic} ({', '.join(v)})" for lic, v in sorted(credits.items())]
    if generated:
        parts.append(f"generated, synthetic: {', '.join(generated)}")
    return "siteplan · data: " + (" · ".join(parts) if parts else "the scenario's own layers")


def build_report(res: "RunResult", path: str | Path) -> None:
    """Write the HTML map report of a run.

    Parameters
    ----------
    res
        A finished :class:`~siteplan.pipeline.RunResult`.
    path
        Target ``report.html``.
    """
    prep = res.prep
    layers = prep.region.layers
    cat = prep.catalogue.table.set_index("code")
    sa = gpd.GeoSeries([prep.region.study_area], crs=prep.region.crs).to_crs(4326).iloc[0]
    c = sa.centroid
    m = folium.Map(location=[c.y, c.x], zoom_start=8, tiles=None, control_scale=True, prefer_canvas=True)
    m.default_js, m.default_css = [], []  # no CDN: Leaflet is embedded below
    minx, miny, maxx, maxy = sa.bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", show=False, overlay=False,
                     attr="© OpenStreetMap contributors (ODbL)").add_to(m)
    blank = folium.raster_layers.TileLayer(tiles="", name="No base map (offline)", attr=esc(_attribution(res)),
                                           overlay=False, show=True)
    blank.add_to(m)

    # study area
    fg = folium.FeatureGroup(name="Study area / محدوده مطالعه", show=True)
    folium.GeoJson(_gj(gpd.GeoDataFrame(geometry=[prep.region.study_area], crs=prep.region.crs), {}),
                   style_function=lambda f: {"color": "#444", "weight": 1, "fill": False, "dashArray": "4"}).add_to(fg)
    fg.add_to(m)

    # urban areas by population
    urban = layers["urban"]
    pop = urban["population"].fillna(0).to_numpy() if "population" in urban else np.zeros(len(urban))
    fg = folium.FeatureGroup(name="Urban areas / مناطق شهری", show=True)
    folium.GeoJson(
        _gj(urban, {"name": urban["name"].tolist(), "population": [int(p) for p in pop],
                    "shade": [float(min(1.0, np.log10(max(p, 1)) / 6.5)) for p in pop]}, simplify_m=20),
        style_function=lambda f: {"color": "#b2182b", "weight": 0.5, "fillColor": "#ef8a62",
                                  "fillOpacity": 0.15 + 0.5 * f["properties"]["shade"]},
        tooltip=folium.GeoJsonTooltip(fields=["name", "population"], aliases=["name / نام", "population / جمعیت"]),
    ).add_to(fg)
    fg.add_to(m)

    # constraints / excluded areas
    cons = layers.get("constraints")
    if cons is not None:
        fg = folium.FeatureGroup(name="Excluded areas / مناطق ممنوع", show=True)
        buf = cons.copy()
        b = buf["buffer_m"].fillna(0).to_numpy() if "buffer_m" in buf else np.zeros(len(buf))
        buf["geometry"] = shapely.buffer(buf.geometry.values, np.maximum(b, 1.0))
        folium.GeoJson(_gj(buf, {"kind": buf["kind"].tolist(), "name": buf.get("name", buf["kind"]).tolist(),
                                 "buffer_m": [float(x) for x in b]}, simplify_m=50),
                       style_function=lambda f: {"color": "#762a83", "weight": 1, "fillColor": "#762a83",
                                                 "fillOpacity": 0.25},
                       tooltip=folium.GeoJsonTooltip(fields=["kind", "name", "buffer_m"])).add_to(fg)
        fg.add_to(m)

    # suitability overlays
    for k, code in enumerate(prep.codes):
        img, bounds = _overlay(res, code)
        folium.raster_layers.ImageOverlay(img, bounds=bounds, name=f"Suitability: {esc(code)}", opacity=0.7,
                                          show=False, mercator_project=True).add_to(m)

    # estates: coloured by capacity used, popup with ranks and eligibility
    est = layers["estates"]
    summ = res.plan.estate_summary.groupby("estate_id").agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"))
    ranks = res.ranks
    by_estate = {k: g for k, g in ranks.groupby("estate_id", sort=False)}
    popups, used_share = [], []
    for e in est.itertuples():
        cap = float(summ.loc[e.estate_id, "cap"]) if e.estate_id in summ.index else 0.0
        used = float(summ.loc[e.estate_id, "used"]) if e.estate_id in summ.index else 0.0
        used_share.append(used / cap if cap > 0 else 1.0)
        r = by_estate.get(e.estate_id, ranks.iloc[:0])
        ok = r[r.eligible]
        rows = [[esc(x.category), esc(f"{x.score:.2f}") if pd.notna(x.score) else "",
                 esc(x.rank) if pd.notna(x.rank) else ""] for x in ok.itertuples()]
        no = Counter(r.loc[~r.eligible, "reason"])
        why = "".join(f"<li>{esc(k)}: {', '.join(esc(c) for c in r.loc[(~r.eligible) & (r.reason == k), 'category'])}</li>"
                      for k in sorted(no))
        popups.append(
            f'<div class="pop"><b>{_txt(e.name)}</b> <small>({esc(e.estate_id)}, {esc(getattr(e, "kind", ""))})</small><br>'
            f'<span>capacity / ظرفیت {cap / 1e4:.1f} ha</span> · <span>used / استفاده {used / 1e4:.1f} ha</span> · '
            f'<span>left / باقی {max(cap - used, 0) / 1e4:.1f} ha</span>'
            + _table(["eligible category", "score", "rank"], rows)
            + (f"<div>not eligible / غیرمجاز:<ul>{why}</ul></div>" if why else "") + "</div>")
    fg = folium.FeatureGroup(name="Estates / شهرک‌ها", show=True)
    if len(est):
        folium.GeoJson(
            _gj(est, {"estate_id": est["estate_id"].tolist(), "name": est["name"].tolist(),
                      "used": [round(u, 3) for u in used_share], "popup": popups}, simplify_m=2.0),
            style_function=lambda f: {"color": "#000", "weight": 1.5,
                                      "fillColor": "#d73027" if f["properties"]["used"] > 0.9 else
                                      "#fc8d59" if f["properties"]["used"] > 0.5 else "#1a9850",
                                      "fillOpacity": 0.6},
            tooltip=folium.GeoJsonTooltip(fields=["estate_id", "name"], aliases=["id", "name / نام"]),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=520),
        ).add_to(fg)
    fg.add_to(m)

    # zones by environmental category
    if len(res.zones):
        z = res.zones
        est_name = dict(zip(est["estate_id"], est["name"]))
        zpop = [f'<div class="pop"><b>{_txt(est_name.get(r.estate_id, ""))}</b> <small>({esc(r.estate_id)})</small><br>'
                f'zone / زون {esc(r.zone_id)}: {_txt(cat.loc[r.category, "name_fa"])} ({esc(r.category)}), '
                f'env. category {esc(r.env_cat)}, {r.area_ha:.2f} ha, {int(r.units)} units, '
                f'{esc(r.min_home_m)} m from homes</div>' for r in z.itertuples()]
        fg = folium.FeatureGroup(name="Zones / زون‌های تخصصی", show=True)
        folium.GeoJson(
            _gj(z, {"zone_id": z["zone_id"].tolist(), "category": z["category"].tolist(),
                    "env_cat": z["env_cat"].astype(str).tolist(), "area_ha": z["area_ha"].astype(float).tolist(),
                    "units": z["units"].astype(int).tolist(), "popup": zpop}, simplify_m=2.0),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420),
            style_function=lambda f: {"color": "#333", "weight": 0.5, "fillOpacity": 0.8,
                                      "fillColor": ENV_COLOURS.get(f["properties"]["env_cat"], "#999")},
            tooltip=folium.GeoJsonTooltip(fields=["zone_id", "category", "env_cat", "area_ha", "units"]),
        ).add_to(fg)
        fg.add_to(m)

    # proposed sites
    if len(res.sites):
        s = res.sites
        fg = folium.FeatureGroup(name="Proposed sites / سایت‌های پیشنهادی", show=True)
        folium.GeoJson(
            _gj(s, {k: (s[k].astype(float).tolist() if s[k].dtype.kind in "fi" else s[k].tolist())
                    for k in ("site_id", "categories", "area_ha", "score", "rank", "units", "trunk_km", "extend",
                              "pop_reach")}),
            style_function=lambda f: {"color": "#08519c", "weight": 2, "fillColor": "#6baed6", "fillOpacity": 0.5},
            tooltip=folium.GeoJsonTooltip(fields=["site_id", "categories", "area_ha", "score", "rank", "units",
                                                  "trunk_km", "extend", "pop_reach"]),
        ).add_to(fg)
        fg.add_to(m)

    # clusters
    if len(res.clusters):
        cl = res.clusters
        fg = folium.FeatureGroup(name="Business clusters / خوشه‌های کسب‌وکار", show=False)
        folium.GeoJson(_gj(cl, {"cluster_id": cl["cluster_id"].tolist(), "members": cl["members"].astype(int).tolist(),
                                "categories": cl["categories"].tolist()}, simplify_m=10.0),
                       style_function=lambda f: {"color": "#006d2c", "weight": 1, "fillOpacity": 0.2},
                       tooltip=folium.GeoJsonTooltip(fields=["cluster_id", "members", "categories"])).add_to(fg)
        fg.add_to(m)

    # relocation flows aggregated per origin settlement and estate
    rows = res.plan.rows
    assigned = rows[rows.status == "assigned"]
    biz = prep.businesses.set_index("biz_id").loc[assigned.biz_id]
    if len(assigned):
        tree = shapely.STRtree(urban.geometry.values)
        oi = tree.query_nearest(biz.geometry.values, all_matches=False)[1]
        flows = pd.DataFrame({"o": oi, "e": assigned.estate_id.to_numpy()}).groupby(["o", "e"]).size().reset_index(name="n")
        ucen = gpd.GeoSeries(urban.geometry.centroid.values, crs=urban.crs).to_crs(4326)
        ecen = gpd.GeoSeries(est.geometry.centroid.values, crs=est.crs).to_crs(4326)
        epos = {e: k for k, e in enumerate(est.estate_id)}
        fg = folium.FeatureGroup(name="Relocation flows / جریان جابجایی", show=True)
        for r in flows.itertuples():
            a, b2 = ucen.iloc[int(r.o)], ecen.iloc[epos[r.e]]
            folium.PolyLine([[a.y, a.x], [b2.y, b2.x]], weight=float(1 + 1.5 * np.log1p(r.n)), color="#2166ac",
                            opacity=0.6, tooltip=f"{esc(urban['name'].iat[int(r.o)])} → {esc(r.e)}: {int(r.n)}").add_to(fg)
        fg.add_to(m)

    # businesses coloured by category (canvas markers; aggregated to 1 km cells beyond 20,000)
    codes = list(cat.index)
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(codes)}
    palette = [colour[c] for c in codes] + ["#000000"]
    idx = {c: i for i, c in enumerate(codes)}
    biz = prep.businesses
    cats = [idx.get(cc, len(codes)) if isinstance(cc, str) else len(codes) for cc in biz["category"]]
    b4 = gpd.GeoSeries(biz.geometry.values, crs=prep.region.crs).to_crs(4326)
    if len(biz) <= 20000:
        names = biz["name"].tolist() if "name" in biz else [""] * len(biz)
        data = [[round(p.y, 6), round(p.x, 6), k, esc(n) + " · " + esc(codes[k] if k < len(codes) else "unclassified")]
                for p, n, k in zip(b4, names, cats)]
    else:
        cell = (np.floor(biz.geometry.x.to_numpy() / 1000).astype(np.int64),
                np.floor(biz.geometry.y.to_numpy() / 1000).astype(np.int64))
        df = pd.DataFrame({"cx": cell[0], "cy": cell[1], "k": cats, "lat": b4.y.to_numpy(), "lon": b4.x.to_numpy()})
        agg = df.groupby(["cx", "cy"]).agg(lat=("lat", "mean"), lon=("lon", "mean"), n=("k", "size"),
                                           k=("k", lambda s: int(s.mode().iloc[0]))).reset_index()
        data = [[round(r.lat, 6), round(r.lon, 6), int(r.k), f"{int(r.n)} businesses (mostly "
                 f"{esc(codes[int(r.k)] if r.k < len(codes) else 'unclassified')})", float(2 + 2 * np.log1p(r.n))]
                for r in agg.itertuples()]
    fg = folium.FeatureGroup(name="Businesses / کسب‌وکارها", show=False)
    _PointLayer(data, palette).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)

    m.get_root().html.add_child(folium.Element(_panel(res, colour)))
    js, css = offline_assets()
    m.get_root().header.add_child(folium.Element(f"<style>{css}</style>\n<script>{js}</script>"))
    m.get_root().header.add_child(folium.Element(f"<style>{_CSS}</style>"))
    m.get_root().header.add_child(folium.Element('<meta charset="utf-8">'))
    page = m.get_root().render()
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


_CSS = """
#sp-panel{position:fixed;top:10px;left:50px;z-index:1000;width:400px;max-width:40vw;max-height:70vh;overflow:auto;
background:rgba(255,255,255,.96);padding:8px 12px;font:12px/1.4 Tahoma,'Vazirmatn',sans-serif;
box-shadow:0 0 6px rgba(0,0,0,.3);border-radius:6px}
#sp-panel h2{font-size:15px;margin:4px 0}#sp-panel h3{font-size:13px;margin:10px 0 4px;border-bottom:1px solid #ccc}
table.sp{border-collapse:collapse;width:100%;font-size:11px}table.sp td,table.sp th{border:1px solid #ddd;padding:2px 4px;text-align:start}
.pop{max-height:320px;overflow:auto}.legend span{display:inline-block;width:12px;height:12px;margin:0 3px;vertical-align:middle}
[dir=rtl]{unicode-bidi:isolate}
#sp-panel details>summary{cursor:pointer;font-weight:bold}
"""


def _aggregation_text(sc: Any) -> str:
    if sc.aggregation.method != "owa":
        return "weighted linear combination"
    from .suitability import orness, owa_tradeoff

    ow = np.asarray(sc.aggregation.order_weights, dtype=float)
    ow = ow / ow.sum()
    return (f"ordered weighted average (order weights {esc([round(float(x), 3) for x in ow])}, ORness "
            f"{orness(ow):.2f}, trade-off {owa_tradeoff(ow):.2f})")


def _panel(res: "RunResult", colour: dict[str, str]) -> str:
    prep = res.prep
    cat = prep.catalogue.table.set_index("code")
    rows = res.plan.rows
    tot = len(rows)
    n_as = int((rows.status == "assigned").sum())
    # per category
    crow = []
    for code in prep.codes:
        r = rows[rows.category == code]
        un = r[r.status == "unassigned"]
        why = "; ".join(f"{esc(k)} ({v})" for k, v in Counter(x.split(" (")[0] for x in un.reason).most_common(2))
        crow.append([f'<span class="legend"><span style="background:{colour[code]}"></span></span>{_txt(cat.loc[code, "name_fa"])}'
                     f'<br><small>{esc(cat.loc[code, "name_en"])}</small>', esc(cat.loc[code, "env_cat"]),
                     str(len(r)), f"{r.land_m2.sum() / 1e4:.1f}", str(int((r.status == 'assigned').sum())),
                     str(len(un)), why])
    un_cls = rows[rows.category.isna()]
    if len(un_cls):
        crow.append(["unclassified / طبقه‌بندی‌نشده", "", str(len(un_cls)), "", "0", str(len(un_cls)),
                     "unclassified"])
    # per estate
    summ = res.plan.estate_summary.groupby("estate_id").agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"),
                                                            units=("units", "sum"), src=("capacity_from", "first"))
    est = prep.region.layers["estates"].set_index("estate_id")
    erow = [[esc(e), _txt(est.loc[e, "name"]), esc(est.loc[e, "kind"]) if "kind" in est else "",
             f"{s.cap / 1e4:.1f}", f"{s.used / 1e4:.1f}", f"{max(s.cap - s.used, 0) / 1e4:.1f}", str(int(s.units)),
             esc(s.src)] for e, s in summ.iterrows()]
    # method
    mrow = []
    for cl in prep.crit:
        sp = cl.spec
        ws = sorted({round(s.weights.get(sp.name, 0), 3) for s in prep.surfaces.values() if sp.name in s.weights})
        mrow.append([esc(sp.name), esc(f"{sp.kind} of {sp.layer}"), esc(f"{sp.transform.type} {sp.transform.points}"
                     + ("" if sp.transform.increasing else " (decreasing)")), _svg_curve(sp), esc(", ".join(map(str, ws)))])
    cr_txt = ""
    if prep.scenario.weights.method == "ahp" and prep.scenario.weights.matrix is not None:
        from .weights import ahp

        r = ahp(prep.scenario.weights.matrix, ri_table=prep.scenario.weights.ri_table,
                threshold=prep.scenario.weights.cr_threshold)
        cr_txt = (f"<p>AHP consistency ratio {r.cr:.3f} (λmax {r.lambda_max:.3f}, random index table "
                  f"{esc(r.ri_table)}; threshold {prep.scenario.weights.cr_threshold:g}).</p>")
    sol = res.plan.solver
    rob = res.ranks[res.ranks["rank"] == 1]
    rob_txt = ", ".join(f"{esc(r.category)}: {esc(r.estate_id)} p={r.p_rank:.2f}"
                        + (f" (ranks {esc(r.oat_ranks)} when one weight moves ±50 %)" if r.oat_ranks else "")
                        for r in rob.itertuples() if pd.notna(r.p_rank))
    srow = [[esc(s.site_id), esc(s.categories), f"{s.area_ha:.1f}", f"{s.score:.2f}", esc(s.units),
             esc(s.trunk_km), esc(s.extend), esc(s.pop_reach)] for s in res.sites.itertuples()]
    warn = "".join(f"<li>{_txt(w)}</li>" for w in res.warnings[:40])
    more = f"<li>… {len(res.warnings) - 40} more in manifest.json</li>" if len(res.warnings) > 40 else ""
    rules_rows = []
    for code in prep.codes:
        for r in prep.rules[code]:
            if r.category == code and (r.rule_id.startswith("VNG") or r.rule_id.startswith("DOE")):
                rules_rows.append([esc(code), esc(r.rule_id), esc(f"{r.min_m:g} m"), esc(r.status)])
    src = "".join(f"<li>{s}</li>" for s in _sources(res))
    return f"""
<div id="sp-panel" lang="fa-IR">
<h2>siteplan — {esc(prep.scenario.name)}</h2>
<div dir="rtl">گزارش جابجایی اصناف مزاحم و پهنه‌بندی شهرک‌ها</div>
<p>{tot} businesses / کسب‌وکار · {n_as} assigned / تخصیص‌یافته · {tot - n_as} unassigned / بدون تخصیص ·
{len(res.zones)} zones · {len(res.sites)} proposed sites · {len(res.clusters)} clusters</p>
<details open><summary>Categories / اصناف</summary>
{_table(["category / صنف", "env", "units", "land ha", "assigned", "unassigned", "why unassigned"], crow)}</details>
<details><summary>Estates / شهرک‌ها و نواحی</summary>
{_table(["id", "name / نام", "kind", "capacity ha", "used ha", "left ha", "units", "capacity from"], erow)}</details>
<details><summary>Proposed sites / سایت‌های پیشنهادی</summary>
{_table(["site", "categories", "ha", "score", "units", "trunk km", "extend", "pop. within 30 km"], srow)}</details>
<details><summary>Method / روش</summary>
<p>Suitability: {_aggregation_text(prep.scenario)} of transformed criteria (weights method:
{esc(prep.scenario.weights.method)}); cells excluded by a category's siting rules are nodata.</p>
{_table(["criterion", "measure", "transform", "curve", "weight(s)"], mrow)}
{cr_txt}
<p>Suitability legend: <span style="display:inline-block;width:120px;height:10px;background:linear-gradient(90deg,#440154,#3e4a89,#26828e,#35b779,#fde725)"></span> 0 → 1</p>
<p>Relocation solver: {esc(sol.get('solver'))}; status <b>{esc(sol.get('status'))}</b>, gap to LP bound
{float(sol.get('gap', 0)) * 100:.4f} %, {esc(sol.get('units'))} units, {esc(sol.get('arcs'))} arcs.</p>
<p>New sites: {esc(res.site_choice.get('candidates', 0))} candidate regions grown per value chain; chosen by
{esc(res.site_choice.get('method', 'none'))} (status {esc(res.site_choice.get('status', 'n/a'))}, gap
{float(res.site_choice.get('gap', 0) or 0) * 100:.3f} %).</p>
<p>Robustness (Monte Carlo, {prep.scenario.sensitivity.draws} weight draws): probability that the top estate keeps rank 1 — {rob_txt or 'n/a'}.</p>
<details><summary>Siting rules</summary>{_table(["category", "rule", "distance", "status"], rules_rows)}</details>
</details>
<details><summary>Warnings / هشدارها ({len(res.warnings)})</summary><ul>{warn}{more}</ul></details>
<details><summary>Data sources / منابع داده</summary><ul>{src}</ul>
<p>Settlement data: GeoNames (CC-BY 4.0). Base map when online: © OpenStreetMap contributors (ODbL).</p></details>
</div>
"""
