"""What a run produces, as plain data: :class:`RunResult` (a finished run), and, for the paths users
import, :class:`Prepared` (everything up to suitability: :mod:`siteplan.scoring.prepared`) and
:class:`PlanInputs` (what the plan is solved on: :mod:`siteplan.relocation.inputs`). The stages below
relocation read those two from their own packages; the report, explain and the exporters read this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from .common.notice import Notice
from .relocation import Plan
from .relocation.inputs import PlanInputs
from .scoring.prepared import Prepared

__all__ = ["Prepared", "PlanInputs", "RunResult"]


@dataclass
class RunResult:
    """A finished run: inputs, intermediate tables and outputs (what the report shows).

    Parameters
    ----------
    prep
        The prepared study up to suitability (:class:`siteplan.scoring.prepared.Prepared`).
    usable
        Land of each estate that satisfies every rule, per (estate, category), in hectares
        (:func:`siteplan.rules.estates.usable_land`).
    elig
        Whether each category may go to each estate, and why not (:func:`siteplan.rules.estates.eligibility`).
    capacity
        Vacant land per estate in hectares and where the figure comes from
        (:func:`siteplan.relocation.plan.estate_capacity`).
    scores
        Mean suitability (0-1) of each estate per category: ``estate_id``, ``category``, ``score``.
    ranks
        The estates ranked per category, with how often they keep their rank under perturbed weights.
    plan
        The relocation plan: which business goes to which estate (:class:`siteplan.relocation.plan.Plan`).
    zones
        The estates' zones for the assigned categories (polygons in the run's CRS).
    shortfall
        Demand the zones could not hold, per estate and category.
    sites
        Proposed new sites for the demand no estate holds (polygons in the run's CRS; may be empty).
    clusters
        Clusters of businesses of one category near each other (:func:`siteplan.relocation.clusters.find_clusters`).
    site_failures
        Why new sites could not be proposed for some demand (one message each; empty when none failed).
    timings
        Wall seconds per stage.
    seed
        The random seed the run used (the scenario's, or the one given to :func:`siteplan.pipeline.run`).
    warnings
        Every warning of the run, as records (code, message, counts).
    plots
        The estates' plots with their tenants, when the scenario zones plots or has a ``plots`` layer;
        None otherwise.
    site_choice
        How the new sites were chosen: the figures the report shows (e.g. ``unassigned``,
        ``taken_by_sites``, ``objective_unit``); empty when none.
    flows
        Where the assigned businesses come from and go (:func:`siteplan.relocation.relocation_flows`).
    upgrades
        Upgrades of existing estates ranked by what they place (:func:`siteplan.locate.upgrades.propose_upgrades`).
    options
        Upgrades and new sites side by side (:func:`siteplan.locate.options.compare_options`).
    reletting
        Every terminated plot with its new tenant or why it stays empty (:func:`siteplan.zoning.zones.zone_plan`).
    programme
        Impact, feasibility and value chains (:func:`siteplan.programme.figures.programme_figures`).
    timings_cpu
        CPU seconds of this process per stage (user + system; ``timings`` are wall seconds).
    baseline
        Under ``run --baseline``: the baseline folder, the disruption weight and how many businesses kept
        their place (:func:`siteplan.pipeline.baseline_summary`); empty otherwise.
    """

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
    warnings: list[Notice]
    plots: gpd.GeoDataFrame | None = None
    site_choice: dict[str, object] = field(default_factory=dict)
    #: where the assigned businesses come from and go (:func:`siteplan.relocation.relocation_flows`)
    flows: pd.DataFrame | None = None
    #: upgrades of existing estates ranked by what they place (:func:`siteplan.locate.upgrades.propose_upgrades`)
    upgrades: pd.DataFrame | None = None
    #: upgrades and new sites side by side (:func:`siteplan.locate.options.compare_options`)
    options: pd.DataFrame | None = None
    #: every terminated plot with its new tenant or why it stays empty (:func:`siteplan.zoning.zones.zone_plan`)
    reletting: pd.DataFrame | None = None
    #: impact, feasibility and value chains (:func:`siteplan.programme.figures.programme_figures`)
    programme: Any = None
    #: CPU seconds of this process per stage (user + system; ``timings`` are wall seconds)
    timings_cpu: dict[str, float] = field(default_factory=dict)
    #: under ``run --baseline``: the baseline folder, the disruption weight and how many businesses kept
    #: their place (:func:`siteplan.pipeline.baseline_summary`); empty otherwise
    baseline: dict[str, object] = field(default_factory=dict)
