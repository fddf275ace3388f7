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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..common.geom import WRITTEN_SNAP_M, as_written, polsby_popper, polygonal
from ..common.units import M2_PER_HA
from ..errors import InputError
from ..guilds.catalogue import Catalogue
from ..rules.ruleset import RuleSet, buffer_out, target_geoms
from ..scenario import Scenario
from .blocks import Frame, TooManyPieces, assign_cells, block_frame, cells, check_pieces, plot_boxes
from .plots import FREE_STATUS, LAND_BASIS, land_basis, match_plots, plot_need_m2, plots_allowed, reletting_table
from .zone_check import MODES, Overlay, area_tolerance, raster_side, raster_squares, verify_zones

log = logging.getLogger(__name__)

#: homes within this many times the largest separation distance shape an estate's zones
HOMES_REACH_FACTOR = 3.0
#: ... and at least within this distance (m)
MIN_HOMES_REACH_M = 5_000.0
#: the heaviness order of zones is enforced up to this many times the largest separation distance ...
ORDER_REACH_FACTOR = 2.0
#: ... and at least this distance from homes (m)
MIN_ORDER_REACH_M = 1_000.0
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
PLOT_COLUMNS = ["plot_id", "estate_id", "zone_id", "category", "name_fa", "name_en", "env_cat", "sep_m",
                "min_home_m", "status", "biz_id", "area_m2"]

__all__ = ["homes_geoms", "zone_estate", "EstateContext", "zone_estates", "zone_plan", "ZoneResult", "ZonePlan", "polsby_popper",
           "subdivide_plots", "plots_for_zones", "category_order", "home_separation", "SHAPES", "MIN_CONVEXITY",
           "convexity", "order_reach", "zoning_sheets", "SHEET_COLUMNS", "ZoningSheet", "plot_need"]


def homes_geoms(layers: dict[str, gpd.GeoDataFrame], scenario: Scenario) -> np.ndarray:
    """Every home (quiet and mixed urban areas, housing receptors): the reference for zone bands."""
    return np.concatenate([target_geoms("homes", layers, scenario), target_geoms("homes_mixed", layers, scenario)])


def home_separation(rs: RuleSet) -> float:
    """The largest distance from homes a category's rules ask (VNG or DOE), in metres."""
    return max([float(r.min_m) for r in rs if r.kind == "distance" and r.target in ("homes", "homes_mixed")],
               default=0.0)


def category_order(codes: list[str], catalogue: Catalogue, home_sep: dict[str, float] | None = None) -> list[str]:
    """Heaviest first (largest distance from homes, then environmental class); among equals,
    value-chain partners next to each other."""
    sep = home_sep or {c: float(catalogue.row(c)["sep_m"]) for c in codes}
    return sorted(codes, key=lambda c: (-sep[c], -catalogue.env_rank(c), str(catalogue.row(c)["chain"] or ""), c))


def convexity(g: BaseGeometry) -> float:
    """Area over convex-hull area (1 for a convex zone)."""
    h = g.convex_hull.area
    return float(g.area / h) if h > 0 else 0.0


@dataclass(frozen=True)
class ZoneResult:
    """Zones of one estate and the shortfall of categories that did not fit.

    ``mode`` is the overlay mode whose result passed the checks (``exact``, ``grid`` or ``raster``)
    and ``problems`` what the failed attempts got wrong.
    """

    zones: list[dict[str, object]]
    shortfall: list[dict[str, object]]
    mode: str = "exact"
    problems: tuple[str, ...] = ()
    frame: Frame | None = None


def _bisect_area(part_at: "Callable[[float], BaseGeometry]", lo: float, hi: float, need_m2: float, *,
                 grows: bool, fallback: BaseGeometry) -> BaseGeometry:
    """Bisect a one-parameter family of parts for the one whose area is ``need_m2`` (within 0.05 %).

    ``grows``: the area increases with the parameter (a disc's radius) rather than decreasing with it
    (a distance from homes). Returns the smallest part found with at least the area needed, else
    ``fallback``.
    """
    best = fallback
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        part = part_at(mid)
        a = part.area
        if a >= need_m2:
            best = part
            hi, lo = (mid, lo) if grows else (hi, mid)
            if a - need_m2 <= 0.0005 * need_m2:
                break
        else:
            hi, lo = (hi, mid) if grows else (mid, lo)
        if hi - lo < 0.01:
            break
    return best


def _far_part(domain: BaseGeometry, homes: BaseGeometry, need_m2: float, t_hi: float, ov: Overlay) -> BaseGeometry:
    """The part of ``domain`` at least t from homes whose area is ``need_m2`` (bisection on t)."""
    if homes.is_empty:
        return domain
    return _bisect_area(lambda t: ov.diff(domain, buffer_out(homes, t)), 0.0, t_hi, need_m2,
                        grows=False, fallback=domain)


def _compact_part(domain: BaseGeometry, homes: BaseGeometry, need_m2: float, ov: Overlay) -> BaseGeometry:
    """The part of ``domain`` within a disc around its point farthest from homes, of area ``need_m2``."""
    minx, miny, maxx, maxy = domain.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 30), np.linspace(miny, maxy, 30))
    cand = shapely.points(gx.ravel(), gy.ravel())
    cand = cand[shapely.contains(domain, cand)]
    verts = shapely.points(shapely.get_coordinates(domain))
    pts = np.concatenate([cand, verts])
    d = shapely.distance(pts, homes) if not homes.is_empty else np.zeros(len(pts))
    far = pts[int(np.argmax(d))]
    return _bisect_area(lambda r: ov.inter(domain, shapely.buffer(far, r, quad_segs=12)), 0.0,
                        float(np.hypot(maxx - minx, maxy - miny)) * 1.01, need_m2, grows=True, fallback=domain)


def _plot_depth(order: list[str], demand: dict[str, float], catalogue: Catalogue) -> float:
    """Plot depth of an estate's blocks: plots twice as deep as wide for the land-weighted median
    plot size of the categories zoned there (10–80 m)."""
    from .blocks import MAX_DEPTH_M, MIN_DEPTH_M

    size = np.array([float(catalogue.row(c)["plot_m2"]) for c in order])
    w = np.array([demand[c] for c in order])
    k = np.argsort(size, kind="stable")
    med = size[k][int(np.searchsorted(np.cumsum(w[k]), 0.5 * w.sum()))] if w.sum() > 0 else 500.0
    return float(np.clip(np.sqrt(2.0 * med), MIN_DEPTH_M, MAX_DEPTH_M))


def order_reach(sep: dict[str, float]) -> float:
    """Distance from homes (m) beyond which the heaviness order of zones is not enforced: twice the
    largest separation the estate's categories ask, at least :data:`MIN_ORDER_REACH_M`. Farther out
    every zone already keeps every rule's distance with room to spare, and blocks take precedence."""
    return max(ORDER_REACH_FACTOR * max(sep.values(), default=0.0), MIN_ORDER_REACH_M)


def _misordered(out: dict[str, BaseGeometry], order: list[str], sep: dict[str, float], homes: BaseGeometry) -> bool:
    """A heavier category's zone closer to homes than a lighter one's (by more than 1 m), distances
    capped at :func:`order_reach`."""
    if homes.is_empty:
        return False
    reach = order_reach({c: sep[c] for c in order})
    d = {c: min(float(out[c].distance(homes)), reach) for c in order if not out[c].is_empty}
    cs = list(d)
    return any(sep[a] > sep[b] and d[a] < d[b] - 1.0 for i, a in enumerate(cs) for b in cs[i + 1:])


def _rules_pass(rs: RuleSet, geoms: np.ndarray, slack_m: float = 0.01) -> np.ndarray:
    """Which geometries keep every rule of ``rs`` (exact distances, no overlay; ``slack_m`` of rounding)."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=bool)
    chk = rs.check(geoms)
    dist = chk["group"].isin(["separation", "doe", "constraint"]).to_numpy() & (chk["required_m"].to_numpy(float) > 0)
    ok = chk["passed"].to_numpy(bool) | (dist & (chk["actual_m"].to_numpy(float) >= chk["required_m"].to_numpy(float)
                                                 - slack_m))
    return pd.Series(ok).groupby(chk["id"].to_numpy()).all().reindex(range(len(geoms)), fill_value=True).to_numpy()


def _rule_problems(out: dict[str, BaseGeometry], rulesets: dict[str, RuleSet] | None) -> list[str]:
    """Zones that break a rule of their category (checked by the rule engine's exact distances)."""
    if not rulesets:
        return []
    from ..rules.rulecheck import rule_arrays

    codes = [c for c, g in out.items() if not g.is_empty and c in rulesets]
    if not codes:
        return []
    geoms = np.array([out[c] for c in codes], dtype=object)
    # the figures of RuleSet.check, rule by rule (no table per zone: this runs for every zone); a rule
    # several zones share (same kind, target and limits) is measured once for all of them
    def key(rs: RuleSet, rule: Any) -> tuple[Any, ...]:
        return id(rs.ctx), rule.kind, rule.target, rule.min_m, rule.max_pct

    asks: dict[tuple[Any, ...], tuple[Any, RuleSet, list[int]]] = {}
    for i, code in enumerate(codes):
        for rule in rulesets[code].rules:
            asks.setdefault(key(rulesets[code], rule), (rule, rulesets[code], []))[2].append(i)
    figures = {}
    for k, (rule, rs, zs) in asks.items():
        actual_a, req, passed = rule_arrays(rule, geoms[zs], rs.ctx.target, rs.ctx.study_area, rs.ctx.slope_at)
        figures[k] = (dict(zip(zs, range(len(zs)))), actual_a, req, passed)
    bad = []
    for i, code in enumerate(codes):
        for rule in rulesets[code].rules:
            at, actual_a, req, passed = figures[key(rulesets[code], rule)]
            j = at[i]
            actual = float(actual_a[j])
            if bool(passed[j]):
                continue
            # within WRITTEN_SNAP_M (the writer's grid; the bisections stop at 1 cm) is not a breach
            if rule.group in ("separation", "doe", "constraint") and req is not None and req > 0 \
                    and actual >= req - WRITTEN_SNAP_M:
                continue
            if rule.group == "study_area" and actual <= WRITTEN_SNAP_M:
                continue
            bad.append(f"{code} breaks {rule.rule_id} ({actual:.1f} of {req:g})")
    return bad


def _usable_grid(rs: RuleSet, estate: BaseGeometry) -> BaseGeometry:
    """A category's usable land recomputed on the 1 mm grid (the rule engine's cuts, snap-rounded)."""
    ov = Overlay("grid")
    e = ov.prep(estate)
    cuts = [rs.ctx.forbidden(r, e) for r in rs.rules]
    cuts = [ov.prep(c) for c in cuts if not c.is_empty]
    return ov.diff(e, ov.union(np.asarray(cuts, dtype=object))) if cuts else e


def _place_raster(order: list[str], needs: dict[str, float], usable: dict[str, BaseGeometry], land: BaseGeometry,
                  homes: BaseGeometry, rulesets: dict[str, RuleSet] | None = None) -> dict[str, BaseGeometry]:
    """Zones as unions of whole squares on the land, farthest from homes first; a square is a
    category's when the rule engine passes it (exact distances), else when its usable land covers it."""
    sq, side = raster_squares(land)
    cell = side * side
    idx = np.arange(len(sq))
    if len(sq) and not homes.is_empty:
        idx = np.lexsort((idx, -np.round(shapely.distance(sq, homes), 3)))
    taken = np.zeros(len(sq), dtype=bool)
    out = {}
    for code in order:
        if rulesets and code in rulesets:
            allow = _rules_pass(rulesets[code], sq[idx])
        else:
            u = usable[code]
            shapely.prepare(u)
            allow = shapely.covers(u, sq[idx])
        ok = idx[allow & ~taken[idx]]
        k = min(len(ok), int(np.floor(needs[code] / cell + 1e-9)))
        taken[ok[:k]] = True
        out[code] = shapely.coverage_union_all(sq[ok[:k]]) if k else shapely.Polygon()
    return out


@dataclass(frozen=True)
class EstateContext:
    """What zoning needs to know about one estate besides its demand (all optional).

    Attributes
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
    """

    land: BaseGeometry | None = None
    basis: str = "indicative"
    roads: np.ndarray | None = None
    strip_m: float = 12.0
    home_sep: dict[str, float] | None = None
    rulesets: dict[str, RuleSet] | None = None
    modes: tuple[str, ...] = MODES
    crs: Any = None


@dataclass(frozen=True)
class _Job:
    shape: str
    order: list[str]
    needs: dict[str, float]
    demand: dict[str, float]
    catalogue: Catalogue
    land: BaseGeometry
    homes: BaseGeometry
    sep: dict[str, float]
    t_hi: float
    ctx: EstateContext


def _place(mode: str, job: _Job, usable: dict[str, BaseGeometry]) -> tuple[dict[str, BaseGeometry], Frame | None]:
    """One attempt at an estate's zones in one overlay mode."""
    order, needs, land, homes, sep, shape = job.order, job.needs, job.land, job.homes, job.sep, job.shape
    if mode == "raster":
        return _place_raster(order, needs, usable, land, homes, job.ctx.rulesets), None
    ov = Overlay(mode)
    land_p = ov.prep(land)
    allowed = {c: ov.inter(ov.prep(usable[c]), land_p) for c in order}
    frame, out = None, {}
    if shape == "blocks":
        frame = block_frame(land_p, homes, depth=_plot_depth(order, job.demand, job.catalogue),
                            strip=job.ctx.strip_m, roads=job.ctx.roads)
        # axis-aligned in the frame (see blocks.cells), back to the working CRS at the end
        land_f, homes_f = frame.to_frame(land_p), frame.to_frame(homes)
        # one transform for all (the same arithmetic per vertex as one geometry at a time)
        allowed_f = dict(zip(allowed, frame.to_frame(np.array(list(allowed.values()), dtype=object))))
        # bands of rows about as tall as the median zone is wide, then one row at a time, then strips
        # along whole rows: the first whose zones keep heavier categories no closer to homes than
        # lighter ones; else distance bands
        side = float(np.sqrt(np.median([needs[c] for c in order])))
        tries = [(R, False) for R in sorted({max(1, int(round(side / frame.pitch))), 1}, reverse=True)] + [(1, True)]
        for R, whole in tries:
            cl = cells(frame, land_f, ov, band_rows=R, whole_rows=whole)
            got = assign_cells(cl, order, needs, allowed_f, ov)
            if not _misordered(got, order, sep, homes_f):
                out = dict(zip(got, frame.to_world(np.array(list(got.values()), dtype=object))))
                break
        else:
            frame = replace(frame, basis="distance bands")
    if not out:
        remaining = land_p
        for code in order:
            domain = ov.inter(allowed[code], remaining)
            if domain.area <= needs[code]:
                part = domain
            elif shape == "compact":
                part = _compact_part(domain, homes, needs[code], ov)
            else:
                part = _far_part(domain, homes, needs[code], job.t_hi, ov)
            part = polygonal(shapely.make_valid(part), min_area=1.0)  # slivers of band edges dropped
            out[code] = part
            if not part.is_empty:
                remaining = ov.diff(remaining, part)
    return {c: polygonal(shapely.make_valid(g), min_area=1.0) for c, g in out.items()}, frame


def _row(code: str, geom: BaseGeometry, k: int, estate_id: str, catalogue: Catalogue, units: int,
         sep: float, homes: BaseGeometry, net_share: float, basis: str, aligned: str, mode: str) -> dict[str, object]:
    r = catalogue.row(code)
    return {
        "estate_id": estate_id, "zone_id": f"{estate_id}-Z{k + 1:02d}", "category": code,
        "name_fa": str(r["name_fa"]), "name_en": str(r["name_en"]), "env_cat": str(r["env_cat"]),
        "sep_m": round(float(sep), 2),
        "min_home_m": round(float(geom.distance(homes)), 2) if not homes.is_empty else None,
        "area_ha": round(geom.area / M2_PER_HA, 4), "net_ha": round(geom.area * net_share / M2_PER_HA, 4),
        "units": int(units), "plots": None, "compactness": round(polsby_popper(geom), 4),
        "convexity": round(convexity(geom), 4), "aligned_with": aligned, "land_basis": basis,
        "indicative": basis == "indicative", "check": "verified" if mode == "exact" else f"verified ({mode})",
        "geometry": geom,
    }


def zone_estate(estate: BaseGeometry, demand: dict[str, float], catalogue: Catalogue,
                usable: dict[str, BaseGeometry], homes: BaseGeometry, *, non_saleable: float,
                estate_id: str = "", units: dict[str, int] | None = None,
                binding: dict[str, str] | None = None, shape: str = "blocks",
                context: EstateContext | None = None) -> ZoneResult:
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
    estate_id, units, binding
        Labels for the output rows (units per category, binding rule per category).
    shape
        ``blocks``, ``bands`` or ``compact`` (see the module docstring).
    context
        Free land, roads, rules and the rest (:class:`EstateContext`).

    Returns
    -------
    ZoneResult
        ``zones``: dicts with the :data:`ZONE_COLUMNS` and ``geometry``; ``shortfall``: dicts with
        ``estate_id``, ``category``, ``short_ha`` and ``rule``.
    """
    ctx = context or EstateContext()
    units = units or {}
    binding = binding or {}
    land = estate if ctx.land is None else ctx.land
    basis, rulesets = ctx.basis, ctx.rulesets
    sep = ctx.home_sep or {c: float(catalogue.row(c)["sep_m"]) for c in demand}
    order = category_order([c for c, v in demand.items() if v > 0], catalogue, sep)
    needs = {c: demand[c] / (1.0 - non_saleable) for c in order}
    minx, miny, maxx, maxy = estate.bounds
    t_hi = float(homes.distance(estate) + np.hypot(maxx - minx, maxy - miny)) if not homes.is_empty else 0.0
    job = _Job(shape, order, needs, demand, catalogue, land, homes, sep, t_hi, ctx)
    tol = area_tolerance(estate.area)
    problems: list[str] = []
    out: dict[str, BaseGeometry] = {}
    frame, mode = None, ""
    for mode in ctx.modes:
        use = usable
        try:
            if mode == "grid" and rulesets:
                use = {c: _usable_grid(rulesets[c], estate) if c in rulesets else usable[c] for c in order}
            out, frame = _place(mode, job, use)
            if ctx.crs is not None:  # check and describe the zones as they will be written
                keys = list(out)
                out = dict(zip(keys, as_written([out[c] for c in keys], ctx.crs)))
            if mode == "raster" and rulesets:  # squares passed the rule engine; check them against the land only
                use = dict.fromkeys(order, land)
            bad = verify_zones([out[c] for c in order], [use[c] for c in order], [needs[c] for c in order],
                               land, tol=tol, snap_m=WRITTEN_SNAP_M if ctx.crs is not None else 0.0) \
                + _rule_problems(out, rulesets)
        except shapely.errors.GEOSException as e:
            problems.append(f"{mode}: GEOS error ({e})")
            continue
        except TooManyPieces as e:
            raise InputError(f"zoning estate {estate_id}: {e.problems[0]}") from None
        if not bad:
            break
        problems.append(f"{mode}: " + "; ".join(bad))
        log.warning("zoning %s: %s overlay result rejected (%s); recomputing", estate_id, mode, "; ".join(bad))
    else:
        short = [{"estate_id": estate_id, "category": c, "short_ha": round(needs[c] / M2_PER_HA, 4),
                  "rule": "zone geometry could not be verified"} for c in order]
        return ZoneResult([], short, "failed", tuple(problems), None)
    aligned = frame.basis if frame is not None else ""
    zones, short = [], []
    short_tol = max(tol, raster_side(land) ** 2) if mode == "raster" else tol  # whole squares
    for k, code in enumerate(order):
        part = out[code]
        if part.area + short_tol < needs[code]:
            lack = needs[code] - part.area
            if usable[code].area + tol < needs[code]:
                why = binding.get(code) or "estate area"
            elif basis != "indicative" and _safe_area(usable[code], land) + tol < needs[code]:
                why = f"free land ({LAND_BASIS[basis]})"
            else:
                why = "land taken by the zones of heavier categories"
            short.append({"estate_id": estate_id, "category": code, "short_ha": round(lack / M2_PER_HA, 4),
                          "rule": why})
        if part.is_empty:
            continue
        zones.append(_row(code, part, k, estate_id, catalogue, units.get(code, 0), sep[code], homes,
                          1 - non_saleable, basis, aligned, mode))
    return ZoneResult(zones, short, mode, tuple(problems), frame)


def _safe_area(a: BaseGeometry, b: BaseGeometry) -> float:
    try:
        return float(a.intersection(b).area)
    except shapely.errors.GEOSException:
        return float(shapely.intersection(a, b, grid_size=1e-3).area)


@dataclass
class ZonePlan:
    """Zones, plots and re-letting of every receiving estate.

    Attributes
    ----------
    zones
        One row per zone (:data:`ZONE_COLUMNS`).
    shortfall
        ``estate_id``, ``category``, ``short_ha``, ``rule``.
    plots
        Existing plots (every estate of the plots layer) and generated ones (``zoning.plots``) with
        their tenant (:data:`PLOT_COLUMNS` and ``use``); None when there are neither.
    tenancy
        Per assigned business: ``biz_id``, ``plot_id`` and ``plot_reason`` (why it has no plot, on an
        estate with plots).
    reletting
        Every terminated plot with its new tenant or why it stays empty
        (:data:`siteplan.zoning.plots.RELET_COLUMNS`).
    notes
        Warnings for the run (indicative zones, recovered overlays, plots short).
    """

    zones: gpd.GeoDataFrame
    shortfall: pd.DataFrame
    plots: gpd.GeoDataFrame | None
    tenancy: pd.DataFrame
    reletting: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _plot_frame(g: gpd.GeoDataFrame, homes: BaseGeometry) -> pd.DataFrame:
    area = g["area_m2"].astype(float) if "area_m2" in g else pd.Series(np.nan, index=g.index)
    area = area.fillna(pd.Series(g.geometry.area, index=g.index))
    home = shapely.distance(g.geometry.values, homes) if not homes.is_empty else np.full(len(g), np.nan)
    return pd.DataFrame({"plot_id": g["plot_id"].to_numpy(), "status": g["status"].to_numpy(),
                         "area_m2": area.to_numpy(float), "home_m": np.asarray(home, float)})


def _zone_on_plots(eid: str, mine: gpd.GeoDataFrame, order: list[str], biz: pd.DataFrame,
                   usable: dict[str, BaseGeometry], homes: BaseGeometry, catalogue: Catalogue,
                   sep: dict[str, float], relet_first: tuple[str, ...], crs: Any = None
                   ) -> tuple[ZoneResult, pd.DataFrame, pd.DataFrame, dict[str, bool]]:
    """Zones of an estate made of its free plots: each business gets a plot; a zone is the plots of
    its category (checked and described as written when ``crs`` is given, as in :class:`EstateContext`)."""
    free = mine[mine["status"].isin(FREE_STATUS)]
    pf = _plot_frame(free, homes)
    geoms = free.geometry.values
    cats = list(dict.fromkeys(list(order) + [c for c in relet_first if c in usable]))
    allowed = {c: plots_allowed(geoms, usable[c]) for c in cats}
    ten, unp = match_plots(pf, biz, order, allowed, relet_first=relet_first)
    allowed_any = dict(zip(pf["plot_id"], np.any([allowed[c] for c in order], axis=0)
                           if order else np.zeros(len(pf), bool)))
    pos = {p: i for i, p in enumerate(pf["plot_id"])}
    zones, short = [], []
    land = shapely.union_all(geoms)
    got = []
    for k, code in enumerate(order):
        ids = ten.loc[ten["category"] == code, "plot_id"]
        left = unp[unp["biz_id"].isin(biz.loc[biz["category"] == code, "biz_id"])]
        if len(left):
            need = biz.set_index("biz_id").loc[left["biz_id"], "land_m2"].astype(float).sum()
            why = left["reason"].str.split(" \\(").str[0].value_counts().index[0]
            short.append({"estate_id": eid, "category": code, "short_ha": round(need / M2_PER_HA, 4),
                          "rule": f"plots: {why}"})
        if not len(ids):
            continue
        g = shapely.union_all(geoms[[pos[p] for p in ids]])
        got.append((k, code, g, len(ids)))
    needs = [g.area for _, _, g, _ in got]
    if crs is not None and got:
        got = [(k, c, w, n) for (k, c, _, n), w in zip(got, as_written([g for _, _, g, _ in got], crs))]
    tol = area_tolerance(land.area if not land.is_empty else 1.0)
    bad = verify_zones([g for _, _, g, _ in got], [usable[c] for _, c, _, _ in got], needs, land, tol=tol,
                       snap_m=WRITTEN_SNAP_M if crs is not None else 0.0)
    for k, code, g, n in got:
        r = _row(code, g, k, eid, catalogue, n, sep[code], homes, 1.0, "plots", "plots", "exact")
        r["plots"] = n
        if bad:
            r["check"] = "NOT verified: " + "; ".join(bad)
        zones.append(r)
    return ZoneResult(zones, short, "exact", tuple(bad), None), ten, unp, allowed_any


def _layer_geoms(layers: dict[str, gpd.GeoDataFrame]
                 ) -> tuple[gpd.GeoDataFrame | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The plots layer and the geometries of the occupied, vacant_land and roads layers (None if absent)."""
    def g(name: str) -> np.ndarray | None:
        return layers[name].geometry.values if name in layers and len(layers[name]) else None

    return layers.get("plots"), g("occupied"), g("vacant_land"), g("roads")


def _homes_near(geom: BaseGeometry, homes_all: np.ndarray, tree: shapely.STRtree | None, reach: float
                ) -> BaseGeometry:
    """Union of the homes within ``reach`` of an estate (the nearest one at least)."""
    if tree is None:
        return shapely.Polygon()
    idx = tree.query(geom, predicate="dwithin", distance=reach)
    if len(idx) == 0:
        idx = tree.query_nearest(geom)
    return shapely.union_all(homes_all[idx])


def _generated_plots(res: ZoneResult, eid: str, biz: pd.DataFrame, homes: BaseGeometry, catalogue: Catalogue,
                     strip_m: float, crs: object
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, object]], list[str]]:
    """Plots of the category's size in each zone of an estate (``zoning.plots``), given to its businesses.

    Returns
    -------
    tenancy, unplaced, plot rows, notes
    """
    tens, unps, rows, notes = [], [], [], []
    for z in res.zones:
        code, zid = str(z["category"]), str(z["zone_id"])
        size = float(catalogue.row(code)["plot_m2"])
        zg = z["geometry"]
        assert isinstance(zg, BaseGeometry)
        try:
            boxes = (plot_boxes(res.frame, zg, size) if res.frame is not None and res.frame.basis != "distance bands"
                     else np.asarray(subdivide_plots(zg, size, strip_m=strip_m), dtype=object))
        except TooManyPieces as e:
            raise InputError(f"zoning estate {eid}, zone {zid}: {e.problems[0]}") from None
        pid = [f"{zid}-P{i:03d}" for i in range(1, len(boxes) + 1)]
        g = gpd.GeoDataFrame({"plot_id": pid, "status": "new", "area_m2": shapely.area(boxes)},
                             geometry=list(boxes), crs=crs)
        pf = _plot_frame(g, homes)
        ten, unp = match_plots(pf, biz[biz["category"] == code], [code], {code: np.ones(len(pf), dtype=bool)})
        z["plots"] = len(pid)
        tens.append(ten)
        unps.append(unp)
        who = dict(zip(ten["plot_id"], ten["biz_id"]))
        rows += [{"plot_id": p, "estate_id": eid, "zone_id": zid, "category": code, "status": "new",
                  "biz_id": who.get(p), "area_m2": round(float(a), 2), "use": "let" if p in who else "empty",
                  "geometry": bx} for p, bx, a in zip(pid, boxes, pf["area_m2"])]
        if len(pid) < int(z["units"]):  # type: ignore[call-overload]
            notes.append(f"plots {zid}: {len(pid)} plots of the category's size fit for {z['units']} units")
    empty_t = pd.DataFrame(columns=["plot_id", "biz_id", "category"])
    empty_u = pd.DataFrame(columns=["biz_id", "reason"])
    return (pd.concat(tens, ignore_index=True) if tens else empty_t,
            pd.concat(unps, ignore_index=True) if unps else empty_u, rows, notes)


def _tenancy(tenancy: list[pd.DataFrame], unplaced: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All plot tenancies, and per business its ``plot_id`` or ``plot_reason``."""
    ten = [t for t in tenancy if len(t)]
    unp = [u for u in unplaced if len(u)]
    ten_all = pd.concat(ten, ignore_index=True) if ten else pd.DataFrame(columns=["plot_id", "biz_id", "category"])
    unp_all = pd.concat(unp, ignore_index=True) if unp else pd.DataFrame(columns=["biz_id", "reason"])
    tn = pd.concat([pd.DataFrame({"biz_id": ten_all["biz_id"], "plot_id": ten_all["plot_id"], "plot_reason": ""}),
                    pd.DataFrame({"biz_id": unp_all["biz_id"], "plot_id": None, "plot_reason": unp_all["reason"]})],
                   ignore_index=True)
    return ten_all, tn


def plot_need(biz: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The businesses with ``land_m2`` turned into the plot each needs: its net land scaled by its
    category's plot norm over its land norm (``plot_m2 / land_m2`` of the catalogue), so a business
    of the catalogue's typical size needs exactly the category's standard plot (a car repair shop's
    350 m² of net land, a 300 m² workshop plot) and a larger one a proportionally larger plot."""
    if not len(biz):
        return biz
    t = catalogue.table
    return biz.assign(land_m2=plot_need_m2(biz["land_m2"].to_numpy(float), biz["category"].to_numpy(),
                                           dict(zip(t["code"], t["plot_m2"].astype(float))),
                                           dict(zip(t["code"], t["land_m2"].astype(float)))))


def _pseudo_businesses(grp: pd.DataFrame) -> pd.DataFrame:
    """One row per unit when only the demand is known (equal shares of the category's land)."""
    rows = []
    for r in grp.itertuples():
        n = max(1, int(r.units))
        rows += [(f"{r.category}#{i + 1}", r.category, float(r.land_m2) / n, "") for i in range(n)]
    return pd.DataFrame(rows, columns=["biz_id", "category", "land_m2", "name"])


def _per_estate(estates: gpd.GeoDataFrame, businesses: pd.DataFrame | None, catalogue: Catalogue
                ) -> tuple[dict[Any, BaseGeometry], pd.DataFrame | None, dict[Any, np.ndarray]]:
    """Looked up once for every estate: its polygon (the first row of its id), the businesses' plot
    needs (:func:`plot_need`; None without businesses) and the positions of each estate's businesses."""
    first = pd.Series(np.arange(len(estates))).groupby(estates["estate_id"].to_numpy(), sort=False).first()
    estate_geom = dict(zip(first.index, estates.geometry.values[first.to_numpy()]))
    if businesses is None:
        return estate_geom, None, {}
    need = plot_need(businesses[["biz_id", "category", "land_m2", "name"]], catalogue)
    at = pd.Series(np.arange(len(businesses))).groupby(businesses["estate_id"].to_numpy(), sort=False).groups
    return estate_geom, need, {k: np.asarray(v) for k, v in at.items()}


def zone_plan(estates: gpd.GeoDataFrame, demand: pd.DataFrame, catalogue: Catalogue,
              rules: dict[str, RuleSet], layers: dict[str, gpd.GeoDataFrame], scenario: Scenario,
              usable_table: pd.DataFrame | None = None, *, businesses: pd.DataFrame | None = None,
              written: bool = False) -> ZonePlan:
    """Zone every receiving estate, give the businesses plots and re-let terminated plots.

    Parameters
    ----------
    estates
        Estate polygons with ``estate_id``.
    demand
        Rows ``estate_id``, ``category``, ``land_m2`` (net), ``units``.
    catalogue, layers, scenario
        As elsewhere; ``layers`` may hold ``plots``, ``occupied``, ``vacant_land`` and ``roads``.
    rules
        The categories' rule sets: each zone lies on land its category's rules allow (every rule,
        slope and study area included).
    usable_table
        Output of :func:`siteplan.rules.ruleset.usable_land` (for the binding rule labels).
    businesses
        The assigned businesses (``biz_id``, ``estate_id``, ``category``, ``land_m2``, ``name``), for
        plot-level assignment; default one equal share per unit.
    written
        Check and describe each zone as the GeoJSON writer will write it (``crs`` of
        :class:`EstateContext`; a run does); else the exact overlay result is kept.

    Returns
    -------
    ZonePlan
    """
    zs = scenario.zoning
    ns = zs.non_saleable_share
    non_saleable = (1.0 - scenario.allocation.net_to_gross) if ns is None else ns
    homes_all = homes_geoms(layers, scenario)
    tree = shapely.STRtree(homes_all) if len(homes_all) else None
    reach = max(float(catalogue.table["sep_m"].max()) * HOMES_REACH_FACTOR, MIN_HOMES_REACH_M)
    plots_layer, occupied, vacant, roads_all = _layer_geoms(layers)
    roads_tree = shapely.STRtree(roads_all) if roads_all is not None else None
    relet_first = tuple(c for c in zs.relet_first if c in catalogue)
    zones, short, notes = [], [], _setting_notes(zs, catalogue)
    crs = estates.crs if written else None
    tenancy, unplaced, gen_rows, allowed_any = [], [], [], {}
    bind = {}
    if usable_table is not None:
        bind = {(r.estate_id, r.category): r.binding for r in usable_table.itertuples()}
    indicative, recovered = [], []
    estate_geom, biz_need, biz_rows = _per_estate(estates, businesses, catalogue)
    for eid, grp in demand[demand["land_m2"] > 0].groupby("estate_id", sort=True):
        if (geom := estate_geom.get(eid)) is None:
            continue
        d = dict(zip(grp["category"], grp["land_m2"].astype(float)))
        u = dict(zip(grp["category"], grp["units"].astype(int)))
        homes = _homes_near(geom, homes_all, tree, reach)
        cuts: dict = {}  # rules the categories share are cut once
        cats = list(dict.fromkeys(list(d) + [c for c in relet_first if c in rules]))
        usable = {c: rules[c].usable(geom, cache=cuts)[0] for c in cats}
        sep = {c: max(home_separation(rules[c]), float(catalogue.row(c)["sep_m"])) for c in cats}
        land, basis = land_basis(geom, str(eid), plots_layer, occupied, vacant)
        biz = plot_need(_pseudo_businesses(grp), catalogue) if biz_need is None else \
            biz_need.iloc[biz_rows.get(eid, np.zeros(0, dtype=np.intp))]
        if basis == "plots":
            assert plots_layer is not None
            mine = plots_layer[plots_layer["estate_id"].astype(str) == str(eid)]
            res, ten, unp, allowed = _zone_on_plots(str(eid), mine, category_order(list(d), catalogue, sep), biz,
                                                    usable, homes, catalogue, sep, relet_first, crs)
            allowed_any.update(allowed)
            tenancy.append(ten)
            unplaced.append(unp)
            notes += [f"zoning {eid}: the plots of different categories overlap ({p}); check the plots layer"
                      for p in res.problems]
        else:
            roads = roads_all[roads_tree.query(geom)] if roads_all is not None and roads_tree is not None else None
            ctx = EstateContext(land, basis, roads, zs.strip_m, sep, rules, crs=crs)
            res = zone_estate(geom, d, catalogue, usable, homes, non_saleable=non_saleable, estate_id=str(eid),
                              units=u, binding={c: bind.get((eid, c), "") for c in d}, shape=zs.shape, context=ctx)
            if basis == "indicative":
                indicative.append(str(eid))
            if res.problems:
                recovered.append(f"{eid} ({res.mode}; rejected: {' | '.join(res.problems)})")
            if zs.plots:
                ten, unp, rows, few = _generated_plots(res, str(eid), biz, homes, catalogue, zs.strip_m, estates.crs)
                tenancy.append(ten)
                unplaced.append(unp)
                gen_rows.extend(rows)
                notes.extend(few)
        zones.extend(res.zones)
        short.extend(res.shortfall)
    notes += _zoning_notes(indicative, recovered)
    zg = gpd.GeoDataFrame(zones or None, columns=ZONE_COLUMNS + ["geometry"], geometry="geometry", crs=estates.crs)
    ten_all, tn = _tenancy(tenancy, unplaced)
    biz_all = plot_need(businesses, catalogue) if businesses is not None else \
        pd.DataFrame(columns=["biz_id", "name", "category", "land_m2", "estate_id"])
    relet = reletting_table(plots_layer, ten_all, biz_all, allowed_any, {str(e) for e in demand["estate_id"]})
    plots = _plots_out(plots_layer, gen_rows, ten_all, zg, catalogue, homes_all, estates.crs)
    return ZonePlan(zg, pd.DataFrame(short, columns=["estate_id", "category", "short_ha", "rule"]), plots, tn,
                    relet, notes)


def _setting_notes(zs: object, catalogue: Catalogue) -> list[str]:
    """Warnings about the zoning settings themselves."""
    notes = []
    # a deprecated zoning.shape is said when the scenario is loaded (siteplan.checks.scenario_warnings)
    unknown = [c for c in getattr(zs, "relet_first", []) if c not in catalogue]
    if unknown:
        notes.append(f"zoning.relet_first: {', '.join(unknown)} not in the catalogue; ignored")
    return notes


def _zoning_notes(indicative: list[str], recovered: list[str]) -> list[str]:
    notes = []
    if indicative:
        notes.append(f"zoning: {len(indicative)} estate(s) have no vacancy map (no plots, occupied or vacant_land "
                     f"layer): {', '.join(indicative[:15])}{' …' if len(indicative) > 15 else ''}; their zone "
                     "positions are indicative (land_basis 'indicative' in zones.geojson)")
    if recovered:
        notes.append(f"zoning: a wrong or failed overlay was recomputed for {len(recovered)} estate(s): "
                     + "; ".join(recovered[:5]))
    return notes


def _plots_out(layer: gpd.GeoDataFrame | None, gen_rows: list[dict[str, object]], tenancy: pd.DataFrame,
               zones: gpd.GeoDataFrame, catalogue: Catalogue, homes: np.ndarray, crs: object
               ) -> gpd.GeoDataFrame | None:
    """Every plot (existing ones with their tenant, generated ones) with labels and distances."""
    frames = []
    zmap = {(z.estate_id, z.category): z.zone_id for z in zones.itertuples()}
    if layer is not None and len(layer):
        t = tenancy.set_index("plot_id") if len(tenancy) else pd.DataFrame(columns=["biz_id", "category"])
        e = layer.copy()
        ids = e["plot_id"]
        e["biz_id"] = [t.loc[p, "biz_id"] if p in t.index else None for p in ids]
        e["category"] = [t.loc[p, "category"] if p in t.index else None for p in ids]
        e["zone_id"] = [zmap.get((s, c)) if c else None for s, c in zip(e["estate_id"].astype(str), e["category"])]
        a = e["area_m2"].astype(float) if "area_m2" in e else pd.Series(np.nan, index=e.index)
        e["area_m2"] = a.fillna(pd.Series(e.geometry.area, index=e.index)).round(2)
        e["use"] = np.where(e["status"] == "occupied", "occupied",
                            np.where(e["biz_id"].notna(), np.where(e["status"] == "terminated", "re-let", "let"),
                                     "empty"))
        frames.append(e[["plot_id", "estate_id", "zone_id", "category", "status", "biz_id", "area_m2", "use",
                         "geometry"]])
    if gen_rows:
        frames.append(gpd.GeoDataFrame(gen_rows, geometry="geometry", crs=crs))
    if not frames:
        return None
    p = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    cat = p["category"]
    known = cat.notna()
    p["name_fa"] = [str(catalogue.row(c)["name_fa"]) if k else None for c, k in zip(cat, known)]
    p["name_en"] = [str(catalogue.row(c)["name_en"]) if k else None for c, k in zip(cat, known)]
    p["env_cat"] = [str(catalogue.row(c)["env_cat"]) if k else None for c, k in zip(cat, known)]
    sep = dict(zip(zones["zone_id"], zones["sep_m"]))
    p["sep_m"] = [sep.get(z) for z in p["zone_id"]]
    if len(homes):
        tree = shapely.STRtree(homes)
        _, dist = tree.query_nearest(p.geometry.values, return_distance=True, all_matches=False)
        p["min_home_m"] = np.round(dist, 2)
    else:
        p["min_home_m"] = None
    return gpd.GeoDataFrame(p[PLOT_COLUMNS + ["use", "geometry"]], geometry="geometry", crs=crs)


def zone_estates(estates: gpd.GeoDataFrame, demand: pd.DataFrame, catalogue: Catalogue,
                 rules: dict[str, RuleSet], layers: dict[str, gpd.GeoDataFrame], scenario: Scenario,
                 usable_table: pd.DataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Zone every receiving estate (the zones and shortfall of :func:`zone_plan`).

    Returns
    -------
    zones, shortfall
        A GeoDataFrame of zones and a frame of shortfalls.
    """
    zp = zone_plan(estates, demand, catalogue, rules, layers, scenario, usable_table)
    return zp.zones, zp.shortfall


def subdivide_plots(zone: BaseGeometry, plot_m2: float, *, strip_m: float = 12.0) -> list[BaseGeometry]:
    """Divide a zone into rectangular plots of ``plot_m2`` along internal access strips.

    Plots are twice as deep as wide, in pairs of rows back to back between access strips of
    ``strip_m`` metres, aligned with the zone's minimum rotated rectangle; only whole plots inside
    the zone are kept.

    Parameters
    ----------
    zone
        Zone polygon (metric CRS).
    plot_m2
        Plot area.
    strip_m
        Width of the access strips.

    Returns
    -------
    list of Polygon
        Plots, ordered row by row.
    """
    from shapely import affinity

    if zone.is_empty or plot_m2 <= 0:
        return []
    rect = zone.minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:4]
    edges = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    k = int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))
    angle = float(np.degrees(np.arctan2(edges[k, 1], edges[k, 0])))
    origin = zone.centroid
    z = affinity.rotate(zone, -angle, origin=origin)
    minx, miny, maxx, maxy = z.bounds
    depth = float(np.sqrt(2.0 * plot_m2))
    width = plot_m2 / depth
    period = strip_m + 2 * depth
    check_pieces(2.0 * max(maxy - miny, 0.0) / period * max(maxx - minx, 0.0) / width, "plots", float(zone.area))
    ys = []
    y = miny + strip_m
    while y + depth <= maxy + 1e-9:
        ys.append(y)
        if y + 2 * depth <= maxy + 1e-9:
            ys.append(y + depth)
        y += period
    xs = np.arange(minx, maxx - width + 1e-9, width)
    if not ys or not len(xs):
        return []
    gx, gy = np.meshgrid(xs, np.array(ys))
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + width, gy.ravel() + depth)
    inside = shapely.covers(z.buffer(1e-6), boxes)
    return [affinity.rotate(b, angle, origin=origin) for b in boxes[inside]]


def plots_for_zones(zones: gpd.GeoDataFrame, catalogue: Catalogue, *, strip_m: float = 12.0) -> gpd.GeoDataFrame:
    """Plots of every zone, with ``plot_id``, ``estate_id``, ``zone_id``, ``category`` and ``area_m2``."""
    rows = []
    for z in zones.itertuples():
        size = float(catalogue.row(z.category)["plot_m2"])
        for i, g in enumerate(subdivide_plots(z.geometry, size, strip_m=strip_m), start=1):
            rows.append({"plot_id": f"{z.zone_id}-P{i:03d}", "estate_id": z.estate_id, "zone_id": z.zone_id,
                         "category": z.category, "area_m2": round(g.area, 2), "geometry": g})
    cols = ["plot_id", "estate_id", "zone_id", "category", "area_m2"]
    return gpd.GeoDataFrame(rows, columns=cols + ["geometry"], geometry="geometry", crs=zones.crs)


#: columns of the report's per-estate zoning sheet
SHEET_COLUMNS = ["zone_id", "name_fa", "name_en", "env_cat", "sep_m", "min_home_m", "area_ha", "units", "plots",
                 "convexity", "land_basis"]


@dataclass(frozen=True)
class ZoningSheet:
    """One estate's zoning sheet: its zones' rows, one SVG path per zone and the estate's outline (numbers
    only; the outline empty when the estate's geometry was not given)."""

    estate_id: str
    rows: pd.DataFrame
    paths: list[str]
    outline: str = ""


def _svg_path(g: Any, minx: float, miny: float, span: float, size: float) -> str:
    """A (multi)polygon as one SVG path in a ``size`` box (north up)."""
    parts = []
    for poly in shapely.get_parts(g):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px = (xy[:, 0] - minx) / span * size
            py = size - (xy[:, 1] - miny) / span * size
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py)) + "Z")
    return "".join(parts)


def zoning_sheets(zones: gpd.GeoDataFrame, *, size: float = 100.0,
                  estates: gpd.GeoDataFrame | None = None) -> list[ZoningSheet]:
    """Per estate, the rows and a small map of its zones (for the report's zoning sheets).

    Parameters
    ----------
    zones
        The zones (working CRS).
    size
        Side of the map's square view box.
    estates
        The estates (``estate_id`` and geometry, the zones' CRS): each sheet then draws its estate's
        outline too, and the view box holds the whole estate.

    Returns
    -------
    list of ZoningSheet
        Per estate (in id order): ``rows`` (a frame of :data:`SHEET_COLUMNS`), ``paths`` (one SVG
        path per zone, numbers only, in a ``size`` × ``size`` box, north up) and ``outline``.
    """
    shapes = {}
    if estates is not None and len(estates) and "estate_id" in estates:
        shapes = {str(e): g for e, g in zip(estates["estate_id"], estates.geometry.values) if g is not None}
    out = []
    # the table and the geometries taken apart once, then each estate's rows by position
    table = pd.DataFrame(zones[SHEET_COLUMNS])
    allg = np.asarray(zones.geometry.values, dtype=object)
    rows = pd.Series(np.arange(len(zones))).groupby(zones["estate_id"].to_numpy(), sort=True).groups
    for eid, at in rows.items():
        pos = np.asarray(at)
        outline = shapes.get(str(eid))
        mine = list(allg[pos])
        geoms = mine + ([outline] if outline is not None else [])
        minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
        span = max(maxx - minx, maxy - miny, 1e-9)
        paths = [_svg_path(g, minx, miny, span, size) for g in mine]
        line = _svg_path(outline, minx, miny, span, size) if outline is not None else ""
        out.append(ZoningSheet(str(eid), table.iloc[pos].reset_index(drop=True), paths, line))
    return out
