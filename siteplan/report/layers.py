"""The report's map layers as plain data (lists, dicts, strings, numbers), never HTML: the plan's own
layers (estates, zones, sites, clusters, flows, businesses, the unassigned) and :func:`all_layers`, every
overlay in order (the context layers: :mod:`.context`; the GeoJSON helpers: :mod:`.features`).

Each function returns one layer specification that the static script ``app.js`` turns into a Leaflet
layer: GeoJSON features with a per-feature style (``_s``), tooltip text (``_t``) and popup card
(``_p``, a list of blocks of text). Strings here are raw data: the page encodes them (JSON in a data
block, then ``textContent`` in the browser), so nothing in this module escapes or formats HTML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA
from . import lang as _lang
from . import styles as _styles
from .context import constraints, labels, rail, roads, study_area, urban, utilities, water
from .features import features, layer, plain_value, swatches
from .styles import ENV_COLOURS, PALETTE, REASON_COLOURS
from .words import ESTATE_KIND, cat_fa, codes_fa, digits, extend_fa, fe, kind_name, land_basis, num, qty, sizing_text, text, tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["PALETTE", "ENV_COLOURS", "all_layers", "category_colours", "labels", "plain_value"]

#: beyond this many businesses the point layer shows 1 km cells instead of single markers
MAX_POINTS = 20_000


def category_colours(codes: list[str]) -> dict[str, str]:
    """One palette colour per category code, in catalogue order (:func:`siteplan.report.styles.category_colours`)."""
    return _styles.category_colours(codes)


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
        blocks: list[Any] = [["h", text(e.name), (f"({text(e.estate_id)}{tr('، ', ', ')}"
                                                 f"{kind_name(getattr(e, 'kind', ''), ESTATE_KIND)})")],
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
    return layer(fe(*_styles.TITLES["estates"]), show=True,
                  features=features(est, props, simplify_m=2.0), maxWidth=520, cards="estate_id",
                  legend=swatches([(c.colour, fe(c.fa, c.en)) for c in _styles.ESTATE_SHARE_CLASSES]))


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

    return layer(fe(*_styles.TITLES["zones"]), show=True,
                  features=features(z, props, simplify_m=2.0), card_of="estate_id",
                  legend=swatches([(ENV_COLOURS.get(v, _styles.ENV_DEFAULT), lab(v)) for v in present]))


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
    return layer(fe(*_styles.TITLES["sites"]), show=True, features=features(s, props), marks=marks,
                  ids="site_id", legend=swatches([(style["color"], fe("سایت پیشنهادی (نماد ★ و شناسه)",
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
    return layer(fe(*_styles.TITLES["clusters"]), show=False, features=features(cl, props, simplify_m=10.0),
                  legend=swatches([(style["color"], fe("خوشه یک زنجیره ارزش", "cluster of one value chain"))]))


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


def unassigned(res: RunResult) -> dict[str, Any] | None:
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


def all_layers(res: RunResult, colour: dict[str, str]) -> list[dict[str, Any]]:
    """Every overlay of the report, bottom to top."""
    out = [water(res), study_area(res), urban(res), roads(res), rail(res), utilities(res), constraints(res)]
    from .overlaymemo import suitability_layers  # the images of unchanged rasters from the run's memo

    out += suitability_layers(res, list(res.prep.codes))
    # flows and business markers under the estates, zones and sites: a click there opens the estate
    out += [clusters(res), flows(res), businesses(res, colour), unassigned(res)]
    out += [estates(res), zones(res), sites(res)]
    return [x for x in out if x is not None]
