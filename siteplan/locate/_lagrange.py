"""The p-median's lower bounds, behind :func:`siteplan.locate._pmedian.solve`.

- :func:`lagrangian_bound`: the Lagrangian bound (assignment constraints relaxed) by subgradient
  optimisation; it converges to the LP bound.
- :func:`branch_and_bound`: where the LP bound leaves a gap (small p), a Lagrangian branch and bound
  over the facilities, after reduction tests, within a fixed amount of work: it proves the answer
  optimal or raises the bound past the LP's.
- :class:`SortedCosts`: each customer's costs sorted once, shared with the interchange heuristic.

All costs are the weighted costs ``w_i c_ij`` (n customers × m candidates).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dual", "SortedCosts", "Steps", "branch_and_bound", "lagrangian_bound", "proven"]

# subgradient: start step factor, halved after STALL iterations without a better bound; stop when it
# falls below MIN_THETA or after MAX_ITERS iterations
THETA0 = 2.0
STALL = 40
MIN_THETA = 1e-4
MAX_ITERS = 3000
# the local search also starts from the last RECENT_SETS distinct facility sets of the Lagrangian
# subproblem (at its new best bounds): near the dual optimum they are often near the optimum
RECENT_SETS = 6
# branch and bound (small p, when the Lagrangian bound leaves a gap): subgradient iterations per node,
# its start step and stall, (the work budget is the caller's)
BB_ITERS = 60
BB_THETA0 = 0.5
BB_STALL = 10
# the step aims at the upper bound raised by this share (the bound must be allowed to pass the optimum
# reached by the heuristic when that is not yet optimal)
TARGET_SLACK = 1e-3


class SortedCosts:
    """Each customer's costs sorted ascending, flattened with an offset per row so that one
    ``searchsorted`` finds, for every customer at once, how many candidates cost less than λ_i."""

    def __init__(self, wc: np.ndarray) -> None:
        n, m = wc.shape
        self.n, self.m = n, m
        self.order = np.argsort(wc, axis=1, kind="stable")
        srt = np.take_along_axis(wc, self.order, axis=1)
        lo, hi = float(srt.min(initial=0.0)), float(srt.max(initial=0.0))
        self.lo = lo
        self.span = (hi - lo) * 2.0 + 1.0
        self.base = np.arange(n) * self.span
        self.keys = ((srt - lo) + self.base[:, None]).ravel()
        self.vals = srt.ravel()
        self.cols = self.order.ravel()

    def below(self, lam: np.ndarray, u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries (position in ``u``, candidate, cost) with cost < λ of customers ``u`` (default:
        all customers; ``lam`` then has one value per customer of ``u``)."""
        if u is None:
            u = np.arange(self.n)
        lam_c = np.clip(lam - self.lo, 0.0, self.span / 2.0)
        ends = np.searchsorted(self.keys, lam_c + self.base[u], side="left")
        starts = u * self.m
        k = ends - starts
        tot = int(k.sum())
        rows = np.repeat(np.arange(len(u)), k)
        pos = np.arange(tot) - np.repeat(np.cumsum(k) - k, k) + np.repeat(starts, k)
        return rows, self.cols[pos], self.vals[pos]


@dataclass
class Dual:
    """The best Lagrangian bound found, its multipliers, the facilities of its subproblem and their
    ρ, and the iterations run."""

    bound: float
    lam: np.ndarray
    sel: np.ndarray
    rho: np.ndarray
    iters: int
    recent: list[np.ndarray] = field(default_factory=list)  # the last distinct subproblem sets at new bests


@dataclass(frozen=True)
class Steps:
    """How the subgradient of :func:`lagrangian_bound` runs.

    Attributes
    ----------
    max_iters
        Iterations at most.
    theta0
        The first step factor θ.
    stall_limit
        Iterations without a better bound before θ is halved.
    stop_at
        Stop when the bound reaches this (default: the upper bound).
    """

    max_iters: int = MAX_ITERS
    theta0: float = THETA0
    stall_limit: int = STALL
    stop_at: float | None = None


def lagrangian_bound(wc: np.ndarray, p: int, ub: float, lam0: np.ndarray, *, table: SortedCosts | None = None,
                     steps: Steps | None = None, fixed: tuple[np.ndarray, np.ndarray] | None = None) -> Dual:
    """Lagrangian lower bound for p-median, relaxing each customer's assignment constraint, by
    subgradient optimisation (Held, Wolfe & Crowder 1974; Beasley 1993).

    For multipliers λ: L(λ) = Σ_i λ_i + (sum of the p smallest ρ_j), ρ_j = Σ_i min(0, c_ij − λ_i),
    a lower bound on the optimum for every λ. Steps of θ (UB' − L) / ‖g‖² along the subgradient
    g_i = 1 − #{chosen j: c_ij < λ_i}, θ halved after ``steps.stall_limit`` iterations without a better
    bound; stops when the bound reaches ``steps.stop_at`` (default: ``ub``). Only the entries below λ are
    visited (``table``: each row sorted once). With ``fixed`` (masks over the candidates, in and out)
    the subproblem must open / may not open those: the bound of a branch-and-bound node; +inf when the
    node has no p facilities left.
    """
    st = steps or Steps()
    max_iters, theta0, stall_limit, stop_at = st.max_iters, st.theta0, st.stall_limit, st.stop_at
    fixed_in, fixed_out = fixed if fixed is not None else (None, None)
    n, m = wc.shape
    tab = table if table is not None else SortedCosts(wc)
    lam = lam0.astype(float).copy()
    fin = np.zeros(m, bool) if fixed_in is None else fixed_in
    fout = np.zeros(m, bool) if fixed_out is None else fixed_out
    if int(fin.sum()) > p or m - int(fout.sum()) < p:
        return Dual(math.inf, lam, np.zeros(0, np.int64), np.zeros(m), 0)
    best = Dual(-math.inf, lam.copy(), np.arange(p), np.zeros(m), 0)
    stop = ub - 1e-9 * max(abs(ub), 1.0) if stop_at is None else stop_at
    theta, stall = theta0, 0
    target = ub * (1 + TARGET_SLACK) if ub > 0 else ub + TARGET_SLACK
    chosen = np.zeros(m, bool)
    it = 0
    while it < max_iters:
        it += 1
        rows, cols, vals = tab.below(lam)
        rho = np.bincount(cols, weights=np.minimum(vals - lam[rows], 0.0), minlength=m)
        key = np.where(fin, -np.inf, np.where(fout, np.inf, rho))
        sel = np.argpartition(key, p - 1)[:p] if p < m else np.arange(m)
        val = float(lam.sum() + rho[sel].sum())
        if not math.isfinite(best.bound) or val > best.bound + 1e-12 * max(abs(best.bound), 1.0):
            recent = best.recent
            best = Dual(val, lam.copy(), np.sort(sel), rho, 0, recent)
            if not any(np.array_equal(best.sel, r) for r in recent):
                recent.append(best.sel)
                del recent[:-RECENT_SETS]
            stall = 0
        else:
            stall += 1
            if stall >= stall_limit:
                theta /= 2
                stall = 0
        if best.bound >= stop or theta < MIN_THETA:
            break
        chosen[:] = False
        chosen[sel] = True
        g = 1.0 - np.bincount(rows, weights=chosen[cols], minlength=n)
        nrm = float(g @ g)
        if nrm == 0:
            break
        lam = np.maximum(lam + theta * (target - val) / nrm * g, 0.0)
    best.iters = it
    return best


def branch_and_bound(wc: np.ndarray, p: int, ub: float, dual: Dual, *, integral: bool, work: float
                     ) -> tuple[float, np.ndarray | None]:
    """A Lagrangian branch and bound over the facilities (after Christofides & Beasley 1982), to prove
    the upper bound ``ub`` optimal or raise the lower bound past the LP's.

    The root's multipliers (``dual``, from :func:`lagrangian_bound` on all candidates) first discard
    every candidate that cannot be in a solution better than ``ub`` (forcing it open raises the bound
    to ``ub``). Nodes fix facilities open or closed; each is bounded by :func:`lagrangian_bound` warm
    started from its parent's multipliers, reduced by the same tests, and branched on the chosen free
    facility whose removal costs most. Best first, until the nodes' work (subgradient iterations ×
    customers × candidates) reaches ``work`` (deterministic).

    Returns the lower bound (the smallest bound of an open node, or the best objective) and the
    better open set found, if any.
    """
    n = wc.shape[0]
    # a solution is better than the incumbent when it costs at most ub - 1 (integer costs), else < ub
    slack = 1.0 - 1e-6 if integral else -1e-9 * max(1.0, abs(ub))
    rho = dual.rho
    srt = np.sort(rho)
    root = float(dual.lam.sum() + srt[:p].sum())
    if root >= ub - slack:
        return ub, None
    forced = np.where(rho <= srt[p - 1], root, root - srt[p - 1] + rho)  # the bound with j forced open
    cand = np.flatnonzero(forced < ub - slack)
    if len(cand) < p:
        return ub, None
    sub = np.ascontiguousarray(wc[:, cand])
    k = len(cand)
    table = SortedCosts(sub)
    inc, inc_set = ub, None
    none = np.zeros(k, bool)
    heap: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray]] = [(root, 0, none, none, dual.lam)]
    count, spent = 1, 0.0
    while heap and spent < work:
        bound, _, fin, fout, lam = heapq.heappop(heap)
        if bound >= inc - slack:
            continue
        d = lagrangian_bound(sub, p, inc, lam, table=table, fixed=(fin, fout),
                             steps=Steps(max_iters=BB_ITERS, theta0=BB_THETA0, stall_limit=BB_STALL, stop_at=inc - slack))
        spent += max(d.iters, 1) * n * k
        if d.bound >= inc - slack or not len(d.sel):
            continue
        obj = float(sub[:, d.sel].min(axis=1).sum())
        if obj < inc:
            inc, inc_set = obj, cand[d.sel]
            if d.bound >= inc - slack:
                continue
        # reduction: free facilities that cannot be out of (or in) a better solution below this node
        chosen = np.zeros(k, bool)
        chosen[d.sel] = True
        free = ~(fin | fout)
        in_free, out_free = np.flatnonzero(free & chosen), np.flatnonzero(free & ~chosen)
        if len(in_free) and len(out_free):
            last_in = float(d.rho[in_free].max())
            first_out = float(d.rho[out_free].min())
            fout = fout | (free & ~chosen & (d.bound - last_in + d.rho >= inc - slack))
            fin = fin | (free & chosen & (d.bound - d.rho + first_out >= inc - slack))
        in_free = np.flatnonzero(~(fin | fout) & chosen)
        out_free = np.flatnonzero(~(fin | fout) & ~chosen)
        if not len(in_free) or not len(out_free):
            continue  # the subproblem's choice is forced: its set was evaluated above
        first_out = float(d.rho[out_free].min())
        j = int(in_free[np.argmax(first_out - d.rho[in_free])])
        with_j, without_j = fin.copy(), fout.copy()
        with_j[j], without_j[j] = True, True
        heapq.heappush(heap, (d.bound, count, with_j, fout, d.lam))
        heapq.heappush(heap, (d.bound, count + 1, fin, without_j, d.lam))
        count += 2
    return min([inc] + [h[0] for h in heap]), inc_set


def proven(lb: float, *, integral: bool) -> float:
    """The bound, rounded up when every cost is an integer (the optimum is one then)."""
    if integral and math.isfinite(lb):
        return float(math.ceil(lb - 1e-6 * max(1.0, abs(lb))))
    return lb
