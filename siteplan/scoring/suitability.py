"""Suitability: criteria evaluated on the grid (in blocks) and on candidates; WLC, OWA, TOPSIS;
Monte Carlo weight sensitivity.

For each guild category the surface is the weighted linear combination of its criteria's transformed
values; cells that the category's compiled siting rules exclude are nodata. The same criteria are
evaluated on candidate estates and sites (zonal mean over their cells) so that rankings and maps
agree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from ..errors import InputError
from ..grid import FieldCache, Grid
from ..scenario import CriterionSpec, Scenario
from .criteria import transform
from .kinds import criterion_features, criterion_raw, filter_features
from .weights import AHPResult, ahp, direct_weights, rank_weights

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..rules.ruleset import RuleSet

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
    "filter_features",
]


@dataclass(frozen=True)
class CriterionLayer:
    """A criterion evaluated on the grid: raw values (map units) and transformed score in [0, 1].

    Parameters
    ----------
    spec
        The criterion (its source, transform and direction).
    raw
        The criterion's value per grid cell, in its own units (metres for distances, percent for slope).
    score
        The transformed value per grid cell, in [0, 1] (1: most suitable).
    """

    spec: CriterionSpec
    raw: np.ndarray
    score: np.ndarray


@dataclass
class Surface:
    """One category's suitability.

    Parameters
    ----------
    code
        Category code.
    score
        The criteria's weighted combination (float32, in [0, 1]) over the whole grid (constraints not applied).
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


def criterion_layers(criteria: list[CriterionSpec], layers: dict[str, gpd.GeoDataFrame], grid: Grid,
                     cache: FieldCache) -> list[CriterionLayer]:
    """Evaluate criteria on the grid, each by its kind (:data:`siteplan.scoring.kinds.KINDS`, the registry
    the blockwise and Dask paths use too).

    Parameters
    ----------
    criteria
        Criterion specs.
    layers
        The region's layers.
    grid
        Analysis grid.
    cache
        Distance fields shared with the rules; criteria that read the same features share their raw
        values, and those with the same transform their scores too.

    Returns
    -------
    list of CriterionLayer
        One per criterion, in the order of ``criteria``: raw values and scores in [0, 1] per cell.
    """
    out = []
    scores: dict[tuple[int, str], np.ndarray] = {}
    for i, c in enumerate(criteria):
        feats = criterion_features(c, layers, f"criteria[{i}] ('{c.name}')")
        raw = criterion_raw(c, feats, grid, cache)
        k = (id(raw), repr(c.transform))  # raw arrays live in the cache for the whole run: ids are stable
        if k not in scores:
            scores[k] = transform(raw, c.transform)
        out.append(CriterionLayer(c, raw, scores[k]))
    return out


def scenario_ahp(scenario: Scenario) -> AHPResult | None:
    """The AHP result of the scenario's pairwise matrix (None unless ``weights.method`` is ``ahp`` with
    a matrix): the one place siteplan computes it."""
    w = scenario.weights
    if w.method != "ahp" or w.matrix is None:
        return None
    return ahp(w.matrix, ri_table=w.ri_table, threshold=w.cr_threshold)


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
        r = scenario_ahp(scenario)
        if r is None:
            raise InputError("weights.matrix: AHP needs a pairwise matrix over the criteria, in their order")
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
    tmp = np.empty((rows, *shape[1:]), dtype=np.float32)
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
    return cast("np.ndarray", np.round(v @ np.asarray(order_weights, dtype=float), 12))


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
    return cast("np.ndarray", np.round(np.sum(omega * vs, axis=-1), 12))


def aggregate(values: np.ndarray, weights: np.ndarray, method: str = "wlc",
              order_weights: np.ndarray | Sequence[float] | None = None) -> np.ndarray:
    """The scenario's aggregation along the last axis: ``wlc`` (weighted sum) or ``owa`` (Torra's
    weighted OWA of the criterion weights and the order weights, :func:`wowa`).

    ``weights`` may be (n,) or (..., n) (one set per row, e.g. Monte Carlo draws).

    Parameters
    ----------
    values
        Criterion scores in [0, 1], the criteria along the last axis (n of them).
    weights
        The criteria's weights (summing to 1), (n,) or (..., n).
    method
        ``wlc`` (any other value too) or ``owa``.
    order_weights
        The OWA's order weights (n of them); needed with ``owa``, ignored with ``wlc``.

    Returns
    -------
    numpy.ndarray
        The aggregated suitability, ``values``' shape without its last axis.

    Raises
    ------
    InputError
        ``owa`` without order weights.
    """
    if method == "owa":
        if order_weights is None:
            raise InputError("aggregation.order_weights: needed with method 'owa'")
        return wowa(values, weights, np.asarray(order_weights, dtype=float))
    return cast("np.ndarray", np.sum(np.asarray(values, dtype=float) * np.asarray(weights, dtype=float), axis=-1))


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


def surfaces(codes: list[str], crit: list[CriterionLayer], rules: dict[str, RuleSet], scenario: Scenario,
             cache: FieldCache) -> dict[str, Surface]:
    """Suitability surface of every category.

    Parameters
    ----------
    codes
        The categories to score.
    crit
        The criteria evaluated on the grid (:func:`criterion_layers`).
    rules
        Each category's siting rules; their mask gives the surface's allowed cells.
    scenario
        The scenario: its weights and aggregation (``wlc`` or ``owa`` with its order weights) and the
        grid's block size.
    cache
        The distance and slope fields the rules read.

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
            rows = max(1, (1 << 18) // max(int(np.shape(layers_k[0])[-1]), 1))
            for r0 in range(0, len(score), rows):
                blk = np.stack([a[r0:r0 + rows] for a in layers_k], axis=-1)
                score[r0:r0 + rows] = wowa(blk, wk, ow)
        else:
            score = wlc(layers_k, np.array(list(w.values())), block_rows=scenario.grid.block_size)
        allowed, counts = rules[code].mask(cache)
        out[code] = Surface(code, score, allowed, w, counts)
    return out


def zone_cells(geoms: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid cells each polygon touches: rows, columns and the polygon's position (0-based).

    Only the window the polygons cover is rasterized (one estate: a few cells, not the whole grid).
    """
    empty = np.zeros(0, dtype=np.int64)
    if not len(geoms):
        return empty, empty, empty
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    c0 = max(int(np.floor((x0 - grid.transform.c) / grid.res)) - 1, 0)
    c1 = min(int(np.ceil((x1 - grid.transform.c) / grid.res)) + 1, grid.width)
    r0 = max(int(np.floor((grid.transform.f - y1) / grid.res)) - 1, 0)
    r1 = min(int(np.ceil((grid.transform.f - y0) / grid.res)) + 1, grid.height)
    if c1 <= c0 or r1 <= r0:
        return empty, empty, empty
    labels = features.rasterize(((g, i + 1) for i, g in enumerate(geoms)), out_shape=(r1 - r0, c1 - c0),
                                transform=grid.transform @ grid.transform.translation(c0, r0), fill=0,
                                all_touched=True, dtype="int32")
    r, c = np.nonzero(labels)
    return r + r0, c + c0, labels[r, c].astype(np.int64) - 1


def representative_cells(geoms: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell under each polygon's representative point, for the polygons whose point is on the grid:
    rows, columns and the positions of those polygons."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    r, c = grid.rowcol(shapely.get_x(pts), shapely.get_y(pts))
    inside = (r >= 0) & (r < grid.height) & (c >= 0) & (c < grid.width)
    return r[inside], c[inside], np.flatnonzero(inside)


def zonal_mean(values: np.ndarray, geoms: np.ndarray, grid: Grid,
               cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Mean of a raster over each polygon's cells (all touched, :func:`zone_cells`); NaN cells are
    ignored. Polygons smaller than a cell use the cell under their representative point. ``cells``:
    :func:`zone_cells` of ``geoms``, when already known (several rasters over the same polygons).

    Parameters
    ----------
    values
        A raster on ``grid`` (rows × columns); NaN for no data.
    geoms
        Polygons in the grid's CRS.
    grid
        The raster's grid.
    cells
        The polygons' cells (rows, columns, polygon index) from :func:`zone_cells`; None: computed here.

    Returns
    -------
    numpy.ndarray
        The mean per polygon, in the raster's units; for a polygon without a cell with data, the value of
        the cell under its representative point (NaN when that is NaN too or off the grid).
    """
    res = np.full(len(geoms), np.nan)
    if not len(geoms):
        return res
    r, c, lab = zone_cells(geoms, grid) if cells is None else cells
    v = values[r, c].astype(np.float64)
    ok = ~np.isnan(v)
    sums = np.bincount(lab[ok], weights=v[ok], minlength=len(geoms))
    cnt = np.bincount(lab[ok], minlength=len(geoms))
    np.divide(sums, cnt, out=res, where=cnt > 0)
    missing = np.flatnonzero(cnt == 0)
    if len(missing):
        rr, cc, k = representative_cells(np.asarray(geoms, dtype=object)[missing], grid)
        res[missing[k]] = values[rr, cc]
    return res
