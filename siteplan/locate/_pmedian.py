"""The p-median heuristic and its Lagrangian bound, behind :func:`siteplan.locate.facility.p_median`.

- :class:`_Swaps`: Whitaker's fast interchange with Resende & Werneck's bookkeeping — for the current
  open set, each customer's nearest and second-nearest open facility, and the ``gain`` of opening each
  candidate, the ``loss`` of closing each open facility and the ``extra`` correction of each
  (close, open) pair, so that the best swap is one ``argmax`` over p × m profits; after a swap only
  the customers whose nearest or second-nearest facility changed are updated, and only over their
  candidates cheaper than the second-nearest (a prefix of each customer's sorted costs).
- :func:`~siteplan.locate._lagrange.lagrangian_bound`: the Lagrangian bound (assignment constraints relaxed) by subgradient
  optimisation; it converges to the LP bound.
- :func:`~siteplan.locate._lagrange.branch_and_bound`: where the LP bound leaves a gap (small p), a Lagrangian branch and bound
  over the facilities, after reduction tests, within a fixed amount of work: it proves the answer
  optimal or raises the bound past the LP's.
- :func:`solve`: greedy start and local search, the bound, then — while the gap is open — randomized
  multistart with path relinking (Resende & Werneck 2004) and the branch and bound; a fixed seed, a
  fixed number of iterations and a fixed amount of work, so the answer is deterministic.

All costs are the weighted costs ``w_i c_ij`` (n customers × m candidates).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._lagrange import MAX_ITERS, SortedCosts, Steps, branch_and_bound, lagrangian_bound, proven

# a swap is taken when it saves more than IMPROVE_RTOL × the objective (float noise below)
IMPROVE_RTOL = 1e-12
# multistart: elite pool size and iterations (each: a randomized greedy start, local search and a
# path relinking with an elite solution)
ELITE = 10
MULTISTART_ITERS = 32
# ... fewer on very large instances: at most MULTISTART_WORK / (n m) iterations, at least MIN_ITERS
MULTISTART_WORK = 3e7
MIN_ITERS = 4
# the subgradient's iterations: at most MAX_ITERS, and LAG_WORK / (n m) on very large instances (at least
# MIN_LAG_ITERS)
LAG_WORK = 1.5e9
MIN_LAG_ITERS = 300
# after the multistart found a better upper bound: the bound is polished from its multipliers with
# smaller steps
POLISH_THETA0 = 0.5
# the branch and bound's work budget (iterations × customers × candidates; deterministic)
BB_WORK = 8e8


@dataclass
class Answer:
    """An open set, its objective and how it was proved."""

    open: np.ndarray
    objective: float
    lower_bound: float
    iterations: int


class _Swaps:
    """Open set with nearest/second-nearest bookkeeping and swap profits (see the module)."""

    def __init__(self, wc: np.ndarray, open_: np.ndarray, table: SortedCosts | None = None) -> None:
        self.wc = wc
        self.table = table if table is not None else SortedCosts(wc)
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


def _multistart(wc: np.ndarray, p: int, table: SortedCosts, best: _Incumbent, *, seed: int, iterations: int,
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
    table = SortedCosts(wc)
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
