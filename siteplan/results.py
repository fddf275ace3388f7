"""What a run produces, as plain data: :class:`Prepared` (everything up to suitability) and
:class:`RunResult` (a finished run). Low in the package: the stages, the report, explain and the
exporters all read these, and none of them needs the pipeline that fills them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from .guilds.catalogue import Catalogue
from .inputs.region import Region
from .relocation import Plan
from .rules.ruleset import RuleSet
from .scenario import AllocationSpec, Scenario
from .scoring.criteria import FieldCache, Grid
from .scoring.suitability import Surface

__all__ = ["Prepared", "PlanInputs", "RunResult"]


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
    warnings: list[str] = field(default_factory=list)
    criteria_specs: list[Any] = field(default_factory=list)
    #: the AHP result behind the weights (consistency ratio, λmax), when the scenario uses AHP
    ahp: Any = None


@dataclass
class PlanInputs:
    """What the relocation plan is solved on (:func:`siteplan.pipeline.plan_inputs`): the same tables
    re-solve the plan when an upgrade's gain is verified (:mod:`siteplan.locate.upgrades`).

    Attributes
    ----------
    estates
        The estates layer (working CRS).
    businesses
        The classified businesses with the ``cluster_id`` the plan keeps together.
    scores
        ``estate_id``, ``category``, ``score`` (zonal mean suitability).
    usable
        Usable land per estate and category (:func:`siteplan.rules.ruleset.usable_land`).
    reserved
        The run's reservations by estate.
    elig
        Eligibility (:func:`siteplan.rules.ruleset.eligibility`).
    capacity
        Capacity per estate (:func:`siteplan.guild_relocation.estate_capacity`).
    clusters
        The business clusters found.
    warnings
        What the stages said.
    used
        Land already taken at the estates by businesses placed before (the later phases of
        :mod:`siteplan.programme.phasing`); None for the plan.
    weights
        Priority weights by ``biz_id`` (:mod:`siteplan.programme.phasing`); None for the plan.
    spec
        Allocation settings for this solve (:mod:`siteplan.programme.phasing`); None: the scenario's.
    """

    estates: gpd.GeoDataFrame
    businesses: gpd.GeoDataFrame
    scores: pd.DataFrame
    usable: pd.DataFrame
    reserved: dict[str, Any]
    elig: pd.DataFrame
    capacity: pd.DataFrame
    clusters: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    used: pd.DataFrame | None = None
    weights: pd.Series | None = None
    spec: AllocationSpec | None = None


@dataclass
class RunResult:
    """A finished run: inputs, intermediate tables and outputs (what the report shows)."""

    prep: Prepared
    usable: pd.DataFrame
    elig: pd.DataFrame
    capacity: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    plan: Plan
    zones: gpd.GeoDataFrame
    shortfall: pd.DataFrame
    sites: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    site_failures: list[str]
    timings: dict[str, float]
    seed: int
    warnings: list[str]
    plots: gpd.GeoDataFrame | None = None
    site_choice: dict[str, object] = field(default_factory=dict)
    #: where the assigned businesses come from and go (:func:`siteplan.relocation.relocation_flows`)
    flows: pd.DataFrame | None = None
    #: upgrades of existing estates ranked by what they place (:func:`siteplan.locate.upgrades.propose_upgrades`)
    upgrades: pd.DataFrame | None = None
    #: upgrades and new sites side by side (:func:`siteplan.locate.upgrades.compare_options`)
    options: pd.DataFrame | None = None
    #: every terminated plot with its new tenant or why it stays empty (:func:`siteplan.zoning.zones.zone_plan`)
    reletting: pd.DataFrame | None = None
    #: impact, feasibility and value chains (:func:`siteplan.programme.figures.programme_figures`)
    programme: Any = None
    #: CPU seconds of this process per stage (user + system; ``timings`` are wall seconds)
    timings_cpu: dict[str, float] = field(default_factory=dict)
