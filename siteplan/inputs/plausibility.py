"""Plausibility checks of the input layers: data that reads without complaint but cannot be true.

Called by :func:`siteplan.inputs.region.load_region` (so ``siteplan validate`` and every run make the same
checks). Each check returns :class:`Findings`: **errors** (the run is refused, every error listed at
once) and **warnings** (the run goes on; the message says what was assumed). The rule:

* an **error** is a value that cannot be true or would make the plan wrong without a trace: a
  negative area, text in a number field, vacant land above the gross area or far above the estate's
  own polygon, coordinates impossible for the declared CRS, a feature at (0, 0) or far from the rest
  of the study (another continent, latitude and longitude swapped), control characters or NUL bytes
  in an id;
* a **warning** is a value that is possible but suspicious, or missing and replaced by an assumption:
  an empty ``vacant_ha`` (capacity from ``allocation.default_vacant_share`` or none), ``gross_ha`` far
  from the polygon's own area, features a little outside the boundary or the CRS's area of use, a
  ``.cpg`` that does not match the text (read with the encoding that decodes, never as mojibake).

Every message names the layer, the rows (1-based, as in the file) and ids, and the values.
"""


from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.notice import Notice
from ..common.textnorm import comma_hint, parse_number
from .coordinates import FAR_KM, MAX_COORD, CoordinateCheck, check_coordinates, check_outside_boundary
from .encoding import checked_encoding, cpg_encoding, dbf_nul_problems, geojson_nul_problems, mojibake_rows
from .findings import Findings, is_missing, layer_where, listing, row_id

__all__ = [
    "Findings",
    "PLAUSIBILITY_ERRORS",
    "number_text_problems",
    "id_text_problems",
    "isic_text_notices",
    "dbf_nul_problems",
    "check_area_fields",
    "geojson_nul_problems",
    "cpg_encoding",
    "mojibake_rows",
    "check_coordinates",
    "check_capacity",
    "check_duplicate_estates",
    "check_plot_estates",
    "check_outside_boundary",
    "checked_encoding",
    "layer_where",
    "CoordinateCheck",
    "FAR_KM",
    "MAX_COORD",
    "MAX_ESTATE_HA",
    "check_sizes",
    "check_read_layers",
    "check_projected_layers",
]

#: ``gross_ha`` beyond this factor of the polygon's own area (either way) is a warning.
GROSS_FACTOR = 3.0
#: ``vacant_ha`` above this factor of the polygon's own area is an error.
VACANT_FACTOR = 1.5
#: Key of ``GeoDataFrame.attrs`` where the readers leave errors found before values are coerced.
PLAUSIBILITY_ERRORS = "siteplan_plausibility_errors"
#: An estate (or plot) polygon larger than this (ha; 500 km²) is an error: no industrial estate is, and
#: zoning's work grows with the area.
MAX_ESTATE_HA = 50_000.0

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# ---------------------------------------------------------------------------------------------- text

def number_text_problems(gdf: pd.DataFrame, col: str, where: str, id_field: str | None,
                         row_column: str | None = None) -> list[str]:
    """Values of a number field that are text and do not parse as a number (an error), looked at
    before they are coerced; rows counted from 1 in file order (or from ``row_column``)."""
    bad = [i for i, v in enumerate(gdf[col]) if not is_missing(v) and parse_number(v) is None]
    if not bad:
        return []
    rows = (gdf[row_column].to_numpy() if row_column and row_column in gdf.columns
            else np.arange(1, len(gdf) + 1))
    ids = gdf[id_field] if id_field and id_field in gdf.columns else None
    items = [f"row {int(rows[i])}" + (f" ({ids.iloc[i]})" if ids is not None and not is_missing(ids.iloc[i]) else "")
             + f": {str(gdf[col].iloc[i])!r}{comma_hint(gdf[col].iloc[i])}" for i in bad]
    return [(f"{where}: field '{col}' must be a number, but {len(bad)} value(s) are text that does not read as "
            f"one: {listing(items)}; write a number (Persian digits are fine) or leave it empty")]


def isic_text_notices(gdf: pd.DataFrame, where: str, id_field: str | None) -> list[Notice]:
    """ISIC codes with no digit at all (``abc``, ``-``): not codes, so those businesses are classified without
    them; a warning names them (a code with a stray letter, ``452O``, is read by its digits)."""
    if "isic" not in gdf.columns:
        return []
    bad = [i for i, v in enumerate(gdf["isic"]) if not is_missing(v) and not re.search(r"\d", str(v))]
    if not bad:
        return []
    items = [f"{row_id(gdf, i, id_field)}: {str(gdf['isic'].iloc[i])[:30]!r}" for i in bad]
    return [Notice("isic-unreadable", f"{where}: field 'isic' has {len(bad)} value(s) that are not ISIC codes (no "
                   f"digits): {listing(items)}; those businesses are classified without a code (by their other "
                   "fields and name); write the 4-digit ISIC Rev.4 class or leave it empty", {"values": len(bad)})]


def id_text_problems(gdf: pd.DataFrame, id_field: str | None, where: str) -> list[str]:
    """Ids holding control characters or NUL bytes (errors)."""
    if not id_field or id_field not in gdf.columns:
        return []
    bad = [i for i, v in enumerate(gdf[id_field]) if isinstance(v, str) and _CONTROL.search(v)]
    if not bad:
        return []
    items = [f"row {int(gdf['_row'].iloc[i]) if '_row' in gdf.columns else i + 1}: "
             f"{gdf[id_field].iloc[i]!r}" for i in bad]
    return [(f"{where}: {id_field} holds control characters (NUL, tab, line breaks …) in {len(bad)} row(s): "
            f"{listing(items)}; ids must be plain text")]


# ----------------------------------------------------------------------------------------- capacity

def check_capacity(estates: gpd.GeoDataFrame, where: str, default_vacant_share: float | None,
                   plots: gpd.GeoDataFrame | None = None) -> Findings:
    """``vacant_ha`` and ``gross_ha`` of the estates (working, metric CRS) against each other and
    against the polygon's own area. Negative values, vacant above gross and vacant far above the
    polygon are errors; an empty vacant_ha and a gross_ha far from the polygon are warnings."""
    out = Findings()
    if not len(estates):
        return out
    n = len(estates)
    nan = pd.Series(np.nan, index=estates.index)
    vac = pd.to_numeric(estates["vacant_ha"], errors="coerce") if "vacant_ha" in estates else nan
    gross = pd.to_numeric(estates["gross_ha"], errors="coerce") if "gross_ha" in estates else nan
    area = pd.Series(estates.geometry.area.to_numpy() / 10_000.0, index=estates.index)
    ids = estates["estate_id"].astype(str) if "estate_id" in estates else pd.Series(
        [str(i + 1) for i in range(n)], index=estates.index)
    rows = estates["_row"] if "_row" in estates else pd.Series(range(1, n + 1), index=estates.index)

    def item(i: Any, text: str = "") -> str:
        return f"row {int(rows[i])} ({ids[i]}){': ' + text if text else ''}"

    for col, s in (("vacant_ha", vac), ("gross_ha", gross)):
        neg = s < 0
        if neg.any():
            out.errors.append(f"{where}: {col} is negative for {int(neg.sum())} estate(s): "
                              + listing([item(i, f"{s[i]:,.6g}") for i in s.index[neg]])
                              + "; an area cannot be negative")
    with_plots = set(plots["estate_id"]) if plots is not None and len(plots) and "estate_id" in plots else set()
    empty = vac.isna() & ~ids.isin(with_plots)
    if empty.any():
        listed = listing([item(i) for i in vac.index[empty]])
        if default_vacant_share is not None:
            out.warnings.append(Notice("vacant-assumed",
                                       f"{where}: vacant_ha is empty for {int(empty.sum())} of {n} estate(s) "
                                       f"({listed}); their capacity is assumed to be "
                                       f"allocation.default_vacant_share = {default_vacant_share:g} of their gross area",
                                       {"estates": int(empty.sum()), "of": n}))
        else:
            out.warnings.append(Notice("vacant-missing",
                                       f"{where}: vacant_ha is empty for {int(empty.sum())} of {n} estate(s) "
                                       f"({listed}); their capacity is 0, so no business can be relocated there; "
                                       "fill vacant_ha or set allocation.default_vacant_share",
                                       {"estates": int(empty.sum()), "of": n}))
    above = (vac > gross) & (vac >= 0)
    if above.any():
        out.errors.append(f"{where}: vacant_ha is above gross_ha for {int(above.sum())} estate(s): "
                          + listing([item(i, f"vacant {vac[i]:,.6g} ha > gross {gross[i]:,.6g} ha")
                                      for i in vac.index[above]])
                          + "; vacant land is part of the gross area")
    valid_area = area > 0
    huge = (vac > VACANT_FACTOR * area) & valid_area
    if huge.any():
        out.errors.append(f"{where}: capacity far above the estate's own area for {int(huge.sum())} estate(s): "
                          + listing([item(i, f"{vac[i]:,.0f} ha of capacity in a {area[i]:,.0f} ha estate "
                                              "(its polygon)") for i in vac.index[huge]])
                          + "; check vacant_ha (its unit is hectares) and the polygon")
    ratio = gross / area
    off = valid_area & (gross > 0) & ((ratio > GROSS_FACTOR) | (ratio < 1 / GROSS_FACTOR))
    if off.any():
        out.warnings.append(Notice("gross-area-off",
                                   f"{where}: gross_ha is far from the polygon's own area for {int(off.sum())} "
                                   "estate(s): " + listing([item(i, f"gross_ha {gross[i]:,.6g} ha, polygon "
                                                                     f"{area[i]:,.6g} ha") for i in gross.index[off]])
                                   + "; check gross_ha (hectares) and the polygon", {"estates": int(off.sum())}))
    return out


def check_area_fields(layers: dict[str, gpd.GeoDataFrame], wheres: dict[str, str], id_fields: dict[str, str]
                      ) -> Findings:
    """``area_m2`` of businesses and plots (working, metric CRS): negative is an error (it was replaced by the
    category's default or lowered an estate's capacity without a word), and a plot's ``area_m2`` above
    :data:`VACANT_FACTOR` × its polygon is an error (it is the plot estate's capacity and decides which
    business fits)."""
    out = Findings()
    for name in ("businesses", "plots"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf) or "area_m2" not in gdf:
            continue
        a = pd.to_numeric(gdf["area_m2"], errors="coerce").to_numpy(float)
        neg = np.flatnonzero(a < 0)
        if len(neg):
            items = [f"{row_id(gdf, int(i), id_fields.get(name))}: {a[i]:,.6g}" for i in neg]
            out.errors.append(f"{wheres[name]}: area_m2 is negative for {len(neg)} feature(s): {listing(items)}; "
                              "an area cannot be negative: correct it or leave it empty")
        if name == "plots":
            poly = shapely.area(gdf.geometry.values)
            big = np.flatnonzero((poly > 0) & (a > VACANT_FACTOR * poly))
            if len(big):
                items = [f"{row_id(gdf, int(i), id_fields.get(name))}: area_m2 {a[i]:,.6g} m², polygon "
                         f"{poly[i]:,.0f} m²" for i in big]
                out.errors.append(f"{wheres[name]}: area_m2 is far above the plot's own polygon for {len(big)} "
                                  f"plot(s): {listing(items)}; check area_m2 (square metres) and the polygon")
    return out


# ------------------------------------------------------------------------------------ consistency

#: Two estates whose polygons overlap by at least this share of their union (intersection over union)
#: are one piece of land under two ids: an error (its land would be counted twice).
DUPLICATE_IOU = 0.9


def check_duplicate_estates(estates: gpd.GeoDataFrame, where: str) -> Findings:
    """Estates with the same or a nearly identical polygon under different ids (working CRS): errors
    naming both rows and ids and the overlap. A small estate inside a large one is not a duplicate."""
    out = Findings()
    geoms = estates.geometry.values
    if len(estates) < 2:
        return out
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    if not len(left):
        return out
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    union = shapely.area(geoms[left]) + shapely.area(geoms[right]) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    dup = iou >= DUPLICATE_IOU
    if not dup.any():
        return out
    items = [f"{row_id(estates, int(a), 'estate_id')} and {row_id(estates, int(b), 'estate_id')} "
             f"({'the same polygon' if v >= 0.9999 else f'{v:.0%} of their land shared'})"
             for a, b, v in zip(left[dup], right[dup], iou[dup])]
    out.errors.append(f"{where}: {int(dup.sum())} pair(s) of estates have the same or nearly the same polygon under "
                      f"two ids, so their land would be counted twice: {listing(items)}; keep one feature per "
                      "estate (merge or delete the copies)")
    return out


def check_plot_estates(plots: gpd.GeoDataFrame, estates: gpd.GeoDataFrame | None, where: str) -> Findings:
    """Plots whose ``estate_id`` is no estate of the estates layer (errors naming the rows and the
    closest estate ids): they would belong to no estate."""
    out = Findings()
    if not len(plots) or "estate_id" not in plots.columns or estates is None or "estate_id" not in estates:
        return out
    known = set(estates["estate_id"].dropna().astype(str))
    ids = plots["estate_id"]
    bad = np.flatnonzero(~ids.astype(str).isin(known).to_numpy() | ids.isna().to_numpy())
    if not len(bad):
        return out
    from ..common.vocab import nearest

    named = sorted({str(ids.iloc[i]) for i in bad if not is_missing(ids.iloc[i])})
    hints = [f"'{v}' → '{n}'" for v in named[:5] if (n := nearest(v, sorted(known)))]
    items = [f"{row_id(plots, int(i), 'plot_id')}: " + ("no estate_id" if is_missing(ids.iloc[i])
                                                           else f"estate_id {str(ids.iloc[i])!r}") for i in bad]
    out.errors.append(f"{where}: {len(bad)} of {len(plots)} plot(s) name an estate_id that no estate of the estates "
                      f"layer has: {listing(items)}"
                      + (f" (closest estate ids: {', '.join(hints)})" if hints else "")
                      + "; correct their estate_id, or remove the plots")
    return out


def check_sizes(layers: dict[str, gpd.GeoDataFrame], wheres: dict[str, str], id_fields: dict[str, str]) -> Findings:
    """Estate and plot polygons (working, metric CRS) larger than :data:`MAX_ESTATE_HA`: errors naming the
    rows, so that an estate of a thousand km² (wrong unit, wrong CRS, the province's outline in the
    estates layer) is refused before zoning cuts it into millions of cells."""
    out = Findings()
    for name in ("estates", "plots"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf):
            continue
        ha = shapely.area(gdf.geometry.values) / 10_000.0
        big = np.flatnonzero(ha > MAX_ESTATE_HA)
        if len(big):
            items = [f"{row_id(gdf, int(i), id_fields.get(name))}: {ha[i]:,.0f} ha" for i in big]
            out.errors.append(f"{wheres[name]}: {len(big)} of {len(gdf)} polygon(s) are larger than "
                              f"{MAX_ESTATE_HA:,.0f} ha ({MAX_ESTATE_HA / 100:,.0f} km²), implausible for "
                              f"{'an industrial estate' if name == 'estates' else 'a plot'}: {listing(items)}; "
                              "check the polygon and the layer's CRS (or remove the feature)")
    return out


# ------------------------------------------------------------------------------------- entry points

def check_read_layers(raw: dict[str, gpd.GeoDataFrame], scenario: Any, id_fields: dict[str, str]
                      ) -> CoordinateCheck:
    """Every check of the layers as read, before they are projected: text that does not read as a
    number, control characters in ids, NUL bytes in a DBF, mojibake, and the coordinates
    (:func:`check_coordinates`); also the study's centre for the working CRS."""
    wheres = {n: layer_where(n, scenario.layers[n]) for n in raw}
    out = Findings()
    for name, gdf in raw.items():
        where, idf = wheres[name], id_fields.get(name)
        out.errors += gdf.attrs.get(PLAUSIBILITY_ERRORS, [])
        for col in dict.fromkeys([idf, *(c for c in ("estate_id", "biz_id", "plot_id") if c in gdf.columns)]):
            out.errors += id_text_problems(gdf, col, where)
        spec = scenario.layers[name]
        path = scenario.resolve(spec.path)
        if path.suffix.lower() in (".geojson", ".json"):
            out.errors += geojson_nul_problems(path, where, {v: k for k, v in spec.fields.items()})
        if path.suffix.lower() == ".shp":
            dbf = next((c for c in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if c.exists()), None)
            if dbf is not None:
                rename = {v: k for k, v in spec.fields.items()}
                out.errors += dbf_nul_problems(dbf, where, spec.encoding or "utf-8", rename)
        out.warnings += isic_text_notices(gdf, where, idf)
        for col, rows in mojibake_rows(gdf).items():
            items = [f"{row_id(gdf, i, idf)}: {str(gdf[col].iloc[i])[:30]!r}" for i in rows]
            out.warnings.append(Notice("mojibake",
                                       f"{where}: field '{col}' has {len(rows)} value(s) that look like UTF-8 Persian "
                                       f"read with the wrong encoding (mojibake): {listing(items)}; save the file "
                                       "as UTF-8 with a matching .cpg, or set the layer's encoding:",
                                       {"values": len(rows)}))
    check = check_coordinates(raw, wheres, id_fields)
    check.findings = out.extend(check.findings)
    return check


def check_projected_layers(layers: dict[str, gpd.GeoDataFrame], study: Any, scenario: Any,
                           id_fields: dict[str, str], far: dict[str, np.ndarray]) -> Findings:
    """The checks that need the working (metric) CRS: estate capacity against the polygons
    (:func:`check_capacity`) and features outside the boundary (:func:`check_outside_boundary`)."""
    wheres = {n: layer_where(n, scenario.layers[n]) for n in layers}
    out = Findings()
    if "estates" in layers:
        out.extend(check_capacity(layers["estates"], wheres["estates"], scenario.allocation.default_vacant_share,
                                  layers.get("plots")))
        out.extend(check_duplicate_estates(layers["estates"], wheres["estates"]))
        if "plots" in layers:
            out.extend(check_plot_estates(layers["plots"], layers["estates"], wheres["plots"]))
    out.extend(check_outside_boundary(layers, study, wheres, id_fields, far))
    out.extend(check_sizes(layers, wheres, id_fields))
    out.extend(check_area_fields(layers, wheres, id_fields))
    return out
