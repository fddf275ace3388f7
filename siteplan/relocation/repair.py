"""The integer assignment being repaired after the relaxation: the incumbent and its moves.

:class:`Incumbent` holds the integer assignment built from the relaxation's whole units and the room
left in each capacity row; :func:`sub_milp` re-solves a set of units exactly (HiGHS) in that room,
:func:`apply_choice` moves units, :func:`greedy_place` places the rest cheapest arc first and
:func:`marginal_units` picks who else may move at a full estate. :func:`siteplan.relocation.solve.solve_model`
runs them in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .model import AssignmentModel, arc_land, min_by_unit
from .relaxation import Relaxation

__all__ = ["Incumbent", "apply_choice", "greedy_place", "marginal_units", "sub_milp"]

# a relaxed share above 1 − WHOLE_TOL places the unit whole
WHOLE_TOL = 1e-7
# the rounded flow overfills a row when its room is below −OVERFILL_RTOL × max(1, capacity)
OVERFILL_RTOL = 1e-9
# m²: greedy placement's rounding slack when checking that an arc fits
GREEDY_FIT_SLACK_M2 = 1e-6


@dataclass(eq=False)
class Incumbent:
    """The integer assignment being built (``arc_of[u]``: unit u's arc, -1: out), the room left in
    each capacity row, and the lookups the repair steps share: the rows by arc (``a_csc``), each
    unit's arcs cheapest first (``order_arcs[starts[u]:starts[u + 1]]``), the units with an arc;
    ``split`` the units the relaxation split, ``out`` those it left out whole, ``released`` those taken
    off overfilled rows."""

    arc_of: np.ndarray
    row_left: np.ndarray
    a_csc: sparse.csc_matrix
    order_arcs: np.ndarray
    starts: np.ndarray
    has_arc: np.ndarray
    split: np.ndarray
    out: np.ndarray
    released: np.ndarray

    @classmethod
    def from_relaxation(cls, model: AssignmentModel, rel: Relaxation, a_ub: sparse.csr_matrix,
                        b_ub: np.ndarray) -> Incumbent:
        """The units the relaxation places whole keep their arc (then released from any row the
        rounded flow overfills); the rest are out."""
        arc_u, n_units = model.arc_u, model.n_units
        a_csc = a_ub.tocsc()
        order_arcs = np.lexsort((model.cost, arc_u))
        starts = np.searchsorted(arc_u[order_arcs], np.arange(n_units + 1))
        arc_of = np.full(n_units, -1, dtype=np.int64)
        whole = np.flatnonzero(rel.x > 1 - WHOLE_TOL)
        arc_of[arc_u[whole]] = whole
        out = (arc_of < 0) & (rel.y > 1 - WHOLE_TOL)
        split = np.flatnonzero((arc_of < 0) & ~out)
        row_left = b_ub - _usage(a_ub, arc_of, model.n_arcs)
        released = _release_over(row_left, b_ub, a_csc, a_ub, arc_of)
        return cls(arc_of, row_left, a_csc, order_arcs, starts, starts[1:] > starts[:-1], split, out, released)


def _usage(a_ub: sparse.csr_matrix, arc_of: np.ndarray, na: int) -> np.ndarray:
    """Capacity each row uses when unit u takes arc ``arc_of[u]`` (-1: none)."""
    chosen = np.zeros(na)
    chosen[arc_of[arc_of >= 0]] = 1.0
    used: np.ndarray = a_ub @ chosen
    return used


def _release_over(row_left: np.ndarray, b_ub: np.ndarray, a_csc: sparse.csc_matrix, a_ub: sparse.csr_matrix,
                  arc_of: np.ndarray) -> np.ndarray:
    """Release units from rows the rounded flow overfills (by rounding of tenths of m²), smallest
    first, until every row holds; returns the released units (their ``arc_of`` set to -1)."""
    over = np.flatnonzero(row_left < -OVERFILL_RTOL * np.maximum(1.0, np.abs(b_ub)))
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


def marginal_units(model: AssignmentModel, tight_e: np.ndarray, inc: Incumbent, k: int) -> list[np.ndarray]:
    """At each capacity-tight estate, the k members with the least to lose per m² if left out, the k
    members that can move elsewhere at the least extra cost per m², and the k outsiders (units out,
    with an arc there) with the most to gain per m²."""
    arc_u, arc_e, arc_cost, penalty, arc_of = model.arc_u, model.arc_e, model.cost, model.penalty, inc.arc_of
    land = arc_land(inc.a_csc)
    land = np.where(land > 0, land, 1.0)
    is_tight = np.zeros(int(arc_e.max(initial=-1)) + 1, bool)
    is_tight[tight_e] = True
    gain = (penalty[arc_u] - arc_cost) / land
    members = arc_of[arc_of >= 0]
    members = members[is_tight[arc_e[members]]]
    outsiders = np.flatnonzero(is_tight[arc_e] & (inc.out & inc.has_arc)[arc_u])
    # members that can move elsewhere at least extra cost per m² (their regret)
    other = np.ones(len(arc_u), bool)
    other[arc_of[arc_of >= 0]] = False
    alt = min_by_unit(np.where(other, arc_cost, np.inf), inc.order_arcs, inc.starts, penalty.astype(float))
    regret = np.full(len(arc_u), np.inf)
    regret[members] = (alt[arc_u[members]] - arc_cost[members]) / land[members]
    picks = []
    for arcs, score in ((members, gain), (members, regret), (outsiders, -gain)):
        if not len(arcs):
            continue
        srt = arcs[np.lexsort((score[arcs], arc_e[arcs]))]
        rank = np.arange(len(srt)) - np.searchsorted(arc_e[srt], arc_e[srt])
        picks.append(arc_u[srt[rank < k]])
    return picks


def sub_milp(model: AssignmentModel, units: np.ndarray, arcs: np.ndarray, a_csc: sparse.csc_matrix,
              row_left: np.ndarray, *, time_limit: float, rel_gap: float, node_limit: int
              ) -> tuple[np.ndarray, float, bool] | None:
    """Place ``units`` on ``arcs`` (theirs) exactly (HiGHS MILP) in the capacity ``row_left`` leaves,
    each unit on one arc or out at its penalty.

    Returns the chosen arc per unit (-1: out), the objective and whether it was proved within
    ``rel_gap``; None when the MILP found no solution within its node limit. Raises
    :class:`~siteplan.errors.SafetyNetError` when the wall-clock safety net ``time_limit`` stops it first.
    """
    from scipy.optimize import Bounds, LinearConstraint

    from .milp import milp, safety_net_error, stopped_by_clock

    arc_u = model.arc_u
    na, nr = len(arcs), len(units)
    local = np.full(model.n_units, -1, np.int64)
    local[units] = np.arange(nr)
    c = np.concatenate([model.cost[arcs], model.penalty[units]])
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
    if stopped_by_clock(res):
        raise safety_net_error(f"relocation: the repair MILP ({nr} units, {na} arcs)", time_limit,
                               f"{node_limit} branch-and-bound nodes, allocation.node_limit")
    if res.x is None:
        return None
    x = arcs[res.x[:na] > 0.5]
    choice = np.full(nr, -1, np.int64)
    choice[local[arc_u[x]]] = x
    return choice, float(res.fun), res.status == 0


def apply_choice(units: np.ndarray, choice: np.ndarray, inc: Incumbent) -> None:
    """Move ``units`` to ``choice`` (-1: out), keeping the room left in step."""
    before = np.zeros(inc.a_csc.shape[1])
    after = np.zeros(inc.a_csc.shape[1])
    cur = inc.arc_of[units]
    np.add.at(before, cur[cur >= 0], 1.0)
    np.add.at(after, choice[choice >= 0], 1.0)
    inc.row_left += inc.a_csc @ (before - after)
    inc.arc_of[units] = choice


def greedy_place(units: np.ndarray, prio: np.ndarray, inc: Incumbent) -> int:
    """Place units one by one, highest priority first, at their cheapest arc with room; returns how
    many were placed."""
    placed = 0
    ip, ix, dv = inc.a_csc.indptr, inc.a_csc.indices, inc.a_csc.data
    order_arcs, starts, row_left, arc_of = inc.order_arcs, inc.starts, inc.row_left, inc.arc_of
    for u in sorted(units.tolist(), key=lambda u: (-prio[u], u)):
        for a in order_arcs[starts[u]:starts[u + 1]]:
            rows, vals = ix[ip[a]:ip[a + 1]], dv[ip[a]:ip[a + 1]]
            if (row_left[rows] - vals >= -GREEDY_FIT_SLACK_M2).all():
                row_left[rows] -= vals
                arc_of[u] = a
                placed += 1
                break
    return placed
