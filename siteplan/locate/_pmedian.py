"""The p-median heuristic and its Lagrangian bound, behind :func:`siteplan.locate.facility.p_median`.

- :class:`_Swaps`: Whitaker's fast interchange with Resende & Werneck's bookkeeping — for the current
  open set, each customer's nearest and second-nearest open facility, and the ``gain`` of opening each
  candidate, the ``loss`` of closing each open facility and the ``extra`` correction of each
  (close, open) pair, so that the best swap is one ``argmax`` over p × m profits; after a swap only
  the customers whose nearest or second-nearest facility changed are updated, and only over their
  candidates cheaper than the second-nearest (a prefix of each customer's sorted costs).
- :func:`lagrangian_bound`: the Lagrangian bound (assignment constraints relaxed) by subgradient
  optimisation; it converges to the LP bound.
- :func:`branch_and_bound`: where the LP bound leaves a gap (small p), a Lagrangian branch and bound
  over the facilities, after reduction tests, within a fixed amount of work: it proves the answer
  optimal or raises the bound past the LP's.
- :func:`solve`: greedy start and local search, the bound, then — while the gap is open — randomized
  multistart with path relinking (Resende & Werneck 2004) and the branch and bound; a fixed seed, a
  fixed number of iterations and a fixed amount of work, so the answer is deterministic.

All costs are the weighted costs ``w_i c_ij`` (n customers × m candidates).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# a swap is taken when it saves more than IMPROVE_RTOL × the objective (float noise below)
IMPROVE_RTOL = 1e-12
# multistart: elite pool size and iterations (each: a randomized greedy start, local search and a
# path relinking with an elite solution)
ELITE = 10
MULTISTART_ITERS = 32
# ... fewer on very large instances: at most MULTISTART_WORK / (n m) iterations, at least MIN_ITERS
MULTISTART_WORK = 3e7
MIN_ITERS = 4
# subgradient: start step factor, halved after STALL iterations without a better bound; stop when it
# falls below MIN_THETA or after MAX_ITERS iterations
THETA0 = 2.0
STALL = 40
MIN_THETA = 1e-4
MAX_ITERS = 3000
# ... and at most LAG_WORK / (n m) iterations on very large instances (at least MIN_LAG_ITERS)
LAG_WORK = 1.5e9
MIN_LAG_ITERS = 300
# the local search also starts from the last RECENT_SETS distinct facility sets of the Lagrangian
# subproblem (at its new best bounds): near the dual optimum they are often near the optimum
RECENT_SETS = 6
# after the multistart found a better upper bound: the bound is polished from its multipliers with
# smaller steps
POLISH_THETA0 = 0.5
# branch and bound (small p, when the Lagrangian bound leaves a gap): subgradient iterations per node,
# its start step and stall, and the work budget (iterations × customers × candidates; deterministic)
BB_ITERS = 60
BB_THETA0 = 0.5
BB_STALL = 10
BB_WORK = 8e8
# the step aims at the upper bound raised by this share (the bound must be allowed to pass the optimum
# reached by the heuristic when that is not yet optimal)
TARGET_SLACK = 1e-3


@dataclass
class Answer:
    """An open set, its objective and how it was proved."""

    open: np.ndarray
    objective: float
    lower_bound: float
    iterations: int


class _Swaps:
    """Open set with nearest/second-nearest bookkeeping and swap profits (see the module)."""

    def __init__(self, wc: np.ndarray, open_: np.ndarray, table: _Sorted | None = None) -> None:
        self.wc = wc
        self.table = table if table is not None else _Sorted(wc)
        n, m = wc.shape
        self.n, self.m = n, m
        self.fac = np.array(sorted(int(j) for j in open_), dtype=np.int64)  # slot -> facility
        self.p = len(self.fac)
        self.slot = np.full(m, -1, np.int64)
        self.slot[self.fac] = np.arange(self.p)
        self.d1 = np.zeros(n)
        self.d2 = np.zeros(n)
        self.s1 = np.zeros(n, np.int64)  # slot of the nearest
        self.s2 = np.zeros(n, np.int64)
        self.gain = np.zeros(m)
        self.loss = np.zeros(self.p)
        self.extra = np.zeros((self.p, m))
        every = np.arange(n)
        self._nearest(every)
        self._add(every, 1.0)

    @property
    def objective(self) -> float:
        return float(self.d1.sum())

    def _nearest(self, u: np.ndarray) -> None:
        """Nearest and second-nearest open facility (as slots) of customers ``u``."""
        sub = self.wc[np.ix_(u, self.fac)]
        if self.p == 1:
            self.s1[u], self.d1[u] = 0, sub[:, 0]
            self.s2[u], self.d2[u] = 0, sub[:, 0]
            return
        two = np.argpartition(sub, 1, axis=1)[:, :2]
        a, b = two[:, 0], two[:, 1]
        rows = np.arange(len(u))
        va, vb = sub[rows, a], sub[rows, b]
        swap = (vb < va) | ((vb == va) & (b < a))
        first, second = np.where(swap, b, a), np.where(swap, a, b)
        self.s1[u], self.d1[u] = first, sub[rows, first]
        self.s2[u], self.d2[u] = second, sub[rows, second]

    def _add(self, u: np.ndarray, sign: float) -> None:
        """Add (sign 1) or remove (sign -1) customers ``u``'s share of gain, loss and extra; only their
        candidates cheaper than their second-nearest facility count (a prefix of each sorted row)."""
        if not len(u):
            return
        d1u, d2u, s1u = self.d1[u], self.d2[u], self.s1[u]
        r, cols, vals = self.table.below(d2u, u)
        d1r = d1u[r]
        g = d1r - vals
        pos = g > 0
        self.gain += sign * np.bincount(cols[pos], weights=g[pos], minlength=self.m)
        self.loss += sign * np.bincount(s1u, weights=d2u - d1u, minlength=self.p)
        ex = d2u[r] - np.maximum(vals, d1r)
        self.extra += (sign * np.bincount(s1u[r] * self.m + cols, weights=ex, minlength=self.p * self.m)
                       ).reshape(self.p, self.m)

    def profits(self) -> np.ndarray:
        """Saving of every swap (slot out × candidate in); -inf for candidates already open."""
        prof = self.gain[None, :] - self.loss[:, None] + self.extra
        prof[:, self.fac] = -np.inf
        return prof

    def swap(self, out_slot: int, into: int) -> None:
        """Close the facility in ``out_slot`` and open ``into`` there."""
        wc = self.wc
        out = int(self.fac[out_slot])
        hit = (self.s1 == out_slot) | (self.s2 == out_slot) | (wc[:, into] < self.d2)
        u = np.flatnonzero(hit)
        self._add(u, -1.0)
        self.extra[out_slot] = 0.0  # every customer it served was removed: clear the float residue
        self.loss[out_slot] = 0.0
        self.slot[out], self.slot[into] = -1, out_slot
        self.fac[out_slot] = into
        self._nearest(u)
        self._add(u, 1.0)

    def refresh(self) -> None:
        """Recompute everything from scratch (drops accumulated float error)."""
        self.gain[:] = 0.0
        self.loss[:] = 0.0
        self.extra[:] = 0.0
        every = np.arange(self.n)
        self._nearest(every)
        self._add(every, 1.0)

    def local_search(self) -> int:
        """Best-improvement swaps until none saves; returns the number of swaps."""
        moves = 0
        checked = False
        while True:
            prof = self.profits()
            k = int(np.argmax(prof))
            best = prof.flat[k]
            if not best > IMPROVE_RTOL * max(abs(self.objective), 1.0):
                if checked:
                    return moves
                self.refresh()  # confirm on exact numbers before stopping
                checked = True
                continue
            checked = False
            self.swap(k // self.m, k % self.m)
            moves += 1

    def relink(self, target: np.ndarray) -> tuple[np.ndarray, float]:
        """Path relinking towards ``target`` (an open set): at each step the best swap bringing in a
        facility of the target for one not in it; returns the best open set met on the way (not the
        two ends) and its objective."""
        in_target = np.zeros(self.m, bool)
        in_target[target] = True
        best_set, best_obj = None, math.inf
        while True:
            missing = np.flatnonzero(in_target & (self.slot < 0))
            if len(missing) <= 1:
                break
            leaving = np.flatnonzero(~in_target[self.fac])
            prof = (self.gain[None, missing] - self.loss[leaving, None] + self.extra[np.ix_(leaving, missing)])
            k = int(np.argmax(prof))
            self.swap(int(leaving[k // len(missing)]), int(missing[k % len(missing)]))
            obj = self.objective
            if obj < best_obj - IMPROVE_RTOL * max(abs(obj), 1.0):
                best_set, best_obj = self.fac.copy(), obj
        return (best_set if best_set is not None else self.fac.copy()), best_obj


def greedy(wc: np.ndarray, p: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Greedy addition; with ``rng``, each step picks the best of a random sample of about
    log2(m / p) + 1 candidates (Resende & Werneck's sample greedy)."""
    n, m = wc.shape
    best = np.full(n, np.inf)
    chosen: list[int] = []
    free = np.ones(m, bool)
    size = max(1, math.ceil(math.log2(max(m / p, 1.0)))) + 1
    for _ in range(p):
        cand = np.flatnonzero(free)
        if rng is not None and len(cand) > size:
            cand = np.sort(rng.choice(cand, size, replace=False))
        tot = np.minimum(best[:, None], wc[:, cand]).sum(axis=0)
        j = int(cand[int(np.argmin(tot))])
        chosen.append(j)
        free[j] = False
        best = np.minimum(best, wc[:, j])
    return np.array(chosen, dtype=np.int64)


class _Sorted:
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
class _Dual:
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


def lagrangian_bound(wc: np.ndarray, p: int, ub: float, lam0: np.ndarray, *, table: _Sorted | None = None,
                     steps: Steps | None = None, fixed: tuple[np.ndarray, np.ndarray] | None = None) -> _Dual:
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
    tab = table if table is not None else _Sorted(wc)
    lam = lam0.astype(float).copy()
    fin = np.zeros(m, bool) if fixed_in is None else fixed_in
    fout = np.zeros(m, bool) if fixed_out is None else fixed_out
    if int(fin.sum()) > p or m - int(fout.sum()) < p:
        return _Dual(math.inf, lam, np.zeros(0, np.int64), np.zeros(m), 0)
    best = _Dual(-math.inf, lam.copy(), np.arange(p), np.zeros(m), 0)
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
            best = _Dual(val, lam.copy(), np.sort(sel), rho, 0, recent)
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


def branch_and_bound(wc: np.ndarray, p: int, ub: float, dual: _Dual, *, integral: bool, work: float
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
    table = _Sorted(sub)
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


def _trivial(wc: np.ndarray, p: int) -> Answer | None:
    """The answer when every candidate opens (p ≥ m) or one does (p = 1, a column sum); else None."""
    m = wc.shape[1]
    if p >= m:
        obj = float(wc.min(axis=1).sum())
        return Answer(np.arange(m), obj, obj, 0)
    if p == 1:
        col = wc.sum(axis=0)
        j = int(np.argmin(col))
        return Answer(np.array([j]), float(col[j]), float(col[j]), 0)
    return None


@dataclass
class _Incumbent:
    """The best open set found so far and its objective."""

    open: np.ndarray
    objective: float

    def offer(self, sw: _Swaps) -> None:
        """Keep the set of a local search when it is better."""
        if sw.objective < self.objective:
            self.open, self.objective = sw.fac.copy(), sw.objective


def _multistart(wc: np.ndarray, p: int, table: _Sorted, best: _Incumbent, *, seed: int, iterations: int,
                closed: Callable[[float], bool]) -> int:
    """Greedy random starts, each improved by local search and relinked towards an elite set, until
    the gap closes or ``iterations`` run out (``best`` updated); the iterations run."""
    elite: list[tuple[float, np.ndarray]] = [(best.objective, np.sort(best.open))]
    rng = np.random.default_rng(seed)
    it = 0
    while it < iterations and not closed(best.objective):
        it += 1
        sw = _Swaps(wc, greedy(wc, p, rng), table)
        sw.local_search()
        cand = [(sw.objective, np.sort(sw.fac))]
        target = elite[int(rng.integers(len(elite)))][1]
        mid, mid_obj = sw.relink(target)
        if math.isfinite(mid_obj):
            sw_mid = _Swaps(wc, mid, table)
            sw_mid.local_search()
            cand.append((sw_mid.objective, np.sort(sw_mid.fac)))
        for obj, s in cand:
            if obj < best.objective:
                best.objective, best.open = obj, s
            if not any(np.array_equal(s, e) for _, e in elite):
                elite.append((obj, s))
        elite.sort(key=lambda t: t[0])
        del elite[ELITE:]
    return it


def solve(wc: np.ndarray, p: int, *, seed: int = 0, iterations: int = MULTISTART_ITERS,
          work: float = BB_WORK) -> Answer:
    """Greedy + fast interchange, Lagrangian bound, then — while the gap is open — multistart with path
    relinking and a Lagrangian branch and bound of at most ``work`` (see the module)."""
    n, m = wc.shape
    if (easy := _trivial(wc, p)) is not None:
        return easy
    integral = bool(np.all(wc == np.round(wc)))
    iterations = min(iterations, max(MIN_ITERS, int(MULTISTART_WORK // max(n * m, 1))))
    tol = 1e-9
    table = _Sorted(wc)
    sw = _Swaps(wc, greedy(wc, p), table)
    sw.local_search()
    best = _Incumbent(sw.fac.copy(), sw.objective)
    first_ub = best.objective
    lag_iters = min(MAX_ITERS, max(MIN_LAG_ITERS, int(LAG_WORK // max(n * m, 1))))
    dual = lagrangian_bound(wc, p, best.objective, sw.d1.copy(), table=table, steps=Steps(max_iters=lag_iters))
    lb = proven(dual.bound, integral=integral)

    def closed(obj: float) -> bool:
        return obj - lb <= tol * max(abs(obj), 1.0)

    # the Lagrangian subproblem's facilities are often (nearly) the optimum: improve them
    for start in (dual.recent[::-1] if not closed(best.objective) else []):
        sw2 = _Swaps(wc, start, table)
        sw2.local_search()
        best.offer(sw2)
    it = _multistart(wc, p, table, best, seed=seed, iterations=iterations, closed=closed)
    if not closed(best.objective) and best.objective < first_ub:  # a better upper bound steers the subgradient better
        polished = lagrangian_bound(wc, p, best.objective, dual.lam, table=table,
                                    steps=Steps(max_iters=lag_iters // 4, theta0=POLISH_THETA0))
        if polished.bound > dual.bound:
            dual = polished
        lb = max(lb, proven(dual.bound, integral=integral))
    if not closed(best.objective) and work > 0:
        lb_bb, better = branch_and_bound(wc, p, best.objective, dual, integral=integral, work=work)
        if better is not None:
            best.open, best.objective = np.sort(better), float(wc[:, better].min(axis=1).sum())
        lb = max(lb, proven(lb_bb, integral=integral))
    return Answer(np.sort(best.open), best.objective, min(lb, best.objective), it)
