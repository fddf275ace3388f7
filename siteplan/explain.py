"""Explaining a place: which siting rules pass or fail there (with distances) and how each criterion
contributes to its suitability."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from .errors import InputError
from .suitability import zonal_mean
from .textnorm import to_ascii_digits

if TYPE_CHECKING:
    from .results import Prepared

__all__ = ["Explanation", "explain", "parse_point"]


@dataclass(frozen=True)
class Explanation:
    """Rules and criteria at one place for one category."""

    category: str
    where: str
    rules: pd.DataFrame
    criteria: pd.DataFrame
    score: float
    allowed: bool
    usable: str = ""
    estate_reasons: tuple[str, ...] = ()

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
        out += ["", "criteria (raw value → transformed × weight = contribution):"]
        for c in self.criteria.itertuples():
            out.append(f"  {c.criterion:18s} {c.raw:14.2f} → {c.value:.3f} × {c.weight:.3f} = {c.contribution:.3f}")
        out.append(f"  {'total':18s} {'':14s}   {'':5s}   {'':5s}   {self.criteria.contribution.sum():.3f}")
        return out


def parse_point(text: str) -> tuple[float, float]:
    """Parse a point given as ``LON,LAT`` in degrees (``explain --at``).

    Parameters
    ----------
    text
        Two numbers separated by a comma; Persian or Arabic-Indic digits and the Arabic comma ``،``
        are accepted.

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
        lon, lat = (float(v) for v in to_ascii_digits(text).replace("،", ",").split(","))
    except ValueError:
        raise InputError(f"--at: {text!r} is not LON,LAT (e.g. --at 51.67,32.65)") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError(f"--at: {text!r} is not a place: longitude and latitude must be finite numbers "
                         "(e.g. --at 51.67,32.65)")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"--at: {text!r} is not a place: the longitude must be within ±180 and the latitude within "
                         "±90 degrees (LON,LAT order, e.g. --at 51.67,32.65)")
    return lon, lat


def explain(prep: "Prepared", category: str, *, at: tuple[float, float] | None = None,
            estate: str | None = None) -> Explanation:
    """Explain one category at a point (lon, lat in degrees) or an estate.

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

    Raises
    ------
    InputError
        Unknown category or estate, or neither/both of ``at`` and ``estate``.
    """
    p = prep
    if category not in p.surfaces:
        raise InputError(f"--category: '{category}' is not in scope (known: {', '.join(p.codes)})")
    if (at is None) == (estate is None):
        raise InputError("give exactly one of --at LON,LAT or --estate ID")
    layers = p.region.layers
    if at is not None:
        geom: BaseGeometry = gpd.GeoSeries([Point(at)], crs=4326).to_crs(p.region.crs).iloc[0]
        where = f"{at[0]:.6f}, {at[1]:.6f}"
    else:
        est = layers["estates"]
        sel = est[est["estate_id"] == estate]
        if sel.empty:
            raise InputError(f"--estate: no estate with estate_id '{estate}' (e.g. {', '.join(est.estate_id.head(5))})")
        geom = sel.geometry.iloc[0]
        where = f"estate {estate} ({sel['name'].iloc[0]})"
    ruleset = p.rules[category]
    rules = ruleset.check(np.array([geom]))
    surf = p.surfaces[category]
    grid = p.grid
    by_name = {c.spec.name: c for c in p.crit}
    rows = []
    for name, w in surf.weights.items():
        c = by_name[name]
        if at is not None:
            r, col = grid.rowcol(np.array([geom.x]), np.array([geom.y]))
            if not (0 <= r[0] < grid.height and 0 <= col[0] < grid.width):
                raw = val = float("nan")  # off the grid: the study-area rule says why
            else:
                raw, val = float(c.raw[r[0], col[0]]), float(c.score[r[0], col[0]])
        else:
            raw = float(zonal_mean(c.raw.astype(np.float64), np.array([geom]), grid)[0])
            val = float(zonal_mean(c.score.astype(np.float64), np.array([geom]), grid)[0])
        rows.append({"criterion": name, "raw": raw, "value": val, "weight": w, "contribution": w * val})
    crit = pd.DataFrame(rows)
    usable = ""
    allowed = bool(rules.passed.all())
    estate_why: tuple[str, ...] = ()
    if estate is not None:
        # the same answer relocation uses: estate kind, max_cat, utilities and usable land
        from .rules import eligibility, usable_land

        one = {category: ruleset}
        u_all = usable_land(sel, one)
        u = u_all.iloc[0]
        from .reservations import estate_reservations

        # every reservation is checked against the whole estates layer (one naming another estate is
        # valid), then only this estate's is applied
        reserved = estate_reservations(p.scenario, layers["estates"], p.catalogue)
        el = eligibility(sel, one, u_all, p.scenario.allocation.accepted_kinds, reserved).iloc[0]
        usable = (f"usable land: {u.usable_ha:.2f} of {u.area_ha:.2f} ha satisfy every rule"
                  + (f" (binding: {u.binding}, removes {u.removed_ha:.2f} ha)" if u.binding else ""))
        allowed = bool(el.eligible)
        estate_why = tuple(x for x in str(el.reason).split("; ") if x)
    score = float(crit.contribution.sum()) if len(crit) else float("nan")
    return Explanation(category, where, rules, crit, score, allowed, usable, estate_why)
