"""New estate sites for the demand the existing estates cannot take, sized to it, and who they take.

The search follows the businesses left unassigned, not the best land of the province:

1. **Where the demand is.** For each value chain, the unassigned land of its businesses is summed
   within the allocation reach (``allocation.max_distance_km``) of every cell of the analysis grid
   (a disc convolution). A site can only take a business within that reach, so a cell's value is the
   chain's unassigned land it could take, times the chain's suitability there; cells the chain's rules
   exclude, below ``sites.min_score`` or closer than ``sites.min_distance_from_estates_km`` to an
   estate (or than ``sites.min_spacing_km`` to a chosen site) are not candidates.
2. **Greedy maximum coverage.** The best cell over all chains seeds a site; the businesses of its
   chain within reach (nearest first, up to what ``sites.max_area_ha`` holds) are what it is for, and
   its area is their net land ÷ ``allocation.net_to_gross`` (``sites.area_ha`` when set), kept within
   ``sites.min_area_ha`` and ``sites.max_area_ha`` (``sized_by`` says which of these set it, so a 20 ha
   site for two workshops says that ``sites.min_area_ha`` forced its size). Their demand is removed and the next site is sought,
   up to ``sites.count`` sites, while any demand is left in reach of an allowed cell. A chain with no
   demand in reach of allowed land gets no site.
3. **On a grid fine enough for the site.** The site is grown (:func:`siteplan.locate.regions.grow_regions`) on
   a window around its seed at a resolution giving it about :data:`CELLS_PER_SITE` cells (never coarser
   than the analysis grid), with the chain's rules evaluated exactly on that window (the same rule
   engine), then checked on its vector geometry (:func:`siteplan.locate.regions.recheck_site`).
2b. **Alternatives.** The search is run again over all the unassigned demand, kept
   ``sites.min_spacing_km`` off the sites found, until each chain with a site has
   ``sites.candidates_per_chain`` × its sites candidates (so any subset of candidates keeps the spacing).

Which candidates open and who they take is :mod:`siteplan.locate.sitechoice` (a capacitated
facility-location model on the travel costs).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from ..common.units import M2_PER_HA
from ..grid import Grid, catchment_field, rasterize_mask

if TYPE_CHECKING:
    from ..relocation import Plan
    from ..results import Prepared

log = logging.getLogger(__name__)

__all__ = ["CELLS_PER_SITE", "SiteDemand", "candidate_cells", "cells_key", "demand_sites", "site_size", "sizing_note",
           "unassigned_businesses"]

#: a site is grown on a grid giving it about this many cells (finer than the analysis grid when needed)
CELLS_PER_SITE = 100
#: never finer than this (m): below it the rules' own buffers are the limit
MIN_SITE_RES_M = 10.0
#: seeds tried per site before the search gives up on a chain's best cell (rules cut it away)
_TRIES = 4


@dataclass
class SiteDemand:
    """One proposed site before the final allocation: its chain, polygon and the demand it was sized for.

    Parameters
    ----------
    chain
        Value chain (or category) it serves.
    codes
        Categories of the chain with unassigned businesses.
    geometry
        Polygon (working CRS).
    target_ids
        The unassigned businesses it was sized for.
    land_m2
        Their net land (m²).
    score
        Mean suitability of the chain over the site (0–1).
    res_m
        Resolution (m) of the grid it was grown on.
    notes
        What its growth said (empty by default).
    sized_by
        What set its target area: ``demand`` (its businesses' net land ÷ ``allocation.net_to_gross``),
        ``min_area_ha`` / ``max_area_ha`` (the scenario's bound, when the demand needs less / more) or
        ``area_ha`` (the scenario's fixed ``sites.area_ha``).
    demand_ha
        The gross area (ha) its businesses need (net land ÷ ``allocation.net_to_gross``).
    start
        True for a site found in the first pass, for the unassigned demand; False for an alternative
        found afterwards, kept off the sites found (the start of the site choice).
    """

    chain: str
    codes: list[str]
    geometry: shapely.Geometry
    target_ids: list[Any]
    land_m2: float
    score: float
    res_m: float
    notes: list[str] = field(default_factory=list)
    sized_by: str = "demand"
    demand_ha: float = 0.0
    start: bool = True


def unassigned_businesses(prep: Prepared, plan: Plan) -> pd.DataFrame:
    """Classified, in-scope businesses left unassigned, with their point, land and chain."""
    cat = prep.catalogue.table.set_index("code")
    rows = plan.rows
    un = rows[(rows["status"] == "unassigned") & rows["category"].isin(prep.surfaces)].copy()
    pts = prep.businesses.set_index("biz_id").geometry
    un["geometry"] = pts.loc[un["biz_id"]].to_numpy()
    un["chain"] = un["category"].map(cat["chain"]).replace("", np.nan).fillna(un["category"]).astype(str)
    return un


def _site_grid(x: float, y: float, area_m2: float, base: Grid) -> Grid:
    """A window around (x, y) wide enough for a site of ``area_m2``, at a resolution giving it about
    :data:`CELLS_PER_SITE` cells (never coarser than the analysis grid)."""
    res = float(min(base.res, max(MIN_SITE_RES_M, np.sqrt(area_m2 / CELLS_PER_SITE))))
    half = 1.6 * np.sqrt(area_m2) + base.res
    return Grid.covering(box(x - half, y - half, x + half, y + half), res, base.crs)


def _sample(score: np.ndarray, base: Grid, fine: Grid) -> np.ndarray:
    """The analysis grid's values at the fine grid's cell centres (NaN outside)."""
    rr, cc = np.mgrid[0:fine.height, 0:fine.width]
    x, y = fine.xy(rr, cc)
    r, c = base.rowcol(x, y)
    ok = (r >= 0) & (r < base.height) & (c >= 0) & (c < base.width)
    out = np.full(fine.shape, np.nan, dtype=np.float32)
    out[ok] = score[r[ok], c[ok]]
    return out


def demand_sites(prep: Prepared, plan: Plan, estates: gpd.GeoDataFrame) -> tuple[list[SiteDemand], list[str]]:
    """Sites for the unassigned demand (module docstring, steps 1–3).

    Parameters
    ----------
    prep
        The prepared run (surfaces, rules, grid, scenario).
    plan
        The relocation plan onto the existing estates.
    estates
        The existing estates (working CRS).

    Returns
    -------
    sites, notes
        The sites in the order found (best coverage first) and what the search could not do.
    """
    un = unassigned_businesses(prep, plan)
    if un.empty or prep.scenario.sites.count == 0:
        return [], []
    return _DemandSearch(prep, un, estates).run()


class _DemandSearch:
    """State of one greedy search: the open demand, the chains' allowed cells and the sites so far."""

    def __init__(self, prep: Prepared, un: pd.DataFrame, estates: gpd.GeoDataFrame) -> None:
        from ..grid import distance_field

        self.prep, self.un = prep, un
        sc = prep.scenario
        self.spec = spec = sc.sites
        self.grid = grid = prep.grid
        self.reach = sc.allocation.max_distance_km * 1000.0
        self.ntg = sc.allocation.net_to_gross
        self.pts = un.geometry.to_numpy()
        self.xy = np.column_stack([shapely.get_x(self.pts), shapely.get_y(self.pts)])
        self.land = un["land_m2"].to_numpy(float)
        self.chain_of = un["chain"].to_numpy()
        self.open = np.ones(len(un), dtype=bool)
        self.est_geoms = list(estates.geometry.values)
        est_mask = rasterize_mask(self.est_geoms, grid) if self.est_geoms else np.zeros(grid.shape, dtype=bool)
        keep_off = (distance_field(est_mask, grid.res) < max(spec.min_distance_from_estates_km * 1000, 0.5 * grid.res)
                    if est_mask.any() else np.zeros(grid.shape, dtype=bool))
        self.chains = sorted(set(self.chain_of))
        self.codes = {ch: sorted(set(un.loc[un["chain"] == ch, "category"])) for ch in self.chains}
        self.blocked = {ch: np.zeros(grid.shape, dtype=bool) for ch in self.chains}  # seeds that held no site
        self.ok: dict[str, np.ndarray] = {}
        self.score: dict[str, np.ndarray] = {}
        for ch in self.chains:
            codes = self.codes[ch]
            w = un.loc[un["chain"] == ch].groupby("category")["land_m2"].sum()
            w = w / w.sum()
            score = sum(np.nan_to_num(prep.surfaces[c].score, nan=0.0) * float(w[c]) for c in codes)
            allowed = np.logical_and.reduce([prep.surfaces[c].allowed for c in codes])
            self.ok[ch] = allowed & (score >= spec.min_score) & ~keep_off
            self.score[ch] = np.asarray(score, dtype=np.float32)
        self.sites: list[SiteDemand] = []
        self.notes: list[str] = []
        # work shared by the seeds (the same values recomputed gave the same search): each chain's
        # catchment of its open demand by the set of open businesses, the spacing mask by the number of
        # sites, the rules' distance fields by window
        self._cover: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = {}
        self._spectra: dict[tuple[float, ...], np.ndarray] = {}  # the reach disc's transform, made once
        self._spacing: tuple[int, np.ndarray] | None = None

    def run(self) -> tuple[list[SiteDemand], list[str]]:
        spec = self.spec
        tries = 0
        while len(self.sites) < spec.count and self.open.any() and tries < spec.count * _TRIES:
            tries += 1
            if not self._add():
                break
        left = self.un.loc[self.open]
        if len(left) and len(self.sites) < spec.count:
            for ch, n in left.groupby("chain").size().items():
                self.notes.append(f"chain '{ch}': {n} unassigned businesses have no allowed land for a site of at "
                                  f"least {spec.min_area_ha:g} ha (score ≥ {spec.min_score:g}) within "
                                  f"{self.reach / 1000:g} km")
        # the alternatives: the search again over all the demand, kept off the sites found (step 2b)
        n_start = len(self.sites)
        per_chain = {ch: spec.candidates_per_chain * max(1, sum(s.chain == ch for s in self.sites))
                     for ch in self.chains}
        self.cap = {ch: per_chain[ch] for ch in self.chains if any(s.chain == ch for s in self.sites)}
        self.open[:] = True
        limit = sum(self.cap.values())
        tries = 0
        while len(self.sites) < limit and tries < (limit - n_start) * _TRIES:
            tries += 1
            if not self._add(start=False):
                break
        return self.sites, self.notes

    def _add(self, *, start: bool = True) -> bool:
        """Seek one more site (False when no allowed cell is left); a seed that holds none is blocked."""
        best = self._best_seed()
        if best is None:
            return False
        ch, r, c = best
        site = self._site_at(ch, r, c)
        if site is None:
            self.blocked[ch][r, c] = True  # this seed cannot hold a site: try the next best
            return True
        site.start = start
        self.sites.append(site)
        return True

    def _best_seed(self) -> tuple[str, int, int] | None:
        """The cell (over all chains) with the most open demand in reach, weighted by suitability."""
        from ..grid import distance_field

        grid, spec = self.grid, self.spec
        if self._spacing is None or self._spacing[0] != len(self.sites):  # a site added since
            spacing = np.zeros(grid.shape, dtype=bool)
            if self.sites:
                sm = rasterize_mask([s.geometry for s in self.sites], grid)
                spacing = distance_field(sm, grid.res) < max(spec.min_spacing_km * 1000, 0.5 * grid.res)
            self._spacing = (len(self.sites), spacing)
        spacing = self._spacing[1]
        best: tuple[float, str, int, int] | None = None
        cap = getattr(self, "cap", None)
        for ch in self.chains:
            if cap is not None and sum(s.chain == ch for s in self.sites) >= cap.get(ch, 0):
                continue
            sel = self.open & (self.chain_of == ch)
            if not sel.any():
                continue
            cells, value = self._candidates(ch, sel)
            ok = ~self.blocked[ch].ravel()[cells] & ~spacing.ravel()[cells]
            if not ok.any():
                continue
            # the first best cell in the grid's order (the flat indices are ascending)
            j = int(np.argmax(value[ok]))
            v, k = value[ok][j], int(cells[ok][j])
            if v > (best[0] if best else 0.0):
                r, c = np.unravel_index(k, grid.shape)
                best = (float(v), ch, int(r), int(c))
        return None if best is None else best[1:]

    def _candidates(self, ch: str, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chain ``ch``'s allowed cells with open land in reach (flat indices, ascending) and their value:
        that land (:func:`siteplan.grid.catchment_field` of the businesses ``sel``) times the chain's
        suitability. Computed once per set of open businesses: a seed that held no site, or a site of
        another chain, leaves it as it was, and the alternatives' search starts from the first search's
        sets again."""
        key = (ch, np.packbits(sel).tobytes())
        got = self._cover.get(key)
        if got is None:
            got = self._cover[key] = candidate_cells(self.xy[sel], self.land[sel], self.grid, self.reach,
                                                     self.ok[ch], self.score[ch], spectra=self._spectra)
        return got

    def _rule_distances(self, codes: list[str], fine: Grid) -> dict[str, np.ndarray]:
        """The centre-distance field of every distance rule's target on the window ``fine``, for
        :meth:`siteplan.rules.ruleset.RuleSet.mask` (``distance=``): the same field the mask computes
        itself (the target's cells on the window padded by the rule distance), but rasterizing only the
        target features whose bounds reach the padded window instead of all of them — a feature outside
        it touches none of its cells. One field per target serves every rule and category of the chain,
        padded for the largest of their distances (a wider pad changes no decision: the cells it adds
        are farther than every rule's distance band). Empty (each mask computes its own) when the
        categories' rules do not share one context (one set of target features)."""
        from ..grid import FieldCache

        if len({id(self.prep.rules[k].ctx) for k in codes}) != 1:
            return {}
        pads: dict[str, float] = {}
        for k in codes:
            for rule in self.prep.rules[k]:
                if rule.kind == "distance":
                    pad = rule.min_m + 2 * fine.res * np.sqrt(2.0)
                    pads[rule.target] = max(pads.get(rule.target, pad), pad)
        ctx = self.prep.rules[codes[0]].ctx
        out: dict[str, np.ndarray] = {}
        fc = FieldCache(fine)
        for target, pad_m in pads.items():
            tg, tree = ctx.target(target)
            if tree is None:
                continue
            pad = int(np.ceil(pad_m / fine.res)) + 1  # FieldCache.distance's padding, in cells
            x0, y0, x1, y1 = _bounds(fine)
            near = np.sort(tree.query(box(x0 - pad * fine.res, y0 - pad * fine.res, x1 + pad * fine.res,
                                          y1 + pad * fine.res)))
            out[target] = fc.distance(target, tg[near], pad_m=pad_m)
        return out

    def _site_at(self, ch: str, r: int, c: int) -> SiteDemand | None:
        """The site seeded at cell (r, c) for chain ``ch``, sized to its demand in reach; None when the
        land there cannot hold one."""
        from .regions import grow_regions, recheck_site, regions_to_polygons

        spec, grid = self.spec, self.grid
        x0, y0 = (float(v[0]) for v in grid.xy(np.array([r]), np.array([c])))
        seed = shapely.points(x0, y0)
        sel = np.flatnonzero(self.open & (self.chain_of == ch))
        d = shapely.distance(self.pts[sel], seed)
        keep = d <= self.reach
        order = sel[keep][np.argsort(d[keep], kind="stable")]
        target = order[np.cumsum(self.land[order]) <= spec.max_area_ha * M2_PER_HA * self.ntg]
        if not len(target) and len(order):
            target = order[:1]
        need = float(self.land[target].sum())
        demand_ha = need / self.ntg / M2_PER_HA
        area_ha, sized_by = site_size(demand_ha, spec.area_ha, spec.min_area_ha, spec.max_area_ha)
        fine = _site_grid(x0, y0, area_ha * M2_PER_HA, grid)
        codes = self.codes[ch]
        dist = self._rule_distances(codes, fine)
        allowed = np.logical_and.reduce([self.prep.rules[k].mask(grid=fine, distance=dist)[0] for k in codes])
        score = _sample(self.score[ch], grid, fine)
        score = np.where(score >= spec.min_score, score, np.nan)
        # kept off the estates and the sites already chosen, measured exactly from their polygons
        window = box(*_bounds(fine))
        for geoms, gap in ((self.est_geoms, spec.min_distance_from_estates_km * 1000),
                           ([s.geometry for s in self.sites], spec.min_spacing_km * 1000)):
            near = [g for g in geoms if g.distance(window) < gap]
            if near:
                allowed &= _distance_to(near, fine) >= gap
        res = grow_regions(score, allowed, fine, count=1, area_ha=area_ha, min_area_ha=spec.min_area_ha,
                           max_area_ha=spec.max_area_ha, min_spacing_m=0.0)
        polys = regions_to_polygons(res.regions, fine)
        poly = recheck_site(polys[0], [self.prep.rules[k] for k in codes], self.notes, ch) if polys else None
        if poly is None or poly.is_empty or poly.area / M2_PER_HA < spec.min_area_ha * 0.999:
            return None
        self.open[target] = False
        return SiteDemand(ch, codes, poly, list(self.un["biz_id"].to_numpy()[target]), need,
                          float(np.nanmean(score[res.regions[0]])), fine.res, sized_by=sized_by, demand_ha=demand_ha)


#: siteplan's files whose code decides :func:`candidate_cells` (their source is part of its cache key)
_CELLS_SOURCES = ("grid.py", "locate/newsites.py")


@functools.cache
def _cells_source() -> bytes:
    """SHA-256 of :data:`_CELLS_SOURCES` and the versions (read once per process)."""
    from ..common.usercache import package_files_digest, versions_key

    return package_files_digest(_CELLS_SOURCES, prefix=repr(versions_key()).encode())


def cells_key(xy: np.ndarray, land: np.ndarray, grid: Grid, reach_m: float, ok: np.ndarray,
              score: np.ndarray) -> str:
    """SHA-256 of everything :func:`candidate_cells` answers from: the points and their land, the grid,
    the reach, the allowed cells and the suitability, the code that computes it and the versions.

    Parameters
    ----------
    xy, land, grid, reach_m, ok, score
        As for :func:`candidate_cells`.

    Returns
    -------
    str
        The hexadecimal key.
    """
    h = hashlib.sha256(_cells_source())
    h.update(repr((tuple(grid.transform), grid.width, grid.height, float(grid.res), str(grid.crs),
                   float(reach_m))).encode())
    for arr in (np.asarray(xy, np.float64), np.asarray(land, np.float64), np.packbits(np.asarray(ok, bool)),
                np.asarray(score)):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def candidate_cells(xy: np.ndarray, land: np.ndarray, grid: Grid, reach_m: float, ok: np.ndarray,
                    score: np.ndarray, *, spectra: dict[tuple[float, ...], np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The allowed cells with land in reach and their value (:meth:`_DemandSearch._candidates`), or
    what an earlier call with the same inputs stored in the user's cache folder (``sites/``).

    A pure function of its inputs (the key, :func:`cells_key`, holds all of them, the code and the
    library versions), so a stored answer is the answer computing again gives, bit for bit: a rerun, or
    a what-if whose change leaves a chain's open demand as it was, reads it. ``SITEPLAN_CACHE_DIR=off``
    turns the cache off.

    Parameters
    ----------
    xy, land
        The open businesses' points (n, 2) and their land (m²).
    grid
        The analysis grid.
    reach_m
        The reach (m).
    ok, score
        The chain's allowed cells and its suitability (``grid.shape``).
    spectra
        The reach disc's Fourier transform, shared by the calls of one search
        (:func:`siteplan.grid.catchment_field`).

    Returns
    -------
    cells, value
        Flat indices (ascending) of the allowed cells with land in reach, and that land times the
        suitability there.
    """
    from ..common.usercache import cache_dir, load_object, store_object

    key = cells_key(xy, land, grid, reach_m, ok, score) if cache_dir() is not None else None
    got = load_object("sites", key) if key is not None else None
    if isinstance(got, tuple) and len(got) == 2:
        return got[0], got[1]
    cover = catchment_field(xy, land, grid, reach_m, spectra=spectra)
    cells = np.flatnonzero(ok & (cover > 0))
    out = (cells, cover.ravel()[cells] * score.ravel()[cells])
    if key is not None:
        store_object("sites", key, out)
    return out


def site_size(demand_ha: float, area_ha: float | None, min_area_ha: float, max_area_ha: float) -> tuple[float, str]:
    """A site's target gross area (ha) and what set it: ``demand`` (``demand_ha``), ``area_ha`` (the
    scenario's fixed size), or the bound ``min_area_ha`` / ``max_area_ha`` that the size was pushed to."""
    want, by = (area_ha, "area_ha") if area_ha else (demand_ha, "demand")
    if want < min_area_ha:
        return float(min_area_ha), "min_area_ha"
    if want > max_area_ha:
        return float(max_area_ha), "max_area_ha"
    return float(want), by


def sizing_note(sized_by: str, area_ha: float, demand_ha: float, sized_for: int, net_to_gross: float) -> str:
    """The reason for a site's size in words (sites.geojson ``sizing``, options.csv, the report).

    Parameters
    ----------
    sized_by
        What set the size (:attr:`SiteDemand.sized_by`): ``min_area_ha``, ``max_area_ha``, ``area_ha``
        (the scenario's bound or fixed area); anything else reads as ``demand``.
    area_ha
        The site's area (ha).
    demand_ha
        The gross area (ha) its businesses need.
    sized_for
        How many businesses it was sized for.
    net_to_gross
        The scenario's ``allocation.net_to_gross`` (net land = gross × this), to state the net land.

    Returns
    -------
    str
        One English sentence, e.g. ``"12 ha set by the scenario's sites.min_area_ha; the 3 businesses it
        was sized for need 4.00 ha of land (5.00 ha gross)"``.
    """
    need = (f"the {sized_for} businesses it was sized for need {demand_ha * net_to_gross:,.2f} ha of land "
            f"({demand_ha:,.2f} ha gross)")
    if sized_by == "min_area_ha":
        return f"{area_ha:g} ha set by the scenario's sites.min_area_ha; {need}"
    if sized_by == "max_area_ha":
        return f"{area_ha:g} ha capped by the scenario's sites.max_area_ha; {need}"
    if sized_by == "area_ha":
        return f"{area_ha:g} ha fixed by the scenario's sites.area_ha; {need}"
    return f"sized to its demand: {need}"


def _bounds(g: Grid) -> tuple[float, float, float, float]:
    x0, y1 = g.transform.c, g.transform.f
    return (x0, y1 - g.height * g.res, x0 + g.width * g.res, y1)


def _distance_to(geoms: list[shapely.Geometry], g: Grid) -> np.ndarray:
    """Distance (m) from each cell centre of ``g`` to the nearest of ``geoms``."""
    rr, cc = np.mgrid[0:g.height, 0:g.width]
    x, y = g.xy(rr.ravel(), cc.ravel())
    pts = shapely.points(x, y)
    d = np.min(np.stack([shapely.distance(pts, geom) for geom in geoms]), axis=0)
    answer: np.ndarray = d.reshape(g.shape)
    return answer
