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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["land_basis", "LAND_BASIS", "plots_allowed", "match_plots", "reletting_table", "FREE_STATUS",
           "RELET_COLUMNS", "plot_need_m2", "plots_that_fit", "PLOT_FIT_SLACK_M2"]

#: plot statuses that count as free land
FREE_STATUS = ("vacant", "terminated")
#: m²: a plot fits a business when its area is at least the business's plot need less this
PLOT_FIT_SLACK_M2 = 1e-6
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


def plot_need_m2(land_m2: np.ndarray, category: np.ndarray, plot_m2: dict[str, float], land_norm_m2: dict[str, float]
                 ) -> np.ndarray:
    """The plot each business needs: its net land (rounded to 0.1 m², as relocation.csv states it)
    scaled by its category's plot norm over its land norm (``plot_m2 / land_m2`` of the catalogue), so a
    business of the catalogue's typical size needs exactly the category's standard plot; rounded to
    0.01 m². A category without norms keeps its land.

    Parameters
    ----------
    land_m2
        Net land of each business (m²).
    category
        Category code of each business.
    plot_m2, land_norm_m2
        The catalogue's ``plot_m2`` and ``land_m2`` per category.

    Returns
    -------
    numpy.ndarray
        Plot need per business (m²).
    """
    ratio = np.array([plot_m2.get(c, np.nan) / land_norm_m2[c] if land_norm_m2.get(c) else np.nan
                      for c in category], dtype=float)
    land = np.round(np.asarray(land_m2, dtype=float), 1)
    return np.round(land * np.where(np.isfinite(ratio), ratio, 1.0), 2)


def plots_that_fit(need_m2: np.ndarray, plot_areas_m2: np.ndarray) -> np.ndarray:
    """How many of an estate's free plots fit each need (a plot fits when its area is at least the
    need). The plots that fit a business are the largest ones, so the sets are nested, and a set of
    businesses can all have a plot exactly when, for every k, at most k of them fit only k plots or
    fewer (Hall's condition): the allocation's capacity rows on a plot estate
    (:func:`siteplan.relocation.model.build_model`)."""
    a = np.sort(np.asarray(plot_areas_m2, dtype=float))
    return len(a) - np.searchsorted(a, np.asarray(need_m2, dtype=float) - PLOT_FIT_SLACK_M2, side="left")


def plots_allowed(plots: np.ndarray, usable: BaseGeometry, *, tol_m2: float = 0.01) -> np.ndarray:
    """Which plots lie wholly (to ``tol_m2`` or a millionth of their area) on ``usable`` land."""
    if len(plots) == 0:
        return np.zeros(0, dtype=bool)
    out = shapely.area(shapely.difference(plots, usable))
    return out <= np.maximum(tol_m2, 1e-6 * shapely.area(plots))


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
                  strict: bool) -> tuple[list[tuple[object, object, str]], np.ndarray, set]:
    """One pass of :func:`match_plots`: per phase (businesses, plots in scope or None for all, nearest
    homes first), each business takes a free plot its rules allow that fits — with ``strict`` the
    smallest, else the best fit to a quarter of its need, farthest from (or nearest) homes among equals.
    Returns the tenancies, the free-plot mask and the placed ids."""
    n = len(plots)
    pos = np.arange(n)
    free = np.ones(n, dtype=bool)
    ten: list[tuple[object, object, str]] = []
    placed: set = set()
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
