"""Locating: rank existing estates per category, propose new sites for the unmet demand, and write
each site's feasibility figures.

Sites are grown on the grid by :mod:`siteplan.locate.regions` (contiguous, compact, re-checked on their exact
geometry) where the unassigned demand is (:mod:`siteplan.locate.newsites`); when a target cannot be met the
result says which and by how much — it never silently returns fewer sites.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.geom import polsby_popper
from ..common.units import M2_PER_HA
from ..rules.ruleset import UTILITIES
from .regions import SiteSearch, grow_regions, regions_to_polygons

if TYPE_CHECKING:
    from ..relocation import Plan
    from ..results import Prepared
    from .newsites import SiteDemand
    from .sitechoice import SiteModel

log = logging.getLogger(__name__)

__all__ = ["rank_estates", "estate_closeness", "grow_regions", "SiteSearch", "site_feasibility", "propose_sites",
           "regions_to_polygons", "POP_REACH_KM", "SITE_COLUMNS"]

#: TOPSIS weights of (suitability score, usable net capacity) when ranking estates.
RANK_WEIGHTS = (0.7, 0.3)


def estate_closeness(score: np.ndarray, capacity_ha: np.ndarray) -> np.ndarray:
    """TOPSIS closeness of estates on (score, usable capacity), both benefits, vectorized over any
    leading axes of ``score`` (e.g. Monte Carlo draws × estates); same result as
    :func:`siteplan.scoring.suitability.topsis` on one row.

    The two criteria are weighted by :data:`RANK_WEIGHTS` after vector normalisation along the last axis.

    Parameters
    ----------
    score
        Suitability scores of the estates (0–1), estates on the last axis.
    capacity_ha
        Usable net capacity of each estate (ha), broadcast to ``score``'s shape.

    Returns
    -------
    numpy.ndarray
        Closeness to the ideal (0–1, higher is better), ``score``'s shape; 0 where all estates tie.
    """
    s = np.asarray(score, dtype=float)
    cap = np.broadcast_to(np.asarray(capacity_ha, dtype=float), s.shape)
    cols = []
    for v, w in ((s, RANK_WEIGHTS[0]), (cap, RANK_WEIGHTS[1])):
        n = np.sqrt((v ** 2).sum(axis=-1, keepdims=True))
        cols.append(np.divide(v, n, out=np.zeros_like(v), where=n > 0) * w)
    dp = np.sqrt(sum((c - c.max(axis=-1, keepdims=True)) ** 2 for c in cols))
    dm = np.sqrt(sum((c - c.min(axis=-1, keepdims=True)) ** 2 for c in cols))
    den = dp + dm
    answer: np.ndarray = np.divide(dm, den, out=np.zeros_like(den), where=den > 0)
    return answer


def rank_estates(elig: pd.DataFrame, scores: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Rank eligible estates per category by TOPSIS on (suitability score, usable net capacity).

    Parameters
    ----------
    elig
        Eligibility rows (``estate_id``, ``category``, ``eligible``, ``reason``, ``usable_frac``).
    scores
        ``estate_id``, ``category``, ``score``.
    capacity
        ``estate_id``, ``capacity_m2``.

    Returns
    -------
    pandas.DataFrame
        ``elig`` plus ``score``, ``usable_cap_ha``, ``closeness`` and ``rank`` (1 = best; None when
        not eligible).
    """
    if elig.empty:
        return elig.assign(score=pd.Series(dtype=float), usable_cap_ha=pd.Series(dtype=float),
                           closeness=pd.Series(dtype=float), rank=pd.array([], dtype="Int64"))
    df = elig.merge(scores, on=["estate_id", "category"], how="left").merge(
        capacity.drop(columns=["plot_m2"], errors="ignore"), on="estate_id", how="left")
    df["usable_cap_ha"] = df["capacity_m2"].fillna(0) * df["usable_frac"] / M2_PER_HA
    df["closeness"] = np.nan
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    for _code, grp in df.groupby("category", sort=True):
        ok = grp[grp["eligible"] & grp["score"].notna()]
        if ok.empty:
            continue
        c = estate_closeness(ok["score"].to_numpy(float), ok["usable_cap_ha"].to_numpy(float))
        order = np.lexsort((ok["estate_id"].to_numpy(), -c))
        ranks = np.empty(len(ok), dtype=int)
        ranks[order] = np.arange(1, len(ok) + 1)
        df.loc[ok.index, "closeness"] = np.round(c, 6)
        df.loc[ok.index, "rank"] = ranks
    return df.drop(columns=["capacity_m2"])


#: radius (km) of the population within reach of a proposed site (``pop_reach``)
POP_REACH_KM = 30.0
#: a utility network farther than this (km) from a site is to be extended (``extend``)
EXTEND_KM = 0.5


def _nearest_km(g: np.ndarray, gdf: gpd.GeoDataFrame | None, col: str | None = None,
                values: list[str] | None = None) -> np.ndarray:
    """Distance (km) from each site to the nearest feature of a layer.

    Parameters
    ----------
    g
        The sites' geometries (working CRS).
    gdf
        The layer (None: not in the inputs).
    col, values
        Keep only the layer's features whose ``col`` is one of ``values`` (both given).

    Returns
    -------
    numpy.ndarray
        Kilometres per site; NaN when the layer is absent or has no such feature.
    """
    if gdf is None:
        return np.full(len(g), np.nan)
    if col and values is not None:
        gdf = gdf[gdf[col].isin(values)]
    if gdf.empty:
        return np.full(len(g), np.nan)
    tree = shapely.STRtree(gdf.geometry.values)
    idx, d = tree.query_nearest(g, return_distance=True, all_matches=False)
    out = np.full(len(g), np.nan)
    out[idx[0]] = d / 1000
    return out


def _extensions(dist: dict[str, np.ndarray | None], need: list[str], n: int) -> list[str]:
    """The ``extend`` text of each site: the required utilities to be extended to it.

    Parameters
    ----------
    dist
        Kilometres to the nearest network per utility (None: no such network in the inputs).
    need
        The required utilities, in :data:`UTILITIES` order.
    n
        Number of sites.

    Returns
    -------
    list of str
        Per site, each required utility farther than :data:`EXTEND_KM` (with the distance) or without a
        network, comma-separated; ``none`` when all are at hand.
    """
    from .upgrades import no_network

    extend = []
    for i in range(n):
        e = []
        for u in need:
            d = dist[u]
            if d is None or np.isnan(d[i]):
                e.append(no_network(u))
            elif d[i] > EXTEND_KM:
                e.append(f"{u} {d[i]:.1f} km")
        extend.append(", ".join(e) or "none")
    return extend


def site_feasibility(sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], *, net_to_gross: float,
                     land_per_unit: dict[str, float], share: dict[str, float], reach_km: float = POP_REACH_KM,
                     needs: tuple[str, ...] | list[str] = ("power", "gas")) -> pd.DataFrame:
    """Feasibility figures of proposed sites.

    Parameters
    ----------
    sites
        Site polygons (working CRS).
    layers
        The region's layers (roads, rail, utilities, urban).
    net_to_gross
        Saleable share of gross area.
    land_per_unit
        Net m² per unit by category.
    share
        Share of the net land by category (sums to 1).
    reach_km
        Radius for the population within reach.
    needs
        The utilities the site's categories require (the catalogue's ``utilities``, through the rules):
        ``extend`` covers each of them.

    Returns
    -------
    pandas.DataFrame
        ``gross_ha``, ``net_ha``, ``units`` (``code:n`` list), ``trunk_km``, ``rail_km``, ``power_km``,
        ``gas_km``, ``water_km``, ``wastewater_km`` (to the nearest network of each in the utilities layer,
        :data:`siteplan.locate.upgrades.NETWORK_KINDS`; empty when the inputs hold none), ``utilities`` (those
        required), ``extend`` (each required utility farther than :data:`EXTEND_KM`, with the distance, or
        "``wastewater``: no network in the inputs"; ``none`` when all are at hand), ``pop_reach``.
    """
    from .upgrades import network_km

    g = sites.geometry.values
    gross = shapely.area(g) / M2_PER_HA
    net = gross * net_to_gross
    trunk = _nearest_km(g, layers.get("roads"), "road_class", ["motorway", "trunk"])
    rail = _nearest_km(g, layers.get("rail"))
    dist = {u: network_km(layers, u, g) for u in UTILITIES}
    urban = layers.get("urban")
    pop = np.zeros(len(g))
    if urban is not None and "population" in urban:
        cen = urban.geometry.centroid.values
        tree = shapely.STRtree(cen)
        si, ui = tree.query(g, predicate="dwithin", distance=reach_km * 1000)
        np.add.at(pop, si, urban["population"].fillna(0).to_numpy()[ui])
    units = []
    for n in net:
        parts = [f"{c}:{int(n * M2_PER_HA * s // land_per_unit[c])}" for c, s in sorted(share.items()) if s > 0]
        units.append(", ".join(parts))
    need = [u for u in UTILITIES if u in needs]
    extend = _extensions(dist, need, len(g))
    km = {f"{u}_km": np.round(np.full(len(g), np.nan) if dist[u] is None else dist[u], 2)  # type: ignore[arg-type]
          for u in UTILITIES}
    return pd.DataFrame({"gross_ha": np.round(gross, 2), "net_ha": np.round(net, 2), "units": units,
                         "trunk_km": np.round(trunk, 2), "rail_km": np.round(rail, 2), **km,
                         "utilities": ", ".join(need), "extend": extend, "pop_reach": pop.astype(np.int64)})


# ------------------------------------------------------------------------------------------------
# new sites for the unmet demand
# ------------------------------------------------------------------------------------------------


def _choice_notes(g: pd.DataFrame, model: SiteModel, keep: np.ndarray, served: np.ndarray, min_businesses: int,
                  count: int) -> list[str]:
    """What the new-site choice says: sites under ``sites.min_businesses`` and why, and who is left."""
    notes: list[str] = []
    for r, f in zip(g.itertuples(), model.fit[keep]):
        if r.units < min_businesses:
            notes.append(f"site {r.site_id} ({r.chain}) takes {r.units} businesses, fewer than sites.min_businesses = "
                         f"{min_businesses}: only {f} unassigned {r.chain} businesses within the reach fit on "
                         "it, and the model found no cheaper place for them (leaving them unserved costs more)")
    reachable = np.zeros(len(served), dtype=bool)
    reachable[model.arc_i] = True
    far, left = int((~served & ~reachable).sum()), int((~served & reachable).sum())
    if far:
        notes.append(f"{far} unassigned businesses are beyond the reach of every candidate site of their value chain")
    if left and len(keep) == count:
        notes.append(f"{left} unassigned businesses in reach of a candidate site are beyond the {count} sites "
                     "of sites.count (or do not fit on them); raise it to look for more sites")
    elif left:
        notes.append(f"{left} unassigned businesses in reach of a candidate site do not fit on the sites opened")
    return notes


def propose_sites(prep: Prepared, plan: Plan, estates: gpd.GeoDataFrame
                  ) -> tuple[gpd.GeoDataFrame, list[str], dict[str, object], pd.DataFrame]:
    """Propose new specialized estates for the unassigned demand and say whom each would take.

    Candidate sites are sought where the unassigned businesses are, sized to what they would take, on a
    grid fine enough for the site (the greedy maximum coverage, then alternatives); which candidates open
    and who goes to each is then a capacitated facility-location model on the travel costs, solved with
    HiGHS from the greedy start under a node limit, with its gap and each site's proven contribution
    (:func:`siteplan.locate.sitechoice.choose_sites`).

    Parameters
    ----------
    prep
        The prepared run (surfaces, rules, grid, scenario with its ``sites`` and ``allocation`` settings).
    plan
        The relocation plan onto the existing estates (its unassigned businesses are the demand).
    estates
        The existing estates (working CRS), which new sites are kept off.

    Returns
    -------
    sites, notes, choice, takes
        ``sites``: :data:`SITE_COLUMNS` and geometry, best coverage first; ``notes``: what could not be
        done; ``choice``: the manifest's summary of the search; ``takes``: ``biz_id``, ``site_id``,
        ``site_km`` for each unassigned classified business (``site_id`` None when no site takes it).
    """
    from .newsites import demand_sites, unassigned_businesses
    from .sitechoice import choose_sites, per_site_takes, site_model

    sc = prep.scenario
    spec = sc.sites
    empty = gpd.GeoDataFrame(columns=[*SITE_COLUMNS, "geometry"], geometry="geometry", crs=prep.region.crs)
    found, notes = demand_sites(prep, plan, estates)
    un = unassigned_businesses(prep, plan).reset_index(drop=True)
    choice: dict[str, object] = {
        "method": "capacitated facility location (p-median with capacities, single sourcing, a penalty for "
                  "businesses left unserved) solved with HiGHS from the greedy maximum-coverage start",
        "reach_km": sc.allocation.max_distance_km, "candidates": len(found),
        "start": int(sum(f.start for f in found)), "node_limit": spec.node_limit,
        "min_businesses": spec.min_businesses}
    if not found:
        takes = pd.DataFrame({"biz_id": un["biz_id"], "site_id": None, "site_km": np.nan})
        return empty, notes, choice, takes
    g = _candidate_frame(prep, found)
    model = site_model(prep, un, g)
    ch = choose_sites(model, node_limit=spec.node_limit, time_limit=sc.allocation.time_limit_s)
    unit = "ha·min" if model.measure == "minutes" else "ha·km"
    choice.update({"objective": round(ch.objective, 4), "lower_bound": round(ch.lower_bound, 4),
                   "gap": round(ch.gap, 6), "status": ch.status, "start_objective": round(ch.start_objective, 4),
                   "answer": ch.method, "objective_unit": unit, "measure": model.measure,
                   "points": len(model.land_ha), "arcs": len(model.arc_i), "p": model.p})
    keep = ch.open
    ids = {int(j): f"S{t:02d}" for t, j in enumerate(keep, start=1)}
    served = ch.assign >= 0
    km = np.full(len(un), np.nan)
    used = ch.assign[model.arc_i] == model.arc_j
    km[model.arc_i[used]] = model.arc_km[used]
    takes = pd.DataFrame({"biz_id": un["biz_id"].to_numpy(),
                          "site_id": [ids[int(j)] if s_ else None for j, s_ in zip(ch.assign, served)],
                          "site_km": np.where(served, km, np.nan)})
    g = g.iloc[keep].reset_index(drop=True)
    g["site_id"] = [ids[int(j)] for j in keep]
    g["contribution"] = np.round(ch.contribution, 2)
    g["contribution_lo"] = np.round(ch.contribution_lo, 2)
    g["contribution_hi"] = np.round(ch.contribution_hi, 2)
    g["unserved_without"] = ch.unserved_without
    g["greedy_start"] = g.pop("start").astype(bool)
    if g.empty:
        choice.update({"proposed": 0, "unassigned": len(takes), "taken_by_sites": 0})
        return empty, notes, choice, takes
    g = g.merge(per_site_takes(takes, un, list(g["site_id"])), on="site_id", how="left")
    notes.extend(_choice_notes(g, model, keep, served, spec.min_businesses, spec.count))
    g["rank"] = np.arange(1, len(g) + 1)
    g = pd.concat([g, _feasibility_frame(prep, plan, g, takes)], axis=1)
    n_un = len(takes)
    n_take = int(takes["site_id"].notna().sum())
    choice.update({"proposed": len(g), "unassigned": n_un, "taken_by_sites": n_take})
    return gpd.GeoDataFrame(g[[*SITE_COLUMNS, "geometry"]], geometry="geometry", crs=prep.region.crs), notes, \
        choice, takes


def _candidate_frame(prep: Prepared, found: list[SiteDemand]) -> gpd.GeoDataFrame:
    """The candidate sites the search found (``C01``, ``C02`` …) with their sizes and sizing notes."""
    from .newsites import sizing_note

    ntg = prep.scenario.allocation.net_to_gross
    g = gpd.GeoDataFrame({
        "site_id": [f"C{i:02d}" for i in range(1, len(found) + 1)],
        "chain": [f.chain for f in found], "categories": [", ".join(f.codes) for f in found],
        "area_ha": [round(f.geometry.area / M2_PER_HA, 2) for f in found],
        "score": [round(f.score, 4) for f in found],
        "compactness": [round(polsby_popper(f.geometry), 4) for f in found],
        "grid_m": [round(f.res_m, 1) for f in found], "sized_for": [len(f.target_ids) for f in found],
        "sized_by": [f.sized_by for f in found], "demand_ha": [round(f.demand_ha, 2) for f in found],
        "start": [f.start for f in found],
    }, geometry=[f.geometry for f in found], crs=prep.region.crs)
    g["sizing"] = [sizing_note(f.sized_by, a, f.demand_ha, len(f.target_ids), ntg) for f, a in zip(found, g["area_ha"])]
    g["net_ha"] = (g.geometry.area / M2_PER_HA * ntg).round(2)
    return g


def _feasibility_frame(prep: Prepared, plan: Plan, g: gpd.GeoDataFrame, takes: pd.DataFrame) -> pd.DataFrame:
    """:func:`site_feasibility` of each opened site ``g``, with the category shares of whom it takes (an
    even split of its categories when it takes nobody); ``units`` renamed ``capacity_units``."""
    land_per = dict(zip(prep.catalogue.table.code, prep.catalogue.table.land_m2))
    feas = []
    for i in range(len(g)):
        codes = g.at[i, "categories"].split(", ")
        share = {c: 1.0 / len(codes) for c in codes}
        mine = takes[takes["site_id"] == g.at[i, "site_id"]]
        if len(mine):
            land = plan.rows.set_index("biz_id").loc[mine["biz_id"]].groupby("category")["land_m2"].sum()
            share = (land / land.sum()).to_dict()
        needs = sorted({u for c in codes for u in prep.rules[c].utilities})
        feas.append(site_feasibility(g.iloc[[i]], prep.region.layers, net_to_gross=prep.scenario.allocation.net_to_gross,
                                     land_per_unit=land_per, share=share, needs=needs))
    return pd.concat(feas, ignore_index=True).rename(columns={"units": "capacity_units"}).drop(columns=["net_ha"])


#: the columns of sites.geojson (with the geometry)
SITE_COLUMNS = ("site_id", "chain", "categories", "rank", "area_ha", "gross_ha", "net_ha", "units", "land_ha",
                "takes", "sized_for", "capacity_units", "score", "compactness", "grid_m", "trunk_km", "rail_km",
                "power_km", "gas_km", "extend", "pop_reach", "sized_by", "demand_ha", "sizing", "water_km",
                "wastewater_km", "utilities", "contribution", "contribution_lo", "contribution_hi",
                "unserved_without", "greedy_start")
