"""The options for the unassigned demand side by side: estate upgrades and new sites, ranked.

:func:`compare_options` puts :func:`siteplan.locate.upgrades.propose_upgrades`'s upgrades and the proposed
sites (:func:`siteplan.locate.ranking.propose_sites`) in one table (``options.csv``), ranked by the
unassigned businesses each would place; :func:`option_notes` says the best of them in words.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["OPTION_COLUMNS", "compare_options", "option_notes", "site_contribution"]

#: the columns of ``options.csv``
OPTION_COLUMNS = ("rank", "option", "id", "what", "businesses", "land_ha", "mean_km", "cost_proxy", "figure",
                  "sized_by", "contribution")


def compare_options(upgrades: pd.DataFrame, sites: gpd.GeoDataFrame, takes: pd.DataFrame,
                    unit: str = "ha·km") -> pd.DataFrame:
    """Upgrades and new sites side by side, ranked by the unassigned businesses each would place.

    Parameters
    ----------
    upgrades
        :func:`propose_upgrades` output.
    sites
        Proposed sites (``site_id``, ``chain``, ``area_ha``, ``units``, ``land_ha``, ``extend``, and
        ``sized_by``/``sizing`` when the site's area was set by a scenario bound).
    takes
        ``biz_id``, ``site_id``, ``site_km`` (who each site would take).
    unit
        The unit of the sites' objective (the manifest's ``site_choice.objective_unit``: ``ha·km`` or
        ``ha·min``), written after each site's contribution.

    Returns
    -------
    pandas.DataFrame
        :data:`OPTION_COLUMNS`: ``rank``, ``option`` (``upgrade`` or ``new site``), ``id`` (estate or site),
        ``what``, ``businesses``, ``land_ha``, ``mean_km`` (distance of the businesses placed),
        ``cost_proxy``, ``figure`` (``rerun``: the plan re-solved with the upgrade; ``estimate``: the
        upgrade's local estimate, not verified; ``site allocation``: the unassigned allocated to the
        proposed sites), ``sized_by`` (sites: ``demand``, ``min_area_ha``, ``max_area_ha`` or ``area_ha``),
        ``contribution`` (sites: :func:`site_contribution`); most businesses first, then the shorter trips.
    """
    rows = []
    for r in upgrades.itertuples():
        verified = getattr(r, "figure", "rerun") == "rerun"
        n = r.businesses if verified else getattr(r, "businesses_est", r.businesses)
        land = r.land_ha if verified else getattr(r, "land_ha_est", r.land_ha)
        what = r.upgrade if verified else f"{r.upgrade} (estimate: not verified by re-solving the plan)"
        rows.append({"option": "upgrade", "id": r.estate_id, "what": what, "businesses": int(n),
                     "land_ha": float(land), "mean_km": float(r.mean_km), "cost_proxy": r.cost_proxy,
                     "figure": "rerun" if verified else "estimate", "sized_by": "", "contribution": ""})
    km = takes.groupby("site_id")["site_km"].mean() if len(takes) else pd.Series(dtype=float)
    for s in sites.itertuples():
        sized_by = str(getattr(s, "sized_by", "") or "")
        sizing = str(getattr(s, "sizing", "") or "")
        note = f"; {sizing}" if sizing and sized_by != "demand" else ""
        rows.append({"option": "new site", "id": s.site_id,
                     "what": f"new {s.chain} estate of {s.area_ha:g} ha ({s.categories}){note}",
                     "businesses": int(s.units), "land_ha": float(s.land_ha),
                     "mean_km": round(float(km.get(s.site_id, np.nan)), 2),
                     "cost_proxy": f"a new estate of {s.area_ha:g} ha; extend: {s.extend}",
                     "figure": "site allocation", "sized_by": sized_by, "contribution": site_contribution(s, unit)})
    cols = list(OPTION_COLUMNS)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    t = pd.DataFrame(rows).sort_values(["businesses", "mean_km", "option", "id"], ascending=[False, True, True, True],
                                       kind="mergesort", na_position="last").reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1)
    return t[cols]


def site_contribution(s: Any, unit: str = "ha·km") -> str:
    """A proposed site's proven contribution in words (options.csv ``contribution``): what closing it
    costs with the other sites re-optimised (:func:`siteplan.locate.sitechoice.choose_sites`), in ``unit`` (the
    objective's: ``ha·km`` or ``ha·min``)."""
    if getattr(s, "contribution", None) is None or pd.isna(s.contribution):
        return ""
    more = int(getattr(s, "unserved_without", 0) or 0)
    left = f"{more} more businesses unserved" if more else "no business left unserved"
    return (f"closing it, the rest re-optimised: {left}, objective +{s.contribution:g} {unit} "
            f"(proven between +{s.contribution_lo:g} and +{s.contribution_hi:g} {unit})")


def option_notes(options: pd.DataFrame, top: int = 3) -> list[str]:
    """The best options in words, for the warnings and the report's summary.

    Parameters
    ----------
    options
        The ranked options (:func:`compare_options`' output, best first).
    top
        How many of the first rows to say (all of them when fewer).

    Returns
    -------
    list of str
        One English sentence per option, ``options: #rank option id: ...`` with the businesses it would
        place, its land (ha), mean distance (km) when known and its cost proxy; empty when there are none.
    """
    out = []
    for r in options.head(top).itertuples():
        km = "" if pd.isna(r.mean_km) else f", {r.mean_km:g} km on average"
        fig = getattr(r, "figure", "")
        gain = {"rerun": f"{r.businesses} more businesses (net, the plan re-solved with it)",
                "estimate": f"about {r.businesses} more businesses (an estimate)"}.get(
                    fig, f"{r.businesses} unassigned businesses")
        out.append(f"options: #{r.rank} {r.option} {r.id}: {r.what} would place {gain} ({r.land_ha:g} ha{km}); "
                   f"{r.cost_proxy}")
    return out
