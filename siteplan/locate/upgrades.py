"""Upgrades of existing estates that would place businesses left unassigned (ranked beside new sites by
:mod:`siteplan.locate.options`).

Businesses are often unassigned not for lack of land nearby but because the estates in reach lack a
utility their trade needs (wastewater for car washes and stone cutting), admit only lighter trades
(``max_cat``), or are of a kind the scenario does not accept. The obvious planning answer is then to
upgrade an estate, not to build a new one far away.

1. **Candidates.** For every unassigned (classified, in-scope) business and every estate within the
   allocation reach that is not eligible for its category, the changes that would make it eligible are
   derived from the estate's row: the category's missing utilities (set to 1), ``max_cat`` raised to the
   category's environmental category, the estate's kind admitted. A change is a candidate only if
   eligibility (the run's own :func:`siteplan.rules.ruleset.eligibility`, so the siting rules and usable land
   still hold) then says yes; land, distance and reservations are never "upgraded".
2. **Screening.** Candidates are ordered by the unassigned land in reach that they would make eligible;
   the first ``upgrades.count`` are estimated.
3. **Estimate by local re-allocation** (``businesses_est``, ``land_ha_est``). Around the upgraded estate,
   the businesses within reach of it (all of them, assigned or not) are allocated again, with the upgrade,
   to the estates within reach of those businesses, on the capacity the rest of the plan leaves there
   (the same solver as the plan), and compared with the plan as it is there (the baseline allocation is
   reused, not solved again: on the demo, solving that neighbourhood again without the upgrade gave the
   plan's own assigned count for each of the five candidates). The difference is a fast estimate: the
   rest of the plan is held fixed, so it misses chains of moves further away.
4. **Verification by re-solving the plan** (``businesses``, ``land_ha``; ``figure`` ``rerun``). The best
   ``upgrades.verify`` candidates by the estimate are verified: the whole relocation model is solved
   again (:func:`siteplan.relocation.relocate`: the same businesses, clusters, capacity, scores,
   reservations and solver settings) with the estate's row changed and its eligibility recomputed —
   exactly what a rerun with the upgrade written into the estates layer gives. ``businesses`` is the
   net change of assigned businesses, ``placed``/``displaced`` the businesses newly placed and newly
   left out (the solver may swap one large unit for several small ones), ``moved`` those placed
   elsewhere than in the plan; ``land_ha`` is the net change of land placed (it can be negative when
   more but smaller businesses are placed), ``placed_ha`` the land of the newly placed. An upgrade whose
   verified net gain is not positive is not listed (a note says so). Candidates left unverified keep
   ``figure`` ``estimate`` with ``businesses`` empty.
5. **Cost proxy.** The distance from the estate to the nearest network of each utility added (utilities
   layer, :data:`NETWORK_KINDS`), or for a higher ``max_cat`` the separation from homes that category
   needs (VNG) — what a planner reads first.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.parallel import ordered_map
from ..common.units import M2_PER_HA, M_PER_KM
from ..relocation.roads import scenario_network, straight_bound_km
from ..rules.ruleset import UTILITIES, eligibility, env_rank, is_blank

if TYPE_CHECKING:
    from ..relocation import Plan
    from ..results import PlanInputs, Prepared

log = logging.getLogger(__name__)

__all__ = ["NETWORK_KINDS", "UPGRADE_COLUMNS", "network_km", "no_network", "propose_upgrades", "upgraded_estates",
           "verify_upgrade"]

#: utilities-layer ``kind`` values that are a network of each utility (for the cost proxy)
NETWORK_KINDS: dict[str, tuple[str, ...]] = {
    "power": ("power_line", "substation", "power"),
    "gas": ("gas_pipe", "gas", "gas_line"),
    "water": ("water_main", "water_pipe", "water"),
    "wastewater": ("sewer", "wastewater", "sewage", "wwtp", "wastewater_plant"),
}
#: the columns of ``upgrades.csv`` (module docstring: ``businesses``/``land_ha`` are the re-solved plan's
#: figures when ``figure`` is ``rerun``, empty when it is ``estimate``; ``*_est`` the local estimate)
UPGRADE_COLUMNS = ("rank", "estate_id", "estate_name", "upgrade", "categories", "businesses", "land_ha",
                   "mean_km", "cost_proxy", "in_reach", "in_reach_ha", "figure", "businesses_est", "land_ha_est",
                   "placed", "placed_ha", "displaced", "moved", "changes")


def network_km(layers: dict[str, gpd.GeoDataFrame], utility: str, geoms: np.ndarray) -> np.ndarray | None:
    """Distance (km) from each geometry to the nearest network of ``utility`` in the utilities layer
    (``kind`` one of :data:`NETWORK_KINDS`); None when the inputs hold no such network."""
    util = layers.get("utilities")
    if util is None or "kind" not in util:
        return None
    net = util[util["kind"].isin(NETWORK_KINDS[utility])]
    if net.empty:
        return None
    tree = shapely.STRtree(net.geometry.values)
    idx, d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[idx[0]] = d / M_PER_KM
    return out


class TravelMemo:
    """Travel costs of the run's businesses to its estates on the road network, computed once and sliced
    for each re-allocation of the upgrades (a ``costs`` source of :func:`siteplan.relocation.allocate`).

    A pair's road km and minutes, and whether it is within the reach, depend only on the point and the
    facility (each point's connector is its own; each facility is one Dijkstra source; the second
    measure's search bound, taken over the set, exceeds every pair within the reach), so the pairs of a
    subset are the subset of the pairs: :func:`siteplan.relocation.roads.travel_costs` on the subset
    gives the same arrays (a test holds it to that). Points and facilities are matched by their
    geometry; a call with any geometry or reach the run's call did not have is computed afresh.
    """

    def __init__(self, points: np.ndarray, facilities: np.ndarray, net: Any, **reach: float | None) -> None:
        self.points = np.asarray(points, dtype=object)
        self.facilities = np.asarray(facilities, dtype=object)
        self.net, self.reach = net, reach
        self._full: Any = None
        self._pos: dict[tuple[str, str], tuple[pd.Index, np.ndarray]] = {}
        self._lock = threading.Lock()  # the evaluations share the memo from threads (ordered_map)

    @staticmethod
    def _keys(geoms: np.ndarray, how: str) -> np.ndarray:
        if how == "id":
            return np.fromiter(map(id, geoms), dtype=np.uint64, count=len(geoms))
        return np.asarray(shapely.to_wkb(geoms), dtype=object)

    def _index(self, which: str, geoms: np.ndarray) -> np.ndarray | None:
        """Position in the run's ``which`` (``points``, ``facilities``) of a geometry equal to each of
        ``geoms`` (None when one has none): the same object (a subset of the run's frames holds the
        run's geometry objects, which this memo keeps alive), else the same WKB."""
        for how in ("id", "wkb"):
            got = self._pos.get((which, how))
            if got is None:
                # equal geometries have equal travel costs: the first of them stands for all
                uniq, first = np.unique(self._keys(getattr(self, which), how), return_index=True)
                got = self._pos[(which, how)] = (pd.Index(uniq), first.astype(np.int64))
            at = got[0].get_indexer(self._keys(geoms, how))
            if not (at < 0).any():
                answer: np.ndarray = got[1][at]
                return answer
        return None

    def __call__(self, points: Any, facilities: Any, net: Any, **reach: float | None) -> Any:
        """:func:`siteplan.relocation.roads.travel_costs` ``(points, facilities, net, **reach)``."""
        from dataclasses import replace

        from scipy import sparse

        from ..relocation.roads import Access, travel_costs

        pts, fac = np.asarray(points, dtype=object), np.asarray(facilities, dtype=object)
        with self._lock:
            pi = self._index("points", pts) if net is self.net and reach == self.reach else None
            fj = self._index("facilities", fac) if pi is not None else None
            if pi is not None and fj is not None and self._full is None:
                self._full = travel_costs(self.points, self.facilities, self.net, **self.reach)
            tc = self._full
        if pi is None or fj is None:
            return travel_costs(pts, fac, net, **reach)
        at = sparse.csr_matrix((np.arange(1, len(tc.i) + 1, dtype=np.int64), (tc.i, tc.j)), shape=tc.shape)
        sub = at[pi][:, fj].tocoo()
        order = np.lexsort((sub.col, sub.row))
        k = sub.data[order] - 1

        def part(acc: Any, idx: np.ndarray) -> Any:
            return None if acc is None else Access(*(np.asarray(getattr(acc, f))[idx] for f in
                                                     ("seg", "t", "off_m", "leg_km", "leg_min")))

        return replace(tc, i=sub.row[order].astype(np.int64), j=sub.col[order].astype(np.int64), km=tc.km[k],
                       minutes=tc.minutes[k], straight_km=tc.straight_km[k], shape=(len(pts), len(fac)),
                       points=part(tc.points, pi), facilities=part(tc.facilities, fj))


def _travel_memo(prep: Prepared, inputs: PlanInputs) -> TravelMemo | None:
    """The run's travel costs for the upgrades' re-allocations (None without a road network)."""
    net = scenario_network(prep)
    if net is None:
        return None
    al = inputs.spec or prep.scenario.allocation
    reach: dict[str, float | None] = ({"reach_min": al.reach_min} if al.reach_min is not None else
                                      {"reach_km": al.max_distance_km})
    return TravelMemo(inputs.businesses.geometry.values, inputs.estates.geometry.values, net, **reach)


def no_network(utility: str) -> str:
    """What the cost proxies say of a utility with no network in the inputs."""
    return f"{utility}: no network in the inputs"


def _change_list(changes: dict[str, object]) -> str:
    """The upgrade as the estates layer's fields would say it: ``water=1; wastewater=1``, ``max_cat=5.1``."""
    order = [*UTILITIES, "max_cat", "kind"]
    return "; ".join(f"{k}={changes[k]}" for k in order if k in changes)


def _changes(row: Any, rs: Any, accepted: list[str] | tuple[str, ...]) -> dict[str, object]:
    """What would make the estate admit the category, apart from land: missing utilities, max_cat, kind."""
    out: dict[str, object] = {}
    for u in rs.utilities:
        if u in UTILITIES:
            v = getattr(row, u, None)
            if not is_blank(v) and float(v) < 1:  # type: ignore[arg-type]
                out[u] = 1
    mc = getattr(row, "max_cat", None)
    if not is_blank(mc) and env_rank(rs.env_cat) > env_rank(mc) + 1e-9:
        out["max_cat"] = rs.env_cat
    kind = getattr(row, "kind", None)
    if kind and not is_blank(kind) and kind not in accepted and accepted:
        out["kind"] = accepted[0]
    return out


def _describe(changes: dict[str, object], row: Any) -> str:
    parts = [f"add {u}" for u in UTILITIES if u in changes]
    if "max_cat" in changes:
        parts.append(f"raise max_cat {getattr(row, 'max_cat', '')} → {changes['max_cat']}")
    if "kind" in changes:
        parts.append(f"admit kind '{getattr(row, 'kind', '')}'")
    return ", ".join(parts)


def _cost_proxy(changes: dict[str, object], geom: shapely.Geometry, layers: dict[str, gpd.GeoDataFrame]) -> str:
    from ..guilds.catalogue import separation_m

    out = []
    for u in UTILITIES:
        if u not in changes:
            continue
        d = network_km(layers, u, np.array([geom]))
        out.append(no_network(u) if d is None else f"{u} network {float(d[0]):.1f} km away")
    if "max_cat" in changes:
        out.append(f"category {changes['max_cat']} needs {separation_m(str(changes['max_cat'])):g} m from homes "
                   "(a buffer zone)")
    if "kind" in changes:
        out.append("a change of the estate's designation")
    return "; ".join(out)


def propose_upgrades(prep: Prepared, plan: Plan, inputs: PlanInputs) -> tuple[pd.DataFrame, list[str]]:
    """Upgrades of existing estates ranked by the unassigned businesses they would place (module docstring).

    Parameters
    ----------
    prep
        The prepared run.
    plan
        The relocation plan.
    inputs
        What the plan was solved on (estates, clustered businesses, eligibility, usable land, capacity,
        scores, reservations): the verification re-solves the plan on them.

    Returns
    -------
    upgrades, notes
        :data:`UPGRADE_COLUMNS`, verified upgrades first (most businesses first), then the estimates;
        only upgrades that place someone; and what was not evaluated or not listed.
    """
    sc = prep.scenario
    count = sc.upgrades.count
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in UPGRADE_COLUMNS})
    ranked = _candidates(prep, plan, inputs)
    if not ranked:
        return empty, []
    notes = []
    if len(ranked) > count:
        notes.append(f"{len(ranked) - count} further upgrade candidates not evaluated (upgrades.count = {count})")
    by_row = {str(e.estate_id): e for e in inputs.estates.itertuples()}
    out = []
    costs = _travel_memo(prep, inputs)
    # the candidates' estimates are independent: solved side by side on the machine's cores, in the order
    # of the candidates
    estimates = ordered_map(lambda rc: _estimate(prep, plan, inputs, rc[0][0], rc[1]["changes"], costs),
                            ranked[:count])
    for ((eid, _), cand), got in zip(ranked[:count], estimates, strict=True):
        if got is None:
            continue
        n, land_m2, mean_km, unlocked = got
        row = by_row[eid]
        out.append({"estate_id": eid, "estate_name": getattr(row, "name", ""),
                    "upgrade": _describe(cand["changes"], row), "changes": _change_list(cand["changes"]),
                    "categories": ", ".join(unlocked), "businesses": pd.NA, "land_ha": np.nan,
                    "mean_km": round(mean_km, 2),
                    "cost_proxy": _cost_proxy(cand["changes"], row.geometry, prep.region.layers),
                    "in_reach": len(cand["biz"]), "in_reach_ha": round(cand["land"] / M2_PER_HA, 2),
                    "figure": "estimate", "businesses_est": n, "land_ha_est": round(land_m2 / M2_PER_HA, 2),
                    "placed": pd.NA, "placed_ha": np.nan, "displaced": pd.NA, "moved": pd.NA,
                    "_changes": cand["changes"]})
    if not out:
        return empty, notes
    t = pd.DataFrame(out)
    t = t[t["businesses_est"] > 0].sort_values(["businesses_est", "land_ha_est", "mean_km", "estate_id"],
                                               ascending=[False, False, True, True], kind="mergesort",
                                               na_position="last").reset_index(drop=True)
    t = _verify_best(prep, plan, inputs, t, notes, costs)
    if t.empty:
        return empty, notes
    t["rank"] = np.arange(1, len(t) + 1)
    for k in ("businesses", "placed", "displaced", "moved"):
        t[k] = t[k].astype("Int64")
    for k in ("land_ha", "placed_ha"):
        t[k] = t[k].astype(float)
    t["businesses_est"] = t["businesses_est"].astype(np.int64)
    return t[list(UPGRADE_COLUMNS)], notes


def _candidates(prep: Prepared, plan: Plan, inputs: PlanInputs
                ) -> list[tuple[tuple[str, tuple[tuple[str, object], ...]], dict[str, Any]]]:
    """The upgrade candidates (module docstring, steps 1–2): per estate and set of changes, the
    unassigned land in reach it would admit and those businesses; most land first."""
    sc = prep.scenario
    estates, elig = inputs.estates, inputs.elig
    rows = plan.rows
    un = rows[(rows["status"] == "unassigned") & rows["category"].isin(prep.surfaces)]
    if sc.upgrades.count == 0 or un.empty or len(estates) == 0:
        return []
    reach = straight_bound_km(sc.allocation, scenario_network(prep)) * M_PER_KM  # prefilter; allocate decides
    accepted = sc.allocation.accepted_kinds
    pts = prep.businesses.set_index("biz_id").geometry.loc[un["biz_id"]].to_numpy()
    tree = shapely.STRtree(estates.geometry.values)
    bi, ej = tree.query(pts, predicate="dwithin", distance=reach)
    el = elig.set_index(["estate_id", "category"])["eligible"]
    eids = estates["estate_id"].to_numpy()
    cats = un["category"].to_numpy()
    land = un["land_m2"].to_numpy(float)
    pair = pd.DataFrame({"estate_id": eids[ej], "category": cats[bi], "land": land[bi], "b": bi})
    # drop the (estate, category) pairs already eligible
    admitted = el.index[el.to_numpy(bool)]
    pair = pair[~pd.MultiIndex.from_arrays([pair["estate_id"], pair["category"]]).isin(admitted)]
    by_row = {str(e.estate_id): e for e in estates.itertuples()}
    cands: dict[tuple[str, tuple[tuple[str, object], ...]], dict[str, Any]] = {}
    for (eid, code), grp in pair.groupby(["estate_id", "category"], sort=True):
        ch = _changes(by_row[str(eid)], prep.rules[code], accepted)
        if not ch:
            continue  # land, distance or a reservation: nothing an upgrade changes
        key = (str(eid), tuple(sorted(ch.items())))
        cands.setdefault(key, {"changes": ch, "land": 0.0, "biz": set()})
        cands[key]["land"] += float(grp["land"].sum())
        cands[key]["biz"].update(grp["b"].tolist())
    return sorted(cands.items(), key=lambda kv: (-kv[1]["land"], kv[0][0], str(kv[0][1])))


def _verify_best(prep: Prepared, plan: Plan, inputs: PlanInputs, t: pd.DataFrame,
                 notes: list[str], costs: TravelMemo | None = None) -> pd.DataFrame:
    """Verify the first ``upgrades.verify`` rows of ``t`` (best estimate first) by re-solving the plan
    (module docstring, step 4); drop those that place nobody net; verified rows first."""
    sc = prep.scenario
    n_verify = min(sc.upgrades.verify, len(t))
    drop = []
    # each verification re-solves the plan on its own: side by side on the machine's cores
    checks = ordered_map(lambda i: verify_upgrade(prep, plan, inputs, str(t.at[i, "estate_id"]),
                                                 t.at[i, "_changes"], costs=costs), range(n_verify))
    for i, v in enumerate(checks):
        for k in ("businesses", "land_ha", "mean_km", "placed", "placed_ha", "displaced", "moved"):
            t.at[i, k] = v[k]
        t.at[i, "figure"] = "rerun"
        if v["businesses"] <= 0:
            drop.append(i)
            notes.append(f"{t.at[i, 'estate_id']} ({t.at[i, 'upgrade']}): estimated to place {t.at[i, 'businesses_est']} "
                         f"businesses, but the plan re-solved with it places {v['businesses']:+d} net "
                         f"({v['placed']} placed, {v['displaced']} displaced); not listed")
    if len(t) > n_verify:
        notes.append(f"{len(t) - n_verify} upgrades carry only the local estimate (figure 'estimate'; the best "
                     f"upgrades.verify = {sc.upgrades.verify} are verified by re-solving the plan)")
    t = t.drop(index=drop)
    verified = (t["figure"] == "rerun").to_numpy()
    key = np.where(verified, pd.to_numeric(t["businesses"], errors="coerce"), t["businesses_est"].astype(float))
    t = t.assign(_v=verified, _n=key)
    return t.sort_values(["_v", "_n", "businesses_est", "mean_km", "estate_id"],
                         ascending=[False, False, False, True, True], kind="mergesort",
                         na_position="last").reset_index(drop=True)


def upgraded_estates(estates: gpd.GeoDataFrame, eid: str, changes: dict[str, object]) -> gpd.GeoDataFrame:
    """A copy of the estates with estate ``eid``'s row changed as the upgrade says."""
    out = estates.copy()
    at = out["estate_id"].astype(str).to_numpy() == eid
    for k, value in changes.items():
        col = out[k]
        v = float(value) if pd.api.types.is_numeric_dtype(col) and isinstance(value, str) else value
        out[k] = col.mask(at, v)  # max_cat is numeric in the layer, text in the catalogue
    return out


def verify_upgrade(prep: Prepared, plan: Plan, inputs: PlanInputs, eid: str,
                   changes: dict[str, object], *, costs: TravelMemo | None = None) -> dict[str, Any]:
    """What the plan re-solved with estate ``eid`` upgraded places (module docstring, step 4).

    Parameters
    ----------
    prep
        The prepared run.
    plan
        The relocation plan (as the run solved it on ``inputs``).
    inputs
        What the plan was solved on.
    eid
        The estate upgraded.
    changes
        Field → new value of its row (``wastewater: 1``, ``max_cat: '5.1'``, ``kind: 'estate'``).
    costs
        The run's travel costs (:class:`TravelMemo`), sliced instead of computed again; None: computed.

    Returns
    -------
    dict
        ``businesses`` (net change of assigned businesses), ``land_ha`` (net change of land placed),
        ``placed``/``placed_ha`` (newly placed businesses and their land), ``displaced``, ``moved``,
        ``mean_km`` (distance of the businesses of the newly admitted categories placed at ``eid``).
    """
    from ..relocation import relocate
    from ..results import PlanInputs

    sc = prep.scenario
    estates = upgraded_estates(inputs.estates, eid, changes)
    elig = eligibility(estates, prep.rules, inputs.usable, sc.allocation.accepted_kinds, inputs.reserved)
    was = inputs.elig[inputs.elig["estate_id"].astype(str) == eid].set_index("category")["eligible"]
    now = elig[elig["estate_id"].astype(str) == eid]
    unlocked = {c for c, e in zip(now["category"], now["eligible"]) if e and not bool(was.get(c, False))}
    again = relocate(prep, PlanInputs(estates, inputs.businesses, inputs.scores, inputs.usable, inputs.reserved,
                                      elig, inputs.capacity, inputs.clusters), costs=costs, detail=False)
    km = "road_km" if "road_km" in again.rows else "distance_km"  # the plan's measure of travel
    cols = ["biz_id", "status", "estate_id", "land_m2", km, "category"]
    both = plan.rows[cols].merge(again.rows[cols], on="biz_id", suffixes=("_0", "_1"), validate="one_to_one")
    a0 = (both["status_0"] == "assigned").to_numpy()
    a1 = (both["status_1"] == "assigned").to_numpy()
    land = both["land_m2_1"].to_numpy(float)
    placed = a1 & ~a0
    displaced = a0 & ~a1
    moved = a0 & a1 & (both["estate_id_0"].astype(str) != both["estate_id_1"].astype(str)).to_numpy()
    there = a1 & (both["estate_id_1"].astype(str) == eid).to_numpy() & both["category_1"].isin(unlocked).to_numpy()
    net_land = float(land[a1].sum() - both["land_m2_0"].to_numpy(float)[a0].sum())
    return {"businesses": int(a1.sum() - a0.sum()), "land_ha": round(net_land / M2_PER_HA, 2),
            "placed": int(placed.sum()), "placed_ha": round(float(land[placed].sum()) / M2_PER_HA, 2),
            "displaced": int(displaced.sum()), "moved": int(moved.sum()),
            "mean_km": round(float(both.loc[there, km + "_1"].mean()), 2) if there.any() else float("nan")}


def _estimate(prep: Prepared, plan: Plan, inputs: PlanInputs, eid: str,
              changes: dict[str, object], costs: TravelMemo | None = None
              ) -> tuple[int, float, float, list[str]] | None:
    """Businesses and land newly placed when estate ``eid`` gets ``changes``, by re-allocating around
    it only and comparing with the plan there (module docstring, step 3), the mean distance of those placed
    there, and the categories it newly admits. ``costs`` is the run's travel costs (:class:`TravelMemo`)."""
    from ..relocation import allocate

    sc = prep.scenario
    estates, elig, usable, capacity = inputs.estates, inputs.elig, inputs.usable, inputs.capacity
    scores, reserved = inputs.scores, inputs.reserved
    net = scenario_network(prep)
    reach = straight_bound_km(sc.allocation, net) * M_PER_KM  # a prefilter: the allocation measures the reach
    est_i = int(np.flatnonzero(estates["estate_id"].astype(str).to_numpy() == eid)[0])
    geom = estates.geometry.values[est_i]
    biz = inputs.businesses
    ok = biz["category"].notna().to_numpy()
    near = ok & (shapely.distance(biz.geometry.values, geom) <= reach)
    b_loc = biz[near]
    if b_loc.empty:
        return None
    tree = shapely.STRtree(estates.geometry.values)
    _, ej = tree.query(b_loc.geometry.values, predicate="dwithin", distance=reach)
    e_loc = estates.iloc[np.unique(ej)]
    ids = set(e_loc["estate_id"].astype(str))
    rows = plan.rows
    outside = rows[(rows["status"] == "assigned") & ~rows["biz_id"].isin(b_loc["biz_id"])
                   & rows["estate_id"].astype(str).isin(ids)]
    used = outside.groupby("estate_id")["land_m2"].sum()
    cap = capacity[capacity["estate_id"].astype(str).isin(ids)].copy()
    cap["capacity_m2"] = (cap["capacity_m2"] - cap["estate_id"].map(used).fillna(0.0)).clip(lower=0.0)
    el = elig[elig["estate_id"].astype(str).isin(ids)]
    scr = None if scores is None else scores[scores["estate_id"].astype(str).isin(ids)]
    # as the estates are: the plan itself there (it fits the capacity the rest of the plan leaves)
    before = rows[rows["biz_id"].isin(b_loc["biz_id"])]
    upgraded = upgraded_estates(estates.iloc[[est_i]], eid, changes)
    el_new = eligibility(upgraded, prep.rules, usable[usable["estate_id"].astype(str) == eid],
                         sc.allocation.accepted_kinds, reserved)
    was = el[el["estate_id"].astype(str) == eid].set_index("category")["eligible"]
    unlocked = sorted(c for c, e in zip(el_new["category"], el_new["eligible"]) if e and not bool(was.get(c, False)))
    el2 = pd.concat([el[el["estate_id"].astype(str) != eid], el_new], ignore_index=True)
    after = allocate(b_loc, e_loc, prep.catalogue, el2, cap, scr, sc.allocation, reserved, network=net, costs=costs,
                     detail=False)
    a0 = before["status"] == "assigned"
    a1 = after.rows["status"] == "assigned"
    n = int(a1.sum() - a0.sum())
    land = float(after.rows.loc[a1, "land_m2"].sum() - before.loc[a0, "land_m2"].sum())
    there = after.rows[a1 & (after.rows["estate_id"].astype(str) == eid) & after.rows["category"].isin(unlocked)]
    km = "road_km" if "road_km" in there else "distance_km"  # road km on a road network
    mean_km = float(there[km].mean()) if len(there) else float("nan")
    return n, land, mean_km, unlocked
