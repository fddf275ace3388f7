"""The scenario file (YAML): schema, defaults and validation.

Validation collects every problem and names its key path and the fix, for example
``layers.estates.path: file not found: data/x.shp``. Unknown keys are errors, with the nearest known
key suggested, so that a typo is never ignored silently.
"""

from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .common.safeyaml import YamlLimitError, load_yaml, lone_surrogates
from .errors import ScenarioError
from .rules.standards import CONNECTOR_DETOUR, CONNECTOR_SPEED_KMH

log = logging.getLogger(__name__)

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
]

LAYER_NAMES = (
    "estates",
    "urban",
    "receptors",
    "roads",
    "rail",
    "utilities",
    "constraints",
    "businesses",
    "plots",
    "occupied",
    "vacant_land",
    "boundary",
    "dem",
)
REQUIRED_LAYERS = ("estates", "urban", "businesses")

#: Largest grid (cells) a whole run holds in memory; `siteplan suitability --blockwise` goes further.
MAX_GRID_CELLS = 1e8
#: Largest grid (cells) even the blockwise path accepts (a float32 GeoTIFF of 40 GB).
MAX_BLOCKWISE_CELLS = 1e10
#: Memory the Monte Carlo rank robustness may ask for (its draws × estates arrays).
MEMORY_BUDGET_BYTES = 2 * 1024**3
#: Memory one criterion's window may ask for: a catchment's convolution, a blockwise padded block.
WINDOW_BUDGET_BYTES = 16 * 1024**3
#: NumPy seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1
#: Largest distance setting (km): farther than across Iran, or any country a plan is made for.
MAX_KM = 5000.0
#: Largest new-site area (ha): 1,000 km², far beyond any industrial estate.
MAX_SITE_HA = 100_000.0


def sensitivity_bytes(draws: int, candidates: int, criteria: int) -> float:
    """Peak memory (bytes) of the Monte Carlo rank robustness of one category.

    :func:`siteplan.scoring.suitability.rank_acceptability` holds the draws × criteria weights and about
    eight draws × candidates float64/int64 arrays at once (scores, the TOPSIS closeness and its
    temporaries, the order and the ranks): measured, 8 × draws × (criteria + 7 × candidates) bytes.
    """
    return 8.0 * draws * (criteria + 8 * candidates)


def format_gib(b: float) -> str:
    try:
        return f"{float(b) / 1024**3:,.1f} GiB"
    except OverflowError:  # from an absurd setting: the number itself says nothing more
        return "more than 10^290 GiB"


def draws_problem(draws: int, candidates: int, criteria: int, *, least: bool) -> str | None:
    need = sensitivity_bytes(draws, candidates, criteria)
    if need <= MEMORY_BUDGET_BYTES:
        return None
    most = int(MEMORY_BUDGET_BYTES // sensitivity_bytes(1, candidates, criteria))
    size = (f"at least {candidates} estates × {criteria} criterion" if least
            else f"{candidates} estates × {criteria} criteria")
    return (f"{draws:,} Monte Carlo draws need about {format_gib(need)} of memory ({size}), above siteplan's "
            f"budget of {format_gib(MEMORY_BUDGET_BYTES)}; use at most {most:,} draws (a few hundred to a few "
            "thousand are plenty), or 0 to skip the robustness analysis")


def _seed_ok(seed: object) -> bool:
    return not isinstance(seed, bool) and isinstance(seed, int) and 0 <= seed <= MAX_SEED


def _seed_message(seed: object) -> str:
    return f"must be a whole number from 0 to {MAX_SEED} (random seeds are unsigned 32-bit), got {seed!r}"


def check_seed(seed: object, key: str = "--seed") -> None:
    """Raise :class:`ScenarioError` unless ``seed`` is a NumPy seed (0 to 2**32 - 1); ``key`` names it."""
    if not _seed_ok(seed):
        raise ScenarioError(f"{key}: {_seed_message(seed)}")


def _crs_problem(value: str, *, projected: bool) -> str | None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(value)
    except CRSError:
        return (f"'{value}' is not a coordinate reference system pyproj knows; give an EPSG code such as "
                "'EPSG:32639' (UTM zone 39N) or 'EPSG:4326'" + (", or leave 'crs' out to pick the local "
                                                                 "UTM zone" if projected else ""))
    if projected and not crs.is_projected:
        return (f"'{value}' is not a projected (metric) CRS; give a projected CRS such as a UTM zone "
                "('EPSG:32639'), or leave 'crs' out to pick the local UTM zone")
    return None


#: the URL schemes of a PostgreSQL connection (libpq's connection URIs): a layer whose ``path`` is one is
#: read from PostGIS (:mod:`siteplan.inputs.postgis`)
DB_SCHEMES = ("postgresql://", "postgres://")
#: URL query parameters that carry a secret
_SECRET_PARAMS = frozenset({"password", "sslpassword"})


def is_db_url(path: object) -> bool:
    """True when a layer's ``path`` is a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(path, str) and path.strip().lower().startswith(DB_SCHEMES)


def redact_url(url: str) -> str:
    """``url`` without its password: the ``user:password@`` part and a ``password=`` (or
    ``sslpassword=``) query parameter are removed; the rest is kept as written.

    Examples
    --------
    >>> redact_url("postgresql://planner:s3cret@db.example:5432/gis?sslmode=require&password=x")
    'postgresql://planner@db.example:5432/gis?sslmode=require'
    """
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)\Z", url, re.DOTALL)
    if m is None:
        return url
    head, netloc, rest = m.groups()
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    path, mark, query = rest.partition("?")
    if mark:
        query, hash_, frag = query.partition("#")
        kept = [kv for kv in query.split("&") if unquote(kv.split("=", 1)[0]).strip().lower() not in _SECRET_PARAMS]
        rest = path + ("?" + "&".join(kept) if kept else "") + hash_ + frag
    return head + netloc + rest


def url_password(url: str) -> str | None:
    """The password a URL holds (None when it holds none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in _SECRET_PARAMS and v:
            return v
    return None


def url_problem(url: str) -> str | None:
    """Why a scenario's connection URL cannot be used (None when it can): it holds a password, which
    the scenario file (shared, and recorded in the run's manifest) must not carry."""
    if url_password(url) is not None:
        return (f"{redact_url(url)}: the URL holds a password; siteplan never writes a password into a file, so "
                "the scenario must not hold one: remove it and set PGPASSWORD, or put it in ~/.pgpass, or use "
                "a pg_service.conf entry (postgresql:///?service=NAME)")
    return None


class _Strict(BaseModel):
    # .inf and .nan are never meaningful settings: every float must be finite
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LayerSpec(_Strict):
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
    def _database(self) -> "LayerSpec":
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
    def _coordinates(self) -> "LayerSpec":
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
        why = None if v is None else _crs_problem(v, projected=False)
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
            raise ValueError(f"{_shown(v)} is not a text encoding siteplan knows; give one such as 'utf-8' "
                             "or 'cp1256' (Windows Persian/Arabic), or leave encoding out to have it detected") from None
        return v.strip()


class GridSpec(_Strict):
    """The analysis raster grid."""

    resolution_m: float = Field(500.0, gt=0, le=100_000)
    block_size: int = Field(512, ge=16, le=65_536)


TransformType = Literal[
    "linear", "sigmoid", "j_shaped", "gaussian", "ms_small", "ms_large", "threshold", "categorical"
]


#: the largest control point a transform may have (10,000 km in metres, far beyond any province)
MAX_TRANSFORM_POINT = 1e7


class TransformSpec(_Strict):
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


class CriterionSpec(_Strict):
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
    def _kind_needs(self) -> "CriterionSpec":
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


class WeightsSpec(_Strict):
    """How criterion weights are derived."""

    method: Literal["direct", "rank_sum", "reciprocal", "roc", "ahp"] = "direct"
    matrix: list[list[float | None]] | None = None
    ri_table: Literal["saaty", "alonso_lamata"] = "saaty"
    cr_threshold: float = Field(0.10, gt=0, le=1)
    accept_inconsistent: bool = False


class AggregationSpec(_Strict):
    """How a category's transformed criteria combine into suitability."""

    method: Literal["wlc", "owa"] = "wlc"
    order_weights: list[float] | None = None


class RulesSpec(_Strict):
    """Which siting rules compile into constraints."""

    doe_table: Literal["1378", "none"] = "1378"
    mixed_areas: list[str] = Field(default_factory=list)
    max_slope_pct: float | None = Field(15.0, gt=0, le=1000)


class CatalogueSpec(_Strict):
    """Catalogue source and per-scenario overrides."""

    path: str | None = None
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    add: list[dict[str, Any]] = Field(default_factory=list)


class ClassificationSpec(_Strict):
    """The learned fallback for names the catalogue's keywords miss (:mod:`siteplan.guilds.name_model`)."""

    model: bool = True
    #: calibrated confidence at or above which a classification is used (0.99: an expected error of 1 % at most)
    min_confidence: float = Field(0.99, gt=0, le=1)
    #: the officer's labels: a CSV with ``category`` and ``biz_id`` or ``name`` (a filled review.csv is one)
    labels: str | None = None


class AllocationSpec(_Strict):
    """Relocation settings."""

    max_distance_km: float = Field(30.0, gt=0, le=MAX_KM)
    #: how travel is measured (:mod:`siteplan.relocation.roads`): ``road`` along the roads layer (the default when
    #: the scenario has one), ``straight`` as the crow flies (the default, and the only choice, without)
    distance: Literal["road", "straight"] | None = None
    #: the reach in road km (the same as ``max_distance_km``, which it sets) or in minutes of driving;
    #: the reach's measure is the allocation cost's (``reach_min`` needs road distances)
    reach_km: float | None = Field(None, gt=0, le=MAX_KM)
    reach_min: float | None = Field(None, gt=0, le=100_000)
    #: speeds (km/h) by road_class or OSM highway tag over siteplan.standards.ROAD_SPEEDS_KMH
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
    def _reach(self) -> "AllocationSpec":
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

    def measure(self, roads: bool) -> str:
        """The allocation's measure: ``km`` or ``minutes`` on roads, ``straight`` (km) without."""
        if not self.uses_roads(roads):
            return "straight"
        return "minutes" if self.reach_min is not None else "km"

    def uses_roads(self, roads: bool) -> bool:
        """Whether travel is measured on roads, given whether the scenario has a roads layer."""
        return roads and self.distance != "straight"

    @property
    def reach(self) -> float:
        """The reach in its measure's unit (km, or minutes under ``reach_min``)."""
        return self.reach_min if self.reach_min is not None else self.max_distance_km


class ZoningSpec(_Strict):
    """Zoning settings."""

    non_saleable_share: float | None = Field(None, ge=0, lt=1)
    shape: Literal["blocks", "bands", "compact"] = "blocks"
    plots: bool = False
    strip_m: float = Field(12.0, gt=0, le=1000)
    #: categories offered the terminated plots first (knowledge-based firms in workshop complexes)
    relet_first: list[str] = Field(default_factory=lambda: ["tech_firm"])


class SitesSpec(_Strict):
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
    def _ranges(self) -> "SitesSpec":
        if self.min_area_ha > self.max_area_ha:
            raise ValueError(f"min_area_ha ({self.min_area_ha:g}) is above max_area_ha ({self.max_area_ha:g}); "
                             "swap them or lower min_area_ha")
        if self.max_spacing_km is not None and self.min_spacing_km > self.max_spacing_km:
            raise ValueError(f"min_spacing_km ({self.min_spacing_km:g}) is above max_spacing_km "
                             f"({self.max_spacing_km:g}); swap them or raise max_spacing_km")
        return self


class ReservationSpec(_Strict):
    """An estate, or a share of its capacity, reserved for some categories or value chains; categories it
    excludes (:mod:`siteplan.rules.reservations`)."""

    estate: str
    categories: list[str] | None = None
    chains: list[str] | None = None
    share: float = Field(1.0, gt=0, le=1)
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> "ReservationSpec":
        if not (self.categories or self.chains or self.exclude):
            raise ValueError(f"estate '{self.estate}': give categories or chains to reserve it for, or exclude")
        if self.share < 1 and not (self.categories or self.chains):
            raise ValueError(f"estate '{self.estate}': a share is reserved for categories or chains; name them")
        return self


class UpgradesSpec(_Strict):
    """Upgrades of existing estates for the unassigned demand (:mod:`siteplan.locate.upgrades`): ``count``
    candidates are screened with a local estimate, the best ``verify`` of them re-solve the whole plan
    with the upgrade (their ``businesses`` is what a rerun with the upgraded estate gives)."""

    count: int = Field(5, ge=0, le=50)
    verify: int = Field(3, ge=0, le=50)


class TripRateSpec(_Strict):
    """Trips per business per day of one category (:mod:`siteplan.programme.impact`), replacing the shipped
    table's row; without a ``source`` the rate is marked an assumption."""

    heavy: float = Field(ge=0, le=1e6)
    customer: float = Field(ge=0, le=1e6)
    source: str = Field("", max_length=500)


#: the estates-layer fields an upgrade may change (upgrades.csv's ``changes``: ``water=1; max_cat=5.1``)
UPGRADE_FIELDS = ("power", "gas", "water", "wastewater", "max_cat", "kind")
#: phases a programme may have
MAX_PHASES = 20


def parse_changes(text: str) -> dict[str, object]:
    """An upgrade's changes in upgrades.csv's syntax (``water=1; wastewater=1``, ``max_cat=5.1``,
    ``kind=estate``) as field → value (utilities as 0/1 integers, the rest as text).

    Raises
    ------
    ValueError
        An unknown field, a utility not 0 or 1, an empty value, or nothing at all.
    """
    out: dict[str, object] = {}
    for part in str(text).split(";"):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not value:
            raise ValueError(f"'{part.strip()[:40]}' is not field=value (e.g. wastewater=1; max_cat=5.1)")
        if key not in UPGRADE_FIELDS:
            hint = difflib.get_close_matches(key, UPGRADE_FIELDS, n=1)
            raise ValueError(f"'{key[:40]}' is not a field an upgrade changes ({', '.join(UPGRADE_FIELDS)})"
                             + (f"; did you mean '{hint[0]}'?" if hint else ""))
        if key in out:
            raise ValueError(f"'{key}' is given twice")
        if key in ("power", "gas", "water", "wastewater"):
            if value not in ("0", "1"):
                raise ValueError(f"{key}={value[:20]}: a utility is 1 (added) or 0")
            out[key] = int(value)
        else:
            out[key] = value[:40]
    if not out:
        raise ValueError("no change given; write e.g. wastewater=1 (upgrades.csv's changes column)")
    return out


class UpgradeRefSpec(_Strict):
    """An upgrade a phase brings online: an estate with the changes (upgrades.csv's syntax), or with
    ``changes`` left out the estate's best-ranked upgrade in the run's upgrades.csv."""

    estate: str = Field(min_length=1, max_length=200)
    changes: str | None = Field(None, max_length=500)

    @field_validator("changes")
    @classmethod
    def _changes(cls, v: str | None) -> str | None:
        if v is not None:
            parse_changes(v)
        return v


class PhaseSpec(_Strict):
    """One phase of the programme (:mod:`siteplan.programme.phasing`): when it starts and what comes online.

    ``start`` is a year or a day, Solar Hijri when the year is below 1700 (:mod:`siteplan.common.dates`).
    ``estates``: existing estates that open in this phase (every estate no phase names is open from
    the first). ``upgrades``: upgrades done in this phase, each a rank of upgrades.csv (a number), an
    estate id (its best-ranked upgrade there) or ``{estate: E14, changes: "wastewater=1"}``. ``sites``:
    the proposed sites (sites.geojson's ``site_id``) built in this phase, or ``all``."""

    name: str = Field(min_length=1, max_length=100)
    label: str = Field("", max_length=200)
    start: str
    estates: list[str] = Field(default_factory=list)
    upgrades: list[int | str | UpgradeRefSpec] = Field(default_factory=list)
    sites: Literal["all"] | list[str] = Field(default_factory=list)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> str:
        from .common.dates import parse_start

        return parse_start(v).text

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a phase's name is blank; name it (e.g. name: phase 1)")
        return v

    @field_validator("upgrades", mode="before")
    @classmethod
    def _upgrade_refs(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out: list[Any] = []
        for i, u in enumerate(v):
            what = (f"[{i}]: {str(u)[:40]!r} is not a rank of upgrades.csv (1, 2, ...), an estate id or "
                    "{estate: E14, changes: 'wastewater=1'}")
            if isinstance(u, dict):
                extra = sorted(str(k)[:30] for k in u if k not in ("estate", "changes"))
                if extra:
                    raise ValueError(f"[{i}]: unknown key(s) {', '.join(extra)} (known: estate, changes)")
                if not isinstance(u.get("estate"), str) or not u["estate"].strip():
                    raise ValueError(f"[{i}].estate: give the estate id as text")
                ch = u.get("changes")
                if ch is not None:
                    if not isinstance(ch, str):
                        raise ValueError(f"[{i}].changes: write the changes as text, e.g. 'wastewater=1'")
                    try:
                        parse_changes(ch)
                    except ValueError as e:
                        raise ValueError(f"[{i}].changes: {e}") from None
                u = UpgradeRefSpec(estate=u["estate"], changes=ch)
            elif isinstance(u, bool) or not isinstance(u, (int, str, UpgradeRefSpec)) or (isinstance(u, int) and u < 1):
                raise ValueError(what)
            elif isinstance(u, str) and not u.strip():
                raise ValueError(f"[{i}]: an empty estate id")
            out.append(u)
        return out


class ProgrammeSpec(_Strict):
    """The programme figures: impact, feasibility and value chains (:mod:`siteplan.programme.impact`,
    :mod:`siteplan.programme.feasibility`, :mod:`siteplan.programme.chains`), and the phasing
    (:mod:`siteplan.programme.phasing`)."""

    #: trip rates by category code, over ``siteplan/data/trip_rates.csv``
    trip_rates: dict[str, TripRateSpec] = Field(default_factory=dict)
    #: unit costs by item (``land``, ``site_works``, ``access_road``, ``power``, ``gas``, ``water``,
    #: ``wastewater``), over ``siteplan/data/unit_costs.csv``
    unit_costs: dict[str, float] = Field(default_factory=dict)
    #: one-way trips per employee per day (to work and back)
    worker_trips_per_employee: float = Field(2.0, ge=0, le=100)
    #: a missing value-chain link is "within reach" when a business of it is this close (km)
    chain_reach_km: float = Field(10.0, gt=0, le=1000)
    #: the phases of the programme, in order (:mod:`siteplan.programme.phasing`); none: no phasing
    phases: list[PhaseSpec] = Field(default_factory=list, max_length=MAX_PHASES)
    #: the order businesses are placed in when a phase's capacity is short: residents within their
    #: nuisance distance per hectare of land they need (most first), their environmental category
    #: (heaviest first), or none (the allocation's own settings)
    priority: Literal["residents_per_ha", "env_cat", "none"] = "residents_per_ha"

    @field_validator("unit_costs")
    @classmethod
    def _costs(cls, v: dict[str, float]) -> dict[str, float]:
        known = ("land", "site_works", "access_road", "power", "gas", "water", "wastewater")
        bad = [k for k in v if k not in known]
        if bad:
            raise ValueError(f"unknown unit cost item(s) {', '.join(map(repr, sorted(bad)))}; known: {', '.join(known)}")
        neg = [k for k, c in v.items() if not c >= 0]
        if neg:
            raise ValueError(f"unit cost(s) {', '.join(sorted(neg))} must be zero or more")
        return v

    @model_validator(mode="after")
    def _phases(self) -> "ProgrammeSpec":
        problems = _phase_order_problems(self.phases) + _phase_online_problems(self.phases)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _phase_order_problems(phases: list[PhaseSpec]) -> list[str]:
    """Phase names given twice, and starts out of order."""
    from .common.dates import parse_start

    problems = []
    names: dict[str, int] = {}
    last = None
    for i, ph in enumerate(phases):
        where = f"phases[{i}] ('{ph.name[:40]}')"
        if ph.name.strip() in names:
            problems.append(f"{where}.name: also the name of phases[{names[ph.name.strip()]}]; name each phase once")
        names.setdefault(ph.name.strip(), i)
        day = parse_start(ph.start).date
        if last is not None and day < last[1]:
            problems.append(f"{where}.start: {ph.start} ({day.isoformat()}) is before the start of "
                            f"phases[{last[0]}] ({last[1].isoformat()}); list the phases in order")
        last = (i, day)
    return problems


def _phase_online_problems(phases: list[PhaseSpec]) -> list[str]:
    """An estate opening twice, a site built twice, an upgrade done twice or before its estate opens."""
    problems = []
    opens: dict[str, int] = {}
    sites: dict[str, int] = {}
    refs: dict[str, int] = {}
    for i, ph in enumerate(phases):
        where = f"phases[{i}] ('{ph.name[:40]}')"
        for e in ph.estates:
            if e in opens:
                problems.append(f"{where}.estates: '{e[:40]}' also opens in phases[{opens[e]}]; an estate opens once")
            opens.setdefault(e, i)
        if ph.sites == "all":
            if sites:
                problems.append(f"{where}.sites: all, but phases[{min(sites.values())}] already builds "
                                f"{', '.join(sorted(sites))[:80]}; a site is built once")
            sites.setdefault("all", i)
        else:
            for s in ph.sites:
                if "all" in sites or s in sites:
                    problems.append(f"{where}.sites: '{s[:40]}' is already built in phases"
                                    f"[{sites.get('all', sites.get(s))}]; a site is built once")
                sites.setdefault(s, i)
        for u in ph.upgrades:
            key = (f"rank {u}" if isinstance(u, int) else f"estate {u}" if isinstance(u, str)
                   else f"estate {u.estate}: {u.changes or 'best'}")
            if key in refs:
                problems.append(f"{where}.upgrades: {key[:60]} is also done in phases[{refs[key]}]")
            refs.setdefault(key, i)
    for i, ph in enumerate(phases):
        for u in ph.upgrades:
            eid = u if isinstance(u, str) else u.estate if isinstance(u, UpgradeRefSpec) else None
            if eid is not None and opens.get(eid, 0) > i:
                problems.append(f"phases[{i}] ('{ph.name[:40]}').upgrades: estate '{eid[:40]}' opens only in "
                                f"phases[{opens[eid]}]; upgrade it in that phase or later")
    return problems


class ClustersSpec(_Strict):
    """Business cluster detection."""

    eps_m: float = Field(400.0, gt=0, le=100_000)
    min_samples: int = Field(8, ge=2, le=1_000_000)


class SensitivitySpec(_Strict):
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


class OutputsSpec(_Strict):
    """Output options."""

    #: a UTF-8 byte-order mark at the start of every CSV, so that Excel reads Persian right
    csv_bom: bool = True
    #: numbers in the report (headline, tables, charts) written with Persian digits (۱۲٫۵)
    persian_digits: bool = False
    suitability_tifs: bool = True
    report: bool = True


class ReportSpec(_Strict):
    """The HTML report's options."""

    #: ``both``: Persian first with English beside it (the default); ``fa``: fully Persian, right to
    #: left, Persian digits and a Solar Hijri date; ``en``: English, left to right
    language: Literal["fa", "en", "both"] = "both"


class NationalSpec(_Strict):
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
    def _one_form(self) -> "NationalSpec":
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


class Scenario(_Strict):
    """A study: layers, scope, criteria, weights and the settings of every stage.

    ``base_dir`` is the folder relative paths are resolved against (the scenario file's folder).
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
        if not _seed_ok(v):
            raise ValueError(f"{_seed_message(v)}; e.g. seed: 0")
        return v

    @field_validator("crs")
    @classmethod
    def _projected_crs(cls, v: str | None) -> str | None:
        why = None if v is None else _crs_problem(v, projected=True)
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
    def _layers_or_list(self) -> "Scenario":
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
    def _some_weight(self) -> "Scenario":
        ws = [c.weight for c in self.criteria or []]
        if self.weights.method == "direct" and ws and all(w is not None for w in ws) and sum(w or 0.0 for w in ws) <= 0:
            raise ValueError("criteria[*].weight: every criterion has weight 0; give at least one a weight above 0 "
                             "(weights are normalized to sum to 1)")
        return self

    @model_validator(mode="after")
    def _criteria_layers(self) -> "Scenario":
        for i, c in enumerate(self.criteria or []):
            if c.layer not in self.layers and c.layer != "estates":
                raise ValueError(f"criteria[{i}] ('{c.name}'): layer '{c.layer}' is not among the scenario's layers")
        return self

    @field_validator("criteria")
    @classmethod
    def _canonical_filters(cls, v: list[CriterionSpec] | None, info: ValidationInfo) -> list[CriterionSpec] | None:
        """A filter value written as a synonym of a canonical value (``kind: [شهر]``, a word of the layer's
        ``values:`` mapping) is read as that value, and the run's log says so."""
        from .common.vocab import canonical_filter

        layers = info.data.get("layers") or {}
        out = []
        for i, c in enumerate(v or []):
            if c.filter:
                spec = layers.get(c.layer)
                flt, notes = canonical_filter(c.layer, c.filter, getattr(spec, "values", None) or {})
                for note in notes:
                    log.info("criteria[%d] ('%s'): filter %s", i, c.name, note)
                c = c.model_copy(update={"filter": flt}) if notes else c
            out.append(c)
        return out if v is not None else None

    def resolve(self, path: str) -> Path:
        """Resolve a path of the scenario against its folder."""
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def national_study(self) -> "Scenario":
        """A national scenario (partition layer form) as one region for a national surface: its partitions
        are the ``boundary`` layer, so the study area is their union and the cells outside every partition
        (sea, neighbouring countries) are nodata, as outside a province's boundary. Another scenario, or
        a provincial list (which has no layers of its own; callers refuse it), is returned unchanged."""
        if self.national is None or self.national.partitions is None:
            return self
        return self.model_copy(update={"layers": {**self.layers, "boundary": self.national.partitions}, "national": None})


def _model_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Known keys at a location (for suggesting the fix of a misspelt key)."""
    import typing

    cur: Any = model
    keyed = False  # the previous part was a dict of models (layers): this part is a user's key
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None or keyed:
            keyed = False
            continue
        field = getattr(cur, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        keyed = any(typing.get_origin(a) is dict for a in (ann, *typing.get_args(ann)))
        cur = _first_model(ann)
    return list(getattr(cur, "model_fields", {}).keys()) if cur is not None else []


def _first_model(ann: Any) -> Any:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _first_model(arg)
        if m is not None:
            return m
    return None


def _format_errors(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        if e["type"] == "extra_forbidden":
            known = _model_keys(Scenario, loc)
            hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"known keys here: {', '.join(known)}"
            out.append(f"{path}: unknown key ({fix})")
        elif e["type"] == "missing":
            out.append(f"{path}: required key is missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "finite_number":
                msg = f"must be a finite number (not .inf or .nan), got {_shown(e.get('input'))}"
            elif e["type"] == "int_parsing" and isinstance(e.get("input"), str) and _is_float(e["input"]):
                msg = (f"must be a whole number, got the text {e['input']!r} (YAML reads a number such as 1e9 "
                       "as text): write the digits, e.g. 1000")
            elif msg.startswith("Input should be "):
                msg = f"must be {msg.removeprefix('Input should be ')}, got {_shown(e.get('input'))}"
                if e["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                    msg += _allowed_range(Scenario, loc)
            out.append(f"{path}: {msg}" if path else msg)  # top-level checks name their keys
    return out


def _allowed_range(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``" (allowed: above 0 up to 5,000 km)"``: the bounds of the setting at ``loc``, its unit taken
    from the key's suffix; empty when the location is not a bounded field."""
    import annotated_types as at

    cur: Any = model
    info = None
    keyed = False
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        info = getattr(cur, "model_fields", {}).get(part)
        if info is None:
            return ""
        keyed = any(getattr(a, "__origin__", None) is dict for a in (info.annotation,))
        cur = _first_model(info.annotation)
    if info is None:
        return ""
    lo = hi = ""
    for m in info.metadata:
        if isinstance(m, at.Gt):
            lo = f"above {m.gt:,g}"
        elif isinstance(m, at.Ge):
            lo = f"from {m.ge:,g}"
        elif isinstance(m, at.Lt):
            hi = f"below {m.lt:,g}"
        elif isinstance(m, at.Le):
            hi = f"up to {m.le:,g}"
    key = str(loc[-1])
    unit = next((u for suf, u in (("_km", " km"), ("_ha", " ha"), ("_m", " m"), ("_s", " s"), ("_pct", " %"))
                 if key.endswith(suf)), "")
    span = " ".join(x for x in (lo, hi) if x)
    return f" (allowed: {span}{unit})" if span else ""


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _shown(v: Any) -> str:
    """A user's value, short, for a message."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def parse_scenario(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from a mapping, collecting every problem.

    Parameters
    ----------
    data
        The parsed YAML mapping.
    base_dir
        Folder that relative paths are resolved against.
    source
        Name used in messages (the scenario file).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem with its key path; includes missing files.
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the scenario must be a YAML mapping of keys to values")
    data = dict(data)
    data.pop("base_dir", None)
    nat = data.get("national")
    listed = isinstance(nat, dict) and "scenarios" in nat
    # said with every other problem (a model check would only run once the fields are valid)
    first = [] if listed or "layers" in data else [f"{source}: layers: required key is missing"]
    moved = sorted(k for k in data if listed and k in Scenario.model_fields and k not in NATIONAL_LIST_KEYS)
    if moved:
        first.append(f"{source}: {', '.join(moved)}: a national file with a list of provincial scenarios "
                     f"(national.scenarios) sets only {', '.join(NATIONAL_LIST_KEYS)}; each province's layers and "
                     "settings are in its own scenario file: move these there")
        data = {k: v for k, v in data.items() if k not in moved}
    try:
        sc = Scenario(**data, base_dir=str(base_dir))
    except ValidationError as err:
        # missing files are said with the other problems (a typo elsewhere must not hide them)
        raise ScenarioError(list(dict.fromkeys(first + [f"{source}: {m}" for m in _format_errors(err)]
                                               + _raw_file_problems(data, Path(base_dir), source)))) from None
    problems = []
    # a database layer is read (and its problems said) when the layers are loaded
    for name, spec in {n: s for n, s in sc.layers.items() if not is_db_url(s.path)}.items():
        p = sc.resolve(spec.path)
        if not p.exists():
            problems.append(f"{source}: layers.{name}.path: file not found: {spec.path} (looked in {p.parent})")
        else:
            problems += _file_problems(f"{source}: layers.{name}.path", spec.path, p)
    if sc.national is not None and sc.national.partitions is not None:
        if not sc.resolve(sc.national.partitions.path).exists():
            problems.append(f"{source}: national.partitions.path: file not found: {sc.national.partitions.path}")
        else:
            problems += _file_problems(f"{source}: national.partitions.path", sc.national.partitions.path,
                                       sc.resolve(sc.national.partitions.path))
    for i, f in enumerate(sc.national.scenarios or [] if sc.national is not None else []):
        why = _file_problems(f"{source}: national.scenarios[{i}]", f, sc.resolve(f))
        if why:
            problems += why
        elif not sc.resolve(f).is_file():
            problems.append(f"{source}: national.scenarios[{i}]: file not found: {f} (looked in {sc.resolve(f).parent})")
    if sc.catalogue.path and not sc.resolve(sc.catalogue.path).exists():
        problems.append(f"{source}: catalogue.path: file not found: {sc.catalogue.path}")
    elif sc.catalogue.path:
        problems += _file_problems(f"{source}: catalogue.path", sc.catalogue.path, sc.resolve(sc.catalogue.path))
    if first:
        raise ScenarioError(first + problems)
    if problems:
        raise ScenarioError(problems)
    return sc


def _raw_file_problems(data: dict[str, Any], base_dir: Path, source: str) -> list[str]:
    """The files a scenario mapping names that do not exist, read from the mapping as written (the
    scenario itself did not validate): layers, national partitions and scenarios, the catalogue."""
    def missing(path: object) -> Path | None:
        if not isinstance(path, str) or not path.strip() or is_db_url(path):
            return None
        p = Path(path) if Path(path).is_absolute() else base_dir / path
        try:
            return None if p.exists() else p
        except (OSError, ValueError):  # a name the system refuses (NUL, too long): the schema says why
            return None

    problems = []
    layers = data.get("layers")
    for name, spec in (layers.items() if isinstance(layers, dict) else ()):
        p = missing(spec.get("path")) if isinstance(spec, dict) else None
        if p is not None:
            problems.append(f"{source}: layers.{name}.path: file not found: {spec['path']} (looked in {p.parent})")
    nat = data.get("national")
    if isinstance(nat, dict):
        part = nat.get("partitions")
        if isinstance(part, dict) and missing(part.get("path")) is not None:
            problems.append(f"{source}: national.partitions.path: file not found: {part['path']}")
        for i, f in enumerate(nat.get("scenarios") or [] if isinstance(nat.get("scenarios"), list) else []):
            if (p := missing(f)) is not None:
                problems.append(f"{source}: national.scenarios[{i}]: file not found: {f} (looked in {p.parent})")
    cat = data.get("catalogue")
    if isinstance(cat, dict) and missing(cat.get("path")) is not None:
        problems.append(f"{source}: catalogue.path: file not found: {cat['path']}")
    return problems


def _file_problems(key: str, given: str, path: Path) -> list[str]:
    """A FIFO, device or socket (directly or through a link), or a table too large to read, among an
    input's files (a shapefile's sidecars included), checked before anything opens them
    (:func:`siteplan.common.fs.input_file_problem`)."""
    from .common.fs import input_file_problem

    files = [path]
    if path.suffix.lower() == ".shp":
        files += [path.with_suffix(e) for e in (".shx", ".dbf", ".prj", ".cpg", ".SHX", ".DBF", ".PRJ", ".CPG")]
    out = []
    for f in files:
        why = input_file_problem(f)
        if why:
            out.append(f"{key}: {given if f == path else f.name} {why}")
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Parameters
    ----------
    path
        The scenario file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file is missing, is not YAML, or fails validation.
    """
    path = Path(path)
    return parse_scenario(read_scenario_file(path), base_dir=path.parent.resolve(), source=str(path))


def read_scenario_file(path: Path) -> dict[str, Any]:
    """The mapping a scenario file holds, read with siteplan's safe YAML loader (not yet validated).

    Raises
    ------
    ScenarioError
        When the file is missing, is not YAML or not UTF-8, or breaks the loader's limits.
    """
    from .common.fs import MAX_TEXT_BYTES, input_file_problem

    why = input_file_problem(path, MAX_TEXT_BYTES)
    if why:
        raise ScenarioError(f"{path}: the scenario file {why}")
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except YamlLimitError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: the scenario must be saved as UTF-8") from None
    bad = lone_surrogates(data)
    if bad:
        raise ScenarioError([f"{path}: {k}: holds a character that is not valid Unicode (a lone surrogate); "
                             "retype the text or save the file as UTF-8" for k in bad[:10]])
    return data or {}


def salvage_layers(data: Any, *, base_dir: str | Path) -> Scenario | None:
    """A scenario of only the valid parts of an invalid one: its layers and the top-level settings that
    are valid on their own, so that ``siteplan validate`` can check the data too while the scenario's own
    problems are being listed.

    Parameters
    ----------
    data
        The scenario file's mapping (:func:`read_scenario_file`), which :func:`parse_scenario` refused.
    base_dir
        Folder that relative paths are resolved against.

    Returns
    -------
    Scenario or None
        None when the layers themselves are not valid (a required layer's entry has a problem).
    """
    if not isinstance(data, dict) or not isinstance(data.get("layers"), dict):
        return None
    keep: dict[str, Any] = {"layers": _salvage_layer_specs(data["layers"], Path(base_dir))}
    try:
        parse_scenario(keep, base_dir=base_dir)
    except ScenarioError:
        return None
    for key, value in data.items():
        if key in keep or key in ("base_dir", "criteria", "categories", "grid"):
            continue
        try:
            parse_scenario({**keep, key: value}, base_dir=base_dir)
        except ScenarioError:
            continue
        keep[key] = value
    return parse_scenario(keep, base_dir=base_dir)


def _salvage_layer_specs(layers: dict[Any, Any], base_dir: Path) -> dict[str, Any]:
    """The layer entries that can be read, each without its invalid keys (a misspelt key, an unknown
    encoding): an entry whose file is missing, or whose path or name is not valid, is left out."""
    out: dict[str, Any] = {}
    for name, spec in layers.items():
        if name not in LAYER_NAMES or not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            continue
        path = Path(spec["path"]) if Path(spec["path"]).is_absolute() else base_dir / spec["path"]
        try:
            LayerSpec(path=spec["path"])
            if not path.exists():
                continue
        except (ValidationError, OSError, ValueError):
            continue
        good = dict(spec)
        try:
            LayerSpec(**good)
        except ValidationError as err:
            bad = {e["loc"][0] for e in err.errors() if e["loc"]}
            good = {k: v for k, v in spec.items() if k not in bad}
            try:
                LayerSpec(**good)
            except ValidationError:  # a problem of the entry as a whole (x without y): the path alone
                good = {"path": spec["path"]}
        out[str(name)] = good
    return out
