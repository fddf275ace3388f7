"""Phasing: the plan carried out phase by phase as estates, upgrades and new sites come online.

``programme.phases`` in the scenario lists the phases in order (:class:`siteplan.scenario.PhaseSpec`):
each starts on a date (Gregorian or Solar Hijri, :mod:`siteplan.common.dates`) and brings online existing
estates (every estate no phase names is open from the first phase), upgrades of existing estates (the
estates layer's fields changed as upgrades.csv's ``changes`` says) and proposed sites (sites.geojson,
receiving businesses on their net land, ``net_ha``, for their own categories only).

Allocation, phase by phase, with the relocation stage itself (:func:`siteplan.relocation.relocate`: the
same model, solver, eligibility, reach, clusters, scores and reservations as the plan):

1. Phase 1 allocates every business to the estates open in it.
2. Each later phase allocates only the businesses still unplaced, to every estate and site online by
   then (upgraded estates with their new fields, so their eligibility is recomputed), on the capacity
   the earlier phases left: on an estate with free plots the plots the earlier phases took (each placed
   business takes the smallest free plot that fits it) are gone; elsewhere each capacity row of the
   model loses the land the earlier phases placed in the categories it counts
   (:func:`siteplan.relocation.model.build_model`'s ``used``). A business placed is never moved again.

**Priority** (``programme.priority``) decides who is placed when a phase's capacity is short. The
businesses are ranked by the key, most first, and split into :data:`PRIORITY_TIERS` tiers of equal
size (ties in one tier); the tier is a weight on the cost of leaving a business out (and on the greedy
order of the solver): leaving out a hectare of a higher tier costs more than any difference of distance
and suitability can repay, so per hectare a higher tier is always placed first, and within a tier the
plan's usual objective (land-weighted distance less the suitability bonus) decides. A weighted
objective rather than a greedy ordering, so that one solve per phase keeps the solver's packing and its
bound. Keys: ``residents_per_ha`` (default: the residents within the business's nuisance distance at
its registry point, :meth:`siteplan.programme.exposure.Residents.exposed`, per hectare of the land it needs),
``env_cat`` (its environmental category, one tier per class), ``none`` (no tiers: the allocation's own
settings, ``allocation.priority`` included; with every estate in phase 1 that phase is the plan).

Outputs: ``phase`` and ``phase_estate`` in relocation.csv (the phase that places the business and the
estate or site it goes to; empty when no phase places it) and ``phases.csv`` (:data:`PHASE_COLUMNS`).
Residents relieved are those of the province (:mod:`siteplan.programme.impact`): the distinct residents within
the nuisance distance of any business before the move, less those after the phases so far, a placed
business sitting on the land its rules allow in its estate (a site's polygon); a phase's figure is the
difference from the phase before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..common.notice import Notice
from ..common.units import M2_PER_HA

if TYPE_CHECKING:
    from ..results import PlanInputs, RunResult
    from ..scenario import PhaseSpec, Scenario
    from .impact import Placement

log = logging.getLogger(__name__)

__all__ = ["PHASE_COLUMNS", "PRIORITY_TIERS", "Phasing", "phase_problems", "priority_weights", "phased_plan"]

#: the columns of ``phases.csv``
PHASE_COLUMNS = ("phase", "name", "label", "start", "calendar", "start_gregorian", "estates_online", "sites_online",
                 "upgrades", "capacity_ha", "available_ha", "businesses", "land_ha", "residents_relieved",
                 "cum_businesses", "cum_land_ha", "cum_residents_relieved", "unplaced")
#: priority tiers of ``residents_per_ha`` (equal shares of the businesses ranked by the key)
PRIORITY_TIERS = 10
# what the site rows of the phases' estates say they are
SITE_KIND = "proposed site"


@dataclass(frozen=True)
class Phasing:
    """The phased programme of a run.

    Parameters
    ----------
    table
        ``phases.csv`` (:data:`PHASE_COLUMNS`).
    rows
        One row per business of the plan: ``biz_id``, ``phase`` (the phase's name; empty when unplaced),
        ``phase_estate`` (estate or site id), ``phase_no`` (1.., 0 unplaced), ``land_m2``, ``category``.
    capacity
        Per phase and receiving estate or site: ``phase_no``, ``estate_id``, ``plots`` (its capacity is
        free plots), ``capacity_m2`` (online), ``available_m2`` (left by the earlier phases),
        ``plots_free`` (plots left, on plot estates).
    """

    table: pd.DataFrame
    rows: pd.DataFrame
    capacity: pd.DataFrame


def phase_problems(scenario: Scenario, estates: gpd.GeoDataFrame) -> list[str]:
    """Estates named in ``programme.phases`` (opening or upgraded) that the estates layer does not have.

    Parameters
    ----------
    scenario
        The scenario; its ``programme.phases`` are checked (none: nothing to say).
    estates
        The estates layer (its ``estate_id`` column).

    Returns
    -------
    list of str
        One message per unknown estate, naming the phase (index and name), the key and the missing id,
        with the nearest known id when one is close (``did you mean``); empty when all are known.
        Names from the data are cut to 40 characters.
    """
    from ..common.vocab import nearest
    from ..scenario import UpgradeRefSpec

    known = [str(e) for e in estates["estate_id"]]
    have = set(known)
    out = []
    for i, ph in enumerate(scenario.programme.phases):
        names = [(f"estates[{k}]", e) for k, e in enumerate(ph.estates)]
        names += [(f"upgrades[{k}]", u if isinstance(u, str) else u.estate) for k, u in enumerate(ph.upgrades)
                  if isinstance(u, (str, UpgradeRefSpec))]
        for where, e in names:
            if e not in have:
                best = nearest(e, known)
                out.append(f"programme.phases[{i}] ('{ph.name[:40]}').{where}: no estate '{e[:40]}' in the estates "
                           "layer" + (f"; did you mean '{best}'?" if best else ""))
    return out


def priority_weights(res: RunResult, p: Placement) -> pd.Series | None:
    """Each classified business's priority weight (module docstring), by ``biz_id``; None for ``none``.

    Parameters
    ----------
    res
        The run.
    p
        Its placement (:func:`siteplan.programme.impact.placements`): registry points, nuisance distances, land.

    Returns
    -------
    pandas.Series or None
        Integer weights from 1 (the lowest tier).
    """
    how = res.prep.scenario.programme.priority
    t = p.table
    ids = t["biz_id"].to_numpy()
    if how == "none" or not len(t):
        return None
    if how == "env_cat":
        cat = res.prep.catalogue
        rank = np.array([cat.env_rank(c) for c in t["category"]], dtype=float)
        return pd.Series(1.0 + rank, index=ids)
    q, m = t["quiet_m"].to_numpy(float), t["mixed_m"].to_numpy(float)
    pos = np.arange(len(t)).astype(str)
    near = p.residents.exposed(p.before, q, m, groups=pos).reindex(pos).fillna(0.0).to_numpy(float)
    ha = t["land_m2"].to_numpy(float) / M2_PER_HA
    key = np.where(ha > 0, near / np.where(ha > 0, ha, 1.0), np.where(near > 0, np.inf, 0.0))
    pct = pd.Series(np.round(key, 6)).rank(method="min", pct=True).to_numpy()
    tier = np.clip(np.ceil(pct * PRIORITY_TIERS - 1e-9), 1, PRIORITY_TIERS)
    return pd.Series(tier, index=ids)


def _upgrades_of(res: RunResult, phases: list[PhaseSpec], warns: list[Notice]) -> list[list[tuple[str, dict[str, Any], str]]]:
    """Per phase, the upgrades it does: ``(estate_id, changes, description)``; references the run's
    upgrades.csv does not have are left out with a warning."""
    from ..scenario import UpgradeRefSpec, parse_changes

    up = res.upgrades if res.upgrades is not None else pd.DataFrame(columns=["rank", "estate_id", "changes"])
    out = []
    for i, ph in enumerate(phases):
        got = []
        for k, u in enumerate(ph.upgrades):
            where = f"programme.phases[{i}] ('{ph.name[:40]}').upgrades[{k}]"
            if isinstance(u, UpgradeRefSpec) and u.changes:
                got.append((u.estate, parse_changes(u.changes), f"{u.estate}: {u.changes}"))
                continue
            if isinstance(u, int):
                row = up[pd.to_numeric(up["rank"], errors="coerce") == u]
                miss = f"upgrades.csv has no rank {u} (the run proposed {len(up)} upgrades)"
            else:
                eid = u if isinstance(u, str) else u.estate
                row = up[up["estate_id"].astype(str) == eid].sort_values("rank", kind="mergesort").head(1)
                miss = f"upgrades.csv proposes no upgrade of estate '{eid[:40]}'"
            if row.empty:
                warns.append(Notice("phase-upgrade-missing", f"{where}: {miss}; the phase goes without it"))
                continue
            r = row.iloc[0]
            got.append((str(r["estate_id"]), parse_changes(str(r["changes"])),
                        f"{r['estate_id']} #{int(r['rank'])}: {r['changes']}"))
        out.append(got)
    return out


def _sites_of(res: RunResult, phases: list[PhaseSpec], warns: list[Notice]) -> list[list[str]]:
    """Per phase, the proposed sites it builds; ids the run did not propose are left out with a warning."""
    ids = [str(s) for s in res.sites["site_id"]] if len(res.sites) else []
    out = []
    for i, ph in enumerate(phases):
        if ph.sites == "all":
            out.append(ids)
            continue
        got = []
        for s in ph.sites:
            if s in ids:
                got.append(s)
            else:
                warns.append(Notice("phase-site-missing", f"programme.phases[{i}] ('{ph.name[:40]}').sites: "
                                    f"'{s[:40]}' is not among the run's proposed sites ({', '.join(ids) or 'none'}); "
                                    "the phase goes without it"))
        out.append(got)
    return out


def _site_estates(res: RunResult, inputs: PlanInputs, ids: list[str]
                  ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The proposed sites ``ids`` as receiving estates: rows, capacity (net land), eligibility (their
    own categories, where their rules allow land) and suitability scores."""
    from ..rules.ruleset import eligibility, usable_land
    from ..scoring.suitability import zonal_mean

    prep = res.prep
    s = res.sites[res.sites["site_id"].astype(str).isin(ids)]
    rows = gpd.GeoDataFrame({"estate_id": s["site_id"].astype(str).to_numpy(), "name": s["site_id"].astype(str).to_numpy(),
                             "kind": SITE_KIND}, geometry=s.geometry.to_crs(inputs.estates.crs).to_numpy(),
                            crs=inputs.estates.crs)
    cap = pd.DataFrame({"estate_id": rows["estate_id"].to_numpy(),
                        "capacity_m2": pd.to_numeric(s["net_ha"], errors="coerce").fillna(0.0).to_numpy(float)
                        * M2_PER_HA, "capacity_from": "site net_ha",
                        "plot_m2": pd.Series([None] * len(s), dtype=object)})
    usable = usable_land(rows, prep.rules)
    el = eligibility(rows, prep.rules, usable, [SITE_KIND])
    own = dict(zip(rows["estate_id"], [{c.strip() for c in str(v).split(",")} for v in s["categories"]]))
    mine = np.array([c in own[e] for e, c in zip(el["estate_id"], el["category"])], dtype=bool)
    el.loc[~mine, "reason"] = "not a category of the proposed site"
    el["eligible"] = el["eligible"].to_numpy(bool) & mine
    scores = []
    for code, surf in prep.surfaces.items():
        m = zonal_mean(surf.score, rows.geometry.values, prep.grid)
        scores.append(pd.DataFrame({"estate_id": rows["estate_id"].to_numpy(), "category": code,
                                    "score": np.round(m, 6)}))
    sc = pd.concat(scores, ignore_index=True) if scores else pd.DataFrame(columns=["estate_id", "category", "score"])
    return rows, cap, el, sc


def _take_plots(free: tuple[float, ...], need: np.ndarray) -> tuple[float, ...]:
    """The free plots left when businesses needing ``need`` m² each take the smallest plot that fits
    them, the largest need first (the plots that fit are nested, so this gives everyone a plot whenever
    the allocation's Hall rows held)."""
    from ..zoning.plots import PLOT_FIT_SLACK_M2

    left = sorted(free)
    for n in sorted(need.tolist(), reverse=True):
        k = int(np.searchsorted(np.asarray(left), n - PLOT_FIT_SLACK_M2, side="left"))
        if k < len(left):
            left.pop(k)
    return tuple(sorted(left, reverse=True))


def _plot_need(res: RunResult, land: np.ndarray, cats: np.ndarray) -> np.ndarray:
    from ..zoning.plots import plot_need_m2

    t = res.prep.catalogue.table
    return plot_need_m2(land, cats, dict(zip(t["code"], t["plot_m2"].astype(float))) if "plot_m2" in t else {},
                        dict(zip(t["code"], t["land_m2"].astype(float))))


def phased_plan(res: RunResult, inputs: PlanInputs, p: Placement) -> Phasing:
    """Allocate the run's businesses phase by phase (module docstring).

    Parameters
    ----------
    res
        A finished run (plan, proposed sites, upgrades); warnings about phase references the run cannot
        resolve are added to ``res.warnings``.
    inputs
        What the plan was solved on (:func:`siteplan.pipeline.plan_inputs`).
    p
        The run's placement (:func:`siteplan.programme.impact.placements`).

    Returns
    -------
    Phasing
        ``phases.csv``, each business's phase and each phase's capacity per receiving estate or site.
    """
    from ..locate.upgrades import upgraded_estates
    from ..relocation import relocate
    from ..results import PlanInputs

    prep = res.prep
    sc = prep.scenario
    phases = sc.programme.phases
    ups = _upgrades_of(res, phases, res.warnings)
    builds = _sites_of(res, phases, res.warnings)
    opens = {e: i for i, ph in enumerate(phases) for e in ph.estates}
    opening = np.array([opens.get(e, 0) for e in inputs.estates["estate_id"].astype(str)], dtype=int)
    weights = priority_weights(res, p)
    spec = sc.allocation if weights is None else sc.allocation.model_copy(update={"priority": "none"})
    sites = _site_estates(res, inputs, sorted({s for b in builds for s in b}))
    cap0 = inputs.capacity.assign(estate_id=inputs.capacity["estate_id"].astype(str))
    state = _State(cap0, {e: v for e, v in zip(cap0["estate_id"], cap0["plot_m2"]) if isinstance(v, tuple)})
    bid = inputs.businesses["biz_id"].to_numpy()
    upgraded = inputs.estates
    online_sites: list[str] = []
    for k, ph in enumerate(phases):
        for eid, ch, _ in ups[k]:
            upgraded = upgraded_estates(upgraded, eid, ch)
        online_sites += builds[k]
        est_k, cap_k, el_k, scores_k = _online(res, inputs, upgraded[opening <= k], sites, online_sites, state)
        taken = state.taken()
        state.record_capacity(k, cap_k, taken)
        todo = inputs.businesses[np.array([b not in state.phase for b in bid], dtype=bool)]
        if k > 0:
            todo = todo[todo["category"].notna().to_numpy()]
        if len(todo) == 0 or len(est_k) == 0:
            continue
        got = relocate(prep, PlanInputs(est_k, todo, scores_k, inputs.usable, inputs.reserved, el_k, cap_k,
                                        inputs.clusters, [], taken, weights, spec)).rows
        a = got[got["status"] == "assigned"]
        log.info("phase %d (%s): %d businesses placed", k + 1, ph.name, len(a))
        state.place(res, k, a)
    rows = res.plan.rows[["biz_id", "category", "land_m2"]].copy()
    no = rows["biz_id"].map(state.phase).fillna(0).astype(int)
    names = {k + 1: ph.name for k, ph in enumerate(phases)}
    rows.insert(1, "phase", no.map(names).where(no > 0, None))
    rows.insert(2, "phase_estate", rows["biz_id"].map(state.at).where(no > 0, None))
    rows.insert(3, "phase_no", no)
    cap = pd.DataFrame(state.capacity, columns=["phase_no", "estate_id", "plots", "capacity_m2", "available_m2",
                                                "plots_free"])
    table = _phase_table(res, p, phases, rows, cap, _Comes(ups, builds, sites[0], opening))
    return Phasing(table, rows.reset_index(drop=True), cap)


class _State:
    """What the phases so far have done: who is placed where, the land taken at estates without plots,
    the free plots left, and each phase's capacity."""

    def __init__(self, cap0: pd.DataFrame, plots_left: dict[str, tuple[float, ...]]) -> None:
        self.cap0 = cap0.set_index("estate_id")["capacity_m2"]
        self.plots_left = plots_left
        self.phase: dict[Any, int] = {}
        self.at: dict[Any, str] = {}
        self.used: list[tuple[str, str, float]] = []
        self.capacity: list[dict[str, Any]] = []

    def taken(self) -> pd.DataFrame:
        """Land taken so far at the estates without plots, by estate and category."""
        return (pd.DataFrame(self.used, columns=["estate_id", "category", "land_m2"])
                .groupby(["estate_id", "category"], sort=True, as_index=False)["land_m2"].sum())

    def record_capacity(self, k: int, cap_k: pd.DataFrame, taken: pd.DataFrame) -> None:
        """Phase ``k``'s capacity online and available, per estate or site."""
        by_estate = taken.groupby("estate_id")["land_m2"].sum()
        for e, c, a in zip(cap_k["estate_id"].astype(str), cap_k["capacity_m2"], cap_k["plot_m2"]):
            plots = isinstance(a, tuple)
            self.capacity.append({"phase_no": k + 1, "estate_id": e, "plots": plots,
                                  "capacity_m2": float(self.cap0.get(e, c)),
                                  "available_m2": float(c) if plots else max(0.0, float(c) - float(by_estate.get(e, 0.0))),
                                  "plots_free": len(a) if plots else -1})

    def place(self, res: RunResult, k: int, a: pd.DataFrame) -> None:
        """Record phase ``k``'s placements ``a`` (assigned relocation rows): land taken, plots taken."""
        for b, e, c, land in zip(a["biz_id"], a["estate_id"].astype(str), a["category"], a["land_m2"].astype(float)):
            self.phase[b] = k + 1
            self.at[b] = e
            if e not in self.plots_left:
                self.used.append((e, str(c), land))
        for e, g in a.groupby(a["estate_id"].astype(str), sort=True):
            if e in self.plots_left:
                self.plots_left[e] = _take_plots(self.plots_left[e], _plot_need(res, g["land_m2"].to_numpy(float),
                                                                                g["category"].to_numpy()))


def _online(res: RunResult, inputs: PlanInputs, est_k: gpd.GeoDataFrame,
            sites: tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame], online_sites: list[str],
            state: _State) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A phase's receiving estates (existing ones open, upgraded as done so far, and the sites built),
    with their capacity (free plots left), eligibility and scores."""
    from ..rules.ruleset import eligibility

    sc = res.prep.scenario
    ids_k = set(est_k["estate_id"].astype(str))
    el_k = eligibility(est_k, res.prep.rules, inputs.usable, sc.allocation.accepted_kinds, inputs.reserved)
    cap = inputs.capacity.assign(estate_id=inputs.capacity["estate_id"].astype(str))
    cap_k = cap[cap["estate_id"].isin(ids_k)].copy()
    left = state.plots_left
    on_plots = cap_k["estate_id"].isin(list(left)).to_numpy()
    cap_k.loc[on_plots, "capacity_m2"] = [float(sum(left[e])) for e in cap_k.loc[on_plots, "estate_id"]]
    cap_k["plot_m2"] = pd.Series([left.get(e) if isinstance(v, tuple) else v
                                  for e, v in zip(cap_k["estate_id"], cap_k["plot_m2"])], index=cap_k.index, dtype=object)
    scores_k = inputs.scores[inputs.scores["estate_id"].astype(str).isin(ids_k)]
    if online_sites:
        s_rows, s_cap, s_el, s_sc = sites
        est_k = gpd.GeoDataFrame(pd.concat([est_k, s_rows[s_rows["estate_id"].isin(online_sites)]], ignore_index=True),
                                 geometry="geometry", crs=inputs.estates.crs)
        cap_k = pd.concat([cap_k, s_cap[s_cap["estate_id"].isin(online_sites)]], ignore_index=True)
        el_k = pd.concat([el_k, s_el[s_el["estate_id"].isin(online_sites)]], ignore_index=True)
        scores_k = pd.concat([scores_k, s_sc[s_sc["estate_id"].isin(online_sites)]], ignore_index=True)
    return est_k, cap_k, el_k, scores_k


@dataclass(frozen=True)
class _Comes:
    """What comes online in each phase: the upgrades done, the sites built (their estate rows in
    ``site_rows``) and the phase each existing estate opens in (``opening``)."""

    ups: list[list[tuple[str, dict[str, Any], str]]]
    builds: list[list[str]]
    site_rows: gpd.GeoDataFrame
    opening: np.ndarray


def _phase_table(res: RunResult, p: Placement, phases: list[PhaseSpec], rows: pd.DataFrame,
                 cap: pd.DataFrame, comes: _Comes) -> pd.DataFrame:
    """``phases.csv`` (module docstring; :data:`PHASE_COLUMNS`)."""
    ups, builds, s_rows, opening = comes.ups, comes.builds, comes.site_rows, comes.opening
    from ..common.dates import parse_start
    from .impact import allowed_land

    t = p.table
    no = rows.set_index("biz_id")["phase_no"].reindex(t["biz_id"]).fillna(0).to_numpy(int)
    at = rows.set_index("biz_id")["phase_estate"].reindex(t["biz_id"]).to_numpy()
    q, m = t["quiet_m"].to_numpy(float), t["mixed_m"].to_numpy(float)
    site_geom = dict(zip(s_rows["estate_id"], s_rows.geometry.values))
    dest = p.before.copy()
    cache: dict[tuple[str, str], object] = {}
    for i in np.flatnonzero(no > 0):
        e = str(at[i])
        dest[i] = site_geom[e] if e in site_geom else allowed_land(res, e, str(t["category"].iat[i]), cache)
    land = t["land_m2"].to_numpy(float)
    # the residents before, and after each phase (its businesses and the earlier phases' at their
    # destinations), counted together: a buffer or union the phases share is computed once
    n = len(t)
    sets = [np.arange(n)] + [np.where((no > 0) & (no <= k + 1), n + np.arange(n), np.arange(n))
                             for k in range(len(phases))]
    exposed = p.residents.exposed_sets(np.concatenate([p.before, dest]), np.r_[q, q], np.r_[m, m], sets)
    before = float(exposed[0])
    out = []
    prev_relieved = 0.0
    for k, ph in enumerate(phases):
        upto = (no > 0) & (no <= k + 1)
        after = float(exposed[k + 1]) if upto.any() else before
        relieved = before - after
        here = no == k + 1
        ck = cap[cap["phase_no"] == k + 1] if len(cap) else cap
        start = parse_start(ph.start)
        online_sites = [s for b in builds[: k + 1] for s in b]
        out.append({"phase": k + 1, "name": ph.name, "label": ph.label, "start": ph.start, "calendar": start.calendar,
                    "start_gregorian": start.date.isoformat(), "estates_online": int((opening <= k).sum()),
                    "sites_online": ", ".join(online_sites), "upgrades": "; ".join(d for _, _, d in ups[k]),
                    "capacity_ha": round(float(ck["capacity_m2"].sum()) / M2_PER_HA, 2) if len(ck) else 0.0,
                    "available_ha": round(float(ck["available_m2"].sum()) / M2_PER_HA, 2) if len(ck) else 0.0,
                    "businesses": int(here.sum()), "land_ha": round(float(land[here].sum()) / M2_PER_HA, 3),
                    "residents_relieved": round(relieved - prev_relieved),
                    "cum_businesses": int(upto.sum()), "cum_land_ha": round(float(land[upto].sum()) / M2_PER_HA, 3),
                    "cum_residents_relieved": round(relieved), "unplaced": int(len(t) - upto.sum())})
        prev_relieved = relieved
    return pd.DataFrame(out, columns=list(PHASE_COLUMNS))
