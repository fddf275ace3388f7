"""The relaxation of the assignment model: a min-cost flow (OR-Tools) when the capacity rows form a
network, else the LP (HiGHS). Either gives a proven lower bound on the integer optimum.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from ..errors import SolverError
from .milp import safety_net_error, stopped_by_clock
from .model import AssignmentModel

log = logging.getLogger(__name__)

__all__ = ["Network", "Relaxation", "as_network", "relax", "relax_flow", "relax_lp"]

# LP: a capacity row counts as used up when its slack is at most TIGHT_RTOL × capacity (at least
# 1 m²) + TIGHT_ATOL_M2 (HiGHS's primal tolerances)
TIGHT_RTOL = 1e-6
TIGHT_ATOL_M2 = 1e-3
# column generation only pays when the arcs outnumber the initial columns (prune_k per unit) by this
PRUNE_MIN_RATIO = 1.5
# pricing rounds after which the full LP is solved instead (so the bound stays proven)
MAX_PRICING_ROUNDS = 30
# a column enters when its reduced cost is below −REDUCED_COST_RTOL × max(1, |cost|)
REDUCED_COST_RTOL = 1e-9
# flow: land in integer steps of 1 / LAND_STEPS_PER_M2 m² (tenths of m²), finer when a unit is smaller
LAND_STEPS_PER_M2 = 10.0
# flow: supplies must add up exactly in a float64 (53-bit mantissa)
MAX_EXACT_INT = 2 ** 52
# flow: the largest cost rate becomes COST_STEPS integer steps; the total cost must stay below
# INT64_BUDGET (2^63 ≈ 9.2e18 with room to spare), and with fewer than MIN_COST_STEPS steps for the
# largest rate the rounded costs are too coarse for a useful bound
COST_STEPS = 1e7
INT64_BUDGET = 4e18
MIN_COST_STEPS = 1e3
# flow: a unit's coefficients count as one when they differ by at most this, relative
SAME_COEF_RTOL = 1e-9


@dataclass
class Relaxation:
    """An optimal solution of the relaxed problem and a valid lower bound on the integer optimum."""

    x: np.ndarray           # share of each unit on each arc
    y: np.ndarray           # share of each unit left unassigned
    bound: float            # lower bound on the integer (and LP) optimum
    objective: float        # the relaxed solution's objective on the real data
    tight: np.ndarray       # capacity rows the relaxation uses up
    method: str
    message: str


def relax(model: AssignmentModel, a_ub: sparse.csr_matrix, b_ub: np.ndarray, method: str,
          prune_k: int | None, *, time_limit: float | None = None) -> Relaxation:
    """The relaxation: ``auto`` (flow when the rows allow, else LP), ``flow`` (same; logs when it
    cannot) or ``lp``; the LP runs to optimality, with ``time_limit`` seconds as a wall-clock safety net
    (a :class:`~siteplan.errors.SafetyNetError` if it binds)."""
    rel = None
    if method in ("auto", "flow"):
        row_est = np.array([e for e, _, _, _ in model.cap_rows], dtype=np.int64)
        net = as_network(model.n_units, model.arc_u, model.arc_e, row_est, a_ub, b_ub)
        rel = relax_flow(net, model.n_units, model.arc_u, model.cost, model.penalty, b_ub) if net is not None else None
        if rel is None and method == "flow":
            log.info("relocation: the capacity rows are not a network (or do not scale); solving the LP")
    if rel is None:
        rel = relax_lp(model.n_units, model.arc_u, model.cost, model.penalty, a_ub, b_ub, prune_k,
                       time_limit=time_limit)
    return rel


def relax_lp(n_units: int, arc_u: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
             a_ub: sparse.csr_matrix, b_ub: np.ndarray, prune_k: int | None, *,
             time_limit: float | None = None) -> Relaxation:
    """The LP relaxation with HiGHS (``scipy.optimize.linprog``), each solve to optimality (``time_limit``
    s: the wall-clock safety net)."""
    na = len(arc_u)
    nv = na + n_units
    c = np.concatenate([arc_cost, penalty])
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([arc_u, np.arange(n_units)]), np.arange(nv))),
                             shape=(n_units, nv))
    a_full = sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], n_units))]).tocsr() if len(b_ub) else None
    res, rounds = _lp_with_pricing(c, a_eq, a_full, b_ub if len(b_ub) else None, arc_u, arc_cost, prune_k,
                                   time_limit)
    tight = ((res.ineqlin.residual <= TIGHT_RTOL * np.maximum(b_ub, 1.0) + TIGHT_ATOL_M2) if len(b_ub)
             else np.zeros(0, bool))
    method = "LP (HiGHS)" + (f", {rounds} pricing rounds" if rounds > 1 else "")
    return Relaxation(x=res.x[:na], y=res.x[na:], bound=float(res.fun), objective=float(res.fun), tight=tight,
                      method=method, message=str(res.message))


def _linprog(c: np.ndarray, a_ub: Any, b_ub: np.ndarray | None, a_eq: Any, n_units: int,
             time_limit: float | None = None) -> Any:
    """One HiGHS LP solve over x ∈ [0, 1]; a failure is a :class:`~siteplan.errors.SolverError`."""
    options = {} if time_limit is None else {"time_limit": time_limit}
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_units), bounds=(0, 1), method="highs",
                  options=options)
    if time_limit is not None and stopped_by_clock(res):
        raise safety_net_error(f"relocation: the LP relaxation ({n_units} units, {len(c) - n_units} arcs)", time_limit,
                               "solved to optimality, no other limit")
    if res.status != 0:
        raise SolverError(f"the relocation LP could not be solved (HiGHS status {res.status}): {res.message}")
    return res


def _lp_with_pricing(c: np.ndarray, a_eq: sparse.csr_matrix, a_ub: sparse.csr_matrix | None,
                     b_ub: np.ndarray | None, arc_u: np.ndarray, arc_cost: np.ndarray,
                     prune_k: int | None, time_limit: float | None = None) -> tuple[Any, int]:
    """The LP relaxation over all arcs, solved on a pruned column set with dual pricing.

    ``a_eq`` has one row per unit, ``arc_u`` one entry per arc (the first columns of ``c``).

    Returns a result object with ``x`` (full length), ``fun``, ``message``, ``eqlin`` and ``ineqlin``
    (as scipy's), and the number of LP solves.
    """
    nv = len(c)
    n_units, na = a_eq.shape[0], len(arc_u)
    if prune_k is None or na <= prune_k * n_units * PRUNE_MIN_RATIO:
        return _linprog(c, a_ub, b_ub, a_eq, n_units, time_limit), 1
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
        res = _linprog(c[cols], a_ub_c[:, cols] if a_ub_c is not None else None, b_ub, a_eq_c[:, cols], n_units,
                       time_limit)
        duals_eq = res.eqlin.marginals
        duals_ub = res.ineqlin.marginals if a_ub_c is not None else np.zeros(0)
        reduced = c - a_eq_c.T @ duals_eq - (a_ub_c.T @ duals_ub if a_ub_c is not None else 0.0)
        new = (~active) & (reduced < -REDUCED_COST_RTOL * np.maximum(1.0, np.abs(c)))
        if not new.any():
            break
        if rounds >= MAX_PRICING_ROUNDS:  # not converging: the full LP, so the bound stays proven
            return _linprog(c, a_ub, b_ub, a_eq, n_units, time_limit), rounds + 1
        active |= new
    x = np.zeros(nv)
    x[cols] = res.x
    out = SimpleNamespace(x=x, fun=float(res.fun), message=res.message, status=res.status, eqlin=res.eqlin,
                          ineqlin=res.ineqlin)
    return out, rounds


@dataclass(frozen=True)
class Network:
    """The capacity rows as a flow network (when they have that shape).

    ``entry[a]``: the first capacity row arc ``a`` counts in (-1: none); ``supply[u]``: unit u's land,
    the coefficient of each of its arcs in every row (NaN when no row counts the unit: then any
    positive amount models it); ``nxt[r]``: the row after r in its estate's chain of nested rows
    (-1: the last).
    """

    entry: np.ndarray
    supply: np.ndarray
    nxt: np.ndarray


def as_network(n_units: int, arc_u: np.ndarray, arc_e: np.ndarray, row_est: np.ndarray, a_ub: sparse.csr_matrix,
               b_ub: np.ndarray) -> Network | None:
    """Recognise capacity rows (``a_ub``, from :func:`~siteplan.relocation.model.rows_matrix`; row r
    belongs to estate ``row_est[r]``) that a min-cost flow can carry exactly.

    That holds when each estate's rows are nested (level by level, as category-aware capacity makes
    them), every arc counts in a suffix of its estate's chain, and with the same coefficient — its
    unit's land — in each row and on every arc of the unit. Returns None otherwise (clusters that mix
    categories of different levels, for example), and the LP is used.
    """
    na, nr = len(arc_u), a_ub.shape[0]
    if nr == 0:
        return Network(np.full(na, -1, np.int64), np.full(n_units, np.nan), np.zeros(0, np.int64))
    row_len = np.diff(a_ub.indptr)
    row = np.repeat(np.arange(nr), row_len)
    arc = a_ub.indices.astype(np.int64)
    coef = a_ub.data
    if (coef <= 0).any() or (arc_e[arc] != row_est[row]).any():
        return None
    # chain order per estate: smaller capacity (then fewer arcs) first
    order = np.lexsort((row_len, b_ub, row_est))
    pos = np.empty(nr, np.int64)
    first = np.searchsorted(row_est[order], row_est[order])
    pos[order] = np.arange(nr) - first
    chain_len = np.bincount(row_est, minlength=int(row_est.max()) + 1)
    nxt = np.full(nr, -1, np.int64)
    same = row_est[order][1:] == row_est[order][:-1]
    nxt[order[:-1][same]] = order[1:][same]
    # every arc in a suffix of its estate's chain
    first_pos = np.full(na, np.iinfo(np.int64).max)
    np.minimum.at(first_pos, arc, pos[row])
    n_rows_of_arc = np.bincount(arc, minlength=na)
    has = n_rows_of_arc > 0
    if (n_rows_of_arc[has] != chain_len[arc_e[has]] - first_pos[has]).any():
        return None
    entry = np.full(na, -1, np.int64)
    is_entry = pos[row] == first_pos[arc]
    entry[arc[is_entry]] = row[is_entry]
    # one coefficient per unit
    u = arc_u[arc]
    lo = np.full(n_units, np.inf)
    hi = np.full(n_units, -np.inf)
    np.minimum.at(lo, u, coef)
    np.maximum.at(hi, u, coef)
    seen = np.isfinite(lo)
    if (hi[seen] - lo[seen] > SAME_COEF_RTOL * np.maximum(1.0, hi[seen])).any():
        return None
    supply = np.where(seen, hi, np.nan)
    return Network(entry, supply, nxt)


def _integer_supplies(net: Network, penalty: np.ndarray) -> tuple[np.ndarray, float]:
    """Each unit's land as an integer number of steps, and the steps per m².

    A unit no row counts (no arc, or only arcs without capacity) may send any amount: it gets the
    amount at which its penalty rate is the median one, so that one unit does not set the cost scale.
    """
    sup = net.supply.copy()
    free = ~np.isfinite(sup)
    if free.any():
        counted = ~free
        typical = float(np.median(penalty[counted] / sup[counted])) if counted.any() else 0.0
        sup[free] = np.maximum(penalty[free] / typical, 1.0) if typical > 0 else 1.0
    steps_per_m2 = LAND_STEPS_PER_M2 / min(1.0, float(sup.min()) * LAND_STEPS_PER_M2) if len(sup) else LAND_STEPS_PER_M2
    return np.floor(sup * steps_per_m2).astype(np.int64), steps_per_m2


def relax_flow(net: Network, n_units: int, arc_u: np.ndarray, arc_cost: np.ndarray, penalty: np.ndarray,
               b_ub: np.ndarray) -> Relaxation | None:
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
    supply, steps_per_m2 = _integer_supplies(net, penalty)
    if n_units == 0 or (supply < 1).any() or float(supply.sum()) > MAX_EXACT_INT:
        return None
    rate_arc = arc_cost / supply[arc_u]
    rate_out = penalty / supply
    top = max(float(np.abs(rate_arc).max(initial=0.0)), float(np.abs(rate_out).max()), 1e-300)
    cost_scale = COST_STEPS / top
    total = float(supply.sum())
    if total * COST_STEPS > INT64_BUDGET:
        cost_scale *= INT64_BUDGET / (total * COST_STEPS)
    if cost_scale * top < MIN_COST_STEPS:  # too coarse to be useful
        return None
    int_cost_arc = np.floor(rate_arc * cost_scale).astype(np.int64)
    int_cost_out = np.floor(rate_out * cost_scale).astype(np.int64)
    # nodes: units 0 .. n-1, rows n .. n+nr-1, 'unassigned', sink
    out_node, sink = n_units + nr, n_units + nr + 1
    head_arc = np.where(net.entry >= 0, n_units + net.entry, sink)
    head_row = np.where(net.nxt >= 0, n_units + net.nxt, sink)
    row_cap = np.ceil(np.maximum(b_ub, 0.0) * steps_per_m2).astype(np.int64)
    tails = np.concatenate([arc_u, np.arange(n_units), n_units + np.arange(nr), [out_node]]).astype(np.int64)
    heads = np.concatenate([head_arc, np.full(n_units, out_node), head_row, [sink]]).astype(np.int64)
    caps = np.concatenate([supply[arc_u], supply, row_cap, [int(supply.sum())]]).astype(np.int64)
    costs = np.concatenate([int_cost_arc, int_cost_out, np.zeros(nr + 1, np.int64)])
    mcf = min_cost_flow.SimpleMinCostFlow()
    ids = mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    node_supply = np.zeros(n_units + nr + 2, np.int64)
    node_supply[:n_units] = supply
    node_supply[sink] = -int(supply.sum())
    mcf.set_nodes_supplies(np.arange(len(node_supply)), node_supply)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        log.info("relocation flow: OR-Tools status %s; using the LP", status)
        return None
    flow = mcf.flows(ids)
    x = flow[:na] / supply[arc_u]
    y = flow[na:na + n_units] / supply
    flow_rows = flow[na + n_units:na + n_units + nr]
    return Relaxation(x=x, y=y, bound=float(mcf.optimal_cost()) / cost_scale,
                      objective=float(arc_cost @ x + penalty @ y), tight=flow_rows >= row_cap,
                      method="min-cost flow (OR-Tools)", message="optimal")
