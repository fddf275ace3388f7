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

from ..common.geom import to_rfc7946
from ..common.units import M2_PER_HA
from . import lang as _lang
from . import styles as _styles
from .styles import ENV_COLOURS, PALETTE, REASON_COLOURS
from .words import (
    CONSTRAINT_KIND,
    ESTATE_KIND,
    cat_fa,
    codes_fa,
    digits,
    extend_fa,
    fe,
    kind_name,
    land_basis,
    num,
    qty,
    sizing_text,
    text,
    tr,
)

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["PALETTE", "ENV_COLOURS", "all_layers", "category_colours", "labels", "plain_value"]

#: beyond this many businesses the point layer shows 1 km cells instead of single markers
MAX_POINTS = 20_000


def plain_value(v: Any) -> Any:
    """A JSON-safe property value: plain Python numbers and strings (None for missing or not finite)."""
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


_num = plain_value


def _features(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]], simplify_m: float = 0.0) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, 6 decimals, about 0.1 m on screen)."""
    geoms = gdf.geometry.values
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    g4 = shapely.transform(to_rfc7946(geoms, gdf.crs), lambda c: np.round(c, 6)) if len(gdf) else []
    feats = [{"type": "Feature", "properties": {k: (v if k in ("_s", "_p", "_t") else _num(v)) for k, v in p.items()},
              "geometry": shapely.geometry.mapping(g)} for g, p in zip(g4, props)]
    return {"type": "FeatureCollection", "features": feats}


def _layer(name: dict[str, str], show: bool, features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "geojson", "name": name, "show": show, "features": features, "group": "analysis", **extra}


def _swatches(items: list[tuple[str, Any]], shape: str = "box") -> dict[str, Any]:
    """A legend of coloured boxes (``shape`` box) or lines (``line``): ``[(colour, label), ...]``."""
    return {"type": shape, "items": [[c, t] for c, t in items]}


def category_colours(codes: list[str]) -> dict[str, str]:
    """One palette colour per category code, in catalogue order (:func:`siteplan.report.styles.category_colours`)."""
    return _styles.category_colours(codes)


def study_area(res: RunResult) -> dict[str, Any]:
    """The study-area outline."""
    r = res.prep.region
    g = gpd.GeoDataFrame(geometry=[r.study_area], crs=r.crs)
    style = dict(_styles.STUDY_AREA_STYLE)
    return _layer(fe(*_styles.TITLES["study_area"]), True, _features(g, [{"_s": style}]), group="context",
                  legend=_swatches([(style["color"], fe("مرز محدوده", "boundary of the study"))], "dash"), interactive=False)


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
    return _layer(fe("شهرها و روستاها", "Towns and villages"), True, _features(u, props, simplify_m=20),
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
    return _layer(fe("آب", "Water"), True, _features(w, props, simplify_m=30), group="base", interactive=False,
                  legend=_swatches([("#4a90c2", fe("رود، تالاب، دریاچه", "river, wetland, lake"))], "line"))


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
    return _layer(fe("مناطق ممنوع (حفاظت‌شده و حریم‌ها)", "Excluded areas"), True,
                  _features(buf, props, simplify_m=50), group="context",
                  legend=_swatches([("#8e6c8a", fe("محدودیت با حریم آن (نقطه‌چین)", "constraint with its buffer"))],
                                   "dash"))


def _pct_fa(v: float) -> str:
    return qty(round(v), "%", "d") if _lang.current() == "fa" else (
        f"{round(v):d}\u066a" if _lang.current() == "both" else f"{round(v):d} %")


def _ranks_by_estate(ranks: pd.DataFrame) -> dict[Any, tuple[list[tuple[Any, Any, Any]], dict[Any, list[Any]]]]:
    """Per estate (in the order of ``ranks``): its eligible categories as ``(category, score, rank)`` and its
    ineligible ones by reason (a missing reason left out), each in the order of ``ranks``; one pass over the
    table instead of a selection per estate.

    Parameters
    ----------
    ranks
        The run's ranks (``estate_id``, ``category``, ``eligible``, ``reason``, ``score``, ``rank``).

    Returns
    -------
    dict
        ``estate_id`` -> (eligible rows, reason -> categories), the values as the table's rows hold them.
    """
    out: dict[Any, tuple[list[tuple[Any, Any, Any]], dict[Any, list[Any]]]] = {}
    cols = [ranks[c] for c in ("estate_id", "category", "eligible", "reason", "score", "rank")]
    for eid, cat, eligible, reason, score, rank in zip(*cols):
        ok, no = out.setdefault(eid, ([], {}))
        if eligible:
            ok.append((cat, score, rank))
        elif not pd.isna(reason):
            no.setdefault(reason, []).append(cat)
    return out


def estates(res: RunResult) -> dict[str, Any]:
    """Estates coloured by the share of capacity used, with a popup of ranks and eligibility (in
    Persian; ids, numbers and units as written)."""
    from ..relocation.reasons import eligibility_fa
    from .bidi import fa_numbers

    est = res.prep.region.layers["estates"]
    summ = res.plan.estate_summary.groupby("estate_id").agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"))
    caps, useds = dict(zip(summ.index, summ["cap"])), dict(zip(summ.index, summ["used"]))
    ranked = _ranks_by_estate(res.ranks)
    catname = cat_fa(res)
    es = res.plan.estate_summary
    units_in = {(e, c): int(u) for e, c, u in zip(es["estate_id"], es["category"], es["units"]) if pd.notna(c)}
    props = []
    for e in est.itertuples():
        cap = float(caps[e.estate_id]) if e.estate_id in caps else 0.0
        used = float(useds[e.estate_id]) if e.estate_id in useds else 0.0
        share = _styles.share_used(cap, used)
        ok, no = ranked.get(e.estate_id, ([], {}))
        rows = [[catname.get(c, text(c)), num(score, ".2f") if pd.notna(score) else "",
                 num(rank) if pd.notna(rank) else "", num(units_in.get((e.estate_id, c), 0))]
                for c, score, rank in ok]
        why = [f"{fa_numbers(eligibility_fa(reason)) if _lang.current() != 'en' else text(reason)}: "
               f"{tr('، ', ', ').join(catname.get(c, text(c)) for c in no[reason])}"
               for reason in sorted(sorted(no), key=str)]
        blocks: list[Any] = [["h", text(e.name), f"({text(e.estate_id)}{tr('، ', ', ')}"
                                                 f"{kind_name(getattr(e, 'kind', ''), ESTATE_KIND)})"],
                             ["kv", [[fe("ظرفیت", "capacity"), qty(cap / M2_PER_HA, "ha", ".1f")],
                                     [fe("استفاده‌شده", "used"), qty(used / M2_PER_HA, "ha", ".1f")],
                                     [fe("باقی", "left"), qty(max(cap - used, 0) / M2_PER_HA, "ha", ".1f")],
                                     [fe("سهم استفاده", "share used"),
                                      _pct_fa(share * 100) if cap > 0 else tr("بدون ظرفیت", "no capacity")]]]]
        if rows:
            blocks.append(["table", [fe("صنف مجاز", "eligible category"), fe("تناسب (۰ تا ۱)", "suitability"),
                                     fe("رتبه", "rank"), fe("جابجاشونده به اینجا", "moving in")], rows])
        if why:
            blocks.append(["ul", fe("غیرمجاز:", "not eligible:"), why])
        fill = _styles.estate_fill(share)
        props.append({"estate_id": text(e.estate_id), "name": text(e.name), "used": round(share, 3),
                      "_t": [text(e.estate_id), text(e.name)], "_p": blocks,
                      "_s": dict(_styles.ESTATE_STYLE, fillColor=fill)})
    return _layer(fe(*_styles.TITLES["estates"]), True,
                  _features(est, props, simplify_m=2.0), maxWidth=520, cards="estate_id",
                  legend=_swatches([(c.colour, fe(c.fa, c.en)) for c in _styles.ESTATE_SHARE_CLASSES]))


def zones(res: RunResult) -> dict[str, Any] | None:
    """Zones coloured by environmental category; a click on a zone opens its estate's card with the
    zone below it (so a click anywhere on an estate opens the estate)."""
    z = res.zones
    if not len(z):
        return None
    names = cat_fa(res)
    props = []
    for r in z.itertuples():
        home = r.min_home_m
        blocks = [["p", tr("زون ", "zone ") + f"{text(r.zone_id)}: {names.get(text(r.category), text(r.category))}"],
                  ["kv", [[fe("رده محیطی", "env. category"), digits(r.env_cat)],
                          [fe("مساحت", "area"), qty(r.area_ha, "ha", ".2f")],
                          [fe("واحدها", "units"), num(int(r.units))],
                          [fe("فاصله از مسکونی", "from homes"),
                           qty(home, "m", ",.0f") if isinstance(home, (int, float)) and pd.notna(home) else "—"]]
                   + ([[fe("حریم خواسته‌شده", "asked"), qty(r.sep_m, "m", "g")]] if hasattr(r, "sep_m") else [])
                   + ([[fe("مبنای زمین", "land"), land_basis(r.land_basis)]] if hasattr(r, "land_basis") else [])]]
        props.append({"zone_id": text(r.zone_id), "estate_id": text(r.estate_id), "category": text(r.category),
                      "env_cat": text(r.env_cat), "area_ha": float(r.area_ha), "units": int(r.units), "_p": blocks,
                      "_t": [text(r.zone_id), names.get(text(r.category), text(r.category)),
                             tr("رده ", "env. category ") + digits(r.env_cat), qty(r.area_ha, "ha", ".2f"),
                             num(int(r.units)) + tr(" واحد", " units")],
                      "_s": dict(_styles.ZONE_STYLE, fillColor=ENV_COLOURS.get(text(r.env_cat), _styles.ENV_DEFAULT))})
    present = sorted({text(v) for v in z["env_cat"]}, key=_styles.env_order)

    def lab(v: str) -> dict[str, str]:
        extra = (("(کم‌مزاحمت‌ترین)", " (least nuisance)") if v == present[0] else
                 ("(پرمزاحمت‌ترین)", " (most nuisance)") if v == present[-1] and len(present) > 1 else ("", ""))
        return fe(f"رده {digits(v)} {extra[0]}".strip(), f"env. category {v}{extra[1]}")

    return _layer(fe(*_styles.TITLES["zones"]), True,
                  _features(z, props, simplify_m=2.0), card_of="estate_id",
                  legend=_swatches([(ENV_COLOURS.get(v, _styles.ENV_DEFAULT), lab(v)) for v in present]))


def sites(res: RunResult) -> dict[str, Any] | None:
    """Proposed new sites: the polygon, and a labelled symbol at its centre (visible at any zoom)."""
    s = res.sites
    if not len(s):
        return None
    style = dict(_styles.SITE_STYLE)
    from ..locate.ranking import POP_REACH_KM

    names = cat_fa(res)

    def km(v: Any) -> str:
        return qty(float(v), "km", ",.1f") if isinstance(v, (int, float, np.floating)) and not pd.isna(v) else "—"

    props = []
    for r in s.itertuples():
        kv = [[fe("اصناف", "categories"), codes_fa(getattr(r, "categories", ""), names)],
              [fe("مساحت", "area"), qty(float(getattr(r, "area_ha", 0)), "ha", ",.1f") + tr(" ناخالص، ", " gross, ")
               + qty(float(getattr(r, "net_ha", 0) or 0), "ha", ",.1f") + tr(" خالص", " net")],
              *([[fe("اندازه بر پایه", "size set by"), sizing_text(r, res)]] if getattr(r, "sizing", None) else []),
              [fe("امتیاز تناسب", "suitability score"),
               num(float(getattr(r, "score", 0)), ".2f") + tr(" از ۱ (رتبه ", " of 1 (rank ")
               + (num(r.rank) if isinstance(getattr(r, "rank", None), (int, float, np.integer)) else
                  text(getattr(r, "rank", ""))) + ")"],
              *([[fe("جذب", "takes"), num(int(r.units)) + tr(" کسب‌وکار بدون تخصیص (", " unassigned businesses (")
                  + codes_fa(r.takes, names) + tr(")، ", "), ")
                  + qty(float(getattr(r, "land_ha", 0) or 0), "ha", ",.2f") + tr(" زمین", " of land")],
                 [fe("ظرفیت", "room for"), codes_fa(getattr(r, "capacity_units", ""), names) + tr(" واحد", " units")]]
                if getattr(r, "takes", None) is not None else
                [[fe("ظرفیت", "room for"), codes_fa(getattr(r, "units", ""), names) + tr(" واحد", " units")]]),
              [fe("تا راه اصلی", "to a trunk road"), km(getattr(r, "trunk_km", None))],
              [fe("تا راه‌آهن", "to rail"), km(getattr(r, "rail_km", None))],
              [fe("تا خط برق", "to a power line"), km(getattr(r, "power_km", None))],
              [fe("تا لوله گاز", "to a gas pipe"), km(getattr(r, "gas_km", None))],
              *([[fe("تا شبکه آب", "to a water main"), km(getattr(r, "water_km", None))],
                 [fe("تا شبکه فاضلاب", "to a sewer"), km(getattr(r, "wastewater_km", None))]]
                if hasattr(r, "water_km") else []),
              *([[fe("تأسیسات مورد نیاز", "utilities needed"), extend_fa(r.utilities)]]
                if getattr(r, "utilities", None) else []),
              [fe("تأسیسات لازم", "utilities to extend"), extend_fa(getattr(r, "extend", ""))],
              [fe(f"جمعیت در شعاع {qty(POP_REACH_KM, 'km', 'g')}", f"people within {POP_REACH_KM:g} km"),
               num(int(getattr(r, "pop_reach", 0) or 0))]]
        props.append({"site_id": text(r.site_id), "_s": style,
                      "_t": [tr("سایت پیشنهادی ", "proposed site ") + text(r.site_id),
                             codes_fa(getattr(r, "categories", ""), names)],
                      "_p": [["h", tr("سایت پیشنهادی ", "proposed site ") + text(r.site_id),
                              codes_fa(getattr(r, "categories", ""), names)],
                             ["kv", kv]]})
    pts = gpd.GeoSeries(shapely.point_on_surface(s.geometry.values), crs=s.crs).to_crs(4326)
    marks = [[round(p.y, 6), round(p.x, 6), text(i)] for p, i in zip(pts, s["site_id"])]
    return _layer(fe(*_styles.TITLES["sites"]), True, _features(s, props), marks=marks,
                  ids="site_id", legend=_swatches([(style["color"], fe("سایت پیشنهادی (نماد ★ و شناسه)",
                                                                   "proposed estate site"))], "site"))


def clusters(res: RunResult) -> dict[str, Any] | None:
    """Business clusters (value chains)."""
    cl = res.clusters
    if not len(cl):
        return None
    style = dict(_styles.CLUSTER_STYLE)
    names = cat_fa(res)
    props = [{"cluster_id": text(c), "_s": style, "_t": [text(c), num(int(m)) + tr(" عضو", " members"), codes_fa(k, names)]}
             for c, m, k in zip(cl["cluster_id"], cl["members"], cl["categories"])]
    return _layer(fe(*_styles.TITLES["clusters"]), False, _features(cl, props, simplify_m=10.0),
                  legend=_swatches([(style["color"], fe("خوشه یک زنجیره ارزش", "cluster of one value chain"))]))


def flows(res: RunResult) -> dict[str, Any] | None:
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
                    "w": round(_styles.flow_width(float(r.units)), 3),
                    "t": [text(r.origin_name), tr("←", "→"),
                          f"{text(r.estate_id)}: {num(int(r.units))}" + tr(" کسب‌وکار", " businesses")]})
    big = int(fl["units"].max())
    # drawn under the estates (all_layers' order, kept by the page): a click on an estate opens the estate
    return {"kind": "lines", "name": fe(*_styles.TITLES["flows"]), "show": True, "colour": _styles.FLOW_COLOUR,
            "opacity": _styles.FLOW_OPACITY,
            "rows": out, "group": "analysis",
            "legend": {"type": "widths", "colour": _styles.FLOW_COLOUR,
            "opacity": _styles.FLOW_OPACITY,
                       "items": [[round(_styles.flow_width(n), 2), fe(f"{num(n)} کسب‌وکار", f"{n:,} businesses")]
                                 for n in sorted({1, max(big // 10, 1), big})]}}


def businesses(res: RunResult, colour: dict[str, str]) -> dict[str, Any]:
    """Businesses as canvas markers coloured by category (1 km cells beyond :data:`MAX_POINTS`)."""
    codes = list(colour)
    palette = [colour[c] for c in codes] + ["#000000"]
    idx = {c: i for i, c in enumerate(codes)}
    biz = res.prep.businesses
    cats = [idx.get(cc, len(codes)) if isinstance(cc, str) else len(codes) for cc in biz["category"]]
    b4 = gpd.GeoSeries(biz.geometry.values, crs=res.prep.region.crs).to_crs(4326)

    fa_names = cat_fa(res)

    def label(k: int) -> str:
        return fa_names.get(codes[k], codes[k]) if k < len(codes) else tr("طبقه‌بندی‌نشده", "unclassified")

    if len(biz) <= MAX_POINTS:
        names = biz["name"].tolist() if "name" in biz else [""] * len(biz)
        ys, xs = shapely.get_y(b4.values).tolist(), shapely.get_x(b4.values).tolist()  # not a Point object each
        rows = [[round(y, 6), round(x, 6), k, [text(n), label(k)]] for y, x, n, k in zip(ys, xs, names, cats)]
    else:
        cell = (np.floor(biz.geometry.x.to_numpy() / 1000).astype(np.int64),
                np.floor(biz.geometry.y.to_numpy() / 1000).astype(np.int64))
        df = pd.DataFrame({"cx": cell[0], "cy": cell[1], "k": cats, "lat": b4.y.to_numpy(), "lon": b4.x.to_numpy()})
        agg = df.groupby(["cx", "cy"]).agg(lat=("lat", "mean"), lon=("lon", "mean"), n=("k", "size"),
                                           k=("k", lambda s: int(s.mode().iloc[0]))).reset_index()
        rows = [[round(r.lat, 6), round(r.lon, 6), int(r.k),
                 num(int(r.n)) + tr(" کسب‌وکار (بیشتر ", " businesses (mostly ") + label(int(r.k)) + ")",
                 round(float(2 + 2 * np.log1p(r.n)), 3)] for r in agg.itertuples()]
    cat = res.prep.catalogue.table.set_index("code")
    present = sorted(set(cats))
    items = [[palette[k], fe(text(cat.loc[codes[k], "name_fa"]), text(cat.loc[codes[k], "name_en"]))
              if k < len(codes) else fe("طبقه‌بندی‌نشده", "unclassified")] for k in present]
    return {"kind": "points", "name": fe("همه کسب‌وکارها به تفکیک صنف", "Businesses by category"), "show": False,
            "colours": palette, "rows": rows, "group": "analysis", "legend": {"type": "dot", "items": items}}


def unassigned(res: RunResult, colour: dict[str, str]) -> dict[str, Any] | None:
    """The businesses left unassigned, one marker each, coloured by why (on when the page opens; the
    tooltip names the business, its category and the reason, in Persian)."""
    from ..relocation.reasons import reason_codes, reason_fa

    rows_ = res.plan.rows
    un = rows_[rows_["status"] == "unassigned"]
    if not len(un):
        return None
    if not {"lat", "lon"} <= set(un.columns):
        return None
    codes = reason_codes(un["reason"])
    order = [c for c in REASON_COLOURS if c in set(codes)]
    k_of = {c: i for i, c in enumerate(order)}
    names = cat_fa(res)
    from .bidi import fa_numbers

    fa = ([fa_numbers(x) for x in reason_fa(un["reason"], names)] if _lang.current() != "en"
          else un["reason"].astype(str).to_numpy())
    bname = un["name"] if "name" in un else pd.Series([""] * len(un))
    rows = [[round(float(la), 6), round(float(lo), 6), k_of[c],
             [text(n), names.get(text(cat), text(cat)) or tr("طبقه‌بندی‌نشده", "unclassified"), text(f)], 4]
            for la, lo, c, n, cat, f in zip(un["lat"], un["lon"], codes, bname, un["category"], fa)]
    from ..relocation.reasons import REASON_CODES

    counts = pd.Series(codes).value_counts()
    items = [[REASON_COLOURS[c], fe(f"{REASON_CODES[c][1]} ({num(int(counts[c]))})",
                                    f"{REASON_CODES[c][0]} ({int(counts[c]):,})")] for c in order]
    return {"kind": "points", "name": fe("کسب‌وکارهای بدون تخصیص، به تفکیک دلیل", "Unassigned businesses, by reason"),
            "show": True, "colours": [REASON_COLOURS[c] for c in order], "rows": rows, "group": "analysis",
            "stroke": "#222", "legend": {"type": "dot", "items": items}}


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
    return _layer(fe("راه‌ها", "Roads"), True, _features(r, props, simplify_m=30), group="context",
                  legend=_swatches([(ROAD_STYLE[k][0], fe(ROAD_FA.get(k, k), ROAD_EN.get(k, k))) for k in present], "line"))


def rail(res: RunResult) -> dict[str, Any] | None:
    """Railways as context."""
    r = res.prep.region.layers.get("rail")
    if r is None or not len(r):
        return None
    style = {"color": "#343a40", "weight": 2, "dashArray": "6 3"}
    props = [{"_s": style, "_t": [tr("راه‌آهن", "railway"), text(n)]} for n in (r["name"] if "name" in r else [""] * len(r))]
    return _layer(fe("راه‌آهن", "Railways"), True, _features(r, props, simplify_m=30), group="context",
                  legend=_swatches([("#343a40", fe("راه‌آهن", "railway"))], "dash"))


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
    return _layer(fe("برق و گاز", "Power and gas"), False, _features(u, props, simplify_m=30), group="context",
                  legend=_swatches([(col.get(k, "#868e96"), fe(fa.get(k, k), en.get(k, k))) for k in present], "dash"))


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


def all_layers(res: RunResult, colour: dict[str, str]) -> list[dict[str, Any]]:
    """Every overlay of the report, bottom to top."""
    out = [water(res), study_area(res), urban(res), roads(res), rail(res), utilities(res), constraints(res)]
    from .overlaymemo import suitability_layers  # the images of unchanged rasters from the run's memo

    out += suitability_layers(res, list(res.prep.codes))
    # flows and business markers under the estates, zones and sites: a click there opens the estate
    out += [clusters(res), flows(res), businesses(res, colour), unassigned(res, colour)]
    out += [estates(res), zones(res), sites(res)]
    return [x for x in out if x is not None]
