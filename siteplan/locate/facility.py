"""Choosing among candidate sites: p-median and capacitated facility location, with proven gaps
(exact MILP with HiGHS when small, Lagrangian bounds and swap-based heuristics when large)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypedDict, Unpack

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["p_median", "capacitated_facility_location", "capacitated_p_location", "FacilityResult"]


@dataclass(frozen=True)
class FacilityResult:
    """A facility-location answer with its optimality gap.

    Parameters
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
    method
        How it was solved (e.g. the exact MILP or the heuristic, and why).
    status
        ``optimal`` when the gap is closed, else ``feasible`` (or ``infeasible``).
    """

    open: np.ndarray
    assign: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    method: str
    status: str


#: branch-and-bound nodes of the facility MILPs (their deterministic work limit)
NODE_LIMIT = 10_000
#: wall-clock safety net of the facility MILPs (s); a MILP it stops raises SafetyNetError
TIME_LIMIT_S = 600.0


def p_median(cost: np.ndarray, weights: np.ndarray, p: int, *, exact_max_vars: int = 20_000,
             time_limit: float = TIME_LIMIT_S, seed: int = 0, node_limit: int = NODE_LIMIT) -> FacilityResult:
    """Choose ``p`` of ``m`` candidates minimizing the weighted distance from ``n`` demand points.

    Formulation (Hakimi 1965; ReVelle & Swain 1970)::

        min Σ_ij w_i c_ij x_ij  s.t.  Σ_j x_ij = 1,  x_ij ≤ y_j,  Σ_j y_j = p,  x, y ∈ {0, 1}

    Small instances (n·m ≤ ``exact_max_vars``) are solved exactly as a MILP with HiGHS; if it stops at
    ``node_limit`` branch-and-bound nodes before proving optimality, the heuristic answers instead
    (deterministic) and ``method`` says so. Larger ones use the swap-based heuristic of :mod:`siteplan.locate._pmedian`: greedy
    addition and Whitaker's fast interchange with Resende & Werneck's bookkeeping, then — while the
    gap is open — randomized multistart with path relinking (Resende & Werneck 2004) from a fixed
    ``seed``; the lower bound is Lagrangian (assignment constraints relaxed, subgradient
    optimisation), then, where that leaves a gap, raised by a Lagrangian branch and bound over the
    facilities with a fixed work budget; it is rounded up when every weighted cost is an integer and
    never above the objective.

    Parameters
    ----------
    cost
        Costs from each of the n demand points to each of the m candidates, an n × m array (e.g. km);
        finite and not negative.
    weights
        Demand weights (e.g. land needed).
    p
        Facilities to open (1 ≤ p ≤ m).
    exact_max_vars
        Size up to which the exact MILP is used.
    time_limit
        Wall-clock safety net of the exact MILP (s): if it stops the MILP before ``node_limit`` does,
        :class:`~siteplan.errors.SafetyNetError` is raised (that answer would depend on the machine's load).
    seed
        Seed of the heuristic's randomized starts (same seed, same answer).
    node_limit
        Branch-and-bound nodes of the exact MILP (its deterministic work limit).

    Returns
    -------
    FacilityResult
        The ``p`` open candidates, each demand point's assignment to its cheapest open one, the
        objective, a proven lower bound and the gap between them, and how it was solved.

    Raises
    ------
    InputError
        Shapes that do not match, p out of range, negative or non-finite costs.
    SafetyNetError
        The exact MILP ran into ``time_limit`` before ``node_limit``.

    Notes
    -----
    The heuristic holds the n × m weighted costs, their row-sorted copy (for the bound) and a p × m
    swap table: about 40 bytes per cost entry. On Beasley's OR-Library instances (up to 900 × 900)
    it takes seconds; ``benchmarks/bench_pmed.py`` prints the gaps.
    """
    from ..errors import InputError

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
    note = ""
    if n * m <= exact_max_vars:
        res = _pmedian_milp(wc, p, time_limit, node_limit)
        if res is not None:
            return res
        note = f"exact MILP stopped at its node limit ({node_limit} nodes); fallback: "
        log.warning("p_median: the exact MILP stopped at its node limit (%d nodes); using the heuristic", node_limit)
    from . import _pmedian

    ans = _pmedian.solve(wc, p, seed=seed)
    open_ = ans.open
    assign = open_[wc[:, open_].argmin(axis=1)]
    obj = float(wc[np.arange(n), assign].sum())
    lb = min(ans.lower_bound, obj)
    gap = max((obj - lb) / obj, 0.0) if obj > 0 else 0.0
    return FacilityResult(open_, assign, obj, lb, gap,
                          note + "greedy + fast interchange, multistart with path relinking; Lagrangian bound "
                          "and branch and bound",
                          "optimal" if gap <= 1e-9 else "feasible")


def _pmedian_milp(wc: np.ndarray, p: int, time_limit: float, node_limit: int) -> FacilityResult | None:
    """The p-median as one HiGHS MILP; None when it stops at the node limit before proving optimality."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

    from ..relocation.milp import milp, safety_net_error, stopped_by_clock

    n, m = wc.shape
    nx = n * m
    c = np.concatenate([wc.ravel(), np.zeros(m)])
    rows = np.repeat(np.arange(n), m)
    a1 = sparse.csr_matrix((np.ones(nx), (rows, np.arange(nx))), shape=(n, nx + m))
    # each x_ij at most its y_j
    ri = np.concatenate([np.arange(nx), np.arange(nx)])
    ci = np.concatenate([np.arange(nx), nx + np.tile(np.arange(m), n)])
    vi = np.concatenate([np.ones(nx), -np.ones(nx)])
    a2 = sparse.csr_matrix((vi, (ri, ci)), shape=(nx, nx + m))
    a3 = sparse.csr_matrix((np.ones(m), (np.zeros(m, int), nx + np.arange(m))), shape=(1, nx + m))
    integ = np.concatenate([np.zeros(nx), np.ones(m)])  # x integral at optimum once y is
    res = milp(c, constraints=[LinearConstraint(a1, 1, 1), LinearConstraint(a2, -np.inf, 0), LinearConstraint(a3, p, p)],
               integrality=integ, bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "mip_rel_gap": 0.0, "node_limit": node_limit})
    if stopped_by_clock(res):
        raise safety_net_error(f"p_median: the exact MILP ({n} × {m})", time_limit,
                               f"{node_limit} branch-and-bound nodes", key="time_limit")
    if res.status != 0 and "limit" in str(res.message).lower():  # the node limit: the heuristic answers
        return None
    if res.x is None:
        from ..errors import SolverError

        raise SolverError(f"p_median: the MILP found no solution ({res.message})")
    y = res.x[nx:] > 0.5
    open_ = np.flatnonzero(y)
    assign = open_[wc[:, open_].argmin(axis=1)]
    obj = float(wc[np.arange(n), assign].sum())
    bound = float(getattr(res, "mip_dual_bound", None) or obj)
    gap = max((obj - bound) / obj, 0.0) if obj > 0 else 0.0
    return FacilityResult(open_, assign, obj, min(bound, obj), gap, "MILP (HiGHS)",
                          "optimal" if res.status == 0 else "feasible")


def capacitated_facility_location(cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
                                  fixed_cost: np.ndarray, *, time_limit: float = TIME_LIMIT_S,
                                  gap_target: float = 1e-4, node_limit: int = NODE_LIMIT) -> FacilityResult:
    """Capacitated facility location with single sourcing, solved as a MILP with HiGHS.

    Formulation::

        min Σ_j f_j y_j + Σ_ij d_i c_ij x_ij
        s.t. Σ_j x_ij = 1,  Σ_i d_i x_ij ≤ Q_j y_j,  x_ij ≤ y_j,  x, y ∈ {0, 1}

    Parameters
    ----------
    cost
        Unit costs c_ij (per unit of demand) from each of the n demand points to each of the m
        candidates, an n × m array.
    demand
        Demand d_i of each demand point (length n).
    capacity
        Capacity Q_j of each candidate (length m), in the units of ``demand``.
    fixed_cost
        Fixed cost f_j of opening each candidate (length m), in the units of ``cost`` × ``demand``.
    time_limit
        Wall-clock safety net (s): if it stops HiGHS first, :class:`~siteplan.errors.SafetyNetError`
        is raised (that answer would depend on the machine's load).
    gap_target
        HiGHS's relative-gap limit (deterministic): the answer is the best found when it is met, with
        HiGHS's dual bound and gap.
    node_limit
        HiGHS's branch-and-bound node limit (deterministic); the answer is the best found within it.

    Returns
    -------
    FacilityResult
        The open candidates, each demand point's single source, the objective (fixed plus weighted
        costs), HiGHS's dual bound and the gap, and the solver's status.

    Raises
    ------
    InfeasibleError
        When total capacity is below total demand (checked before solving, with the numbers) or the
        solver proves infeasibility.
    SafetyNetError
        HiGHS ran into ``time_limit`` before its work limits.
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

    from ..errors import InfeasibleError
    from ..relocation.milp import milp, safety_net_error, stopped_by_clock

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
               options={"time_limit": time_limit, "mip_rel_gap": gap_target, "node_limit": node_limit})
    if stopped_by_clock(res):
        raise safety_net_error(f"capacitated facility location: the MILP ({n} × {m})", time_limit,
                               f"{node_limit} branch-and-bound nodes or a gap of {gap_target:g}", key="time_limit")
    if res.x is None and "limit" in str(res.message).lower():
        from ..errors import SolverError

        raise SolverError(f"capacitated facility location: no feasible answer within the node limit ({node_limit} "
                          "nodes); raise node_limit")
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


class LocationOptions(TypedDict, total=False):
    """The keyword options of :func:`capacitated_p_location`: ``min_take``, ``closed`` and ``only``
    (default None), ``node_limit`` (:data:`NODE_LIMIT`) and ``time_limit`` (:data:`TIME_LIMIT_S`)."""

    min_take: np.ndarray | None
    closed: np.ndarray | None
    only: np.ndarray | None
    node_limit: int
    time_limit: float


def capacitated_p_location(arc_i: np.ndarray, arc_j: np.ndarray, arc_cost: np.ndarray, land: np.ndarray,
                           capacity: np.ndarray, penalty: np.ndarray, p: int,
                           **options: Unpack[LocationOptions]) -> FacilityResult:
    """Capacitated p-location with single sourcing, sparse arcs and a penalty for points left unserved.

    Formulation (points i, candidates j, arcs a = (i, j) that may be used)::

        min  Σ_a c_a x_a + Σ_i P_i u_i
        s.t. Σ_{a ∋ i} x_a + u_i = 1                 every point is served once or left unserved
             Σ_{a ∋ j} w_i x_a ≤ Q_j y_j             capacity (land) of an open candidate
             x_a ≤ y_j                               only open candidates serve
             Σ_{a ∋ j} x_a ≥ L_j y_j                 an open candidate takes at least L_j points
             Σ_j y_j ≤ p
             x, y ∈ {0, 1},  u ≥ 0

    Solved as one HiGHS MILP (:func:`siteplan._milp.milp`) ending at ``node_limit`` branch-and-bound
    nodes (deterministic); the answer is the best integer solution found, with HiGHS's dual bound.

    Parameters
    ----------
    arc_i, arc_j, arc_cost
        The arcs: point, candidate and cost c_a (non-negative, finite).
    land
        w_i of each point (its length is the number of points n).
    capacity
        Q_j of each candidate (its length is the number of candidates m).
    penalty
        P_i of each point left unserved.
    p
        Most candidates to open.
    min_take
        L_j (None: 0).
    closed
        Candidates that must stay closed (boolean mask; None: none).
    only
        Candidates that alone may open (boolean mask; None: all): e.g. the greedy start, to price it.
    node_limit
        Branch-and-bound nodes after which HiGHS stops (default :data:`NODE_LIMIT`).
    time_limit
        Seconds of HiGHS's safety clock (default :data:`TIME_LIMIT_S`).

    The options (:class:`LocationOptions`) are keyword-only.

    Returns
    -------
    FacilityResult
        ``assign`` is -1 for a point left unserved; ``status`` ``optimal`` (gap closed), ``feasible``
        (stopped at the node limit with a solution) or ``infeasible`` (no solution within the limit:
        ``open`` empty, ``objective`` inf).

    Raises
    ------
    SafetyNetError
        HiGHS ran into ``time_limit`` before ``node_limit``.
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

    from ..relocation.milp import milp, safety_net_error, stopped_by_clock

    min_take, closed, only = options.get("min_take"), options.get("closed"), options.get("only")
    node_limit, time_limit = options.get("node_limit", NODE_LIMIT), options.get("time_limit", TIME_LIMIT_S)
    ai = np.asarray(arc_i, dtype=np.int64)
    aj = np.asarray(arc_j, dtype=np.int64)
    c = np.asarray(arc_cost, dtype=float)
    w = np.asarray(land, dtype=float)
    q = np.asarray(capacity, dtype=float)
    pen = np.asarray(penalty, dtype=float)
    n, m, na = len(w), len(q), len(ai)
    lo = np.zeros(m) if min_take is None else np.asarray(min_take, dtype=float)
    nv = na + m + n  # x (arcs), y (candidates), u (points)
    ar = np.arange(na)
    rows = [sparse.csr_matrix((np.concatenate([np.ones(na), np.ones(n)]),
                               (np.concatenate([ai, np.arange(n)]), np.concatenate([ar, na + m + np.arange(n)]))),
                              shape=(n, nv)),
            sparse.csr_matrix((np.concatenate([w[ai], -q]), (np.concatenate([aj, np.arange(m)]),
                                                              np.concatenate([ar, na + np.arange(m)]))), shape=(m, nv)),
            sparse.csr_matrix((np.concatenate([np.ones(na), -np.ones(na)]),
                               (np.concatenate([ar, ar]), np.concatenate([ar, na + aj]))), shape=(na, nv)),
            sparse.csr_matrix((np.concatenate([-np.ones(na), lo]), (np.concatenate([aj, np.arange(m)]),
                                                                    np.concatenate([ar, na + np.arange(m)]))),
                              shape=(m, nv)),
            sparse.csr_matrix((np.ones(m), (np.zeros(m, np.int64), na + np.arange(m))), shape=(1, nv))]
    lb_rows = np.concatenate([np.ones(n), np.full(m, -np.inf), np.full(na, -np.inf), np.full(m, -np.inf), [0.0]])
    ub_rows = np.concatenate([np.ones(n), np.zeros(m), np.zeros(na), np.zeros(m), [float(p)]])
    a = sparse.vstack(rows, format="csr")
    upper = np.ones(nv)
    if closed is not None:
        upper[na:na + m][np.asarray(closed, dtype=bool)] = 0.0
    if only is not None:
        upper[na:na + m][~np.asarray(only, dtype=bool)] = 0.0
    obj = np.concatenate([c, np.zeros(m), pen])
    integ = np.concatenate([np.ones(na + m), np.zeros(n)])
    res = milp(obj, constraints=[LinearConstraint(a, lb_rows, ub_rows)], integrality=integ,
               bounds=Bounds(np.zeros(nv), upper),
               options={"time_limit": time_limit, "mip_rel_gap": 0.0, "node_limit": node_limit, "presolve": True})
    if stopped_by_clock(res):
        raise safety_net_error(f"new sites: the facility-location MILP ({n} points, {m} candidates, {na} arcs)",
                               time_limit, f"{node_limit} branch-and-bound nodes (sites.node_limit)",
                               key="allocation.time_limit_s")
    if res.x is None:
        return FacilityResult(np.zeros(0, np.int64), np.full(n, -1, np.int64), float("inf"),
                              float(getattr(res, "mip_dual_bound", None) or 0.0), float("inf"), "MILP (HiGHS)",
                              "infeasible")
    x = res.x[:na] > 0.5
    assign = np.full(n, -1, dtype=np.int64)
    assign[ai[x]] = aj[x]
    open_ = np.flatnonzero(res.x[na:na + m] > 0.5)
    val = float(c[x].sum() + pen[assign < 0].sum())
    bound = getattr(res, "mip_dual_bound", None)
    bound = val if bound is None or not np.isfinite(bound) else min(float(bound), val)
    gap = max((val - bound) / val, 0.0) if val > 0 else 0.0
    return FacilityResult(open_, assign, val, bound, gap, "MILP (HiGHS)",
                          "optimal" if res.status == 0 else "feasible")
