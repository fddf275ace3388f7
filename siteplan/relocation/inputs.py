"""What the relocation plan is solved on, as plain data: :class:`PlanInputs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ..common.notice import Notice
from ..scenario import AllocationSpec

__all__ = ["PlanInputs"]


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
    stay
        ``biz_id`` → the estate a baseline run put it on ("" when it left it unassigned), under
        ``siteplan run --baseline`` (:func:`siteplan.relocation.plan.allocate`); None: no baseline.
    """

    estates: gpd.GeoDataFrame
    businesses: gpd.GeoDataFrame
    scores: pd.DataFrame
    usable: pd.DataFrame
    reserved: dict[str, Any]
    elig: pd.DataFrame
    capacity: pd.DataFrame
    clusters: gpd.GeoDataFrame
    warnings: list[Notice] = field(default_factory=list)
    used: pd.DataFrame | None = None
    weights: pd.Series | None = None
    spec: AllocationSpec | None = None
    stay: pd.Series | None = None
