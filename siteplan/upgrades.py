"""Upgrades of existing estates that would place businesses left unassigned, ranked beside new sites.

Businesses are often unassigned not for lack of land nearby but because the estates in reach lack a
utility their trade needs (wastewater for car washes and stone cutting), admit only lighter trades
(``max_cat``), or are of a kind the scenario does not accept. The obvious planning answer is then to
upgrade an estate, not to build a new one far away.

1. **Candidates.** For every unassigned (classified, in-scope) business and every estate within the
   allocation reach that is not eligible for its category, the changes that would make it eligible are
   derived from the estate's row: the category's missing utilities (set to 1), ``max_cat`` raised to the
   category's environmental category, the estate's kind admitted. A change is a candidate only if
   eligibility (the run's own :func:`siteplan.rules.eligibility`, so the siting rules and usable land
   still hold) then says yes; land, distance and reservations are never "upgraded".
2. **Screening.** Candidates are ordered by the unassigned land in reach that they would make eligible;
   the first ``upgrades.count`` are evaluated.
3. **Evaluation by re-allocation.** Around the upgraded estate, the businesses within reach of it (all
   of them, assigned or not) are allocated again to the estates within reach of those businesses, on
   the capacity the rest of the plan leaves there, once as the estates are and once with the upgrade
   (the same solver as the plan). The difference is what the upgrade unlocks: businesses and land
   newly placed.
4. **Cost proxy.** The distance from the estate to the nearest network of each utility added (utilities
   layer, :data:`NETWORK_KINDS`), or for a higher ``max_cat`` the separation from homes that category
   needs (VNG) — what a planner reads first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .rules import UTILITIES, _blank, _env_rank, eligibility
from .units import M2_PER_HA, M_PER_KM

if TYPE_CHECKING:
    from .guild_relocation import Plan
    from .reservations import Reservation
    from .results import Prepared

log = logging.getLogger(__name__)

__all__ = ["NETWORK_KINDS", "UPGRADE_COLUMNS", "propose_upgrades", "compare_options", "option_notes"]

#: utilities-layer ``kind`` values that are a network of each utility (for the cost proxy)
NETWORK_KINDS: dict[str, tuple[str, ...]] = {
    "power": ("power_line", "substation", "power"),
    "gas": ("gas_pipe", "gas", "gas_line"),
    "water": ("water_main", "water_pipe", "water"),
    "wastewater": ("sewer", "wastewater", "sewage", "wwtp", "wastewater_plant"),
}
#: the columns of ``upgrades.csv``
UPGRADE_COLUMNS = ("rank", "estate_id", "estate_name", "upgrade", "categories", "businesses", "land_ha",
                   "mean_km", "cost_proxy", "in_reach", "in_reach_ha")


def _changes(row: Any, rs: Any, accepted: list[str] | tuple[str, ...]) -> dict[str, object]:
    """What would make the estate admit the category, apart from land: missing utilities, max_cat, kind."""
    out: dict[str, object] = {}
    for u in rs.utilities:
        if u in UTILITIES:
            v = getattr(row, u, None)
            if not _blank(v) and float(v) < 1:  # type: ignore[arg-type]
                out[u] = 1
    mc = getattr(row, "max_cat", None)
    if not _blank(mc) and _env_rank(rs.env_cat) > _env_rank(mc) + 1e-9:
        out["max_cat"] = rs.env_cat
    kind = getattr(row, "kind", None)
    if kind and not _blank(kind) and kind not in accepted and accepted:
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
    from .guilds import separation_m

    util = layers.get("utilities")
    out = []
    for u in UTILITIES:
        if u not in changes:
            continue
        net = None if util is None or "kind" not in util else util[util["kind"].isin(NETWORK_KINDS[u])]
        if net is None or net.empty:
            out.append(f"{u}: no {u} network in the utilities layer")
        else:
            d = float(shapely.distance(net.geometry.values, geom).min()) / M_PER_KM
            out.append(f"{u} network {d:.1f} km away")
    if "max_cat" in changes:
        out.append(f"category {changes['max_cat']} needs {separation_m(str(changes['max_cat'])):g} m from homes "
                   "(a buffer zone)")
    if "kind" in changes:
        out.append("a change of the estate's designation")
    return "; ".join(out)


def propose_upgrades(prep: "Prepared", plan: "Plan", estates: gpd.GeoDataFrame, elig: pd.DataFrame,
                     usable: pd.DataFrame, capacity: pd.DataFrame, scores: pd.DataFrame | None,
                     reserved: "dict[str, Reservation] | None" = None) -> tuple[pd.DataFrame, list[str]]:
    """Upgrades of existing estates ranked by the unassigned businesses they would place (module docstring).

    Parameters
    ----------
    prep
        The prepared run.
    plan
        The relocation plan.
    estates, elig, usable, capacity, scores
        The run's estates and their eligibility, usable land, capacity and suitability scores.
    reserved
        The run's reservations.

    Returns
    -------
    upgrades, notes
        :data:`UPGRADE_COLUMNS`, best first (only upgrades that place someone), and what was not evaluated.
    """
    sc = prep.scenario
    count = sc.upgrades.count
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in UPGRADE_COLUMNS})
    rows = plan.rows
    un = rows[(rows["status"] == "unassigned") & rows["category"].isin(prep.surfaces)]
    if count == 0 or un.empty or len(estates) == 0:
        return empty, []
    reach = sc.allocation.max_distance_km * M_PER_KM
    accepted = sc.allocation.accepted_kinds
    pts = prep.businesses.set_index("biz_id").geometry.loc[un["biz_id"]].to_numpy()
    tree = shapely.STRtree(estates.geometry.values)
    bi, ej = tree.query(pts, predicate="dwithin", distance=reach)
    el = elig.set_index(["estate_id", "category"])["eligible"]
    eids = estates["estate_id"].to_numpy()
    cats = un["category"].to_numpy()
    land = un["land_m2"].to_numpy(float)
    pair = pd.DataFrame({"estate_id": eids[ej], "category": cats[bi], "land": land[bi], "b": bi})
    pair = pair[~pair.set_index(["estate_id", "category"]).index.map(lambda k: bool(el.get(k, False)))]
    if pair.empty:
        return empty, []
    by_row = {str(e.estate_id): e for e in estates.itertuples()}
    cands: dict[tuple[str, tuple[tuple[str, object], ...]], dict[str, Any]] = {}
    for (eid, code), grp in pair.groupby(["estate_id", "category"], sort=True):
        row = by_row[str(eid)]
        ch = _changes(row, prep.rules[code], accepted)
        if not ch:
            continue  # land, distance or a reservation: nothing an upgrade changes
        key = (str(eid), tuple(sorted(ch.items())))
        cands.setdefault(key, {"changes": ch, "land": 0.0, "biz": set()})
        cands[key]["land"] += float(grp["land"].sum())
        cands[key]["biz"].update(grp["b"].tolist())
    ranked = sorted(cands.items(), key=lambda kv: (-kv[1]["land"], kv[0][0], str(kv[0][1])))
    notes = []
    if len(ranked) > count:
        notes.append(f"{len(ranked) - count} further upgrade candidates not evaluated (upgrades.count = {count})")
    out = []
    for (eid, _), cand in ranked[:count]:
        got = _evaluate(prep, plan, estates, elig, usable, capacity, scores, reserved, eid, cand["changes"])
        if got is None:
            continue
        n, land_m2, mean_km, unlocked = got
        row = by_row[eid]
        out.append({"estate_id": eid, "estate_name": getattr(row, "name", ""),
                    "upgrade": _describe(cand["changes"], row), "categories": ", ".join(unlocked),
                    "businesses": n, "land_ha": round(land_m2 / M2_PER_HA, 2), "mean_km": round(mean_km, 2),
                    "cost_proxy": _cost_proxy(cand["changes"], row.geometry, prep.region.layers),
                    "in_reach": len(cand["biz"]), "in_reach_ha": round(cand["land"] / M2_PER_HA, 2)})
    if not out:
        return empty, notes
    t = pd.DataFrame(out)
    t = t[t["businesses"] > 0].sort_values(["businesses", "land_ha", "mean_km", "estate_id"],
                                           ascending=[False, False, True, True], kind="mergesort",
                                           na_position="last").reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    return t[list(UPGRADE_COLUMNS)], notes


def _evaluate(prep: "Prepared", plan: "Plan", estates: gpd.GeoDataFrame, elig: pd.DataFrame, usable: pd.DataFrame,
              capacity: pd.DataFrame, scores: pd.DataFrame | None, reserved: "dict[str, Reservation] | None",
              eid: str, changes: dict[str, object]) -> tuple[int, float, float, list[str]] | None:
    """Businesses and land newly placed when estate ``eid`` gets ``changes`` (module docstring, step 3),
    the mean distance of those placed there, and the categories it newly admits."""
    from .guild_relocation import allocate

    sc = prep.scenario
    reach = sc.allocation.max_distance_km * M_PER_KM
    est_i = int(np.flatnonzero(estates["estate_id"].astype(str).to_numpy() == eid)[0])
    geom = estates.geometry.values[est_i]
    biz = prep.businesses
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
    before = allocate(b_loc, e_loc, prep.catalogue, el, cap, scr, sc.allocation, reserved)
    upgraded = estates.iloc[[est_i]].copy()
    for k, v in changes.items():
        upgraded[k] = v
    el_new = eligibility(upgraded, prep.rules, usable[usable["estate_id"].astype(str) == eid],
                         sc.allocation.accepted_kinds, reserved)
    was = el[el["estate_id"].astype(str) == eid].set_index("category")["eligible"]
    unlocked = sorted(c for c, e in zip(el_new["category"], el_new["eligible"]) if e and not bool(was.get(c, False)))
    el2 = pd.concat([el[el["estate_id"].astype(str) != eid], el_new], ignore_index=True)
    after = allocate(b_loc, e_loc, prep.catalogue, el2, cap, scr, sc.allocation, reserved)
    a0 = before.rows["status"] == "assigned"
    a1 = after.rows["status"] == "assigned"
    n = int(a1.sum() - a0.sum())
    land = float(after.rows.loc[a1, "land_m2"].sum() - before.rows.loc[a0, "land_m2"].sum())
    there = after.rows[a1 & (after.rows["estate_id"].astype(str) == eid) & after.rows["category"].isin(unlocked)]
    mean_km = float(there["distance_km"].mean()) if len(there) else float("nan")
    return n, land, mean_km, unlocked


def compare_options(upgrades: pd.DataFrame, sites: gpd.GeoDataFrame, takes: pd.DataFrame) -> pd.DataFrame:
    """Upgrades and new sites side by side, ranked by the unassigned businesses each would place.

    Parameters
    ----------
    upgrades
        :func:`propose_upgrades` output.
    sites
        Proposed sites (``site_id``, ``chain``, ``area_ha``, ``units``, ``land_ha``, ``extend``).
    takes
        ``biz_id``, ``site_id``, ``site_km`` (who each site would take).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``option`` (``upgrade`` or ``new site``), ``id`` (estate or site), ``what``, ``businesses``,
        ``land_ha``, ``mean_km`` (distance of the businesses placed), ``cost_proxy``; most businesses first,
        then the shorter trips.
    """
    rows = [{"option": "upgrade", "id": r.estate_id, "what": r.upgrade, "businesses": int(r.businesses),
             "land_ha": float(r.land_ha), "mean_km": float(r.mean_km), "cost_proxy": r.cost_proxy}
            for r in upgrades.itertuples()]
    km = takes.groupby("site_id")["site_km"].mean() if len(takes) else pd.Series(dtype=float)
    for s in sites.itertuples():
        rows.append({"option": "new site", "id": s.site_id,
                     "what": f"new {s.chain} estate of {s.area_ha:g} ha ({s.categories})",
                     "businesses": int(s.units), "land_ha": float(s.land_ha),
                     "mean_km": round(float(km.get(s.site_id, np.nan)), 2),
                     "cost_proxy": f"a new estate of {s.area_ha:g} ha; extend: {s.extend}"})
    cols = ["rank", "option", "id", "what", "businesses", "land_ha", "mean_km", "cost_proxy"]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    t = pd.DataFrame(rows).sort_values(["businesses", "mean_km", "option", "id"], ascending=[False, True, True, True],
                                       kind="mergesort", na_position="last").reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    return t[cols]


def option_notes(options: pd.DataFrame, top: int = 3) -> list[str]:
    """The best options in words, for the warnings and the report's summary."""
    out = []
    for r in options.head(top).itertuples():
        km = "" if pd.isna(r.mean_km) else f", {r.mean_km:g} km on average"
        out.append(f"options: #{r.rank} {r.option} {r.id}: {r.what} would place {r.businesses} unassigned businesses "
                   f"({r.land_ha:g} ha{km}); {r.cost_proxy}")
    return out
