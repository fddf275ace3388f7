"""Residents within the nuisance distance of a set of businesses, each counted once.

A business's nuisance distance is the distance from homes its category's siting rules ask
(:func:`nuisance_distances`: the largest rule distance to ``homes`` — VNG quiet-residential and DOE 1378
settlements — and to ``homes_mixed``, from the same :class:`~siteplan.rules.ruleset.RuleSet` the
allocation obeys). Residents are the urban areas' population, spread uniformly over each polygon (or
whole settlement points). The residents exposed by a set of businesses are
``Σ_u density_u · area(u ∩ ⋃_b buffer(b, d_b))`` over the urban areas ``u`` of each kind (quiet and
mixed), so a resident near two businesses counts once ("distinct"); :class:`Residents` computes it for
many sets at once, each buffer, spatial look-up and union once. The impact figures
(:mod:`siteplan.programme.impact`) and the phasing read it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from ..rules.ruleset import RuleSet
    from ..scenario import Scenario

__all__ = ["QUAD_SEGS", "Residents", "nuisance_distances"]

#: segments per quarter circle of the nuisance buffers (area within 0.2 % of the exact disc, inside it)
QUAD_SEGS = 16


def nuisance_distances(rules: dict[str, RuleSet]) -> pd.DataFrame:
    """The distance from homes each category's rules ask, by kind of urban area.

    Parameters
    ----------
    rules
        The run's rule sets by category.

    Returns
    -------
    pandas.DataFrame
        Indexed by category: ``quiet_m`` (largest distance rule to ``homes``) and ``mixed_m`` (to
        ``homes_mixed``), in metres.
    """
    rows = {}
    for code, rs in rules.items():
        d = {t: max([float(r.min_m) for r in rs if r.kind == "distance" and r.target == t], default=0.0)
             for t in ("homes", "homes_mixed")}
        rows[code] = (d["homes"], d["homes_mixed"])
    return pd.DataFrame.from_dict(rows, orient="index", columns=["quiet_m", "mixed_m"], dtype=float)


@dataclass(frozen=True)
class Residents:
    """Urban areas as residents: population spread uniformly over each polygon (or whole points).

    Attributes
    ----------
    geoms
        Urban polygons or settlement points.
    population
        Residents of each.
    mixed
        True for a mixed area (the ``homes_mixed`` distances apply).
    """

    geoms: np.ndarray
    population: np.ndarray
    mixed: np.ndarray

    @classmethod
    def from_urban(cls, urban: gpd.GeoDataFrame | None, scenario: Scenario) -> Residents:
        """The residents of a region's urban layer (no ``population``: none are counted)."""
        from ..rules.ruleset import mixed_mask

        if urban is None or not len(urban):
            return cls(np.array([], dtype=object), np.zeros(0), np.zeros(0, bool))
        pop = (pd.to_numeric(urban["population"], errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy(float)
               if "population" in urban else np.zeros(len(urban)))
        return cls(urban.geometry.values, pop, mixed_mask(urban, scenario))

    @functools.cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the urban geometries."""
        return shapely.STRtree(self.geoms)

    @functools.cached_property
    def _area(self) -> np.ndarray:
        return cast("np.ndarray", shapely.area(self.geoms))

    def urban_mask(self, pts: np.ndarray) -> np.ndarray:
        """True for each geometry inside (or on) an urban polygon."""
        out = np.zeros(len(pts), bool)
        if len(self.geoms) and len(pts):
            i, _ = self.tree.query(pts, predicate="intersects")
            out[np.unique(i)] = True
        return out

    def exposed(self, geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray,
                groups: np.ndarray | None = None) -> pd.Series:
        """Distinct residents within each group's nuisance distances.

        Parameters
        ----------
        geoms
            Where the businesses are (points or polygons).
        quiet_m, mixed_m
            Each business's distance from quiet and from mixed urban areas (metres).
        groups
            A group label per business (None: one group, ``"all"``).

        Returns
        -------
        pandas.Series
            Residents by group (every group given, zero when none), not double counted within a group.
        """
        geoms = np.asarray(geoms, dtype=object)
        labels = np.full(len(geoms), "all", dtype=object) if groups is None else np.asarray(groups, dtype=object)
        codes, uniq = pd.factorize(pd.Series(labels, dtype=object), sort=True)
        order = np.argsort(codes, kind="stable")
        sets = np.split(order, np.cumsum(np.bincount(codes, minlength=len(uniq)))[:-1]) if len(uniq) else []
        return pd.Series(self.exposed_sets(geoms, quiet_m, mixed_m, sets), index=pd.Index(uniq, dtype=object))

    def exposed_sets(self, geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray,
                     sets: list[np.ndarray]) -> np.ndarray:
        """Distinct residents within the nuisance distances of each of several sets of businesses.

        Each geometry is buffered once per distance (the same object at the same distance: once), the
        buffers are looked up in the spatial index once, and the part of one urban area that one set's
        buffers cover is computed once for every set that has exactly those buffers there, in the same
        order; a set's figure is the same float :meth:`exposed` gives that set as a group.

        The covered part is the area of the urban area inside the union of the buffers, computed without
        changing that union: a point's buffer that lies inside a larger one of the same run (or repeats
        one) is left out of it (:func:`_inside_another`), the union is taken subset by subset of buffers
        that do not meet (:data:`_UNION`), and each of its parts that the urban area covers counts by its
        own area (no intersection computed). A settlement point counts whole when a buffer reaches it.

        Parameters
        ----------
        geoms
            Where the businesses are (points or polygons); the sets index it.
        quiet_m, mixed_m
            The distance of each from quiet and from mixed urban areas (metres).
        sets
            Positions in ``geoms`` of each set's businesses, in the order their buffers are united.

        Returns
        -------
        numpy.ndarray
            Residents per set, not double counted within a set.
        """
        geoms = np.asarray(geoms, dtype=object)
        total = np.zeros(len(sets))
        if not len(self.geoms) or not len(geoms) or not len(sets):
            return total
        ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        set_of = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        members = np.concatenate([np.asarray(s, dtype=np.int64) for s in sets])
        for is_mixed, dist in ((False, np.asarray(quiet_m, float)), (True, np.asarray(mixed_m, float))):
            use = ok[members] & (dist[members] > 0)
            if (self.mixed == is_mixed).any() and use.any():
                self._add_kind(total, _Buffers.of(geoms, dist, members[use]), set_of[use], is_mixed=is_mixed)
        return total

    def _add_kind(self, total: np.ndarray, bufs: _Buffers, set_of: np.ndarray, *, is_mixed: bool) -> None:
        """Add to ``total`` (by set) the residents of one kind of urban area the sets' buffers reach.

        Parameters
        ----------
        total
            Residents per set, added to in place.
        bufs
            The distinct buffers and which of them each used member has (:class:`_Buffers`).
        set_of
            The set of each used member (non-decreasing; the members of a set in their order).
        is_mixed
            The kind of urban area (mixed or quiet).
        """
        runs = self._runs(bufs, set_of, is_mixed=is_mixed)
        if runs is None:
            return
        gs, us, bs, bounds = runs
        u, run_key, flat, ptr = _distinct_runs(us, bs, bounds, len(bufs.buf))
        value = self._shares(u, flat, ptr, bufs) * self.population[u]
        np.add.at(total, gs[bounds[:-1]], value[run_key])

    def _runs(self, bufs: _Buffers, set_of: np.ndarray, *, is_mixed: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """The (set, urban area) runs: the buffers of each set that reach each urban area of one kind.

        Parameters
        ----------
        bufs
            The distinct buffers (:class:`_Buffers`).
        set_of
            The set of each used member (non-decreasing).
        is_mixed
            The kind of urban area.

        Returns
        -------
        tuple of numpy.ndarray or None
            ``(set, urban area, buffer)`` of each row, sorted by set, urban area and rank in the set, and
            the bounds of the runs (``bounds[r]:bounds[r + 1]`` the rows of run ``r``); None when no
            buffer reaches an urban area of the kind.
        """
        nb = len(bufs.buf)
        bj, uj = self.tree.query(bufs.buf, predicate="intersects")
        keep = self.mixed[uj] == is_mixed
        bj, uj = bj[keep], uj[keep]
        if not len(bj):
            return None
        srt = np.lexsort((uj, bj))
        bj, uj = bj[srt], uj[srt]
        start = np.searchsorted(bj, np.arange(nb))
        count = np.bincount(bj, minlength=nb)
        # (set, rank in set, buffer) of the used members; then one row per (set, rank, urban area)
        mb = bufs.member
        rank = np.arange(len(set_of)) - np.searchsorted(set_of, set_of)
        n = count[mb]
        rep = np.repeat(np.arange(len(mb)), n)
        off = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
        us = uj[start[mb][rep] + off]
        gs, rs, bs = set_of[rep], rank[rep], mb[rep]
        order = np.lexsort((rs, us, gs))
        gs, us, bs = gs[order], us[order], bs[order]
        starts = np.flatnonzero(np.r_[True, (gs[1:] != gs[:-1]) | (us[1:] != us[:-1])])
        return gs, us, bs, np.append(starts, len(bs))

    def _shares(self, u: np.ndarray, flat: np.ndarray, ptr: np.ndarray, bufs: _Buffers) -> np.ndarray:
        """The share of each urban area ``u[k]`` inside the union of the buffers ``flat[ptr[k]:ptr[k + 1]]``.

        Parameters
        ----------
        u
            An urban area per distinct run.
        flat, ptr
            The buffers of each distinct run, in order (:func:`_distinct_runs`).
        bufs
            The distinct buffers (:class:`_Buffers`).

        Returns
        -------
        numpy.ndarray
            Per distinct run, in [0, 1]: 1 for a settlement point (a buffer reaches it), else the area of
            the urban polygon inside the union over its area.
        """
        area = self._area[u]
        share = np.where(area <= 0, 1.0, 0.0)
        poly = np.flatnonzero(area > 0)
        if not len(poly):
            return share
        pieces, of = _union_parts(poly, flat, ptr, bufs)
        urban = self.geoms[u[poly]][of]
        shapely.prepare(urban)
        inside = shapely.covers(urban, pieces)
        inter = shapely.area(pieces)
        inter[~inside] = shapely.area(shapely.intersection(pieces[~inside], urban[~inside]))
        covered = np.bincount(of, weights=inter, minlength=len(poly))
        share[poly] = np.clip(covered / area[poly], 0.0, 1.0)
        return share


#: the union of many buffers: subset by subset of buffers that do not meet (shapely ≥ 2.1), else at once
_UNION = getattr(shapely, "disjoint_subset_union_all", shapely.union_all)
#: a point's buffer (``QUAD_SEGS`` segments a quarter circle, its corners on the circle) holds the disc of
#: its distance times this (the cosine of half a segment's angle, less a margin for rounding)
_INSCRIBED = math.cos(math.pi / (4 * QUAD_SEGS)) * (1.0 - 1e-9)
#: runs of at least this many buffers are first rid of the buffers that lie inside another
_PRUNE_FROM = 16


@dataclass(frozen=True)
class _Buffers:
    """The distinct nuisance buffers of the used members of some sets.

    Attributes
    ----------
    buf
        One buffer per distinct (geometry object, distance).
    member
        The buffer of each used member, in the members' order.
    xy
        The centre of each buffer of a point (NaN for a buffer of a line or polygon).
    radius
        The distance of each buffer.
    """

    buf: np.ndarray
    member: np.ndarray
    xy: np.ndarray
    radius: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray, dist: np.ndarray, members: np.ndarray) -> _Buffers:
        """Buffer each distinct (geometry object, distance) of ``geoms[members]`` once.

        Parameters
        ----------
        geoms
            Where the businesses are (none missing or empty among the members).
        dist
            The distance of each (positive among the members).
        members
            Positions in ``geoms`` of the used members of the sets, set after set.

        Returns
        -------
        _Buffers
        """
        pos = np.unique(members)
        obj = pd.factorize(np.fromiter(map(id, geoms[pos]), dtype=np.int64, count=len(pos)))[0]
        at, dists = pd.factorize(dist[pos])
        bcode = pd.factorize(obj * len(dists) + at)[0]
        first = pos[np.unique(bcode, return_index=True)[1]]
        src, radius = geoms[first], dist[first]
        bid = np.full(len(geoms), -1, dtype=np.int64)
        bid[pos] = bcode
        xy = np.full((len(src), 2), np.nan)
        point = (shapely.get_type_id(src) == 0) & ~shapely.has_z(src)
        xy[point] = shapely.get_coordinates(src[point])
        buf = np.empty(len(src), dtype=object)
        buf[point] = _discs(xy[point], radius[point])
        buf[~point] = shapely.buffer(src[~point], radius[~point], quad_segs=QUAD_SEGS)
        return cls(buf, bid[members], xy, radius)


def _discs(xy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """The buffers of 2-D points, the same polygons as ``shapely.buffer`` with :data:`QUAD_SEGS`, faster.

    GEOS puts a point's buffer corners at ``(x + r·cos a, y + r·sin a)``; this builds them from one
    buffer of the origin per distance (``0 + r·cos a`` is ``r·cos a`` exactly), moved to each point. The
    first point of each distance is checked against GEOS's own buffer; on any difference every buffer
    is GEOS's.

    Parameters
    ----------
    xy
        The points' coordinates, shape (n, 2).
    radius
        The distance of each.

    Returns
    -------
    numpy.ndarray
        A polygon per point.
    """
    out = np.empty(len(radius), dtype=object)
    if not len(radius):
        return out
    radii, inv = np.unique(radius, return_inverse=True)
    tmpl = [shapely.get_coordinates(shapely.buffer(shapely.Point(0.0, 0.0), r, quad_segs=QUAD_SEGS)) for r in radii]
    if len({len(t) for t in tmpl}) == 1:
        out[:] = shapely.polygons(shapely.linearrings(np.stack(tmpl)[inv] + xy[:, None, :]))
        first = np.unique(inv, return_index=True)[1]
        pts = shapely.points(xy[first])
        if shapely.equals_identical(out[first], shapely.buffer(pts, radius[first], quad_segs=QUAD_SEGS)).all():
            return out
    out[:] = shapely.buffer(shapely.points(xy), radius, quad_segs=QUAD_SEGS)
    return out


def _inside_another(xy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Which buffers of points lie inside another buffer of the list, or repeat an earlier one.

    A point's buffer (a polygon with its corners on the circle) lies inside the circle of its distance;
    the buffer of a larger distance holds the disc of that distance times :data:`_INSCRIBED`. So buffer
    ``i`` lies inside buffer ``j`` when ``|c_i - c_j| + r_i ≤ r_j · _INSCRIBED``; leaving ``i`` out does not
    change the union of the list.

    Parameters
    ----------
    xy
        The centre of each buffer (NaN: not a point's buffer, never left out nor holding another).
    radius
        The distance of each buffer.

    Returns
    -------
    numpy.ndarray
        True for the buffers the union does without.
    """
    from scipy.spatial import cKDTree

    out = np.zeros(len(radius), bool)
    point = np.flatnonzero(np.isfinite(xy[:, 0]))
    # repeats of an earlier (centre, distance): the sort keeps the list's order among equals
    order = point[np.lexsort((radius[point], xy[point, 1], xy[point, 0]))]
    same = (xy[order[1:]] == xy[order[:-1]]).all(axis=1) & (radius[order[1:]] == radius[order[:-1]])
    out[order[1:][same]] = True
    radii = np.unique(radius[point])
    for big_r in radii[1:]:
        small = point[(radius[point] < big_r) & ~out[point]]
        if not len(small):
            continue
        near, _ = cKDTree(xy[point[radius[point] == big_r]]).query(xy[small], distance_upper_bound=big_r)
        out[small[near + radius[small] * (1.0 + 1e-9) <= big_r * _INSCRIBED]] = True
    return out


def _distinct_runs(us: np.ndarray, bs: np.ndarray, bounds: np.ndarray, nb: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (urban area, buffers in order) of the runs, each once.

    Parameters
    ----------
    us, bs
        The urban area and the buffer of each row of the runs.
    bounds
        The runs' bounds in the rows (``bounds[r]:bounds[r + 1]``).
    nb
        The number of distinct buffers.

    Returns
    -------
    tuple of numpy.ndarray
        ``u`` (the urban area of each distinct run), ``run_key`` (the distinct run of each run), and
        the buffers of each distinct run as ``flat[ptr[k]:ptr[k + 1]]``: ``(u, run_key, flat, ptr)``.
    """
    starts = bounds[:-1]
    single = np.diff(bounds) == 1
    run_key = np.empty(len(starts), dtype=np.int64)
    one, inv = np.unique(us[starts[single]] * nb + bs[starts[single]], return_inverse=True)
    run_key[single] = inv
    keys: dict[tuple[int, bytes], int] = {}
    for r in np.flatnonzero(~single):
        s, e = bounds[r], bounds[r + 1]
        run_key[r] = keys.setdefault((int(us[s]), bs[s:e].tobytes()), len(one) + len(keys))
    many = [np.frombuffer(b, dtype=np.int64) for _, b in keys]
    u = np.concatenate([one // nb, np.array([unit for unit, _ in keys], dtype=np.int64)])
    flat = np.concatenate([one % nb, *many]).astype(np.int64)
    ptr = np.concatenate([np.arange(len(one) + 1), len(one) + np.cumsum([len(m) for m in many], dtype=np.int64)])
    return u, run_key, flat, ptr.astype(np.int64)


def _union_parts(which: np.ndarray, flat: np.ndarray, ptr: np.ndarray, bufs: _Buffers
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The parts of the union of the buffers of each of some distinct runs.

    Parameters
    ----------
    which
        The distinct runs.
    flat, ptr
        The buffers of distinct run ``k``: ``flat[ptr[k]:ptr[k + 1]]``, in order.
    bufs
        The buffers (:class:`_Buffers`).

    Returns
    -------
    tuple of numpy.ndarray
        The polygons whose union is each run's union (one buffer: itself), and the position in ``which``
        of the run of each.
    """
    size = ptr[which + 1] - ptr[which]
    pieces: list[np.ndarray] = [bufs.buf[flat[ptr[which[size == 1]]]]]
    of: list[np.ndarray] = [np.flatnonzero(size == 1)]
    done: dict[bytes, np.ndarray] = {}  # runs whose pruned buffers are the same: one union
    for k in np.flatnonzero(size > 1):
        ids = flat[ptr[which[k]]:ptr[which[k] + 1]]
        if len(ids) >= _PRUNE_FROM:
            ids = ids[~_inside_another(bufs.xy[ids], bufs.radius[ids])]
        key = ids.tobytes()
        if key not in done:
            done[key] = shapely.get_parts(_UNION(bufs.buf[ids]))
        parts = done[key]
        pieces.append(parts)
        of.append(np.full(len(parts), k))
    return np.concatenate(pieces), np.concatenate(of).astype(np.int64)
