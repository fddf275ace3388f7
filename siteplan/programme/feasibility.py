"""Feasibility sheet of each proposed site and each upgrade (``feasibility.csv``, the report's printable
section): land, utilities to extend, access road, unit costs, what it serves and relieves.

* **Land** (sites): ``gross_ha`` and ``net_ha`` as sites.geojson gives them (net = gross ×
  ``allocation.net_to_gross``; ``roads_buffers_ha`` the difference), plots by size from the site's
  capacity per category and the catalogue's ``plot_m2``.
* **Utilities to extend**: every utility the categories need (the catalogue's ``utilities``, through the
  rules; an upgrade: the utilities it adds), with the length from the site or estate to the nearest
  network of it in the utilities layer (sites.geojson's ``<utility>_km``, :func:`siteplan.locate.upgrades.network_km`). A network
  within :data:`siteplan.locate.ranking.EXTEND_KM` counts as at hand (length 0); a utility with no network in the
  inputs is listed with an unknown length and is not costed (``not_costed`` says so).
* **Access road**: the straight distance to the nearest road of the roads layer (0 for an upgrade of
  an existing estate).
* **Costs**: lengths and areas × the unit costs of ``siteplan/data/unit_costs.csv`` (every shipped
  figure an assumption, in million rials) or ``programme.unit_costs``; land and site works on the gross
  area of a new site only.
* **Served**: businesses and land from relocation.csv (``site_id``) or the upgrade's row; residents
  relieved from impact.csv; cost per business and per resident relieved.
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA, M_PER_KM
from ..locate.ranking import EXTEND_KM
from ..locate.upgrades import network_km
from ..rules.ruleset import UTILITIES
from .impact import upgrade_figure

if TYPE_CHECKING:
    from ..results import RunResult
    from ..scenario import Scenario

__all__ = ["FEASIBILITY_COLUMNS", "COST_ITEMS", "unit_costs", "feasibility_table"]

#: the cost items of the unit-cost table
COST_ITEMS = ("land", "site_works", "access_road", "power", "gas", "water", "wastewater")
#: the columns of ``feasibility.csv``
FEASIBILITY_COLUMNS = (
    "option", "id", "name", "categories", "gross_ha", "net_ha", "roads_buffers_ha", "plots", "utilities",
    "extend", *(f"{u}_ext_km" for u in UTILITIES), "access_road_km", "businesses", "land_ha",
    "residents_relieved", *(f"cost_{c}" for c in COST_ITEMS), "cost_total", "not_costed", "cost_status",
    "cost_per_business", "cost_per_resident")


def unit_costs(scenario: Scenario) -> pd.DataFrame:
    """The unit costs: ``siteplan/data/unit_costs.csv`` with ``programme.unit_costs`` over it.

    Parameters
    ----------
    scenario
        The scenario; its ``programme.unit_costs`` (item to cost, validated by the scenario: known
        items, costs ≥ 0) replace the shipped costs of those items.

    Returns
    -------
    pandas.DataFrame
        Indexed by item: ``unit``, ``cost``, ``status`` (``assumption`` or ``scenario``), ``source``.
    """
    with resources.files("siteplan").joinpath("data/unit_costs.csv").open("r", encoding="utf-8") as fh:
        rows = {r["item"]: [r["unit"], float(r["cost"]), r["status"], r["source"]] for r in csv.DictReader(fh)}
    for k, v in scenario.programme.unit_costs.items():
        rows[k] = [rows[k][0], float(v), "scenario", "scenario programme.unit_costs"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=["unit", "cost", "status", "source"])


def _road_km(layers: dict[str, Any], geoms: np.ndarray) -> np.ndarray:
    roads = layers.get("roads")
    if roads is None or roads.empty:
        return np.full(len(geoms), np.nan)
    _, d = shapely.STRtree(roads.geometry.values).query_nearest(geoms, return_distance=True, all_matches=False)
    return np.asarray(d, float) / M_PER_KM


def _parse_counts(s: object) -> dict[str, int]:
    """``"a:3, b:4"`` → ``{"a": 3, "b": 4}``."""
    out: dict[str, int] = {}
    for part in str(s or "").split(","):
        k, _, v = part.strip().rpartition(":")
        if k and v.strip().lstrip("-").isdigit():
            out[k.strip()] = int(v)
    return out


def _plots(counts: dict[str, int], plot_m2: dict[str, float]) -> str:
    """Plots by size: ``2000 m² × 18; 500 m² × 40``, largest first."""
    by: dict[float, int] = {}
    for c, n in counts.items():
        size = plot_m2.get(c)
        if size and n > 0:
            by[float(size)] = by.get(float(size), 0) + n
    return "; ".join(f"{s:g} m² × {n}" for s, n in sorted(by.items(), reverse=True))


def _extension(need: list[str], dist: dict[str, np.ndarray | None], i: int, extend_km: float
               ) -> tuple[dict[str, float], str]:
    """Lengths to extend (km; 0 at hand, NaN no network in the inputs) and the words for them."""
    ext: dict[str, float] = {}
    words = []
    for u in need:
        d = dist.get(u)
        km = np.nan if d is None else float(d[i])
        ext[u] = np.nan if not np.isfinite(km) else (round(km, 2) if km > extend_km else 0.0)
        words.append(f"{u}: no network in the inputs" if not np.isfinite(km) else
                     f"{u} {km:.1f} km" if km > extend_km else f"{u} at hand")
    return ext, "; ".join(words) or "none"


def _costed(row: dict[str, Any], costs: pd.DataFrame, gross: float, ext: dict[str, float], road: float) -> None:
    """Add the cost columns to a feasibility row (NaN and ``not_costed`` where a length is unknown)."""
    c = {"land": gross * costs.at["land", "cost"], "site_works": gross * costs.at["site_works", "cost"],
         "access_road": road * costs.at["access_road", "cost"] if np.isfinite(road) else np.nan}
    missing = [] if np.isfinite(road) else ["access_road"]
    for u in UTILITIES:
        km = ext.get(u, 0.0)
        c[u] = km * costs.at[u, "cost"] if np.isfinite(km) else np.nan
        if not np.isfinite(km):
            missing.append(u)
    for k in COST_ITEMS:
        row[f"cost_{k}"] = round(float(c[k]), 1) if np.isfinite(c[k]) else np.nan
    total = float(np.nansum([c[k] for k in COST_ITEMS]))
    row["cost_total"] = round(total, 1)
    row["not_costed"] = ", ".join(missing)
    row["cost_status"] = "scenario" if (costs["status"] == "scenario").all() else "assumption"
    n, people = row["businesses"], row["residents_relieved"]
    if missing and total <= 0:  # nothing costed: no figure per business or resident
        n = people = 0
    row["cost_per_business"] = round(total / n, 1) if n else np.nan
    row["cost_per_resident"] = round(total / people, 2) if people and np.isfinite(people) and people > 0 else np.nan


def _site_rows(res: RunResult, costs: pd.DataFrame, relieved: dict[tuple[str, str], float],
               extend_km: float) -> list[dict[str, Any]]:
    layers = res.prep.region.layers
    cat = res.prep.catalogue.table.set_index("code")
    plot_m2 = pd.to_numeric(cat["plot_m2"], errors="coerce").to_dict() if "plot_m2" in cat else {}
    needs = {c: [u for u in UTILITIES if u in (v if isinstance(v, list) else [])] for c, v in cat["utilities"].items()}
    rows = res.plan.rows
    g = res.sites.geometry.values
    road = _road_km(layers, g)
    dist = {u: (res.sites[f"{u}_km"].to_numpy(float) if f"{u}_km" in res.sites
                else network_km(layers, u, g)) for u in UTILITIES}
    sid = rows["site_id"].to_numpy() if "site_id" in rows else np.full(len(rows), None)
    out = []
    for i, s in enumerate(res.sites.itertuples()):
        codes = [c.strip() for c in str(s.categories).split(",") if c.strip()]
        need = [u for u in UTILITIES if any(u in needs.get(c, []) for c in codes)]
        ext, words = _extension(need, dist, i, extend_km)
        take = rows[sid == s.site_id]
        cap = _parse_counts(getattr(s, "capacity_units", None) or getattr(s, "units", ""))
        gross = float(s.gross_ha)
        row = {"option": "new site", "id": str(s.site_id), "name": f"new {s.chain} estate",
               "categories": ", ".join(codes), "gross_ha": round(gross, 2), "net_ha": round(float(s.net_ha), 2),
               "roads_buffers_ha": round(gross - float(s.net_ha), 2), "plots": _plots(cap, plot_m2),
               "utilities": ", ".join(need), "extend": words,
               **{f"{u}_ext_km": ext.get(u, 0.0) for u in UTILITIES},
               "access_road_km": round(float(road[i]), 2), "businesses": len(take),
               "land_ha": round(float(take["land_m2"].sum()) / M2_PER_HA, 2),
               "residents_relieved": relieved.get(("site", str(s.site_id)), np.nan)}
        _costed(row, costs, gross, ext, float(road[i]))
        out.append(row)
    return out


def _upgrade_rows(res: RunResult, costs: pd.DataFrame, relieved: dict[tuple[str, str], float],
                  extend_km: float) -> list[dict[str, Any]]:
    layers = res.prep.region.layers
    est = layers["estates"]
    geom = dict(zip(est["estate_id"].astype(str), est.geometry.values))
    out: list[dict[str, Any]] = []
    if res.upgrades is None:
        return out
    for r in res.upgrades.itertuples():
        g1 = np.array([geom[str(r.estate_id)]], dtype=object)
        added = [u for u in UTILITIES if re.search(rf"\badd {u}\b", str(r.upgrade))]
        ext, words = _extension(added, {u: network_km(layers, u, g1) for u in added}, 0, extend_km)
        n = upgrade_figure(r, "placed", "businesses", "businesses_est")
        land = upgrade_figure(r, "placed_ha", "land_ha", "land_ha_est")
        key = f"{r.estate_id}#{int(r.rank)}"
        row = {"option": "upgrade", "id": key, "name": str(r.upgrade), "categories": str(r.categories),
               "gross_ha": np.nan, "net_ha": np.nan, "roads_buffers_ha": np.nan, "plots": "",
               "utilities": ", ".join(added), "extend": words,
               **{f"{u}_ext_km": ext.get(u, 0.0) for u in UTILITIES}, "access_road_km": 0.0,
               "businesses": int(n), "land_ha": round(land, 2),
               "residents_relieved": relieved.get(("upgrade", key), np.nan)}
        _costed(row, costs, 0.0, ext, 0.0)
        out.append(row)
    return out


def feasibility_table(res: RunResult, impact: pd.DataFrame | None = None) -> pd.DataFrame:
    """``feasibility.csv``: one row per proposed site and per upgrade (module docstring).

    Parameters
    ----------
    res
        A finished run.
    impact
        Its impact table (:func:`siteplan.programme.impact.impact_table`) for the residents relieved; without it
        the column is empty.

    Returns
    -------
    pandas.DataFrame
        :data:`FEASIBILITY_COLUMNS`; costs in the unit-cost table's currency (million rials by default).
    """
    extend_km = EXTEND_KM  # the sites' own threshold
    costs = unit_costs(res.prep.scenario)
    relieved: dict[tuple[str, str], float] = {}
    if impact is not None and len(impact):
        for r in impact[impact["level"].isin(["site", "upgrade"])].itertuples():
            relieved[(str(r.level), str(r.id))] = float(r.residents_relieved)
    out = _site_rows(res, costs, relieved, extend_km) if len(res.sites) else []
    if res.upgrades is not None and len(res.upgrades):
        out += _upgrade_rows(res, costs, relieved, extend_km)
    return pd.DataFrame(out, columns=list(FEASIBILITY_COLUMNS))
