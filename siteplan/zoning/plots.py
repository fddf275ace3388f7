"""Plots: where an estate's free land is, which business gets which plot, and re-letting.

Free land (:func:`land_basis`): an estate listed in the ``plots`` layer is zoned on its own vacant
and terminated plots (occupied plots are never touched); otherwise an ``occupied`` polygon layer is
cut out of the estate and a ``vacant_land`` layer bounds it; without any of these the whole estate is
used and the zones are marked *indicative* (no vacancy map).

Plot-level assignment (:func:`match_plots`): the businesses of a category, largest need first, each
take the smallest free plot that fits (a plot fits when its area is at least the business's net
land), among equals the one farthest from homes; a plot is offered to a category only if its rules
allow the whole plot. Terminated plots are offered first to the scenario's re-letting categories
(``zoning.relet_first``; by default knowledge-based technology firms, as in the seed programme's
workshop complexes), nearest homes first since those firms are not a nuisance. When these preferences
would leave out a business that a plot could take, every business instead takes, largest need first,
the smallest free plot that fits (which houses everyone whenever that is possible). The allocation
sends to an estate with plots only businesses its free plots can house, one per plot
(:func:`siteplan.relocation.model.build_model`). A business left without a plot gets the reason
(``no plot big enough``, ``no plot left``, ``no plot its rules allow``).
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..guilds.catalogue import Catalogue
from ..rules.plotfit import PLOT_FIT_SLACK_M2, plot_need_m2, plots_that_fit
from .zone_check import check_pieces

__all__ = ["land_basis", "LAND_BASIS", "plots_allowed", "match_plots", "reletting_table", "FREE_STATUS",
           "RELET_COLUMNS", "plot_need_m2", "plots_that_fit", "PLOT_FIT_SLACK_M2", "subdivide_plots",
           "plots_for_zones", "plots_table", "PLOT_COLUMNS"]

#: columns of plots.geojson (besides ``use`` and the geometry)
PLOT_COLUMNS = ["plot_id", "estate_id", "zone_id", "category", "name_fa", "name_en", "env_cat", "sep_m",
                "min_home_m", "status", "biz_id", "area_m2"]


#: plot statuses that count as free land
FREE_STATUS = ("vacant", "terminated")
#: what the zones of an estate stand on (``land_basis`` in zones.geojson)
LAND_BASIS = {
    "plots": "the estate's vacant and terminated plots (plots layer)",
    "vacant_land": "vacant land (vacant_land layer)",
    "occupied": "the estate less its occupied land (occupied layer)",
    "indicative": "indicative: no vacancy map (no plots, occupied or vacant_land layer)",
}
RELET_COLUMNS = ["estate_id", "plot_id", "area_m2", "biz_id", "name", "category", "status", "reason"]


def land_basis(estate: BaseGeometry, estate_id: str, plots: gpd.GeoDataFrame | None,
               occupied: np.ndarray | None, vacant: np.ndarray | None) -> tuple[BaseGeometry, str]:
    """The land zones of one estate may use, and what it is based on (a key of :data:`LAND_BASIS`).

    Parameters
    ----------
    estate
        Estate polygon.
    estate_id
        Its id (to find its plots).
    plots
        The plots layer (working CRS), or None.
    occupied, vacant
        Geometries of the ``occupied`` and ``vacant_land`` layers, or None.

    Returns
    -------
    land, basis
        With plots, the union of the estate's free plots; else the estate cut by the occupied land
        and bounded by the vacant land.
    """
    if plots is not None and len(plots):
        mine = plots[plots["estate_id"].astype(str) == str(estate_id)]
        if len(mine):
            free = mine[mine["status"].isin(FREE_STATUS)]
            return shapely.union_all(free.geometry.values), "plots"
    land, basis = estate, "indicative"
    if vacant is not None and len(vacant):
        near = vacant[shapely.intersects(vacant, estate)]
        land, basis = shapely.intersection(estate, shapely.union_all(near)), "vacant_land"
    if occupied is not None and len(occupied):
        near = occupied[shapely.intersects(occupied, estate)]
        if len(near):
            land = shapely.difference(land, shapely.union_all(near))
        basis = "occupied" if basis == "indicative" else basis
    return land, basis


def plots_allowed(plots: np.ndarray, usable: BaseGeometry, *, tol_m2: float = 0.01) -> np.ndarray:
    """Which plots lie wholly (to ``tol_m2`` or a millionth of their area) on ``usable`` land."""
    if len(plots) == 0:
        return np.zeros(0, dtype=bool)
    out = shapely.area(shapely.difference(plots, usable))
    return cast("np.ndarray", out <= np.maximum(tol_m2, 1e-6 * shapely.area(plots)))


def match_plots(plots: pd.DataFrame, businesses: pd.DataFrame, order: list[str], allowed: dict[str, np.ndarray],
                *, relet_first: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give each business a plot (see the module docstring).

    Parameters
    ----------
    plots
        Free plots of one estate: ``plot_id``, ``status``, ``area_m2``, ``home_m`` (distance from
        homes; NaN when there are none), in a fixed order.
    businesses
        ``biz_id``, ``category``, ``land_m2`` (net land each needs).
    order
        Categories, first served first (heaviest first).
    allowed
        Per category, a boolean array over ``plots``: the plots its rules allow.
    relet_first
        Categories offered the terminated plots first.

    Returns
    -------
    tenancy, unplaced
        ``tenancy``: ``plot_id``, ``biz_id``, ``category``; ``unplaced``: ``biz_id``, ``reason``.
    """
    n = len(plots)
    area = plots["area_m2"].to_numpy(float)
    home = plots["home_m"].to_numpy(float) if "home_m" in plots else np.zeros(n)
    home = np.where(np.isnan(home), 0.0, home)
    by_cat = {c: g.sort_values(["land_m2", "biz_id"], ascending=[False, True], kind="mergesort")
              for c, g in businesses.groupby("category", sort=False)}
    term = plots["status"].to_numpy() == "terminated"
    phases = ([(by_cat[c], term, True) for c in relet_first if c in by_cat]
              + [(by_cat[c], np.ones(n, bool), False) for c in order if c in by_cat])
    ten, free, placed = _assign_plots(plots, area, home, phases, allowed, strict=False)
    if len(placed) < len(businesses) and by_cat:
        # the preferences (re-letting first, plots far from homes) may leave out a business that a plot
        # could take: then every business, largest first, takes the smallest plot that fits (which gives
        # a plot to every business whenever that is possible and the rules allow the same plots)
        every = pd.concat([by_cat[c] for c in order if c in by_cat] or [businesses.iloc[:0]])
        every = every.sort_values(["land_m2", "biz_id"], ascending=[False, True], kind="mergesort")
        ten2, free2, placed2 = _assign_plots(plots, area, home, [(every, None, False)], allowed, strict=True)
        if len(placed2) > len(placed):
            ten, free, placed = ten2, free2, placed2
    unp = []
    for code in order:
        if code not in by_cat:
            continue
        ok = allowed.get(code, np.zeros(n, dtype=bool))
        for b in by_cat[code].itertuples():
            if b.biz_id in placed:
                continue
            need = float(b.land_m2)
            if not ok.any():
                why = "no plot its siting rules allow"
            elif not (ok & free).any():
                why = "no plot left"
            else:
                why = (f"no plot big enough (largest free plot its rules allow {area[ok & free].max():,.0f} m², "
                       f"needs {need:,.0f} m²)")
            unp.append((b.biz_id, why))
    return (pd.DataFrame(ten, columns=["plot_id", "biz_id", "category"]),
            pd.DataFrame(unp, columns=["biz_id", "reason"]))


def _assign_plots(plots: pd.DataFrame, area: np.ndarray, home: np.ndarray,
                  phases: list[tuple[pd.DataFrame, np.ndarray | None, bool]], allowed: dict[str, np.ndarray], *,
                  strict: bool) -> tuple[list[tuple[object, object, str]], np.ndarray, set[object]]:
    """One pass of :func:`match_plots`: per phase (businesses, plots in scope or None for all, nearest
    homes first), each business takes a free plot its rules allow that fits — with ``strict`` the
    smallest, else the best fit to a quarter of its need, farthest from (or nearest) homes among equals.
    Returns the tenancies, the free-plot mask and the placed ids."""
    n = len(plots)
    pos = np.arange(n)
    free = np.ones(n, dtype=bool)
    ten: list[tuple[object, object, str]] = []
    placed: set[object] = set()
    for group, scope, near_first in phases:
        for b in group.itertuples():
            if b.biz_id in placed:
                continue
            ok = allowed.get(str(b.category), np.zeros(n, dtype=bool))
            need = float(b.land_m2)
            cand = (ok if scope is None else ok & scope) & free & (area >= need - PLOT_FIT_SLACK_M2)
            if not cand.any():
                continue
            i = np.flatnonzero(cand)
            if strict:  # the smallest plot that fits
                j = int(i[np.lexsort((pos[i], -home[i], area[i]))[0]])
            else:
                fit = np.ceil(4.0 * area[i] / max(need, 1e-9))
                j = int(i[np.lexsort((pos[i], home[i] if near_first else -home[i], fit))[0]])
            free[j] = False
            placed.add(b.biz_id)
            ten.append((plots["plot_id"].iat[j], b.biz_id, str(b.category)))
    return ten, free, placed


def reletting_table(plots: gpd.GeoDataFrame | None, tenancy: pd.DataFrame, businesses: pd.DataFrame,
                    allowed_any: dict[str, bool], demand_estates: set[str]) -> pd.DataFrame:
    """Every terminated plot with its new tenant or the reason it stays empty.

    Parameters
    ----------
    plots
        The plots layer (``plot_id``, ``estate_id``, ``status``, ``area_m2``), or None.
    tenancy
        ``plot_id``, ``biz_id``, ``category`` (every estate).
    businesses
        Relocation rows (``biz_id``, ``name``, ``category``, ``land_m2``, ``estate_id``) of the assigned
        businesses.
    allowed_any
        Per plot id: True when the rules of at least one category assigned to its estate allow it.
    demand_estates
        Estates that receive businesses.

    Returns
    -------
    pandas.DataFrame
        :data:`RELET_COLUMNS`, one row per plot whose ``status`` is ``terminated``, by estate and plot id:
        ``re-let`` with its new tenant, or ``empty`` with the reason (no business relocated to the estate,
        the rules exclude it, too small, or not needed). No rows when there are no plots.
    """
    if plots is None or not len(plots):
        return pd.DataFrame(columns=RELET_COLUMNS)
    t = plots[plots["status"] == "terminated"]
    ten = tenancy.set_index("plot_id") if len(tenancy) else pd.DataFrame(columns=["biz_id", "category"])
    names = businesses.set_index("biz_id")["name"] if "name" in businesses else pd.Series(dtype=object)
    rows = []
    for p in t.sort_values(["estate_id", "plot_id"]).itertuples():
        area = round(float(p.area_m2), 2)
        if p.plot_id in ten.index:
            b = ten.loc[p.plot_id]
            rows.append((p.estate_id, p.plot_id, area, b["biz_id"], names.get(b["biz_id"], ""), b["category"],
                         "re-let", ""))
            continue
        if str(p.estate_id) not in demand_estates:
            why = "no business is relocated to this estate"
        elif not allowed_any.get(p.plot_id, False):
            why = "the siting rules exclude it for every category relocated here"
        else:
            why = "not needed: every business relocated here that fits it has a plot"
            mine = businesses[businesses["estate_id"].astype(str) == str(p.estate_id)]
            placed = set(tenancy["biz_id"]) if len(tenancy) else set()
            left = mine[~mine["biz_id"].isin(placed)]
            if len(left) and (left["land_m2"].astype(float) > float(p.area_m2)).all():
                why = (f"too small for the businesses still without a plot (smallest needs "
                       f"{left['land_m2'].astype(float).min():,.0f} m²)")
        rows.append((p.estate_id, p.plot_id, area, "", "", "", "empty", why))
    return pd.DataFrame(rows, columns=RELET_COLUMNS)


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
    check_pieces(2.0 * max(maxy - miny, 0.0) / period * max(maxx - minx, 0.0) / width, "plots", float(zone.area))
    ys = []
    y = miny + strip_m
    while y + depth <= maxy + 1e-9:
        ys.append(y)
        if y + 2 * depth <= maxy + 1e-9:
            ys.append(y + depth)
        y += period
    xs = np.arange(minx, maxx - width + 1e-9, width)
    if not ys or not len(xs):
        return []
    gx, gy = np.meshgrid(xs, np.array(ys))
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + width, gy.ravel() + depth)
    inside = shapely.covers(z.buffer(1e-6), boxes)
    return [affinity.rotate(b, angle, origin=origin) for b in boxes[inside]]


def plots_for_zones(zones: gpd.GeoDataFrame, catalogue: Catalogue, *, strip_m: float = 12.0) -> gpd.GeoDataFrame:
    """Plots of every zone, with ``plot_id``, ``estate_id``, ``zone_id``, ``category`` and ``area_m2``.

    Parameters
    ----------
    zones
        The zones (``zone_id``, ``estate_id``, ``category``, geometry in a metric CRS, e.g. the working CRS).
    catalogue
        The categories' plot sizes (``plot_m2``, m²).
    strip_m
        Width (m) of the access strips between pairs of plot rows (:func:`subdivide_plots`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per whole plot that fits in its zone (``plot_id`` = zone id, ``-P`` and a 3-digit number),
        ``area_m2`` rounded to 0.01 m², in the zones' CRS; no rows (the same columns) for no plots.
    """
    rows = []
    for z in zones.itertuples():
        size = float(catalogue.row(z.category)["plot_m2"])
        for i, g in enumerate(subdivide_plots(z.geometry, size, strip_m=strip_m), start=1):
            rows.append({"plot_id": f"{z.zone_id}-P{i:03d}", "estate_id": z.estate_id, "zone_id": z.zone_id,
                         "category": z.category, "area_m2": round(g.area, 2), "geometry": g})
    cols = ["plot_id", "estate_id", "zone_id", "category", "area_m2"]
    return gpd.GeoDataFrame(rows, columns=[*cols, "geometry"], geometry="geometry", crs=zones.crs)


def plots_table(layer: gpd.GeoDataFrame | None, gen_rows: list[dict[str, object]], tenancy: pd.DataFrame,
               zones: gpd.GeoDataFrame, catalogue: Catalogue, homes: np.ndarray, crs: object
               ) -> gpd.GeoDataFrame | None:
    """Every plot (existing ones with their tenant, generated ones) with labels and distances."""
    frames = []
    zmap = dict(zip(zip(zones["estate_id"].tolist(), zones["category"].tolist()), zones["zone_id"].tolist()))
    if layer is not None and len(layer):
        t = tenancy.set_index("plot_id") if len(tenancy) else pd.DataFrame(columns=["biz_id", "category"])
        e = layer.copy()
        ids = e["plot_id"]
        e["biz_id"] = [t.loc[p, "biz_id"] if p in t.index else None for p in ids]
        e["category"] = [t.loc[p, "category"] if p in t.index else None for p in ids]
        e["zone_id"] = [zmap.get((s, c)) if c else None for s, c in zip(e["estate_id"].astype(str), e["category"])]
        a = e["area_m2"].astype(float) if "area_m2" in e else pd.Series(np.nan, index=e.index)
        e["area_m2"] = a.fillna(pd.Series(e.geometry.area, index=e.index)).round(2)
        e["use"] = np.where(e["status"] == "occupied", "occupied",
                            np.where(e["biz_id"].notna(), np.where(e["status"] == "terminated", "re-let", "let"),
                                     "empty"))
        frames.append(e[["plot_id", "estate_id", "zone_id", "category", "status", "biz_id", "area_m2", "use",
                         "geometry"]])
    if gen_rows:
        frames.append(gpd.GeoDataFrame(gen_rows, geometry="geometry", crs=crs))
    if not frames:
        return None
    p = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    cat = p["category"]
    known = cat.notna()
    p["name_fa"] = [str(catalogue.row(c)["name_fa"]) if k else None for c, k in zip(cat, known)]
    p["name_en"] = [str(catalogue.row(c)["name_en"]) if k else None for c, k in zip(cat, known)]
    p["env_cat"] = [str(catalogue.row(c)["env_cat"]) if k else None for c, k in zip(cat, known)]
    sep = dict(zip(zones["zone_id"], zones["sep_m"]))
    p["sep_m"] = [sep.get(z) for z in p["zone_id"]]
    if len(homes):
        tree = shapely.STRtree(homes)
        _, dist = tree.query_nearest(p.geometry.values, return_distance=True, all_matches=False)
        p["min_home_m"] = np.round(dist, 2)
    else:
        p["min_home_m"] = None
    return gpd.GeoDataFrame(p[[*PLOT_COLUMNS, "use", "geometry"]], geometry="geometry", crs=crs)
