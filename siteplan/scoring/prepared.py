"""Everything up to suitability, as plain data: :class:`Prepared` (what the explain and suitability
commands, the relocation stage and the later stages read). It lives with the scoring stage that
completes it, below every stage that reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from ..common.notice import Notice
from ..grid import FieldCache, Grid
from ..guilds.catalogue import Catalogue
from ..inputs.region import Region
from ..rules.ruleset import RuleSet
from ..scenario import Scenario
from .suitability import Surface

__all__ = ["Prepared"]


@dataclass
class Prepared:
    """Everything up to suitability: what the explain and suitability commands need too.

    Built by :func:`siteplan.pipeline.prepare`.

    Parameters
    ----------
    scenario
        The validated scenario.
    region
        Its layers, read and checked, in the working (metric) CRS.
    catalogue
        The guild catalogue with the scenario's changes.
    businesses
        The businesses with their ``category`` (None when unclassified or outside the scope; the
        classifier's answer kept in ``category_classified``).
    codes
        The categories in the scenario's scope.
    rules
        Each category's siting rules (:func:`siteplan.rules.compile_rulesets`).
    grid
        The suitability grid covering the study area (cells of ``grid.resolution_m`` metres).
    cache
        Distance and slope fields on the grid, shared by the criteria and the rules.
    surfaces
        Each category's suitability surface; empty when prepared without surfaces.
    crit
        The criteria evaluated on the grid (:class:`siteplan.scoring.suitability.CriterionLayer`); empty
        when prepared without surfaces.
    warnings
        Warnings so far (loading, classification, criteria), as records.
    criteria_specs
        The criteria that can be evaluated with the scenario's layers (the others dropped with a warning).
    ahp
        The AHP result behind the weights (consistency ratio, λmax), when the scenario uses AHP.
    """

    scenario: Scenario
    region: Region
    catalogue: Catalogue
    businesses: gpd.GeoDataFrame
    codes: list[str]
    rules: dict[str, RuleSet]
    grid: Grid
    cache: FieldCache
    surfaces: dict[str, Surface]
    crit: list[Any]
    warnings: list[Notice] = field(default_factory=list)
    criteria_specs: list[Any] = field(default_factory=list)
    #: the AHP result behind the weights (consistency ratio, λmax), when the scenario uses AHP
    ahp: Any = None
