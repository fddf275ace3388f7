"""Zoning: specialized zones inside receiving estates, heaviest nuisance farthest from homes, on the
estate's free land, verified before they are written.

The land each category may use inside an estate comes from its :class:`siteplan.rules.ruleset.RuleSet`
(every rule: separation, DOE distances, constraint buffers, slope, study area), cut to the estate's
free land (:func:`siteplan.zoning.plots.land_basis`: its vacant and terminated plots, else the estate less an
``occupied`` layer or inside a ``vacant_land`` layer, else the whole estate, marked *indicative*).

Shapes (``zoning.shape``):

``blocks`` (default)
    rows of rectangular blocks along access strips, aligned with the estate's internal roads or its
    principal axis, handed to the categories heaviest first from the row farthest from homes
    (:mod:`siteplan.zoning.blocks`); the zones a planner draws on an estate plan.
``bands``
    each zone is the whole band of its allowed land beyond a distance from homes (strict distance
    order, thin bands when demand is small): a screening view of how much land each distance holds.
``compact``
    deprecated: a disc around the allowed point farthest from homes; kept to reproduce earlier runs.

On an estate listed in the ``plots`` layer the zones are made of its free plots instead: each
business gets a plot (:func:`siteplan.zoning.plots.match_plots`) and a zone is the plots of its category.

Every estate's result is checked (:func:`siteplan.zoning.zone_check.verify_zones`: zones pairwise disjoint,
each inside its category's land, areas adding up); a failed check or a GEOS error is recovered by
recomputing on a 1 mm precision grid, then by a raster of whole squares, and never written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..common.geom import WRITTEN_SNAP_M, as_written, polsby_popper
from ..common.units import M2_PER_HA
from ..errors import InputError
from ..guilds.catalogue import Catalogue
from ..rules.ruleset import RuleSet, target_geoms
from ..scenario import Scenario
from .blocks import Frame
from .placement import Placement, place
from .plots import LAND_BASIS
from .zone_check import MODES, Overlay, TooManyPieces, area_tolerance, raster_side, verify_zones

log = logging.getLogger(__name__)

#: zone shapes
SHAPES = ("blocks", "bands", "compact")
#: compactness bound of ``blocks`` zones (area / convex-hull area) on a rectangular estate whose land
#: the rules do not cut: a zone is whole blocks plus at most the turn of one row or band column, an L
#: at worst (tested at several angles; 0.93 on average on the demo; see README)
MIN_CONVEXITY = 0.45
#: columns of zones.geojson
ZONE_COLUMNS = ["estate_id", "zone_id", "category", "name_fa", "name_en", "env_cat", "sep_m", "min_home_m",
                "area_ha", "net_ha", "units", "plots", "compactness", "convexity", "aligned_with", "land_basis",
                "indicative", "check"]

__all__ = ["MIN_CONVEXITY", "SHAPES", "ZONE_COLUMNS", "EstateContext", "ZoneLabels", "ZoneResult", "category_order",
           "convexity", "home_separation", "homes_geoms", "zone_estate", "zone_row"]



def homes_geoms(layers: dict[str, gpd.GeoDataFrame], scenario: Scenario) -> np.ndarray:
    """Every home (quiet and mixed urban areas, housing receptors): the reference for zone bands.

    Parameters
    ----------
    layers
        The region's layers (working CRS): ``urban`` and ``receptors`` are read when present.
    scenario
        The scenario (which urban areas are mixed).

    Returns
    -------
    numpy.ndarray
        The geometries (object array, working CRS): quiet urban areas and housing receptors, then mixed
        urban areas; empty when the layers have none.
    """
    return np.concatenate([target_geoms("homes", layers, scenario), target_geoms("homes_mixed", layers, scenario)])


def home_separation(rs: RuleSet) -> float:
    """The largest distance from homes a category's rules ask (VNG or DOE), in metres.

    Parameters
    ----------
    rs
        The category's rule set.

    Returns
    -------
    float
        The largest ``min_m`` of its distance rules from ``homes`` or ``homes_mixed`` (m); 0 when it has none.
    """
    return max([float(r.min_m) for r in rs if r.kind == "distance" and r.target in ("homes", "homes_mixed")],
               default=0.0)


def category_order(codes: list[str], catalogue: Catalogue, home_sep: dict[str, float] | None = None) -> list[str]:
    """Heaviest first (largest distance from homes, then environmental class); among equals,
    value-chain partners next to each other.

    Parameters
    ----------
    codes
        The categories to order (all in the catalogue).
    catalogue
        Their environmental classes, value chains and (by default) distances from homes.
    home_sep
        Distance from homes (m) each category's rules ask (:func:`home_separation`); None (or empty)
        takes the catalogue's ``sep_m``.

    Returns
    -------
    list of str
        ``codes`` by distance from homes (largest first), then environmental class (heaviest first),
        then value chain and code (a deterministic order).
    """
    sep = home_sep or {c: float(catalogue.row(c)["sep_m"]) for c in codes}
    return sorted(codes, key=lambda c: (-sep[c], -catalogue.env_rank(c), str(catalogue.row(c)["chain"] or ""), c))


def convexity(g: BaseGeometry) -> float:
    """Area over convex-hull area (1 for a convex zone).

    Parameters
    ----------
    g
        A zone's geometry (any planar CRS: the ratio has no unit).

    Returns
    -------
    float
        Its area ÷ its convex hull's area, in (0, 1]; 0 for an empty or zero-area geometry.
    """
    h = g.convex_hull.area
    return float(g.area / h) if h > 0 else 0.0


@dataclass(frozen=True)
class ZoneResult:
    """Zones of one estate and the shortfall of categories that did not fit.

    ``mode`` is the overlay mode whose result passed the checks (``exact``, ``grid`` or ``raster``)
    and ``problems`` what the failed attempts got wrong.

    Parameters
    ----------
    zones
        One dict per zone with the :data:`ZONE_COLUMNS` and ``geometry`` (working CRS).
    shortfall
        One dict per category that did not fit: ``estate_id``, ``category``, ``short_ha`` (hectares
        missing) and ``rule`` (why).
    mode
        The overlay mode that passed the checks (``exact``, ``grid`` or ``raster``); ``failed`` when none
        did (then no zones, every category short).
    problems
        What the failed attempts got wrong, one message each.
    frame
        The block frame the zones were drawn in (the plots follow it); None when there is none.
    """

    zones: list[dict[str, object]]
    shortfall: list[dict[str, object]]
    mode: str = "exact"
    problems: tuple[str, ...] = ()
    frame: Frame | None = None


#: the figures of one rule for the zones that share it: zone position -> row, actual, required, passed
_Figures = tuple[dict[int, int], np.ndarray, Any, np.ndarray]


def _rule_key(rs: RuleSet, rule: Any) -> tuple[Any, ...]:
    """A rule several zones share (same context, kind, target and limits) is measured once for all."""
    return id(rs.ctx), rule.kind, rule.target, rule.min_m, rule.max_pct


def _rule_figures(codes: list[str], geoms: np.ndarray, rulesets: dict[str, RuleSet]) -> dict[tuple[Any, ...], _Figures]:
    """The figures of :meth:`RuleSet.check`, rule by rule, each shared rule measured once (no table per
    zone: this runs for every zone)."""
    from ..rules.rulecheck import rule_arrays

    asks: dict[tuple[Any, ...], tuple[Any, RuleSet, list[int]]] = {}
    for i, code in enumerate(codes):
        for rule in rulesets[code].rules:
            asks.setdefault(_rule_key(rulesets[code], rule), (rule, rulesets[code], []))[2].append(i)
    figures = {}
    for k, (rule, rs, zs) in asks.items():
        actual_a, req, passed = rule_arrays(rule, geoms[zs], rs.ctx.target, rs.ctx.study_area, rs.ctx.slope_at)
        figures[k] = (dict(zip(zs, range(len(zs)))), actual_a, req, passed)
    return figures


def _within_snap(rule: Any, actual: float, req: Any) -> bool:
    """A distance missed by no more than WRITTEN_SNAP_M (the writer's grid; the bisections stop at
    1 cm), or a study area left by no more: not a breach."""
    if rule.group in ("separation", "doe", "constraint") and req is not None and req > 0 \
            and actual >= req - WRITTEN_SNAP_M:
        return True
    return bool(rule.group == "study_area" and actual <= WRITTEN_SNAP_M)


def _rule_problems(out: dict[str, BaseGeometry], rulesets: dict[str, RuleSet] | None) -> list[str]:
    """Zones that break a rule of their category (checked by the rule engine's exact distances)."""
    if not rulesets:
        return []
    codes = [c for c, g in out.items() if not g.is_empty and c in rulesets]
    if not codes:
        return []
    figures = _rule_figures(codes, np.array([out[c] for c in codes], dtype=object), rulesets)
    bad = []
    for i, code in enumerate(codes):
        for rule in rulesets[code].rules:
            at, actual_a, req, passed = figures[_rule_key(rulesets[code], rule)]
            j = at[i]
            actual = float(actual_a[j])
            if not bool(passed[j]) and not _within_snap(rule, actual, req):
                bad.append(f"{code} breaks {rule.rule_id} ({actual:.1f} of {req:g})")
    return bad


def _usable_grid(rs: RuleSet, estate: BaseGeometry) -> BaseGeometry:
    """A category's usable land recomputed on the 1 mm grid (the rule engine's cuts, snap-rounded)."""
    ov = Overlay("grid")
    e = ov.prep(estate)
    cuts = [rs.ctx.forbidden(r, e) for r in rs.rules]
    cuts = [ov.prep(c) for c in cuts if not c.is_empty]
    return ov.diff(e, ov.union(np.asarray(cuts, dtype=object))) if cuts else e



@dataclass(frozen=True)
class EstateContext:
    """What zoning needs to know about one estate besides its demand (all optional).

    Parameters
    ----------
    land, basis
        The estate's free land and what it is based on (:func:`siteplan.zoning.plots.land_basis`); default
        the whole estate, ``indicative``.
    roads
        Road lines near the estate (the blocks follow internal roads).
    strip_m
        Access strip width (m).
    home_sep
        Distance from homes each category's rules ask (orders the categories); default the
        catalogue's ``sep_m``.
    rulesets
        The categories' rule sets: every zone is checked against its rules with exact distances, and
        the ``grid`` and ``raster`` modes recompute the usable land from them rather than trusting
        ``usable`` (itself an overlay).
    modes
        The overlay modes tried in turn until the result passes the checks.
    crs
        The working CRS: when given, each result is first made the geometry the GeoJSON writer will
        write (:func:`siteplan.common.geom.as_written`: zero-width spikes gone, on its 7-decimal grid), so the
        checks and every figure of a zone (``min_home_m``, ``area_ha``, ``compactness``, ...) describe
        the written zone.
    estate_id, units, binding
        Labels for the output rows: the estate's id, the units per category and the binding rule per
        category (why a category's usable land falls short).
    """

    land: BaseGeometry | None = None
    basis: str = "indicative"
    roads: np.ndarray | None = None
    strip_m: float = 12.0
    home_sep: dict[str, float] | None = None
    rulesets: dict[str, RuleSet] | None = None
    modes: tuple[str, ...] = MODES
    crs: Any = None
    estate_id: str = ""
    units: dict[str, int] | None = None
    binding: dict[str, str] | None = None


@dataclass(frozen=True)
class ZoneLabels:
    """What the rows of one estate's zones share.

    Attributes
    ----------
    estate_id
        The estate's id (zone ids are made from it).
    catalogue
        Names and environmental classes of the categories.
    homes
        Union of homes near the estate (``min_home_m``).
    net_share
        Share of a zone's area that is net (saleable) land.
    basis, aligned, mode
        The land basis, what the blocks are aligned with, and the overlay mode that passed the checks.
    """

    estate_id: str
    catalogue: Catalogue
    homes: BaseGeometry
    net_share: float
    basis: str
    aligned: str
    mode: str


def zone_row(labels: ZoneLabels, code: str, geom: BaseGeometry, k: int, units: int, sep: float) -> dict[str, object]:
    """The row of zones.geojson of a category's zone (:data:`ZONE_COLUMNS` and ``geometry``).

    Parameters
    ----------
    labels
        What the estate's zones share.
    code, geom
        The category and its zone.
    k
        The zone's position in the estate (its id is ``<estate>-Z<k + 1>``).
    units, sep
        The category's units in the estate and its distance from homes (m).

    Returns
    -------
    dict
    """
    r = labels.catalogue.row(code)
    estate_id, homes, mode = labels.estate_id, labels.homes, labels.mode
    return {
        "estate_id": estate_id, "zone_id": f"{estate_id}-Z{k + 1:02d}", "category": code,
        "name_fa": str(r["name_fa"]), "name_en": str(r["name_en"]), "env_cat": str(r["env_cat"]),
        "sep_m": round(float(sep), 2),
        "min_home_m": round(float(geom.distance(homes)), 2) if not homes.is_empty else None,
        "area_ha": round(geom.area / M2_PER_HA, 4), "net_ha": round(geom.area * labels.net_share / M2_PER_HA, 4),
        "units": int(units), "plots": None, "compactness": round(polsby_popper(geom), 4),
        "convexity": round(convexity(geom), 4), "aligned_with": labels.aligned, "land_basis": labels.basis,
        "indicative": labels.basis == "indicative", "check": "verified" if mode == "exact" else f"verified ({mode})",
        "geometry": geom,
    }


def _attempt(mode: str, job: Placement, usable: dict[str, BaseGeometry], estate: BaseGeometry, ctx: EstateContext
             ) -> tuple[dict[str, BaseGeometry], Frame | None, list[str]]:
    """One attempt in one overlay mode, and what the checks find wrong with it (GEOS errors raised)."""
    order, rulesets = job.order, ctx.rulesets
    use = usable
    if mode == "grid" and rulesets:
        use = {c: _usable_grid(rulesets[c], estate) if c in rulesets else usable[c] for c in order}
    out, frame = place(mode, job, use)
    if ctx.crs is not None:  # check and describe the zones as they will be written
        keys = list(out)
        out = dict(zip(keys, as_written([out[c] for c in keys], ctx.crs)))
    if mode == "raster" and rulesets:  # squares passed the rule engine; check them against the land only
        use = dict.fromkeys(order, job.land)
    bad = verify_zones([out[c] for c in order], [use[c] for c in order], [job.needs[c] for c in order],
                       job.land, tol=area_tolerance(estate.area),
                       snap_m=WRITTEN_SNAP_M if ctx.crs is not None else 0.0) + _rule_problems(out, rulesets)
    return out, frame, bad


def _first_verified(job: Placement, usable: dict[str, BaseGeometry], estate: BaseGeometry, ctx: EstateContext
                    ) -> tuple[dict[str, BaseGeometry] | None, Frame | None, str, list[str]]:
    """The zones of the first overlay mode whose result passes the checks (None and ``failed`` when
    none does), that mode, and what the failed attempts got wrong."""
    problems: list[str] = []
    for mode in ctx.modes:
        try:
            out, frame, bad = _attempt(mode, job, usable, estate, ctx)
        except shapely.errors.GEOSException as e:
            problems.append(f"{mode}: GEOS error ({e})")
            continue
        except TooManyPieces as e:
            raise InputError(f"zoning estate {ctx.estate_id}: {e.problems[0]}") from None
        if not bad:
            return out, frame, mode, problems
        problems.append(f"{mode}: " + "; ".join(bad))
        log.warning("zoning %s: %s overlay result rejected (%s); recomputing", ctx.estate_id, mode, "; ".join(bad))
    return None, None, "failed", problems


def _why_short(code: str, job: Placement, usable: dict[str, BaseGeometry], ctx: EstateContext, tol: float) -> str:
    """Why a category's zone is smaller than it needs: its rules, the free land or heavier zones."""
    need = job.needs[code]
    if usable[code].area + tol < need:
        return (ctx.binding or {}).get(code) or "estate area"
    if ctx.basis != "indicative" and _safe_area(usable[code], job.land) + tol < need:
        return f"free land ({LAND_BASIS[ctx.basis]})"
    return "land taken by the zones of heavier categories"


def _job(estate: BaseGeometry, demand: dict[str, float], catalogue: Catalogue, homes: BaseGeometry,
         non_saleable: float, shape: str, ctx: EstateContext) -> Placement:
    """The categories of an estate heaviest first, with the gross land each needs."""
    sep = ctx.home_sep or {c: float(catalogue.row(c)["sep_m"]) for c in demand}
    order = category_order([c for c, v in demand.items() if v > 0], catalogue, sep)
    needs = {c: demand[c] / (1.0 - non_saleable) for c in order}
    minx, miny, maxx, maxy = estate.bounds
    t_hi = float(homes.distance(estate) + np.hypot(maxx - minx, maxy - miny)) if not homes.is_empty else 0.0
    return Placement(shape, order, needs, demand, catalogue, estate if ctx.land is None else ctx.land, homes, sep,
                     t_hi, rulesets=ctx.rulesets, roads=ctx.roads, strip_m=ctx.strip_m)


def zone_estate(estate: BaseGeometry, demand: dict[str, float], catalogue: Catalogue,
                usable: dict[str, BaseGeometry], homes: BaseGeometry, *, non_saleable: float,
                shape: str = "blocks", context: EstateContext | None = None) -> ZoneResult:
    """Divide one estate into specialized zones, heaviest categories farthest from homes.

    Parameters
    ----------
    estate
        The estate polygon (working CRS).
    demand
        Net land (m²) assigned to each category.
    catalogue
        Names, environmental classes, value chains and plot sizes of the categories.
    usable
        Per category, the part of the estate its rules allow.
    homes
        Union of homes near the estate.
    non_saleable
        Share of zone area for internal roads, green and utilities.
    shape
        ``blocks``, ``bands`` or ``compact`` (see the module docstring).
    context
        Free land, roads, rules, the labels of the rows and the rest (:class:`EstateContext`).

    Returns
    -------
    ZoneResult
        ``zones``: dicts with the :data:`ZONE_COLUMNS` and ``geometry``; ``shortfall``: dicts with
        ``estate_id``, ``category``, ``short_ha`` and ``rule``.
    """
    ctx = context or EstateContext()
    job = _job(estate, demand, catalogue, homes, non_saleable, shape, ctx)
    out, frame, mode, problems = _first_verified(job, usable, estate, ctx)
    if out is None:
        short = [{"estate_id": ctx.estate_id, "category": c, "short_ha": round(job.needs[c] / M2_PER_HA, 4),
                  "rule": "zone geometry could not be verified"} for c in job.order]
        return ZoneResult([], short, "failed", tuple(problems), None)
    tol = area_tolerance(estate.area)
    labels = ZoneLabels(ctx.estate_id, catalogue, homes, 1 - non_saleable, ctx.basis,
                        frame.basis if frame is not None else "", mode)
    units = ctx.units or {}
    zones, short = [], []
    short_tol = max(tol, raster_side(job.land) ** 2) if mode == "raster" else tol  # whole squares
    for k, code in enumerate(job.order):
        part = out[code]
        if part.area + short_tol < job.needs[code]:
            short.append({"estate_id": ctx.estate_id, "category": code,
                          "short_ha": round((job.needs[code] - part.area) / M2_PER_HA, 4),
                          "rule": _why_short(code, job, usable, ctx, tol)})
        if not part.is_empty:
            zones.append(zone_row(labels, code, part, k, units.get(code, 0), job.sep[code]))
    return ZoneResult(zones, short, mode, tuple(problems), frame)


def _safe_area(a: BaseGeometry, b: BaseGeometry) -> float:
    """Area of the intersection, on the 1 mm grid when GEOS fails on the exact one."""
    try:
        return float(a.intersection(b).area)
    except shapely.errors.GEOSException:
        return float(shapely.intersection(a, b, grid_size=1e-3).area)
