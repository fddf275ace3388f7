"""Checking a zoning result, and the geometry modes used to recover from a wrong overlay.

GEOS overlays (intersection, difference, union) are not robust on every input: the GEOS bundled with
shapely 2.2 can return a wrong result (a zone containing another one) or raise ``Unable to determine
overlay result geometry dimension`` on nearly collinear edges, such as a rotated L-shaped estate cut
by distance buffers. Zoning therefore never trusts its overlays: :func:`verify_zones` checks the
result (pairwise disjoint zones, each inside the land its category may use, areas adding up), and
the caller recomputes in a safer :class:`Overlay` mode when a check fails:

``exact``
    plain floating-point overlays;
``grid``
    every input snapped to a 1 mm grid (:func:`shapely.set_precision`) and every overlay done with
    ``grid_size`` (GEOS's snap-rounding overlay, robust by construction);
``raster``
    no overlay at all for the zones: the land is cut into small squares and a square belongs to a
    category only if the category's land covers it (a predicate, not an overlay), so zones are
    unions of whole, disjoint squares (see :func:`raster_squares`).

Before cutting, :func:`check_pieces` refuses an estate that would be cut into more than
:data:`MAX_PIECES` cells or plots (:class:`TooManyPieces`, an input error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import InputError

__all__ = ["Overlay", "MODES", "GRID_M", "verify_zones", "area_tolerance", "raster_squares", "raster_side",
           "MAX_PIECES", "TooManyPieces", "check_pieces"]

#: the most cells or plots zoning cuts one estate (or zone) into: about a gigabyte of geometries. The
#: plausibility checks refuse estates that could come near it (:data:`siteplan.inputs.plausibility.MAX_ESTATE_HA`);
#: this bounds the memory whatever the polygon.
MAX_PIECES = 2_000_000


class TooManyPieces(InputError):
    """Zoning would cut one estate into more than :data:`MAX_PIECES` cells or plots."""


def check_pieces(n: float, what: str, area_m2: float) -> None:
    """Raise :class:`TooManyPieces` when ``n`` pieces exceed :data:`MAX_PIECES` (before they are made)."""
    if n > MAX_PIECES:
        raise TooManyPieces(f"{what}: {n:,.0f} pieces over {area_m2 / 10_000:,.0f} ha, more than siteplan's limit of "
                            f"{MAX_PIECES:,} for one estate; check the estate's polygon (is it the estate, in the "
                            "right CRS?), or use a larger zoning.strip_m or plot size")


#: precision grid (m) of the ``grid`` mode
GRID_M = 0.001
#: the recovery ladder, safest last
MODES = ("exact", "grid", "raster")


@dataclass(frozen=True)
class Overlay:
    """Overlay operations in one precision mode (``grid_size`` None: floating point)."""

    mode: str = "exact"

    @property
    def grid(self) -> float | None:
        """The precision grid (metres), None in the exact (floating point) mode."""
        return None if self.mode == "exact" else GRID_M

    def prep(self, g: BaseGeometry) -> BaseGeometry:
        """An input geometry as this mode sees it (snapped to the grid unless ``exact``)."""
        if self.grid is None or g is None or g.is_empty:
            return g
        return _areal(shapely.set_precision(g, self.grid))

    def inter(self, a: Any, b: Any) -> Any:
        """``a`` ∩ ``b``, its areal part."""
        return _areal(shapely.intersection(a, b, grid_size=self.grid))

    def diff(self, a: Any, b: Any) -> Any:
        """``a`` less ``b``, its areal part."""
        return _areal(shapely.difference(a, b, grid_size=self.grid))

    def union(self, geoms: Any) -> Any:
        """The union of ``geoms``, its areal part."""
        return _areal(shapely.union_all(geoms, grid_size=self.grid))


def _areal(g: Any) -> Any:
    """The polygonal part of an overlay result (one geometry or an array): the collapsed lines and
    points of a collection would make the next overlay refuse its input."""
    from ..common.geom import polygonal

    if isinstance(g, np.ndarray):
        t = shapely.get_type_id(g)
        odd = (t != 3) & (t != 6) & ~shapely.is_empty(g)
        if odd.any():
            g = g.copy()
            g[odd] = [polygonal(x) for x in g[odd]]
        return g
    if g is None or shapely.get_type_id(g) in (3, 6) or shapely.is_empty(g):  # None, a (multi)polygon, empty
        return g
    return polygonal(g)


def area_tolerance(estate_area: float) -> float:
    """Area (m²) below which an overlap or an excess is rounding, not an error: 1 m² or 10 ppm of the
    estate (10 m² in 100 ha), whichever is larger."""
    return max(1.0, 1e-5 * float(estate_area))


def _safe(fn: Any, *args: Any) -> Any:
    """An overlay for checking: floating point, else (GEOS refused) on the 1 mm grid."""
    try:
        return fn(*args)
    except shapely.errors.GEOSException:
        return fn(*args, grid_size=GRID_M)


def verify_zones(geoms: list[BaseGeometry], allowed: list[BaseGeometry], needs: list[float],
                 land: BaseGeometry, *, tol: float, snap_m: float = 0.0) -> list[str]:
    """Problems of a zoning result; empty when it is sound.

    Parameters
    ----------
    geoms
        The zones of one estate.
    allowed
        For each zone, the land its category may use (rules and free land).
    needs
        For each zone, the gross area asked for (m²); a zone may be smaller (a shortfall), never larger
        (by more than 1 % and ``tol``: the bisections stop at 1 cm).
    land
        The estate's land zones may use (their union must lie inside it).
    tol
        Area tolerance (m²), see :func:`area_tolerance`.
    snap_m
        How far the zones' vertices were moved onto the writer's grid (:func:`siteplan.common.geom.as_written`):
        an overlap, excess or gap of up to ``snap_m`` times the edges concerned is that snapping, not an
        error.

    Returns
    -------
    list of str
        One line per problem: overlapping pairs, zones outside their category's land, zones larger
        than asked, or areas that do not add up.
    """
    g = np.asarray(geoms, dtype=object)
    if len(g) == 0:
        return []
    if not all(x.is_valid for x in g):
        return ["invalid zone geometry"]
    slack = snap_m * shapely.length(g)  # m² the snapping may move across each zone's edges
    out = _overlaps(g, tol, slack)
    outside = shapely.area(_safe(shapely.difference, g, np.asarray(allowed, dtype=object)))
    out += [f"zone {i} lies {x:,.0f} m² outside its category's land" for i, x in enumerate(outside)
            if x > tol + slack[i]]
    areas = shapely.area(g)
    out += [f"zone {i} has {x:,.0f} m², more than the {n:,.0f} m² asked" for i, (x, n) in enumerate(zip(areas, needs))
            if x > n + tol + slack[i] + 1e-2 * n]
    union = _safe(shapely.union_all, g)
    total = float(union.area)
    if abs(total - float(areas.sum())) > tol * len(g) + float(slack.sum()):
        out.append(f"zone areas add up to {areas.sum():,.0f} m² but cover {total:,.0f} m²")
    if _safe(shapely.difference, union, land).area > tol + snap_m * float(union.length):
        out.append("zones lie outside the estate's land")
    return out


def _overlaps(g: np.ndarray, tol: float, slack: np.ndarray) -> list[str]:
    """The pairs of zones that overlap by more than ``tol`` and their snapping ``slack``."""
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    if not keep.any():
        return []
    ov = shapely.area(_safe(shapely.intersection, g[a[keep]], g[b[keep]]))
    return [f"zones {i} and {j} overlap by {x:,.0f} m²" for i, j, x in zip(a[keep], b[keep], ov)
            if x > tol + 2 * min(slack[i], slack[j])]


def raster_side(land: BaseGeometry, *, max_squares: int = 60_000, min_side: float = 2.0) -> float:
    """Side (m) of the squares of :func:`raster_squares`: a power of two, so the corners are exact in
    binary floating point."""
    if land.is_empty:
        return min_side
    minx, miny, maxx, maxy = land.bounds
    side = max(min_side, float(np.sqrt((maxx - minx) * (maxy - miny) / max_squares)))
    return float(2 ** np.ceil(np.log2(side)))


def raster_squares(land: BaseGeometry, *, max_squares: int = 60_000, min_side: float = 2.0
                   ) -> tuple[np.ndarray, float]:
    """Squares of a regular grid wholly inside ``land`` (predicate test, no overlay).

    The side is the smallest that keeps the squares over ``land``'s bounds under ``max_squares`` (at
    least ``min_side`` metres), aligned on multiples of the side so the squares' corners are exact.

    Returns
    -------
    squares, side
        Polygons (row-major) and the side length (m).
    """
    if land.is_empty:
        return np.empty(0, dtype=object), min_side
    minx, miny, maxx, maxy = land.bounds
    side = raster_side(land, max_squares=max_squares, min_side=min_side)
    x0, y0 = np.floor(minx / side) * side, np.floor(miny / side) * side
    xs = np.arange(x0, maxx, side)
    ys = np.arange(y0, maxy, side)
    gx, gy = np.meshgrid(xs, ys)
    sq = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + side, gy.ravel() + side)
    shapely.prepare(land)
    return sq[shapely.contains_properly(land, shapely.centroid(sq)) & shapely.covers(land, sq)], side
