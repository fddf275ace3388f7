"""Which candidate sites open and who they take: the new-site choice as capacitated facility location.

The candidates come from :func:`siteplan.locate.newsites.demand_sites` (the greedy search where the
unassigned demand is, and its alternatives).

**Which open, and who they take** (:func:`choose_sites`). A capacitated facility-location model
(:func:`siteplan.facility.capacitated_p_location`) on the travel costs (:func:`site_costs`) chooses
at most ``sites.count`` candidates and assigns each unassigned business to one of them (a candidate
of its chain within the reach, up to the candidate's net land) or leaves it unserved::

    min Σ land_i · cost_ij x_ij + Σ land_i · 2 · reach · u_i
    s.t. each business served once or unserved; Σ_i land_i x_ij ≤ net_j y_j; x_ij ≤ y_j;
         Σ_i x_ij ≥ L_j y_j; Σ_j y_j ≤ sites.count

with L_j = ``sites.min_businesses`` lowered to the most businesses of its chain in reach that fit on
it (at least 1). The greedy sites (step 2 of :mod:`siteplan.locate.newsites`) are the start: the same
model with only them allowed to open is solved first and kept unless the full model, under ``sites.node_limit`` branch-and-bound
nodes (deterministic), finds cheaper; HiGHS's dual bound gives the gap. Each opened site's
**contribution** is the objective change when it is closed and the rest re-optimised (the same model
with that site closed), with its proven interval [bound without it − objective, objective without it
− bound] (never below 0).

:func:`absorb` is the other way to say who they take: the relocation stage's own allocation onto the
proposed sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..common.units import M2_PER_HA
from .newsites import unassigned_businesses

if TYPE_CHECKING:
    from ..relocation import Plan
    from ..results import Prepared

__all__ = ["UNSERVED_REACHES", "SiteChoice", "SiteModel", "absorb", "choose_sites", "per_site_takes", "site_costs",
           "site_model"]

#: a business left unserved costs this many times the reach (per ha of its land), more than any trip
UNSERVED_REACHES = 2.0


@dataclass
class SiteModel:
    """The facility-location instance of the new-site choice (:func:`site_model`).

    Attributes
    ----------
    biz_id
        The points: the unassigned, classified businesses.
    arc_i, arc_j
        The arcs: point and candidate positions (the candidate's chain holds the point's category and
        the candidate is within the reach of the point).
    arc_km, arc_cost
        The arc's travel km and its cost: the point's land (ha) × its travel cost (km, or minutes
        under a reach in minutes).
    land_ha, penalty
        Each point's land and its cost when left unserved (land × :data:`UNSERVED_REACHES` × reach).
    capacity_ha, min_take, start
        Each candidate's net land, the fewest businesses it takes when open (``sites.min_businesses``,
        lowered to the most of its reachable businesses that fit on it, at least 1) and whether the
        greedy search chose it (the start).
    p
        Most sites to open (``sites.count``).
    measure
        The travel cost's measure (``km``, ``minutes`` or ``straight``).
    """

    biz_id: np.ndarray
    arc_i: np.ndarray
    arc_j: np.ndarray
    arc_km: np.ndarray
    arc_cost: np.ndarray
    land_ha: np.ndarray
    penalty: np.ndarray
    capacity_ha: np.ndarray
    min_take: np.ndarray
    fit: np.ndarray
    start: np.ndarray
    p: int
    measure: str

    def closed(self) -> np.ndarray:
        """Candidates no business can use (never opened)."""
        answer: np.ndarray = self.fit == 0
        return answer


def site_costs(prep: Prepared, points: np.ndarray, sites: np.ndarray) -> Any:
    """Travel costs from the businesses to the candidate sites within the reach: the one place the
    new-site choice measures (:func:`siteplan.relocation.roads.travel_costs`, on the scenario's road network when
    the run has one, straight lines otherwise)."""
    from ..relocation import roads

    al = prep.scenario.allocation
    get_net = getattr(roads, "scenario_network", None)
    net = get_net(prep) if get_net is not None else None
    reach_min = getattr(al, "reach_min", None)
    if net is not None and reach_min is not None:
        return roads.travel_costs(points, sites, net, reach_min=reach_min)
    return roads.travel_costs(points, sites, net, reach_km=al.max_distance_km)


def site_model(prep: Prepared, un: pd.DataFrame, cands: gpd.GeoDataFrame) -> SiteModel:
    """The facility-location instance: the unassigned businesses ``un`` (``biz_id``, ``category``,
    ``land_m2``, ``geometry``) and the candidate sites ``cands`` (``categories``, ``net_ha``, ``start``,
    geometry)."""
    spec = prep.scenario.sites
    tc = site_costs(prep, np.asarray(un.geometry.to_numpy()), cands.geometry.values)
    cat = un["category"].to_numpy()
    codes = [set(str(c).split(", ")) for c in cands["categories"]]
    ok = np.array([cat[i] in codes[j] for i, j in zip(tc.i, tc.j)], dtype=bool)
    ai, aj = tc.i[ok].astype(np.int64), tc.j[ok].astype(np.int64)
    land = un["land_m2"].to_numpy(float) / M2_PER_HA
    cap = cands["net_ha"].to_numpy(float)
    fit = np.zeros(len(cands), dtype=np.int64)
    for j in range(len(cands)):
        lj = np.sort(land[ai[aj == j]], kind="stable")
        fit[j] = int((np.cumsum(lj) <= cap[j] + 1e-9).sum())
    return SiteModel(un["biz_id"].to_numpy(), ai, aj, np.asarray(tc.km, float)[ok],
                     land[ai] * np.asarray(tc.cost, float)[ok], land, land * UNSERVED_REACHES * float(tc.reach),
                     cap, np.maximum(1, np.minimum(spec.min_businesses, fit)), fit,
                     cands["start"].to_numpy(bool), int(spec.count), str(tc.measure))


@dataclass
class SiteChoice:
    """The answer of :func:`choose_sites`.

    Attributes
    ----------
    open, assign
        Candidates opened; candidate of each point (-1: unserved).
    objective, lower_bound, gap
        The answer's cost, a proven lower bound on the optimum and ``(objective − bound) / objective``.
    start_objective
        The greedy start's cost (its candidates opened, the businesses allocated to them optimally).
    status, method
        ``optimal`` when the gap is closed (else ``feasible``); which answer was kept.
    contribution, contribution_lo, contribution_hi, unserved_without
        Per opened site: the cost added when it is closed and the rest re-optimised (the closed
        model's answer minus this answer), the proven interval of that change between the two optima
        (``[max(0, bound without it − objective), cost without it − bound]``), and how many more
        businesses are left unserved without it.
    """

    open: np.ndarray
    assign: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    start_objective: float
    status: str
    method: str
    contribution: np.ndarray
    contribution_lo: np.ndarray
    contribution_hi: np.ndarray
    unserved_without: np.ndarray


def _solve(model: SiteModel, node_limit: int, time_limit: float, **kw: Any) -> Any:
    from .facility import capacitated_p_location

    closed = model.closed() | kw.pop("closed", np.zeros(len(model.fit), dtype=bool))
    return capacitated_p_location(model.arc_i, model.arc_j, model.arc_cost, model.land_ha, model.capacity_ha,
                                  model.penalty, model.p, min_take=model.min_take, closed=closed,
                                  node_limit=node_limit, time_limit=time_limit, **kw)


def choose_sites(model: SiteModel, *, node_limit: int, time_limit: float) -> SiteChoice:
    """Which candidates open and who goes to each: the capacitated p-location MILP of
    :func:`siteplan.facility.capacitated_p_location` on ``model``, from the greedy start.

    The start (the greedy search's sites opened, the businesses allocated to them by the same MILP) is
    the incumbent; the full model, under ``node_limit`` branch-and-bound nodes, replaces it when it finds
    a cheaper answer; its dual bound proves the gap. Each opened site is then closed in turn and the
    model re-solved (same node limit) for its contribution.
    """
    n, m = len(model.land_ha), len(model.fit)
    if m == 0 or n == 0 or not len(model.arc_i):
        z = np.zeros(0)
        pen = float(model.penalty.sum())
        return SiteChoice(np.zeros(0, np.int64), np.full(n, -1, np.int64), pen, pen, 0.0, pen, "optimal",
                          "no candidate can take any business", z, z, z, np.zeros(0, np.int64))
    start = _solve(model, node_limit, time_limit, only=model.start)
    full = _solve(model, node_limit, time_limit)
    best, method = full, "MILP (HiGHS) from the greedy start"
    if full.status == "infeasible" or start.objective < full.objective - 1e-9:
        best, method = start, "the greedy start (the MILP found nothing cheaper within its node limit)"
    bound = min(full.lower_bound, best.objective)
    gap = max((best.objective - bound) / best.objective, 0.0) if best.objective > 0 else 0.0
    k = len(best.open)
    con, lo, hi = np.zeros(k), np.zeros(k), np.zeros(k)
    more = np.zeros(k, dtype=np.int64)
    used = best.assign[model.arc_i] == model.arc_j  # the arcs of the answer
    paid = np.zeros(n)
    paid[model.arc_i[used]] = model.arc_cost[used]
    for t, j in enumerate(best.open):
        mask = np.zeros(m, dtype=bool)
        mask[j] = True
        r = _solve(model, node_limit, time_limit, closed=mask)
        # closing j and leaving its businesses unserved is an answer without j too
        mine = best.assign == j
        drop = best.objective + float((model.penalty[mine] - paid[mine]).sum())
        ub, un_without = (r.objective, int((r.assign < 0).sum())) if r.objective <= drop else \
            (drop, int((best.assign < 0).sum() + mine.sum()))
        con[t] = ub - best.objective
        lo[t] = max(0.0, r.lower_bound - best.objective)
        hi[t] = max(ub - bound, 0.0)
        more[t] = un_without - int((best.assign < 0).sum())
    return SiteChoice(best.open, best.assign, best.objective, bound, gap, start.objective,
                      "optimal" if gap <= 1e-9 else "feasible", method, con, lo, hi, more)


def per_site_takes(takes: pd.DataFrame, un: pd.DataFrame, site_ids: list[str]) -> pd.DataFrame:
    """``site_id``, ``units``, ``land_ha``, ``takes`` (``code:n`` list) of each site from ``takes``."""
    got = takes[takes["site_id"].notna()].merge(un[["biz_id", "category", "land_m2"]], on="biz_id")
    per = got.groupby("site_id").agg(units=("biz_id", "size"), land_ha=("land_m2", "sum"))
    per["land_ha"] = (per["land_ha"] / M2_PER_HA).round(2)
    per["takes"] = got.groupby("site_id")["category"].apply(
        lambda s: ", ".join(f"{c}:{n}" for c, n in sorted(s.value_counts().items())))
    per = pd.DataFrame({"site_id": site_ids}).merge(per.reset_index(), on="site_id", how="left")
    per["units"] = per["units"].fillna(0).astype(np.int64)
    per["land_ha"] = per["land_ha"].fillna(0.0)
    per["takes"] = per["takes"].fillna("")
    return per


def absorb(prep: Prepared, plan: Plan, sites: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate the unassigned businesses to the proposed sites (module docstring, step 4).

    Parameters
    ----------
    prep
        The prepared run.
    plan
        The relocation plan onto the existing estates.
    sites
        Proposed sites with ``site_id``, ``chain``, ``categories`` (comma list), ``net_ha`` and geometry.

    Returns
    -------
    takes, per_site
        ``takes``: ``biz_id``, ``site_id`` (None when no site takes it), ``site_km`` for every unassigned,
        classified, in-scope business; ``per_site``: ``site_id``, ``units``, ``land_ha`` and ``takes``
        (``code:n`` list).
    """
    from ..relocation import allocate

    un = unassigned_businesses(prep, plan)
    empty_site = pd.DataFrame({"site_id": pd.Series(dtype=object), "units": pd.Series(dtype=np.int64),
                               "land_ha": pd.Series(dtype=float), "takes": pd.Series(dtype=object)})
    if un.empty or sites.empty:
        return pd.DataFrame({"biz_id": un["biz_id"], "site_id": None, "site_km": np.nan}), empty_site
    sc = prep.scenario
    est = gpd.GeoDataFrame({"estate_id": sites["site_id"].to_numpy()}, geometry=sites.geometry.values,
                           crs=sites.crs)
    cats = sites["categories"].str.split(", ")
    rows = []
    for sid, codes, area in zip(sites["site_id"], cats, sites.geometry.area):
        for code in prep.codes:
            ok = code in codes
            rows.append((sid, code, ok, "" if ok else "not this site's value chain", 1.0, area / M2_PER_HA))
    elig = pd.DataFrame(rows, columns=["estate_id", "category", "eligible", "reason", "usable_frac", "usable_ha"])
    cap = pd.DataFrame({"estate_id": sites["site_id"].to_numpy(),
                        "capacity_m2": sites["net_ha"].to_numpy(float) * M2_PER_HA, "capacity_from": "proposed site"})
    biz = prep.businesses.set_index("biz_id").loc[un["biz_id"]].reset_index()
    biz = gpd.GeoDataFrame(biz, geometry="geometry", crs=prep.businesses.crs)
    biz["category"] = un["category"].to_numpy()  # as the plan classified them
    if "cluster_id" in biz:
        biz["cluster_id"] = None  # clusters were kept together in the plan; a site takes who fits
    from ..relocation.roads import scenario_network

    second = allocate(biz, est, prep.catalogue, elig, cap, None, sc.allocation, network=scenario_network(prep))
    r = second.rows
    km = "road_km" if "road_km" in r else "distance_km"  # road km on a road network
    takes = pd.DataFrame({"biz_id": r["biz_id"].to_numpy(),
                          "site_id": np.where(r["status"] == "assigned", r["estate_id"], None),
                          "site_km": np.where(r["status"] == "assigned", r[km], np.nan)})
    got = r[r["status"] == "assigned"]
    per = got.groupby("estate_id").agg(units=("biz_id", "size"), land_ha=("land_m2", "sum"))
    per["land_ha"] = (per["land_ha"] / M2_PER_HA).round(2)
    per["takes"] = got.groupby("estate_id")["category"].apply(
        lambda s: ", ".join(f"{c}:{n}" for c, n in sorted(s.value_counts().items())))
    per = per.reset_index().rename(columns={"estate_id": "site_id"})
    per = pd.DataFrame({"site_id": sites["site_id"]}).merge(per, on="site_id", how="left")
    per["units"] = per["units"].fillna(0).astype(np.int64)
    per["land_ha"] = per["land_ha"].fillna(0.0)
    per["takes"] = per["takes"].fillna("")
    return takes, per
