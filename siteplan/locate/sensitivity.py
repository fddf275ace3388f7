"""Sensitivity of the suitability model to its weights: rank acceptability of estates (Monte Carlo),
one-at-a-time weight sweeps, and per-cell score standard deviations — each computed from the
aggregation the scenario actually runs (WLC in closed form where it exists, OWA by its own model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..grid import Grid
from ..scoring.suitability import aggregate, representative_cells, zonal_mean, zone_cells
from .ranking import estate_closeness

if TYPE_CHECKING:
    from ..results import Prepared

__all__ = ["rank_acceptability", "draw_scores", "acceptability", "oat_sweep", "score_sd", "score_sd_mc",
           "zone_scores_of", "robustness", "OAT_DELTAS", "MAX_SD_DRAWS"]

#: relative weight changes of the one-at-a-time sweep (the report says "±50 %" from these)
OAT_DELTAS: tuple[float, ...] = (-0.5, -0.25, 0.25, 0.5)
#: Monte Carlo draws for per-cell score SD rasters when there is no closed form (OWA)
MAX_SD_DRAWS = 200
#: cells × draws × criteria per block of Monte Carlo work (bounded memory)
_MC_BLOCK = 1 << 22


def zone_scores_of(layers: list[np.ndarray], geoms: np.ndarray, grid: Grid, method: str,
                   order_weights: np.ndarray | Sequence[float] | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function from weight draws (draws × criteria) to each polygon's mean aggregated score — the
    same model as the run: the aggregation per cell, then the zonal mean (cells all touched; a polygon
    smaller than a cell uses the cell under its representative point; NaN cells ignored)."""
    n = len(geoms)
    r, c, lab = zone_cells(geoms, grid)
    missing = np.setdiff1d(np.arange(n), lab)
    if len(missing):
        rr, cc, k = representative_cells(np.asarray(geoms, dtype=object)[missing], grid)
        r, c, lab = np.r_[r, rr], np.r_[c, cc], np.r_[lab, missing[k]]
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
                order_weights: np.ndarray | Sequence[float] | None, *, draws: int, seed: int) -> np.ndarray:
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
                       combine: Callable[[np.ndarray], np.ndarray] | None = None,
                       scores_of: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    s, v = draw_scores(criteria_values, weights, draws=draws, concentration=concentration, seed=seed,
                       combine=combine, scores_of=scores_of)
    return acceptability(v), s.std(axis=0)


def draw_scores(criteria_values: np.ndarray, weights: np.ndarray, *, draws: int = 1000,
                concentration: float = 50.0, seed: int = 0,
                combine: Callable[[np.ndarray], np.ndarray] | None = None,
                scores_of: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The Monte Carlo draws of :func:`rank_acceptability`: each candidate's score and ranked value
    (draws × candidates), from Dirichlet weights around ``weights`` (seeded)."""
    x = np.asarray(criteria_values, dtype=np.float64)
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    alpha = np.maximum(w * concentration, 1e-3)
    wd = rng.dirichlet(alpha, size=draws)  # draws × k
    s = scores_of(wd) if scores_of is not None else wd @ x.T  # draws × n
    v = combine(s) if combine is not None else s
    return s, v


def acceptability(values: np.ndarray) -> np.ndarray:
    """Rank acceptability from ranked values (draws × candidates, higher is better): ``acc[i, r]`` is
    the share of draws in which candidate i has rank r + 1 (ties: the lower position first)."""
    v = np.asarray(values)
    draws, n = v.shape
    order = np.argsort(-v, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n)[None, :].repeat(draws, 0), axis=1)
    acc = np.zeros((n, n))
    np.add.at(acc, (np.tile(np.arange(n), draws), ranks.ravel()), 1.0)
    answer: np.ndarray = acc / max(draws, 1)
    return answer


#: cells per block of :func:`score_sd` (a block's float64 layers fit in a core's cache)
_SD_BLOCK = 1 << 15


def score_sd(scores: list[np.ndarray], weights: np.ndarray, concentration: float) -> np.ndarray:
    """Per-cell standard deviation of the WLC score when the weights are Dirichlet-distributed around
    ``weights`` with ``concentration`` (the same model as :func:`rank_acceptability`), in closed form.

    With α = concentration × w and α₀ = Σα, the weights' covariance is
    Σ_ij = (α_i δ_ij α₀ − α_i α_j) / (α₀² (α₀ + 1)), so the score's variance at a cell with criterion
    values s is sᵀ Σ s — exact, with no sampling.

    Parameters
    ----------
    scores
        One criterion score layer per weight (0–1, all of one shape; NaN propagates to the cell's answer).
    weights
        The criteria's weights (summing to 1), the mean of the Dirichlet distribution.
    concentration
        The Dirichlet concentration (``sensitivity.concentration``): larger means weights closer to
        ``weights``; each α is floored at 0.001.

    Returns
    -------
    numpy.ndarray
        Float32 standard deviations of the score, the layers' shape.
    """
    w = np.asarray(weights, dtype=float)
    a = np.maximum(w * concentration, 1e-3)
    a0 = a.sum()
    cov = (np.diag(a) * a0 - np.outer(a, a)) / (a0 ** 2 * (a0 + 1))
    # block by block (each block's layers stay in the cache), the products in place: per cell the same sum of
    # f * s_i * s_j pair by pair, in the same order, as over whole arrays (the same bits)
    k = len(scores)
    f = [[float(cov[i, j]) * (1 if i == j else 2) for j in range(k)] for i in range(k)]
    flat = [np.ravel(s) for s in scores]
    n = flat[0].size if k else 0
    out = np.empty(n, dtype=np.float32)
    var, tmp = np.empty(min(n, _SD_BLOCK)), np.empty(min(n, _SD_BLOCK))
    for lo in range(0, n, _SD_BLOCK):
        hi = min(lo + _SD_BLOCK, n)
        s64 = [x[lo:hi].astype(np.float64) for x in flat]
        v, t = var[:hi - lo], tmp[:hi - lo]
        v[:] = 0.0
        for i in range(k):
            for j in range(i, k):
                np.multiply(s64[i], f[i][j], out=t)
                np.multiply(t, s64[j], out=t)
                v += t
        np.maximum(v, 0.0, out=v)
        out[lo:hi] = np.sqrt(v, out=v)
    return out.reshape(np.shape(scores[0]))


def oat_sweep(criteria_values: np.ndarray, weights: np.ndarray, names: list[str],
              deltas: tuple[float, ...] = OAT_DELTAS,
              combine: Callable[[np.ndarray], np.ndarray] | None = None,
              scores_of: Callable[[np.ndarray], np.ndarray] | None = None) -> pd.DataFrame:
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


def robustness(ranks: pd.DataFrame, prep: Prepared, seed: int) -> pd.DataFrame:
    """Add the robustness of each category's estate ranking to ``ranks``.

    Columns added: ``p_rank`` (Monte Carlo probability that the estate keeps its rank), ``p_first``
    (probability that it ranks first), ``oat_ranks`` (its range of ranks in the one-at-a-time sweep),
    ``swap_p`` (probability that the estate ranked next below it beats it) and ``swap_by`` (the
    one-at-a-time weight changes under which it does, e.g. ``workforce -50 %``). See
    :func:`siteplan.locate.findings.robustness_summary` for what of this differs from a certain ranking.

    Parameters
    ----------
    ranks
        The estate ranking (:func:`siteplan.locate.ranking.rank_estates`: ``estate_id``, ``category``,
        ``rank``, ``usable_cap_ha``); not changed.
    prep
        The prepared run: its criteria, surfaces (weights per category), grid, estates and the
        scenario's ``sensitivity`` (``draws``, ``concentration``) and ``aggregation`` settings.
    seed
        The run's seed for the Monte Carlo weight draws (same seed, same answer).

    Returns
    -------
    pandas.DataFrame
        A copy of ``ranks`` with the columns above; NaN / empty for categories with fewer than two ranked
        estates, and everywhere when ``sensitivity.draws`` is 0.
    """
    sc = prep.scenario
    ranks = ranks.copy()
    ranks["p_rank"] = np.nan
    ranks["p_first"] = np.nan
    ranks["oat_ranks"] = None
    ranks["swap_p"] = np.nan
    ranks["swap_by"] = ""
    if sc.sensitivity.draws <= 0:
        return ranks
    by_name = {c.spec.name: c for c in prep.crit}
    estates = prep.region.layers["estates"]
    cells_of: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for code, s in prep.surfaces.items():
        sel = ranks[(ranks.category == code) & ranks["rank"].notna()]
        if len(sel) < 2:
            continue
        names = list(s.weights)
        geoms = estates.set_index("estate_id").loc[sel.estate_id].geometry.values
        ids = tuple(sel.estate_id)
        if ids not in cells_of:  # the estates' cells, rasterized once for every criterion and category
            cells_of[ids] = zone_cells(geoms, prep.grid)
        x = np.column_stack([zonal_mean(by_name[n].score, geoms, prep.grid, cells_of[ids]) for n in names])
        x = np.nan_to_num(x)
        cap = sel["usable_cap_ha"].to_numpy(float)

        def combine(scores: np.ndarray, cap: np.ndarray = cap) -> np.ndarray:
            return estate_closeness(scores, cap)  # rank as rank_estates does, for every weight draw

        w = np.array(list(s.weights.values()))
        # the model that was run: WLC is linear (zonal means of the criteria suffice); OWA is not,
        # so every draw aggregates the estates' cells and then averages them, as the surface does
        agg = sc.aggregation
        scores_of = None if agg.method == "wlc" else zone_scores_of(
            [by_name[n].score for n in names], geoms, prep.grid, agg.method, agg.order_weights)
        _, v = draw_scores(x, w, draws=sc.sensitivity.draws, concentration=sc.sensitivity.concentration,
                           seed=seed, combine=combine, scores_of=scores_of)
        acc = acceptability(v)
        r = sel["rank"].to_numpy(int) - 1
        ranks.loc[sel.index, "p_rank"] = np.round(acc[np.arange(len(sel)), r], 4)
        ranks.loc[sel.index, "p_first"] = np.round(acc[:, 0], 4)
        oat = oat_sweep(x, w, names, combine=combine, scores_of=scores_of)
        # oat_sweep's rows run sweep by sweep (criterion, delta), each over every candidate in order
        sweep = oat["rank"].to_numpy().reshape(-1, len(sel))  # sweeps × candidates
        sweeps = list(zip(oat["criterion"].to_numpy()[::len(sel)], oat["delta"].to_numpy()[::len(sel)]))
        ranks.loc[sel.index, "oat_ranks"] = [f"{a}-{b}" for a, b in zip(sweep.min(axis=0), sweep.max(axis=0))]
        # neighbours in the ranking: how often, and under which one-at-a-time change, the next one wins
        by_rank = np.argsort(r, kind="stable")
        cur, nxt = by_rank[:-1], by_rank[1:]
        ranks.loc[sel.index[cur], "swap_p"] = np.round((v[:, nxt] > v[:, cur]).mean(axis=0), 4)
        beats = sweep[:, nxt] < sweep[:, cur]  # sweeps × pairs
        ranks.loc[sel.index[cur], "swap_by"] = [_changes([k for k, b in zip(sweeps, col) if b]) for col in beats.T]
    return ranks


def _changes(sweeps: list[tuple[str, float]]) -> str:
    """One-at-a-time weight changes, short: ``heavy_road -50/-25 %; power_access +50 %``."""
    by: dict[str, list[str]] = {}
    for c, d in sweeps:
        by.setdefault(str(c), []).append(f"{d * 100:+.0f}")
    return "; ".join(f"{c} {'/'.join(ds)} %" for c, ds in by.items())
