"""Zoning of every receiving estate: zones, plots and the re-letting of terminated plots.

One estate's zones are made by :func:`siteplan.zoning.estate.zone_estate` (the shapes, the overlay
modes and the checks are described there). On an estate listed in the ``plots`` layer the zones are
made of its free plots instead: each business gets a plot (:func:`siteplan.zoning.plots.match_plots`)
and a zone is the plots of its category. :func:`zone_plan` does this for every estate, generates plots
in the zones when ``zoning.plots`` asks, and lists what each business and each terminated plot got.

The per-estate names (:func:`zone_estate`, :class:`EstateContext`, ...) and the zoning sheets
(:func:`zoning_sheets`) are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..common.geom import WRITTEN_SNAP_M, as_written, polsby_popper
from ..common.units import M2_PER_HA
from ..errors import InputError
from ..guilds.catalogue import Catalogue
from ..rules.ruleset import RuleSet
from ..scenario import Scenario
from .blocks import plot_boxes
from .estate import (
    MIN_CONVEXITY,
    SHAPES,
    ZONE_COLUMNS,
    EstateContext,
    ZoneLabels,
    ZoneResult,
    category_order,
    convexity,
    home_separation,
    homes_geoms,
    zone_estate,
    zone_row,
)
from .placement import order_reach
from .plots import (
    FREE_STATUS,
    PLOT_COLUMNS,
    land_basis,
    match_plots,
    plot_need_m2,
    plots_allowed,
    plots_for_zones,
    plots_table,
    reletting_table,
    subdivide_plots,
)
from .sheets import SHEET_COLUMNS, ZoningSheet, zoning_sheets
from .zone_check import TooManyPieces, area_tolerance, verify_zones

#: homes within this many times the largest separation distance shape an estate's zones
HOMES_REACH_FACTOR = 3.0
#: ... and at least within this distance (m)
MIN_HOMES_REACH_M = 5_000.0
__all__ = ["homes_geoms", "zone_estate", "EstateContext", "zone_estates", "zone_plan", "ZoneResult", "ZonePlan", "polsby_popper",
           "subdivide_plots", "plots_for_zones", "category_order", "home_separation", "SHAPES", "MIN_CONVEXITY",
           "convexity", "order_reach", "zoning_sheets", "SHEET_COLUMNS", "ZoningSheet", "plot_need", "PlanOptions",
           "PLOT_COLUMNS"]


@dataclass
class ZonePlan:
    """Zones, plots and re-letting of every receiving estate.

    Parameters
    ----------
    zones
        One row per zone (:data:`ZONE_COLUMNS`).
    shortfall
        ``estate_id``, ``category``, ``short_ha``, ``rule``.
    plots
        Existing plots (every estate of the plots layer) and generated ones (``zoning.plots``) with
        their tenant (:data:`PLOT_COLUMNS` and ``use``); None when there are neither.
    tenancy
        Per assigned business: ``biz_id``, ``plot_id`` and ``plot_reason`` (why it has no plot, on an
        estate with plots).
    reletting
        Every terminated plot with its new tenant or why it stays empty
        (:data:`siteplan.zoning.plots.RELET_COLUMNS`).
    notes
        Warnings for the run (indicative zones, recovered overlays, plots short).
    """

    zones: gpd.GeoDataFrame
    shortfall: pd.DataFrame
    plots: gpd.GeoDataFrame | None
    tenancy: pd.DataFrame
    reletting: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _plot_frame(g: gpd.GeoDataFrame, homes: BaseGeometry) -> pd.DataFrame:
    area = g["area_m2"].astype(float) if "area_m2" in g else pd.Series(np.nan, index=g.index)
    area = area.fillna(pd.Series(g.geometry.area, index=g.index))
    home = shapely.distance(g.geometry.values, homes) if not homes.is_empty else np.full(len(g), np.nan)
    return pd.DataFrame({"plot_id": g["plot_id"].to_numpy(), "status": g["status"].to_numpy(),
                         "area_m2": area.to_numpy(float), "home_m": np.asarray(home, float)})



@dataclass(frozen=True)
class _Site:
    """One estate being zoned: its id, the homes near it, and per category its usable land and its
    distance from homes."""

    eid: str
    homes: BaseGeometry
    usable: dict[str, BaseGeometry]
    sep: dict[str, float]


def _plot_zones(site: _Site, order: list[str], biz: pd.DataFrame, free: gpd.GeoDataFrame, plots: tuple[pd.DataFrame, ...]
                ) -> tuple[list[tuple[int, str, BaseGeometry, int]], list[dict[str, object]]]:
    """Per category, the union of the plots its businesses got, and the shortfall of those left
    without a plot (``plots``: the plot frame, the tenancy and the unplaced businesses)."""
    pf, ten, unp = plots
    geoms = free.geometry.values
    pos = {p: i for i, p in enumerate(pf["plot_id"])}
    short: list[dict[str, object]] = []
    got = []
    for k, code in enumerate(order):
        ids = ten.loc[ten["category"] == code, "plot_id"]
        left = unp[unp["biz_id"].isin(biz.loc[biz["category"] == code, "biz_id"])]
        if len(left):
            need = biz.set_index("biz_id").loc[left["biz_id"], "land_m2"].astype(float).sum()
            why = left["reason"].str.split(" \\(").str[0].value_counts().index[0]
            short.append({"estate_id": site.eid, "category": code, "short_ha": round(need / M2_PER_HA, 4),
                          "rule": f"plots: {why}"})
        if len(ids):
            got.append((k, code, shapely.union_all(geoms[[pos[p] for p in ids]]), len(ids)))
    return got, short


def _zone_on_plots(site: _Site, mine: gpd.GeoDataFrame, order: list[str], biz: pd.DataFrame, catalogue: Catalogue,
                   relet_first: tuple[str, ...], crs: Any = None
                   ) -> tuple[ZoneResult, pd.DataFrame, pd.DataFrame, dict[str, bool]]:
    """Zones of an estate made of its free plots: each business gets a plot; a zone is the plots of
    its category (checked and described as written when ``crs`` is given, as in :class:`EstateContext`)."""
    usable = site.usable
    free = mine[mine["status"].isin(FREE_STATUS)]
    pf = _plot_frame(free, site.homes)
    geoms = free.geometry.values
    cats = list(dict.fromkeys(list(order) + [c for c in relet_first if c in usable]))
    allowed = {c: plots_allowed(geoms, usable[c]) for c in cats}
    ten, unp = match_plots(pf, biz, order, allowed, relet_first=relet_first)
    allowed_any = dict(zip(pf["plot_id"], np.any([allowed[c] for c in order], axis=0)
                           if order else np.zeros(len(pf), bool)))
    land = shapely.union_all(geoms)
    got, short = _plot_zones(site, order, biz, free, (pf, ten, unp))
    needs = [g.area for _, _, g, _ in got]
    if crs is not None and got:
        got = [(k, c, w, n) for (k, c, _, n), w in zip(got, as_written([g for _, _, g, _ in got], crs))]
    tol = area_tolerance(land.area if not land.is_empty else 1.0)
    bad = verify_zones([g for _, _, g, _ in got], [usable[c] for _, c, _, _ in got], needs, land, tol=tol,
                       snap_m=WRITTEN_SNAP_M if crs is not None else 0.0)
    labels = ZoneLabels(site.eid, catalogue, site.homes, 1.0, "plots", "plots", "exact")
    zones = []
    for k, code, g, n in got:
        r = zone_row(labels, code, g, k, n, site.sep[code])
        r["plots"] = n
        if bad:
            r["check"] = "NOT verified: " + "; ".join(bad)
        zones.append(r)
    return ZoneResult(zones, short, "exact", tuple(bad), None), ten, unp, allowed_any


def _layer_geoms(layers: dict[str, gpd.GeoDataFrame]
                 ) -> tuple[gpd.GeoDataFrame | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The plots layer and the geometries of the occupied, vacant_land and roads layers (None if absent)."""
    def g(name: str) -> np.ndarray | None:
        return layers[name].geometry.values if name in layers and len(layers[name]) else None

    return layers.get("plots"), g("occupied"), g("vacant_land"), g("roads")


def _homes_near(geom: BaseGeometry, homes_all: np.ndarray, tree: shapely.STRtree | None, reach: float
                ) -> BaseGeometry:
    """Union of the homes within ``reach`` of an estate (the nearest one at least)."""
    if tree is None:
        return shapely.Polygon()
    idx = tree.query(geom, predicate="dwithin", distance=reach)
    if len(idx) == 0:
        idx = tree.query_nearest(geom)
    return shapely.union_all(homes_all[idx])


def _generated_plots(res: ZoneResult, eid: str, biz: pd.DataFrame, homes: BaseGeometry, catalogue: Catalogue,
                     strip_m: float, crs: object
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, object]], list[str]]:
    """Plots of the category's size in each zone of an estate (``zoning.plots``), given to its businesses.

    Returns
    -------
    tenancy, unplaced, plot rows, notes
    """
    tens, unps, rows, notes = [], [], [], []
    for z in res.zones:
        code, zid = str(z["category"]), str(z["zone_id"])
        size = float(catalogue.row(code)["plot_m2"])
        zg = z["geometry"]
        assert isinstance(zg, BaseGeometry)
        try:
            boxes = (plot_boxes(res.frame, zg, size) if res.frame is not None and res.frame.basis != "distance bands"
                     else np.asarray(subdivide_plots(zg, size, strip_m=strip_m), dtype=object))
        except TooManyPieces as e:
            raise InputError(f"zoning estate {eid}, zone {zid}: {e.problems[0]}") from None
        pid = [f"{zid}-P{i:03d}" for i in range(1, len(boxes) + 1)]
        g = gpd.GeoDataFrame({"plot_id": pid, "status": "new", "area_m2": shapely.area(boxes)},
                             geometry=list(boxes), crs=crs)
        pf = _plot_frame(g, homes)
        ten, unp = match_plots(pf, biz[biz["category"] == code], [code], {code: np.ones(len(pf), dtype=bool)})
        z["plots"] = len(pid)
        tens.append(ten)
        unps.append(unp)
        who = dict(zip(ten["plot_id"], ten["biz_id"]))
        rows += [{"plot_id": p, "estate_id": eid, "zone_id": zid, "category": code, "status": "new",
                  "biz_id": who.get(p), "area_m2": round(float(a), 2), "use": "let" if p in who else "empty",
                  "geometry": bx} for p, bx, a in zip(pid, boxes, pf["area_m2"])]
        if len(pid) < int(z["units"]):  # type: ignore[call-overload]
            notes.append(f"plots {zid}: {len(pid)} plots of the category's size fit for {z['units']} units")
    empty_t = pd.DataFrame(columns=["plot_id", "biz_id", "category"])
    empty_u = pd.DataFrame(columns=["biz_id", "reason"])
    return (pd.concat(tens, ignore_index=True) if tens else empty_t,
            pd.concat(unps, ignore_index=True) if unps else empty_u, rows, notes)


def _tenancy(tenancy: list[pd.DataFrame], unplaced: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All plot tenancies, and per business its ``plot_id`` or ``plot_reason``."""
    ten = [t for t in tenancy if len(t)]
    unp = [u for u in unplaced if len(u)]
    ten_all = pd.concat(ten, ignore_index=True) if ten else pd.DataFrame(columns=["plot_id", "biz_id", "category"])
    unp_all = pd.concat(unp, ignore_index=True) if unp else pd.DataFrame(columns=["biz_id", "reason"])
    tn = pd.concat([pd.DataFrame({"biz_id": ten_all["biz_id"], "plot_id": ten_all["plot_id"], "plot_reason": ""}),
                    pd.DataFrame({"biz_id": unp_all["biz_id"], "plot_id": None, "plot_reason": unp_all["reason"]})],
                   ignore_index=True)
    return ten_all, tn


def plot_need(biz: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The businesses with ``land_m2`` turned into the plot each needs: its net land scaled by its
    category's plot norm over its land norm (``plot_m2 / land_m2`` of the catalogue), so a business
    of the catalogue's typical size needs exactly the category's standard plot (a car repair shop's
    350 m² of net land, a 300 m² workshop plot) and a larger one a proportionally larger plot.

    Parameters
    ----------
    biz
        Businesses with ``category`` and ``land_m2`` (net land, m²); other columns are kept.
    catalogue
        The categories' ``plot_m2`` and ``land_m2`` norms (a category without them keeps its land).

    Returns
    -------
    pandas.DataFrame
        A copy of ``biz`` with ``land_m2`` the plot each business needs (m², rounded to 0.01 m²;
        :func:`siteplan.rules.plotfit.plot_need_m2`); ``biz`` itself when it has no rows.
    """
    if not len(biz):
        return biz
    t = catalogue.table
    return biz.assign(land_m2=plot_need_m2(biz["land_m2"].to_numpy(float), biz["category"].to_numpy(),
                                           dict(zip(t["code"], t["plot_m2"].astype(float))),
                                           dict(zip(t["code"], t["land_m2"].astype(float)))))


def _pseudo_businesses(grp: pd.DataFrame) -> pd.DataFrame:
    """One row per unit when only the demand is known (equal shares of the category's land)."""
    rows = []
    for r in grp.itertuples():
        n = max(1, int(r.units))
        rows += [(f"{r.category}#{i + 1}", r.category, float(r.land_m2) / n, "") for i in range(n)]
    return pd.DataFrame(rows, columns=["biz_id", "category", "land_m2", "name"])


def _per_estate(estates: gpd.GeoDataFrame, businesses: pd.DataFrame | None, catalogue: Catalogue
                ) -> tuple[dict[Any, BaseGeometry], pd.DataFrame | None, dict[Any, np.ndarray]]:
    """Looked up once for every estate: its polygon (the first row of its id), the businesses' plot
    needs (:func:`plot_need`; None without businesses) and the positions of each estate's businesses."""
    first = pd.Series(np.arange(len(estates))).groupby(estates["estate_id"].to_numpy(), sort=False).first()
    estate_geom = dict(zip(first.index, estates.geometry.values[first.to_numpy()]))
    if businesses is None:
        return estate_geom, None, {}
    need = plot_need(businesses[["biz_id", "category", "land_m2", "name"]], catalogue)
    at = pd.Series(np.arange(len(businesses))).groupby(businesses["estate_id"].to_numpy(), sort=False).groups
    return estate_geom, need, {k: np.asarray(v) for k, v in at.items()}



@dataclass(frozen=True)
class _PlanSetting:
    """What every estate of a zone plan shares: the rules, the settings and the layers it reads."""

    catalogue: Catalogue
    rules: dict[str, RuleSet]
    zoning: Any
    non_saleable: float
    relet_first: tuple[str, ...]
    check_crs: Any
    crs: Any
    bind: dict[tuple[Any, str], str]
    layers: tuple[gpd.GeoDataFrame | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]
    roads_tree: shapely.STRtree | None
    homes_all: np.ndarray
    homes_tree: shapely.STRtree | None
    reach: float


@dataclass
class _Gathered:
    """What the estates of a zone plan add up to, estate by estate."""

    zones: list[dict[str, object]] = field(default_factory=list)
    short: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tenancy: list[pd.DataFrame] = field(default_factory=list)
    unplaced: list[pd.DataFrame] = field(default_factory=list)
    gen_rows: list[dict[str, object]] = field(default_factory=list)
    allowed_any: dict[str, bool] = field(default_factory=dict)
    indicative: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


def _plan_setting(estates: gpd.GeoDataFrame, catalogue: Catalogue, rules: dict[str, RuleSet],
                  layers: dict[str, gpd.GeoDataFrame], scenario: Scenario, usable_table: pd.DataFrame | None,
                  *, written: bool) -> _PlanSetting:
    """Looked up once for a zone plan: settings, layers, homes and their search trees."""
    zs = scenario.zoning
    ns = zs.non_saleable_share
    homes_all = homes_geoms(layers, scenario)
    geoms = _layer_geoms(layers)
    roads_all = geoms[3]
    bind = {}
    if usable_table is not None:
        u = usable_table
        bind = dict(zip(zip(u["estate_id"].tolist(), u["category"].tolist()), u["binding"].tolist()))
    return _PlanSetting(
        catalogue, rules, zs, (1.0 - scenario.allocation.net_to_gross) if ns is None else ns,
        tuple(c for c in zs.relet_first if c in catalogue), estates.crs if written else None, estates.crs, bind,
        geoms, shapely.STRtree(roads_all) if roads_all is not None else None, homes_all,
        shapely.STRtree(homes_all) if len(homes_all) else None,
        max(float(catalogue.table["sep_m"].max()) * HOMES_REACH_FACTOR, MIN_HOMES_REACH_M))


def _zone_free_land(key: Any, geom: BaseGeometry, grp: pd.DataFrame, site: _Site, land: tuple[BaseGeometry, str],
                    biz: pd.DataFrame, st: _PlanSetting, acc: _Gathered) -> ZoneResult:
    """Zones of an estate on its free land (:func:`zone_estate`), and the plots generated in them."""
    d = dict(zip(grp["category"], grp["land_m2"].astype(float)))
    u = dict(zip(grp["category"], grp["units"].astype(int)))
    roads_all, zs, eid = st.layers[3], st.zoning, site.eid
    roads = roads_all[st.roads_tree.query(geom)] if roads_all is not None and st.roads_tree is not None else None
    ctx = EstateContext(land[0], land[1], roads, zs.strip_m, site.sep, st.rules, crs=st.check_crs, estate_id=eid,
                        units=u, binding={c: st.bind.get((key, c), "") for c in d})
    res = zone_estate(geom, d, st.catalogue, site.usable, site.homes, non_saleable=st.non_saleable, shape=zs.shape,
                      context=ctx)
    if land[1] == "indicative":
        acc.indicative.append(eid)
    if res.problems:
        acc.recovered.append(f"{eid} ({res.mode}; rejected: {' | '.join(res.problems)})")
    if zs.plots:
        ten, unp, rows, few = _generated_plots(res, eid, biz, site.homes, st.catalogue, zs.strip_m, st.crs)
        acc.tenancy.append(ten)
        acc.unplaced.append(unp)
        acc.gen_rows.extend(rows)
        acc.notes.extend(few)
    return res


def _zone_one(key: Any, geom: BaseGeometry, grp: pd.DataFrame, biz: pd.DataFrame, st: _PlanSetting,
              acc: _Gathered) -> None:
    """Zone one estate (on its plots, else on its free land) and add the result to ``acc``."""
    catalogue, rules = st.catalogue, st.rules
    d = dict(zip(grp["category"], grp["land_m2"].astype(float)))
    homes = _homes_near(geom, st.homes_all, st.homes_tree, st.reach)
    cuts: dict[Any, Any] = {}  # rules the categories share are cut once
    cats = list(dict.fromkeys(list(d) + [c for c in st.relet_first if c in rules]))
    usable = {c: rules[c].usable(geom, cache=cuts)[0] for c in cats}
    sep = {c: max(home_separation(rules[c]), float(catalogue.row(c)["sep_m"])) for c in cats}
    plots_layer, occupied, vacant, _ = st.layers
    land, basis = land_basis(geom, str(key), plots_layer, occupied, vacant)
    site = _Site(str(key), homes, usable, sep)
    if basis == "plots":
        assert plots_layer is not None
        mine = plots_layer[plots_layer["estate_id"].astype(str) == site.eid]
        res, ten, unp, allowed = _zone_on_plots(site, mine, category_order(list(d), catalogue, sep), biz, catalogue,
                                                st.relet_first, st.check_crs)
        acc.allowed_any.update(allowed)
        acc.tenancy.append(ten)
        acc.unplaced.append(unp)
        acc.notes += [f"zoning {key}: the plots of different categories overlap ({p}); check the plots layer"
                      for p in res.problems]
    else:
        res = _zone_free_land(key, geom, grp, site, (land, basis), biz, st, acc)
    acc.zones.extend(res.zones)
    acc.short.extend(res.shortfall)


class PlanOptions(TypedDict, total=False):
    """The keyword options of :func:`zone_plan`: ``businesses`` (default None) and ``written`` (False)."""

    businesses: pd.DataFrame | None
    written: bool


def zone_plan(estates: gpd.GeoDataFrame, demand: pd.DataFrame, catalogue: Catalogue,
              rules: dict[str, RuleSet], layers: dict[str, gpd.GeoDataFrame], scenario: Scenario,
              usable_table: pd.DataFrame | None = None, **options: Unpack[PlanOptions]) -> ZonePlan:
    """Zone every receiving estate, give the businesses plots and re-let terminated plots.

    Parameters
    ----------
    estates
        Estate polygons with ``estate_id``.
    demand
        Rows ``estate_id``, ``category``, ``land_m2`` (net), ``units``.
    catalogue
        The categories' names, environmental classes, value chains and plot and land norms.
    rules
        The categories' rule sets: each zone lies on land its category's rules allow (every rule,
        slope and study area included).
    layers
        The region's layers (working CRS); may hold ``plots``, ``occupied``, ``vacant_land`` and ``roads``,
        and the urban areas and receptors the zones keep away from.
    scenario
        The scenario (its ``zoning`` settings and what counts as homes).
    usable_table
        Output of :func:`siteplan.rules.ruleset.usable_land` (for the binding rule labels); None: no labels.
    **options
        The keyword-only options of :class:`PlanOptions`:

        - ``businesses``: the assigned businesses (``biz_id``, ``estate_id``, ``category``, ``land_m2``,
          ``name``), for plot-level assignment; default None: one equal share per unit;
        - ``written``: check and describe each zone as the GeoJSON writer will write it (``crs`` of
          :class:`EstateContext`; a run does); default False: the exact overlay result is kept.

    Returns
    -------
    ZonePlan
        The zones (in the estates' CRS), the shortfall, the plots with their tenants, each business's
        plot, the re-letting of terminated plots and the notes for the run's warnings. Estates without
        demand, and demand rows whose estate is not in ``estates``, get no zones.
    """
    businesses = options.get("businesses")
    st = _plan_setting(estates, catalogue, rules, layers, scenario, usable_table, written=options.get("written", False))
    acc = _Gathered(notes=_setting_notes(st.zoning, catalogue))
    estate_geom, biz_need, biz_rows = _per_estate(estates, businesses, catalogue)
    for eid, grp in demand[demand["land_m2"] > 0].groupby("estate_id", sort=True):
        if (geom := estate_geom.get(eid)) is None:
            continue
        biz = plot_need(_pseudo_businesses(grp), catalogue) if biz_need is None else \
            biz_need.iloc[biz_rows.get(eid, np.zeros(0, dtype=np.intp))]
        _zone_one(eid, geom, grp, biz, st, acc)
    notes = acc.notes + _zoning_notes(acc.indicative, acc.recovered)
    zg = gpd.GeoDataFrame(acc.zones or None, columns=[*ZONE_COLUMNS, "geometry"], geometry="geometry",
                          crs=estates.crs)
    ten_all, tn = _tenancy(acc.tenancy, acc.unplaced)
    biz_all = plot_need(businesses, catalogue) if businesses is not None else \
        pd.DataFrame(columns=["biz_id", "name", "category", "land_m2", "estate_id"])
    plots_layer = st.layers[0]
    relet = reletting_table(plots_layer, ten_all, biz_all, acc.allowed_any, {str(e) for e in demand["estate_id"]})
    plots = plots_table(plots_layer, acc.gen_rows, ten_all, zg, catalogue, st.homes_all, estates.crs)
    return ZonePlan(zg, pd.DataFrame(acc.short, columns=["estate_id", "category", "short_ha", "rule"]), plots, tn,
                    relet, notes)


def _setting_notes(zs: object, catalogue: Catalogue) -> list[str]:
    """Warnings about the zoning settings themselves."""
    notes = []
    # a deprecated zoning.shape is said when the scenario is loaded (siteplan.checks.scenario_warnings)
    unknown = [c for c in getattr(zs, "relet_first", []) if c not in catalogue]
    if unknown:
        notes.append(f"zoning.relet_first: {', '.join(unknown)} not in the catalogue; ignored")
    return notes


def _zoning_notes(indicative: list[str], recovered: list[str]) -> list[str]:
    notes = []
    if indicative:
        notes.append(f"zoning: {len(indicative)} estate(s) have no vacancy map (no plots, occupied or vacant_land "
                     f"layer): {', '.join(indicative[:15])}{' …' if len(indicative) > 15 else ''}; their zone "
                     "positions are indicative (land_basis 'indicative' in zones.geojson)")
    if recovered:
        notes.append(f"zoning: a wrong or failed overlay was recomputed for {len(recovered)} estate(s): "
                     + "; ".join(recovered[:5]))
    return notes


def zone_estates(estates: gpd.GeoDataFrame, demand: pd.DataFrame, catalogue: Catalogue,
                 rules: dict[str, RuleSet], layers: dict[str, gpd.GeoDataFrame], scenario: Scenario,
                 usable_table: pd.DataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Zone every receiving estate (the zones and shortfall of :func:`zone_plan`).

    Parameters
    ----------
    estates, demand, catalogue, rules, layers, scenario, usable_table
        As for :func:`zone_plan` (without businesses: one equal share per unit; zones not snapped to the
        written geometry).

    Returns
    -------
    zones, shortfall
        A GeoDataFrame of zones (:data:`ZONE_COLUMNS`, the estates' CRS) and a frame of shortfalls
        (``estate_id``, ``category``, ``short_ha``, ``rule``).
    """
    zp = zone_plan(estates, demand, catalogue, rules, layers, scenario, usable_table)
    return zp.zones, zp.shortfall
