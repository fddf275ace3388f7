"""Zoning: category-aware usable land in each estate, and specialized zones inside receiving
estates with the heaviest nuisance farthest from homes.

The land each category may use inside an estate comes from its :class:`siteplan.rules.RuleSet`
(every rule: separation, DOE distances, constraint buffers, slope, study area).

:func:`zone_estate` divides one estate: categories are taken heaviest first (largest separation from
homes); each takes, within the land its rules allow and not yet zoned, the part farthest from homes
with the area its assigned demand needs (net land plus the non-saleable share), found by bisection on
the distance from homes. A zone therefore never comes closer to homes than its category's distance,
and when the far land runs out the shortfall is reported with the binding rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ._geom import polsby_popper, polygonal
from .guilds import Catalogue
from .rules import RuleSet, buffer_out, target_geoms
from .scenario import Scenario
from .units import M2_PER_HA

log = logging.getLogger(__name__)

#: homes within this many times the largest separation distance shape an estate's zones
HOMES_REACH_FACTOR = 3.0
#: ... and at least within this distance (m)
MIN_HOMES_REACH_M = 5_000.0

__all__ = ["homes_geoms", "zone_estate", "zone_estates", "ZoneResult", "polsby_popper",
           "subdivide_plots", "plots_for_zones"]


def homes_geoms(layers: dict[str, gpd.GeoDataFrame], scenario: Scenario) -> np.ndarray:
    """Every home (quiet and mixed urban areas, housing receptors): the reference for zone bands."""
    return np.concatenate([target_geoms("homes", layers, scenario), target_geoms("homes_mixed", layers, scenario)])


@dataclass(frozen=True)
class ZoneResult:
    """Zones of one estate and the shortfall of categories that did not fit."""

    zones: list[dict[str, object]]
    shortfall: list[dict[str, object]]


def _bisect_area(part_at: "Callable[[float], BaseGeometry]", lo: float, hi: float, need_m2: float, *,
                 grows: bool, fallback: BaseGeometry) -> BaseGeometry:
    """Bisect a one-parameter family of parts for the one whose area is ``need_m2`` (within 0.05 %).

    ``grows``: the area increases with the parameter (a disc's radius) rather than decreasing with it
    (a distance from homes). Returns the smallest part found with at least the area needed, else
    ``fallback``.
    """
    best = fallback
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        part = part_at(mid)
        a = part.area
        if a >= need_m2:
            best = part
            hi, lo = (mid, lo) if grows else (hi, mid)
            if a - need_m2 <= 0.0005 * need_m2:
                break
        else:
            hi, lo = (hi, mid) if grows else (mid, lo)
        if hi - lo < 0.01:
            break
    return best


def _far_part(domain: BaseGeometry, homes: BaseGeometry, need_m2: float, t_hi: float) -> BaseGeometry:
    """The part of ``domain`` at least t from homes whose area is ``need_m2`` (bisection on t)."""
    if homes.is_empty:
        return domain
    return _bisect_area(lambda t: domain.difference(buffer_out(homes, t)), 0.0, t_hi, need_m2,
                        grows=False, fallback=domain)


def _compact_part(domain: BaseGeometry, homes: BaseGeometry, need_m2: float) -> BaseGeometry:
    """The part of ``domain`` within a disc around its point farthest from homes, of area ``need_m2``."""
    minx, miny, maxx, maxy = domain.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 30), np.linspace(miny, maxy, 30))
    cand = shapely.points(gx.ravel(), gy.ravel())
    cand = cand[shapely.contains(domain, cand)]
    verts = shapely.points(shapely.get_coordinates(domain))
    pts = np.concatenate([cand, verts])
    d = shapely.distance(pts, homes) if not homes.is_empty else np.zeros(len(pts))
    far = pts[int(np.argmax(d))]
    return _bisect_area(lambda r: domain.intersection(shapely.buffer(far, r, quad_segs=12)), 0.0,
                        float(np.hypot(maxx - minx, maxy - miny)) * 1.01, need_m2, grows=True, fallback=domain)


def zone_estate(estate: BaseGeometry, demand: dict[str, float], catalogue: Catalogue,
                usable: dict[str, BaseGeometry], homes: BaseGeometry, *, non_saleable: float,
                estate_id: str = "", units: dict[str, int] | None = None,
                binding: dict[str, str] | None = None, shape: str = "compact") -> ZoneResult:
    """Divide one estate into specialized zones, heaviest categories farthest from homes.

    Parameters
    ----------
    estate
        The estate polygon (working CRS).
    demand
        Net land (m²) assigned to each category.
    catalogue
        For the categories' separation distances (heaviness order).
    usable
        Per category, the part of the estate its rules allow.
    homes
        Union of homes near the estate.
    non_saleable
        Share of zone area for internal roads, green and utilities.
    estate_id, units, binding
        Labels for the output rows (units per category, binding rule per category).
    shape
        ``compact``: each zone is the part of its allowed land within a disc around the allowed
        point farthest from homes (round, plot-friendly zones; heavy categories are placed first, so
        they take the far end). ``bands``: each zone is the whole band of its allowed land beyond a
        distance from homes (strict distance order, but thin bands when demand is small).

    Returns
    -------
    ZoneResult
        ``zones``: dicts with ``estate_id``, ``zone_id``, ``category``, ``env_cat``, ``area_ha``,
        ``net_ha``, ``units``, ``min_home_m``, ``compactness``, ``geometry``; ``shortfall``: dicts with
        ``estate_id``, ``category``, ``short_ha`` and ``rule``.
    """
    units = units or {}
    binding = binding or {}
    # heaviest first; among equals, value-chain partners next to each other (adjacent bands)
    order = sorted((c for c, v in demand.items() if v > 0),
                   key=lambda c: (-float(catalogue.row(c)["sep_m"]), -catalogue.env_rank(c),
                                  str(catalogue.row(c)["chain"] or ""), c))
    remaining = estate
    minx, miny, maxx, maxy = estate.bounds
    t_hi = float(homes.distance(estate) + np.hypot(maxx - minx, maxy - miny)) if not homes.is_empty else 0.0
    zones, short = [], []
    for k, code in enumerate(order):
        need = demand[code] / (1.0 - non_saleable)
        domain = usable[code].intersection(remaining)
        if domain.area + 1e-6 < need:
            short.append({"estate_id": estate_id, "category": code,
                          "short_ha": round((need - domain.area) / M2_PER_HA, 4),
                          "rule": binding.get(code) or "estate area"})
            part = domain
        elif shape == "bands":
            part = _far_part(domain, homes, need, t_hi)
        else:
            part = _compact_part(domain, homes, need)
        if part.is_empty or part.area <= 0:
            continue
        part = polygonal(shapely.make_valid(part), min_area=1.0)  # slivers of band edges dropped
        if part.is_empty:
            continue
        remaining = remaining.difference(part)
        row = catalogue.row(code)
        zones.append({
            "estate_id": estate_id, "zone_id": f"{estate_id}-Z{k + 1:02d}", "category": code,
            "env_cat": str(row["env_cat"]), "area_ha": round(part.area / M2_PER_HA, 4),
            "net_ha": round(part.area * (1 - non_saleable) / M2_PER_HA, 4), "units": int(units.get(code, 0)),
            "min_home_m": round(float(part.distance(homes)), 2) if not homes.is_empty else None,
            "compactness": round(polsby_popper(part), 4), "geometry": part,
        })
    return ZoneResult(zones, short)


def zone_estates(estates: gpd.GeoDataFrame, demand: pd.DataFrame, catalogue: Catalogue,
                 rules: dict[str, RuleSet], layers: dict[str, gpd.GeoDataFrame], scenario: Scenario,
                 usable_table: pd.DataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Zone every receiving estate.

    Parameters
    ----------
    estates
        Estate polygons with ``estate_id``.
    demand
        Rows ``estate_id``, ``category``, ``land_m2`` (net), ``units``.
    catalogue, layers, scenario
        As elsewhere.
    rules
        The categories' rule sets: each zone lies on land its category's rules allow (every rule,
        slope and study area included).
    usable_table
        Output of :func:`siteplan.rules.usable_land` (for the binding rule labels).

    Returns
    -------
    zones, shortfall
        A GeoDataFrame of zones and a frame of shortfalls.
    """
    ns = scenario.zoning.non_saleable_share
    non_saleable = (1.0 - scenario.allocation.net_to_gross) if ns is None else ns
    homes_all = homes_geoms(layers, scenario)
    tree = shapely.STRtree(homes_all) if len(homes_all) else None
    zones, short = [], []
    bind = {}
    if usable_table is not None:
        bind = {(r.estate_id, r.category): r.binding for r in usable_table.itertuples()}
    for eid, grp in demand.groupby("estate_id", sort=True):
        est = estates.loc[estates["estate_id"] == eid]
        if est.empty:
            continue
        geom = est.geometry.iloc[0]
        d = dict(zip(grp["category"], grp["land_m2"].astype(float)))
        u = dict(zip(grp["category"], grp["units"].astype(int)))
        # homes within reach of the estate (the nearest one at least)
        if tree is not None:
            reach = max(float(catalogue.table["sep_m"].max()) * HOMES_REACH_FACTOR, MIN_HOMES_REACH_M)
            idx = tree.query(geom, predicate="dwithin", distance=reach)
            if len(idx) == 0:
                idx = tree.query_nearest(geom)
            homes = shapely.union_all(homes_all[idx])
        else:
            homes = shapely.Polygon()
        cuts: dict = {}  # rules the categories share are cut once
        usable = {c: rules[c].usable(geom, cache=cuts)[0] for c in d}
        res = zone_estate(geom, d, catalogue, usable, homes, non_saleable=non_saleable, estate_id=str(eid),
                          units=u, binding={c: bind.get((eid, c), "") for c in d}, shape=scenario.zoning.shape)
        zones.extend(res.zones)
        short.extend(res.shortfall)
    cols = ["estate_id", "zone_id", "category", "env_cat", "area_ha", "net_ha", "units", "min_home_m", "compactness"]
    zg = gpd.GeoDataFrame(zones, columns=cols + ["geometry"], geometry="geometry", crs=estates.crs) if zones \
        else gpd.GeoDataFrame(columns=cols + ["geometry"], geometry="geometry", crs=estates.crs)
    return zg, pd.DataFrame(short, columns=["estate_id", "category", "short_ha", "rule"])


def subdivide_plots(zone: BaseGeometry, plot_m2: float, *, strip_m: float = 12.0) -> list[BaseGeometry]:
    """Divide a zone into rectangular plots of ``plot_m2`` along internal access strips.

    Plots are twice as deep as wide, in pairs of rows back to back between access strips of
    ``strip_m`` metres, aligned with the zone's minimum rotated rectangle; only whole plots inside
    the zone are kept.

    Parameters
    ----------
    zone
        Zone polygon (metric CRS).
    plot_m2
        Plot area.
    strip_m
        Width of the access strips.

    Returns
    -------
    list of Polygon
        Plots, ordered row by row.
    """
    from shapely import affinity

    if zone.is_empty or plot_m2 <= 0:
        return []
    rect = zone.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:4]
    edges = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    k = int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))
    angle = float(np.degrees(np.arctan2(edges[k, 1], edges[k, 0])))
    origin = zone.centroid
    z = affinity.rotate(zone, -angle, origin=origin)
    minx, miny, maxx, maxy = z.bounds
    depth = float(np.sqrt(2.0 * plot_m2))
    width = plot_m2 / depth
    period = strip_m + 2 * depth
    ys = []
    y = miny + strip_m
    while y + depth <= maxy + 1e-9:
        ys.append(y)
        if y + 2 * depth <= maxy + 1e-9:
            ys.append(y + depth)
        y += period
    xs = np.arange(minx, maxx - width + 1e-9, width)
    if not len(ys) or not len(xs):
        return []
    gx, gy = np.meshgrid(xs, np.array(ys))
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + width, gy.ravel() + depth)
    inside = shapely.covers(z.buffer(1e-6), boxes)
    return [affinity.rotate(b, angle, origin=origin) for b in boxes[inside]]


def plots_for_zones(zones: gpd.GeoDataFrame, catalogue: Catalogue, *, strip_m: float = 12.0) -> gpd.GeoDataFrame:
    """Plots of every zone, with ``plot_id``, ``estate_id``, ``zone_id``, ``category`` and ``area_m2``."""
    rows = []
    for z in zones.itertuples():
        size = float(catalogue.row(z.category)["plot_m2"])
        for i, g in enumerate(subdivide_plots(z.geometry, size, strip_m=strip_m), start=1):
            rows.append({"plot_id": f"{z.zone_id}-P{i:03d}", "estate_id": z.estate_id, "zone_id": z.zone_id,
                         "category": z.category, "area_m2": round(g.area, 2), "geometry": g})
    cols = ["plot_id", "estate_id", "zone_id", "category", "area_m2"]
    return gpd.GeoDataFrame(rows, columns=cols + ["geometry"], geometry="geometry", crs=zones.crs)
