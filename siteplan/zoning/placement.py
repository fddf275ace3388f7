"""Where each category's zone goes on one estate's free land, in one overlay mode.

:func:`place` is one attempt at an estate's zones (the ``blocks``, ``bands`` and ``compact`` shapes
of :mod:`siteplan.zoning.estate`, or whole raster squares); :mod:`siteplan.zoning.estate` checks the
result and tries the next overlay mode when it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..common.geom import polygonal
from ..guilds.catalogue import Catalogue
from ..rules.ruleset import RuleSet, buffer_out
from .blocks import Frame, assign_cells, block_frame, cells
from .zone_check import Overlay, raster_squares

__all__ = ["MIN_ORDER_REACH_M", "ORDER_REACH_FACTOR", "Placement", "order_reach", "place"]

#: the heaviness order of zones is enforced up to this many times the largest separation distance ...
ORDER_REACH_FACTOR = 2.0
#: ... and at least this distance from homes (m)
MIN_ORDER_REACH_M = 1_000.0


def _bisect_area(part_at: Callable[[float], BaseGeometry], lo: float, hi: float, need_m2: float, *,
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
    every zone already keeps every rule's distance with room to spare, and blocks take precedence.

    Parameters
    ----------
    sep
        Distance from homes (m) each of the estate's categories asks (may be empty).

    Returns
    -------
    float
        :data:`ORDER_REACH_FACTOR` × the largest of them, and at least :data:`MIN_ORDER_REACH_M` (m).
    """
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
    every = pd.Series(ok).groupby(chk["id"].to_numpy()).all().reindex(range(len(geoms)), fill_value=True)
    return cast("np.ndarray", every.to_numpy())



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
class Placement:
    """What one attempt at an estate's zones works from.

    Attributes
    ----------
    shape
        ``blocks``, ``bands`` or ``compact``.
    order
        The categories, heaviest first.
    needs, demand
        Gross land (m²) each category's zone needs, and the net land it was asked for.
    catalogue
        Plot sizes of the categories (the depth of the blocks).
    land, homes
        The estate's free land and the union of homes near it.
    sep
        Distance from homes each category's rules ask.
    t_hi
        Upper bound of a distance from homes for the band bisection.
    rulesets
        The categories' rule sets (the ``raster`` mode keeps the squares they pass); None to trust
        the usable land.
    roads, strip_m
        Road lines near the estate and the access strip width (m) of the blocks.
    """

    shape: str
    order: list[str]
    needs: dict[str, float]
    demand: dict[str, float]
    catalogue: Catalogue
    land: BaseGeometry
    homes: BaseGeometry
    sep: dict[str, float]
    t_hi: float
    rulesets: dict[str, RuleSet] | None = None
    roads: np.ndarray | None = None
    strip_m: float = 12.0


def _place_blocks(job: Placement, ov: Overlay, land_p: BaseGeometry, allowed: dict[str, BaseGeometry]
                  ) -> tuple[dict[str, BaseGeometry], Frame]:
    """Zones of whole blocks; no zones (and a frame based on distance bands) when no way of cutting
    the rows keeps the heaviness order."""
    order, needs = job.order, job.needs
    frame = block_frame(land_p, job.homes, depth=_plot_depth(order, job.demand, job.catalogue),
                        strip=job.strip_m, roads=job.roads)
    # axis-aligned in the frame (see blocks.cells), back to the working CRS at the end
    land_f, homes_f = frame.to_frame(land_p), frame.to_frame(job.homes)
    # one transform for all (the same arithmetic per vertex as one geometry at a time), each distinct once
    distinct = {id(g): g for g in allowed.values()}
    turned = dict(zip(distinct, frame.to_frame(np.array(list(distinct.values()), dtype=object))))
    allowed_f = {c: turned[id(g)] for c, g in allowed.items()}
    # bands of rows about as tall as the median zone is wide, then one row at a time, then strips
    # along whole rows: the first whose zones keep heavier categories no closer to homes than
    # lighter ones; else distance bands
    side = float(np.sqrt(np.median([needs[c] for c in order])))
    tries = [(R, False) for R in sorted({max(1, round(side / frame.pitch)), 1}, reverse=True)] + [(1, True)]
    for R, whole in tries:
        cl = cells(frame, land_f, ov, band_rows=R, whole_rows=whole)
        got = assign_cells(cl, order, needs, allowed_f, ov)
        if not _misordered(got, order, job.sep, homes_f):
            return dict(zip(got, frame.to_world(np.array(list(got.values()), dtype=object)))), frame
    return {}, replace(frame, basis="distance bands")


def _place_bands(job: Placement, ov: Overlay, land_p: BaseGeometry, allowed: dict[str, BaseGeometry]
                 ) -> dict[str, BaseGeometry]:
    """Zones as distance bands (or compact discs), heaviest first, each on the land still free."""
    out: dict[str, BaseGeometry] = {}
    remaining = land_p
    for code in job.order:
        need = job.needs[code]
        domain = ov.inter(allowed[code], remaining)
        if domain.area <= need:
            part = domain
        elif job.shape == "compact":
            part = _compact_part(domain, job.homes, need, ov)
        else:
            part = _far_part(domain, job.homes, need, job.t_hi, ov)
        part = polygonal(shapely.make_valid(part), min_area=1.0)  # slivers of band edges dropped
        out[code] = part
        if not part.is_empty:
            remaining = ov.diff(remaining, part)
    return out


def _per_distinct(order: list[str], usable: dict[str, BaseGeometry], fn: Callable[[BaseGeometry], BaseGeometry]
                  ) -> dict[str, BaseGeometry]:
    """``fn`` of each category's usable land, computed once per distinct geometry object (categories whose
    rules cut nothing from the estate share its polygon, and get the same result)."""
    done: dict[int, BaseGeometry] = {}
    out: dict[str, BaseGeometry] = {}
    for c in order:
        g = usable[c]
        if id(g) not in done:
            done[id(g)] = fn(g)
        out[c] = done[id(g)]
    return out


def place(mode: str, job: Placement, usable: dict[str, BaseGeometry]) -> tuple[dict[str, BaseGeometry], Frame | None]:
    """One attempt at an estate's zones in one overlay mode.

    Parameters
    ----------
    mode
        ``exact``, ``grid`` or ``raster`` (:data:`siteplan.zoning.zone_check.MODES`).
    job
        The estate, its demand and its categories.
    usable
        Per category, the part of the estate its rules allow.

    Returns
    -------
    zones, frame
        Per category its zone (possibly empty), and the block frame (None but for ``blocks``).
    """
    if mode == "raster":
        return _place_raster(job.order, job.needs, usable, job.land, job.homes, job.rulesets), None
    ov = Overlay(mode)
    land_p = ov.prep(job.land)
    allowed = _per_distinct(job.order, usable, lambda g: ov.inter(ov.prep(g), land_p))
    frame: Frame | None = None
    out: dict[str, BaseGeometry] = {}
    if job.shape == "blocks":
        out, frame = _place_blocks(job, ov, land_p, allowed)
    if not out:
        out = _place_bands(job, ov, land_p, allowed)
    return {c: polygonal(shapely.make_valid(g), min_area=1.0) for c, g in out.items()}, frame
