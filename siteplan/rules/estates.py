"""The estates' side of the rules: the land of each estate each category may use (:func:`usable_land`)
and whether an estate may take a category at all (:func:`eligibility`: its environmental category
against the estate's ``max_cat``, its utilities, the estate's kind, usable land, reservations), with
the reasons for every refusal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..common.units import M2_PER_HA
from .reservations import Reservation, reservation_reasons
from .rulecheck import Rule

__all__ = ["UTILITIES", "eligibility", "env_rank", "estate_reasons", "is_blank", "usable_land"]

#: utilities an estate may lack (0/1 fields of the estates layer)
UTILITIES = ("power", "gas", "water", "wastewater")


class CategoryRules(Protocol):
    """What the estates' side reads of a category's :class:`siteplan.rules.ruleset.RuleSet` (its rules,
    environmental category, utilities and usable part of a polygon); a protocol, so that this module
    sits below the rule set it serves."""

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The category's rules."""

    @property
    def env_cat(self) -> str:
        """The category's environmental category."""

    @property
    def utilities(self) -> tuple[str, ...]:
        """The utilities the category needs."""

    def usable(self, geom: BaseGeometry, *, cache: dict[tuple[Any, ...], BaseGeometry] | None = None
               ) -> tuple[BaseGeometry, dict[str, float]]:
        """The part of ``geom`` that satisfies every rule, and the area (m²) each rule removes."""


def usable_land(estates: gpd.GeoDataFrame, rulesets: Mapping[str, CategoryRules]) -> pd.DataFrame:
    """Area of each estate that satisfies every rule of each category.

    Parameters
    ----------
    estates
        The estates layer (``estate_id``, polygons in the working, metric CRS).
    rulesets
        Each category's siting rules (:func:`siteplan.rules.compile_rulesets`).

    Returns
    -------
    pandas.DataFrame
        One row per (estate, category): ``estate_id``, ``category``, ``area_ha`` (whole estate),
        ``usable_ha``, ``usable_frac``, ``binding`` (the rule removing the most land, or ""),
        ``binding_m`` (its distance) and ``removed_ha`` (land it removes).

    Notes
    -----
    Forbidden land is cut per estate from the targets within reach (STRtree ``dwithin``), so the cost
    grows with the number of estates near targets, not with estates × targets.
    """
    rows = []
    cuts: list[dict[tuple[Any, ...], BaseGeometry]] = [{} for _ in range(len(estates))]  # per estate
    for code, rs in rulesets.items():
        dist = {r.rule_id: (r.max_pct if r.kind == "max_slope" else r.min_m) for r in rs.rules}
        for j, (eid, geom) in enumerate(zip(estates["estate_id"], estates.geometry.values)):
            area = float(geom.area)
            part, removed = rs.usable(geom, cache=cuts[j])
            u = max(float(part.area), 0.0)
            b = max(removed, key=lambda k: removed[k]) if removed else ""
            b = b if b and removed[b] > 1e-6 else ""
            rows.append((eid, code, area / M2_PER_HA, u / M2_PER_HA, u / area if area > 0 else 0.0, b,
                         float(dist.get(b, 0.0) or 0.0) if b else 0.0, removed[b] / M2_PER_HA if b else 0.0))
    return pd.DataFrame(rows, columns=["estate_id", "category", "area_ha", "usable_ha", "usable_frac",
                                       "binding", "binding_m", "removed_ha"])


def env_rank(env: object) -> float:
    """An environmental category (``1`` … ``6``, ``3.1``) as a number to compare; infinite when it is not one."""
    try:
        return float(str(env))
    except ValueError:
        return np.inf


def is_blank(v: object) -> bool:
    """True for a missing field value (None, NA, NaN)."""
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def estate_reasons(estate: object, rs: CategoryRules, accepted_kinds: list[str] | tuple[str, ...]) -> list[str]:
    """Why an estate (a row of the estates layer, as a namedtuple) cannot take the category, apart
    from land: kind, environmental category against ``max_cat``, missing utilities."""
    reasons = []
    kind = getattr(estate, "kind", None)
    if kind and not is_blank(kind) and kind not in accepted_kinds:
        reasons.append(f"estate kind '{kind}' not accepted")
    max_cat = getattr(estate, "max_cat", None)
    if not is_blank(max_cat) and env_rank(rs.env_cat) > env_rank(max_cat) + 1e-9:
        shown = f"{max_cat:g}" if isinstance(max_cat, float) else str(max_cat)
        reasons.append(f"env. category {rs.env_cat} above the estate's max_cat {shown}")
    for util in rs.utilities:
        val = getattr(estate, util, None) if util in UTILITIES else None
        if util in UTILITIES and not is_blank(val) and float(val) < 1:  # type: ignore[arg-type]
            reasons.append(f"no {util}")
    return reasons


def eligibility(estates: gpd.GeoDataFrame, rulesets: Mapping[str, CategoryRules], usable: pd.DataFrame,
                accepted_kinds: list[str] | tuple[str, ...],
                reservations: dict[str, Reservation] | None = None) -> pd.DataFrame:
    """Whether each category may move to each estate, with the reason when not.

    Parameters
    ----------
    estates
        Estates with optional ``kind``, ``max_cat`` and utility flags.
    rulesets
        The categories' rule sets.
    usable
        :func:`usable_land` output.
    accepted_kinds
        Estate kinds that may receive businesses.
    reservations
        Estates reserved for some categories or excluding some (:mod:`siteplan.rules.reservations`).

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``category``, ``eligible``, ``reason``, ``usable_frac``, ``usable_ha``.
    """
    # one lookup table (a .loc per pair was most of the time on 10^3 estates)
    u = {(e, c): (uf, uh, b, bm) for e, c, uf, uh, b, bm in
         zip(usable["estate_id"], usable["category"], usable["usable_frac"], usable["usable_ha"], usable["binding"],
             usable["binding_m"])}
    kinds = {r.rule_id: r.kind for rs in rulesets.values() for r in rs.rules}
    rows = []
    for e in estates.itertuples():
        for code, rs in rulesets.items():
            reasons = reservation_reasons((reservations or {}).get(str(e.estate_id)), code)
            reasons += estate_reasons(e, rs, accepted_kinds)
            uf, uh, b, bm = u.get((e.estate_id, code), (1.0, 0.0, "", 0.0))
            if uf <= 1e-9:
                unit = {"max_slope": " %", "study_area": ""}.get(kinds.get(b, "distance"), " m")
                reasons.append(f"no land of the estate satisfies {b} ({bm:g}{unit})" if b else "no usable land")
            rows.append((e.estate_id, code, not reasons, "; ".join(reasons), float(uf), float(uh)))
    return pd.DataFrame(rows, columns=["estate_id", "category", "eligible", "reason", "usable_frac", "usable_ha"])
