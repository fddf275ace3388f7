"""What the plan achieves: residents relieved, trips off urban streets, added travel, land and jobs.

Figures (one row of ``impact.csv`` per level and key; README "Programme figures"):

* **Residents within the nuisance distance.** A business's nuisance distance is the distance from
  homes its category's siting rules ask (:func:`nuisance_distances`: the largest rule distance to
  ``homes`` — VNG quiet-residential and DOE 1378 settlements — and to ``homes_mixed``, from the same
  :class:`~siteplan.rules.ruleset.RuleSet` the allocation obeys). Residents are the urban areas' population,
  spread uniformly over each polygon (or whole settlement points). The residents exposed by a set of
  businesses are ``Σ_u density_u · area(u ∩ ⋃_b buffer(b, d_b))`` over the urban areas ``u`` of each
  kind (quiet and mixed), so a resident near two businesses counts once ("distinct"). Before the move a
  business sits at its registry point; after it sits on its plot, else its zone, else the estate's land
  its rules allow (a new site's polygon for the sites' figures); a business the plan leaves where it is
  keeps exposing the same residents.
* **Trips off urban streets** per day: the trip rates of each moved business's category
  (``siteplan/data/trip_rates.csv`` or ``programme.trip_rates``) for the businesses whose registry point
  lies in an urban area.
* **Added travel** (km per day): ``(customer trips + employees × worker trips per employee) ×
  straight-line distance`` from the registry point to the destination's edge (no road network is used;
  the figure says ``straight line``), an upper bound that assumes customers and workers came from where
  the business was.
* **Land used in estates** (the catalogue's land need of the moved businesses), **urban land freed**
  (the registry's ``area_m2`` of the moved businesses inside urban areas, else the catalogue's land
  need), **jobs moved** (the registry's ``employees``; empty without it).
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA, M_PER_KM
from ..errors import InputError

if TYPE_CHECKING:
    from ..results import RunResult
    from ..rules.ruleset import RuleSet
    from ..scenario import Scenario

__all__ = ["IMPACT_COLUMNS", "QUAD_SEGS", "Residents", "nuisance_distances", "trip_rates", "Placement",
           "placements", "impact_table", "group_figures", "groups_figures", "upgrade_businesses", "upgrade_figure"]

#: segments per quarter circle of the nuisance buffers (area within 0.2 % of the exact disc, inside it)
QUAD_SEGS = 16
#: the columns of ``impact.csv``
IMPACT_COLUMNS = ("level", "id", "name", "businesses", "moved", "residents_before", "residents_after",
                  "residents_relieved", "heavy_trips_off", "customer_trips_off", "added_km_per_day", "km_basis",
                  "estate_land_ha", "urban_land_freed_ha", "jobs_moved", "relieved_per_ha", "basis")
KM_BASIS = "straight line"


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
        return shapely.area(self.geoms)

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
                self._add_kind(total, _Buffers.of(geoms, dist, members[use]), set_of[use], is_mixed)
        return total

    def _add_kind(self, total: np.ndarray, bufs: _Buffers, set_of: np.ndarray, is_mixed: bool) -> None:
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
        runs = self._runs(bufs, set_of, is_mixed)
        if runs is None:
            return
        gs, us, bs, bounds = runs
        u, run_key, flat, ptr = _distinct_runs(us, bs, bounds, len(bufs.buf))
        value = self._shares(u, flat, ptr, bufs) * self.population[u]
        np.add.at(total, gs[bounds[:-1]], value[run_key])

    def _runs(self, bufs: _Buffers, set_of: np.ndarray, is_mixed: bool
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


def trip_rates(catalogue_codes: list[str], scenario: Scenario) -> pd.DataFrame:
    """Heavy-vehicle and customer trips per business per day by category.

    The shipped table ``siteplan/data/trip_rates.csv`` (each row with its source and status) with the
    scenario's ``programme.trip_rates`` over it (a scenario rate without a ``source`` is an assumption).

    Parameters
    ----------
    catalogue_codes
        The catalogue's categories (a category without a rate gets zero trips, marked ``missing``).
    scenario
        For ``programme.trip_rates``.

    Returns
    -------
    pandas.DataFrame
        Indexed by category: ``heavy``, ``customer``, ``status`` (``assumption``, ``sourced``,
        ``scenario`` or ``missing``), ``source``.

    Raises
    ------
    InputError
        A scenario rate names a category the catalogue does not have.
    """
    with resources.files("siteplan").joinpath("data/trip_rates.csv").open("r", encoding="utf-8") as fh:
        shipped = {r["code"]: r for r in csv.DictReader(fh)}
    bad = [k for k in scenario.programme.trip_rates if k not in catalogue_codes]
    if bad:
        raise InputError(f"programme.trip_rates: {', '.join(repr(b) for b in sorted(bad))} not in the catalogue "
                         f"(known: {', '.join(catalogue_codes)}); correct the key or remove it")
    rows = {}
    for code in catalogue_codes:
        over = scenario.programme.trip_rates.get(code)
        if over is not None:
            rows[code] = (over.heavy, over.customer, "scenario" if over.source else "assumption",
                          over.source or "scenario programme.trip_rates (no source given)")
        elif code in shipped:
            r = shipped[code]
            rows[code] = (float(r["heavy_per_day"]), float(r["customer_per_day"]), r["status"], r["source"])
        else:
            rows[code] = (0.0, 0.0, "missing", "no trip rate for this category (counted as zero)")
    return pd.DataFrame.from_dict(rows, orient="index", columns=["heavy", "customer", "status", "source"])


@dataclass
class Placement:
    """Where each business of the plan is before and after the move.

    Attributes
    ----------
    table
        One row per classified, in-scope business: ``biz_id``, ``category``, ``town``, ``estate_id``,
        ``site_id``, ``moved`` (the plan assigns it), ``in_urban`` (its registry point is in an urban
        area), ``quiet_m``, ``mixed_m``, ``land_m2``, ``area_m2``, ``employees``, ``km`` (straight line to
        its destination's edge, NaN when it stays).
    before
        Registry points.
    after
        Plot, zone or allowed estate land for the moved; the registry point otherwise.
    """

    table: pd.DataFrame
    before: np.ndarray
    after: np.ndarray
    residents: Residents
    rates: pd.DataFrame
    worker_trips: float


def allowed_land(res: RunResult, estate_id: str, code: str, cache: dict[tuple[str, str], object]) -> object:
    """The land of an estate the category's rules allow (the rules' own :meth:`RuleSet.usable`)."""
    key = (estate_id, code)
    if key not in cache:
        est = res.prep.region.layers["estates"]
        geom = est.geometry.values[int(np.flatnonzero(est["estate_id"].astype(str).to_numpy() == estate_id)[0])]
        cache[key] = res.prep.rules[code].usable(geom)[0]
    return cache[key]


def placements(res: RunResult) -> Placement:
    """Before and after geometries of every classified, in-scope business of a run (see :class:`Placement`)."""
    from .summaries import origins

    rows = res.plan.rows
    rows = rows[rows["category"].notna() & rows["category"].isin(list(res.prep.rules))].reset_index(drop=True)
    biz = res.prep.businesses.set_index("biz_id")
    before = biz.geometry.reindex(rows["biz_id"]).to_numpy()
    dist = nuisance_distances(res.prep.rules)
    t = pd.DataFrame({"biz_id": rows["biz_id"].to_numpy(), "category": rows["category"].to_numpy()})
    t["town"] = origins(res).reindex(rows["biz_id"]).to_numpy() if len(rows) else []
    t["estate_id"] = rows["estate_id"].where(rows["status"] == "assigned").to_numpy()
    t["site_id"] = rows["site_id"].to_numpy() if "site_id" in rows else None
    t["moved"] = (rows["status"] == "assigned").to_numpy()
    t["quiet_m"] = t["category"].map(dist["quiet_m"]).to_numpy(float)
    t["mixed_m"] = t["category"].map(dist["mixed_m"]).to_numpy(float)
    t["land_m2"] = pd.to_numeric(rows["land_m2"], errors="coerce").to_numpy(float)
    area = pd.to_numeric(biz["area_m2"], errors="coerce") if "area_m2" in biz else pd.Series(np.nan, index=biz.index)
    t["area_m2"] = area.reindex(rows["biz_id"]).to_numpy(float)
    emp = pd.to_numeric(biz["employees"], errors="coerce") if "employees" in biz else None
    t["employees"] = emp.reindex(rows["biz_id"]).to_numpy(float) if emp is not None else np.nan
    residents = Residents.from_urban(res.prep.region.layers.get("urban"), res.prep.scenario)
    t["in_urban"] = residents.urban_mask(before) if any(shapely.area(residents.geoms) > 0) \
        else np.ones(len(t), bool)  # settlement points only: every business counts as in town
    plots = res.plots.set_index("plot_id").geometry if res.plots is not None and len(res.plots) else None
    zones = res.zones.set_index("zone_id").geometry if len(res.zones) else None
    cache: dict[tuple[str, str], object] = {}
    after = before.copy()
    todo = (rows["status"] == "assigned").to_numpy()
    for col, geo in (("plot_id", plots), ("zone_id", zones)):  # its plot, else its zone
        if geo is None or col not in rows:
            continue
        key = rows[col].to_numpy(object)
        hit = todo & np.array([isinstance(k, str) for k in key], bool) & pd.Series(key).isin(geo.index).to_numpy()
        after[hit] = geo.reindex(key[hit]).to_numpy()
        todo = todo & ~hit
    for i in np.flatnonzero(todo):  # else the estate's land its rules allow
        after[i] = allowed_land(res, str(rows["estate_id"].iat[i]), str(rows["category"].iat[i]), cache)
    km = np.where(t["moved"].to_numpy(), shapely.distance(before, after) / M_PER_KM, np.nan)
    t["km"] = km
    rates = trip_rates(list(res.prep.catalogue.table["code"]), res.prep.scenario)
    return Placement(t, before, after, residents, rates, res.prep.scenario.programme.worker_trips_per_employee)


def group_figures(p: Placement, idx: np.ndarray, dest: np.ndarray | None = None) -> dict[str, float]:
    """The impact figures of one set of businesses moved to ``dest`` (default: the plan's destinations).

    Parameters
    ----------
    p
        The run's placement.
    idx
        Positions in ``p.table`` of the businesses of the set (all of them count before the move).
    dest
        Their geometries after the move; positions whose ``moved`` is False stay where they are unless
        ``dest`` is given (then every business of the set moves there).

    Returns
    -------
    dict
        The numeric columns of :data:`IMPACT_COLUMNS`.
    """
    return groups_figures(p, [(idx, dest)])[0]


def groups_figures(p: Placement, groups: list[tuple[np.ndarray, np.ndarray | None]]) -> list[dict[str, float]]:
    """:func:`group_figures` of several sets at once (each figure the same as one set's alone).

    The residents are counted for all sets together (:meth:`Residents.exposed_sets`: each buffer, spatial
    look-up and union computed once); the other figures are sums over the sets' rows of arrays taken
    from ``p.table`` once.

    Parameters
    ----------
    p
        The run's placement.
    groups
        ``(idx, dest)`` of each set, as :func:`group_figures` takes them.

    Returns
    -------
    list of dict
        The numeric columns of :data:`IMPACT_COLUMNS`, one dict per set.
    """
    t = p.table
    n = len(t)
    q, m = t["quiet_m"].to_numpy(float), t["mixed_m"].to_numpy(float)
    # where each set's businesses are before (p.before) and after (p.after, or the set's dest appended)
    pool, pool_q, pool_m = [p.before, p.after], [q, q], [m, m]
    sets_before, sets_after = [], []
    size = 2 * n
    for idx, dest in groups:
        idx = np.asarray(idx, dtype=np.int64)
        sets_before.append(idx)
        if dest is None:
            sets_after.append(n + idx)
        else:
            pool.append(np.asarray(dest, dtype=object))
            pool_q.append(q[idx])
            pool_m.append(m[idx])
            sets_after.append(size + np.arange(len(idx)))
            size += len(idx)
    from .setmemo import exposed_sets  # each set's figure from the run's memo where the set is unchanged

    exposed = exposed_sets(p.residents, np.concatenate(pool), np.concatenate(pool_q), np.concatenate(pool_m),
                           sets_before + sets_after)
    moved_all = t["moved"].to_numpy(bool)
    in_urban = t["in_urban"].to_numpy(bool)
    km_all = t["km"].to_numpy(float)
    cats = t["category"].to_numpy()
    heavy_all = p.rates["heavy"].reindex(cats).to_numpy(float)
    customer_all = p.rates["customer"].reindex(cats).to_numpy(float)
    emp_all = t["employees"].to_numpy(float)
    land_all = t["land_m2"].to_numpy(float)
    area_all = t["area_m2"].to_numpy(float)
    # the urban land a moved business frees: its registry area when it has one, else its land need
    freed_all = np.where(~np.isnan(area_all) & (area_all > 0), area_all, land_all)
    out: list[dict[str, float]] = []
    for k, (idx, dest) in enumerate(groups):
        idx = np.asarray(idx, dtype=np.int64)
        moved = moved_all[idx] if dest is None else np.ones(len(idx), bool)
        km = km_all[idx] if dest is None else shapely.distance(p.before[idx], np.asarray(dest, dtype=object)) / M_PER_KM
        before, aft = float(exposed[k]), float(exposed[len(groups) + k])
        mv = idx[moved]
        urban = mv[in_urban[mv]]
        emp = emp_all[mv]
        trips = customer_all[mv] + np.nan_to_num(emp) * p.worker_trips
        land = float(np.nansum(land_all[mv]))
        relieved = before - aft
        out.append({"businesses": len(idx), "moved": int(moved.sum()), "residents_before": round(before),
                    "residents_after": round(aft), "residents_relieved": round(relieved),
                    "heavy_trips_off": round(float(np.nansum(heavy_all[urban])), 1),
                    "customer_trips_off": round(float(np.nansum(customer_all[urban])), 1),
                    "added_km_per_day": round(float(np.nansum(trips * km[moved])), 1),
                    "estate_land_ha": round(land / M2_PER_HA, 3),
                    "urban_land_freed_ha": round(float(np.nansum(freed_all[urban])) / M2_PER_HA, 3),
                    "jobs_moved": (round(float(np.nansum(emp))) if np.isfinite(emp).any() else np.nan),
                    "relieved_per_ha": round(relieved / (land / M2_PER_HA), 1) if land > 0 else np.nan})
    return out


def upgrade_figure(row: object, *names: str) -> float:
    """The first of an upgrades.csv row's columns ``names`` that has a value (0 when none has): the
    verified ``placed``/``businesses``, else the estimate ``businesses_est``."""
    for n in names:
        v = getattr(row, n, None)
        if v is not None and pd.notna(v):
            return float(v)
    return 0.0


def upgrade_businesses(res: RunResult, p: Placement) -> dict[int, np.ndarray]:
    """The businesses each upgrade would place (an estimate: upgrades.csv gives counts only).

    For each upgrade row, the unassigned businesses of the categories it admits, within the allocation's
    reach of the estate, nearest first, as many as it places (``placed`` when verified, else
    ``businesses``, else the estimate ``businesses_est``).

    Returns
    -------
    dict
        Upgrade row position to positions in ``p.table``.
    """
    up = res.upgrades
    out: dict[int, np.ndarray] = {}
    if up is None or not len(up):
        return out
    est = res.prep.region.layers["estates"]
    geom = dict(zip(est["estate_id"].astype(str), est.geometry.values))
    reach = res.prep.scenario.allocation.max_distance_km * M_PER_KM
    t = p.table
    free = ~t["moved"].to_numpy()
    for k, r in enumerate(up.itertuples()):
        n = int(upgrade_figure(r, "placed", "businesses", "businesses_est"))
        cats = [c.strip() for c in str(r.categories or "").split(",") if c.strip()]
        g = geom.get(str(r.estate_id))
        if n <= 0 or g is None:
            out[k] = np.zeros(0, int)
            continue
        cand = np.flatnonzero(free & t["category"].isin(cats).to_numpy())
        d = shapely.distance(p.before[cand], g)
        ok = d <= reach
        cand, d = cand[ok], d[ok]
        order = np.lexsort((t["biz_id"].to_numpy()[cand].astype(str), d))
        out[k] = cand[order][:n]
    return out


def _positions(labels: np.ndarray) -> dict[object, np.ndarray]:
    """The positions of each label (increasing), by label; missing labels (None, NaN) are left out.

    Parameters
    ----------
    labels
        One label per row.

    Returns
    -------
    dict
        Label to its rows' positions (the same as ``np.flatnonzero(labels == label)``).
    """
    codes, uniq = pd.factorize(pd.Series(labels, dtype=object))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return {uniq[k]: order[bounds[k]:bounds[k + 1]] for k in range(len(uniq))}


def impact_table(res: RunResult, p: Placement | None = None) -> pd.DataFrame:
    """``impact.csv``: the figures of the plan for the province, each category, town and receiving
    estate, and of each proposed site and upgrade (module docstring).

    Parameters
    ----------
    res
        A finished run.
    p
        Its placement (computed when not given).

    Returns
    -------
    pandas.DataFrame
        :data:`IMPACT_COLUMNS`. ``basis`` says what the row's set is.
    """
    p = p or placements(res)
    t = p.table
    heads: list[tuple[str, str, str, str]] = []
    groups: list[tuple[np.ndarray, np.ndarray | None]] = []
    cat = res.prep.catalogue

    def add(level: str, key: str, name: str, idx: np.ndarray, basis: str, dest: np.ndarray | None = None) -> None:
        heads.append((level, key, name, basis))
        groups.append((idx, dest))

    allpos = np.arange(len(t))
    add("province", "all", "", allpos, "every classified business; the plan's moves")
    by_cat = _positions(t["category"].to_numpy())
    for code in cat.codes:
        idx = by_cat.get(code, np.zeros(0, np.int64))
        if len(idx):
            add("category", code, str(cat.row(code)["name_en"]), idx, "the category's businesses; the plan's moves")
    towns = t["town"].fillna("(unknown)").astype(str).to_numpy()
    for town, idx in sorted(_positions(towns).items()):
        add("town", str(town), "", idx, "businesses whose nearest settlement it is")
    est = res.prep.region.layers["estates"]
    names = dict(zip(est["estate_id"].astype(str), est["name"].astype(str) if "name" in est else est["estate_id"]))
    eids = t["estate_id"].astype(str).where(t["estate_id"].notna()).to_numpy()
    for eid, idx in sorted((e, i) for e, i in _positions(eids).items() if isinstance(e, str)):
        add("estate", eid, names.get(eid, ""), idx, "businesses the plan moves there")
    if len(res.sites):
        sid = t["site_id"].to_numpy()
        for s in res.sites.itertuples():
            idx = np.flatnonzero(sid == s.site_id)
            add("site", str(s.site_id), f"new {s.chain} estate", idx, "businesses the site would take",
                np.array([s.geometry] * len(idx), dtype=object))
    up = res.upgrades
    if up is not None and len(up):
        cache: dict[tuple[str, str], object] = {}
        for k, idx in upgrade_businesses(res, p).items():
            r = up.iloc[k]
            dest = np.array([allowed_land(res, str(r["estate_id"]), str(c), cache) for c in t["category"].to_numpy()[idx]],
                            dtype=object)
            add("upgrade", f"{r['estate_id']}#{int(r['rank'])}", str(r["upgrade"]), idx,
                "estimate: the nearest unassigned businesses of the admitted categories, as many as it places",
                dest)
    # every set's figures at once: the buffers and unions they share are computed once
    rows = [{"level": level, "id": key, "name": name, **f, "km_basis": KM_BASIS, "basis": basis}
            for (level, key, name, basis), f in zip(heads, groups_figures(p, groups))]
    return pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
