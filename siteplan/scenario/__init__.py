"""The scenario file (YAML): schema, defaults and validation.

Validation collects every problem and names its key path and the fix, for example
``layers.estates.path: file not found: data/x.shp``. Unknown keys are errors, with the nearest known
key suggested, so that a typo is never ignored silently.

Modules: :mod:`~siteplan.scenario.limits` (layer names, memory budgets, seeds, CRSs),
:mod:`~siteplan.scenario.urls` (PostgreSQL connection URLs), :mod:`~siteplan.scenario.specs` (the
sections of the file), :mod:`~siteplan.scenario.programme` (the programme and its phases),
:mod:`~siteplan.scenario.model` (:class:`Scenario`) and :mod:`~siteplan.scenario.load` (reading and
validating a file). Every name stays importable from ``siteplan.scenario``.
"""

from __future__ import annotations

from .limits import (
    LAYER_NAMES,
    MAX_BLOCKWISE_CELLS,
    MAX_GRID_CELLS,
    MAX_KM,
    MAX_SEED,
    MAX_SITE_HA,
    MEMORY_BUDGET_BYTES,
    REQUIRED_LAYERS,
    WINDOW_BUDGET_BYTES,
    check_seed,
    draws_problem,
    format_gib,
    sensitivity_bytes,
)
from .load import load_scenario, parse_scenario, read_scenario_file, salvage_layers
from .model import (
    NATIONAL_LIST_KEYS,
    ClustersSpec,
    NationalSpec,
    OutputsSpec,
    ReportSpec,
    Scenario,
    SensitivitySpec,
)
from .programme import MAX_PHASES, UPGRADE_FIELDS, PhaseSpec, ProgrammeSpec, UpgradeRefSpec, parse_changes
from .specs import (
    MAX_TRANSFORM_POINT,
    AggregationSpec,
    AllocationSpec,
    CatalogueSpec,
    ClassificationSpec,
    CriterionSpec,
    GridSpec,
    LayerSpec,
    ReservationSpec,
    RulesSpec,
    SitesSpec,
    TransformSpec,
    TransformType,
    TripRateSpec,
    UpgradesSpec,
    WeightsSpec,
    ZoningSpec,
)
from .urls import DB_SCHEMES, is_db_url, redact_url, url_password, url_problem

__all__ = [
    "Scenario",
    "LayerSpec",
    "NationalSpec",
    "NATIONAL_LIST_KEYS",
    "CriterionSpec",
    "TransformSpec",
    "load_scenario",
    "parse_scenario",
    "LAYER_NAMES",
    "REQUIRED_LAYERS",
    "check_seed",
    "sensitivity_bytes",
    "MAX_GRID_CELLS",
    "MAX_BLOCKWISE_CELLS",
    "MEMORY_BUDGET_BYTES",
    "WINDOW_BUDGET_BYTES",
    "MAX_SEED",
    "DB_SCHEMES",
    "is_db_url",
    "redact_url",
    "url_password",
    "url_problem",
    "MAX_KM",
    "MAX_SITE_HA",
    # also imported by name elsewhere in the package
    "AggregationSpec", "AllocationSpec", "CatalogueSpec", "ClassificationSpec", "ClustersSpec", "GridSpec",
    "MAX_PHASES", "MAX_TRANSFORM_POINT", "OutputsSpec", "PhaseSpec", "ProgrammeSpec", "ReportSpec", "ReservationSpec",
    "RulesSpec",    "SensitivitySpec", "SitesSpec", "TransformType", "TripRateSpec", "UPGRADE_FIELDS", "UpgradeRefSpec",
    "UpgradesSpec", "WeightsSpec", "ZoningSpec", "draws_problem", "format_gib", "parse_changes",
    "read_scenario_file", "salvage_layers",
]
