"""Relocation: which business (or cluster) moves to which estate.

The plan minimizes land-weighted relocation distance minus a suitability bonus, under category-aware
estate capacity and siting eligibility, with every business assigned whole or listed as unassigned
with its reason.

Formulation (units u = businesses, or clusters that must move together; estates j)::

    min  Σ_uj c_uj x_uj + Σ_u p_u y_u
    s.t. Σ_j x_uj + y_u = 1                               for every unit u
         Σ_u a_ujL x_uj ≤ K_j f_jL                        for every estate j and capacity level L
         x, y ∈ {0, 1}

with c_uj = land_u (d_uj − β D s_uj) (km, D the distance limit, s the suitability score, β its
weight), p_u a penalty larger than any assignment cost (scaled up for heavier categories when the
scenario gives them priority), K_j the estate's net vacant land and f_jL the share of the estate that
the categories of level L may use (from :func:`siteplan.zoning.usable_land`). Arcs exist only for
eligible (unit, estate) pairs within D; since an ineligible or too-distant arc can never be used,
this pruning cannot change the optimum.

The model is solved by :func:`siteplan.assignment.solve_assignment`: one exact MILP when small; else
the LP relaxation as a min-cost flow (a proven lower bound), a MILP over the units it splits, greedy
placement and a local search of shifts and ejection chains. The gap between the integer objective and
the bound is always reported.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from .assignment import AssignmentResult, solve_assignment
from .errors import InputError
from .guilds import Catalogue
from .scenario import AllocationSpec

log = logging.getLogger(__name__)

__all__ = ["estate_capacity", "Plan", "allocate", "solve_assignment", "AssignmentResult"]

def estate_capacity(estates: gpd.GeoDataFrame, plots: gpd.GeoDataFrame | None, net_to_gross: float,
                    default_vacant_share: float | None = None) -> pd.DataFrame:
    """Net land available in each estate for relocated businesses.

    Estates with plots in the ``plots`` layer offer their vacant and terminated plots (net land as it
    is); the others offer ``vacant_ha × net_to_gross``. An estate without ``vacant_ha`` offers
    ``default_vacant_share`` of its gross area (``gross_ha``, else its polygon area) when the scenario
    sets one (source ``assumed share``), else nothing.

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``capacity_m2``, ``capacity_from`` (``plots``, ``vacant_ha`` or ``none``).
    """
    cap = {}
    src = {}
    vac = estates["vacant_ha"] if "vacant_ha" in estates else pd.Series(np.nan, index=estates.index)
    gross = estates["gross_ha"] if "gross_ha" in estates else pd.Series(np.nan, index=estates.index)
    gross = gross.fillna(pd.Series(estates.geometry.area.to_numpy() / 1e4, index=estates.index))
    for eid, v, g in zip(estates["estate_id"], vac, gross):
        if pd.notna(v):
            cap[eid] = float(v) * 1e4 * net_to_gross
            src[eid] = "vacant_ha"
        elif default_vacant_share is not None:
            cap[eid] = float(g) * default_vacant_share * 1e4 * net_to_gross
            src[eid] = "assumed share"
    if plots is not None and len(plots):
        free = plots[plots["status"].isin(["vacant", "terminated"])]
        area = free["area_m2"] if "area_m2" in free else pd.Series(np.nan, index=free.index)
        area = area.fillna(pd.Series(free.geometry.area, index=free.index))
        for eid, a in area.groupby(free["estate_id"]).sum().items():
            cap[eid] = float(a)
            src[eid] = "plots"
        for eid in set(plots["estate_id"]) - set(free["estate_id"]):
            cap[eid] = 0.0
            src[eid] = "plots"
    ids = list(estates["estate_id"])
    return pd.DataFrame({"estate_id": ids, "capacity_m2": [cap.get(i, 0.0) for i in ids],
                         "capacity_from": [src.get(i, "none") for i in ids]})


@dataclass(frozen=True)
class Plan:
    """A relocation plan.

    Attributes
    ----------
    rows
        One row per business: ``biz_id``, ``name``, ``category``, ``lon``, ``lat``, ``estate_id``,
        ``distance_km``, ``land_m2``, ``status`` (assigned/unassigned), ``reason``.
    estate_summary
        Per estate and category: capacity, used and left (m²) and units.
    unmet
        Unassigned land per category (m²), for new sites.
    solver
        Objective, LP bound, gap, status.
    """

    rows: pd.DataFrame
    estate_summary: pd.DataFrame
    unmet: pd.DataFrame
    solver: dict[str, object]


def allocate(businesses: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, catalogue: Catalogue,
             elig: pd.DataFrame, capacity: pd.DataFrame, scores: pd.DataFrame | None,
             spec: AllocationSpec) -> Plan:
    """Assign businesses to estates.

    Parameters
    ----------
    businesses
        Classified businesses (working CRS points) with ``biz_id``, ``category``, optional
        ``area_m2``, ``name``, ``cluster_id``, ``county``.
    estates
        Estates (working CRS) with ``estate_id``.
    catalogue
        For default land per unit and environmental order.
    elig
        :func:`siteplan.rules.eligibility` output.
    capacity
        :func:`estate_capacity` output.
    scores
        Optional ``estate_id``, ``category``, ``score`` (suitability in [0, 1]) for the bonus.
    spec
        Allocation settings.

    Returns
    -------
    Plan
    """
    if businesses["biz_id"].duplicated().any():
        d = sorted(set(businesses.loc[businesses["biz_id"].duplicated(), "biz_id"]))
        raise InputError(f"businesses: duplicate biz_id: {', '.join(map(str, d[:20]))}")
    b = businesses.reset_index(drop=True)
    land_default = dict(zip(catalogue.table["code"], catalogue.table["land_m2"]))
    area = b["area_m2"] if "area_m2" in b else pd.Series(np.nan, index=b.index)
    land = area.where(area > 0, b["category"].map(land_default)).fillna(0.0).to_numpy(float)
    classified = b["category"].notna().to_numpy()
    D = spec.max_distance_km
    # units: clusters that move together, else single businesses
    if spec.keep_clusters_together and "cluster_id" in b:
        key = np.where(b["cluster_id"].notna() & classified, "C" + b["cluster_id"].astype(str), "B" + b.index.astype(str))
    else:
        key = ("B" + b.index.astype(str)).to_numpy()
    key = np.where(classified, key, "U" + b.index.astype(str))
    unit_codes, unit_of = np.unique(key, return_inverse=True)
    nu = len(unit_codes)
    ne = len(estates)
    if ne == 0:
        return _no_estates(b, land, classified, capacity)
    eids = estates["estate_id"].to_numpy()
    egeom = estates.geometry.values
    arcs = _arcs(b, estates, catalogue, elig, capacity, scores, spec, land, classified, unit_of, nu)
    res = solve_assignment(nu, ne, arcs.arc_u, arcs.arc_e, arcs.cost, arcs.penalty, arcs.cap_rows,
                           arcs.prio * arcs.unit_land, residual_time_limit=spec.time_limit_s,
                           gap_target=spec.gap_target, node_limit=spec.node_limit,
                           search_passes=spec.search_passes)
    # per-business rows
    est_of_b = res.assign[unit_of]
    assigned = est_of_b >= 0
    dkm = np.full(len(b), np.nan)
    dkm[assigned] = shapely.distance(b.geometry.values[assigned], egeom[est_of_b[assigned]]) / 1000.0
    has_arc = np.zeros(nu, bool)
    has_arc[arcs.arc_u] = True
    reasons = np.full(len(b), "", dtype=object)
    out = ~assigned
    unc = out & ~classified
    reasons[unc] = [_unclassified_reason(b, i) for i in np.flatnonzero(unc)]
    big = out & classified & ~has_arc[unit_of] & arcs.had_arc[unit_of]
    reasons[big] = [f"too large ({arcs.unit_land[unit_of[i]] / 1e4:.2f} ha) for the free land of every eligible "
                    f"estate within {D:g} km" for i in np.flatnonzero(big)]
    far = out & classified & ~has_arc[unit_of] & ~arcs.had_arc[unit_of]
    reasons[far] = _near_reasons(b, estates, elig, D, np.flatnonzero(far))
    reasons[out & classified & has_arc[unit_of]] = "capacity exhausted in the eligible estates within reach"
    rows = _rows_frame(b, land, np.where(assigned, eids[np.maximum(est_of_b, 0)], None), dkm, assigned, reasons)
    if spec.keep_clusters_together and "cluster_id" in b:
        rows["cluster_id"] = b["cluster_id"].to_numpy()
    used = rows[rows.status == "assigned"].groupby(["estate_id", "category"]).agg(
        used_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    summ = capacity.merge(used, on="estate_id", how="left")
    summ["used_m2"] = summ["used_m2"].fillna(0.0)
    summ["units"] = summ["units"].fillna(0).astype(int)
    tot = summ.groupby("estate_id")["used_m2"].transform("sum")
    summ["left_m2"] = (summ["capacity_m2"] - tot).clip(lower=0.0)
    un = rows[(rows.status == "unassigned") & rows["category"].notna()]
    unmet = un.groupby("category").agg(land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    how = ("one exact HiGHS MILP" if res.residual_method == "exact milp" else
           f"relaxation: {res.relaxation}; repair: HiGHS MILP over the split and marginal units, greedy "
           "placement, local search (shifts and ejection chains)")
    solver = {"solver": how,
              "status": res.status, "objective": round(res.objective, 6), "lp_bound": round(res.lp_bound, 6),
              "gap": round(res.gap, 9), "units": int(nu), "arcs": int(len(arcs.arc_u)),
              "capacity_rows": len(arcs.cap_rows), "fractional_units": res.fractional_units,
              "residual_units": res.residual_units, "residual_method": res.residual_method,
              "relaxation": res.relaxation, "relaxed_objective": round(res.relaxed_objective, 6),
              "search_passes": res.search_passes, "search_moves": res.search_moves, "lp_message": res.lp_status,
              "timings_s": {k: round(v, 3) for k, v in (res.timings or {}).items()}}
    log.info("relocation: %d assigned, %d unassigned; gap %.4f%%", int(assigned.sum()), int((~assigned).sum()),
             100 * res.gap)
    return Plan(rows, summ, unmet, solver)


@dataclass(frozen=True)
class _Arcs:
    """The assignment model built from the layers (see :func:`_arcs`)."""

    arc_u: np.ndarray
    arc_e: np.ndarray
    cost: np.ndarray
    penalty: np.ndarray
    prio: np.ndarray
    unit_land: np.ndarray
    had_arc: np.ndarray
    cap_rows: list[tuple[int, float, np.ndarray, np.ndarray]]


def _arcs(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, catalogue: Catalogue, elig: pd.DataFrame,
          capacity: pd.DataFrame, scores: pd.DataFrame | None, spec: AllocationSpec, land: np.ndarray,
          classified: np.ndarray, unit_of: np.ndarray, nu: int) -> _Arcs:
    """Arcs (unit, estate) with costs, penalties and capacity rows, all vectorized.

    An arc exists when every member of the unit is within the distance limit of the estate (same
    county if asked) and its category is eligible there, and when the unit fits the estate's free land
    at its categories' levels (dropping the others changes no integer solution and tightens the bound).
    """
    D = spec.max_distance_km
    ne = len(estates)
    eids = estates["estate_id"].to_numpy()
    eidx = pd.Index(eids)
    codes = pd.Index(sorted(set(catalogue.codes) | set(elig["category"].dropna()) |
                            set(b["category"].dropna())))
    nc = len(codes)
    bcat = codes.get_indexer(b["category"])          # -1: unclassified
    # eligibility, usable share and score as (estate, category) matrices
    ee, cc = eidx.get_indexer(elig["estate_id"]), codes.get_indexer(elig["category"])
    okr = (ee >= 0) & (cc >= 0)
    ok = np.zeros((ne, nc), bool)
    ok[ee[okr], cc[okr]] = elig["eligible"].to_numpy(bool)[okr]
    frac = np.ones((ne, nc))
    if spec.zone_aware_capacity:
        frac[ee[okr], cc[okr]] = elig["usable_frac"].to_numpy(float)[okr]
    score = np.zeros((ne, nc))
    if scores is not None and len(scores):
        se, sc = eidx.get_indexer(scores["estate_id"]), codes.get_indexer(scores["category"])
        sv = scores["score"].to_numpy(float)
        m = (se >= 0) & (sc >= 0) & np.isfinite(sv)
        score[se[m], sc[m]] = sv[m]
    # business -> estate pairs within D: candidates by bounding box, then one exact distance each
    # (cheaper than 'dwithin' followed by a distance)
    tree = shapely.STRtree(estates.geometry.values)
    bb = shapely.bounds(b.geometry.values)
    r = D * 1000.0
    bi, ej = tree.query(shapely.box(bb[:, 0] - r, bb[:, 1] - r, bb[:, 2] + r, bb[:, 3] + r))
    keep = bcat[bi] >= 0
    bi, ej = bi[keep], ej[keep]
    dist_m = _pair_distance(b.geometry.values, estates.geometry.values, bi, ej)
    keep = dist_m <= r
    if spec.same_county and "county" in b and "county" in estates:
        keep &= b["county"].to_numpy()[bi] == estates["county"].to_numpy()[ej]
    bi, ej, dist_m = bi[keep], ej[keep], dist_m[keep]
    keep = ok[ej, bcat[bi]]
    bi, ej, dist_m = bi[keep], ej[keep], dist_m[keep]
    u = unit_of[bi]
    # a unit may use an estate only if every member has an arc to it
    members = np.bincount(unit_of, minlength=nu)
    key = u.astype(np.int64) * ne + ej
    uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    full = cnt == members[uk // ne]
    keep = full[inv]
    bi, ej, u, key, dist_m = bi[keep], ej[keep], u[keep], key[keep], dist_m[keep]
    had_arc = np.zeros(nu, bool)
    had_arc[u] = True
    capK = capacity.set_index("estate_id")["capacity_m2"].reindex(eids).fillna(0.0).to_numpy(float)
    f = frac[ej, bcat[bi]]
    lb = land[bi]
    # the unit must fit the estate's free land at each of its categories' levels
    o = np.lexsort((f, key))
    ko, fo, lo = key[o], f[o], lb[o]
    grp_start = np.r_[0, np.flatnonzero(ko[1:] != ko[:-1]) + 1]
    cum = np.cumsum(lo)
    cum = cum - np.repeat(np.r_[0.0, cum[grp_start[1:] - 1]], np.diff(np.r_[grp_start, len(ko)]))
    over_key = np.unique(ko[cum > capK[ko % ne] * fo + 1e-6])
    if len(over_key):
        keep = ~np.isin(key, over_key)
        bi, ej, u, key, f, lb, dist_m = bi[keep], ej[keep], u[keep], key[keep], f[keep], lb[keep], dist_m[keep]
    d = dist_m / 1000.0
    pc = lb / 1e4 * (d - spec.suitability_weight * D * score[ej, bcat[bi]])
    ak, a_of_pair = np.unique(key, return_inverse=True)
    arc_u, arc_e = (ak // ne).astype(np.int64), (ak % ne).astype(np.int64)
    cost = np.bincount(a_of_pair, weights=pc, minlength=len(ak))
    unit_land = np.bincount(unit_of, weights=land, minlength=nu)
    env = np.array([catalogue.env_rank(c) if c in catalogue.codes else 0 for c in codes], dtype=float)
    heavy = np.zeros(nu)
    np.maximum.at(heavy, unit_of[bcat >= 0], env[bcat[bcat >= 0]])
    prio = 1.0 + (heavy / 10.0 if spec.priority == "env_cat" else 0.0)
    penalty = unit_land / 1e4 * (D * (1 + spec.suitability_weight) + 1.0) * prio
    cap_rows = _capacity_rows(a_of_pair, ej, f, lb, capK, ne)
    return _Arcs(arc_u, arc_e, cost, penalty, prio, unit_land, had_arc, cap_rows)


def _pair_distance(a: np.ndarray, b: np.ndarray, ai: np.ndarray, bj: np.ndarray) -> np.ndarray:
    """Exact distances between ``a[ai]`` and ``b[bj]``, in chunks on up to 4 threads (shapely releases
    the GIL; the result is the same as one call)."""
    n = len(ai)
    workers = max(1, min(4, os.cpu_count() or 1, n // 200_000))
    if workers == 1:
        return shapely.distance(a[ai], b[bj])
    cuts = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda k: shapely.distance(a[ai[cuts[k]:cuts[k + 1]]], b[bj[cuts[k]:cuts[k + 1]]]),
                            range(workers)))
    return np.concatenate(parts)


def _capacity_rows(a_of_pair: np.ndarray, ej: np.ndarray, f: np.ndarray, lb: np.ndarray, capK: np.ndarray,
                   ne: int) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
    """Nested capacity rows per estate: for each level L of usable share ``f`` present at the estate,
    the land of the categories with share ≤ L is at most K·L (one row of all land ≤ K when every share
    is 1, as without category-aware capacity)."""
    if not len(ej):
        return []
    lv_key, lv_of = np.unique(ej.astype(np.int64) * 1_000_003 + np.round(f * 1e6).astype(np.int64),
                              return_inverse=True)
    lv_e = lv_key // 1_000_003
    lv_f = (lv_key % 1_000_003) / 1e6
    lv_first = np.searchsorted(lv_e, lv_e)               # first level row of the estate
    lv_n = np.bincount(lv_e, minlength=ne)[lv_e]        # levels at the estate
    rank = np.arange(len(lv_key)) - lv_first            # this level's rank within the estate
    # each pair counts in its level's row and every higher level's row of the estate
    reps = (lv_n - rank)[lv_of]
    pr = np.repeat(lv_of, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
    m = sparse.csr_matrix((np.repeat(lb, reps), (pr, np.repeat(a_of_pair, reps))),
                          shape=(len(lv_key), int(a_of_pair.max()) + 1))
    rhs = capK[lv_e] * lv_f
    return [(int(lv_e[r]), float(rhs[r]), m.indices[m.indptr[r]:m.indptr[r + 1]].astype(np.int64),
             m.data[m.indptr[r]:m.indptr[r + 1]].copy()) for r in range(len(lv_key))]


def _rows_frame(b: gpd.GeoDataFrame, land: np.ndarray, estate: np.ndarray, dkm: np.ndarray,
                assigned: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    pts = gpd.GeoSeries(b.geometry.values, crs=b.crs).to_crs(4326)
    return pd.DataFrame({
        "biz_id": b["biz_id"].to_numpy(), "name": b["name"].to_numpy() if "name" in b else None,
        "category": b["category"].to_numpy(), "lon": np.round(pts.x.to_numpy(), 7), "lat": np.round(pts.y.to_numpy(), 7),
        "estate_id": estate, "distance_km": np.round(dkm, 3), "land_m2": np.round(land, 1),
        "status": np.where(assigned, "assigned", "unassigned"), "reason": reasons,
    })


def _unclassified_reason(b: gpd.GeoDataFrame, i: int) -> str:
    note = b["class_note"].iat[i] if "class_note" in b else ""
    return f"unclassified: {note}" if note else "unclassified"


def _no_estates(b: gpd.GeoDataFrame, land: np.ndarray, classified: np.ndarray, capacity: pd.DataFrame) -> Plan:
    """The plan when the scenario has no estate at all: everything unassigned, all demand unmet."""
    n = len(b)
    reasons = np.array([("no existing estate in the scenario" if classified[i] else _unclassified_reason(b, i))
                        for i in range(n)], dtype=object)
    rows = _rows_frame(b, land, np.array([None] * n, dtype=object), np.full(n, np.nan), np.zeros(n, bool), reasons)
    un = rows[rows["category"].notna()]
    unmet = un.groupby("category").agg(land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    summ = capacity.assign(category=None, used_m2=0.0, units=0, left_m2=capacity["capacity_m2"])
    solver = {"solver": "none (no estate)", "status": "optimal", "objective": 0.0, "lp_bound": 0.0, "gap": 0.0,
              "units": int(n), "arcs": 0, "capacity_rows": 0}
    return Plan(rows, summ, unmet, solver)


def _near_reasons(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, elig: pd.DataFrame, D: float,
                  rows: np.ndarray) -> list[str]:
    """Reason text for the businesses ``rows`` that have no eligible estate within reach: the nearest
    estate and why."""
    if not len(rows):
        return []
    tree = shapely.STRtree(estates.geometry.values)
    (qi, ej), dist = tree.query_nearest(b.geometry.values[rows], return_distance=True, all_matches=False)
    why = {(e, c): r for e, c, r in zip(elig["estate_id"], elig["category"], elig["reason"])}
    eids = estates["estate_id"].to_numpy()
    cats = b["category"].to_numpy()[rows]
    out = [""] * len(rows)
    for i, e, d in zip(qi, ej, dist):
        if d / 1000 > D:
            out[i] = f"no eligible estate within {D:g} km (nearest: {eids[e]} at {d / 1000:.1f} km)"
        else:
            out[i] = f"no eligible estate within {D:g} km (nearest {eids[e]}: {why.get((eids[e], cats[i]), '') or 'not eligible'})"
    return out
