"""The relocation assignment model, built from the layers.

:func:`business_units` groups businesses into units that move whole; :func:`build_model` turns the
layers (businesses, estates, eligibility, capacity, suitability scores) into an
:class:`AssignmentModel` — arcs (unit, estate) with their costs, each unit's penalty and priority,
the nested capacity rows — all vectorized. :mod:`siteplan.relocation.solve` solves it; the
formulation is in :mod:`siteplan.relocation`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypedDict, Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ..common.units import M2_PER_HA, M_PER_KM
from ..guilds.catalogue import Catalogue
from ..scenario import AllocationSpec
from .roads import RoadNetwork, TravelCosts, travel_costs

__all__ = ["AssignmentModel", "CapacityRow", "Units", "arc_land", "build_model", "business_units", "min_by_unit",
           "rows_matrix"]

# priority of a unit under ``priority: env_cat``: 1 + (heaviest environmental rank among its
# members) / ENV_RANK_PER_PRIORITY; the ranks run 0 .. 9 over the ten VNG classes (1 .. 6), so a
# class-6 unit's penalty and greedy priority weigh 1.9 × a class-1 unit's per ha
ENV_RANK_PER_PRIORITY = 10.0
# leaving a unit out costs (D (1 + β) + PENALTY_MARGIN_KM) km per ha: more than the whole range of
# its arc costs (from −β D to D per ha), so no solution gains by leaving out a unit that fits
PENALTY_MARGIN_KM = 1.0
# m²: rounding slack when checking that a unit fits an estate's free land at a level
FIT_SLACK_M2 = 1e-6
# exact distances: one thread per PAIRS_PER_THREAD business-estate pairs, at most MAX_DISTANCE_THREADS
# (shapely releases the GIL; below this size threads cost more than they save)
PAIRS_PER_THREAD = 200_000
MAX_DISTANCE_THREADS = 4
# capacity levels: usable shares rounded to 1 / SHARE_STEPS, and (estate, level) packed into one
# integer as estate × LEVEL_KEY_BASE + level (a prime above SHARE_STEPS, so the two never collide)
SHARE_STEPS = 1e6
LEVEL_KEY_BASE = 1_000_003
# plots: a level's count of plots times the share of capacity left is rounded down to whole plots
# after adding this (a count of exactly 3 computed as 2.9999999 is still 3)
PLOT_COUNT_SLACK = 1e-6

CapacityRow = tuple[int, float, np.ndarray, np.ndarray]
"""One capacity constraint: ``(estate, capacity_m2, arc_indices, coefficients)`` — the arcs of that
estate the row counts and each arc's land in it."""


def rows_matrix(cap_rows: Sequence[CapacityRow], n_arcs: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The capacity rows as a sparse matrix (rows × arcs) and their right-hand sides."""
    if not cap_rows:
        return sparse.csr_matrix((0, n_arcs)), np.zeros(0)
    lengths = np.array([len(a) for _, _, a, _ in cap_rows], dtype=np.int64)
    row_idx = np.repeat(np.arange(len(cap_rows)), lengths)
    arc_idx = np.concatenate([np.asarray(a, np.int64) for _, _, a, _ in cap_rows])
    coef = np.concatenate([np.asarray(v, float) for _, _, _, v in cap_rows])
    m = sparse.csr_matrix((coef, (row_idx, arc_idx)), shape=(len(cap_rows), n_arcs))
    return m, np.array([b for _, b, _, _ in cap_rows], dtype=float)


def arc_land(a_csc: sparse.csc_matrix) -> np.ndarray:
    """Each arc's land: its largest coefficient in any capacity row (0 for arcs in none)."""
    land = np.zeros(a_csc.shape[1])
    nz = np.flatnonzero(np.diff(a_csc.indptr) > 0)
    if len(nz):
        land[nz] = np.maximum.reduceat(np.abs(a_csc.data), a_csc.indptr[nz])
    return land


def min_by_unit(v: np.ndarray, order_arcs: np.ndarray, starts: np.ndarray, init: np.ndarray) -> np.ndarray:
    """Per unit, the minimum of ``init`` and of ``v`` over the unit's arcs (arcs grouped by
    ``order_arcs``/``starts``)."""
    out = init.copy()
    has = starts[1:] > starts[:-1]
    if has.any():
        red = np.minimum.reduceat(v[order_arcs], starts[:-1][has])
        out[has] = np.minimum(out[has], red)
    return out


@dataclass(frozen=True, eq=False)
class AssignmentModel:
    """The relocation assignment model (see :mod:`siteplan.relocation` for the formulation).

    Parameters
    ----------
    n_units, n_estates
        Problem size.
    arc_u, arc_e, cost
        Allowed arcs (unit, estate) and their costs c_uj.
    penalty
        Cost p_u of leaving each unit unassigned.
    cap_rows
        Capacity constraints (:data:`CapacityRow`): ``(estate, capacity, arc_indices, coefficients)``.
    priority
        Order for greedy placement (higher first); None: the penalty.
    unit_land
        Each unit's land (m²), when built from layers.
    in_reach
        Units with an eligible estate within reach before the units too large for any were dropped
        (tells "too large" from "too far" in the reasons), when built from layers.
    travel
        The road travel costs of the (business, estate) pairs within reach (:func:`siteplan.relocation.roads.travel_costs`),
        when built on a road network; None on straight lines.
    """

    n_units: int
    n_estates: int
    arc_u: np.ndarray
    arc_e: np.ndarray
    cost: np.ndarray
    penalty: np.ndarray
    cap_rows: Sequence[CapacityRow]
    priority: np.ndarray | None = None
    unit_land: np.ndarray | None = None
    in_reach: np.ndarray | None = None
    travel: TravelCosts | None = None

    @property
    def n_arcs(self) -> int:
        """The number of arcs."""
        return len(self.arc_u)

    @property
    def greedy_priority(self) -> np.ndarray:
        """The order for greedy placement: ``priority``, else the penalty."""
        return self.penalty if self.priority is None else self.priority

    def capacity_matrix(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The capacity rows as a sparse matrix (rows × arcs) and their right-hand sides."""
        return rows_matrix(self.cap_rows, self.n_arcs)


@dataclass(frozen=True, eq=False)
class Units:
    """Businesses grouped into units that move whole (clusters kept together, else one each).

    Parameters
    ----------
    land
        ``land[i]``: business i's land in m² (its ``area_m2`` when positive, else its category's default
        ``land_m2``; 0 for an unclassified business).
    classified
        ``classified[i]``: business i has a category (booleans).
    unit_of
        ``unit_of[i]``: business i's unit, in ``0 .. n_units - 1``.
    n_units
        The number of units.
    """

    land: np.ndarray
    classified: np.ndarray
    unit_of: np.ndarray
    n_units: int


def business_units(b: gpd.GeoDataFrame, catalogue: Catalogue, spec: AllocationSpec) -> Units:
    """Each business's land and unit; ``b`` indexed 0 .. n-1.

    Parameters
    ----------
    b
        The businesses (``category``, None when unclassified; optional ``area_m2`` in m² and
        ``cluster_id``), indexed 0 .. n-1.
    catalogue
        The catalogue (its ``land_m2``: a category's default land per business, in m²).
    spec
        The allocation settings (``keep_clusters_together``: a cluster's classified members form one
        unit).

    Returns
    -------
    Units
        Each business's land (m²), whether it is classified and its unit; an unclassified business is a
        unit of its own.
    """
    land_default = dict(zip(catalogue.table["code"], catalogue.table["land_m2"]))
    area = b["area_m2"] if "area_m2" in b else pd.Series(np.nan, index=b.index)
    land = area.where(area > 0, b["category"].map(land_default)).fillna(0.0).to_numpy(float)
    classified = b["category"].notna().to_numpy()
    # units: clusters that move together, else single businesses
    if spec.keep_clusters_together and "cluster_id" in b:
        key = np.where(b["cluster_id"].notna() & classified, "C" + b["cluster_id"].astype(str), "B" + b.index.astype(str))
    else:
        key = ("B" + b.index.astype(str)).to_numpy()
    key = np.where(classified, key, "U" + b.index.astype(str))
    unit_codes, unit_of = np.unique(key, return_inverse=True)
    return Units(land, classified, unit_of, len(unit_codes))


class ModelOptions(TypedDict, total=False):
    """The keyword options of :func:`build_model` (each optional, default None): ``used``, ``weights``,
    ``network`` and ``costs``."""

    used: pd.DataFrame | None
    weights: pd.Series | None
    network: RoadNetwork | None
    costs: Callable[..., TravelCosts] | None


def build_model(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, catalogue: Catalogue, elig: pd.DataFrame,
                capacity: pd.DataFrame, scores: pd.DataFrame | None, spec: AllocationSpec,
                units: Units | None = None, **options: Unpack[ModelOptions]) -> AssignmentModel:
    """The assignment model of the layers: arcs with costs, penalties and capacity rows.

    An arc exists when every member of the unit is within the distance limit of the estate (same
    county if asked) and its category is eligible there, and when the unit fits the estate's free land
    at its categories' levels (dropping the others changes no integer solution and tightens the bound).

    Parameters
    ----------
    b
        Classified businesses (working CRS points, indexed 0 .. n-1); see
        :func:`siteplan.relocation.allocate`.
    estates, catalogue, elig, capacity, scores, spec
        As for :func:`siteplan.relocation.allocate`.
    units
        :func:`business_units` of ``b`` (computed when None).
    **options
        Keyword-only options (:class:`ModelOptions`), each optional (default None):

        ``used``
            Land already taken at the estates by businesses placed before (``estate_id``, ``category``,
            ``land_m2``; the phases of :mod:`siteplan.programme.phasing`): each capacity row's right-hand side loses the
            land of the categories it counts (those whose usable share is at most the row's level), so the
            estate holds exactly what it would with those businesses in the model. Not for estates whose
            capacity is their free plots (give those without the plots taken).
        ``weights``
            A priority weight (≥ 1) per ``biz_id`` (missing: 1): a unit's penalty and greedy priority are
            multiplied by its members' largest weight, so that, per hectare, a unit of a higher weight is left
            out only when a lower one cannot take its place (:mod:`siteplan.programme.phasing`).
        ``network``
            The road network (:mod:`siteplan.relocation.roads`): distances, the reach and the cost are then measured
            along it (road km, or minutes under ``allocation.reach_min``); None: straight lines.
        ``costs``
            On a road network, stands in for :func:`siteplan.relocation.roads.travel_costs` ``(points,
            facilities, network, reach_km=… | reach_min=…)`` and must give the same pairs and values (the
            upgrades slice one call's answer for the businesses and estates of each re-allocation); None:
            computed here.

    Returns
    -------
    AssignmentModel
        The arcs (unit, estate) within reach with their costs, each unit's penalty for staying
        unassigned, the capacity rows in m² (or plots) per estate, and each unit's land and reach.
    """
    used, weights = options.get("used"), options.get("weights")
    network, costs = options.get("network"), options.get("costs")
    if units is None:
        units = business_units(b, catalogue, spec)
    n_units, n_est = units.n_units, len(estates)
    dist_limit = spec.reach if network is not None else spec.max_distance_km  # in the cost's unit
    codes = pd.Index(sorted(set(catalogue.codes) | set(elig["category"].dropna()) |
                            set(b["category"].dropna())))
    biz_cat = codes.get_indexer(b["category"])          # -1: unclassified
    eligible, usable_share, score = _estate_category_tables(estates, codes, elig, scores,
                                                            zone_aware=spec.zone_aware_capacity)
    biz, est, dist_m, travel = _pairs_within_reach(b, estates, biz_cat, spec, network, costs)
    keep = eligible[est, biz_cat[biz]]
    biz, est, dist_m = biz[keep], est[keep], dist_m[keep]
    unit = units.unit_of[biz]
    # a unit may use an estate only if every member has an arc to it
    pair_key = unit.astype(np.int64) * n_est + est      # (unit, estate) as one integer
    keep = _whole_units(pair_key, units, n_est)
    biz, est, unit, pair_key, dist_m = biz[keep], est[keep], unit[keep], pair_key[keep], dist_m[keep]
    in_reach = np.zeros(n_units, bool)
    in_reach[unit] = True
    capacity_m2 = capacity.set_index("estate_id")["capacity_m2"].reindex(estates["estate_id"].to_numpy()) \
        .fillna(0.0).to_numpy(float)
    share = usable_share[est, biz_cat[biz]]
    biz_land = units.land[biz]
    # on an estate whose capacity is its free plots, each business takes one plot that fits it: the pair
    # counts 1 in the estate's rows, at the level of the number of plots that fit it (Hall's condition)
    coef, cap_rhs, counted = biz_land.copy(), capacity_m2.copy(), np.zeros(n_est, np.int64)
    plot_sizes = _plot_sizes(capacity, estates)
    if plot_sizes:
        keep = _plot_pairs(b, catalogue, units, plot_sizes, capacity_m2, (cap_rhs, counted), (biz, est, pair_key),
                           (share, coef))
        biz, est, pair_key, share, biz_land, dist_m, coef = \
            biz[keep], est[keep], pair_key[keep], share[keep], biz_land[keep], dist_m[keep], coef[keep]
    too_big = _too_big(pair_key, share, coef, cap_rhs, n_est)
    if len(too_big):
        keep = ~np.isin(pair_key, too_big)
        biz, est, pair_key, share, biz_land, dist_m, coef = \
            biz[keep], est[keep], pair_key[keep], share[keep], biz_land[keep], dist_m[keep], coef[keep]
    dist = dist_m / M_PER_KM if travel is None else dist_m  # straight km, or the road measure
    pair_cost = biz_land / M2_PER_HA * (dist - spec.suitability_weight * dist_limit * score[est, biz_cat[biz]])
    arc_key, arc_of_pair = np.unique(pair_key, return_inverse=True)
    arc_u, arc_e = (arc_key // n_est).astype(np.int64), (arc_key % n_est).astype(np.int64)
    cost = np.bincount(arc_of_pair, weights=pair_cost, minlength=len(arc_key))
    unit_land = np.bincount(units.unit_of, weights=units.land, minlength=n_units)
    prio = _priority_factor(catalogue, codes, biz_cat, units, spec)
    if weights is not None:
        w = np.ones(n_units)
        np.maximum.at(w, units.unit_of, weights.reindex(b["biz_id"].to_numpy()).fillna(1.0).to_numpy(float))
        prio = prio * w
    penalty = unit_land / M2_PER_HA * (dist_limit * (1 + spec.suitability_weight) + PENALTY_MARGIN_KM) * prio
    taken = None if used is None or not len(used) else _taken(used, estates, codes, usable_share, counted)
    cap_rows = _capacity_rows(arc_of_pair, est, share, coef, cap_rhs, n_est, counted, taken)
    return AssignmentModel(n_units, n_est, arc_u, arc_e, cost, penalty, cap_rows, priority=prio * unit_land,
                           unit_land=unit_land, in_reach=in_reach, travel=travel)


def _estate_category_tables(estates: gpd.GeoDataFrame, codes: pd.Index, elig: pd.DataFrame,
                            scores: pd.DataFrame | None, *, zone_aware: bool
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eligibility, usable share of the estate and suitability score as (estate, category) matrices."""
    n_est, n_cat = len(estates), len(codes)
    estate_index = pd.Index(estates["estate_id"].to_numpy())
    el_est, el_cat = estate_index.get_indexer(elig["estate_id"]), codes.get_indexer(elig["category"])
    known = (el_est >= 0) & (el_cat >= 0)
    eligible = np.zeros((n_est, n_cat), bool)
    eligible[el_est[known], el_cat[known]] = elig["eligible"].to_numpy(bool)[known]
    usable_share = np.ones((n_est, n_cat))
    if zone_aware:
        usable_share[el_est[known], el_cat[known]] = elig["usable_frac"].to_numpy(float)[known]
    score = np.zeros((n_est, n_cat))
    if scores is not None and len(scores):
        sc_est, sc_cat = estate_index.get_indexer(scores["estate_id"]), codes.get_indexer(scores["category"])
        value = scores["score"].to_numpy(float)
        known = (sc_est >= 0) & (sc_cat >= 0) & np.isfinite(value)
        score[sc_est[known], sc_cat[known]] = value[known]
    return eligible, usable_share, score


def _pairs_within_reach(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, biz_cat: np.ndarray,
                        spec: AllocationSpec, network: RoadNetwork | None = None,
                        costs: Callable[..., TravelCosts] | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, TravelCosts | None]:
    """(business, estate, distance, travel) for classified businesses within the reach (and in the same
    county if asked). Straight lines (``network`` None): distance in m, candidates by bounding box, then one
    exact distance each (cheaper than 'dwithin' followed by a distance), travel None. On roads: the
    distance in the reach's measure (road km or minutes) from :func:`siteplan.relocation.roads.travel_costs`, and
    its result (business positions of ``b``; ``costs``: :func:`build_model`)."""
    if network is not None:
        reach = {"reach_min": spec.reach_min} if spec.reach_min is not None else {"reach_km": spec.max_distance_km}
        tc = (costs(b.geometry.values, estates.geometry.values, network, **reach) if costs is not None else
              travel_costs(b.geometry.values, estates.geometry.values, network, **reach))
        biz, est = tc.i, tc.j
        keep = biz_cat[biz] >= 0
        if spec.same_county and "county" in b and "county" in estates:
            keep &= b["county"].to_numpy()[biz] == estates["county"].to_numpy()[est]
        return biz[keep], est[keep], tc.cost[keep], tc
    tree = shapely.STRtree(estates.geometry.values)
    bounds = shapely.bounds(b.geometry.values)
    reach_m = spec.max_distance_km * M_PER_KM
    biz, est = tree.query(shapely.box(bounds[:, 0] - reach_m, bounds[:, 1] - reach_m,
                                      bounds[:, 2] + reach_m, bounds[:, 3] + reach_m))
    keep = biz_cat[biz] >= 0
    biz, est = biz[keep], est[keep]
    dist_m = _pair_distance(b.geometry.values, estates.geometry.values, biz, est)
    keep = dist_m <= reach_m
    if spec.same_county and "county" in b and "county" in estates:
        keep &= b["county"].to_numpy()[biz] == estates["county"].to_numpy()[est]
    return biz[keep], est[keep], dist_m[keep], None


def _plot_sizes(capacity: pd.DataFrame, estates: gpd.GeoDataFrame) -> dict[int, np.ndarray]:
    """Per estate (by position) whose capacity is its free plots, their areas (m²)."""
    if "plot_m2" not in capacity:
        return {}
    by_id = dict(zip(capacity["estate_id"], capacity["plot_m2"]))
    return {j: np.asarray(by_id[e], dtype=float) for j, e in enumerate(estates["estate_id"].to_numpy())
            if isinstance(by_id.get(e), tuple)}


def _plot_pairs(b: gpd.GeoDataFrame, catalogue: Catalogue, units: Units, plot_sizes: dict[int, np.ndarray],
                capacity_m2: np.ndarray, rhs: tuple[np.ndarray, np.ndarray],
                pairs: tuple[np.ndarray, np.ndarray, np.ndarray], levels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The pairs on estates whose capacity is their free plots, counted in plots.

    A pair is dropped (with every pair of its unit at that estate) when no free plot fits the business
    (:func:`siteplan.zoning.plots.plot_need_m2`); else it counts 1 at the level ``n / m`` (``n`` plots of the
    estate's ``m`` fit it), so that each level's row, ``≤ n`` businesses needing one of the ``n`` largest
    plots, is Hall's condition for giving every business a plot of its own. The estate's right-hand
    side is ``m`` times its capacity over its plots' area (1 unless a reserved share or the plots already
    taken elsewhere in the run cut the capacity), rounded down per level.

    Parameters
    ----------
    b, catalogue, units, plot_sizes, capacity_m2
        As in :func:`build_model`; ``plot_sizes`` from :func:`_plot_sizes`.
    rhs
        ``(cap_rhs, counted)``, updated in place: per estate the rows' capacity and its number of plots.
    pairs
        ``(biz, est, pair_key)`` of the candidate pairs.
    levels
        ``(share, coef)``: the pairs' level and coefficient, updated in place on plot estates.

    Returns
    -------
    numpy.ndarray
        Mask of the pairs kept.
    """
    from ..rules.plotfit import plot_need_m2, plots_that_fit

    cap_rhs, counted = rhs
    biz, est, pair_key = pairs
    share, coef = levels
    t = catalogue.table
    on = np.isin(est, np.fromiter(plot_sizes, dtype=np.int64))
    if not on.any():
        return np.ones(len(est), dtype=bool)
    need = plot_need_m2(units.land[biz[on]], b["category"].to_numpy()[biz[on]],
                        dict(zip(t["code"], t["plot_m2"].astype(float))) if "plot_m2" in t else {},
                        dict(zip(t["code"], t["land_m2"].astype(float))))
    fit = np.zeros(int(on.sum()), dtype=np.int64)
    est_on = est[on]
    for j, sizes in plot_sizes.items():
        here = est_on == j
        if here.any():
            fit[here] = plots_that_fit(need[here], sizes)
        m = len(sizes)
        total = float(sizes.sum())
        cap_rhs[j] = m * min(1.0, capacity_m2[j] / total) if total > 0 else 0.0
        counted[j] = m
    m_of = np.array([len(plot_sizes[j]) for j in est_on], dtype=float)
    share[on] = np.where(m_of > 0, fit / np.maximum(m_of, 1.0), 0.0)
    coef[on] = 1.0
    return ~np.isin(pair_key, np.unique(pair_key[on][fit == 0]))


def _whole_units(pair_key: np.ndarray, units: Units, n_est: int) -> np.ndarray:
    """Mask of the pairs whose (unit, estate) every member of the unit reaches."""
    members = np.bincount(units.unit_of, minlength=units.n_units)
    uniq, inv, count = np.unique(pair_key, return_inverse=True, return_counts=True)
    answer: np.ndarray = (count == members[uniq // n_est])[inv]
    return answer


def _too_big(pair_key: np.ndarray, share: np.ndarray, biz_land: np.ndarray, capacity_m2: np.ndarray,
             n_est: int) -> np.ndarray:
    """The (unit, estate) keys where the unit does not fit the estate's free land at one of its
    categories' levels: members sorted by usable share, their running land against capacity × share."""
    order = np.lexsort((share, pair_key))
    key_o, share_o, land_o = pair_key[order], share[order], biz_land[order]
    grp_start = np.r_[0, np.flatnonzero(key_o[1:] != key_o[:-1]) + 1]
    cum = np.cumsum(land_o)
    cum = cum - np.repeat(np.r_[0.0, cum[grp_start[1:] - 1]], np.diff(np.r_[grp_start, len(key_o)]))
    return np.unique(key_o[cum > capacity_m2[key_o % n_est] * share_o + FIT_SLACK_M2])


def _priority_factor(catalogue: Catalogue, codes: pd.Index, biz_cat: np.ndarray, units: Units,
                     spec: AllocationSpec) -> np.ndarray | float:
    """Each unit's priority factor: 1, plus its heaviest environmental rank / ENV_RANK_PER_PRIORITY
    under ``priority: env_cat``."""
    env = np.array([catalogue.env_rank(c) if c in catalogue.codes else 0 for c in codes], dtype=float)
    heavy = np.zeros(units.n_units)
    np.maximum.at(heavy, units.unit_of[biz_cat >= 0], env[biz_cat[biz_cat >= 0]])
    return 1.0 + (heavy / ENV_RANK_PER_PRIORITY if spec.priority == "env_cat" else 0.0)


def _pair_distance(a: np.ndarray, b: np.ndarray, ai: np.ndarray, bj: np.ndarray) -> np.ndarray:
    """Exact distances between ``a[ai]`` and ``b[bj]``, in chunks on up to MAX_DISTANCE_THREADS
    threads (shapely releases the GIL; the result is the same as one call)."""
    n = len(ai)
    workers = max(1, min(MAX_DISTANCE_THREADS, os.cpu_count() or 1, n // PAIRS_PER_THREAD))
    if workers == 1:
        answer: np.ndarray = shapely.distance(a[ai], b[bj])
        return answer
    cuts = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda k: shapely.distance(a[ai[cuts[k]:cuts[k + 1]]], b[bj[cuts[k]:cuts[k + 1]]]),
                            range(workers)))
    return np.concatenate(parts)


def _taken(used: pd.DataFrame, estates: gpd.GeoDataFrame, codes: pd.Index, usable_share: np.ndarray,
           counted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Land taken before (``used`` of :func:`build_model`) as ``(estate, usable share, m²)`` arrays,
    estates by position; unknown estates and categories, and plot estates, are left out."""
    e = pd.Index(estates["estate_id"].to_numpy()).get_indexer(used["estate_id"].to_numpy())
    c = codes.get_indexer(used["category"].to_numpy())
    ok = (e >= 0) & (c >= 0)
    e, c, land = e[ok], c[ok], used["land_m2"].to_numpy(float)[ok]
    keep = counted[e] == 0
    return e[keep], usable_share[e[keep], c[keep]], land[keep]


def _capacity_rows(arc_of_pair: np.ndarray, est: np.ndarray, share: np.ndarray, biz_land: np.ndarray,
                   capacity_m2: np.ndarray, n_est: int, counted: np.ndarray | None = None,
                   taken: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> list[CapacityRow]:
    """Nested capacity rows per estate: for each level L of usable share present at the estate, the
    land of the categories with share ≤ L is at most K·L (one row of all land ≤ K when every share
    is 1, as without category-aware capacity). On the estates whose capacity is plots (``counted``: their
    number of plots, 0 elsewhere) ``biz_land`` is 1 per business and K the number of plots (times the
    share of their capacity left): K·L is rounded down to whole plots."""
    if not len(est):
        return []
    level_key, level_of = np.unique(est.astype(np.int64) * LEVEL_KEY_BASE
                                    + np.round(share * SHARE_STEPS).astype(np.int64), return_inverse=True)
    level_est = level_key // LEVEL_KEY_BASE
    level_share = (level_key % LEVEL_KEY_BASE) / SHARE_STEPS
    level_first = np.searchsorted(level_est, level_est)            # first level row of the estate
    level_n = np.bincount(level_est, minlength=n_est)[level_est]    # levels at the estate
    rank = np.arange(len(level_key)) - level_first                 # this level's rank within the estate
    # each pair counts in its level's row and every higher level's row of the estate
    reps = (level_n - rank)[level_of]
    row_of = np.repeat(level_of, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
    m = sparse.csr_matrix((np.repeat(biz_land, reps), (row_of, np.repeat(arc_of_pair, reps))),
                          shape=(len(level_key), int(arc_of_pair.max()) + 1))
    rhs = capacity_m2[level_est] * level_share
    if counted is not None and counted.any():
        # whole plots: the level's count of plots (its share × the estate's plots, an integer up to the
        # share's rounding) times the estate's capacity per plot, rounded down
        n_plots = counted[level_est]
        whole = n_plots > 0
        n = np.round(level_share[whole] * n_plots[whole])
        rhs[whole] = np.floor(n * capacity_m2[level_est[whole]] / n_plots[whole] + PLOT_COUNT_SLACK)
    if taken is not None and len(taken[0]):
        t_est, t_share, t_land = taken
        for r in range(len(level_key)):
            here = (t_est == level_est[r]) & (np.round(t_share * SHARE_STEPS) <= level_key[r] % LEVEL_KEY_BASE)
            if here.any():
                rhs[r] = max(0.0, float(rhs[r] - t_land[here].sum()))
    return [(int(level_est[r]), float(rhs[r]), m.indices[m.indptr[r]:m.indptr[r + 1]].astype(np.int64),
             m.data[m.indptr[r]:m.indptr[r + 1]].copy()) for r in range(len(level_key))]
