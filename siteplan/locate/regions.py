"""Growing sites on a grid: contiguous, compact regions of allowed cells, best first, turned into
polygons and re-checked against the siting rules on their exact geometry.

Each region starts at the best allowed cell not yet taken, kept away from existing estates and
earlier regions, and grows through 8-connected allowed cells, best first with a penalty on distance
from the seed (compactness), until it reaches its target area; holes are filled when the filling
cells are allowed. When a target cannot be met the result says which and by how much — it never
silently returns fewer regions. Used by :mod:`siteplan.locate` and :mod:`siteplan.locate.newsites`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, Unpack

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage

from ..common.units import M2_PER_HA
from ..grid import Grid, distance_field

if TYPE_CHECKING:
    from ..rules.ruleset import RuleSet

__all__ = ["SiteSearch", "grow_regions", "regions_to_polygons", "recheck_site"]


@dataclass(frozen=True)
class SiteSearch:
    """Outcome of :func:`grow_regions`: the regions (cell masks) and the targets that failed.

    Parameters
    ----------
    regions
        One boolean mask per region found, the grid's shape, in the order grown (best seed first).
    failures
        One English sentence per region that could not be grown, or per bad setting (e.g. a
        ``max_area_ha`` below ``min_area_ha``); empty when all ``count`` regions were found.
    """

    regions: list[np.ndarray]
    failures: list[str]


class GrowOptions(TypedDict, total=False):
    """The optional keyword options of :func:`grow_regions`: ``avoid`` (default None), ``avoid_m`` (0),
    ``compactness`` (0.5) and ``max_spacing_m`` (None)."""

    avoid: np.ndarray | None
    avoid_m: float
    compactness: float
    max_spacing_m: float | None


def grow_regions(score: np.ndarray, allowed: np.ndarray, grid: Grid, *, count: int, area_ha: float,
                 min_area_ha: float, max_area_ha: float, min_spacing_m: float,
                 **options: Unpack[GrowOptions]) -> SiteSearch:
    """Find ``count`` contiguous, compact regions of about ``area_ha`` on allowed cells.

    Parameters
    ----------
    score
        Suitability in [0, 1] on ``grid`` (NaN = excluded).
    allowed
        Cells the rules allow (boolean, ``score``'s shape).
    grid
        The grid (its cell size, m, turns hectares into cells).
    count
        Regions wanted.
    area_ha
        Target area of each region (ha), clipped to [``min_area_ha``, ``max_area_ha``].
    min_area_ha
        Smallest region (ha); connected allowed areas smaller than this are not used.
    max_area_ha
        Largest region (ha); below ``min_area_ha`` no region is grown and the failure says so.
    min_spacing_m
        Minimum distance (m) between regions.
    **options
        The keyword-only options of :class:`GrowOptions`:

        - ``avoid``: cells (boolean mask) to keep ``avoid_m`` away from, e.g. existing estates (default
          None: nothing to avoid);
        - ``avoid_m``: that distance (m; default 0, at least half a cell when ``avoid`` is given);
        - ``compactness``: weight of the distance-from-seed penalty (default 0.5; 0 = pure score, larger
          = rounder);
        - ``max_spacing_m``: every region after the first must lie within this distance (m) of an earlier
          one (default None: no limit).

    Returns
    -------
    SiteSearch
        The regions found (up to ``count``) and, for each one not found, why.
    """
    avoid, avoid_m = options.get("avoid"), options.get("avoid_m", 0.0)
    compactness, max_spacing_m = options.get("compactness", 0.5), options.get("max_spacing_m")
    cell_ha = grid.res ** 2 / M2_PER_HA
    target = int(np.clip(np.ceil(min(max(area_ha, min_area_ha), max_area_ha) / cell_ha), 1, None))
    min_cells = int(np.ceil(min_area_ha / cell_ha))
    ok = allowed & np.isfinite(score)
    if avoid is not None and avoid.any():
        ok &= distance_field(avoid, grid.res) >= max(avoid_m, grid.res * 0.5)
    failures: list[str] = []
    regions: list[np.ndarray] = []
    if min_cells > target:
        failures.append(f"max_area_ha {max_area_ha:g} is below min_area_ha {min_area_ha:g}")
        return SiteSearch(regions, failures)
    # connected components big enough
    lab, n = ndimage.label(ok, structure=np.ones((3, 3)))
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    big = sizes >= min_cells
    big[0] = False
    ok &= big[lab]
    s = np.where(ok, score, -np.inf)
    r_target = np.sqrt(target / np.pi)
    taken = np.zeros_like(ok)
    for k in range(count):
        if max_spacing_m is not None and regions:
            near = distance_field(taken, grid.res) <= max_spacing_m
            if not (ok & near).any():
                failures.append(f"site {k + 1} of {count}: no allowed area of at least {min_area_ha:g} ha within "
                                f"max spacing {max_spacing_m:g} m of the sites found so far")
                break
            s_k = np.where(near, s, -np.inf)
        else:
            s_k = s
        if not ok.any():
            failures.append(f"site {k + 1} of {count}: no allowed area of at least {min_area_ha:g} ha left "
                            f"(spacing {min_spacing_m:g} m, {avoid_m:g} m from estates)")
            break
        seed = np.unravel_index(int(np.argmax(s_k)), s.shape)
        region = _remove_holes(_grow_one(s, ok, (int(seed[0]), int(seed[1])), target, compactness / max(r_target, 1.0)),
                               ok)
        got = int(region.sum())
        if got < min_cells:
            failures.append(f"site {k + 1} of {count}: the best remaining allowed area has {got * cell_ha:g} ha, "
                            f"below min_area_ha {min_area_ha:g} (short by {(min_cells - got) * cell_ha:g} ha)")
            ok &= ~region
            s[region] = -np.inf
            continue
        if got < target:
            failures.append(f"site {k + 1} of {count}: reached {got * cell_ha:g} ha of the {target * cell_ha:g} ha "
                            f"target (short by {(target - got) * cell_ha:g} ha)")
        regions.append(region)
        taken |= region
        block = distance_field(region, grid.res) < max(min_spacing_m, grid.res * 0.5) if min_spacing_m > 0 \
            else region
        ok &= ~block
        s[~ok] = -np.inf
    return SiteSearch(regions, failures)


_N4 = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _grow_one(s: np.ndarray, ok: np.ndarray, seed: tuple[int, int], target: int, penalty: float) -> np.ndarray:
    """One region grown from ``seed`` through 8-connected allowed cells, best first, each cell's score
    lowered by ``penalty`` × its distance (in cells) from the seed, until it has ``target`` cells."""
    height, width = ok.shape
    region = np.zeros_like(ok)
    heap: list[tuple[float, int, int]] = [(-float(s[seed]), seed[0], seed[1])]
    seen = {seed}
    got = 0
    while heap and got < target:
        _, r, c = heapq.heappop(heap)
        region[r, c] = True
        got += 1
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr or dc) and 0 <= rr < height and 0 <= cc < width and (rr, cc) not in seen and ok[rr, cc]:
                    seen.add((rr, cc))
                    pen = penalty * np.hypot(rr - seed[0], cc - seed[1])
                    heapq.heappush(heap, (-(s[rr, cc] - pen), rr, cc))
    return region


def _remove_holes(region: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Make a region hole-free: fill holes made only of usable cells; open the others by cutting the
    shortest 4-connected corridor of region cells from the hole to the outside, then keep the largest
    8-connected part."""
    region = region.copy()
    for _ in range(20):
        holes = ndimage.binary_fill_holes(region) & ~region
        if not holes.any():
            break
        lab, n = ndimage.label(holes)
        for h in range(1, n + 1):
            cells = lab == h
            if ok[cells].all():
                region |= cells
            else:
                _open_hole(region, cells)
        region = _largest_part(region)
    return region


def _open_hole(region: np.ndarray, cells: np.ndarray) -> None:
    """Open a hole of ``region`` by cutting the shortest 4-connected corridor of region cells from it to
    the outside (in place).

    Parameters
    ----------
    region
        The region mask (changed in place).
    cells
        The hole's cells.
    """
    from collections import deque

    H, W = region.shape
    # BFS from the hole through region cells until a cell next to the outside
    outside = ~region & ~ndimage.binary_fill_holes(region)
    start = [tuple(x) for x in np.argwhere(cells)]
    prev: dict[tuple[int, int], tuple[int, int] | None] = dict.fromkeys(start)
    q = deque(start)
    end = None
    while q:
        r, c = q.popleft()
        if region[r, c] and any((0 <= r + dr < H and 0 <= c + dc < W and outside[r + dr, c + dc])
                                or not (0 <= r + dr < H and 0 <= c + dc < W) for dr, dc in _N4):
            end = (r, c)
            break
        for dr, dc in _N4:
            rr, cc = r + dr, c + dc
            if 0 <= rr < H and 0 <= cc < W and region[rr, cc] and (rr, cc) not in prev:
                prev[(rr, cc)] = (r, c)
                q.append((rr, cc))
    node = end
    while node is not None and region[node]:
        region[node] = False
        node = prev[node]


def _largest_part(region: np.ndarray) -> np.ndarray:
    """The largest 8-connected part of a region mask.

    Parameters
    ----------
    region
        The region mask.

    Returns
    -------
    numpy.ndarray
        ``region`` itself when it is one part (or empty), else a mask of its largest part.
    """
    lab8, n8 = ndimage.label(region, structure=np.ones((3, 3)))
    if n8 > 1:
        sizes = np.bincount(lab8.ravel())
        sizes[0] = 0
        answer: np.ndarray = lab8 == int(np.argmax(sizes))
        return answer
    return region


def regions_to_polygons(regions: list[np.ndarray], grid: Grid) -> list[shapely.Geometry]:
    """Polygon of each region mask (cell edges).

    Parameters
    ----------
    regions
        Boolean cell masks on ``grid`` (e.g. :attr:`SiteSearch.regions`).
    grid
        The grid the masks lie on; its transform places the cells (its CRS, the working CRS).

    Returns
    -------
    list of shapely.Geometry
        One (multi)polygon per mask, in the same order, traced along cell edges in the grid's CRS.
    """
    out = []
    for reg in regions:
        shapes = [shapely.geometry.shape(g) for g, v in features.shapes(reg.astype("uint8"), mask=reg,
                                                                        transform=grid.transform) if v == 1]
        out.append(shapely.union_all(shapes))
    return out


def recheck_site(poly: shapely.Geometry, rulesets: list[RuleSet], failures: list[str], chain: str
                  ) -> shapely.Geometry:
    """A site grown on the raster mask, re-checked on its vector geometry against every rule of the
    categories it serves; any part that breaks a rule is cut off (and said).

    Parameters
    ----------
    poly
        The site's polygon (working CRS, metres).
    rulesets
        The siting rules of each category the site serves.
    failures
        List appended to (in place) with one sentence when more than 1 m² and 0.2 % of the site is cut
        off (a thinner rim comes from the rule buffers' polygon approximation and is not news).
    chain
        The value chain the site serves, named in that sentence.

    Returns
    -------
    shapely.Geometry
        The part of ``poly`` every rule allows (possibly empty).
    """
    keep = poly
    for rs in rulesets:
        keep, _ = rs.usable(keep)
    lost = poly.area - keep.area
    # rule buffers circumscribe the exact distance (up to 0.12 % wider): a rim that thin is not news
    if lost > max(1.0, 2e-3 * poly.area):
        failures.append(f"chain '{chain}': {lost / M2_PER_HA:.2f} ha of a candidate site broke a siting rule on the exact "
                        "geometry and was cut off")
    return keep
