"""The report's map layers as plain data (lists, dicts, strings, numbers), never HTML.

Each function returns one layer specification that the static script ``app.js`` turns into a Leaflet
layer: GeoJSON features with a per-feature style (``_s``), tooltip text (``_t``) and popup card
(``_p``, a list of blocks of text). Strings here are raw data: the page encodes them (JSON in a data
block, then ``textContent`` in the browser), so nothing in this module escapes or formats HTML.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject

from .._geom import to_rfc7946
from ..units import M2_PER_HA

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["PALETTE", "ENV_COLOURS", "all_layers", "category_colours", "labels", "text"]

PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
           "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#aaffc3", "#808000",
           "#000075", "#808080"]
ENV_COLOURS = {"1": "#1a9850", "2": "#91cf60", "3.1": "#d9ef8b", "3.2": "#fee08b", "4.1": "#fc8d59",
               "4.2": "#f46d43", "5.1": "#d73027", "5.2": "#a50026", "5.3": "#67001f", "6": "#40004b"}
VIRIDIS = np.array([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
                    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], float)
#: beyond this many businesses the point layer shows 1 km cells instead of single markers
MAX_POINTS = 20_000
#: longest side of a suitability overlay image, in pixels
OVERLAY_PX = 320


def text(v: Any) -> str:
    """Any value as display text (None, NaN and NA give an empty string)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(float(v)) else f"{float(v):g}"
    return str(v)


def _num(v: Any) -> Any:
    """A JSON-safe property value: plain Python numbers and strings."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    return str(v)


def _features(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]], simplify_m: float = 0.0) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, 6 decimals, about 0.1 m on screen)."""
    geoms = gdf.geometry.values
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    g4 = shapely.transform(to_rfc7946(geoms, gdf.crs), lambda c: np.round(c, 6)) if len(gdf) else []
    feats = [{"type": "Feature", "properties": {k: (v if k in ("_s", "_p", "_t") else _num(v)) for k, v in p.items()},
              "geometry": shapely.geometry.mapping(g)} for g, p in zip(g4, props)]
    return {"type": "FeatureCollection", "features": feats}


def _layer(name: str, show: bool, features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "geojson", "name": name, "show": show, "features": features, "group": "analysis", **extra}


def _swatches(items: list[tuple[str, str]], shape: str = "box") -> dict[str, Any]:
    """A legend of coloured boxes (``shape`` box) or lines (``line``): ``[(colour, label), ...]``."""
    return {"type": shape, "items": [[c, t] for c, t in items]}


def category_colours(codes: list[str]) -> dict[str, str]:
    """One palette colour per category code, in catalogue order."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(codes)}


def study_area(res: "RunResult") -> dict[str, Any]:
    """The study-area outline."""
    r = res.prep.region
    g = gpd.GeoDataFrame(geometry=[r.study_area], crs=r.crs)
    style = {"color": "#444", "weight": 1.5, "dashArray": "4", "fillColor": "#ffffff", "fillOpacity": 0.55}
    return _layer("Study area / محدوده مطالعه", True, _features(g, [{"_s": style}]), group="context",
                  legend=_swatches([("#444", "boundary of the study / مرز محدوده")], "dash"), interactive=False)


def urban(res: "RunResult") -> dict[str, Any]:
    """Urban areas shaded by population, with name and population as tooltip."""
    u = res.prep.region.layers["urban"]
    pop = u["population"].fillna(0).to_numpy(dtype=float) if "population" in u else np.zeros(len(u))
    props = []
    for name, p in zip(u["name"], pop):
        shade = float(min(1.0, np.log10(max(p, 1)) / 6.5))
        props.append({"name": text(name), "population": int(p), "_t": [text(name), f"population / جمعیت {int(p):,}"],
                      "_s": {"color": "#b2182b", "weight": 0.5, "fillColor": "#ef8a62",
                             "fillOpacity": round(0.15 + 0.5 * shade, 3)}})
    return _layer("Towns and villages / شهرها و روستاها", True, _features(u, props, simplify_m=20), group="context",
                  legend={"type": "box", "items": [["#fbd3c0", "village / روستا (fewer people: lighter)"],
                                                   ["#ef8a62", "city / شهر (more people: darker)"]]})


#: constraint kinds drawn as water in the offline base map
WATER_KINDS = ("river", "wetland", "lake", "water", "qanat")


def water(res: "RunResult") -> dict[str, Any] | None:
    """Rivers, wetlands and lakes of the constraints layer, drawn as water in the offline base map
    (group ``base``: part of "the region's own layers", not an overlay)."""
    cons = res.prep.region.layers.get("constraints")
    if cons is None or "kind" not in cons:
        return None
    w = cons[cons["kind"].astype(str).isin(WATER_KINDS)]
    if not len(w):
        return None
    names = w["name"] if "name" in w else w["kind"]
    props = [{"_s": {"color": "#4a90c2", "weight": 2, "fillColor": "#a6cee3", "fillOpacity": 0.7},
              "_t": [text(k), text(n)]} for k, n in zip(w["kind"], names)]
    return _layer("Water / آب", True, _features(w, props, simplify_m=30), group="base",
                  legend=_swatches([("#4a90c2", "river, wetland, lake / رود، تالاب، دریاچه")], "line"))


def constraints(res: "RunResult") -> dict[str, Any] | None:
    """Excluded areas (constraints with their buffers)."""
    cons = res.prep.region.layers.get("constraints")
    if cons is None:
        return None
    buf = cons.copy()
    b = buf["buffer_m"].fillna(0).to_numpy(dtype=float) if "buffer_m" in buf else np.zeros(len(buf))
    buf["geometry"] = shapely.buffer(buf.geometry.values, np.maximum(b, 1.0))
    names = buf["name"] if "name" in buf else buf["kind"]
    style = {"color": "#762a83", "weight": 1, "fillColor": "#762a83", "fillOpacity": 0.25}
    props = [{"kind": text(k), "name": text(n), "buffer_m": float(bm), "_s": style,
              "_t": [text(k), text(n), f"buffer {bm:g} m"]} for k, n, bm in zip(buf["kind"], names, b)]
    return _layer("Excluded areas / مناطق ممنوع", True, _features(buf, props, simplify_m=50),
                  legend=_swatches([("#762a83", "constraint with its buffer / محدودیت با حریم")]))


def _colour_ramp(a: np.ndarray) -> np.ndarray:
    """RGBA image of values in [0, 1] (viridis), NaN transparent."""
    t = np.clip(np.nan_to_num(a, nan=0.0), 0, 1) * (len(VIRIDIS) - 1)
    i = np.floor(t).astype(int).clip(0, len(VIRIDIS) - 2)
    f = (t - i)[..., None]
    rgb = VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f
    alpha = np.where(np.isnan(a), 0, 40 + 180 * np.clip(np.nan_to_num(a), 0, 1))[..., None]
    return np.concatenate([rgb, alpha], axis=-1).astype(np.uint8)


def suitability(res: "RunResult", code: str) -> dict[str, Any]:
    """One category's suitability as a PNG overlay in Web Mercator (the map's projection)."""
    from folium.utilities import image_to_url

    grid = res.prep.grid
    src = res.prep.surfaces[code].masked
    left, top = grid.transform.c, grid.transform.f
    right, bottom = left + grid.width * grid.res, top - grid.height * grid.res
    scale = max(max(grid.width, grid.height) / OVERLAY_PX, 1.0)
    w, h = max(int(grid.width / scale), 1), max(int(grid.height / scale), 1)
    tr, w2, h2 = calculate_default_transform(grid.crs, "EPSG:3857", grid.width, grid.height, left, bottom, right,
                                             top, dst_width=w, dst_height=h)
    out = np.full((h2, w2), np.nan, dtype=np.float32)
    reproject(src, out, src_transform=grid.transform, src_crs=grid.crs, dst_transform=tr, dst_crs="EPSG:3857",
              resampling=Resampling.average, src_nodata=np.nan, dst_nodata=np.nan)
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(tr.c, tr.f + h2 * tr.e)
    lon1, lat1 = to_ll.transform(tr.c + w2 * tr.a, tr.f)
    cat = res.prep.catalogue.table.set_index("code")
    name = f"{text(cat.loc[code, 'name_en'])} / {text(cat.loc[code, 'name_fa'])}"
    ramp = ["#%02x%02x%02x" % tuple(int(v) for v in c) for c in VIRIDIS]
    return {"kind": "image", "name": name, "group": "suitability", "show": False, "opacity": 0.7,
            "legend": {"type": "ramp", "colours": ramp, "labels": ["0 low / کم", "1 high / زیاد"],
                       "note": "transparent: excluded by the siting rules / شفاف: ممنوع"},
            "url": image_to_url(_colour_ramp(out)),
            "bounds": [[round(lat0, 6), round(lon0, 6)], [round(lat1, 6), round(lon1, 6)]]}


def estates(res: "RunResult") -> dict[str, Any]:
    """Estates coloured by the share of capacity used, with a popup of ranks and eligibility."""
    est = res.prep.region.layers["estates"]
    summ = res.plan.estate_summary.groupby("estate_id").agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"))
    by_estate = {k: g for k, g in res.ranks.groupby("estate_id", sort=False)}
    cat = res.prep.catalogue.table
    catname = {c: f"{text(en)} / {text(fa)}" for c, en, fa in zip(cat["code"], cat["name_en"], cat["name_fa"])}
    es = res.plan.estate_summary
    units_in = {(e, c): int(u) for e, c, u in zip(es["estate_id"], es["category"], es["units"]) if pd.notna(c)}
    props = []
    for e in est.itertuples():
        cap = float(summ.loc[e.estate_id, "cap"]) if e.estate_id in summ.index else 0.0
        used = float(summ.loc[e.estate_id, "used"]) if e.estate_id in summ.index else 0.0
        share = used / cap if cap > 0 else 1.0
        r = by_estate.get(e.estate_id, res.ranks.iloc[:0])
        ok = r[r.eligible]
        rows = [[catname.get(x.category, text(x.category)), f"{x.score:.2f}" if pd.notna(x.score) else "",
                 text(x.rank), units_in.get((e.estate_id, x.category), 0)] for x in ok.itertuples()]
        no = r[~r.eligible]
        why = [f"{text(reason)}: {', '.join(text(c) for c in g['category'])}"
               for reason, g in sorted(no.groupby("reason"), key=lambda kv: str(kv[0]))]
        blocks: list[Any] = [["h", text(e.name), f"({text(e.estate_id)}, {text(getattr(e, 'kind', ''))})"],
                             ["kv", [["capacity / ظرفیت", f"{cap / M2_PER_HA:.1f} ha"],
                                     ["used / استفاده", f"{used / M2_PER_HA:.1f} ha"],
                                     ["left / باقی", f"{max(cap - used, 0) / M2_PER_HA:.1f} ha"],
                                     ["share used / سهم استفاده", f"{share * 100:.0f} %" if cap > 0 else "no capacity"]]]]
        if rows:
            blocks.append(["table", ["eligible category / صنف مجاز", "suitability (0–1)", "rank", "moving in"], rows])
        if why:
            blocks.append(["ul", "not eligible / غیرمجاز:", why])
        fill = "#d73027" if share > 0.9 else "#fc8d59" if share > 0.5 else "#1a9850"
        props.append({"estate_id": text(e.estate_id), "name": text(e.name), "used": round(share, 3),
                      "_t": [text(e.estate_id), text(e.name)], "_p": blocks,
                      "_s": {"color": "#000", "weight": 1.5, "fillColor": fill, "fillOpacity": 0.6}})
    return _layer("Estates by share used / شهرک‌ها (سهم استفاده)", True, _features(est, props, simplify_m=2.0),
                  maxWidth=520, legend=_swatches([("#1a9850", "up to 50 % used / تا ۵۰٪"),
                                                  ("#fc8d59", "50–90 % used / ۵۰ تا ۹۰٪"),
                                                  ("#d73027", "over 90 % used / بیش از ۹۰٪")]))


def zones(res: "RunResult") -> dict[str, Any] | None:
    """Zones coloured by environmental category."""
    z = res.zones
    if not len(z):
        return None
    est = res.prep.region.layers["estates"]
    est_name = dict(zip(est["estate_id"], est["name"]))
    cat = res.prep.catalogue.table.set_index("code")
    props = []
    for r in z.itertuples():
        blocks = [["h", text(est_name.get(r.estate_id, "")), f"({text(r.estate_id)})"],
                  ["p", f"zone / زون {text(r.zone_id)}: {text(cat.loc[r.category, 'name_fa'])} ({text(r.category)})"],
                  ["kv", [["env. category", text(r.env_cat)], ["area", f"{r.area_ha:.2f} ha"],
                          ["units", str(int(r.units))], ["from homes", f"{text(r.min_home_m)} m"]]
                   + ([["asked", f"{text(r.sep_m)} m"]] if hasattr(r, "sep_m") else [])
                   + ([["land", text(r.land_basis)]] if hasattr(r, "land_basis") else [])]]
        props.append({"zone_id": text(r.zone_id), "category": text(r.category), "env_cat": text(r.env_cat),
                      "area_ha": float(r.area_ha), "units": int(r.units), "_p": blocks,
                      "_t": [text(r.zone_id), text(r.category), f"env {text(r.env_cat)}", f"{r.area_ha:.2f} ha",
                             f"{int(r.units)} units"],
                      "_s": {"color": "#333", "weight": 0.5, "fillOpacity": 0.8,
                             "fillColor": ENV_COLOURS.get(text(r.env_cat), "#999")}})
    present = sorted({text(v) for v in z["env_cat"]}, key=lambda v: list(ENV_COLOURS).index(v)
                     if v in ENV_COLOURS else 99)
    return _layer("Zones by environmental category / زون‌ها (رده محیطی)", True, _features(z, props, simplify_m=2.0),
                  legend=_swatches([(ENV_COLOURS.get(v, "#999"), f"env. category / رده {v}"
                                     + (" (least nuisance)" if v == present[0] else
                                        " (most nuisance)" if v == present[-1] and len(present) > 1 else ""))
                                    for v in present]))


def sites(res: "RunResult") -> dict[str, Any] | None:
    """Proposed new sites."""
    s = res.sites
    if not len(s):
        return None
    style = {"color": "#08519c", "weight": 2, "fillColor": "#6baed6", "fillOpacity": 0.5}
    from ..locate import POP_REACH_KM

    def km(v: Any) -> str:
        return f"{float(v):,.1f} km" if isinstance(v, (int, float, np.floating)) and not pd.isna(v) else "—"

    props = []
    for r in s.itertuples():
        kv = [["value chain / زنجیره", text(getattr(r, "chain", ""))],
              ["categories / اصناف", text(getattr(r, "categories", ""))],
              ["area / مساحت", f"{float(getattr(r, 'area_ha', 0)):,.1f} ha gross, "
                               f"{float(getattr(r, 'net_ha', 0) or 0):,.1f} ha net"],
              *([["size set by / اندازه", text(r.sizing)]] if getattr(r, "sizing", None) else []),
              ["suitability score / امتیاز", f"{float(getattr(r, 'score', 0)):.2f} of 1 (rank {text(getattr(r, 'rank', ''))})"],
              *([["takes / جذب", f"{int(r.units):,} unassigned businesses ({text(r.takes)}), "
                                 f"{float(getattr(r, 'land_ha', 0) or 0):,.2f} ha of land"],
                 ["room for / ظرفیت", text(getattr(r, "capacity_units", "")) + " units"]]
                if getattr(r, "takes", None) is not None else
                [["room for / ظرفیت", text(getattr(r, "units", "")) + " units"]]),
              ["to a trunk road / تا راه اصلی", km(getattr(r, "trunk_km", None))],
              ["to rail / تا راه‌آهن", km(getattr(r, "rail_km", None))],
              ["to a power line / تا برق", km(getattr(r, "power_km", None))],
              ["to a gas pipe / تا گاز", km(getattr(r, "gas_km", None))],
              *([["to a water main / تا آب", km(getattr(r, "water_km", None))],
                 ["to a sewer / تا فاضلاب", km(getattr(r, "wastewater_km", None))]]
                if hasattr(r, "water_km") else []),
              *([["utilities needed / تأسیسات مورد نیاز", text(r.utilities)]] if getattr(r, "utilities", None) else []),
              ["utilities to extend / تأسیسات لازم", text(getattr(r, "extend", ""))],
              [f"people within {POP_REACH_KM:g} km / جمعیت", f"{int(getattr(r, 'pop_reach', 0) or 0):,}"]]
        props.append({"site_id": text(r.site_id), "_s": style,
                      "_t": [f"proposed site {text(r.site_id)}", text(getattr(r, "chain", ""))],
                      "_p": [["h", f"proposed site / سایت پیشنهادی {text(r.site_id)}", ""], ["kv", kv]]})
    return _layer("Proposed new sites / سایت‌های پیشنهادی", True, _features(s, props),
                  legend=_swatches([("#6baed6", "proposed estate site / سایت پیشنهادی")]))


def clusters(res: "RunResult") -> dict[str, Any] | None:
    """Business clusters (value chains)."""
    cl = res.clusters
    if not len(cl):
        return None
    style = {"color": "#006d2c", "weight": 1, "fillOpacity": 0.2}
    props = [{"cluster_id": text(c), "_s": style, "_t": [text(c), f"{int(m)} members", text(k)]}
             for c, m, k in zip(cl["cluster_id"], cl["members"], cl["categories"])]
    return _layer("Business clusters / خوشه‌های کسب‌وکار", False, _features(cl, props, simplify_m=10.0),
                  legend=_swatches([("#006d2c", "cluster of one value chain / خوشه زنجیره ارزش")]))


def flows(res: "RunResult") -> dict[str, Any] | None:
    """Relocation flows per origin settlement and estate (computed by the run: ``res.flows``)."""
    fl = res.flows
    if fl is None or not len(fl):
        return None
    urban_l = res.prep.region.layers["urban"]
    est = res.prep.region.layers["estates"]
    ucen = gpd.GeoSeries(urban_l.geometry.centroid.values, crs=urban_l.crs).to_crs(4326)
    ecen = gpd.GeoSeries(est.geometry.centroid.values, crs=est.crs).to_crs(4326)
    epos = {e: k for k, e in enumerate(est.estate_id)}
    out = []
    for r in fl.itertuples():
        a, b = ucen.iloc[int(r.origin)], ecen.iloc[epos[r.estate_id]]
        out.append({"path": [[round(a.y, 6), round(a.x, 6)], [round(b.y, 6), round(b.x, 6)]],
                    "w": round(float(1 + 1.5 * np.log1p(r.units)), 3),
                    "t": [text(r.origin_name), "→", f"{text(r.estate_id)}: {int(r.units):,} businesses"]})
    big = int(fl["units"].max())
    return {"kind": "lines", "name": "Relocation flows / جریان جابجایی", "show": True, "colour": "#2166ac",
            "rows": out, "group": "analysis",
            "legend": {"type": "widths", "colour": "#2166ac",
                       "items": [[round(float(1 + 1.5 * np.log1p(n)), 2), f"{n:,} businesses / کسب‌وکار"]
                                 for n in sorted({1, max(big // 10, 1), big})]}}


def businesses(res: "RunResult", colour: dict[str, str]) -> dict[str, Any]:
    """Businesses as canvas markers coloured by category (1 km cells beyond :data:`MAX_POINTS`)."""
    codes = list(colour)
    palette = [colour[c] for c in codes] + ["#000000"]
    idx = {c: i for i, c in enumerate(codes)}
    biz = res.prep.businesses
    cats = [idx.get(cc, len(codes)) if isinstance(cc, str) else len(codes) for cc in biz["category"]]
    b4 = gpd.GeoSeries(biz.geometry.values, crs=res.prep.region.crs).to_crs(4326)

    def label(k: int) -> str:
        return codes[k] if k < len(codes) else "unclassified"

    if len(biz) <= MAX_POINTS:
        names = biz["name"].tolist() if "name" in biz else [""] * len(biz)
        rows = [[round(p.y, 6), round(p.x, 6), k, [text(n), label(k)]] for p, n, k in zip(b4, names, cats)]
    else:
        cell = (np.floor(biz.geometry.x.to_numpy() / 1000).astype(np.int64),
                np.floor(biz.geometry.y.to_numpy() / 1000).astype(np.int64))
        df = pd.DataFrame({"cx": cell[0], "cy": cell[1], "k": cats, "lat": b4.y.to_numpy(), "lon": b4.x.to_numpy()})
        agg = df.groupby(["cx", "cy"]).agg(lat=("lat", "mean"), lon=("lon", "mean"), n=("k", "size"),
                                           k=("k", lambda s: int(s.mode().iloc[0]))).reset_index()
        rows = [[round(r.lat, 6), round(r.lon, 6), int(r.k), f"{int(r.n)} businesses (mostly {label(int(r.k))})",
                 round(float(2 + 2 * np.log1p(r.n)), 3)] for r in agg.itertuples()]
    cat = res.prep.catalogue.table.set_index("code")
    present = sorted(set(cats))
    items = [[palette[k], f"{text(cat.loc[codes[k], 'name_en'])} / {text(cat.loc[codes[k], 'name_fa'])}"
              if k < len(codes) else "unclassified / طبقه‌بندی‌نشده"] for k in present]
    return {"kind": "points", "name": "Businesses by category / کسب‌وکارها", "show": False, "colours": palette,
            "rows": rows, "group": "analysis", "legend": {"type": "dot", "items": items}}


ROAD_STYLE = {"motorway": ("#e8590c", 3.0), "trunk": ("#f08c00", 2.5), "primary": ("#fab005", 2.0),
              "secondary": ("#adb5bd", 1.5), "other": ("#ced4da", 1.0)}


def roads(res: "RunResult") -> dict[str, Any] | None:
    """Roads as context, styled by class (minor roads thin and grey)."""
    r = res.prep.region.layers.get("roads")
    if r is None or not len(r):
        return None
    cls = r["road_class"].astype(str).to_numpy() if "road_class" in r else np.array(["other"] * len(r))
    names = r["name"] if "name" in r else pd.Series([""] * len(r))
    props = []
    for c, n in zip(cls, names):
        colour, w = ROAD_STYLE.get(c, ROAD_STYLE["other"])
        props.append({"_s": {"color": colour, "weight": w, "opacity": 0.9},
                      "_t": [text(n), c] if text(n) else [c]})
    present = [k for k in ROAD_STYLE if k in set(cls)] or ["other"]
    return _layer("Roads / راه‌ها", True, _features(r, props, simplify_m=30), group="context",
                  legend=_swatches([(ROAD_STYLE[k][0], k) for k in present], "line"))


def rail(res: "RunResult") -> dict[str, Any] | None:
    """Railways as context."""
    r = res.prep.region.layers.get("rail")
    if r is None or not len(r):
        return None
    style = {"color": "#343a40", "weight": 2, "dashArray": "6 3"}
    props = [{"_s": style, "_t": ["rail / راه‌آهن", text(n)]} for n in (r["name"] if "name" in r else [""] * len(r))]
    return _layer("Railways / راه‌آهن", True, _features(r, props, simplify_m=30), group="context",
                  legend=_swatches([("#343a40", "railway / راه‌آهن")], "dash"))


def utilities(res: "RunResult") -> dict[str, Any] | None:
    """Power lines and gas pipes as context."""
    u = res.prep.region.layers.get("utilities")
    if u is None or not len(u):
        return None
    col = {"power_line": "#7048e8", "gas_pipe": "#0ca678"}
    kinds = u["kind"].astype(str).to_numpy() if "kind" in u else np.array(["utility"] * len(u))
    props = [{"_s": {"color": col.get(k, "#868e96"), "weight": 1.5, "dashArray": "2 4"}, "_t": [k]} for k in kinds]
    present = sorted(set(kinds))
    return _layer("Power and gas / برق و گاز", False, _features(u, props, simplify_m=30), group="context",
                  legend=_swatches([(col.get(k, "#868e96"), k) for k in present], "dash"))


def labels(res: "RunResult") -> list[list[Any]]:
    """Map labels, most important first: estates (always ranked first), then towns by population.
    Each ``[lat, lon, text, kind, priority]``; the page hides labels that overlap a more important one."""
    out: list[list[Any]] = []
    est = res.prep.region.layers["estates"]
    if len(est):
        pts = gpd.GeoSeries(shapely.point_on_surface(est.geometry.values), crs=est.crs).to_crs(4326)
        names = est["name"] if "name" in est else est["estate_id"]
        for p, n, cap in zip(pts, names, est.geometry.area.to_numpy()):
            out.append([round(p.y, 5), round(p.x, 5), text(n), "estate", float(1e9 + cap)])
    u = res.prep.region.layers["urban"]
    if len(u):
        pop = u["population"].fillna(0).to_numpy(dtype=float) if "population" in u else np.zeros(len(u))
        pts = gpd.GeoSeries(shapely.point_on_surface(u.geometry.values), crs=u.crs).to_crs(4326)
        for p, n, pp in zip(pts, u["name"], pop):
            out.append([round(p.y, 5), round(p.x, 5), text(n), "town", float(pp)])
    out.sort(key=lambda r: (-r[4], r[2]))
    for r in out:
        r[4] = round(r[4])
    return out


def all_layers(res: "RunResult", colour: dict[str, str]) -> list[dict[str, Any]]:
    """Every overlay of the report, bottom to top."""
    out = [water(res), study_area(res), urban(res), roads(res), rail(res), utilities(res), constraints(res)]
    out += [suitability(res, code) for code in res.prep.codes]
    out += [estates(res), zones(res), sites(res), clusters(res), flows(res), businesses(res, colour)]
    return [x for x in out if x is not None]
