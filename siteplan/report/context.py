"""The report's context layers as plain data: the study area, towns and villages, water, excluded areas,
roads, railways, power and gas, and the map's labels (see :mod:`.layers` for the plan's own layers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import styles as _styles
from .features import features, layer, swatches
from .words import CONSTRAINT_KIND, fe, kind_name, num, qty, text, tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["study_area", "urban", "water", "constraints", "roads", "rail", "utilities", "labels", "road_name",
           "WATER_KINDS", "ROAD_FA", "ROAD_EN", "ROAD_STYLE"]


def study_area(res: RunResult) -> dict[str, Any]:
    """The study-area outline."""
    r = res.prep.region
    g = gpd.GeoDataFrame(geometry=[r.study_area], crs=r.crs)
    style = dict(_styles.STUDY_AREA_STYLE)
    return layer(fe(*_styles.TITLES["study_area"]), show=True, features=features(g, [{"_s": style}]), group="context",
                  legend=swatches([(style["color"], fe("مرز محدوده", "boundary of the study"))], "dash"), interactive=False)


def urban(res: RunResult) -> dict[str, Any]:
    """Urban areas shaded by population, with name and population as tooltip."""
    u = res.prep.region.layers["urban"]
    pop = u["population"].fillna(0).to_numpy(dtype=float) if "population" in u else np.zeros(len(u))
    props = []
    for name, p in zip(u["name"], pop):
        shade = float(min(1.0, np.log10(max(p, 1)) / 6.5))
        props.append({"name": text(name), "population": int(p), "_t": [text(name), tr("جمعیت ", "population ") + num(int(p))],
                      "_s": {"color": "#b2182b", "weight": 0.5, "fillColor": "#ef8a62",
                             "fillOpacity": round(0.15 + 0.5 * shade, 3)}})
    return layer(fe("شهرها و روستاها", "Towns and villages"), show=True, features=features(u, props, simplify_m=20),
                  group="context", interactive=False,
                  legend={"type": "box", "items": [["#fbd3c0", fe("روستا (جمعیت کمتر: روشن‌تر)", "village")],
                                                   ["#ef8a62", fe("شهر (جمعیت بیشتر: تیره‌تر)", "city")]]})


#: constraint kinds drawn as water in the offline base map
WATER_KINDS = ("river", "wetland", "lake", "water", "qanat")


def water(res: RunResult) -> dict[str, Any] | None:
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
              "_t": [kind_name(k, CONSTRAINT_KIND), text(n)]} for k, n in zip(w["kind"], names)]
    return layer(fe("آب", "Water"), show=True, features=features(w, props, simplify_m=30), group="base", interactive=False,
                  legend=swatches([("#4a90c2", fe("رود، تالاب، دریاچه", "river, wetland, lake"))], "line"))


def constraints(res: RunResult) -> dict[str, Any] | None:
    """Excluded areas (constraints with their buffers)."""
    cons = res.prep.region.layers.get("constraints")
    if cons is None:
        return None
    buf = cons.copy()
    b = buf["buffer_m"].fillna(0).to_numpy(dtype=float) if "buffer_m" in buf else np.zeros(len(buf))
    buf["geometry"] = shapely.buffer(buf.geometry.values, np.maximum(b, 1.0))
    names = buf["name"] if "name" in buf else buf["kind"]
    # a thin dashed outline and a faint fill: an area to keep out of, never to be read as a site
    style = {"color": "#8e6c8a", "weight": 1, "dashArray": "2 3", "fillColor": "#8e6c8a", "fillOpacity": 0.08}
    props = [{"kind": text(k), "name": text(n), "buffer_m": float(bm), "_s": style,
              "_t": [kind_name(k, CONSTRAINT_KIND), text(n), tr("حریم ", "buffer ") + qty(bm, "m", "g")]}
             for k, n, bm in zip(buf["kind"], names, b)]
    return layer(fe("مناطق ممنوع (حفاظت‌شده و حریم‌ها)", "Excluded areas"), show=True,
                  features=features(buf, props, simplify_m=50), group="context",
                  legend=swatches([("#8e6c8a", fe("محدودیت با حریم آن (نقطه‌چین)", "constraint with its buffer"))],
                                   "dash"))


ROAD_FA = {"motorway": "آزادراه", "trunk": "بزرگراه و راه اصلی", "primary": "راه درجه یک",
           "secondary": "راه درجه دو", "other": "سایر راه‌ها"}
ROAD_EN = {"motorway": "motorway", "trunk": "trunk road", "primary": "primary road", "secondary": "secondary road",
           "other": "other roads"}


def road_name(c: str) -> str:
    """A road class in the report's language."""
    return tr(ROAD_FA.get(c, c), ROAD_EN.get(c, c))


ROAD_STYLE = {"motorway": ("#e8590c", 3.0), "trunk": ("#f08c00", 2.5), "primary": ("#fab005", 2.0),
              "secondary": ("#adb5bd", 1.5), "other": ("#ced4da", 1.0)}


def roads(res: RunResult) -> dict[str, Any] | None:
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
                      "_t": [text(n), road_name(c)] if text(n) else [road_name(c)]})
    present = [k for k in ROAD_STYLE if k in set(cls)] or ["other"]
    return layer(fe("راه‌ها", "Roads"), show=True, features=features(r, props, simplify_m=30), group="context",
                  legend=swatches([(ROAD_STYLE[k][0], fe(ROAD_FA.get(k, k), ROAD_EN.get(k, k))) for k in present], "line"))


def rail(res: RunResult) -> dict[str, Any] | None:
    """Railways as context."""
    r = res.prep.region.layers.get("rail")
    if r is None or not len(r):
        return None
    style = {"color": "#343a40", "weight": 2, "dashArray": "6 3"}
    props = [{"_s": style, "_t": [tr("راه‌آهن", "railway"), text(n)]} for n in (r["name"] if "name" in r else [""] * len(r))]
    return layer(fe("راه‌آهن", "Railways"), show=True, features=features(r, props, simplify_m=30), group="context",
                  legend=swatches([("#343a40", fe("راه‌آهن", "railway"))], "dash"))


def utilities(res: RunResult) -> dict[str, Any] | None:
    """Power lines and gas pipes as context."""
    u = res.prep.region.layers.get("utilities")
    if u is None or not len(u):
        return None
    col = {"power_line": "#7048e8", "gas_pipe": "#0ca678"}
    kinds = u["kind"].astype(str).to_numpy() if "kind" in u else np.array(["utility"] * len(u))
    fa = {"power_line": "خط برق", "gas_pipe": "خط لوله گاز"}
    en = {"power_line": "power line", "gas_pipe": "gas pipe"}
    props = [{"_s": {"color": col.get(k, "#868e96"), "weight": 1.5, "dashArray": "2 4"},
              "_t": [tr(fa.get(k, k), en.get(k, k))]} for k in kinds]
    present = sorted(set(kinds))
    return layer(fe("برق و گاز", "Power and gas"), show=False, features=features(u, props, simplify_m=30), group="context",
                  legend=swatches([(col.get(k, "#868e96"), fe(fa.get(k, k), en.get(k, k))) for k in present], "dash"))


def labels(res: RunResult) -> list[list[Any]]:
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

