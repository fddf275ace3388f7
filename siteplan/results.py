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
