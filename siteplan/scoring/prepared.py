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
    """Everything up to suitability: what the explain and suitability commands need too."""

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
