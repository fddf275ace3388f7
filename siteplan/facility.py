"""Choosing among candidate sites: p-median and capacitated facility location, with proven gaps
(exact MILP with HiGHS when small, Lagrangian bounds and interchange heuristics when large)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["p_median", "capacitated_facility_location", "FacilityResult"]


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
