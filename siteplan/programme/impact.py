"""What the plan achieves: residents relieved, trips off urban streets, added travel, land and jobs.

Figures (one row of ``impact.csv`` per level and key; README "Programme figures"):

* **Residents within the nuisance distance** (:mod:`siteplan.programme.exposure`): the distinct
  residents within the distance from homes each business's category's siting rules ask. Before the move a
  business sits at its registry point; after it sits on its plot, else its zone, else the estate's land
  its rules allow (a new site's polygon for the sites' figures); a business the plan leaves where it is
  keeps exposing the same residents.
* **Trips off urban streets** per day: the trip rates of each moved business's category
  (``siteplan/data/trip_rates.csv`` or ``programme.trip_rates``) for the businesses whose registry point
  lies in an urban area.
* **Added travel** (km per day): ``(customer trips + employees × worker trips per employee) ×
  straight-line distance`` from the registry point to the destination's edge (no road network is used;
  the figure says ``straight line``), an upper bound that assumes customers and workers came from where
  the business was.
* **Land used in estates** (the catalogue's land need of the moved businesses), **urban land freed**
  (the registry's ``area_m2`` of the moved businesses inside urban areas, else the catalogue's land
  need), **jobs moved** (the registry's ``employees``; empty without it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA, M_PER_KM
from ..errors import InputError
from .exposure import QUAD_SEGS, Residents, nuisance_distances

if TYPE_CHECKING:
    from ..results import RunResult
    from ..scenario import Scenario

__all__ = ["IMPACT_COLUMNS", "QUAD_SEGS", "Residents", "nuisance_distances", "trip_rates", "Placement",
           "placements", "impact_table", "group_figures", "groups_figures", "upgrade_businesses", "upgrade_figure"]

#: the columns of ``impact.csv``
IMPACT_COLUMNS = ("level", "id", "name", "businesses", "moved", "residents_before", "residents_after",
                  "residents_relieved", "heavy_trips_off", "customer_trips_off", "added_km_per_day", "km_basis",
                  "estate_land_ha", "urban_land_freed_ha", "jobs_moved", "relieved_per_ha", "basis")
KM_BASIS = "straight line"


def trip_rates(catalogue_codes: list[str], scenario: Scenario) -> pd.DataFrame:
    """Heavy-vehicle and customer trips per business per day by category.

    The shipped table ``siteplan/data/trip_rates.csv`` (each row with its source and status) with the
    scenario's ``programme.trip_rates`` over it (a scenario rate without a ``source`` is an assumption).

    Parameters
    ----------
    catalogue_codes
        The catalogue's categories (a category without a rate gets zero trips, marked ``missing``).
    scenario
        For ``programme.trip_rates``.

    Returns
    -------
    pandas.DataFrame
        Indexed by category: ``heavy``, ``customer``, ``status`` (``assumption``, ``sourced``,
        ``scenario`` or ``missing``), ``source``.

    Raises
    ------
    InputError
        A scenario rate names a category the catalogue does not have.
    """
    with resources.files("siteplan").joinpath("data/trip_rates.csv").open("r", encoding="utf-8") as fh:
        shipped = {r["code"]: r for r in csv.DictReader(fh)}
    bad = [k for k in scenario.programme.trip_rates if k not in catalogue_codes]
    if bad:
        raise InputError(f"programme.trip_rates: {', '.join(repr(b) for b in sorted(bad))} not in the catalogue "
                         f"(known: {', '.join(catalogue_codes)}); correct the key or remove it")
    rows = {}
    for code in catalogue_codes:
        over = scenario.programme.trip_rates.get(code)
        if over is not None:
            rows[code] = (over.heavy, over.customer, "scenario" if over.source else "assumption",
                          over.source or "scenario programme.trip_rates (no source given)")
        elif code in shipped:
            r = shipped[code]
            rows[code] = (float(r["heavy_per_day"]), float(r["customer_per_day"]), r["status"], r["source"])
        else:
            rows[code] = (0.0, 0.0, "missing", "no trip rate for this category (counted as zero)")
    return pd.DataFrame.from_dict(rows, orient="index", columns=["heavy", "customer", "status", "source"])


@dataclass
class Placement:
    """Where each business of the plan is before and after the move.

    Parameters
    ----------
    table
        One row per classified, in-scope business: ``biz_id``, ``category``, ``town``, ``estate_id``,
        ``site_id``, ``moved`` (the plan assigns it), ``in_urban`` (its registry point is in an urban
        area), ``quiet_m``, ``mixed_m``, ``land_m2``, ``area_m2``, ``employees``, ``km`` (straight line to
        its destination's edge, NaN when it stays).
    before
        Registry points.
    after
        Plot, zone or allowed estate land for the moved; the registry point otherwise.
    residents
        The urban areas as residents (:class:`siteplan.programme.exposure.Residents`).
    rates
        Trips per business per day by category (:func:`trip_rates`).
    worker_trips
        Trips per employee per day (the scenario's ``programme.worker_trips_per_employee``).
    """

    table: pd.DataFrame
    before: np.ndarray
    after: np.ndarray
    residents: Residents
    rates: pd.DataFrame
    worker_trips: float


def allowed_land(res: RunResult, estate_id: str, code: str, cache: dict[tuple[str, str], object]) -> object:
    """The land of an estate the category's rules allow (the rules' own :meth:`RuleSet.usable`)."""
    key = (estate_id, code)
    if key not in cache:
        est = res.prep.region.layers["estates"]
        geom = est.geometry.values[int(np.flatnonzero(est["estate_id"].astype(str).to_numpy() == estate_id)[0])]
        cache[key] = res.prep.rules[code].usable(geom)[0]
    return cache[key]


def placements(res: RunResult) -> Placement:
    """Before and after geometries of every classified, in-scope business of a run (see :class:`Placement`).

    Parameters
    ----------
    res
        A finished run (its plan, plots, zones, businesses, rules and scenario).

    Returns
    -------
    Placement
        One row per classified, in-scope business with its registry point before and its plot, zone or
        allowed estate land after (working CRS), the residents and the trip rates.

    Raises
    ------
    InputError
        A scenario trip rate names a category the catalogue does not have (:func:`trip_rates`).
    """
    from .summaries import origins

    rows = res.plan.rows
    rows = rows[rows["category"].notna() & rows["category"].isin(list(res.prep.rules))].reset_index(drop=True)
    biz = res.prep.businesses.set_index("biz_id")
    before = biz.geometry.reindex(rows["biz_id"]).to_numpy()
    dist = nuisance_distances(res.prep.rules)
    t = pd.DataFrame({"biz_id": rows["biz_id"].to_numpy(), "category": rows["category"].to_numpy()})
    t["town"] = origins(res).reindex(rows["biz_id"]).to_numpy() if len(rows) else []
    t["estate_id"] = rows["estate_id"].where(rows["status"] == "assigned").to_numpy()
    t["site_id"] = rows["site_id"].to_numpy() if "site_id" in rows else None
    t["moved"] = (rows["status"] == "assigned").to_numpy()
    t["quiet_m"] = t["category"].map(dist["quiet_m"]).to_numpy(float)
    t["mixed_m"] = t["category"].map(dist["mixed_m"]).to_numpy(float)
    t["land_m2"] = pd.to_numeric(rows["land_m2"], errors="coerce").to_numpy(float)
    area = pd.to_numeric(biz["area_m2"], errors="coerce") if "area_m2" in biz else pd.Series(np.nan, index=biz.index)
    t["area_m2"] = area.reindex(rows["biz_id"]).to_numpy(float)
    emp = pd.to_numeric(biz["employees"], errors="coerce") if "employees" in biz else None
    t["employees"] = emp.reindex(rows["biz_id"]).to_numpy(float) if emp is not None else np.nan
    residents = Residents.from_urban(res.prep.region.layers.get("urban"), res.prep.scenario)
    t["in_urban"] = residents.urban_mask(before) if any(shapely.area(residents.geoms) > 0) \
        else np.ones(len(t), bool)  # settlement points only: every business counts as in town
    plots = res.plots.set_index("plot_id").geometry if res.plots is not None and len(res.plots) else None
    zones = res.zones.set_index("zone_id").geometry if len(res.zones) else None
    cache: dict[tuple[str, str], object] = {}
    after = before.copy()
    todo = (rows["status"] == "assigned").to_numpy()
    for col, geo in (("plot_id", plots), ("zone_id", zones)):  # its plot, else its zone
        if geo is None or col not in rows:
            continue
        key = rows[col].to_numpy(object)
        hit = todo & np.array([isinstance(k, str) for k in key], bool) & pd.Series(key).isin(geo.index).to_numpy()
        after[hit] = geo.reindex(key[hit]).to_numpy()
        todo = todo & ~hit
    for i in np.flatnonzero(todo):  # else the estate's land its rules allow
        after[i] = allowed_land(res, str(rows["estate_id"].iat[i]), str(rows["category"].iat[i]), cache)
    km = np.where(t["moved"].to_numpy(), shapely.distance(before, after) / M_PER_KM, np.nan)
    t["km"] = km
    rates = trip_rates(list(res.prep.catalogue.table["code"]), res.prep.scenario)
    return Placement(t, before, after, residents, rates, res.prep.scenario.programme.worker_trips_per_employee)


def group_figures(p: Placement, idx: np.ndarray, dest: np.ndarray | None = None) -> dict[str, float]:
    """The impact figures of one set of businesses moved to ``dest`` (default: the plan's destinations).

    Parameters
    ----------
    p
        The run's placement.
    idx
        Positions in ``p.table`` of the businesses of the set (all of them count before the move).
    dest
        Their geometries after the move; positions whose ``moved`` is False stay where they are unless
        ``dest`` is given (then every business of the set moves there).

    Returns
    -------
    dict
        The numeric columns of :data:`IMPACT_COLUMNS`.
    """
    return groups_figures(p, [(idx, dest)])[0]


def groups_figures(p: Placement, groups: list[tuple[np.ndarray, np.ndarray | None]]) -> list[dict[str, float]]:
    """:func:`group_figures` of several sets at once (each figure the same as one set's alone).

    The residents are counted for all sets together (:meth:`Residents.exposed_sets`: each buffer, spatial
    look-up and union computed once); the other figures are sums over the sets' rows of arrays taken
    from ``p.table`` once.

    Parameters
    ----------
    p
        The run's placement.
    groups
        ``(idx, dest)`` of each set, as :func:`group_figures` takes them.

    Returns
    -------
    list of dict
        The numeric columns of :data:`IMPACT_COLUMNS`, one dict per set.
    """
    t = p.table
    n = len(t)
    q, m = t["quiet_m"].to_numpy(float), t["mixed_m"].to_numpy(float)
    # where each set's businesses are before (p.before) and after (p.after, or the set's dest appended)
    pool, pool_q, pool_m = [p.before, p.after], [q, q], [m, m]
    sets_before, sets_after = [], []
    size = 2 * n
    for members, dest in groups:
        idx = np.asarray(members, dtype=np.int64)
        sets_before.append(idx)
        if dest is None:
            sets_after.append(n + idx)
        else:
            pool.append(np.asarray(dest, dtype=object))
            pool_q.append(q[idx])
            pool_m.append(m[idx])
            sets_after.append(size + np.arange(len(idx)))
            size += len(idx)
    from .setmemo import exposed_sets  # each set's figure from the run's memo where the set is unchanged

    exposed = exposed_sets(p.residents, np.concatenate(pool), np.concatenate(pool_q), np.concatenate(pool_m),
                           sets_before + sets_after)
    moved_all = t["moved"].to_numpy(bool)
    in_urban = t["in_urban"].to_numpy(bool)
    km_all = t["km"].to_numpy(float)
    cats = t["category"].to_numpy()
    heavy_all = p.rates["heavy"].reindex(cats).to_numpy(float)
    customer_all = p.rates["customer"].reindex(cats).to_numpy(float)
    emp_all = t["employees"].to_numpy(float)
    land_all = t["land_m2"].to_numpy(float)
    area_all = t["area_m2"].to_numpy(float)
    # the urban land a moved business frees: its registry area when it has one, else its land need
    freed_all = np.where(~np.isnan(area_all) & (area_all > 0), area_all, land_all)
    out: list[dict[str, float]] = []
    for k, (members, dest) in enumerate(groups):
        idx = np.asarray(members, dtype=np.int64)
        moved = moved_all[idx] if dest is None else np.ones(len(idx), bool)
        km = km_all[idx] if dest is None else shapely.distance(p.before[idx], np.asarray(dest, dtype=object)) / M_PER_KM
        before, aft = float(exposed[k]), float(exposed[len(groups) + k])
        mv = idx[moved]
        urban = mv[in_urban[mv]]
        emp = emp_all[mv]
        trips = customer_all[mv] + np.nan_to_num(emp) * p.worker_trips
        land = float(np.nansum(land_all[mv]))
        relieved = before - aft
        out.append({"businesses": len(idx), "moved": int(moved.sum()), "residents_before": round(before),
                    "residents_after": round(aft), "residents_relieved": round(relieved),
                    "heavy_trips_off": round(float(np.nansum(heavy_all[urban])), 1),
                    "customer_trips_off": round(float(np.nansum(customer_all[urban])), 1),
                    "added_km_per_day": round(float(np.nansum(trips * km[moved])), 1),
                    "estate_land_ha": round(land / M2_PER_HA, 3),
                    "urban_land_freed_ha": round(float(np.nansum(freed_all[urban])) / M2_PER_HA, 3),
                    "jobs_moved": (round(float(np.nansum(emp))) if np.isfinite(emp).any() else np.nan),
                    "relieved_per_ha": round(relieved / (land / M2_PER_HA), 1) if land > 0 else np.nan})
    return out


def upgrade_figure(row: object, *names: str) -> float:
    """The first of an upgrades.csv row's columns ``names`` that has a value (0 when none has): the
    verified ``placed``/``businesses``, else the estimate ``businesses_est``."""
    for n in names:
        v = getattr(row, n, None)
        if v is not None and pd.notna(v):
            return float(v)
    return 0.0


def upgrade_businesses(res: RunResult, p: Placement) -> dict[int, np.ndarray]:
    """The businesses each upgrade would place (an estimate: upgrades.csv gives counts only).

    For each upgrade row, the unassigned businesses of the categories it admits, within the allocation's
    reach of the estate, nearest first, as many as it places (``placed`` when verified, else
    ``businesses``, else the estimate ``businesses_est``).

    Returns
    -------
    dict
        Upgrade row position to positions in ``p.table``.
    """
    up = res.upgrades
    out: dict[int, np.ndarray] = {}
    if up is None or not len(up):
        return out
    est = res.prep.region.layers["estates"]
    geom = dict(zip(est["estate_id"].astype(str), est.geometry.values))
    reach = res.prep.scenario.allocation.max_distance_km * M_PER_KM
    t = p.table
    free = ~t["moved"].to_numpy()
    for k, r in enumerate(up.itertuples()):
        n = int(upgrade_figure(r, "placed", "businesses", "businesses_est"))
        cats = [c.strip() for c in str(r.categories or "").split(",") if c.strip()]
        g = geom.get(str(r.estate_id))
        if n <= 0 or g is None:
            out[k] = np.zeros(0, int)
            continue
        cand = np.flatnonzero(free & t["category"].isin(cats).to_numpy())
        d = shapely.distance(p.before[cand], g)
        ok = d <= reach
        cand, d = cand[ok], d[ok]
        order = np.lexsort((t["biz_id"].to_numpy()[cand].astype(str), d))
        out[k] = cand[order][:n]
    return out


def _positions(labels: np.ndarray) -> dict[object, np.ndarray]:
    """The positions of each label (increasing), by label; missing labels (None, NaN) are left out.

    Parameters
    ----------
    labels
        One label per row.

    Returns
    -------
    dict
        Label to its rows' positions (the same as ``np.flatnonzero(labels == label)``).
    """
    codes, uniq = pd.factorize(pd.Series(labels, dtype=object))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return {uniq[k]: order[bounds[k]:bounds[k + 1]] for k in range(len(uniq))}


def impact_table(res: RunResult, p: Placement | None = None) -> pd.DataFrame:
    """``impact.csv``: the figures of the plan for the province, each category, town and receiving
    estate, and of each proposed site and upgrade (module docstring).

    Parameters
    ----------
    res
        A finished run.
    p
        Its placement (computed when not given).

    Returns
    -------
    pandas.DataFrame
        :data:`IMPACT_COLUMNS`. ``basis`` says what the row's set is.
    """
    p = p or placements(res)
    t = p.table
    heads: list[tuple[str, str, str, str]] = []
    groups: list[tuple[np.ndarray, np.ndarray | None]] = []
    cat = res.prep.catalogue

    def add(level: str, key: str, name: str, idx: np.ndarray, basis: str, dest: np.ndarray | None = None) -> None:
        heads.append((level, key, name, basis))
        groups.append((idx, dest))

    allpos = np.arange(len(t))
    add("province", "all", "", allpos, "every classified business; the plan's moves")
    by_cat = _positions(t["category"].to_numpy())
    for code in cat.codes:
        idx = by_cat.get(code, np.zeros(0, np.int64))
        if len(idx):
            add("category", code, str(cat.row(code)["name_en"]), idx, "the category's businesses; the plan's moves")
    towns = t["town"].fillna("(unknown)").astype(str).to_numpy()
    for town, idx in sorted(_positions(towns).items()):
        add("town", str(town), "", idx, "businesses whose nearest settlement it is")
    est = res.prep.region.layers["estates"]
    names = dict(zip(est["estate_id"].astype(str), est["name"].astype(str) if "name" in est else est["estate_id"]))
    eids = t["estate_id"].astype(str).where(t["estate_id"].notna()).to_numpy()
    for eid, idx in sorted((e, i) for e, i in _positions(eids).items() if isinstance(e, str)):
        add("estate", eid, names.get(eid, ""), idx, "businesses the plan moves there")
    if len(res.sites):
        sid = t["site_id"].to_numpy()
        for s in res.sites.itertuples():
            idx = np.flatnonzero(sid == s.site_id)
            add("site", str(s.site_id), f"new {s.chain} estate", idx, "businesses the site would take",
                np.array([s.geometry] * len(idx), dtype=object))
    up = res.upgrades
    if up is not None and len(up):
        cache: dict[tuple[str, str], object] = {}
        for k, idx in upgrade_businesses(res, p).items():
            r = up.iloc[k]
            dest = np.array([allowed_land(res, str(r["estate_id"]), str(c), cache) for c in t["category"].to_numpy()[idx]],
                            dtype=object)
            add("upgrade", f"{r['estate_id']}#{int(r['rank'])}", str(r["upgrade"]), idx,
                "estimate: the nearest unassigned businesses of the admitted categories, as many as it places",
                dest)
    # every set's figures at once: the buffers and unions they share are computed once
    rows = [{"level": level, "id": key, "name": name, **f, "km_basis": KM_BASIS, "basis": basis}
            for (level, key, name, basis), f in zip(heads, groups_figures(p, groups))]
    return pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
