"""The relocation assignment model and its solvers (HiGHS, OR-Tools min-cost flow).

Formulation (units u = businesses, or clusters that must move together; estates j)::

    min  Σ_uj c_uj x_uj + Σ_u p_u y_u
    s.t. Σ_j x_uj + y_u = 1                               for every unit u
         Σ_u a_ujL x_uj ≤ b_jL                             for every capacity row (estate j, level L)
         x, y ∈ {0, 1}

:mod:`siteplan.guild_relocation` builds the arcs, costs and rows from the layers; this module only
solves. See :func:`solve_assignment` for the method.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .errors import InputError
from .local_search import arc_land, local_search, min_by_unit

log = logging.getLogger(__name__)

__all__ = ["AssignmentResult", "solve_assignment"]


@dataclass(frozen=True)
class AssignmentResult:
    """Solution of the assignment model.

    ``assign[u]`` is the estate index of unit u or -1; ``lp_bound`` a proven lower bound on the optimum
    (the LP relaxation's value, or a relaxation of it); ``gap`` = (objective − bound) / |bound|;
    ``status`` ``optimal`` when the integer objective is within 1e-6 of the bound (the flow bound is
    rounded down by about that much), else ``feasible``.
    """

    assign: np.ndarray
    objective: float
    lp_bound: float
    gap: float
    status: str
    lp_status: str
    fractional_units: int
    residual_units: int = 0
    residual_method: str = "none"
    relaxation: str = "none"
    relaxed_objective: float = float("nan")
    timings: dict[str, float] | None = None
    search_passes: int = 0
    search_moves: int = 0


def rows_matrix(cap_rows: list[tuple[int, float, np.ndarray, np.ndarray]], n_arcs: int
                ) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The capacity rows as a sparse matrix (rows × arcs) and their right-hand sides."""
    if not cap_rows:
        return sparse.csr_matrix((0, n_arcs)), np.zeros(0)
    ln = np.array([len(a) for _, _, a, _ in cap_rows], dtype=np.int64)
    ri = np.repeat(np.arange(len(cap_rows)), ln)
    ci = np.concatenate([np.asarray(a, np.int64) for _, _, a, _ in cap_rows])
    vi = np.concatenate([np.asarray(v, float) for _, _, _, v in cap_rows])
    m = sparse.csr_matrix((vi, (ri, ci)), shape=(len(cap_rows), n_arcs))
    return m, np.array([b for _, b, _, _ in cap_rows], dtype=float)


def solve_assignment(n_units: int, n_estates: int, arc_u: np.ndarray, arc_e: np.ndarray, arc_cost: np.ndarray,
                     penalty: np.ndarray, cap_rows: list[tuple[int, float, np.ndarray, np.ndarray]],
                     priority: np.ndarray | None = None, residual_time_limit: float = 20.0,
                     repack: bool = True, gap_target: float = 0.005, node_limit: int = 500,
                     exact_max_arcs: int = 5000, prune_k: int | None = None, relaxation: str = "auto",
                     repack_k: int = 3, residual_max_units: int = 2500, search_passes: int = 5
                     ) -> AssignmentResult:
    """Solve the relocation assignment: a relaxation, then an integer repair and a local search.

    1. Small instances (at most ``exact_max_arcs`` arcs) are one exact MILP (HiGHS), proved optimal.
    2. Otherwise the LP relaxation is solved — as a min-cost flow (OR-Tools) when the capacity rows
       have network shape (each estate's rows nested by category level, each unit's land the
       coefficient of all its arcs: always so without multi-category clusters), else as an LP with
       HiGHS (``scipy.optimize.linprog``). Either gives a proven lower bound.
    3. Units the relaxation places whole keep their estate. The rest — units it splits, and with
       ``repack`` at each estate whose capacity it uses up the ``repack_k`` members cheapest to leave
       out, the ``repack_k`` cheapest to move elsewhere and the ``repack_k`` outsiders that gain most —
       are solved as one MILP (HiGHS) against the capacity the fixed units leave, to an absolute gap of
       a quarter of ``gap_target`` of the bound. Above ``residual_max_units`` only the split units go
       to the MILP; above that again a greedy placement stands in.
    4. Units still out that fit somewhere are placed greedily (highest priority first, cheapest arc).
    5. A local search of shifts and ejection chains (:func:`siteplan.local_search.local_search`) improves the answer for up
       to ``search_passes`` passes (deterministic: no time limit decides what is kept).

    Parameters
    ----------
    n_units, n_estates
        Problem size.
    arc_u, arc_e, arc_cost
        Allowed arcs (unit, estate) and their costs.
    penalty
        Cost of leaving each unit unassigned.
    cap_rows
        Capacity constraints: ``(estate, capacity, arc_indices, coefficients)`` — the arcs of that
        estate counted by the row and each arc's land in it.
    priority
        Order for the greedy placement (higher first); default the penalty.
    residual_time_limit
        Seconds for the repair MILP (a safety net; ``node_limit`` normally ends it first).
    repack, repack_k
        Let the repair MILP also move the marginal members and outsiders of each capacity-tight
        estate, ``repack_k`` of each kind.
    gap_target
        Relative gap to the bound at which the repair MILP may stop.
    node_limit
        Branch-and-bound nodes for the repair MILP.
    exact_max_arcs
        Instances with at most this many arcs are solved as one exact MILP.
    prune_k
        LP relaxation only: solve on each unit's ``prune_k`` cheapest arcs and add arcs priced
        negative by the duals until none is left (column generation; exact). None: all arcs at once.
    relaxation
        ``auto`` (flow when the rows allow, else LP), ``flow`` (same; logs when it cannot) or ``lp``.
    residual_max_units
        Size limit of the repair MILP (units).
    search_passes
        Passes of the local search (0: none).

    Returns
    -------
    AssignmentResult
    """
    na = len(arc_u)
    timings: dict[str, float] = {}
    a_ub, b_ub = rows_matrix(cap_rows, na)
    if na <= exact_max_arcs:
        return _solve_exact(n_units, arc_u, arc_e, arc_cost, penalty, a_ub, b_ub)
    t0 = time.perf_counter()
    rel = None
    if relaxation in ("auto", "flow"):
        r_est = np.array([e for e, _, _, _ in cap_rows], dtype=np.int64)
        net = _as_network(n_units, arc_u, arc_e, r_est, a_ub, b_ub)
        rel = _relax_flow(net, n_units, arc_u, arc_cost, penalty, b_ub) if net is not None else None
        if rel is None and relaxation == "flow":
            log.info("relocation: the capacity rows are not a network (or do not scale); solving the LP")
    if rel is None:
        rel = _relax_lp(n_units, arc_u, arc_cost, penalty, a_ub, b_ub, prune_k)
    timings["relaxation_s"] = time.perf_counter() - t0
    log.info("relocation relaxation (%s): %d units, %d arcs, %d capacity rows: %.2f s, bound %.6g",
             rel.method, n_units, na, len(b_ub), timings["relaxation_s"], rel.bound)
    t1 = time.perf_counter()
    a_csc = a_ub.tocsc()
    order_arcs = np.lexsort((arc_cost, arc_u))
    starts = np.searchsorted(arc_u[order_arcs], np.arange(n_units + 1))
    has_arc = starts[1:] > starts[:-1]
    # 1. the units the relaxation places whole keep their arc
    arc_of = np.full(n_units, -1, dtype=np.int64)
    whole = np.flatnonzero(rel.x > 1 - 1e-7)
    arc_of[arc_u[whole]] = whole
    out = (arc_of < 0) & (rel.y > 1 - 1e-7)
    split = np.flatnonzero((arc_of < 0) & ~out)
    row_left = b_ub - _usage(a_ub, arc_of, na)
    released = _release_over(row_left, b_ub, a_csc, a_ub, arc_of)
    # 2. the repair set, and the MILP over it
    base = np.union1d(split, released).astype(np.int64)
    residual = base
    if repack and len(cap_rows):
        tight_e = np.unique(np.array([cap_rows[k][0] for k in np.flatnonzero(rel.tight | (row_left < 1e-6))],
                                     dtype=np.int64))
        if len(tight_e):
            wide = np.unique(np.concatenate([base] + _marginal_units(
                tight_e, arc_of, out & has_arc, arc_u, arc_e, arc_cost, penalty, a_csc, order_arcs, starts,
                repack_k))).astype(np.int64)
            if len(wide) <= residual_max_units:
                residual = wide
    residual = residual[has_arc[residual]]
    fixed = float(arc_cost[arc_of[(arc_of >= 0) & ~np.isin(np.arange(n_units), residual)]].sum())
    _apply(residual, np.full(len(residual), -1, np.int64), arc_of, a_csc, row_left)
    method = "none"
    if len(residual):
        method = "greedy"
        if len(residual) <= residual_max_units:
            rest = max(abs(rel.bound - fixed), 1e-9)
            got = _sub_milp(residual, np.flatnonzero(np.isin(arc_u, residual)), arc_u, arc_cost, penalty, a_csc,
                            row_left, n_units, time_limit=residual_time_limit,
                            rel_gap=min(0.5, 0.25 * gap_target * abs(rel.bound) / rest), node_limit=node_limit)
            if got is not None:
                _apply(residual, got[0], arc_of, a_csc, row_left)
                method = "milp" if got[2] else "milp (node or time limit)"
    timings["repair_s"] = time.perf_counter() - t1
    # 3. greedy placement of whatever is still out and fits
    t2 = time.perf_counter()
    prio = penalty if priority is None else priority
    placed = _greedy(np.flatnonzero((arc_of < 0) & has_arc), prio, order_arcs, starts, a_csc, row_left, arc_of)
    timings["greedy_s"] = time.perf_counter() - t2
    # 4. local search: shifts and ejection chains
    t3 = time.perf_counter()
    passes = moves = 0
    if search_passes > 0:
        passes, moves, saved = local_search(arc_of, row_left, arc_u, arc_e, arc_cost, penalty, a_csc, order_arcs,
                                             starts, max_passes=search_passes)
        log.info("relocation local search: %d passes, %d moves, saving %.6g", passes, moves, saved)
    timings["search_s"] = time.perf_counter() - t3
    assign = np.where(arc_of >= 0, arc_e[np.maximum(arc_of, 0)], -1)
    obj = float(arc_cost[arc_of[arc_of >= 0]].sum() + penalty[arc_of < 0].sum())
    bound = rel.bound
    gap = (obj - bound) / max(abs(bound), 1e-9)
    gap = max(gap, 0.0) if gap > -1e-9 else gap
    status = "optimal" if gap <= 1e-6 else "feasible"  # 1e-6: the flow bound rounds costs down
    log.info("relocation repair (%d units, %s; %d placed greedily; %d local moves): %.2f s, objective %.6g, "
             "gap %.4f %%", len(residual), method, placed, moves, time.perf_counter() - t1, obj, 100 * gap)
    return AssignmentResult(assign, obj, bound, float(gap), status, rel.message, int(len(split)),
                            int(len(residual)), method, rel.method, rel.objective, timings, passes, moves)


def _usage(a_ub: sparse.csr_matrix, arc_of: np.ndarray, na: int) -> np.ndarray:
    """Capacity each row uses when unit u takes arc ``arc_of[u]`` (-1: none)."""
    chosen = np.zeros(na)
    chosen[arc_of[arc_of >= 0]] = 1.0
    return a_ub @ chosen


def _release_over(row_left: np.ndarray, b_ub: np.ndarray, a_csc: sparse.csc_matrix, a_ub: sparse.csr_matrix,
                  arc_of: np.ndarray) -> np.ndarray:
    """Release units from rows the rounded flow overfills (by rounding of tenths of m²), smallest
    first, until every row holds; returns the released units (their ``arc_of`` set to -1)."""
    over = np.flatnonzero(row_left < -1e-9 * np.maximum(1.0, np.abs(b_ub)))
    if not len(over):
        return np.zeros(0, np.int64)
    unit_of_arc = np.full(a_ub.shape[1], -1, np.int64)
    unit_of_arc[arc_of[arc_of >= 0]] = np.flatnonzero(arc_of >= 0)
    out: list[int] = []
    for k in over:
        lo, hi = a_ub.indptr[k], a_ub.indptr[k + 1]
        arcs, vals = a_ub.indices[lo:hi], a_ub.data[lo:hi]
        used = unit_of_arc[arcs] >= 0
        for j in np.argsort(vals[used], kind="stable"):
            if row_left[k] >= 0:
                break
            a = int(arcs[used][j])
            u = int(unit_of_arc[a])
            if arc_of[u] != a:
                continue
            col = slice(a_csc.indptr[a], a_csc.indptr[a + 1])
            row_left[a_csc.indices[col]] += a_csc.data[col]
            arc_of[u] = -1
            out.append(u)
    return np.array(out, dtype=np.int64)


def _marginal_units(tight_e: np.ndarray, arc_of: np.ndarray, outside: np.ndarray, arc_u: np.ndarray,
                    arc_e: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray, a_csc: sparse.csc_matrix,
                    order_arcs: np.ndarray, starts: np.ndarray, k: int) -> list[np.ndarray]:
    """At each capacity-tight estate, the k members with the least to lose per m² if left out, the k
    members that can move elsewhere at the least extra cost per m², and the k outsiders (units out,
    with an arc there) with the most to gain per m²."""
    land = arc_land(a_csc)
    land = np.where(land > 0, land, 1.0)
    is_tight = np.zeros(int(arc_e.max(initial=-1)) + 1, bool)
    is_tight[tight_e] = True
    gain = (penalty[arc_u] - arc_cost) / land
    members = arc_of[arc_of >= 0]
    members = members[is_tight[arc_e[members]]]
    cand = np.flatnonzero(is_tight[arc_e] & outside[arc_u])
    # members that can move elsewhere at least extra cost per m² (their regret)
    other = np.ones(len(arc_u), bool)
    other[arc_of[arc_of >= 0]] = False
    alt = min_by_unit(np.where(other, arc_cost, np.inf), order_arcs, starts, penalty.astype(float))
    regret = np.full(len(arc_u), np.inf)
    regret[members] = (alt[arc_u[members]] - arc_cost[members]) / land[members]
    picks = []
    for arcs, score in ((members, gain), (members, regret), (cand, -gain)):
        if not len(arcs):
            continue
        o = np.lexsort((score[arcs], arc_e[arcs]))
        arcs = arcs[o]
        rank = np.arange(len(arcs)) - np.searchsorted(arc_e[arcs], arc_e[arcs])
        picks.append(arc_u[arcs[rank < k]])
    return picks


@dataclass
class _Relaxation:
    """An optimal solution of the relaxed problem and a valid lower bound on the integer optimum."""

    x: np.ndarray           # share of each unit on each arc
    y: np.ndarray           # share of each unit left unassigned
    bound: float            # lower bound on the integer (and LP) optimum
    objective: float        # the relaxed solution's objective on the real data
    tight: np.ndarray       # capacity rows the relaxation uses up
    method: str
    message: str


def _relax_lp(n_units: int, arc_u: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
              a_ub: sparse.csr_matrix, b_ub: np.ndarray, prune_k: int | None) -> _Relaxation:
    """The LP relaxation with HiGHS (``scipy.optimize.linprog``)."""
    na = len(arc_u)
    nv = na + n_units
    c = np.concatenate([arc_cost, penalty])
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([arc_u, np.arange(n_units)]), np.arange(nv))),
                             shape=(n_units, nv))
    a_full = sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], n_units))]).tocsr() if len(b_ub) else None
    res, rounds = _lp_with_pricing(c, a_eq, a_full, b_ub if len(b_ub) else None, arc_u, arc_cost, n_units, na,
                                   prune_k)
    tight = (res.ineqlin.residual <= 1e-6 * np.maximum(b_ub, 1.0) + 1e-3) if len(b_ub) else np.zeros(0, bool)
    method = "LP (HiGHS)" + (f", {rounds} pricing rounds" if rounds > 1 else "")
    return _Relaxation(x=res.x[:na], y=res.x[na:], bound=float(res.fun), objective=float(res.fun), tight=tight,
                       method=method,
                       message=str(res.message))


def _lp_with_pricing(c: np.ndarray, a_eq: sparse.csr_matrix, a_ub: sparse.csr_matrix | None,
                     b_ub: np.ndarray | None, arc_u: np.ndarray, arc_cost: np.ndarray, n_units: int, na: int,
                     prune_k: int | None) -> tuple[object, int]:
    """The LP relaxation over all arcs, solved on a pruned column set with dual pricing.

    Returns a result object with ``x`` (full length), ``fun``, ``message``, ``eqlin`` and ``ineqlin``
    (as scipy's), and the number of LP solves.
    """
    nv = len(c)
    if prune_k is None or na <= prune_k * n_units * 1.5:
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_units), bounds=(0, 1), method="highs")
        if res.status != 0:
            raise InputError(f"the relocation LP could not be solved: {res.message}")
        return res, 1
    # initial columns: each unit's prune_k cheapest arcs, and every 'unassigned' column
    order = np.lexsort((arc_cost, arc_u))
    pos = np.arange(na) - np.searchsorted(arc_u[order], arc_u[order])
    active = np.zeros(nv, dtype=bool)
    active[order[pos < prune_k]] = True
    active[na:] = True
    a_eq_c, a_ub_c = a_eq.tocsc(), (a_ub.tocsc() if a_ub is not None else None)
    rounds = 0
    while True:
        rounds += 1
        cols = np.flatnonzero(active)
        res = linprog(c[cols], A_ub=a_ub_c[:, cols] if a_ub_c is not None else None, b_ub=b_ub,
                      A_eq=a_eq_c[:, cols], b_eq=np.ones(n_units), bounds=(0, 1), method="highs")
        if res.status != 0:
            raise InputError(f"the relocation LP could not be solved: {res.message}")
        u = res.eqlin.marginals
        pi = res.ineqlin.marginals if a_ub_c is not None else np.zeros(0)
        rc = c - a_eq_c.T @ u - (a_ub_c.T @ pi if a_ub_c is not None else 0.0)
        new = (~active) & (rc < -1e-9 * np.maximum(1.0, np.abs(c)))
        if not new.any():
            break
        if rounds >= 30:  # not converging: the full LP, so the bound stays proven
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_units), bounds=(0, 1), method="highs")
            if res.status != 0:
                raise InputError(f"the relocation LP could not be solved: {res.message}")
            return res, rounds + 1
        active |= new
    x = np.zeros(nv)
    x[cols] = res.x
    out = type("LPResult", (), {})()
    out.x, out.fun, out.message, out.status = x, float(res.fun), res.message, res.status
    out.eqlin, out.ineqlin = res.eqlin, res.ineqlin
    return out, rounds


def _solve_exact(n_units: int, arc_u: np.ndarray, arc_e: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
                 a_ub: sparse.csr_matrix, b_ub: np.ndarray) -> AssignmentResult:
    """The whole model as one MILP (HiGHS), for instances small enough to prove optimality."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    na = len(arc_u)
    nv = na + n_units
    c = np.concatenate([arc_cost, penalty])
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([arc_u, np.arange(n_units)]), np.arange(nv))),
                             shape=(n_units, nv))
    cons = [LinearConstraint(a_eq, 1, 1)]
    if len(b_ub):
        cons.append(LinearConstraint(sparse.hstack([a_ub, sparse.csr_matrix((len(b_ub), n_units))]), -np.inf, b_ub))
    res = milp(c, constraints=cons, integrality=np.ones(nv), bounds=Bounds(0, 1),
               options={"disp": False, "mip_rel_gap": 0.0})
    if res.x is None:
        raise InputError(f"the relocation MILP could not be solved: {res.message}")
    x = res.x[:na] > 0.5
    assign = np.full(n_units, -1, dtype=np.int64)
    assign[arc_u[x]] = arc_e[x]
    obj = float(res.fun)
    bound = float(getattr(res, "mip_dual_bound", obj) or obj)
    gap = max((obj - bound) / max(abs(obj), 1e-9), 0.0)
    return AssignmentResult(assign, obj, bound, gap, "optimal" if res.status == 0 else "feasible", str(res.message),
                            0, int(n_units), "exact milp", "none (exact MILP)")


def _sub_milp(units: np.ndarray, arcs: np.ndarray, arc_u: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
              a_csc: sparse.csc_matrix, row_left: np.ndarray, n_units: int, *, time_limit: float, rel_gap: float,
              node_limit: int) -> tuple[np.ndarray, float, bool] | None:
    """Place ``units`` on ``arcs`` (theirs) exactly (HiGHS MILP) in the capacity ``row_left`` leaves,
    each unit on one arc or out at its penalty.

    Returns the chosen arc per unit (-1: out), the objective and whether it was proved within
    ``rel_gap``; None when the MILP found no solution in time.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    na, nr = len(arcs), len(units)
    local = np.full(n_units, -1, np.int64)
    local[units] = np.arange(nr)
    c = np.concatenate([arc_cost[arcs], penalty[units]])
    eq = sparse.csr_matrix((np.ones(na + nr), (np.concatenate([local[arc_u[arcs]], np.arange(nr)]),
                                                np.arange(na + nr))), shape=(nr, na + nr))
    cons = [LinearConstraint(eq, 1, 1)]
    sub = a_csc[:, arcs].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    if len(rows):
        sub = sparse.hstack([sub[rows], sparse.csr_matrix((len(rows), nr))]).tocsr()
        cons.append(LinearConstraint(sub, -np.inf, np.maximum(row_left[rows], 0.0)))
    res = milp(c, constraints=cons, integrality=np.ones(na + nr), bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "disp": False, "mip_rel_gap": rel_gap, "node_limit": node_limit})
    if res.x is None:
        return None
    x = arcs[res.x[:na] > 0.5]
    choice = np.full(nr, -1, np.int64)
    choice[local[arc_u[x]]] = x
    return choice, float(res.fun), res.status == 0


def _apply(units: np.ndarray, choice: np.ndarray, arc_of: np.ndarray, a_csc: sparse.csc_matrix,
           row_left: np.ndarray) -> None:
    """Move ``units`` to ``choice`` (-1: out), keeping ``row_left`` in step."""
    before = np.zeros(a_csc.shape[1])
    after = np.zeros(a_csc.shape[1])
    cur = arc_of[units]
    np.add.at(before, cur[cur >= 0], 1.0)
    np.add.at(after, choice[choice >= 0], 1.0)
    row_left += a_csc @ (before - after)
    arc_of[units] = choice


def _greedy(units: np.ndarray, prio: np.ndarray, order_arcs: np.ndarray, starts: np.ndarray,
            a_csc: sparse.csc_matrix, row_left: np.ndarray, arc_of: np.ndarray) -> int:
    """Place units one by one, highest priority first, at their cheapest arc with room; returns how
    many were placed."""
    placed = 0
    ip, ix, dv = a_csc.indptr, a_csc.indices, a_csc.data
    for u in sorted(units.tolist(), key=lambda u: (-prio[u], u)):
        for a in order_arcs[starts[u]:starts[u + 1]]:
            rows, vals = ix[ip[a]:ip[a + 1]], dv[ip[a]:ip[a + 1]]
            if (row_left[rows] - vals >= -1e-6).all():
                row_left[rows] -= vals
                arc_of[u] = a
                placed += 1
                break
    return placed


@dataclass(frozen=True)
class _Network:
    """The capacity rows as a flow network (when they have that shape).

    ``entry[a]``: the first capacity row arc ``a`` counts in (-1: none); ``supply[u]``: unit u's land,
    the coefficient of each of its arcs in every row (NaN when no row counts the unit: then any
    positive amount models it); ``nxt[r]``: the row after r in its estate's chain of nested rows
    (-1: the last).
    """

    entry: np.ndarray
    supply: np.ndarray
    nxt: np.ndarray


def _as_network(n_units: int, arc_u: np.ndarray, arc_e: np.ndarray, r_est: np.ndarray, a_ub: sparse.csr_matrix,
                b_ub: np.ndarray) -> _Network | None:
    """Recognise capacity rows (``a_ub``, from :func:`rows_matrix`; row r belongs to estate
    ``r_est[r]``) that a min-cost flow can carry exactly.

    That holds when each estate's rows are nested (level by level, as category-aware capacity makes
    them), every arc counts in a suffix of its estate's chain, and with the same coefficient — its
    unit's land — in each row and on every arc of the unit. Returns None otherwise (clusters that mix
    categories of different levels, for example), and the LP is used.
    """
    na, nr = len(arc_u), a_ub.shape[0]
    if nr == 0:
        return _Network(np.full(na, -1, np.int64), np.full(n_units, np.nan), np.zeros(0, np.int64))
    r_cap = b_ub
    r_len = np.diff(a_ub.indptr)
    row = np.repeat(np.arange(nr), r_len)
    arc = a_ub.indices.astype(np.int64)
    val = a_ub.data
    if (val <= 0).any() or (arc_e[arc] != r_est[row]).any():
        return None
    # chain order per estate: smaller capacity (then fewer arcs) first
    order = np.lexsort((r_len, r_cap, r_est))
    pos = np.empty(nr, np.int64)
    first = np.searchsorted(r_est[order], r_est[order])
    pos[order] = np.arange(nr) - first
    chain_len = np.bincount(r_est, minlength=int(r_est.max()) + 1)
    nxt = np.full(nr, -1, np.int64)
    same = r_est[order][1:] == r_est[order][:-1]
    nxt[order[:-1][same]] = order[1:][same]
    # every arc in a suffix of its estate's chain
    p0 = np.full(na, np.iinfo(np.int64).max)
    np.minimum.at(p0, arc, pos[row])
    cnt = np.bincount(arc, minlength=na)
    has = cnt > 0
    if (cnt[has] != chain_len[arc_e[has]] - p0[has]).any():
        return None
    entry = np.full(na, -1, np.int64)
    entry[arc[pos[row] == p0[arc]]] = row[pos[row] == p0[arc]]
    # one coefficient per unit
    u = arc_u[arc]
    lo = np.full(n_units, np.inf)
    hi = np.full(n_units, -np.inf)
    np.minimum.at(lo, u, val)
    np.maximum.at(hi, u, val)
    seen = np.isfinite(lo)
    if (hi[seen] - lo[seen] > 1e-9 * np.maximum(1.0, hi[seen])).any():
        return None
    supply = np.where(seen, hi, np.nan)
    return _Network(entry, supply, nxt)


def _relax_flow(net: _Network, n_units: int, arc_u: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
                b_ub: np.ndarray) -> _Relaxation | None:
    """The LP relaxation as a min-cost flow (OR-Tools, cost scaling), on integer-rounded data.

    Units send their land (in tenths of m²) to the row node their arc enters; rows pass flow along
    their estate's chain (capacity = the row's land) to the sink; an 'unassigned' node takes any
    land at the unit's penalty rate. Costs per unit of flow are rounded down, supplies down and
    capacities up, so the flow optimum is a relaxation of the LP and ``optimal_cost / M`` a valid
    lower bound on it; the gap reported against it can only overstate the gap to the LP bound.
    Returns None when the data cannot be scaled into 64-bit integers or the solver fails.
    """
    from ortools.graph.python import min_cost_flow

    na, nr = len(arc_u), len(net.nxt)
    # a unit no row counts (no arc, or only arcs without capacity) may send any amount: give it the
    # amount at which its penalty rate is the median one, so that one unit does not set the cost scale
    sup = net.supply.copy()
    free = ~np.isfinite(sup)
    if free.any():
        counted = ~free
        typical = float(np.median(penalty[counted] / sup[counted])) if counted.any() else 0.0
        sup[free] = np.maximum(penalty[free] / typical, 1.0) if typical > 0 else 1.0
    scale_l = 10.0 / min(1.0, float(sup.min()) * 10.0) if len(sup) else 10.0
    s = np.floor(sup * scale_l).astype(np.int64)
    if n_units == 0 or (s < 1).any() or float(s.sum()) > 2 ** 52:
        return None
    rate_a = arc_cost / s[arc_u]
    rate_p = penalty / s
    top = max(float(np.abs(rate_a).max(initial=0.0)), float(np.abs(rate_p).max()), 1e-300)
    m = 1e7 / top
    tot = float(s.sum())
    if tot * 1e7 > 4e18:
        m *= 4e18 / (tot * 1e7)
    if m * top < 1e3:  # too coarse to be useful
        return None
    c_a = np.floor(rate_a * m).astype(np.int64)
    c_p = np.floor(rate_p * m).astype(np.int64)
    dummy, sink = n_units + nr, n_units + nr + 1
    head_a = np.where(net.entry >= 0, n_units + net.entry, sink)
    row_head = np.where(net.nxt >= 0, n_units + net.nxt, sink)
    row_cap = np.ceil(np.maximum(b_ub, 0.0) * scale_l).astype(np.int64)
    tails = np.concatenate([arc_u, np.arange(n_units), n_units + np.arange(nr), [dummy]]).astype(np.int64)
    heads = np.concatenate([head_a, np.full(n_units, dummy), row_head, [sink]]).astype(np.int64)
    caps = np.concatenate([s[arc_u], s, row_cap, [int(s.sum())]]).astype(np.int64)
    costs = np.concatenate([c_a, c_p, np.zeros(nr + 1, np.int64)])
    mcf = min_cost_flow.SimpleMinCostFlow()
    ids = mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_units + nr + 2, np.int64)
    supplies[:n_units] = s
    supplies[sink] = -int(s.sum())
    mcf.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        log.info("relocation flow: OR-Tools status %s; using the LP", status)
        return None
    flow = mcf.flows(ids)
    fa = flow[:na]
    fp = flow[na:na + n_units]
    fr = flow[na + n_units:na + n_units + nr]
    x = fa / s[arc_u]
    y = fp / s
    return _Relaxation(x=x, y=y, bound=float(mcf.optimal_cost()) / m, objective=float(arc_cost @ x + penalty @ y),
                       tight=fr >= row_cap,
                       method="min-cost flow (OR-Tools)", message="optimal")
