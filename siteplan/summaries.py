"""Planning summaries of a run: where the businesses come from (per town, per county when the data has
counties) and where they go (per origin town and estate). Pure aggregations of the plan, written as
``towns.csv``, ``counties.csv`` and ``flows.csv`` by :func:`siteplan.export.write_run`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import shapely

from .units import M2_PER_HA

if TYPE_CHECKING:
    from .results import RunResult

__all__ = ["origins", "origin_table", "flows_table"]


def origins(res: "RunResult") -> pd.Series:
    """The origin town of every business of the plan (the nearest settlement), by ``biz_id``."""
    urban = res.prep.region.layers["urban"]
    rows = res.plan.rows
    if not len(rows) or not len(urban):
        return pd.Series([None] * len(rows), index=rows["biz_id"].to_numpy(), dtype=object)
    pts = res.prep.businesses.set_index("biz_id").loc[rows["biz_id"]].geometry.values
    nearest = shapely.STRtree(urban.geometry.values).query_nearest(pts, all_matches=False)[1]
    return pd.Series(urban["name"].to_numpy()[nearest], index=rows["biz_id"].to_numpy(), dtype=object)


def _destinations(g: pd.DataFrame) -> str:
    """``E01 (120); E03 (40)`` — the estates a group's assigned businesses go to, most first."""
    c = g.loc[g["status"] == "assigned", "estate_id"].value_counts()
    return "; ".join(f"{e} ({n})" for e, n in c.items())


def origin_table(res: "RunResult", by: str = "town") -> pd.DataFrame | None:
    """Businesses per origin: counts, assigned and unassigned, land, and where they go.

    Parameters
    ----------
    res
        A finished run.
    by
        ``town`` (nearest settlement) or ``county`` (the businesses layer's ``county`` field; None
        when the data has none).

    Returns
    -------
    pandas.DataFrame or None
        One row per origin: ``<by>``, ``businesses``, ``assigned``, ``unassigned``, ``unclassified``,
        ``land_ha`` (of the classified ones), ``destinations``; sorted by businesses, most first.
    """
    rows = res.plan.rows.copy()
    if by == "town":
        rows[by] = origins(res).reindex(rows["biz_id"]).to_numpy()
    else:
        biz = res.prep.businesses
        if by not in biz or biz[by].isna().all():
            return None
        rows[by] = biz.set_index("biz_id")[by].reindex(rows["biz_id"]).to_numpy()
    rows[by] = rows[by].fillna("(unknown)")
    out = []
    for key, g in rows.groupby(by, sort=True):
        out.append({by: key, "businesses": len(g), "assigned": int((g["status"] == "assigned").sum()),
                    "unassigned": int((g["status"] == "unassigned").sum()),
                    "unclassified": int(g["category"].isna().sum()),
                    "land_ha": round(float(g["land_m2"].sum()) / M2_PER_HA, 3), "destinations": _destinations(g)})
    t = pd.DataFrame(out, columns=[by, "businesses", "assigned", "unassigned", "unclassified", "land_ha",
                                   "destinations"])
    return t.sort_values(["businesses", by], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def flows_table(res: "RunResult") -> pd.DataFrame:
    """Assigned businesses per (origin town, estate): ``town``, ``estate_id``, ``estate_name``,
    ``units``, ``land_ha``."""
    rows = res.plan.rows
    a = rows[rows["status"] == "assigned"].copy()
    cols = ["town", "estate_id", "estate_name", "units", "land_ha"]
    if not len(a):
        return pd.DataFrame(columns=cols)
    a["town"] = origins(res).reindex(a["biz_id"]).to_numpy()
    est = res.prep.region.layers["estates"]
    names = dict(zip(est["estate_id"], est["name"]))
    t = a.groupby(["town", "estate_id"], sort=True).agg(units=("biz_id", "size"), land_m2=("land_m2", "sum"))
    t = t.reset_index()
    t["estate_name"] = t["estate_id"].map(names)
    t["land_ha"] = (t.pop("land_m2") / M2_PER_HA).round(3)
    return t[cols]
