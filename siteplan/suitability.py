"""Suitability: criteria evaluated on the grid (in blocks) and on candidates; WLC, OWA, TOPSIS;
Monte Carlo weight sensitivity.

For each guild category the surface is the weighted linear combination of its criteria's transformed
values; cells that the category's compiled siting rules exclude are nodata. The same criteria are
evaluated on candidate estates and sites (zonal mean over their cells) so that rankings and maps
agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from .criteria import FieldCache, Grid, catchment_field, saturation_distance, transform
from .errors import InputError
from .scenario import CriterionSpec, Scenario
from .weights import ahp, direct_weights, rank_weights

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .rules import RuleSet

__all__ = [
    "CriterionLayer",
    "Surface",
    "criterion_layers",
    "category_weights",
    "wlc",
    "owa",
    "wowa",
    "aggregate",
    "orness",
    "owa_tradeoff",
    "topsis",
    "surfaces",
    "zonal_mean",
    "rank_acceptability",
    "score_sd",
    "oat_sweep",
    "filter_features",
]


@dataclass(frozen=True)
class CriterionLayer:
    """A criterion evaluated on the grid: raw values (map units) and transformed score in [0, 1]."""

    spec: CriterionSpec
    raw: np.ndarray
    score: np.ndarray


@dataclass
class Surface:
    """One category's suitability.

    Attributes
    ----------
    code
        Category code.
    score
        float32 WLC of the criteria in [0, 1] over the whole grid (constraints not applied).
    allowed
        Cells every siting rule allows.
    weights
        Criterion name to weight (summing to 1).
    rule_cells
        Rule id to number of cells it excludes.
    """

    code: str
    score: np.ndarray
    allowed: np.ndarray
    weights: dict[str, float]
    rule_cells: dict[str, int] = field(default_factory=dict)

    @property
    def masked(self) -> np.ndarray:
        """The score with excluded cells as NaN."""
        return np.where(self.allowed, self.score, np.nan).astype(np.float32)

    def binding_rules(self, k: int = 3) -> list[str]:
        """The rules excluding the most cells."""
        return [r for r, n in sorted(self.rule_cells.items(), key=lambda t: -t[1]) if n > 0][:k]


def filter_features(gdf: gpd.GeoDataFrame, flt: dict[str, list[str]] | None, where: str) -> gpd.GeoDataFrame:
    """Features whose fields take one of the listed values (every field of ``flt``); ``where`` names the
    criterion in the error raised for a field the layer lacks."""
    if not flt:
        return gdf
    m = np.ones(len(gdf), dtype=bool)
    for col, values in flt.items():
        if col not in gdf.columns:
            raise InputError(f"{where}: filter field '{col}' is not in the layer (fields: "
                             f"{', '.join(c for c in gdf.columns if c != 'geometry')})")
        vals = {str(v) for v in values}
        m &= gdf[col].astype(str).isin(vals).to_numpy()
    return gdf.loc[m]


def criterion_layers(criteria: list[CriterionSpec], layers: dict[str, gpd.GeoDataFrame], grid: Grid,
                     cache: FieldCache) -> list[CriterionLayer]:
    """Evaluate criteria on the grid.

    Parameters
    ----------
    criteria
        Criterion specs.
    layers
        The region's layers.
    grid
        Analysis grid.
    cache
        Distance fields shared with the rules.

    Returns
    -------
    list of CriterionLayer
    """
    out = []
    for i, c in enumerate(criteria):
        where = f"criteria[{i}] ('{c.name}')"
        gdf = layers.get(c.layer)
        if gdf is None and c.kind != "raster":
            raise InputError(f"{where}: layer '{c.layer}' is not loaded")
        sel = filter_features(gdf, c.filter, where) if gdf is not None else None
        if c.kind == "distance":
            key = f"crit:{c.layer}:{sorted((c.filter or {}).items())}"
            # padded by the saturation distance: features beyond the grid count, as in blockwise work
            raw = cache.distance(key, sel.geometry.values, pad_m=saturation_distance(c.transform))
            if not np.isfinite(raw).any():
                log.warning("%s: no '%s' feature matches the filter; criterion scores 0 everywhere", where, c.layer)
                raw = np.full(grid.shape, np.float32(1e12))
        elif c.kind == "inside":
            raw = features.rasterize(((g, 1) for g in sel.geometry.values), out_shape=grid.shape,
                                     transform=grid.transform, fill=0, dtype="uint8").astype(np.float32)
        elif c.kind == "attribute":
            if not c.field or c.field not in sel.columns:
                raise InputError(f"{where}: 'field' must name a field of layer '{c.layer}'")
            vals = pd.to_numeric(sel[c.field], errors="coerce").fillna(0.0).to_numpy()
            raw = features.rasterize(((g, float(v)) for g, v in zip(sel.geometry.values, vals)),
                                     out_shape=grid.shape, transform=grid.transform, fill=np.nan,
                                     dtype="float32")
        elif c.kind == "catchment":
            if not c.field or c.field not in sel.columns or not c.radius_m:
                raise InputError(f"{where}: catchment needs 'field' (e.g. population) and 'radius_m'")
            pts = sel.geometry.representative_point()
            xy = np.c_[pts.x.to_numpy(), pts.y.to_numpy()]
            raw = catchment_field(xy, pd.to_numeric(sel[c.field], errors="coerce").fillna(0).to_numpy(float),
                                  grid, c.radius_m)
        elif c.kind == "raster":
            if c.layer != "dem" or cache.slope is None:
                raise InputError(f"{where}: kind 'raster' reads the 'dem' layer (field: slope); "
                                 "add a dem layer to the scenario")
            raw = cache.slope
        else:  # pragma: no cover - guarded by the scenario schema
            raise InputError(f"{where}: unknown criterion kind '{c.kind}'")
        out.append(CriterionLayer(c, raw, transform(raw, c.transform)))
    return out


def category_weights(criteria: list[CriterionSpec], scenario: Scenario, code: str) -> dict[str, float]:
    """Weights of the criteria that apply to a category, normalized to sum to 1.

    The scenario's method (direct, rank_sum, reciprocal, roc, ahp) gives global weights over all
    criteria; a category uses the ones that apply to it, renormalized.
    """
    names = [c.name for c in criteria]
    m = scenario.weights.method
    if m == "direct":
        w = direct_weights([1.0 if c.weight is None else c.weight for c in criteria])
    elif m in ("rank_sum", "reciprocal", "roc"):
        if any(c.rank is None for c in criteria):
            raise InputError(f"weights.method {m}: every criterion needs a 'rank'")
        w = rank_weights([int(c.rank) for c in criteria], m)  # type: ignore[arg-type]
    else:
        if scenario.weights.matrix is None:
            raise InputError("weights.matrix: AHP needs a pairwise matrix over the criteria, in their order")
        r = ahp(scenario.weights.matrix, ri_table=scenario.weights.ri_table, threshold=scenario.weights.cr_threshold)
        if len(r.weights) != len(criteria):
            raise InputError(f"weights.matrix: {len(r.weights)}×{len(r.weights)} but there are {len(criteria)} criteria")
        if not r.consistent and not scenario.weights.accept_inconsistent:
            i, j = r.worst or (0, 0)
            raise InputError(f"weights.matrix: consistency ratio {r.cr:.3f} exceeds {scenario.weights.cr_threshold}; "
                             f"the most inconsistent judgement is '{names[i]}' vs '{names[j]}' "
                             f"(row {i + 1}, column {j + 1}); a value of {r.suggested:g} would fit the other "
                             "judgements. Fix it, or set weights.accept_inconsistent: true")
        w = r.weights
    keep = [k for k, c in enumerate(criteria) if c.categories is None or code in c.categories]
    if not keep:
        raise InputError(f"no criterion applies to category '{code}'")
    sub = np.asarray(w)[keep]
    if sub.sum() <= 0:
        raise InputError(f"the criteria of category '{code}' all have weight 0")
    sub = sub / sub.sum()
    return {names[k]: float(v) for k, v in zip(keep, sub)}


def wlc(scores: list[np.ndarray], weights: np.ndarray, *, out: np.ndarray | None = None,
        block_rows: int = 512) -> np.ndarray:
    """Weighted linear combination, computed in row blocks.

    Parameters
    ----------
    scores
        Arrays of one shape with values in [0, 1].
    weights
        One weight per array (should sum to 1).
    out
        Optional float32 output array.
    block_rows
        At most this many rows per block (blocks are also kept to about 128k cells so they stay in
        cache); temporary memory is one block.

    Returns
    -------
    numpy.ndarray
        float32 sum of w_k * s_k.

    Notes
    -----
    Reads each input once; about as fast as a copy of the inputs (memory-bandwidth bound).
    """
    shape = scores[0].shape
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    w = np.asarray(weights, dtype=np.float32)
    # small blocks keep the running sum and one temporary in cache: each input is read once
    rows = max(1, min(block_rows, (1 << 17) // max(int(np.prod(shape[1:])), 1)))
    tmp = np.empty((rows,) + tuple(shape[1:]), dtype=np.float32)
    for r0 in range(0, shape[0], rows):
        sl = slice(r0, min(r0 + rows, shape[0]))
        blk = out[sl]
        t = tmp[: blk.shape[0]]
        np.multiply(scores[0][sl], w[0], out=blk)
        for s, wk in zip(scores[1:], w[1:]):
            np.multiply(s[sl], wk, out=t)
            blk += t
    return out


def owa(values: np.ndarray, order_weights: np.ndarray) -> np.ndarray:
    """Ordered weighted average (Yager 1988) along the last axis: sort values descending, then weight.

    Examples
    --------
    >>> float(owa(np.array([0.7, 1.0, 0.3, 0.6]), np.array([0.4, 0.3, 0.2, 0.1])))   # Yager (1988)
    0.76
    """
    v = -np.sort(-np.asarray(values, dtype=float), axis=-1)
    return np.round(v @ np.asarray(order_weights, dtype=float), 12)


def wowa(values: np.ndarray, weights: np.ndarray, order_weights: np.ndarray) -> np.ndarray:
    """Weighted OWA (Torra 1997) along the last axis: criterion weights ``p`` and order weights ``w``.

    Values are sorted descending (σ); the weight of the i-th largest value is
    ω_i = w*(Σ_{j≤i} p_σ(j)) − w*(Σ_{j<i} p_σ(j)), where w* is the piecewise-linear function through
    (0, 0) and (i/n, Σ_{j≤i} w_j). With equal ``p`` it is Yager's OWA with ``w``; with equal ``w``
    it is the weighted mean with ``p``.

    Parameters
    ----------
    values
        Array (..., n) of criterion values.
    weights
        Criterion weights ``p`` (n,), or (..., n) to give each row its own (e.g. Monte Carlo draws
        broadcast against ``values``); normalized to sum to 1.
    order_weights
        Order weights ``w`` (n,), normalized to sum to 1.

    Returns
    -------
    numpy.ndarray
        The aggregated values, shape ``values.shape[:-1]`` broadcast with ``weights.shape[:-1]``.

    Examples
    --------
    >>> float(wowa(np.array([0.7, 1.0, 0.3, 0.6]), np.full(4, 0.25), np.array([0.4, 0.3, 0.2, 0.1])))
    0.76
    """
    v = np.asarray(values, dtype=float)
    p = np.asarray(weights, dtype=float)
    w = np.asarray(order_weights, dtype=float)
    n = v.shape[-1]
    p = p / p.sum(axis=-1, keepdims=True)
    w = w / w.sum()
    order = np.argsort(-v, axis=-1, kind="stable")
    vs = np.take_along_axis(v, order, axis=-1)
    shape = np.broadcast_shapes(v.shape, p.shape)
    ps = np.take_along_axis(np.broadcast_to(p, shape), np.broadcast_to(order, shape), axis=-1)
    cum = np.minimum(np.cumsum(ps, axis=-1), 1.0)
    knots_x = np.arange(n + 1) / n
    knots_y = np.concatenate([[0.0], np.cumsum(w)])
    wstar = np.interp(cum, knots_x, knots_y)
    omega = np.diff(wstar, axis=-1, prepend=0.0)
    return np.round(np.sum(omega * vs, axis=-1), 12)


def aggregate(values: np.ndarray, weights: np.ndarray, method: str = "wlc",
              order_weights: np.ndarray | None = None) -> np.ndarray:
    """The scenario's aggregation along the last axis: ``wlc`` (weighted sum) or ``owa`` (Torra's
    weighted OWA of the criterion weights and the order weights, :func:`wowa`).

    ``weights`` may be (n,) or (..., n) (one set per row, e.g. Monte Carlo draws)."""
    if method == "owa":
        if order_weights is None:
            raise InputError("aggregation.order_weights: needed with method 'owa'")
        return wowa(values, weights, np.asarray(order_weights, dtype=float))
    return np.sum(np.asarray(values, dtype=float) * np.asarray(weights, dtype=float), axis=-1)


def orness(order_weights: np.ndarray) -> float:
    """Yager's ORness: 1 for max (OR), 0 for min (AND), 0.5 for the mean."""
    w = np.asarray(order_weights, dtype=float)
    n = len(w)
    return float(np.sum((n - 1 - np.arange(n)) * w) / (n - 1)) if n > 1 else 0.5


def owa_tradeoff(order_weights: np.ndarray) -> float:
    """Trade-off of order weights (Jiang & Eastman 2000): 1 for equal weights, 0 for a single one."""
    w = np.asarray(order_weights, dtype=float)
    n = len(w)
    return float(1 - np.sqrt(n * np.sum((w - 1 / n) ** 2) / (n - 1))) if n > 1 else 1.0


def topsis(matrix: np.ndarray, weights: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """TOPSIS closeness to the ideal solution (Hwang & Yoon 1981), vector normalization.

    Parameters
    ----------
    matrix
        Alternatives × criteria.
    weights
        Criterion weights.
    benefit
        True where larger is better.

    Returns
    -------
    numpy.ndarray
        Closeness C* in [0, 1] per alternative (higher is better).
    """
    x = np.asarray(matrix, dtype=float)
    norm = np.sqrt((x ** 2).sum(axis=0))
    norm[norm == 0] = 1.0
    v = x / norm * np.asarray(weights, dtype=float)
    b = np.asarray(benefit, dtype=bool)
    best = np.where(b, v.max(axis=0), v.min(axis=0))
    worst = np.where(b, v.min(axis=0), v.max(axis=0))
    dp = np.sqrt(((v - best) ** 2).sum(axis=1))
    dm = np.sqrt(((v - worst) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = dm / (dp + dm)
    return np.where(np.isfinite(c), c, 0.0)


def surfaces(codes: list[str], crit: list[CriterionLayer], rules: "dict[str, RuleSet]", scenario: Scenario,
             layers: dict[str, gpd.GeoDataFrame], cache: FieldCache) -> dict[str, Surface]:
    """Suitability surface of every category.

    Returns
    -------
    dict
        Category code to :class:`Surface`.
    """
    specs = [c.spec for c in crit]
    by_name = {c.spec.name: c for c in crit}
    out = {}
    agg = scenario.aggregation
    for code in codes:
        w = category_weights(specs, scenario, code)
        layers_k = [by_name[n].score for n in w]
        if agg.method == "owa":
            ow = np.asarray(agg.order_weights or [], dtype=float)
            if len(ow) != len(layers_k) or (ow < 0).any() or ow.sum() <= 0:
                raise InputError(f"aggregation.order_weights: category '{code}' has {len(layers_k)} criteria; give "
                                 f"that many non-negative order weights (got {list(ow)})")
            # Torra's weighted OWA: the criterion weights count, as the scenario says
            score = np.empty(layers_k[0].shape, dtype=np.float32)
            wk = np.array(list(w.values()))
            rows = max(1, (1 << 18) // max(layers_k[0].shape[1], 1))
            for r0 in range(0, score.shape[0], rows):
                blk = np.stack([a[r0:r0 + rows] for a in layers_k], axis=-1)
                score[r0:r0 + rows] = wowa(blk, wk, ow)
        else:
            score = wlc(layers_k, np.array(list(w.values())), block_rows=scenario.grid.block_size)
        allowed, counts = rules[code].mask(cache)
        out[code] = Surface(code, score, allowed, w, counts)
    return out


def zonal_mean(values: np.ndarray, geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Mean of a raster over each polygon's cells (all touched); NaN cells are ignored.

    Polygons smaller than a cell use the cell under their representative point.
    """
    # only the window the polygons cover is rasterized (one estate: a few cells, not the whole grid)
    res_ = np.full(len(geoms), np.nan)
    if not len(geoms):
        return res_
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    c0 = max(int(np.floor((x0 - grid.transform.c) / grid.res)) - 1, 0)
    c1 = min(int(np.ceil((x1 - grid.transform.c) / grid.res)) + 1, grid.width)
    r0 = max(int(np.floor((grid.transform.f - y1) / grid.res)) - 1, 0)
    r1 = min(int(np.ceil((grid.transform.f - y0) / grid.res)) + 1, grid.height)
    if c1 > c0 and r1 > r0:
        win = values[r0:r1, c0:c1]
        labels = features.rasterize(((g, i + 1) for i, g in enumerate(geoms)), out_shape=win.shape,
                                    transform=grid.transform * grid.transform.translation(c0, r0), fill=0,
                                    all_touched=True, dtype="int32")
    else:
        win, labels = values[:0, :0], np.zeros((0, 0), dtype=np.int32)
    v = np.where(np.isnan(win), 0.0, win).ravel()
    ok = (~np.isnan(win)).ravel()
    lab = labels.ravel()
    sums = np.bincount(lab, weights=v * ok, minlength=len(geoms) + 1)[1:]
    cnt = np.bincount(lab, weights=ok.astype(float), minlength=len(geoms) + 1)[1:]
    res = np.full(len(geoms), np.nan)
    np.divide(sums, cnt, out=res, where=cnt > 0)
    missing = np.flatnonzero(cnt == 0)
    if len(missing):
        pts = [geoms[i].representative_point() for i in missing]
        r, c = grid.rowcol(np.array([p.x for p in pts]), np.array([p.y for p in pts]))
        inside = (r >= 0) & (r < grid.height) & (c >= 0) & (c < grid.width)
        res[missing[inside]] = values[r[inside], c[inside]]
    return res


#: relative weight changes of the one-at-a-time sweep (the report says "±50 %" from these)
OAT_DELTAS: tuple[float, ...] = (-0.5, -0.25, 0.25, 0.5)
#: Monte Carlo draws for per-cell score SD rasters when there is no closed form (OWA)
MAX_SD_DRAWS = 200
#: cells × draws × criteria per block of Monte Carlo work (bounded memory)
_MC_BLOCK = 1 << 22


def zone_scores_of(layers: list[np.ndarray], geoms: np.ndarray, grid: Grid, method: str,
                   order_weights: np.ndarray | None) -> "Callable[[np.ndarray], np.ndarray]":
    """A function from weight draws (draws × criteria) to each polygon's mean aggregated score — the
    same model as the run: the aggregation per cell, then the zonal mean (cells all touched; a polygon
    smaller than a cell uses the cell under its representative point; NaN cells ignored)."""
    n = len(geoms)
    labels = features.rasterize(((g, i + 1) for i, g in enumerate(geoms)), out_shape=grid.shape,
                                transform=grid.transform, fill=0, all_touched=True, dtype="int32")
    r, c = np.nonzero(labels)
    lab = labels[r, c] - 1
    missing = np.setdiff1d(np.arange(n), lab)
    if len(missing):
        pts = shapely.point_on_surface(np.asarray(geoms, dtype=object)[missing])
        rr, cc = grid.rowcol(shapely.get_x(pts), shapely.get_y(pts))
        ok = (rr >= 0) & (rr < grid.height) & (cc >= 0) & (cc < grid.width)
        r, c, lab = np.r_[r, rr[ok]], np.r_[c, cc[ok]], np.r_[lab, missing[ok]]
    vals = np.stack([a[r, c].astype(np.float64) for a in layers], axis=-1)  # cells × k
    good = ~np.isnan(vals).any(axis=1)
    vals, lab = vals[good], lab[good]
    cnt = np.bincount(lab, minlength=n).astype(float)
    from scipy import sparse

    m = sparse.csr_matrix((1.0 / np.maximum(cnt[lab], 1.0), (lab, np.arange(len(lab)))), shape=(n, len(lab)))

    def scores(wd: np.ndarray) -> np.ndarray:
        wd = np.atleast_2d(wd)
        out = np.full((len(wd), n), np.nan)
        step = max(1, _MC_BLOCK // max(vals.size, 1))
        for d0 in range(0, len(wd), step):
            cell = aggregate(vals[None, :, :], wd[d0:d0 + step, None, :], method, order_weights)  # d × cells
            out[d0:d0 + step] = (m @ cell.T).T
        out[:, cnt == 0] = np.nan
        return out

    return scores


def score_sd_mc(scores: list[np.ndarray], weights: np.ndarray, concentration: float, method: str,
                order_weights: np.ndarray | None, *, draws: int, seed: int) -> np.ndarray:
    """Per-cell standard deviation of the aggregated score under the Dirichlet weight model of
    :func:`rank_acceptability`, by Monte Carlo (for aggregations with no closed form, such as OWA).

    Uses ``min(draws, MAX_SD_DRAWS)`` seeded draws, the same at every cell; memory is bounded by
    processing rows in blocks.
    """
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    wd = rng.dirichlet(np.maximum(w * concentration, 1e-3), size=max(2, min(draws, MAX_SD_DRAWS)))
    h, wid = scores[0].shape
    out = np.empty((h, wid), dtype=np.float32)
    rows = max(1, _MC_BLOCK // max(wid * len(wd) * len(scores), 1))
    for r0 in range(0, h, rows):
        blk = np.stack([a[r0:r0 + rows].astype(np.float64) for a in scores], axis=-1)  # r × c × k
        v = aggregate(blk[None], wd[:, None, None, :], method, order_weights)  # d × r × c
        out[r0:r0 + rows] = v.std(axis=0)
    return out


def rank_acceptability(criteria_values: np.ndarray, weights: np.ndarray, *, draws: int = 1000,
                       concentration: float = 50.0, seed: int = 0,
                       combine: "Callable[[np.ndarray], np.ndarray] | None" = None,
                       scores_of: "Callable[[np.ndarray], np.ndarray] | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo rank acceptability of candidates under uncertain weights.

    Weights are drawn from a Dirichlet distribution centred on ``weights`` (``concentration`` × w),
    each draw scores every candidate (by WLC of ``criteria_values``, or by ``scores_of``: the model
    that was run) and ranks them.

    Parameters
    ----------
    criteria_values
        Candidates × criteria, values in [0, 1].
    weights
        The chosen weights.
    draws, concentration, seed
        Monte Carlo settings (seeded, deterministic).
    combine
        Optional function from the draws × candidates WLC scores to the values that are ranked
        (e.g. TOPSIS with further criteria); default: the scores themselves.
    scores_of
        Optional function from weight draws (draws × criteria) to candidate scores (draws ×
        candidates), for aggregations other than WLC (see :func:`zone_scores_of`).

    Returns
    -------
    acceptability, score_sd
        ``acceptability[i, r]`` is the share of draws in which candidate i has rank r + 1; the
        second array is each candidate's score standard deviation.
    """
    x = np.asarray(criteria_values, dtype=np.float64)
    n, k = x.shape
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    alpha = np.maximum(w * concentration, 1e-3)
    wd = rng.dirichlet(alpha, size=draws)  # draws × k
    s = scores_of(wd) if scores_of is not None else wd @ x.T  # draws × n
    v = combine(s) if combine is not None else s
    order = np.argsort(-v, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n)[None, :].repeat(draws, 0), axis=1)
    acc = np.zeros((n, n))
    np.add.at(acc, (np.tile(np.arange(n), draws), ranks.ravel()), 1.0)
    return acc / max(draws, 1), s.std(axis=0)


def score_sd(scores: list[np.ndarray], weights: np.ndarray, concentration: float) -> np.ndarray:
    """Per-cell standard deviation of the WLC score when the weights are Dirichlet-distributed around
    ``weights`` with ``concentration`` (the same model as :func:`rank_acceptability`), in closed form.

    With α = concentration × w and α₀ = Σα, the weights' covariance is
    Σ_ij = (α_i δ_ij α₀ − α_i α_j) / (α₀² (α₀ + 1)), so the score's variance at a cell with criterion
    values s is sᵀ Σ s — exact, with no sampling.

    Returns
    -------
    numpy.ndarray
        float32 standard deviations.
    """
    w = np.asarray(weights, dtype=float)
    a = np.maximum(w * concentration, 1e-3)
    a0 = a.sum()
    cov = (np.diag(a) * a0 - np.outer(a, a)) / (a0 ** 2 * (a0 + 1))
    var = np.zeros(scores[0].shape, dtype=np.float64)
    for i, si in enumerate(scores):
        for j, sj in enumerate(scores):
            if j < i:
                continue
            f = cov[i, j] * (1 if i == j else 2)
            var += f * si.astype(np.float64) * sj
    return np.sqrt(np.maximum(var, 0.0)).astype(np.float32)


def oat_sweep(criteria_values: np.ndarray, weights: np.ndarray, names: list[str],
              deltas: tuple[float, ...] = OAT_DELTAS,
              combine: "Callable[[np.ndarray], np.ndarray] | None" = None,
              scores_of: "Callable[[np.ndarray], np.ndarray] | None" = None) -> pd.DataFrame:
    """One-at-a-time weight sweep: each criterion's weight scaled by (1 + delta), the others
    renormalized, and every candidate's rank recomputed.

    Parameters
    ----------
    criteria_values
        Candidates × criteria, values in [0, 1].
    weights
        The chosen weights.
    names
        Criterion names.
    deltas
        Relative changes of one weight at a time.
    combine, scores_of
        As in :func:`rank_acceptability`.

    Returns
    -------
    pandas.DataFrame
        One row per (criterion, delta, candidate): ``criterion``, ``delta``, ``candidate`` (position)
        and ``rank`` (1 = best).
    """
    x = np.asarray(criteria_values, dtype=float)
    w0 = np.asarray(weights, dtype=float)
    rows = []
    for k, name in enumerate(names):
        for d in deltas:
            w = w0.copy()
            w[k] = max(w[k] * (1 + d), 0.0)
            w = w / w.sum() if w.sum() > 0 else w0
            s = scores_of(w[None, :])[0] if scores_of is not None else x @ w
            s = combine(s[None, :])[0] if combine is not None else s
            order = np.argsort(-s, kind="stable")
            ranks = np.empty(len(s), dtype=int)
            ranks[order] = np.arange(1, len(s) + 1)
            rows += [(name, d, i, int(r)) for i, r in enumerate(ranks)]
    return pd.DataFrame(rows, columns=["criterion", "delta", "candidate", "rank"])
