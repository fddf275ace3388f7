"""Explaining a place: which siting rules pass or fail there (with distances) and how each criterion
contributes to its suitability.

Two sources answer through the same code (:func:`_answer`): a prepared scenario (:func:`explain`) and a
finished run's ``explain/`` folder (:func:`explain_run`), which holds what the answer needs — each
category's rules and weights, the rule targets and the study area (WKB), the criterion rasters (raw
and transformed), the slope raster, the estates with their criterion means, usable land and
eligibility as the run computed them. This module imports no GDAL or geopandas, so that explaining
from a run takes well under a second.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from ..common.textnorm import number_text
from ..errors import InputError
from ..rules.rulecheck import check_rules, slope_at
from .explain_source import EXPLAIN_DIR as EXPLAIN_DIR
from .explain_source import ExplainSource as ExplainSource
from .explain_source import resolve

if TYPE_CHECKING:
    from ..results import Prepared

__all__ = ["Explanation", "ExplainSource", "explain", "explain_run", "parse_point", "EXPLAIN_DIR"]


@dataclass(frozen=True)
class Explanation:
    """Rules and criteria at one place for one category.

    Parameters
    ----------
    category
        The catalogue code explained.
    where
        The place in words: ``LON, LAT`` (degrees, 6 decimals) or ``estate ID (name)``.
    rules
        One row per siting rule (:func:`siteplan.rules.rulecheck.check_rules`): ``rule_id``, ``group``,
        ``required_m``, ``actual_m`` (metres; inf when the data has no such feature), ``passed``,
        ``description``.
    criteria
        One row per criterion of the category: ``criterion``, ``raw`` (the raw value), ``value`` (its
        0–1 score), ``weight`` and ``contribution`` (weight × value); NaN off the grid.
    score
        The suitability (the sum of the contributions, 0–1; NaN off the grid or with no criterion).
    allowed
        At a point: every rule passes; at an estate: the estate is eligible for the category.
    usable
        At an estate: its usable land in words (ha satisfying every rule, and the binding rule); else empty.
    estate_reasons
        At an estate: why it is not eligible, one reason each (empty when it is, or at a point).
    routes
        At a point: the routes to the estates within the reach, cheapest first
        (:func:`siteplan.relocation.roads.routes_from`); None at an estate or without an allocation.
    travel
        How the routes are measured: ``road`` or ``straight``.
    """

    category: str
    where: str
    rules: pd.DataFrame
    criteria: pd.DataFrame
    score: float
    allowed: bool
    usable: str = ""
    estate_reasons: tuple[str, ...] = ()
    #: at a point: the routes to the estates within the reach, cheapest first (:func:`siteplan.relocation.roads.routes_from`)
    routes: pd.DataFrame | None = None
    #: how the routes are measured: ``road`` or ``straight``
    travel: str = "straight"

    def as_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready data (as ``siteplan explain --format json`` prints it).

        Returns
        -------
        dict
            ``category``, ``where``, ``allowed``, ``score`` (rounded to 6 decimals; ``None`` off the
            grid), ``estate_reasons``, and ``rules`` and ``criteria`` as lists of records (an infinite
            distance, no feature in the data, becomes ``None``).
        """
        return {"category": self.category, "where": self.where, "allowed": self.allowed,
                "score": round(self.score, 6) if np.isfinite(self.score) else None,
                "estate_reasons": list(self.estate_reasons),
                **({"travel": self.travel, "routes": json.loads(self.routes.to_json(orient="records"))}
                   if self.routes is not None else {}),
                "rules": json.loads(self.rules.replace([np.inf], None).to_json(orient="records")),
                "criteria": json.loads(self.criteria.to_json(orient="records"))}

    def lines(self) -> list[str]:
        """Human-readable lines."""
        verdict = "ALLOWED" if self.allowed else "EXCLUDED"
        if self.usable and self.allowed and not self.rules.passed.all():
            verdict = "ALLOWED on part of the estate"
        score = f"suitability {self.score:.3f}" if np.isfinite(self.score) else "no suitability (off the grid)"
        out = [f"{self.category} at {self.where}: {verdict}; {score}"] + ([self.usable] if self.usable else [])
        if self.estate_reasons:
            out += ["", "the estate cannot take this category (as in relocation):"]
            out += [f"  - {r}" for r in self.estate_reasons]
        out += ["", "rules (edge-to-edge distance to the nearest feature):"]
        for r in self.rules.itertuples():
            if r.group == "slope":
                act = "no DEM value" if not np.isfinite(r.actual_m) else f"{r.actual_m:.1f} %"
                need = f"at most {r.required_m:g} %"
            elif r.group == "study_area":
                act = "inside" if r.passed else f"outside by {r.actual_m:.1f} m"
                need = "inside"
            else:
                act = "none in the data" if not np.isfinite(r.actual_m) else f"{r.actual_m:.1f} m"
                need = f"{r.required_m:g} m"
            out.append(f"  {'pass' if r.passed else 'FAIL'}  {r.rule_id:28s} needs {need}, "
                       f"actual {act} — {r.description}")
        if self.routes is not None:
            if self.travel == "road":
                leg = float(self.routes["leg_km"].iat[0]) if len(self.routes) else float("nan")
                out += ["", "routes by road to the estates within reach (shortest km, fastest minutes; "
                        + (f"off-road leg {leg:.2f} km" if np.isfinite(leg) else "no estate within reach") + "):"]
                out += [f"  {r.estate_id:12s} {r.road_km:8.2f} km by road {r.minutes:7.1f} min   "
                        f"(straight {r.straight_km:.2f} km)" for r in self.routes.itertuples()]
            else:
                out += ["", "estates within reach in a straight line (no roads layer or distance: straight):"]
                out += [f"  {r.estate_id:12s} {r.straight_km:8.2f} km straight" for r in self.routes.itertuples()]
        out += ["", "criteria (raw value → transformed × weight = contribution):"]
        w = max([18, *(len(str(c)) for c in self.criteria.criterion)])  # a long criterion name keeps the columns
        for c in self.criteria.itertuples():
            out.append(f"  {c.criterion:{w}s} {c.raw:14.2f} → {c.value:.3f} × {c.weight:.3f} = {c.contribution:.3f}")
        out.append(f"  {'total':{w}s} {'':14s}   {'':5s}   {'':5s}   {self.criteria.contribution.sum():.3f}")
        return out


def parse_point(text: str) -> tuple[float, float]:
    """Parse a point given as ``LON,LAT`` in degrees (``explain --at``).

    Parameters
    ----------
    text
        Two numbers separated by a comma; Persian or Arabic-Indic digits, the Persian decimal separator
        ``٫`` and the Arabic comma ``،`` are accepted.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    InputError
        Not two finite numbers, or a longitude beyond ±180° or a latitude beyond ±90°.

    Examples
    --------
    >>> parse_point("۵۱.۶۷،۳۲.۶۵")
    (51.67, 32.65)
    """
    try:
        lon, lat = (float(v) for v in number_text(text).replace("،", ",").split(","))
    except ValueError:
        raise InputError(f"--at: {text!r} is not LON,LAT (e.g. --at 51.67,32.65)") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError(f"--at: {text!r} is not a place: longitude and latitude must be finite numbers "
                         "(e.g. --at 51.67,32.65)")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"--at: {text!r} is not a place: the longitude must be within ±180 and the latitude within "
                         "±90 degrees (LON,LAT order, e.g. --at 51.67,32.65)")
    return lon, lat



def explain(prep: Prepared, category: str, *, at: tuple[float, float] | None = None,
            estate: str | None = None) -> Explanation:
    """Explain one category at a point (lon, lat in degrees) or an estate of a prepared scenario.

    Parameters
    ----------
    prep
        :class:`siteplan.results.Prepared`.
    category
        Catalogue code.
    at
        (lon, lat) in EPSG:4326.
    estate
        An ``estate_id``.

    Returns
    -------
    Explanation
        The rules, criteria, score and verdict there (with the routes to the estates at a point, the
        usable land and reasons at an estate).

    Raises
    ------
    InputError
        Unknown category or estate, or neither/both of ``at`` and ``estate``.
    """
    return _answer(ExplainSource.from_prepared(prep), category, at=at, estate=estate)


def explain_run(run_dir: str | Path, category: str, *, at: tuple[float, float] | None = None,
                estate: str | None = None) -> Explanation:
    """:func:`explain` answered from a finished run's ``explain/`` folder: the same answer as on the
    scenario the run was made from, without recomputing anything.

    Parameters
    ----------
    run_dir
        The folder ``siteplan run`` wrote.
    category, at, estate
        As for :func:`explain`.

    Returns
    -------
    Explanation
        The same explanation :func:`explain` gives on the run's scenario.

    Raises
    ------
    InputError
        As :func:`explain`; and a folder without (readable) explain data.
    """
    return _answer(ExplainSource.load(run_dir), category, at=at, estate=estate)


def _to_working(at: tuple[float, float], crs: Any) -> BaseGeometry:
    """The point (lon, lat in EPSG:4326) in the working CRS."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(at[0], at[1])
    return Point(float(x), float(y))


def _routes(src: ExplainSource, point: BaseGeometry) -> pd.DataFrame | None:
    """The routes from a point to the estates within the reach (:func:`siteplan.relocation.roads.routes_from`):
    from the costs a run stored when it did, else routed on the network (or measured straight)."""
    if src.allocation is None or not src.estates:
        return None
    ids = list(src.estates)
    geoms = np.array([src.estates[e][1] for e in ids], dtype=object)
    got = src.routes(point, geoms, ids) if src.routes is not None else None
    if got is not None:
        return got
    from ..relocation.roads import routes_from

    return routes_from(resolve(src.network), point, geoms, ids, resolve(src.allocation))


def _refuse_swapped(at: tuple[float, float], geom: BaseGeometry, src: ExplainSource) -> None:
    """A point outside the study area whose LAT,LON reading lies inside it was given in the wrong order."""
    lon, lat = at
    if abs(lon) > 90 or src.study_area.is_empty or src.study_area.contains(geom):
        return
    if src.study_area.contains(_to_working((lat, lon), src.crs)):
        raise InputError(f"--at {lon:g},{lat:g} lies outside the study area, but {lat:g},{lon:g} lies inside it: "
                         f"--at takes LON,LAT (longitude first), e.g. --at {lat:g},{lon:g}")


def _answer(src: ExplainSource, category: str, *, at: tuple[float, float] | None = None,
            estate: str | None = None) -> Explanation:
    """The explanation from either source (:func:`explain`, :func:`explain_run`)."""
    if category not in src.weights:
        from ..common.vocab import did_you_mean

        raise InputError(f"--category: '{category}' is not in scope (known: {', '.join(src.codes)})"
                         + did_you_mean(category, src.codes))
    if (at is None) == (estate is None):
        raise InputError("give exactly one of --at LON,LAT or --estate ID")
    estate = estate.strip() if estate is not None else None
    if at is not None:
        geom: BaseGeometry = _to_working(at, src.crs)
        _refuse_swapped(at, geom, src)
        where = f"{at[0]:.6f}, {at[1]:.6f}"
    else:
        estate = str(estate)
        if estate not in src.estates:
            raise InputError(f"--estate: no estate with estate_id '{estate}' (e.g. {', '.join(list(src.estates)[:5])})")
        name, geom = src.estates[estate]
        where = f"estate {estate} ({name})"
    grid = src.grid
    rules = check_rules(src.rules[category], np.array([geom]), None, src.target, src.study_area,
                        lambda g: slope_at(src.slope, grid, g))
    rows = []
    for name, w in src.weights[category].items():
        if at is not None:
            r, col = grid.rowcol(np.array([geom.x]), np.array([geom.y]))
            if not (0 <= r[0] < grid.height and 0 <= col[0] < grid.width):
                raw = val = float("nan")  # off the grid: the study-area rule says why
            else:
                craw, cscore = src.criterion(name)
                raw, val = float(craw[r[0], col[0]]), float(cscore[r[0], col[0]])
        else:
            raw, val = src.estate_criterion(cast("str", estate), name)
        rows.append({"criterion": name, "raw": raw, "value": val, "weight": w, "contribution": w * val})
    crit = pd.DataFrame(rows)
    usable = ""
    allowed = bool(rules.passed.all())
    estate_why: tuple[str, ...] = ()
    if estate is not None:
        u = src.estate_facts(category, estate)
        usable = (f"usable land: {u.usable_ha:.2f} of {u.area_ha:.2f} ha satisfy every rule"
                  + (f" (binding: {u.binding}, removes {u.removed_ha:.2f} ha)" if u.binding else ""))
        allowed = u.eligible
        estate_why = tuple(x for x in u.reason.split("; ") if x)
    score = float(crit.contribution.sum()) if len(crit) else float("nan")
    routes = _routes(src, geom) if at is not None else None
    return Explanation(category, where, rules, crit, score, allowed, usable, estate_why, routes,
                       "road" if src.network is not None else "straight")
