"""The sections of a scenario file: layers, grid, criteria, weights, rules, catalogue, allocation,
zoning, sites, reservations, upgrades."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..common.travel import CONNECTOR_DETOUR, CONNECTOR_SPEED_KMH
from .limits import MAX_KM, MAX_SITE_HA, crs_problem, shown_value
from .urls import is_db_url, url_problem

__all__ = ["MAX_TRANSFORM_POINT", "AggregationSpec", "AllocationSpec", "CatalogueSpec", "ClassificationSpec",
           "CriterionSpec", "GridSpec", "LayerSpec", "ReservationSpec", "RulesSpec", "SitesSpec", "StrictSpec",
           "TransformSpec", "TransformType", "TripRateSpec", "UpgradesSpec", "WeightsSpec", "ZoningSpec"]

class StrictSpec(BaseModel):
    """A section of the scenario: unknown keys are errors, values are frozen, floats are finite."""

    # .inf and .nan are never meaningful settings: every float must be finite
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LayerSpec(StrictSpec):
    """One input layer: file, optional GeoPackage layer, field mapping, encoding and declared CRS.

    A table (CSV, XLSX, ODS) names its coordinate columns with ``x``/``y`` (with ``crs``) or
    ``lon``/``lat`` (degrees, EPSG:4326 unless ``crs`` says otherwise), or a WKT column with ``wkt``;
    ``sheet`` picks a spreadsheet's sheet (name, or number from 0). ``source`` is the layer's data
    source for the report (a mapped ``fields.source`` column wins where it is filled)."""

    path: str
    layer: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    #: the user's values to canonical ones, per canonical field (siteplan.common.vocab)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    encoding: str | None = None
    crs: str | None = None
    allow_empty: bool = False
    x: str | None = None
    y: str | None = None
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    sheet: str | int | None = None
    source: str | None = None
    #: a PostGIS layer (``path`` a ``postgresql://`` URL): the table (``schema.name``) or the query to read
    table: str | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _database(self) -> LayerSpec:
        if not is_db_url(self.path):
            given = [k for k in ("table", "sql") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{'/'.join(given)}: reads a PostGIS database; path must then be its connection URL "
                                 "(postgresql://user@host:5432/database)")
            return self
        why = url_problem(self.path)
        if why:
            raise ValueError(why)
        if (self.table is None) == (self.sql is None):
            raise ValueError("a PostGIS layer needs table: (schema.table) or sql: (a SELECT), one of them")
        if self.layer is not None or self.encoding is not None or self.sheet is not None:
            raise ValueError("layer:, encoding: and sheet: are for files; a PostGIS layer names its table with table: "
                             "(or its rows with sql:)")
        return self

    @model_validator(mode="after")
    def _coordinates(self) -> LayerSpec:
        named = {k for k in ("x", "y", "lon", "lat", "wkt") if getattr(self, k) is not None}
        if named and Path(self.path).suffix.lower() not in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".ods"):
            raise ValueError(f"{', '.join(sorted(named))}: coordinate columns are for tables (.csv, .xlsx, .ods); "
                             f"'{self.path}' carries its own geometry")
        if "wkt" in named and named - {"wkt"}:
            raise ValueError("give either wkt: (a column of WKT geometries) or x/y (lon/lat) columns, not both")
        if named & {"x", "y"} and named & {"lon", "lat"}:
            raise ValueError("give x: and y: (with crs:) or lon: and lat: (degrees), not a mix")
        for a, b in (("x", "y"), ("lon", "lat")):
            if (a in named) != (b in named):
                raise ValueError(f"{a}: and {b}: go together; name both coordinate columns")
        return self

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str | None) -> str | None:
        why = None if v is None else crs_problem(v, projected=False)
        if why:
            raise ValueError(why)
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is None:
            return v
        import codecs

        try:
            codecs.lookup(v.strip())
        except LookupError:
            raise ValueError(f"{shown_value(v)} is not a text encoding siteplan knows; give one such as 'utf-8' "
                             "or 'cp1256' (Windows Persian/Arabic), or leave encoding out to have it detected") from None
        return v.strip()


class GridSpec(StrictSpec):
    """The analysis raster grid."""

    resolution_m: float = Field(500.0, gt=0, le=100_000)
    block_size: int = Field(512, ge=16, le=65_536)


TransformType = Literal[
    "linear", "sigmoid", "j_shaped", "gaussian", "ms_small", "ms_large", "threshold", "categorical"
]


#: the largest control point a transform may have (10,000 km in metres, far beyond any province)
MAX_TRANSFORM_POINT = 1e7


class TransformSpec(StrictSpec):
    """A value transform to [0, 1] (see :mod:`siteplan.scoring.criteria`)."""

    type: TransformType = "linear"
    points: list[float] = Field(default_factory=list)
    increasing: bool = True
    mapping: dict[str, float] | None = None

    def problem(self) -> str | None:
        """Why the points do not fit the type (None when they do); checked per criterion."""
        p, t = list(self.points), self.type
        why = None
        if any(abs(x) > MAX_TRANSFORM_POINT for x in p):
            return (f"{t}: control points beyond ±{MAX_TRANSFORM_POINT:,.0f} (the distance across a continent in "
                    f"metres) are not meaningful, got {p}")
        if t in ("linear", "sigmoid", "j_shaped"):
            if len(p) == 2 and not p[0] < p[1]:
                why = f"{t}: the two control points must increase (0 at the first, 1 at the second), got {p}"
            elif len(p) == 4 and not p[0] <= p[1] <= p[2] <= p[3]:
                why = f"{t}: the four control points must be in order, got {p}"
            elif len(p) not in (2, 4):
                why = f"{t} needs 2 or 4 control points in 'points' (e.g. points: [500, 20000]), got {p}"
        elif t == "gaussian" and (len(p) != 2 or p[1] <= 0):
            why = f"gaussian needs points: [midpoint, spread] with spread above 0, got {p}"
        elif t in ("ms_large", "ms_small") and (len(p) not in (2, 4) or p[1] <= 0):
            why = f"{t} needs points: [mean, sd] or [mean, sd, a, b] with sd above 0, got {p}"
        elif t == "threshold" and len(p) != 1:
            why = f"threshold needs one point, points: [t], got {p}"
        elif t == "categorical" and not self.mapping:
            why = "categorical needs a 'mapping' of values to scores, e.g. mapping: {industrial: 1, rural: 0.5}"
        return why


class CriterionSpec(StrictSpec):
    """One suitability criterion."""

    name: str
    kind: Literal["distance", "inside", "attribute", "catchment", "raster"]
    layer: str
    filter: dict[str, list[str]] | None = None
    field: str | None = None
    radius_m: float | None = Field(None, gt=0)
    transform: TransformSpec = Field(default_factory=TransformSpec)
    weight: float | None = Field(None, ge=0, le=1e6)
    rank: int | None = Field(None, ge=1, le=10_000)
    categories: list[str] | None = None

    @model_validator(mode="after")
    def _kind_needs(self) -> CriterionSpec:
        if self.kind == "catchment" and self.radius_m is None:
            raise ValueError(f"'{self.name}': a catchment criterion needs 'radius_m' (e.g. 15000) and, to weigh "
                             "each feature, 'field' (e.g. population; without it each feature counts 1)")
        if self.kind == "attribute" and not self.field:
            raise ValueError(f"'{self.name}': an attribute criterion needs 'field', a numeric field of layer "
                             f"'{self.layer}'")
        if self.kind == "raster" and self.layer != "dem":
            raise ValueError(f"'{self.name}': kind 'raster' reads the 'dem' layer; write layer: dem")
        why = self.transform.problem()
        if why:
            raise ValueError(f"'{self.name}': transform {why}")
        return self


class WeightsSpec(StrictSpec):
    """How criterion weights are derived."""

    method: Literal["direct", "rank_sum", "reciprocal", "roc", "ahp"] = "direct"
    matrix: list[list[float | None]] | None = None
    ri_table: Literal["saaty", "alonso_lamata"] = "saaty"
    cr_threshold: float = Field(0.10, gt=0, le=1)
    accept_inconsistent: bool = False


class AggregationSpec(StrictSpec):
    """How a category's transformed criteria combine into suitability."""

    method: Literal["wlc", "owa"] = "wlc"
    order_weights: list[float] | None = None


class RulesSpec(StrictSpec):
    """Which siting rules compile into constraints."""

    doe_table: Literal["1378", "none"] = "1378"
    mixed_areas: list[str] = Field(default_factory=list)
    max_slope_pct: float | None = Field(15.0, gt=0, le=1000)


class CatalogueSpec(StrictSpec):
    """Catalogue source and per-scenario overrides."""

    path: str | None = None
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    add: list[dict[str, Any]] = Field(default_factory=list)


class ClassificationSpec(StrictSpec):
    """The learned fallback for names the catalogue's keywords miss (:mod:`siteplan.guilds.name_model`)."""

    model: bool = True
    #: calibrated confidence at or above which a classification is used (0.99: an expected error of 1 % at most)
    min_confidence: float = Field(0.99, gt=0, le=1)
    #: the officer's labels: a CSV with ``category`` and ``biz_id`` or ``name`` (a filled review.csv is one)
    labels: str | None = None


class AllocationSpec(StrictSpec):
    """Relocation settings."""

    max_distance_km: float = Field(30.0, gt=0, le=MAX_KM)
    #: how travel is measured (:mod:`siteplan.relocation.roads`): ``road`` along the roads layer (the default when
    #: the scenario has one), ``straight`` as the crow flies (the default, and the only choice, without)
    distance: Literal["road", "straight"] | None = None
    #: the reach in road km (the same as ``max_distance_km``, which it sets) or in minutes of driving;
    #: the reach's measure is the allocation cost's (``reach_min`` needs road distances)
    reach_km: float | None = Field(None, gt=0, le=MAX_KM)
    reach_min: float | None = Field(None, gt=0, le=100_000)
    #: speeds (km/h) by road_class or OSM highway tag over siteplan.common.travel.ROAD_SPEEDS_KMH
    road_speeds_kmh: dict[str, float] = Field(default_factory=dict)
    #: the off-network leg to the nearest road: straight length × detour, at this speed
    connector_speed_kmh: float = Field(CONNECTOR_SPEED_KMH, gt=0, le=300)
    connector_detour: float = Field(CONNECTOR_DETOUR, ge=1, le=10)
    same_county: bool = False
    suitability_weight: float = Field(0.2, ge=0, le=1000)
    disruption_km: float | None = Field(None, ge=0, le=1e6)
    net_to_gross: float = Field(0.65, gt=0, le=1)
    accepted_kinds: list[str] = Field(default_factory=lambda: ["estate", "zone", "guild_est", "workshop"])
    keep_clusters_together: bool = False
    priority: Literal["none", "env_cat"] = "env_cat"
    zone_aware_capacity: bool = True
    default_vacant_share: float | None = Field(None, ge=0, le=1)
    #: wall-clock safety net of each relocation solver step (s): a step it stops fails loudly
    #: (:class:`~siteplan.errors.SafetyNetError`); the work limits below end the steps, deterministically
    time_limit_s: float = Field(600.0, gt=0, le=7 * 86_400)
    #: branch-and-bound nodes of the repair MILP (large instances)
    node_limit: int = Field(300, ge=1, le=10**9)
    #: branch-and-bound nodes of the exact MILP (small instances); past it the large-instance path answers
    exact_node_limit: int = Field(1000, ge=1, le=10**9)
    gap_target: float = Field(0.005, ge=0, lt=1)
    search_passes: int = Field(5, ge=0, le=1000)

    @field_validator("road_speeds_kmh")
    @classmethod
    def _speeds(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}: {x!r}" for k, x in v.items() if not (0 < x <= 300)]
        if bad:
            raise ValueError(f"road speeds must be above 0 and at most 300 km/h: {', '.join(bad[:10])}")
        return v

    @model_validator(mode="after")
    def _reach(self) -> AllocationSpec:
        if self.reach_km is not None and self.reach_min is not None:
            raise ValueError("give the reach once: reach_km (road km) or reach_min (minutes), not both")
        if self.reach_km is not None:
            if "max_distance_km" in self.model_fields_set and self.max_distance_km != self.reach_km:
                raise ValueError(f"reach_km ({self.reach_km:g}) and max_distance_km ({self.max_distance_km:g}) "
                                 "differ; give only one of them")
            object.__setattr__(self, "max_distance_km", self.reach_km)
        if self.reach_min is not None and self.distance == "straight":
            raise ValueError("reach_min needs road distances; set distance: road or give reach_km")
        return self

    def measure(self, *, roads: bool) -> str:
        """The allocation's measure: ``km`` or ``minutes`` on roads, ``straight`` (km) without."""
        if not self.uses_roads(roads=roads):
            return "straight"
        return "minutes" if self.reach_min is not None else "km"

    def uses_roads(self, *, roads: bool) -> bool:
        """Whether travel is measured on roads, given whether the scenario has a roads layer."""
        return roads and self.distance != "straight"

    @property
    def reach(self) -> float:
        """The reach in its measure's unit (km, or minutes under ``reach_min``)."""
        return self.reach_min if self.reach_min is not None else self.max_distance_km


class ZoningSpec(StrictSpec):
    """Zoning settings."""

    non_saleable_share: float | None = Field(None, ge=0, lt=1)
    shape: Literal["blocks", "bands", "compact"] = "blocks"
    plots: bool = False
    strip_m: float = Field(12.0, gt=0, le=1000)
    #: categories offered the terminated plots first (knowledge-based firms in workshop complexes)
    relet_first: list[str] = Field(default_factory=lambda: ["tech_firm"])


class SitesSpec(StrictSpec):
    """New-site search settings."""

    count: int = Field(3, ge=0, le=100)
    area_ha: float | None = Field(None, gt=0, le=MAX_SITE_HA)
    min_area_ha: float = Field(20.0, gt=0, le=MAX_SITE_HA)
    max_area_ha: float = Field(500.0, gt=0, le=MAX_SITE_HA)
    min_spacing_km: float = Field(5.0, ge=0, le=MAX_KM)
    max_spacing_km: float | None = Field(None, gt=0, le=MAX_KM)
    min_distance_from_estates_km: float = Field(3.0, ge=0, le=MAX_KM)
    min_score: float = Field(0.3, ge=0, le=1)
    candidates_per_chain: int = Field(2, ge=1, le=20)
    min_businesses: int = Field(10, ge=0, le=1_000_000)
    node_limit: int = Field(10_000, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _ranges(self) -> SitesSpec:
        if self.min_area_ha > self.max_area_ha:
            raise ValueError(f"min_area_ha ({self.min_area_ha:g}) is above max_area_ha ({self.max_area_ha:g}); "
                             "swap them or lower min_area_ha")
        if self.max_spacing_km is not None and self.min_spacing_km > self.max_spacing_km:
            raise ValueError(f"min_spacing_km ({self.min_spacing_km:g}) is above max_spacing_km "
                             f"({self.max_spacing_km:g}); swap them or raise max_spacing_km")
        return self


class ReservationSpec(StrictSpec):
    """An estate, or a share of its capacity, reserved for some categories or value chains; categories it
    excludes (:mod:`siteplan.rules.reservations`)."""

    estate: str
    categories: list[str] | None = None
    chains: list[str] | None = None
    share: float = Field(1.0, gt=0, le=1)
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> ReservationSpec:
        if not (self.categories or self.chains or self.exclude):
            raise ValueError(f"estate '{self.estate}': give categories or chains to reserve it for, or exclude")
        if self.share < 1 and not (self.categories or self.chains):
            raise ValueError(f"estate '{self.estate}': a share is reserved for categories or chains; name them")
        return self


class UpgradesSpec(StrictSpec):
    """Upgrades of existing estates for the unassigned demand (:mod:`siteplan.locate.upgrades`): ``count``
    candidates are screened with a local estimate, the best ``verify`` of them re-solve the whole plan
    with the upgrade (their ``businesses`` is what a rerun with the upgraded estate gives)."""

    count: int = Field(5, ge=0, le=50)
    verify: int = Field(3, ge=0, le=50)


class TripRateSpec(StrictSpec):
    """Trips per business per day of one category (:mod:`siteplan.programme.impact`), replacing the shipped
    table's row; without a ``source`` the rate is marked an assumption."""

    heavy: float = Field(ge=0, le=1e6)
    customer: float = Field(ge=0, le=1e6)
    source: str = Field("", max_length=500)


#: the estates-layer fields an upgrade may change (upgrades.csv's ``changes``: ``water=1; max_cat=5.1``)
