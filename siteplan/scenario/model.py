"""The scenario: a study's layers, scope, criteria, weights and the settings of every stage."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .limits import LAYER_NAMES, MAX_KM, REQUIRED_LAYERS, crs_problem, draws_problem, seed_message, seed_ok
from .programme import ProgrammeSpec
from .specs import (
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
    StrictSpec,
    UpgradesSpec,
    WeightsSpec,
    ZoningSpec,
)

#: the scenario's messages under one name, as before it was a package
log = logging.getLogger("siteplan.scenario")

__all__ = ["NATIONAL_LIST_KEYS", "ClustersSpec", "NationalSpec", "OutputsSpec", "ReportSpec", "Scenario",
           "SensitivitySpec"]

class ClustersSpec(StrictSpec):
    """Business cluster detection."""

    eps_m: float = Field(400.0, gt=0, le=100_000)
    min_samples: int = Field(8, ge=2, le=1_000_000)


class SensitivitySpec(StrictSpec):
    """Monte Carlo weight sensitivity."""

    draws: int = Field(200, ge=0)
    concentration: float = Field(50.0, gt=0, le=1e6)

    @field_validator("draws")
    @classmethod
    def _draws_fit(cls, v: int) -> int:
        # the smallest robustness analysis there is: 2 estates, 1 criterion (the real size is
        # checked against the data by check_scenario_data)
        why = draws_problem(v, 2, 1, least=True)
        if why:
            raise ValueError(why)
        return v


class OutputsSpec(StrictSpec):
    """Output options."""

    #: a UTF-8 byte-order mark at the start of every CSV, so that Excel reads Persian right
    csv_bom: bool = True
    #: numbers in the report (headline, tables, charts) written with Persian digits (۱۲٫۵)
    persian_digits: bool = False
    suitability_tifs: bool = True
    report: bool = True


class ReportSpec(StrictSpec):
    """The HTML report's options."""

    #: ``both``: Persian first with English beside it (the default); ``fa``: fully Persian, right to
    #: left, Persian digits and a Solar Hijri date; ``en``: English, left to right
    language: Literal["fa", "en", "both"] = "both"


class NationalSpec(StrictSpec):
    """A national scenario: the region split into partitions (provinces) run one by one or on Dask
    (:mod:`siteplan.national`), in one of two forms.

    * ``partitions`` + ``field``: the national file's layers hold the whole nation and ``partitions`` is
      a polygon layer with one feature per partition, its key in ``field``. Businesses and estates belong
      to the partition that holds them; context layers (towns, roads, constraints, ...) are kept within
      ``context_km`` of each partition.
    * ``scenarios``: a list of provincial scenario files, each an ordinary one-province scenario with its
      own layers and settings; the partition key is each one's ``name``, and a province owns what its
      files list (:mod:`siteplan.national.provinces`). The national file then sets only ``name``,
      ``description``, ``seed``, ``crs`` and ``outputs`` besides ``national``.

    Relocation and zoning stay within a partition unless ``cross_border`` is true, when partitions whose
    businesses can reach each other's estates (``allocation.max_distance_km``) are planned together."""

    partitions: LayerSpec | None = None
    field: str | None = None
    scenarios: list[str] | None = None
    cross_border: bool = False
    context_km: float = Field(100.0, ge=0, le=MAX_KM)

    @model_validator(mode="after")
    def _one_form(self) -> NationalSpec:
        if self.scenarios is not None:
            if self.partitions is not None or self.field is not None:
                raise ValueError("give either scenarios: (a list of provincial scenario files) or partitions: with "
                                 "field: (a polygon layer of the nation's partitions), not both")
            if "context_km" in self.model_fields_set:
                raise ValueError("context_km is for partitions: (a national layer cut around each partition); with "
                                 "scenarios: each province's own layers are its context; remove context_km")
            if not self.scenarios:
                raise ValueError("scenarios: the list is empty; list the provincial scenario files "
                                 "(e.g. scenarios: [isfahan/isfahan.yaml, qom/qom.yaml])")
            seen: dict[str, int] = {}
            for i, s in enumerate(self.scenarios):
                if not s.strip():
                    raise ValueError(f"scenarios[{i}]: empty file name")
                key = str(Path(s))
                if key in seen:
                    raise ValueError(f"scenarios[{i}]: '{s}' is listed twice (also scenarios[{seen[key]}]); a "
                                     "province is planned once")
                seen[key] = i
        elif self.partitions is None or self.field is None:
            missing = " and ".join(k for k in ("partitions", "field") if getattr(self, k) is None)
            raise ValueError(f"{missing} missing: give partitions: {{path: provinces.shp}} with field: (the field "
                             "naming each partition), or scenarios: [a list of provincial scenario files]")
        return self


#: what a national file with a list of provincial scenarios may set (the rest is each province's)
NATIONAL_LIST_KEYS = ("name", "description", "seed", "crs", "outputs", "national")


class Scenario(StrictSpec):
    """A study: layers, scope, criteria, weights and the settings of every stage.

    ``base_dir`` is the folder relative paths are resolved against (the scenario file's folder).
    Each parameter is the scenario file's top-level key of that name; unknown keys are refused.

    Parameters
    ----------
    name
        The study's name (shown in the report and the manifest).
    description
        Free text about the study.
    crs
        The projected, metric CRS of the run (e.g. ``EPSG:32639``); None: the UTM zone of the study's
        centre. A geographic CRS is refused. Also the CRS of layers whose files carry none.
    seed
        Seed of every random draw (sensitivity), a non-negative integer.
    grid
        The analysis raster grid: cell size in metres (``resolution_m``) and processing block size.
    layers
        Input layers by canonical name (``businesses``, ``estates``, ``urban`` are required); unknown
        names are refused with the closest known one.
    categories
        Catalogue codes to plan, or ``"all"``; an empty list is refused.
    criteria
        The suitability criteria; None: each category's default criteria from the catalogue.
    weights
        How criteria are weighted (given weights or an AHP matrix).
    aggregation
        How criterion scores combine (weighted sum or ordered weighted average).
    rules
        Siting-rule settings and overrides (separation distances in metres).
    catalogue
        Changes to the built-in guild catalogue.
    classification
        How businesses are given a guild category (names, codes, the name model).
    allocation
        Relocation settings: accepted estate kinds, net-to-gross ratio, distance costs in km, solver limits.
    zoning
        How estates are divided into zones and plots.
    sites
        How new sites are proposed for the demand no estate holds.
    clusters
        Clustering of businesses of one category (``eps_m`` in metres, ``min_samples``).
    reservations
        Shares of estates reserved for some categories.
    upgrades
        Upgrades of existing estates to consider.
    programme
        Impact, feasibility and value-chain settings.
    sensitivity
        Monte Carlo weight sensitivity (draws, concentration) behind the rankings' robustness.
    outputs
        Output options: the CSVs' byte-order mark, Persian digits, suitability rasters, the report.
    report
        The HTML report's options (its language).
    national
        Settings of a national run over provinces; None for a provincial study.
    base_dir
        The folder relative paths are resolved against (set by the loader to the scenario file's folder).
    """

    name: str = "scenario"
    description: str = ""
    crs: str | None = None
    seed: int = 0
    grid: GridSpec = Field(default_factory=GridSpec)
    layers: dict[str, LayerSpec] = Field(default_factory=dict)
    categories: list[str] | Literal["all"] = "all"
    criteria: list[CriterionSpec] | None = None
    weights: WeightsSpec = Field(default_factory=WeightsSpec)
    aggregation: AggregationSpec = Field(default_factory=AggregationSpec)
    rules: RulesSpec = Field(default_factory=RulesSpec)
    catalogue: CatalogueSpec = Field(default_factory=CatalogueSpec)
    classification: ClassificationSpec = Field(default_factory=ClassificationSpec)
    allocation: AllocationSpec = Field(default_factory=AllocationSpec)
    zoning: ZoningSpec = Field(default_factory=ZoningSpec)
    sites: SitesSpec = Field(default_factory=SitesSpec)
    clusters: ClustersSpec = Field(default_factory=ClustersSpec)
    reservations: list[ReservationSpec] = Field(default_factory=list)
    upgrades: UpgradesSpec = Field(default_factory=UpgradesSpec)
    programme: ProgrammeSpec = Field(default_factory=ProgrammeSpec)
    sensitivity: SensitivitySpec = Field(default_factory=SensitivitySpec)
    outputs: OutputsSpec = Field(default_factory=OutputsSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    national: NationalSpec | None = None
    base_dir: str = "."

    @field_validator("seed", mode="before")
    @classmethod
    def _seed_range(cls, v: Any) -> Any:
        if not seed_ok(v):
            raise ValueError(f"{seed_message(v)}; e.g. seed: 0")
        return v

    @field_validator("crs")
    @classmethod
    def _projected_crs(cls, v: str | None) -> str | None:
        why = None if v is None else crs_problem(v, projected=True)
        if why:
            raise ValueError(why)
        return v

    @field_validator("categories")
    @classmethod
    def _some_categories(cls, v: list[str] | str) -> list[str] | str:
        if isinstance(v, list) and not v:
            raise ValueError("the list is empty, so nothing would be planned; list at least one catalogue "
                             "code (see `siteplan catalogue`), or write `categories: all`")
        return v

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, v: dict[str, LayerSpec]) -> dict[str, LayerSpec]:
        problems = []
        for name in v:
            if name not in LAYER_NAMES:
                hint = difflib.get_close_matches(name, LAYER_NAMES, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                problems.append(f"unknown layer '{name}'{extra}; known layers: {', '.join(LAYER_NAMES)}")
        missing = [n for n in REQUIRED_LAYERS if n not in v]
        if missing:
            problems.append(f"required layer(s) missing: {', '.join(missing)}")
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @property
    def provincial_list(self) -> bool:
        """True for a national file listing provincial scenarios (``national: {scenarios: [...]}``)."""
        return self.national is not None and self.national.scenarios is not None

    @model_validator(mode="after")
    def _layers_or_list(self) -> Scenario:
        if self.provincial_list:
            extra = sorted(set(self.model_fields_set) - set(NATIONAL_LIST_KEYS) - {"base_dir"})
            if extra:
                raise ValueError(f"{', '.join(extra)}: a national file with a list of provincial scenarios "
                                 f"(national.scenarios) sets only {', '.join(NATIONAL_LIST_KEYS)}; each province's "
                                 "layers and settings are in its own scenario file: move these there")
        elif "layers" not in self.model_fields_set:
            raise ValueError("layers: required key is missing")
        return self

    @model_validator(mode="after")
    def _some_weight(self) -> Scenario:
        ws = [c.weight for c in self.criteria or []]
        if self.weights.method == "direct" and ws and all(w is not None for w in ws) and sum(w or 0.0 for w in ws) <= 0:
            raise ValueError("criteria[*].weight: every criterion has weight 0; give at least one a weight above 0 "
                             "(weights are normalized to sum to 1)")
        return self

    @model_validator(mode="after")
    def _criteria_layers(self) -> Scenario:
        for i, c in enumerate(self.criteria or []):
            if c.layer not in self.layers and c.layer != "estates":
                raise ValueError(f"criteria[{i}] ('{c.name}'): layer '{c.layer}' is not among the scenario's layers")
        return self

    @field_validator("criteria")
    @classmethod
    def _canonical_filters(cls, v: list[CriterionSpec] | None, info: ValidationInfo) -> list[CriterionSpec] | None:
        """A filter value written as a synonym of a canonical value (``kind: [شهر]``, a word of the layer's
        ``values:`` mapping) is read as that value, and the run's log says so."""
        from ..common.vocab import canonical_filter

        layers = info.data.get("layers") or {}
        out = []
        for i, c in enumerate(v or []):
            if c.filter:
                spec = layers.get(c.layer)
                flt, notes = canonical_filter(c.layer, c.filter, getattr(spec, "values", None) or {})
                for note in notes:
                    log.info("criteria[%d] ('%s'): filter %s", i, c.name, note)
                out.append(c.model_copy(update={"filter": flt}) if notes else c)
            else:
                out.append(c)
        return out if v is not None else None

    def resolve(self, path: str) -> Path:
        """Resolve a path of the scenario against its folder."""
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def national_study(self) -> Scenario:
        """A national scenario (partition layer form) as one region for a national surface: its partitions
        are the ``boundary`` layer, so the study area is their union and the cells outside every partition
        (sea, neighbouring countries) are nodata, as outside a province's boundary. Another scenario, or
        a provincial list (which has no layers of its own; callers refuse it), is returned unchanged."""
        if self.national is None or self.national.partitions is None:
            return self
        return self.model_copy(update={"layers": {**self.layers, "boundary": self.national.partitions}, "national": None})

