"""The relocation plan: estate capacity, the allocation of businesses to estates, and the reasons
for every business left unassigned."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA, M_PER_KM
from ..errors import InputError
from ..guilds.catalogue import Catalogue
from ..rules.reservations import Reservation, merge_reserved, split_reserved
from ..scenario import AllocationSpec
from .model import PENALTY_MARGIN_KM, AssignmentModel, Units, build_model, business_units
from .roads import RoadNetwork, TravelCosts
from .solve import AssignmentResult, SolverOptions, solve_model_cached

if TYPE_CHECKING:
    from ..scoring.prepared import Prepared
    from .inputs import PlanInputs

log = logging.getLogger(__name__)

__all__ = ["Plan", "allocate", "estate_capacity", "relocation_flows"]

# how many duplicate ids the error message lists
MAX_LISTED_IDS = 20


def estate_capacity(estates: gpd.GeoDataFrame, plots: gpd.GeoDataFrame | None, net_to_gross: float,
                    default_vacant_share: float | None = None) -> pd.DataFrame:
    """Net land available in each estate for relocated businesses.

    Estates with plots in the ``plots`` layer offer their vacant and terminated plots (net land as it
    is); the others offer ``vacant_ha × net_to_gross``. An estate without ``vacant_ha`` offers
    ``default_vacant_share`` of its gross area (``gross_ha``, else its polygon area) when the scenario
    sets one (source ``assumed share``), else nothing.

    On an estate whose capacity comes from plots, the capacity the allocation uses is its free plots
    themselves (``plot_m2``): a business may go there only where a free plot fits it, one business per
    plot (:func:`siteplan.relocation.model.build_model`); ``capacity_m2`` is their total area.

    Parameters
    ----------
    estates
        The estates layer (``estate_id``; optional ``vacant_ha`` and ``gross_ha`` in hectares).
    plots
        The plots layer (``estate_id``, ``status``, optional ``area_m2``; else the polygon's area in
        the working CRS's m²), or None without one.
    net_to_gross
        The share of vacant gross land usable by businesses (roads and services take the rest), in (0, 1].
    default_vacant_share
        The share of an estate's gross area assumed vacant when it has no ``vacant_ha``; None: such an
        estate offers nothing.

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``capacity_m2``, ``capacity_from`` (``plots``, ``vacant_ha`` or ``none``) and
        ``plot_m2`` (the areas of the free plots, largest first, as a tuple, on an estate whose capacity
        comes from plots; None elsewhere).

    Raises
    ------
    InputError
        An estate's capacity is negative (negative ``vacant_ha`` or plot areas).
    """
    cap = {}
    src = {}
    sizes: dict[object, tuple[float, ...]] = {}
    vac = estates["vacant_ha"] if "vacant_ha" in estates else pd.Series(np.nan, index=estates.index)
    gross = estates["gross_ha"] if "gross_ha" in estates else pd.Series(np.nan, index=estates.index)
    gross = gross.fillna(pd.Series(estates.geometry.area.to_numpy() / M2_PER_HA, index=estates.index))
    for eid, v, g in zip(estates["estate_id"], vac, gross):
        if pd.notna(v):
            cap[eid] = float(v) * M2_PER_HA * net_to_gross
            src[eid] = "vacant_ha"
        elif default_vacant_share is not None:
            cap[eid] = float(g) * default_vacant_share * M2_PER_HA * net_to_gross
            src[eid] = "assumed share"
    if plots is not None and len(plots):
        free = plots[plots["status"].isin(["vacant", "terminated"])]
        area = free["area_m2"] if "area_m2" in free else pd.Series(np.nan, index=free.index)
        area = area.fillna(pd.Series(free.geometry.area, index=free.index))
        for eid, a in area.groupby(free["estate_id"]):
            cap[eid] = float(a.sum())
            src[eid] = "plots"
            sizes[eid] = tuple(float(x) for x in np.sort(a.to_numpy(float))[::-1])
        for eid in set(plots["estate_id"]) - set(free["estate_id"]):
            cap[eid] = 0.0
            src[eid] = "plots"
            sizes[eid] = ()
    ids = list(estates["estate_id"])
    negative = [f"{i} ({cap[i]:,.0f} m²)" for i in ids if cap.get(i, 0.0) < 0]
    if negative:  # siteplan.inputs.plausibility refuses these when the layers are loaded; never write them
        raise InputError(f"estates: negative capacity for {len(negative)} estate(s): {', '.join(negative[:20])}; "
                         "vacant_ha and plot areas must not be negative")
    return pd.DataFrame({"estate_id": ids, "capacity_m2": [cap.get(i, 0.0) for i in ids],
                         "capacity_from": [src.get(i, "none") for i in ids],
                         "plot_m2": pd.Series([sizes.get(i) for i in ids], dtype=object)})


@dataclass(frozen=True)
class Plan:
    """A relocation plan.

    Parameters
    ----------
    rows
        One row per business: ``biz_id``, ``name``, ``category``, ``lon``, ``lat``, ``estate_id``,
        ``distance_km`` (straight line), on a road network ``road_km`` (shortest route) and ``minutes``
        (fastest route), ``land_m2``, ``status`` (assigned/unassigned), ``reason``.
    estate_summary
        Per estate and category: capacity, used and left (m²) and units.
    unmet
        Unassigned land per category (m²), for new sites.
    solver
        Objective, LP bound, gap, status.
    measure
        How travel was measured: ``straight`` (km), or on roads ``km`` (road km) or ``minutes``
        (:meth:`siteplan.scenario.AllocationSpec.measure`).
    """

    rows: pd.DataFrame
    estate_summary: pd.DataFrame
    unmet: pd.DataFrame
    solver: dict[str, object]
    measure: str = "straight"


def disruption_weight(spec: AllocationSpec) -> float:
    """Cost (km per ha of a business's land) of moving a business away from where a baseline run put it
    (``allocation.disruption_km``; default D (1 + β) + 1, D the reach (km, or minutes under
    ``allocation.reach_min``) and β the suitability weight:
    more than the whole range of a business's trip-and-suitability cost, so no business moves only to
    shorten its trip or to reach better land; it moves when that lets the plan place a business that
    had no place, or when its baseline estate no longer takes it)."""
    if spec.disruption_km is not None:
        return float(spec.disruption_km)
    return float(spec.reach * (1 + spec.suitability_weight) + PENALTY_MARGIN_KM)


def with_disruption(model: AssignmentModel, b: pd.DataFrame, unit_of: np.ndarray, estate_ids: np.ndarray,
                    stay: pd.Series, weight: float) -> AssignmentModel:
    """The model with the cost of disruption: a unit whose businesses a baseline run put on one estate
    pays ``weight`` × its land (ha) on every arc to another estate and when left unassigned.

    Parameters
    ----------
    model
        The assignment model.
    b
        The businesses (``biz_id``), in the model's order.
    unit_of
        Each business's unit.
    estate_ids
        The estates' ids in the model's order (a reserved share's id names its estate).
    stay
        ``biz_id`` → baseline estate ("": unassigned in the baseline; absent: not in the baseline).
    weight
        Km per ha (:func:`disruption_weight`).
    """
    from dataclasses import replace

    from ..rules.reservations import RESERVED_SUFFIX

    base = b["biz_id"].map(stay).fillna("").astype(str).to_numpy()
    n = model.n_units
    first = np.full(n, "", dtype=object)
    mixed = np.zeros(n, dtype=bool)
    for u, e in zip(unit_of, base):  # a unit's members share the baseline estate, or the unit is "mixed"
        if u < 0:
            continue
        if first[u] == "":
            first[u] = e
        elif first[u] != e:
            mixed[u] = True
    placed = first != ""
    eid = np.array([str(e).removesuffix(RESERVED_SUFFIX) for e in estate_ids], dtype=object)
    land = model.unit_land if model.unit_land is not None else np.zeros(n)
    w = weight * np.asarray(land, float) / M2_PER_HA
    away = placed[model.arc_u] & ((eid[model.arc_e] != first[model.arc_u]) | mixed[model.arc_u])
    cost = model.cost + np.where(away, w[model.arc_u], 0.0)
    penalty = model.penalty + np.where(placed, w, 0.0)
    return replace(model, cost=cost, penalty=penalty)


def allocate(businesses: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, catalogue: Catalogue,  # noqa: PLR0913 -- the model's inputs plus fast-path options (costs=, detail=) for the upgrades' re-allocations
             elig: pd.DataFrame, capacity: pd.DataFrame, scores: pd.DataFrame | None,
             spec: AllocationSpec, reservations: dict[str, Reservation] | None = None, *,
             used: pd.DataFrame | None = None, weights: pd.Series | None = None,
             network: RoadNetwork | None = None, stay: pd.Series | None = None,
             costs: Callable[..., TravelCosts] | None = None, detail: bool = True) -> Plan:
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
        :func:`siteplan.rules.ruleset.eligibility` output.
    capacity
        :func:`estate_capacity` output.
    scores
        Optional ``estate_id``, ``category``, ``score`` (suitability in [0, 1]) for the bonus.
    spec
        Allocation settings (the solver's as :meth:`SolverOptions.from_spec`).
    reservations
        Estates with a share reserved for some categories (:mod:`siteplan.rules.reservations`): the reserved
        part takes only those; the rows name the estate itself.
    used, weights
        Land already taken and priority weights (:func:`siteplan.relocation.model.build_model`; the
        phases of :mod:`siteplan.programme.phasing`); None: none.
    network
        The road network (:mod:`siteplan.relocation.roads`): reach and costs along the roads, and the rows gain
        ``road_km`` and ``minutes``; None: straight lines.
    stay
        ``biz_id`` → the estate a baseline run put it on ("": unassigned there); None: no baseline.
        Every arc that takes a business the baseline placed away from its baseline estate, and leaving it
        unassigned, costs :func:`disruption_weight` × its land (ha) more (:func:`with_disruption`).
    costs
        On a road network, the travel costs' source (:func:`siteplan.relocation.model.build_model`); None:
        computed here.
    detail
        False: the rows' ``reason`` left empty, ``summary`` and ``unmet`` empty frames: the same
        assignment, for callers that read only who goes where (the upgrades' re-allocations).

    Returns
    -------
    Plan
        The assignment: one row per business with its estate or why it stays unassigned, the land
        used and left per estate and category, the unmet land per category and the solver's figures.
    """
    if businesses["biz_id"].duplicated().any():
        d = sorted(set(businesses.loc[businesses["biz_id"].duplicated(), "biz_id"]))
        raise InputError(f"businesses: duplicate biz_id: {', '.join(map(str, d[:MAX_LISTED_IDS]))}")
    b = businesses.reset_index(drop=True)
    units = business_units(b, catalogue, spec)
    if len(estates) == 0:
        return _no_estates(b, units.land, units.classified, capacity, roads=network is not None)
    full_capacity = capacity
    if reservations:
        estates, capacity, elig, scores = split_reserved(estates, capacity, elig, scores, reservations)
        if used is not None and len(used):
            used = _used_reserved(used, capacity, reservations)
    model = build_model(b, estates, catalogue, elig, capacity, scores, spec, units, used=used, weights=weights,
                        network=network, costs=costs)
    if stay is not None:
        model = with_disruption(model, b, units.unit_of, estates["estate_id"].to_numpy(), stay,
                                disruption_weight(spec))
    res = solve_model_cached(model, SolverOptions.from_spec(spec))
    # per-business rows
    est_of_b = res.assign[units.unit_of]
    assigned = est_of_b >= 0
    dkm = np.full(len(b), np.nan)
    dkm[assigned] = shapely.distance(b.geometry.values[assigned], estates.geometry.values[est_of_b[assigned]]) \
        / M_PER_KM
    reach = reach_phrase(spec, roads=network is not None)
    reasons = (_reasons(b, estates, elig, reach, model, units, assigned) if detail else
               np.full(len(b), "", dtype=object))
    eids = estates["estate_id"].to_numpy()
    estate_col = cast("np.ndarray", np.where(assigned, eids[np.maximum(est_of_b, 0)], None))  # numpy stubs: None
    road = _pair_values(model.travel, est_of_b) if model.travel is not None else None
    rows = _rows_frame(b, units.land, estate_col, dkm, assigned, reasons, road)
    if reservations:
        rows = merge_reserved(rows)
    if spec.keep_clusters_together and "cluster_id" in b:
        rows["cluster_id"] = b["cluster_id"].to_numpy()
    log.info("relocation: %d assigned, %d unassigned; gap %.4f%%", int(assigned.sum()), int((~assigned).sum()),
             100 * res.gap)
    if not detail:
        return Plan(rows, pd.DataFrame(), pd.DataFrame(), _solver_report(res, model), spec.measure(roads=network is not None))
    un = rows[(rows.status == "unassigned") & rows["category"].notna()]
    unmet = un.groupby("category").agg(land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    return Plan(rows, _estate_summary(rows, full_capacity), unmet, _solver_report(res, model),
                spec.measure(roads=network is not None))


def reach_phrase(spec: AllocationSpec, *, roads: bool) -> str:
    """The reach as the reasons say it: ``30 km``, ``30 km by road`` or ``45 min by road``."""
    if not roads:
        return f"{spec.max_distance_km:g} km"
    return f"{spec.reach_min:g} min by road" if spec.reach_min is not None else f"{spec.max_distance_km:g} km by road"


def _pair_values(tc: TravelCosts, est_of_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Road km and minutes of each business to its estate (NaN when unassigned)."""
    n_est = tc.shape[1]
    key = tc.i * n_est + tc.j
    want = np.arange(len(est_of_b)) * n_est + est_of_b
    pos = np.clip(np.searchsorted(key, want), 0, max(len(key) - 1, 0))
    ok = (est_of_b >= 0) & (len(key) > 0)
    if len(key):
        ok &= key[pos] == want
    km = np.where(ok, tc.km[pos] if len(key) else np.nan, np.nan)
    mins = np.where(ok, tc.minutes[pos] if len(key) else np.nan, np.nan)
    return km, mins


def _used_reserved(used: pd.DataFrame, capacity: pd.DataFrame, reservations: dict[str, Reservation]) -> pd.DataFrame:
    """Land taken before at estates with a reserved share (:func:`allocate`'s ``used``), split as the
    allocation splits those estates: the reserved categories' land fills the reserved part first (up to
    its capacity), the rest of it and the other categories' land the rest of the estate."""
    from ..rules.reservations import RESERVED_SUFFIX

    parts = {eid: r for eid, r in reservations.items() if r.only and r.share < 1.0}
    if not parts:
        return used
    cap = dict(zip(capacity["estate_id"].astype(str), capacity["capacity_m2"].astype(float)))
    out = []
    for r in used.itertuples(index=False):
        eid = str(r.estate_id)
        part = parts.get(eid)
        land = float(r.land_m2)
        if part is not None and r.category in part.only:
            room = cap.get(eid + RESERVED_SUFFIX, 0.0)
            into = min(land, room)
            if into > 0:
                out.append((eid + RESERVED_SUFFIX, r.category, into))
                cap[eid + RESERVED_SUFFIX] = room - into
            land -= into
        if land > 0:
            out.append((r.estate_id, r.category, land))
    return pd.DataFrame(out, columns=["estate_id", "category", "land_m2"])


def _estate_summary(rows: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Per estate and category: capacity, land used, units, land left (m²)."""
    used = rows[rows.status == "assigned"].groupby(["estate_id", "category"]).agg(
        used_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    summ = capacity.drop(columns=["plot_m2"], errors="ignore").merge(used, on="estate_id", how="left")
    summ["used_m2"] = summ["used_m2"].fillna(0.0)
    summ["units"] = summ["units"].fillna(0).astype(int)
    tot = summ.groupby("estate_id")["used_m2"].transform("sum")
    summ["left_m2"] = (summ["capacity_m2"] - tot).clip(lower=0.0)
    return summ


def _solver_report(res: AssignmentResult, model: AssignmentModel) -> dict[str, object]:
    """The solver section of the plan (and of the manifest)."""
    how = ("one exact HiGHS MILP" if res.residual_method == "exact milp" else
           f"relaxation: {res.relaxation}; repair: HiGHS MILP over the split and marginal units, greedy "
           "placement, local search (shifts and ejection chains)")
    if res.fallback:
        how = f"fallback ({res.fallback}): {how}"
    return {"solver": how, "fallback": res.fallback or None,
            "status": res.status, "objective": round(res.objective, 6), "lp_bound": round(res.lp_bound, 6),
            "gap": round(res.gap, 9), "units": int(model.n_units), "arcs": int(model.n_arcs),
            "capacity_rows": len(model.cap_rows), "fractional_units": res.fractional_units,
            "residual_units": res.residual_units, "residual_method": res.residual_method,
            "relaxation": res.relaxation, "relaxed_objective": round(res.relaxed_objective, 6),
            "search_passes": res.search_passes, "search_moves": res.search_moves, "lp_message": res.lp_status,
            "timings_s": {k: round(v, 3) for k, v in (res.timings or {}).items()}}


def _reasons(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, elig: pd.DataFrame, reach: str,
             model: AssignmentModel, units: Units, assigned: np.ndarray) -> np.ndarray:
    """Why each unassigned business is out (empty for the assigned): unclassified, too large for the
    free land of every eligible estate in reach, no eligible estate in reach, or capacity used up."""
    unit_of, classified = units.unit_of, units.classified
    assert model.unit_land is not None and model.in_reach is not None
    has_arc = np.zeros(model.n_units, bool)
    has_arc[model.arc_u] = True
    reasons = np.full(len(b), "", dtype=object)
    out = ~assigned
    unc = out & ~classified
    reasons[unc] = [_unclassified_reason(b, i) for i in np.flatnonzero(unc).tolist()]
    big = out & classified & ~has_arc[unit_of] & model.in_reach[unit_of]
    reasons[big] = [f"too large ({model.unit_land[unit_of[i]] / M2_PER_HA:.2f} ha) for the free land of every "
                    f"eligible estate within {reach}" for i in np.flatnonzero(big)]
    far = out & classified & ~has_arc[unit_of] & ~model.in_reach[unit_of]
    reasons[far] = _near_reasons(b, estates, elig, reach, np.flatnonzero(far), roads=model.travel is not None)
    reasons[out & classified & has_arc[unit_of]] = "capacity exhausted in the eligible estates within reach"
    return reasons


def _rows_frame(b: gpd.GeoDataFrame, land: np.ndarray, estate: np.ndarray, dkm: np.ndarray,
                assigned: np.ndarray, reasons: np.ndarray,
                road: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    pts = gpd.GeoSeries(b.geometry.values, crs=b.crs).to_crs(4326)
    cols: dict[str, object] = {
        "biz_id": b["biz_id"].to_numpy(), "name": b["name"].to_numpy() if "name" in b else None,
        "category": b["category"].to_numpy(), "lon": np.round(pts.x.to_numpy(), 7), "lat": np.round(pts.y.to_numpy(), 7),
        "estate_id": estate, "distance_km": np.round(dkm, 3)}
    if road is not None:  # beside the straight distance: the road route's length and time
        cols["road_km"] = np.round(road[0], 3)
        cols["minutes"] = np.round(road[1], 1)
    cols.update({"land_m2": np.round(land, 1), "status": np.where(assigned, "assigned", "unassigned"),
                 "reason": reasons})
    return pd.DataFrame(cols)


def _unclassified_reason(b: gpd.GeoDataFrame, i: int) -> str:
    note = b["class_note"].iat[i] if "class_note" in b else ""
    return f"unclassified: {note}" if note else "unclassified"


def _no_estates(b: gpd.GeoDataFrame, land: np.ndarray, classified: np.ndarray, capacity: pd.DataFrame, *,
                roads: bool = False) -> Plan:
    """The plan when the scenario has no estate at all: everything unassigned, all demand unmet."""
    n = len(b)
    reasons = np.array([("no existing estate in the scenario" if classified[i] else _unclassified_reason(b, i))
                        for i in range(n)], dtype=object)
    nan = np.full(n, np.nan)
    rows = _rows_frame(b, land, np.array([None] * n, dtype=object), nan, np.zeros(n, bool), reasons,
                       (nan, nan) if roads else None)
    un = rows[rows["category"].notna()]
    unmet = un.groupby("category").agg(land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    summ = capacity.drop(columns=["plot_m2"], errors="ignore").assign(category=None, used_m2=0.0, units=0,
                                                                      left_m2=capacity["capacity_m2"])
    solver = {"solver": "none (no estate)", "status": "optimal", "objective": 0.0, "lp_bound": 0.0, "gap": 0.0,
              "units": int(n), "arcs": 0, "capacity_rows": 0}
    return Plan(rows, summ, unmet, solver)


def _near_reasons(b: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, elig: pd.DataFrame, reach: str,
                  rows: np.ndarray, *, roads: bool = False) -> list[str]:
    """Reason text for the businesses ``rows`` that have no eligible estate within reach: the nearest
    estate in a straight line (its distance straight) and why; on roads, an eligible nearest estate
    is beyond the reach by road, and its distance is said to be ``in a straight line``."""
    dist_limit_km = float(reach.split(" ", maxsplit=1)[0])
    if not len(rows):
        return []
    tree = shapely.STRtree(estates.geometry.values)
    (qi, nearest), dist = tree.query_nearest(b.geometry.values[rows], return_distance=True, all_matches=False)
    why = {(e, c): r for e, c, r in zip(elig["estate_id"], elig["category"], elig["reason"])}
    ok = {(e, c) for e, c, x in zip(elig["estate_id"], elig["category"], elig["eligible"]) if x}
    eids = estates["estate_id"].to_numpy()
    cats = b["category"].to_numpy()[rows]
    out = [""] * len(rows)
    for i, e, d in zip(qi, nearest, dist):
        d_km = d / M_PER_KM
        if (d_km > dist_limit_km and not roads) or (roads and (eids[e], cats[i]) in ok):
            line = " in a straight line" if roads else ""
            out[i] = f"no eligible estate within {reach} (nearest: {eids[e]} at {d_km:.1f} km{line})"
        else:
            out[i] = (f"no eligible estate within {reach} "
                      f"(nearest {eids[e]}: {why.get((eids[e], cats[i]), '') or 'not eligible'})")
    return out


def relocation_flows(rows: pd.DataFrame, businesses: gpd.GeoDataFrame, urban: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where the assigned businesses come from and go: one row per (origin settlement, estate).

    Parameters
    ----------
    rows
        :attr:`Plan.rows` (``biz_id``, ``status``, ``estate_id``).
    businesses
        The classified businesses (working CRS points) with ``biz_id``.
    urban
        Settlements; each business's origin is the nearest one.

    Returns
    -------
    pandas.DataFrame
        ``origin`` (position in ``urban``), ``origin_name``, ``estate_id`` and ``units``, sorted by
        origin and estate.
    """
    cols = ["origin", "origin_name", "estate_id", "units"]
    assigned = rows[rows.status == "assigned"]
    if not len(assigned) or not len(urban):
        return pd.DataFrame(columns=cols)
    pts = businesses.set_index("biz_id").loc[assigned.biz_id].geometry.values
    origin = shapely.STRtree(urban.geometry.values).query_nearest(pts, all_matches=False)[1]
    fl = pd.DataFrame({"origin": origin, "estate_id": assigned.estate_id.to_numpy()})
    fl = fl.groupby(["origin", "estate_id"]).size().reset_index(name="units")
    fl["origin_name"] = urban["name"].to_numpy()[fl["origin"].to_numpy()]
    return fl[cols]


def relocate(prep: Prepared, inputs: PlanInputs, *, costs: Callable[..., TravelCosts] | None = None,
             detail: bool = True) -> Plan:
    """The relocation plan on the pipeline's plan inputs: the run's "allocate" stage, and the same call
    that verifies an upgrade (:mod:`siteplan.locate.upgrades`) and solves each phase
    (:mod:`siteplan.programme.phasing`).

    Parameters
    ----------
    prep
        The prepared scenario (its catalogue and allocation settings).
    inputs
        What the plan is solved on (:func:`siteplan.pipeline.plan_inputs`, or a copy with changed
        estates, businesses or settings).
    costs, detail
        As for :func:`allocate`.

    Returns
    -------
    Plan
        The plan, with a reason for every business left out (``detail``).
    """
    from .roads import scenario_network

    return allocate(inputs.businesses, inputs.estates, prep.catalogue, inputs.elig, inputs.capacity, inputs.scores,
                    inputs.spec or prep.scenario.allocation, inputs.reserved, used=inputs.used,
                    weights=inputs.weights, network=scenario_network(prep), stay=inputs.stay, costs=costs,
                    detail=detail)
