"""Planning summaries of a run: where the businesses come from (per town, per county when the data has
counties) and where they go (per origin town and estate), the relocation table with names and reason
codes, and estate totals kept apart from per-category rows. Pure aggregations of the plan, written as
``towns.csv``, ``counties.csv``, ``flows.csv``, ``relocation.csv``, ``estates.csv``,
``estate_summary.csv`` and ``flows.geojson`` by :func:`siteplan.outputs.writer.write_run`."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA

if TYPE_CHECKING:
    import geopandas as gpd

    from ..results import RunResult

__all__ = ["origins", "origin_table", "flows_table", "relocation_table", "estate_totals", "estate_category_table",
           "flow_lines", "RELOCATION_COLUMNS"]


#: the last run's origins (the programme's figures and the write stage both ask for them, each with its own
#: copy of the run: the plan is the same object): the plan, the layers they were read from, the plan's
#: business ids, and the answer
_LAST_ORIGINS: list[tuple[weakref.ref[Any], tuple[int, ...], np.ndarray, pd.Series]] = []


def origins(res: RunResult) -> pd.Series:
    """The origin town of every business of the plan (the nearest settlement), by ``biz_id``.

    Worked out once per run: a second call on the same plan (a copy of the run shares it), its urban layer,
    businesses and plan's business ids unchanged, gets a copy of the first answer.
    """
    urban = res.prep.region.layers["urban"]
    rows = res.plan.rows
    ids = rows["biz_id"].to_numpy()
    layers = (id(urban), len(urban), id(res.prep.businesses), len(res.prep.businesses))
    for ref, seen, seen_ids, got in _LAST_ORIGINS:
        if ref() is res.plan and seen == layers and np.array_equal(seen_ids, ids):
            return got.copy()
    if not len(rows) or not len(urban):
        return pd.Series([None] * len(rows), index=ids, dtype=object)
    pts = res.prep.businesses.set_index("biz_id").loc[rows["biz_id"]].geometry.values
    nearest = shapely.STRtree(urban.geometry.values).query_nearest(pts, all_matches=False)[1]
    out = pd.Series(urban["name"].to_numpy()[nearest], index=ids, dtype=object)
    try:
        _LAST_ORIGINS[:] = [(weakref.ref(res.plan), layers, ids.copy(), out.copy())]
    except TypeError:  # a stand-in for a run that takes no weak reference: not kept
        _LAST_ORIGINS.clear()
    return out


def origin_table(res: RunResult, by: str = "town", *, towns: pd.Series | None = None) -> pd.DataFrame | None:
    """Businesses per origin: counts, assigned and unassigned, land, and where they go.

    Parameters
    ----------
    res
        A finished run.
    by
        ``town`` (nearest settlement) or ``county`` (the businesses layer's ``county`` field; None
        when the data has none).
    towns
        :func:`origins` of ``res``, when already worked out (the write stage's tables share it).

    Returns
    -------
    pandas.DataFrame or None
        One row per origin: ``<by>``, ``businesses``, ``assigned``, ``unassigned``, ``unclassified``,
        ``land_ha`` (of the classified ones), ``destinations``; sorted by businesses, most first.
    """
    rows = res.plan.rows.copy()
    if by == "town":
        rows[by] = (origins(res) if towns is None else towns).reindex(rows["biz_id"]).to_numpy()
    else:
        biz = res.prep.businesses
        if by not in biz or biz[by].isna().all():
            return None
        rows[by] = biz.set_index("biz_id")[by].reindex(rows["biz_id"]).to_numpy()
    rows[by] = rows[by].fillna("(unknown)")
    # the groups' rows in their order, from one stable sort by group (the figures a per-group frame gives:
    # each land sum over the same values in the same order)
    gb = rows.groupby(by, sort=True)
    code = gb.ngroup().to_numpy()
    order = np.argsort(code, kind="stable")
    ends = np.cumsum(np.bincount(code, minlength=gb.ngroups))
    assigned = (rows["status"] == "assigned").to_numpy(dtype=bool)[order]
    unassigned = (rows["status"] == "unassigned").to_numpy(dtype=bool)[order]
    unclassified = rows["category"].isna().to_numpy()[order]
    land = rows["land_m2"].to_numpy(dtype=float, na_value=np.nan)
    land = np.where(np.isnan(land), 0.0, land)[order]  # a Series' sum: missing as 0, then numpy's sum
    estate = rows["estate_id"]
    out = []
    for key, lo, hi in zip(gb.size().index, np.r_[0, ends[:-1]], ends):
        dest = estate.iloc[order[lo:hi][assigned[lo:hi]]].value_counts()  # E01 (120); E03 (40): most first
        out.append({by: key, "businesses": int(hi - lo), "assigned": int(assigned[lo:hi].sum()),
                    "unassigned": int(unassigned[lo:hi].sum()), "unclassified": int(unclassified[lo:hi].sum()),
                    "land_ha": round(float(land[lo:hi].sum()) / M2_PER_HA, 3),
                    "destinations": "; ".join(f"{e} ({n})" for e, n in dest.items())})
    t = pd.DataFrame(out, columns=[by, "businesses", "assigned", "unassigned", "unclassified", "land_ha",
                                   "destinations"])
    return t.sort_values(["businesses", by], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def trip_basis(rows: pd.DataFrame) -> tuple[str, str]:
    """The column of a plan's rows that holds its trips' km and what it measures: ``("road_km", "road")``
    on a road network, else ``("distance_km", "straight line")``."""
    return ("road_km", "road") if "road_km" in rows else ("distance_km", "straight line")


def flows_table(res: RunResult, *, towns: pd.Series | None = None) -> pd.DataFrame:
    """Assigned businesses per (origin town, estate): ``town``, ``estate_id``, ``estate_name``,
    ``units``, ``land_ha``, ``mean_km`` (the mean trip: road km on roads, else straight), ``km_basis``
    (``road`` or ``straight line``) and, on roads, ``mean_minutes``. ``towns``: :func:`origins` of ``res``,
    when already worked out.

    Parameters
    ----------
    res
        A finished run (its plan's rows, estates layer and urban layer for the towns).
    towns
        Each business's origin town by ``biz_id`` (:func:`origins`); None (default) works it out.

    Returns
    -------
    pandas.DataFrame
        One row per (town, estate) with assigned businesses, sorted by town then estate, with the columns
        above; ``land_ha`` in hectares, ``mean_km`` in km, ``mean_minutes`` in minutes. No rows (the same
        columns) when no business is assigned.
    """
    rows = res.plan.rows
    a = rows[rows["status"] == "assigned"].copy()
    km, basis = trip_basis(rows)
    cols = ["town", "estate_id", "estate_name", "units", "land_ha", "mean_km", "km_basis"] + \
        (["mean_minutes"] if "minutes" in rows else [])
    if not len(a):
        return pd.DataFrame(columns=cols)
    a["town"] = (origins(res) if towns is None else towns).reindex(a["biz_id"]).to_numpy()
    est = res.prep.region.layers["estates"]
    names = dict(zip(est["estate_id"], est["name"]))
    agg = {"units": ("biz_id", "size"), "land_m2": ("land_m2", "sum"), "mean_km": (km, "mean")}
    if "minutes" in rows:
        agg["mean_minutes"] = ("minutes", "mean")
    t = a.groupby(["town", "estate_id"], sort=True).agg(**agg)
    t = t.reset_index()
    t["estate_name"] = t["estate_id"].map(names)
    t["land_ha"] = (t.pop("land_m2") / M2_PER_HA).round(3)
    t["mean_km"] = t["mean_km"].round(2)
    t["km_basis"] = basis
    if "mean_minutes" in t:
        t["mean_minutes"] = t["mean_minutes"].round(1)
    return t[cols]


def _estate_names(res: RunResult) -> dict[object, object]:
    est = res.prep.region.layers["estates"]
    return dict(zip(est["estate_id"], est["name"] if "name" in est else est["estate_id"]))


def _category_fa(res: RunResult) -> dict[object, object]:
    cat = res.prep.catalogue.table
    return dict(zip(cat["code"], cat["name_fa"]))


#: relocation.csv's columns, in order (optional ones, such as ``zone_id`` or ``plot_id``, only when the
#: plan has them)
RELOCATION_COLUMNS = ["biz_id", "name", "category", "category_fa", "class_by", "class_confidence", "lon", "lat",
                      "estate_id", "estate_name",
                      "zone_id", "distance_km", "road_km", "minutes", "land_m2", "status", "reason_code", "reason", "reason_fa",
                      "site_id", "plot_id", "plot_reason", "phase", "phase_estate"]


def relocation_table(res: RunResult) -> pd.DataFrame:
    """The ``relocation.csv`` table: one row per business with where it goes, or why it stays.

    Parameters
    ----------
    res
        A finished run (its plan's rows, catalogue, estates and businesses; its programme's phasing when
        there is one).

    Returns
    -------
    pandas.DataFrame
        :data:`RELOCATION_COLUMNS` (those the plan has): the plan's rows plus ``category_fa`` (the
        catalogue's Persian name), ``estate_name``, ``reason_code`` (:data:`siteplan.relocation.reasons.REASON_CODES`,
        empty when assigned) and ``reason_fa`` (the reason in Persian); with ``programme.phases``, last,
        ``phase`` and ``phase_estate`` (:mod:`siteplan.programme.phasing`).
    """
    from ..relocation.reasons import reason_codes, reason_fa

    rows = res.plan.rows.copy()
    rows["category_fa"] = rows["category"].map(_category_fa(res))
    rows["estate_name"] = rows["estate_id"].map(_estate_names(res))
    biz = res.prep.businesses
    if "class_by" in biz and "biz_id" in biz:
        # how each category was found (category, isic, osm_tag, keyword, model, label; empty: not decided)
        # and its calibrated confidence (siteplan.guilds.name_model); biz_id is unique (checked by the allocation)
        ids = biz["biz_id"].to_numpy()
        rows["class_by"] = rows["biz_id"].map(dict(zip(ids, biz["class_by"].fillna("")))).fillna("")
        conf = pd.to_numeric(biz["class_conf"], errors="coerce").round(4)
        rows["class_confidence"] = rows["biz_id"].map(dict(zip(ids, conf)))
    rows["reason_code"] = reason_codes(rows["reason"])
    rows["reason_fa"] = reason_fa(rows["reason"])
    phasing = getattr(getattr(res, "programme", None), "phasing", None)
    if phasing is not None:  # programme.phases: the phase placing each business, and where (siteplan.programme.phasing)
        ph = phasing.rows.set_index("biz_id")
        rows["phase"] = rows["biz_id"].map(ph["phase"])
        rows["phase_estate"] = rows["biz_id"].map(ph["phase_estate"])
    return rows[[c for c in RELOCATION_COLUMNS if c in rows]]


def estate_totals(res: RunResult) -> pd.DataFrame:
    """The ``estates.csv`` table: one row per estate with its totals (the only table where capacity and
    land left appear, so that no pivot adds them up per category).

    Parameters
    ----------
    res
        A finished run (its plan's estate summary and the estates layer, in the layer's order).

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``estate_name``, ``kind``, ``capacity_m2``, ``capacity_from``, ``used_m2``,
        ``left_m2``, ``used_share`` (0–1; empty without capacity), ``units``, ``categories`` (how many
        categories move in), ``mean_km`` (the mean trip of its businesses: road km on roads, else straight)
        and ``km_basis`` (``road`` or ``straight line``), on roads ``mean_minutes``.
    """
    summ = res.plan.estate_summary
    est = res.prep.region.layers["estates"]
    g = summ.groupby("estate_id", sort=False).agg(capacity_m2=("capacity_m2", "first"),
                                                  capacity_from=("capacity_from", "first"),
                                                  used_m2=("used_m2", "sum"), units=("units", "sum"),
                                                  categories=("category", "nunique"))
    g = g.reindex(est["estate_id"])
    out = pd.DataFrame({"estate_id": est["estate_id"].to_numpy(),
                        "estate_name": est["name"].to_numpy() if "name" in est else est["estate_id"].to_numpy(),
                        "kind": est["kind"].to_numpy() if "kind" in est else None})
    cap = g["capacity_m2"].fillna(0.0).to_numpy(dtype=float)
    used = g["used_m2"].fillna(0.0).to_numpy(dtype=float)
    out["capacity_m2"] = cap.round(1)
    out["capacity_from"] = g["capacity_from"].fillna("none").to_numpy()
    out["used_m2"] = used.round(1)
    out["left_m2"] = (cap - used).clip(min=0).round(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["used_share"] = np.where(cap > 0, np.round(used / np.where(cap > 0, cap, 1), 4), np.nan)
    out["units"] = g["units"].fillna(0).astype(int).to_numpy()
    out["categories"] = g["categories"].fillna(0).astype(int).to_numpy()
    rows = res.plan.rows
    km, basis = trip_basis(rows)
    a = rows[rows["status"] == "assigned"]
    out["mean_km"] = out["estate_id"].map(a.groupby("estate_id")[km].mean().round(2)).to_numpy(float)
    out["km_basis"] = basis
    if "minutes" in rows:
        out["mean_minutes"] = out["estate_id"].map(a.groupby("estate_id")["minutes"].mean().round(1)).to_numpy(float)
    return out


def estate_category_table(res: RunResult) -> pd.DataFrame:
    """estate_summary.csv: per estate and category that moves in, only what belongs to that pair.

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``estate_name``, ``category``, ``category_fa``, ``units``, ``used_m2`` and
        ``share_of_estate_used`` (this category's part of the land used in the estate). Every column
        that can be summed adds up correctly over any grouping; estate totals (capacity, land left)
        are in :func:`estate_totals`.
    """
    summ = res.plan.estate_summary
    s = summ[summ["category"].notna() & (summ["units"] > 0)].copy()
    cols = ["estate_id", "estate_name", "category", "category_fa", "units", "used_m2", "share_of_estate_used"]
    if not len(s):
        return pd.DataFrame(columns=cols)
    s["estate_name"] = s["estate_id"].map(_estate_names(res))
    s["category_fa"] = s["category"].map(_category_fa(res))
    tot = s.groupby("estate_id")["used_m2"].transform("sum")
    s["share_of_estate_used"] = np.where(tot > 0, (s["used_m2"] / tot.where(tot > 0, 1)).round(4), 0.0)
    s["used_m2"] = s["used_m2"].round(1)
    s["units"] = s["units"].astype(int)
    return s.sort_values(["estate_id", "category"], kind="mergesort")[cols].reset_index(drop=True)


def flow_lines(res: RunResult) -> gpd.GeoDataFrame:
    """flows.geojson: one straight line per (origin town, estate) of the plan, from the town's centroid
    to the estate's, in the working CRS: ``town``, ``estate_id``, ``estate_name``, ``units``."""
    import geopandas as gpd

    crs = res.prep.region.crs
    cols = ["town", "estate_id", "estate_name", "units"]
    fl = res.flows
    if fl is None or not len(fl):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    urban = res.prep.region.layers["urban"]
    est = res.prep.region.layers["estates"]
    a = urban.geometry.centroid.values[fl["origin"].to_numpy(dtype=int)]
    pos = pd.Series(np.arange(len(est)), index=est["estate_id"].to_numpy())
    b = est.geometry.centroid.values[pos.loc[fl["estate_id"]].to_numpy()]
    lines = shapely.linestrings(np.stack([np.stack([shapely.get_x(a), shapely.get_y(a)], axis=1),
                                          np.stack([shapely.get_x(b), shapely.get_y(b)], axis=1)], axis=1))
    return gpd.GeoDataFrame({"town": fl["origin_name"].to_numpy(), "estate_id": fl["estate_id"].to_numpy(),
                             "estate_name": fl["estate_id"].map(_estate_names(res)).to_numpy(),
                             "units": fl["units"].astype(int).to_numpy()}, geometry=lines, crs=crs)
