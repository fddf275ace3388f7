"""Zones as blocks: an estate's free land cut into rows of rectangular blocks along access strips,
handed to the categories heaviest first, from the row farthest from homes.

The frame (:func:`block_frame`) is aligned with the estate's internal roads when the roads layer
crosses the estate, else with its principal axis (the long side of its minimum rotated rectangle);
of the two perpendicular directions, rows run across the direction in which the distance from homes
falls fastest, so the first rows are the farthest. Each row is an access strip of ``strip_m`` metres
and a block two plots deep behind it; the back plots face the next row's strip (or the estate's
edge), so every block and every plot touches an access strip.

:func:`assign_cells` hands the cells out: categories in the order given (heaviest first, value-chain
partners next to each other), each taking, in sweep order, the part of each cell its rules allow
until its gross need is met, the last cell cut to the exact area from the side the sweep enters it.
The sweep runs along the rows (far row first, alternating direction, so consecutive categories
adjoin) or, with bands of several rows, down and up square columns of a band, so a zone is a block
of whole columns. A category starts where the previous one stopped; cells passed over (its rules
did not allow them) are used last. :mod:`siteplan.zoning` checks the distance order of the result
and falls back to distance bands when the blocks would put a heavier category closer to homes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .zone_check import MAX_PIECES, Overlay, TooManyPieces, check_pieces

__all__ = ["Frame", "block_frame", "cells", "assign_cells", "road_angle", "Cells", "plot_boxes", "access_strips",
           "MAX_PIECES", "TooManyPieces", "check_pieces"]

#: internal roads count as a street pattern when their length in the estate is at least this share of
#: the estate's perimeter
ROADS_MIN_SHARE = 0.25
#: a cell spans this many row pitches along the row
CELL_PITCHES = 3.0
#: plot depth bounds (m)
MIN_DEPTH_M, MAX_DEPTH_M = 10.0, 80.0
#: pieces of cells smaller than this (m²) are not handed out
MIN_PIECE_M2 = 1.0


@dataclass(frozen=True)
class Frame:
    """A block frame: rows run along ``angle`` (degrees, counter-clockwise from east) through
    ``origin``; in frame coordinates homes lie towards -y, rows are stacked from ``top`` down.

    Attributes
    ----------
    angle, ox, oy
        Rotation and origin (working CRS).
    depth
        Plot depth (m); a block is two plots deep.
    strip
        Access strip width (m).
    top
        Frame y of the first (farthest) row's top edge.
    x0
        Frame x where cells start.
    basis
        ``roads`` (aligned with the estate's internal roads) or ``principal axis``.
    """

    angle: float
    ox: float
    oy: float
    depth: float
    strip: float
    top: float
    x0: float
    basis: str

    @property
    def pitch(self) -> float:
        """The distance between rows (metres): an access strip and a plot depth on each side."""
        return self.strip + 2.0 * self.depth

    def to_world(self, g: Any) -> Any:
        """Geometries of the frame (rows along x) rotated back to the map."""
        return _rotate(g, self.angle, self.ox, self.oy)

    def to_frame(self, g: Any) -> Any:
        """Map geometries rotated into the frame (rows along x)."""
        return _rotate(g, -self.angle, self.ox, self.oy)


def _rotate(g: Any, deg: float, ox: float, oy: float) -> Any:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))

    def f(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([ox + c * x - s * y, oy + s * x + c * y])

    return shapely.transform(g, f)


def road_angle(estate: BaseGeometry, roads: np.ndarray | None) -> float | None:
    """The dominant direction (degrees, modulo 90) of the road segments inside ``estate``, weighted
    by length; None when the roads inside are shorter than :data:`ROADS_MIN_SHARE` of its perimeter."""
    if roads is None or len(roads) == 0:
        return None
    inside = shapely.get_parts(shapely.intersection(roads, estate))
    xy, idx = shapely.get_coordinates(inside, return_index=True)
    d = np.diff(xy, axis=0)[idx[1:] == idx[:-1]] if len(xy) > 1 else np.zeros((0, 2))
    length = np.hypot(d[:, 0], d[:, 1])
    if length.sum() < ROADS_MIN_SHARE * estate.length:
        return None
    th = np.arctan2(d[:, 1], d[:, 0])
    ang = np.arctan2((length * np.sin(4 * th)).sum(), (length * np.cos(4 * th)).sum()) / 4.0
    return float(np.degrees(ang))


def block_frame(land: BaseGeometry, homes: BaseGeometry, *, depth: float, strip: float,
                roads: np.ndarray | None = None) -> Frame:
    """The block frame of an estate's land (see the module docstring).

    Parameters
    ----------
    land
        The land to divide (working CRS).
    homes
        Homes near the estate (may be empty).
    depth
        Plot depth (m).
    strip
        Access strip width (m).
    roads
        Road lines near the estate, or None.

    Returns
    -------
    Frame
        The frame: rows along the estate's internal roads when they are long enough, else along the
        land's principal axis (its oriented envelope's long side), turned so that the rows run across
        the direction of the homes and homes lie towards -y; origin at the land's centroid.
    """
    ang = road_angle(land, roads)
    basis = "roads"
    if ang is None:
        basis = "principal axis"
        rect = shapely.oriented_envelope(land)
        xy = np.asarray(rect.exterior.coords)[:4] if rect.geom_type == "Polygon" else np.zeros((4, 2))
        e = np.diff(np.vstack([xy, xy[:1]]), axis=0)
        k = int(np.argmax(np.hypot(e[:, 0], e[:, 1])))
        ang = float(np.degrees(np.arctan2(e[k, 1], e[k, 0])))
    c = land.centroid
    ox, oy = float(c.x), float(c.y)
    if not homes.is_empty:
        h = _towards_homes(land, homes)
        th = np.radians(ang)
        if abs(h[0] * np.cos(th) + h[1] * np.sin(th)) > abs(-h[0] * np.sin(th) + h[1] * np.cos(th)):
            ang += 90.0  # rows must run across the direction of the homes
        th = np.radians(ang)
        if -h[0] * np.sin(th) + h[1] * np.cos(th) > 0:  # homes above: turn the frame round
            ang += 180.0
    ang = float(np.round(((ang + 180.0) % 360.0) - 180.0, 9))
    f = Frame(ang, ox, oy, depth, strip, 0.0, 0.0, basis)
    minx, _, _, maxy = shapely.bounds(f.to_frame(land))
    return Frame(ang, ox, oy, depth, strip, float(maxy), float(minx), basis)


def _towards_homes(land: BaseGeometry, homes: BaseGeometry) -> np.ndarray:
    """The direction in which the distance from homes falls fastest over ``land`` (a least-squares
    plane through the distances at a 9 × 9 lattice of points in the land and its vertices)."""
    minx, miny, maxx, maxy = land.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 9), np.linspace(miny, maxy, 9))
    pts = shapely.points(gx.ravel(), gy.ravel())
    pts = np.concatenate([pts[shapely.contains(land, pts)], shapely.points(shapely.get_coordinates(land))])
    xy = shapely.get_coordinates(pts)
    d = shapely.distance(pts, homes)
    a = np.column_stack([np.ones(len(xy)), xy - xy.mean(axis=0)])
    coef = np.linalg.lstsq(a, d, rcond=None)[0]
    g = -coef[1:]
    if not np.isfinite(g).all() or np.hypot(*g) < 1e-9:
        c = land.centroid
        return cast("np.ndarray", np.asarray(shapely.shortest_line(c, homes).coords)[-1] - (c.x, c.y))
    return cast("np.ndarray", g)


@dataclass(frozen=True)
class Cells:
    """The cells of a frame over some land, in sweep order.

    Attributes
    ----------
    geoms
        Each cell clipped to the land (frame coordinates).
    row, col
        Row (0 = farthest from homes) and column of each cell.
    boxes
        Frame-coordinate bounds (x0, y0, x1, y1) of each cell.
    entry
        The side the sweep enters each cell from (0 left, 1 right, 2 top, 3 bottom): a zone ending
        in the cell takes the part on that side.
    band_rows
        Rows per band of the sweep.
    """

    geoms: np.ndarray
    row: np.ndarray
    col: np.ndarray
    boxes: np.ndarray
    entry: np.ndarray
    band_rows: int


def cells(frame: Frame, land: BaseGeometry, ov: Overlay, *, band_rows: int = 1, whole_rows: bool = False) -> Cells:
    """The frame's cells over ``land`` (clipped; empty ones dropped), in sweep order.

    Everything here is in frame coordinates (``land`` too: ``frame.to_frame(...)``), where the cells
    and the cuts are axis-aligned: their shared edges then have identical coordinates, which keeps
    GEOS's overlays away from the nearly collinear edges it gets wrong.

    ``band_rows`` 1: the sweep runs along each row in turn (far row first, alternating direction);
    more: rows are grouped in bands of that many rows, cells are square columns of the band's
    height, and the sweep runs down and up the columns of a band before the next band, so a zone is
    a block of whole columns rather than a long strip. ``whole_rows``: one cell per row, cut from its
    far (top) side, so a zone ending in a row takes a strip along the whole row: strictly farther
    from homes than the rest of the row when the homes lie beyond the frame's bottom.
    """
    _, miny, maxx, _ = shapely.bounds(land)
    p = frame.pitch
    R = max(1, int(band_rows))
    w = CELL_PITCHES * p if R == 1 else R * p
    if whole_rows:
        R, w = 1, maxx - frame.x0 + 1.0
    nrow = max(1, int(np.ceil((frame.top - miny) / p - 1e-9)))
    ncol = max(1, int(np.ceil((maxx - frame.x0) / w - 1e-9)))
    check_pieces(float(nrow) * float(ncol), "block cells", float(shapely.area(land)))
    rr, kk = np.meshgrid(np.arange(nrow), np.arange(ncol), indexing="ij")
    r, k = rr.ravel(), kk.ravel()
    band = r // R
    fwd = band % 2 == 0
    colkey = np.where(fwd, k, -k)
    if R == 1:
        order = np.lexsort((colkey, r))
        entry = np.full(len(r), 2) if whole_rows else np.where(fwd, 0, 1)
    else:
        colpos = np.where(fwd, k, ncol - 1 - k)
        down = colpos % 2 == 0
        order = np.lexsort((np.where(down, r, -r), colkey, band))
        entry = np.where(down, 2, 3)
    r, k, entry = r[order], k[order], entry[order]
    x0 = frame.x0 + k * w
    y1 = frame.top - r * p
    bx = np.column_stack([x0, y1 - p, x0 + w, y1])
    boxes = shapely.box(bx[:, 0], bx[:, 1], bx[:, 2], bx[:, 3])
    shapely.prepare(land)
    hit = shapely.intersects(land, boxes)
    g = np.empty(len(boxes), dtype=object)
    g[:] = None
    g[hit] = ov.inter(boxes[hit], land)
    a = np.zeros(len(g))
    a[hit] = shapely.area(g[hit])
    keep = a > MIN_PIECE_M2
    return Cells(g[keep], r[keep], k[keep], bx[keep], entry[keep], R)


def _side_area(piece: BaseGeometry, box: tuple[float, float, float, float], side: int
               ) -> Callable[[float], float]:
    """The area of the part of ``piece`` that :func:`_cut` keeps at position ``t`` (0–1), as a function
    of ``t``, computed from ``piece``'s edges without an overlay.

    The part on one side of a cut line is a half-plane clip ``u <= U`` (``u`` the coordinate across the
    cut, turned so the kept side is below ``U``); by Green's theorem its area is the sum over the
    edges' kept portions of ``∫ (u − U) dv`` (the cut line itself contributes nothing), each edge's
    term in closed form. Rings are signed so exteriors count positive and holes negative, whatever
    their winding. Agrees with the overlay's area to float rounding (about 1e-9 m² on a cell).
    """
    x0, y0, x1, y1 = box
    # (u, v) = a turn or mirror of (x, y) in which the kept side is u <= U0 + t dU
    su, sv, U0, dU = {0: ((0, 1.0), (1, 1.0), x0, x1 - x0), 1: ((0, -1.0), (1, 1.0), -x1, x1 - x0),
                      2: ((1, -1.0), (0, 1.0), -y1, y1 - y0), 3: ((1, 1.0), (0, 1.0), y0, y1 - y0)}[side]
    edges: list[tuple[float, float, float]] = []  # (u at the start, du, signed dv) of each edge
    for poly in shapely.get_parts(piece):
        for k, ring in enumerate(shapely.get_rings(poly)):
            xy = shapely.get_coordinates(ring)
            u, v = (su[1] * xy[:, su[0]]).tolist(), (sv[1] * xy[:, sv[0]]).tolist()
            ring_edges = [(u[i], u[i + 1] - u[i], v[i + 1] - v[i]) for i in range(len(u) - 1)]
            wind = sum((a + 0.5 * d) * e for a, d, e in ring_edges)  # the ring's signed area
            # exteriors (a polygon's first ring) count positive, holes negative, whatever the winding
            sign = (1.0 if k == 0 else -1.0) * (1.0 if wind > 0 else -1.0 if wind < 0 else 0.0)
            edges += [(a, d, sign * e) for a, d, e in ring_edges if e != 0.0]

    def area(t: float) -> float:
        # plain floats: the pieces are cells or parts of cells, a few edges each
        U = U0 + t * dU
        total = 0.0
        for a, d, wt in edges:
            if d > 0.0:
                sa, sb = 0.0, min(max((U - a) / d, 0.0), 1.0)
            elif d < 0.0:
                sa, sb = min(max((U - a) / d, 0.0), 1.0), 1.0
            elif a <= U:
                sa, sb = 0.0, 1.0
            else:
                continue
            total += wt * ((a - U) * (sb - sa) + 0.5 * d * (sb * sb - sa * sa))
        return total

    return area


#: m²: the fast area of :func:`_side_area` decides a step of :func:`_cut` only when it is farther than
#: this (plus a billionth of the cell) from the step's thresholds; nearer, the overlay decides
_CUT_SURE_M2 = 1e-6


def _cut(piece: BaseGeometry, box: np.ndarray, need: float, ov: Overlay, side: int) -> BaseGeometry:
    """The part of ``piece`` (inside the frame cell ``box``) of area ``need`` on one side of the cell
    (0 left, 1 right, 2 top, 3 bottom), by bisection on the cut's position.

    In the ``exact`` mode the bisection's steps are decided by :func:`_side_area` (no overlay), and by
    the overlay's own area only where the two could disagree; the part returned is the overlay at the
    position found, so the result is the one overlay bisection gives, at one overlay instead of up to 50.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    lo, hi = 0.0, 1.0
    best = piece

    def part(t: float) -> BaseGeometry:
        return ov.inter(piece, _side_box((x0, y0, x1, y1), side, t))

    fast = _side_area(piece, (x0, y0, x1, y1), side) if ov.mode == "exact" else None
    eps = _CUT_SURE_M2 + 1e-9 * (x1 - x0) * (y1 - y0)
    best_t = None
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        g, a = _cut_area(part, fast, mid, need, eps)
        if a >= need:
            best, best_t, hi = g, mid, mid
            if a - need <= 5e-4 * need:
                break
        else:
            lo = mid
        if (hi - lo) * max(x1 - x0, y1 - y0) < 0.01:
            break
    if best is None:
        best = part(best_t)  # type: ignore[arg-type]
    return best


def _side_box(box: tuple[float, float, float, float], side: int, t: float) -> BaseGeometry:
    """The share ``t`` of the cell ``box`` on one side (0 left, 1 right, 2 top, 3 bottom)."""
    x0, y0, x1, y1 = box
    if side == 0:
        return shapely.box(x0, y0, x0 + t * (x1 - x0), y1)
    if side == 1:
        return shapely.box(x1 - t * (x1 - x0), y0, x1, y1)
    if side == 2:
        return shapely.box(x0, y1 - t * (y1 - y0), x1, y1)
    return shapely.box(x0, y0, x1, y0 + t * (y1 - y0))


def _cut_area(part: Callable[[float], BaseGeometry], fast: Callable[[float], float] | None, t: float, need: float,
              eps: float) -> tuple[BaseGeometry | None, float]:
    """The area of the cut at ``t``: the fast one where it is sure (no part made: None), else the
    overlay's, with the part."""
    if fast is not None:
        a = fast(t)
        if not (abs(a - need) <= eps or abs(a - need - 5e-4 * need) <= eps):
            return None, a
    g = part(t)
    return g, g.area


def _pieces_for(rem: np.ndarray, live: np.ndarray, allowed: BaseGeometry, need: float, ov: Overlay
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of the cells ``live`` (in sweep order) that ``allowed`` covers, pieces of at most
    :data:`MIN_PIECE_M2` dropped, only as far as the first piece that meets ``need``: the cells, their
    pieces and the running total of the pieces' areas.

    The cells are cut in batches (growing geometrically), so a category that needs a few cells of a
    large estate cuts a few cells rather than every remaining one; each piece is the overlay it
    would be if every cell were cut at once.
    """
    cells_out, pieces, areas = [], [], []
    # a piece is no larger than its cell: the first batch is the fewest cells that could meet the need
    reach = np.cumsum(shapely.area(rem[live]))
    total, start, step = 0.0, 0, int(np.searchsorted(reach, need - 1e-6)) + 1
    while start < len(live):
        chunk = live[start:start + step]
        piece = ov.inter(rem[chunk], allowed)
        a = shapely.area(piece)
        use = a > MIN_PIECE_M2
        cells_out.append(chunk[use])
        pieces.append(piece[use])
        areas.append(a[use])
        start += step
        step = max(4, 2 * step)
        # np.cumsum adds in order, so the running total here is the one the caller's cumsum gives
        total = float(np.cumsum(np.concatenate(areas))[-1]) if any(len(x) for x in areas) else 0.0
        if total >= need - 1e-6:
            break
    if not cells_out:
        return live[:0], np.empty(0, dtype=object), np.zeros(0)
    return np.concatenate(cells_out), np.concatenate(pieces), np.cumsum(np.concatenate(areas))


def assign_cells(cl: Cells, order: list[str], needs: dict[str, float], allowed: dict[str, BaseGeometry],
                 ov: Overlay) -> dict[str, BaseGeometry]:
    """Hand the cells to the categories (see the module docstring); frame coordinates throughout.

    Parameters
    ----------
    cl
        The cells (:func:`cells`).
    order
        Categories, first served first.
    needs
        Gross area (m²) each category needs.
    allowed
        Land each category may use (rules and free land).
    ov
        Overlay mode.

    Returns
    -------
    dict
        Each category's zone (possibly smaller than its need when the land runs out).
    """
    idx = np.arange(len(cl.geoms))
    rem = cl.geoms.copy()
    out: dict[str, BaseGeometry] = {}
    cursor = 0  # the sweep moves on: a category starts where the previous one stopped
    for code in order:
        need = needs[code]
        seq = np.concatenate([idx[cursor:], idx[:cursor]])  # cells passed over come last (backfill)
        live = seq[~shapely.is_empty(rem[seq])]
        if not len(live) or need <= 0:
            out[code] = shapely.Polygon()
            continue
        live, piece, cum = _pieces_for(rem, live, allowed[code], need, ov)
        k = int(np.searchsorted(cum, need - 1e-6))
        taken = list(piece[:k])
        last = None  # the sweep position (cells are numbered in sweep order)
        if k < len(live):
            i = live[k]
            rest = need - (cum[k - 1] if k else 0.0)
            part = _cut(piece[k], cl.boxes[i], rest, ov, int(cl.entry[i]))
            taken.append(part)
            rem[i] = ov.diff(rem[i], part)
            last = int(i)
        elif k:
            last = int(live[k - 1]) + 1
        if k:
            rem[live[:k]] = ov.diff(rem[live[:k]], piece[:k])
        if last is not None and last >= cursor:
            cursor = last
        out[code] = ov.union(np.asarray(taken, dtype=object)) if taken else shapely.Polygon()
    return out


def plot_boxes(frame: Frame, zone: BaseGeometry, plot_m2: float) -> np.ndarray:
    """Plots of ``plot_m2`` in a zone made of the frame's blocks: two rows per block, the front row
    on the row's access strip and the back row on the next row's strip; only whole plots inside the
    zone are kept (working CRS, ordered row by row)."""
    if zone.is_empty or plot_m2 <= 0:
        return np.empty(0, dtype=object)
    d = frame.depth
    w = plot_m2 / d
    fz = frame.to_frame(zone)
    minx, miny, maxx, maxy = shapely.bounds(fz)
    p = frame.pitch
    r0 = max(0, int(np.floor((frame.top - maxy) / p)))
    r1 = int(np.ceil((frame.top - miny) / p))
    rows = np.arange(r0, r1 + 1)
    y_bottom = frame.top - (rows + 1) * p + frame.strip  # block bottom (above its strip)
    ys = np.concatenate([y_bottom, y_bottom + d])
    k0 = int(np.floor((minx - frame.x0) / w))
    check_pieces(2.0 * len(rows) * (np.ceil((maxx - frame.x0) / w) + 1 - k0), "plots", float(shapely.area(fz)))
    xs = frame.x0 + np.arange(k0, int(np.ceil((maxx - frame.x0) / w)) + 1) * w
    gx, gy = np.meshgrid(xs, np.sort(ys)[::-1])
    b = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + w, gy.ravel() + d)
    fzb = shapely.buffer(fz, 1e-6)
    shapely.prepare(fzb)
    return cast("np.ndarray", frame.to_world(b[shapely.covers(fzb, b)]))


def access_strips(frame: Frame, land: BaseGeometry) -> BaseGeometry:
    """The frame's access strips over ``land`` (one per row, full width, clipped to the land)."""
    fl = frame.to_frame(land)
    minx, miny, maxx, _ = shapely.bounds(fl)
    p = frame.pitch
    nrow = max(1, int(np.ceil((frame.top - miny) / p - 1e-9)))
    y1 = frame.top - np.arange(nrow) * p - p  # bottom of each row = bottom of its strip
    b = shapely.box(minx - 1.0, y1, maxx + 1.0, y1 + frame.strip)
    return shapely.intersection(shapely.union_all(frame.to_world(b)), land)
