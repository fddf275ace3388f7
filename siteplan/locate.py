"""Locating: rank existing estates per category, find new contiguous compact sites on the
suitability surface, and write each site's feasibility figures.

New sites are grown region by region on the grid: each starts at the best allowed cell not yet
taken, kept away from existing estates and earlier sites, and grows through 8-connected allowed
cells, best first with a penalty on distance from the seed (compactness), until it reaches its
target area; holes are filled when the filling cells are allowed. When a target cannot be met the
result says which and by how much — it never silently returns fewer sites.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from scipy import ndimage

from .criteria import Grid, distance_field

log = logging.getLogger(__name__)

__all__ = ["rank_estates", "estate_closeness", "grow_regions", "SiteSearch", "site_feasibility", "p_median",
           "capacitated_facility_location", "FacilityResult"]

#: TOPSIS weights of (suitability score, usable net capacity) when ranking estates.
RANK_WEIGHTS = (0.7, 0.3)


def estate_closeness(score: np.ndarray, capacity_ha: np.ndarray) -> np.ndarray:
    """TOPSIS closeness of estates on (score, usable capacity), both benefits, vectorized over any
    leading axes of ``score`` (e.g. Monte Carlo draws × estates); same result as
    :func:`siteplan.suitability.topsis` on one row."""
    s = np.asarray(score, dtype=float)
    cap = np.broadcast_to(np.asarray(capacity_ha, dtype=float), s.shape)
    cols = []
    for v, w in ((s, RANK_WEIGHTS[0]), (cap, RANK_WEIGHTS[1])):
        n = np.sqrt((v ** 2).sum(axis=-1, keepdims=True))
        cols.append(np.divide(v, n, out=np.zeros_like(v), where=n > 0) * w)
    dp = np.sqrt(sum((c - c.max(axis=-1, keepdims=True)) ** 2 for c in cols))
    dm = np.sqrt(sum((c - c.min(axis=-1, keepdims=True)) ** 2 for c in cols))
    den = dp + dm
    return np.divide(dm, den, out=np.zeros_like(den), where=den > 0)


def rank_estates(elig: pd.DataFrame, scores: pd.DataFrame, capacity: pd.DataFrame,
                 acceptability: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Rank eligible estates per category by TOPSIS on (suitability score, usable net capacity).

    Parameters
    ----------
    elig
        Eligibility rows (``estate_id``, ``category``, ``eligible``, ``reason``, ``usable_frac``).
    scores
        ``estate_id``, ``category``, ``score``.
    capacity
        ``estate_id``, ``capacity_m2``.
    acceptability
        Optional per category: probability that each estate (in ``elig`` order within the category)
        keeps its rank under Monte Carlo weights.

    Returns
    -------
    pandas.DataFrame
        ``elig`` plus ``score``, ``usable_cap_ha``, ``closeness`` and ``rank`` (1 = best; None when
        not eligible).
    """
    if elig.empty:
        return elig.assign(score=pd.Series(dtype=float), usable_cap_ha=pd.Series(dtype=float),
                           closeness=pd.Series(dtype=float), rank=pd.array([], dtype="Int64"))
    df = elig.merge(scores, on=["estate_id", "category"], how="left").merge(capacity, on="estate_id", how="left")
    df["usable_cap_ha"] = df["capacity_m2"].fillna(0) * df["usable_frac"] / 1e4
    df["closeness"] = np.nan
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    for code, grp in df.groupby("category", sort=True):
        ok = grp[grp["eligible"] & grp["score"].notna()]
        if ok.empty:
            continue
        c = estate_closeness(ok["score"].to_numpy(float), ok["usable_cap_ha"].to_numpy(float))
        order = np.lexsort((ok["estate_id"].to_numpy(), -c))
        ranks = np.empty(len(ok), dtype=int)
        ranks[order] = np.arange(1, len(ok) + 1)
        df.loc[ok.index, "closeness"] = np.round(c, 6)
        df.loc[ok.index, "rank"] = ranks
    return df.drop(columns=["capacity_m2"])


@dataclass(frozen=True)
class SiteSearch:
    """Outcome of :func:`grow_regions`: the regions (cell masks) and the targets that failed."""

    regions: list[np.ndarray]
    failures: list[str]


def grow_regions(score: np.ndarray, allowed: np.ndarray, grid: Grid, *, count: int, area_ha: float,
                 min_area_ha: float, max_area_ha: float, min_spacing_m: float, avoid: np.ndarray | None = None,
                 avoid_m: float = 0.0, compactness: float = 0.5, max_spacing_m: float | None = None) -> SiteSearch:
    """Find ``count`` contiguous, compact regions of about ``area_ha`` on allowed cells.

    Parameters
    ----------
    score
        Suitability in [0, 1] (NaN = excluded).
    allowed
        Cells the rules allow.
    grid
        The grid (cell size).
    count
        Regions wanted.
    area_ha, min_area_ha, max_area_ha
        Target area and bounds per region.
    min_spacing_m
        Minimum distance between regions.
    avoid, avoid_m
        Cells to keep ``avoid_m`` away from (existing estates).
    compactness
        Weight of the distance-from-seed penalty (0 = pure score, larger = rounder).
    max_spacing_m
        Every region after the first must lie within this distance of an earlier one (None: no limit).

    Returns
    -------
    SiteSearch
    """
    cell_ha = grid.res ** 2 / 1e4
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
    H, W = ok.shape
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
        region = np.zeros_like(ok)
        heap: list[tuple[float, int, int]] = [(-s[seed], seed[0], seed[1])]
        seen = {seed}
        got = 0
        while heap and got < target:
            _, r, c = heapq.heappop(heap)
            region[r, c] = True
            got += 1
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < H and 0 <= cc < W and (rr, cc) not in seen and ok[rr, cc]:
                        seen.add((rr, cc))
                        pen = compactness * np.hypot(rr - seed[0], cc - seed[1]) / max(r_target, 1.0)
                        heapq.heappush(heap, (-(s[rr, cc] - pen), rr, cc))
        region = _remove_holes(region, ok)
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


def _remove_holes(region: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Make a region hole-free: fill holes made only of usable cells; open the others by cutting the
    shortest 4-connected corridor of region cells from the hole to the outside, then keep the largest
    8-connected part."""
    from collections import deque

    region = region.copy()
    H, W = region.shape
    for _ in range(20):
        holes = ndimage.binary_fill_holes(region) & ~region
        if not holes.any():
            break
        lab, n = ndimage.label(holes)
        for h in range(1, n + 1):
            cells = lab == h
            if ok[cells].all():
                region |= cells
                continue
            # BFS from the hole through region cells until a cell next to the outside
            outside = ~region & ~ndimage.binary_fill_holes(region)
            start = [tuple(x) for x in np.argwhere(cells)]
            prev: dict[tuple[int, int], tuple[int, int] | None] = {s: None for s in start}
            q = deque(start)
            end = None
            while q:
                r, c = q.popleft()
                if region[r, c] and any(0 <= r + dr < H and 0 <= c + dc < W and outside[r + dr, c + dc]
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
        lab8, n8 = ndimage.label(region, structure=np.ones((3, 3)))
        if n8 > 1:
            sizes = np.bincount(lab8.ravel())
            sizes[0] = 0
            region = lab8 == int(np.argmax(sizes))
    return region


def regions_to_polygons(regions: list[np.ndarray], grid: Grid) -> list[shapely.Geometry]:
    """Polygon of each region mask (cell edges)."""
    out = []
    for reg in regions:
        shapes = [shapely.geometry.shape(g) for g, v in features.shapes(reg.astype("uint8"), mask=reg,
                                                                        transform=grid.transform) if v == 1]
        out.append(shapely.union_all(shapes))
    return out


#: radius (km) of the population within reach of a proposed site (``pop_reach``)
POP_REACH_KM = 30.0


def site_feasibility(sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], *, net_to_gross: float,
                     land_per_unit: dict[str, float], share: dict[str, float], reach_km: float = POP_REACH_KM) -> pd.DataFrame:
    """Feasibility figures of proposed sites.

    Parameters
    ----------
    sites
        Site polygons (working CRS).
    layers
        The region's layers (roads, rail, utilities, urban).
    net_to_gross
        Saleable share of gross area.
    land_per_unit
        Net m² per unit by category.
    share
        Share of the net land by category (sums to 1).
    reach_km
        Radius for the population within reach.

    Returns
    -------
    pandas.DataFrame
        ``gross_ha``, ``net_ha``, ``units`` (``code:n`` list), ``trunk_km``, ``rail_km``, ``power_km``,
        ``gas_km``, ``extend`` (utilities to extend and how far), ``pop_reach``.
    """
    g = sites.geometry.values

    def near(layer: str, col: str | None = None, values: list[str] | None = None) -> np.ndarray:
        gdf = layers.get(layer)
        if gdf is None:
            return np.full(len(g), np.nan)
        if col and values is not None:
            gdf = gdf[gdf[col].isin(values)]
        if gdf.empty:
            return np.full(len(g), np.nan)
        tree = shapely.STRtree(gdf.geometry.values)
        idx, d = tree.query_nearest(g, return_distance=True, all_matches=False)
        out = np.full(len(g), np.nan)
        out[idx[0]] = d / 1000
        return out

    gross = shapely.area(g) / 1e4
    net = gross * net_to_gross
    trunk = near("roads", "road_class", ["motorway", "trunk"])
    rail = near("rail")
    power = near("utilities", "kind", ["power_line", "substation", "power"])
    gas = near("utilities", "kind", ["gas_pipe", "gas"])
    urban = layers.get("urban")
    pop = np.zeros(len(g))
    if urban is not None and "population" in urban:
        cen = urban.geometry.centroid.values
        tree = shapely.STRtree(cen)
        si, ui = tree.query(g, predicate="dwithin", distance=reach_km * 1000)
        np.add.at(pop, si, urban["population"].fillna(0).to_numpy()[ui])
    units = []
    for n in net:
        parts = [f"{c}:{int(n * 1e4 * s // land_per_unit[c])}" for c, s in sorted(share.items()) if s > 0]
        units.append(", ".join(parts))
    extend = []
    for p, q in zip(power, gas):
        e = []
        if not np.isnan(p) and p > 0.5:
            e.append(f"power {p:.1f} km")
        if not np.isnan(q) and q > 0.5:
            e.append(f"gas {q:.1f} km")
        extend.append(", ".join(e) or "none")
    return pd.DataFrame({"gross_ha": np.round(gross, 2), "net_ha": np.round(net, 2), "units": units,
                         "trunk_km": np.round(trunk, 2), "rail_km": np.round(rail, 2),
                         "power_km": np.round(power, 2), "gas_km": np.round(gas, 2), "extend": extend,
                         "pop_reach": pop.astype(np.int64)})


# ------------------------------------------------------------------------------------------------
# choosing among candidates: p-median and capacitated facility location
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityResult:
    """A facility-location answer with its optimality gap.

    Attributes
    ----------
    open
        Indices of the chosen candidates (sorted).
    assign
        Candidate index serving each demand point.
    objective
        Total weighted cost of the answer.
    lower_bound
        A proven lower bound on the optimum (Lagrangian or the MILP's dual bound).
    gap
        ``(objective - lower_bound) / objective`` (never negative).
    method, status
        How it was solved, and ``optimal`` when the gap is closed.
    """

    open: np.ndarray
    assign: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    method: str
    status: str


def _greedy_pmedian(wc: np.ndarray, p: int) -> list[int]:
    n, m = wc.shape
    best = np.full(n, np.inf)
    chosen: list[int] = []
    for _ in range(p):
        tot = np.minimum(best[:, None], wc).sum(axis=0)
        tot[chosen] = np.inf
        j = int(np.argmin(tot))
        chosen.append(j)
        best = np.minimum(best, wc[:, j])
    return chosen


def _interchange(wc: np.ndarray, open_: list[int], max_passes: int = 50) -> list[int]:
    """Vertex substitution (Teitz & Bart 1968), vectorized over the closed candidates: for each open
    facility, the best swap with any closed one, taken while it improves."""
    n, m = wc.shape
    open_ = list(open_)
    for _ in range(max_passes):
        improved = False
        for r in list(open_):
            cur = wc[:, open_]
            obj = cur.min(axis=1).sum()
            rest = [j for j in open_ if j != r]
            base = wc[:, rest].min(axis=1) if rest else np.full(n, np.inf)
            tot = np.minimum(base[:, None], wc).sum(axis=0)
            tot[open_] = np.inf
            j = int(np.argmin(tot))
            if tot[j] < obj - 1e-9 * max(abs(obj), 1.0):
                open_[open_.index(r)] = j
                improved = True
        if not improved:
            break
    return sorted(open_)


def _lagrangian_bound(wc: np.ndarray, p: int, ub: float, iters: int = 1500) -> float:
    """Lagrangian lower bound for p-median (relaxing each demand's assignment), by subgradient ascent."""
    n, m = wc.shape
    lam = wc.min(axis=1).copy()  # a valid start
    best = -np.inf
    theta = 2.0
    stall = 0
    for _ in range(iters):
        red = np.minimum(wc - lam[:, None], 0.0)  # n × m
        rho = red.sum(axis=0)
        sel = np.argpartition(rho, p - 1)[:p]
        val = lam.sum() + rho[sel].sum()
        if not np.isfinite(best) or val > best + 1e-12 * max(abs(best), 1.0):
            best, stall = val, 0
        else:
            stall += 1
            if stall >= 30:
                theta /= 2
                stall = 0
        g = 1.0 - (red[:, sel] < 0).sum(axis=1)
        nrm = float((g ** 2).sum())
        if nrm == 0 or (ub - best) <= 1e-9 * max(abs(ub), 1.0) or theta < 1e-4:
            break
        lam = lam + theta * (ub - val) / nrm * g
    return float(best)


def p_median(cost: np.ndarray, weights: np.ndarray, p: int, *, exact_max_vars: int = 20_000,
             time_limit: float = 60.0) -> FacilityResult:
    """Choose ``p`` of ``m`` candidates minimizing the weighted distance from ``n`` demand points.

    Formulation (Hakimi 1965; ReVelle & Swain 1970)::

        min Σ_ij w_i c_ij x_ij  s.t.  Σ_j x_ij = 1,  x_ij ≤ y_j,  Σ_j y_j = p,  x, y ∈ {0, 1}

    Small instances (n·m ≤ ``exact_max_vars``) are solved exactly as a MILP with HiGHS. Larger ones
    use greedy addition and vertex substitution, with a Lagrangian lower bound (subgradient ascent on
    the assignment constraints) giving the reported gap.

    Parameters
    ----------
    cost
        n × m costs (e.g. km).
    weights
        Demand weights (e.g. land needed).
    p
        Facilities to open (1 ≤ p ≤ m).
    exact_max_vars
        Size up to which the exact MILP is used.
    time_limit
        Seconds for the exact MILP.

    Returns
    -------
    FacilityResult

    Raises
    ------
    InputError
        Shapes that do not match, p out of range, negative or non-finite costs.
    """
    from .errors import InputError

    c = np.asarray(cost, dtype=float)
    w = np.asarray(weights, dtype=float)
    if c.ndim != 2 or len(w) != c.shape[0]:
        raise InputError(f"p_median: cost must be n×m and weights of length n; got {c.shape} and {len(w)}")
    n, m = c.shape
    if not 1 <= p <= m:
        raise InputError(f"p_median: p = {p} must be between 1 and the {m} candidates")
    if not np.isfinite(c).all() or (c < 0).any() or (w < 0).any():
        raise InputError("p_median: costs and weights must be finite and non-negative")
    wc = w[:, None] * c
    if n * m <= exact_max_vars:
        return _pmedian_milp(wc, p, time_limit)
    open_ = _interchange(wc, _greedy_pmedian(wc, p))
    assign_local = wc[:, open_].argmin(axis=1)
    obj = float(wc[np.arange(n), np.asarray(open_)[assign_local]].sum())
    lb = min(_lagrangian_bound(wc, p, obj), obj)
    gap = max((obj - lb) / obj, 0.0) if obj > 0 else 0.0
    return FacilityResult(np.asarray(open_), np.asarray(open_)[assign_local], obj, lb, gap,
                          "greedy + vertex substitution, Lagrangian bound", "optimal" if gap <= 1e-9 else "feasible")


def _pmedian_milp(wc: np.ndarray, p: int, time_limit: float) -> FacilityResult:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = wc.shape
    nx = n * m
    c = np.concatenate([wc.ravel(), np.zeros(m)])
    rows = np.repeat(np.arange(n), m)
    a1 = sparse.csr_matrix((np.ones(nx), (rows, np.arange(nx))), shape=(n, nx + m))
    # x_ij - y_j <= 0
    ri = np.concatenate([np.arange(nx), np.arange(nx)])
    ci = np.concatenate([np.arange(nx), nx + np.tile(np.arange(m), n)])
    vi = np.concatenate([np.ones(nx), -np.ones(nx)])
    a2 = sparse.csr_matrix((vi, (ri, ci)), shape=(nx, nx + m))
    a3 = sparse.csr_matrix((np.ones(m), (np.zeros(m, int), nx + np.arange(m))), shape=(1, nx + m))
    integ = np.concatenate([np.zeros(nx), np.ones(m)])  # x integral at optimum once y is
    res = milp(c, constraints=[LinearConstraint(a1, 1, 1), LinearConstraint(a2, -np.inf, 0), LinearConstraint(a3, p, p)],
               integrality=integ, bounds=Bounds(0, 1), options={"time_limit": time_limit, "mip_rel_gap": 0.0})
    if res.x is None:
        from .errors import InputError

        raise InputError(f"p_median: the MILP found no solution ({res.message})")
    y = res.x[nx:] > 0.5
    open_ = np.flatnonzero(y)
    assign = open_[wc[:, open_].argmin(axis=1)]
    obj = float(wc[np.arange(n), assign].sum())
    bound = float(getattr(res, "mip_dual_bound", None) or obj)
    gap = max((obj - bound) / obj, 0.0) if obj > 0 else 0.0
    return FacilityResult(open_, assign, obj, min(bound, obj), gap, "MILP (HiGHS)",
                          "optimal" if res.status == 0 else "feasible")


def capacitated_facility_location(cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
                                  fixed_cost: np.ndarray, *, time_limit: float = 60.0,
                                  gap_target: float = 1e-4) -> FacilityResult:
    """Capacitated facility location with single sourcing, solved as a MILP with HiGHS.

    Formulation::

        min Σ_j f_j y_j + Σ_ij d_i c_ij x_ij
        s.t. Σ_j x_ij = 1,  Σ_i d_i x_ij ≤ Q_j y_j,  x_ij ≤ y_j,  x, y ∈ {0, 1}

    Parameters
    ----------
    cost
        n × m unit costs (per unit of demand).
    demand, capacity, fixed_cost
        d_i, Q_j and f_j.
    time_limit, gap_target
        HiGHS limits; the answer carries HiGHS's dual bound and gap.

    Returns
    -------
    FacilityResult

    Raises
    ------
    InfeasibleError
        When total capacity is below total demand (checked before solving, with the numbers) or the
        solver proves infeasibility.
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    from .errors import InfeasibleError

    c = np.asarray(cost, dtype=float)
    d = np.asarray(demand, dtype=float)
    q = np.asarray(capacity, dtype=float)
    f = np.asarray(fixed_cost, dtype=float)
    n, m = c.shape
    if q.sum() < d.sum() - 1e-9:
        raise InfeasibleError(f"capacitated facility location: the highest possible capacity ({q.sum():g}) is smaller "
                              f"than the total demand ({d.sum():g}) by {d.sum() - q.sum():g}")
    if d.max(initial=0) > q.max(initial=0) + 1e-9:
        raise InfeasibleError(f"capacitated facility location: the largest demand ({d.max():g}) exceeds every "
                              f"candidate's capacity (largest {q.max():g})")
    nx = n * m
    obj = np.concatenate([(d[:, None] * c).ravel(), f])
    rows = np.repeat(np.arange(n), m)
    a1 = sparse.csr_matrix((np.ones(nx), (rows, np.arange(nx))), shape=(n, nx + m))
    cols_j = np.tile(np.arange(m), n)
    a2 = sparse.csr_matrix((np.concatenate([np.repeat(d, m), -q]),
                            (np.concatenate([cols_j, np.arange(m)]), np.concatenate([np.arange(nx), nx + np.arange(m)]))),
                           shape=(m, nx + m))
    a3 = sparse.csr_matrix((np.concatenate([np.ones(nx), -np.ones(nx)]),
                            (np.concatenate([np.arange(nx), np.arange(nx)]), np.concatenate([np.arange(nx), nx + cols_j]))),
                           shape=(nx, nx + m))
    res = milp(obj, constraints=[LinearConstraint(a1, 1, 1), LinearConstraint(a2, -np.inf, 0),
                                 LinearConstraint(a3, -np.inf, 0)],
               integrality=np.ones(nx + m), bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "mip_rel_gap": gap_target})
    if res.x is None:
        raise InfeasibleError(f"capacitated facility location: no feasible answer ({res.message})")
    x = res.x[:nx].reshape(n, m) > 0.5
    open_ = np.flatnonzero(res.x[nx:] > 0.5)
    assign = x.argmax(axis=1)
    val = float(res.fun)
    bound = float(getattr(res, "mip_dual_bound", None) or val)
    gap = max((val - bound) / val, 0.0) if val > 0 else 0.0
    return FacilityResult(open_, assign, val, min(bound, val), gap, "MILP (HiGHS)",
                          "optimal" if res.status == 0 and gap <= gap_target else "feasible")
