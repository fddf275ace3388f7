"""Siting rules: one :class:`RuleSet` per category answers every rule question siteplan asks.

Rules come from the catalogue (VNG separation from homes), the DOE 1378 table, the scenario (slope),
the constraints layer, and the study area itself. They are compiled once (:func:`compile_rulesets`),
their targets resolved once (:class:`RuleContext`), and then asked, always through the same code:

* :meth:`RuleSet.mask` — the raster answer: a cell is allowed only if its **whole square** satisfies
  every rule. Distance fields on cell centres bound the true distance within one cell diagonal;
  cells in that uncertain band are decided by the exact distance from the cell's square to the
  target geometry, so the mask is exact for squares and conservative for every point in them;
* :meth:`RuleSet.check` — the vector answer for points or polygons: exact edge-to-edge distances;
* :meth:`RuleSet.usable` — the part of a polygon that satisfies every rule (buffers circumscribe the
  exact neighbourhood, so the usable part never comes closer than the rule distance);
* :func:`eligibility` — whether an estate may take a category (environmental category vs the estate's
  ``max_cat``, utilities, estate kind, usable land), with reasons.

Suitability, blockwise suitability, relocation, zoning, new sites, explain and the report all ask here;
nothing else evaluates a rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from shapely.geometry.base import BaseGeometry

from ..common.textnorm import normalize
from ..grid import FieldCache, Grid, rasterize_mask
from ..guilds.catalogue import Catalogue
from ..scenario import Scenario

# the estates' side (usable land, eligibility) lives in .estates; kept importable from here
from .estates import UTILITIES, eligibility, env_rank, estate_reasons, is_blank, usable_land
from .rulecheck import Rule, RuleGroup, check_rules, slope_at  # noqa: F401 (Rule, RuleGroup re-exported)
from .standards import (
    CONSTRAINT_DEFAULT_BUFFER_M,
    DOE_1378,
    DOE_SOURCE,
    MAX_SLOPE_PCT,
    SLOPE_SOURCE,
    VNG_SOURCE,
)

log = logging.getLogger(__name__)

__all__ = ["Rule", "RuleContext", "RuleSet", "compile_rules", "compile_rulesets", "target_geoms", "usable_land",
           "eligibility", "buffer_out", "UTILITIES", "STUDY_AREA_RULE", "env_rank", "estate_reasons", "is_blank"]

#: id of the rule that keeps everything inside the study area
STUDY_AREA_RULE = "STUDY-AREA"
#: segments per quarter circle of rule buffers
_QUAD_SEGS = 16
#: a buffer of radius r·_OUTER with _QUAD_SEGS segments circumscribes the exact disc of radius r
_OUTER = 1.0 / np.cos(np.pi / (4 * _QUAD_SEGS))
#: float32 distance fields: slack (m) below which two distances count as equal
_EPS_M = 1e-3

def buffer_out(geoms: object, dist: float) -> object:
    """Buffer that contains the exact ``dist`` neighbourhood (never inside it).

    Parameters
    ----------
    geoms
        Geometries (one, or an array of them) in a metric CRS.
    dist
        The neighbourhood's radius in the CRS's units (metres), at least 0.

    Returns
    -------
    object
        The buffered geometry or array of them: a polygon with 16 segments per quarter circle whose
        radius is enlarged so that it circumscribes the exact ``dist`` disc.
    """
    return shapely.buffer(geoms, dist * _OUTER, quad_segs=_QUAD_SEGS)


def mixed_mask(urban: gpd.GeoDataFrame, scenario: Scenario) -> np.ndarray:
    names = {normalize(n) for n in scenario.rules.mixed_areas}
    m = urban["name_norm"].isin(names).to_numpy() if "name_norm" in urban else np.zeros(len(urban), bool)
    if "mixed" in urban:
        m |= urban["mixed"].fillna(0).to_numpy() > 0
    return m


def target_geoms(target: str, layers: dict[str, gpd.GeoDataFrame], scenario: Scenario) -> np.ndarray:
    """Geometries of a rule target, in the working CRS.

    Parameters
    ----------
    target
        ``homes`` (urban areas outside the mixed areas, and housing receptors), ``homes_mixed`` (mixed
        urban areas), ``sensitive`` (schools and clinics), ``roads_major`` (motorways, trunk roads),
        ``roads_main`` (primary roads), ``nature``, ``water``, ``wells`` or ``constraint:<kind>``
        (features of the constraints layer of those kinds).
    layers
        The region's layers by canonical name; a missing layer gives no geometries.
    scenario
        The scenario (its ``rules.mixed_areas`` name the mixed urban areas).

    Returns
    -------
    numpy.ndarray
        The target's geometries (object array; empty when the layers have none).

    Raises
    ------
    ValueError
        An unknown target (only when the constraints layer is present).
    """
    empty = np.array([], dtype=object)
    urban, rec, roads, cons = (layers.get(k) for k in ("urban", "receptors", "roads", "constraints"))
    if target in ("homes", "homes_mixed"):
        parts = []
        if urban is not None:
            mixed = mixed_mask(urban, scenario)
            parts.append(urban.geometry.values[mixed if target == "homes_mixed" else ~mixed])
        if rec is not None and target == "homes":
            parts.append(rec.geometry.values[rec["kind"].isin(["housing"]).to_numpy()])
        return np.concatenate(parts) if parts else empty
    if target == "sensitive":
        return rec.geometry.values[rec["kind"].isin(["school", "clinic"]).to_numpy()] if rec is not None else empty
    if target in ("roads_major", "roads_main"):
        if roads is None:
            return empty
        want = ["motorway", "trunk"] if target == "roads_major" else ["primary"]
        return np.asarray(roads.geometry.values[roads["road_class"].isin(want).to_numpy()])
    if cons is None:
        return empty
    kinds = {"nature": ["protected", "wetland", "national_park"], "water": ["river", "qanat"],
             "wells": ["well"]}.get(target)
    if target.startswith("constraint:"):
        kinds = [target.split(":", 1)[1]]
    if kinds is None:
        raise ValueError(f"unknown rule target {target}")
    return np.asarray(cons.geometry.values[cons["kind"].isin(kinds).to_numpy()])


def compile_rules(catalogue: Catalogue, scenario: Scenario, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, list[Rule]]:
    """Compile the siting rules of every category into :class:`Rule` lists.

    Parameters
    ----------
    catalogue
        Categories with ``sep_m``, ``sep_mixed_m``, ``doe_group``.
    scenario
        For the DOE table version, mixed areas and the slope limit.
    layers
        The region's layers (the constraints layer adds hard exclusions for every category).

    Returns
    -------
    dict
        Category code to its rules; the last rule of each is the study area.
    """
    cons = layers.get("constraints")
    hard: list[tuple[str, float, str]] = []
    if cons is not None:
        for kind in sorted(set(cons["kind"].dropna())):
            sel = cons[cons["kind"] == kind]
            buf = sel["buffer_m"].dropna() if "buffer_m" in sel else pd.Series(dtype=float)
            b = float(buf.max()) if len(buf) else CONSTRAINT_DEFAULT_BUFFER_M.get(kind, 0.0)
            hard.append((kind, b, "layer buffer_m" if len(buf) else "default buffer (assumption, STANDARDS.md §5)"))
    out: dict[str, list[Rule]] = {}
    for r in catalogue.table.itertuples():
        rules = [
            Rule(f"VNG-{r.env_cat}-HOMES", r.code, "homes", float(r.sep_m),
                 f"env. category {r.env_cat}: {r.sep_m:g} m from homes (quiet residential)", VNG_SOURCE,
                 r.sep_status),
            Rule(f"VNG-{r.env_cat}-MIXED", r.code, "homes_mixed", float(r.sep_mixed_m),
                 f"env. category {r.env_cat}: {r.sep_mixed_m:g} m from homes (mixed area)", VNG_SOURCE,
                 r.sep_status),
        ]
        if scenario.rules.doe_table == "1378" and r.doe_group in DOE_1378:
            for key, target, dist in DOE_1378[r.doe_group]:
                rules.append(Rule(f"DOE1378-{r.doe_group}-{key}", r.code, target, dist,
                                  f"DOE 1378 group {r.doe_group}: {dist:g} m from {key.replace('_', ' ')}",
                                  DOE_SOURCE, "confirmed", group="doe"))
        if "dem" in scenario.layers and scenario.rules.max_slope_pct is not None:
            s = float(scenario.rules.max_slope_pct)
            rules.append(Rule("SLOPE-MAX", r.code, "slope", 0.0, f"slope at most {s:g} %", SLOPE_SOURCE,
                              "confirmed" if s == MAX_SLOPE_PCT else "scenario", kind="max_slope", max_pct=s,
                              group="slope"))
        for kind, b, src in hard:
            rules.append(Rule(f"CONSTRAINT-{kind}", r.code, f"constraint:{kind}", b,
                              f"outside {kind} areas and {b:g} m from them", src,
                              "scenario" if src == "layer buffer_m" else "assumption", group="constraint"))
        rules.append(Rule(STUDY_AREA_RULE, r.code, "study_area", 0.0, "inside the study area",
                          "scenario boundary layer (else the region's extent)", "scenario", kind="study_area",
                          group="study_area"))
        out[r.code] = rules
    return out


@dataclass
class RuleContext:
    """Rule targets resolved once (geometries, spatial indexes, forbidden land) and shared by every
    category's :class:`RuleSet`.

    Parameters
    ----------
    layers
        The region's layers in the working CRS.
    scenario
        The scenario (mixed areas name the ``homes_mixed`` targets).
    study_area
        The study area's polygon (the ``study_area`` rule forbids what lies outside it).
    fields
        The grid's distance and slope fields (:class:`siteplan.scoring.fields.FieldCache`); None without.
    reach
        The largest rule distance in metres per target over every category (distance fields are padded
        by it); filled by :func:`compile_rulesets`.
    low
        The smallest rule distance in metres per target over every category.
    _near
        Cache: exact square-to-target distances of the cells near each target (:meth:`near`).
    _targets
        Cache: each target's geometries and STRtree (:meth:`target`).
    _slope_bad
        Cache: land steeper than each slope limit (:meth:`steep`).
    grid_bad
        Whole-grid exclusions per rule (bit-packed), shared by the categories that have the same rule.
    """

    layers: dict[str, gpd.GeoDataFrame]
    scenario: Scenario
    study_area: BaseGeometry
    fields: FieldCache | None = None
    #: the largest rule distance per target over every category (distance fields are padded by it)
    reach: dict[str, float] = field(default_factory=dict)
    #: the smallest rule distance per target over every category
    low: dict[str, float] = field(default_factory=dict)
    #: exact square-to-target distances of the cells near each target (:meth:`near`)
    _near: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    _targets: dict[str, tuple[np.ndarray, shapely.STRtree | None]] = field(default_factory=dict)
    _slope_bad: dict[float, BaseGeometry] = field(default_factory=dict)
    #: whole-grid exclusions per rule (bit-packed), shared by the categories that have the same rule
    grid_bad: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict)

    def target(self, key: str) -> tuple[np.ndarray, shapely.STRtree | None]:
        """Target geometries and their STRtree (None when there are none)."""
        if key not in self._targets:
            tg = target_geoms(key, self.layers, self.scenario)
            self._targets[key] = (tg, shapely.STRtree(tg) if len(tg) else None)
        return self._targets[key]

    def near(self, target: str, d: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray] | None:
        """Exact distances (up to the target's reach) from the squares of the run's grid cells to the
        target, for every cell some rule of the target cannot decide from the centre distances ``d``:
        flat cell indices (ascending) and distances, computed once and shared by the rules and the
        categories of the target (None when the target's rule distances are not known)."""
        if target not in self.reach or target not in self.low:
            return None
        got = self._near.get(target)
        if got is None or got[0] is not d:  # computed from this very field (the field cache keeps it)
            _, tree = self.target(target)
            assert tree is not None
            flat = np.flatnonzero(_band(d, self.low[target], self.reach[target], grid.res))
            r, c = np.divmod(flat, grid.width)
            got = self._near[target] = (d, flat, _exact_distance(grid, r, c, tree, self.reach[target]))
        return got[1], got[2]

    def steep(self, max_pct: float) -> BaseGeometry:
        """Land steeper than ``max_pct`` as polygons of whole grid cells (empty without a DEM)."""
        if max_pct not in self._slope_bad:
            geom: BaseGeometry = shapely.Polygon()
            f = self.fields
            if f is not None and f.slope is not None:
                bad = (f.slope > max_pct).astype(np.uint8)
                if bad.any():
                    polys = [shapely.geometry.shape(g) for g, v in
                             features.shapes(bad, mask=bad.astype(bool), transform=f.grid.transform) if v]
                    geom = shapely.union_all(polys)
            self._slope_bad[max_pct] = geom
        return self._slope_bad[max_pct]

    def slope_at(self, geoms: np.ndarray) -> np.ndarray:
        """Slope (%) of the grid cell under each geometry's representative point (NaN off the grid)."""
        f = self.fields
        return slope_at(f.slope if f is not None else None, f.grid if f is not None else None, geoms)

    def forbidden(self, rule: Rule, near: BaseGeometry) -> BaseGeometry:
        """Land that breaks ``rule`` around ``near`` (for the study area: everything outside it)."""
        if rule.kind == "max_slope":
            return self.steep(float(rule.max_pct if rule.max_pct is not None else np.inf))
        if rule.kind == "study_area":
            return shapely.box(*near.bounds).buffer(1.0).difference(self.study_area)
        tg, tree = self.target(rule.target)
        if tree is None:
            return shapely.Polygon()
        hit = tg[tree.query(near, predicate="dwithin", distance=max(rule.min_m, 1e-6))]
        if not len(hit):
            return shapely.Polygon()
        return shapely.union_all(buffer_out(hit, rule.min_m) if rule.min_m > 0 else hit)


def _cell_boxes(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    x, y = grid.xy(rows, cols)
    h = grid.res / 2
    return np.asarray(shapely.box(x - h, y - h, x + h, y + h))


def _exact_distance(grid: Grid, rows: np.ndarray, cols: np.ndarray, tree: shapely.STRtree,
                    within: float) -> np.ndarray:
    """Exact distance from each cell's square to the nearest target, where it is at most ``within``
    metres (inf beyond: the search stops there)."""
    boxes = _cell_boxes(grid, rows, cols)
    idx, dist = tree.query_nearest(boxes, max_distance=max(within, 1e-9), return_distance=True,
                                   all_matches=False)
    exact = np.full(len(boxes), np.inf)
    exact[idx[0]] = dist
    return exact


def _band(d: np.ndarray, low_m: float, high_m: float, res: float) -> np.ndarray:
    """Cells whose centre distance ``d`` leaves open whether their square is within a rule distance in
    [low_m, high_m]: the true distance lies in [d − res·√2, d + res/√2]."""
    diag = res * np.sqrt(2.0)
    return np.asarray((d >= low_m - diag / 2) & (d < high_m + diag + _EPS_M))


def _distance_bad(rule: Rule, d: np.ndarray, grid: Grid, tree: shapely.STRtree,
                  near: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Cells whose square comes closer than the rule distance to the target (or touches it when the
    distance is 0). ``d`` is the centre-to-centre distance field of the cells the target touches.

    The true distance from a cell's square to the target lies in [d − res·√2, d + res/√2]: cells
    clearly on one side are decided by ``d``; the band between is decided exactly with shapely.
    ``near``: the exact distances of a band holding this rule's (flat cell indices, ascending, and
    distances; :meth:`RuleContext.near`), shared by the rules of one target.
    """
    bad = d < rule.min_m - grid.res * np.sqrt(2.0) / 2
    unsure = _band(d, rule.min_m, rule.min_m, grid.res)
    if unsure.any():
        r, c = np.nonzero(unsure)
        if near is None:
            exact = _exact_distance(grid, r, c, tree, rule.min_m)
        else:
            flat, dist = near
            exact = dist[np.searchsorted(flat, r * grid.width + c)]
        bad[r, c] = exact < rule.min_m if rule.min_m > 0 else exact <= 0
    return np.asarray(bad)


def _inside_cells(geom: BaseGeometry, grid: Grid) -> np.ndarray:
    """Cells whose whole square lies inside ``geom`` (centre inside, no boundary through the cell)."""
    centre_in = rasterize_mask(np.array([geom]), grid, all_touched=False)
    edge = rasterize_mask(np.array([geom.boundary]), grid, all_touched=True)
    return np.asarray(centre_in & ~edge)


def _slope_bad(rule: Rule, fields: FieldCache | None, grid: Grid | None, g: Grid) -> np.ndarray:
    """Cells steeper than a slope rule allows (none when there is no slope field)."""
    slope = None
    if fields is not None and fields.slope is not None:
        slope = fields.slope if grid is None else fields.window(fields.slope, grid)
    return (slope > rule.max_pct) if slope is not None else np.zeros(g.shape, bool)


@dataclass(frozen=True)
class RuleSet:
    """The siting rules of one category, with its environmental category and utilities.

    Build them with :func:`compile_rulesets`. See the module docstring for what each method answers.

    Parameters
    ----------
    category
        The category's code.
    rules
        Its siting rules; the last is the study area rule.
    env_cat
        Its environmental category (e.g. ``3.2``), which sets the separation distances.
    utilities
        The utilities it needs (``power``, ``water``, ``wastewater``, ``gas``).
    ctx
        The targets and caches shared by every category's rule set.
    """

    category: str
    rules: tuple[Rule, ...]
    env_cat: str
    utilities: tuple[str, ...]
    ctx: RuleContext

    def __iter__(self) -> Iterator[Rule]:
        """The rules, as a list iterates them."""
        return iter(self.rules)

    def __len__(self) -> int:
        """How many rules."""
        return len(self.rules)

    # -- raster ----------------------------------------------------------------------------------
    def mask(self, fields: FieldCache | None = None, *, grid: Grid | None = None,
             distance: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, int]]:
        """Cells whose whole square satisfies every rule, and how many cells each rule excludes.

        Parameters
        ----------
        fields
            The run's grid and shared distance fields (default: the context's).
        grid
            Another grid (a window, for blockwise work); its distance fields are computed here.
        distance
            Precomputed centre distance fields on ``grid`` by target key (optional).

        Returns
        -------
        allowed : numpy.ndarray of bool
        counts : dict
            Rule id to the number of cells it excludes (cells may be excluded by several rules).
        """
        fields = fields or self.ctx.fields
        g = grid or (fields.grid if fields is not None else None)
        if g is None:
            raise ValueError("a grid is needed")
        allowed = np.ones(g.shape, dtype=bool)
        counts: dict[str, int] = {}
        shared = grid is None and distance is None and fields is self.ctx.fields  # the run's own grid
        for rule in self.rules:
            key = (rule.kind, rule.target, rule.min_m, rule.max_pct)
            if shared and key in self.ctx.grid_bad:
                bad = np.unpackbits(self.ctx.grid_bad[key], count=g.width * g.height).reshape(g.shape).astype(bool)
            elif rule.kind == "max_slope":
                bad = _slope_bad(rule, fields, grid, g)
            elif rule.kind == "study_area":
                bad = ~_inside_cells(self.ctx.study_area, g)
            else:
                found = self._distance_bad(rule, fields, (grid, g), distance, shared=shared)
                if found is None:
                    counts[rule.rule_id] = 0
                    continue
                bad = found
            if shared and key not in self.ctx.grid_bad:
                self.ctx.grid_bad[key] = np.packbits(bad.ravel())
            counts[rule.rule_id] = int(bad.sum())
            allowed &= ~bad
        return allowed, counts

    def _distance_bad(self, rule: Rule, fields: FieldCache | None, grids: tuple[Grid | None, Grid],
                      distance: dict[str, np.ndarray] | None, *, shared: bool) -> np.ndarray | None:
        """Cells a distance rule excludes on ``grids`` (the grid asked for, or None for the run's, and the
        grid used); None when the rule's target has no features."""
        grid, g = grids
        tg, tree = self.ctx.target(rule.target)
        if tree is None:
            return None
        if distance is not None and rule.target in distance:
            d = distance[rule.target]
        elif grid is None and fields is not None:
            pad = max(self.ctx.reach.get(rule.target, 0.0), rule.min_m) + 2 * g.res * np.sqrt(2.0)
            d = fields.distance(rule.target, tg, pad_m=pad)
        else:
            d = FieldCache(g).distance(rule.target, tg, pad_m=rule.min_m + 2 * g.res * np.sqrt(2.0))
        near = None
        if shared and self.ctx.low.get(rule.target, np.inf) <= rule.min_m <= self.ctx.reach.get(rule.target, -1):
            near = self.ctx.near(rule.target, d, g)  # one exact pass per target, not per rule
        return _distance_bad(rule, d, g, tree, near)

    # -- vector ----------------------------------------------------------------------------------
    def check(self, geoms: np.ndarray, ids: list[object] | None = None) -> pd.DataFrame:
        """Evaluate every rule on geometries (exact edge-to-edge distances;
        :func:`siteplan.rules.rulecheck.check_rules`).

        Returns
        -------
        pandas.DataFrame
            One row per (geometry, rule): ``id``, ``rule_id``, ``group``, ``required_m``, ``actual_m``
            (inf when the target set is empty; percent for slope; metres outside for the study area),
            ``passed``, ``description``.
        """
        return check_rules(self.rules, geoms, ids, self.ctx.target, self.ctx.study_area, self.ctx.slope_at)

    def usable(self, geom: BaseGeometry, *, cache: dict[tuple[Any, ...], BaseGeometry] | None = None
               ) -> tuple[BaseGeometry, dict[str, float]]:
        """The part of a polygon that satisfies every rule, and the area (m²) each rule removes.

        ``cache`` (one dict per polygon, shared by the categories asked about it) keeps each rule's cut
        so a rule that several categories share is cut once.
        """
        removed: dict[str, float] = {}
        parts = []
        for rule in self.rules:
            key = (rule.kind, rule.target, rule.min_m, rule.max_pct)
            cut = cache.get(key) if cache is not None else None
            if cut is None:
                f = self.ctx.forbidden(rule, geom)
                cut = f.intersection(geom) if not f.is_empty else f
                if cache is not None:
                    cache[key] = cut
            removed[rule.rule_id] = float(cut.area) if not cut.is_empty else 0.0
            if removed[rule.rule_id] > 0:
                parts.append(cut)
        if not parts:
            return geom, removed
        forbidden = shapely.union_all(parts)
        keep = geom.difference(forbidden)
        # GEOS overlays are not always right (nearly collinear edges: the difference can keep land inside
        # a buffer); the exact distances decide, and a wrong result is recomputed on a precision grid
        for grid_size, pad in ((None, 0.0), (1e-3, 0.0), (1e-2, 0.0), (1e-2, 0.5), (1e-2, 2.0)):
            if grid_size is not None:
                cut = forbidden.buffer(pad) if pad else forbidden
                keep = shapely.difference(geom, cut, grid_size=grid_size)
            if not self._too_close(keep):
                break
        else:  # never seen; no land is better than land that breaks a rule
            log.warning("%s: the usable land of a polygon could not be computed soundly; none is counted",
                        self.category)
            keep = shapely.Polygon()
        return keep, removed

    def _too_close(self, geom: BaseGeometry) -> bool:
        """Whether ``geom`` is nearer than a distance rule allows to its targets (exact distance, 1 cm slack)."""
        if geom.is_empty:
            return False
        for rule in self.rules:
            if rule.kind != "distance" or rule.min_m <= 0:
                continue
            tg, tree = self.ctx.target(rule.target)
            if tree is None or not len(tg):
                continue
            near = tree.query(geom, predicate="dwithin", distance=rule.min_m - 0.01)
            if len(near):
                return True
        return False


def compile_rulesets(catalogue: Catalogue, scenario: Scenario, layers: dict[str, gpd.GeoDataFrame],
                     study_area: BaseGeometry, fields: FieldCache | None = None,
                     codes: list[str] | None = None) -> dict[str, RuleSet]:
    """One :class:`RuleSet` per category (in ``codes``, default all), sharing one :class:`RuleContext`.

    Parameters
    ----------
    catalogue
        The guild catalogue (separation distances in metres, DOE groups, environmental categories,
        utilities).
    scenario
        The scenario (DOE table version, mixed areas, slope limit).
    layers
        The region's layers in the working CRS (their features are the rules' targets).
    study_area
        The study area's polygon, in the working CRS.
    fields
        Distance and slope fields shared with the suitability stage; None: set later
        (``RuleContext.fields``) or computed without them.
    codes
        The categories to compile; None: every category of the catalogue.

    Returns
    -------
    dict[str, RuleSet]
        Category code to its rule set, in catalogue order.
    """
    ctx = RuleContext(layers, scenario, study_area, fields)
    rules = compile_rules(catalogue, scenario, layers)
    for rs in rules.values():
        for r in rs:
            if r.kind == "distance":
                ctx.reach[r.target] = max(ctx.reach.get(r.target, 0.0), r.min_m)
                ctx.low[r.target] = min(ctx.low.get(r.target, np.inf), r.min_m)
    out = {}
    for code in catalogue.codes:  # catalogue order, whatever the order of ``codes``
        if codes is not None and code not in codes:
            continue
        row = catalogue.row(code)
        out[code] = RuleSet(code, tuple(rules[code]), str(row["env_cat"]), tuple(row["utilities"]), ctx)
    return out
