"""Local search for the relocation assignment: shifts and ejection chains.

Works on an integer assignment (``arc_of[u]``: the arc unit u takes, -1: out) and the room left in
each capacity row, both updated in place; see :func:`local_search`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TypedDict, Unpack

import numpy as np
from scipy import sparse

from .model import AssignmentModel, arc_land
from .moves import BULK, GAIN_EPS, Candidates, candidates

__all__ = ["SearchOptions", "local_search"]

log = logging.getLogger(__name__)

# defaults of :func:`local_search`:
# the most members that may leave an estate together to let one unit in (a bulk ejection)
MAX_GROUP = 12
# stop when a pass saves less than MIN_PASS_GAIN × the objective (relative)
MIN_PASS_GAIN = 2e-5
# moves saving less than MIN_MOVE × the objective are not tried (relative)
MIN_MOVE = 1e-7
# candidates tried per pass, best first
MAX_TRIES = 40_000
# m²: an arc fits when each of its rows keeps at least −FIT_SLACK_M2 of room
FIT_SLACK_M2 = 1e-7


class SearchOptions(TypedDict, total=False):
    """The keyword options of :func:`local_search` (each optional; defaults in brackets).

    ``max_passes`` [5] passes of at most ``max_tries`` [:data:`MAX_TRIES`] candidates each;
    ``time_budget`` [inf] seconds of wall clock, a safety net; ``max_group`` [:data:`MAX_GROUP`]
    members leaving together in a bulk ejection; ``min_gain`` [:data:`MIN_PASS_GAIN`] the relative
    saving below which a pass is the last; ``min_move`` [:data:`MIN_MOVE`] the relative saving below
    which a move is not tried.
    """

    max_passes: int
    time_budget: float
    max_group: int
    min_gain: float
    min_move: float
    max_tries: int


def local_search(model: AssignmentModel, arc_of: np.ndarray, row_left: np.ndarray, a_csc: sparse.csc_matrix,
                 order_arcs: np.ndarray, starts: np.ndarray, **options: Unpack[SearchOptions]) -> tuple[int, int, float]:
    """Improve an integer assignment by shifts and ejection chains until none pays.

    A *shift* moves a unit (or places one that is out) on an arc with room. An *ejection* moves unit
    u to estate e where it does not fit by making room: a member v of e whose land covers the deficit
    leaves — to its cheapest arc with room (u's old estate included), out, or, one level deeper, to
    an estate f where it in turn displaces a member w, which takes its cheapest arc with room or goes
    out. Candidates are generated vectorized for every arc at once (each estate's members sorted by
    land, with running minima of their cost to leave), then applied best first, each checked exactly
    against the current state (every capacity row) and kept only if it lowers the objective.

    ``arc_of`` and ``row_left`` (room left in each of the ``model``'s capacity rows) are updated in
    place; ``a_csc`` holds the capacity rows by arc; ``order_arcs``/``starts`` group the arcs by unit,
    cheapest first (unit u's arcs are ``order_arcs[starts[u]:starts[u + 1]]``).

    The work is bounded by ``max_passes`` passes of at most ``max_tries`` candidates each, so the
    answer depends on the inputs only. ``time_budget`` (seconds) is a wall-clock safety net: if the
    clock runs past it first, :class:`~siteplan.errors.SafetyNetError` is raised (stopping there would
    make the answer depend on the machine's load).

    The options (:class:`SearchOptions`) are keyword-only.

    Returns (passes, moves, total saving).
    """
    limits = _Limits(**options)
    return _Search(model, arc_of, row_left, a_csc, order_arcs, starts).run(limits)


@dataclass(frozen=True)
class _Limits:
    """The bounds of one local search (see :class:`SearchOptions`)."""

    max_passes: int = 5
    time_budget: float = float("inf")
    max_group: int = MAX_GROUP
    min_gain: float = MIN_PASS_GAIN
    min_move: float = MIN_MOVE
    max_tries: int = MAX_TRIES


class _Search:
    """One local search's state and moves.

    The assignment (``arc_of``) and the room left in each row; while applying moves the room is a
    Python list (``room``) and each arc's rows a cached tuple of ``(row, land)`` (Python scalars are
    much faster than numpy ones one at a time); ``journal`` logs the tentative changes of the move
    being tried, so that it can be undone.
    """

    def __init__(self, model: AssignmentModel, arc_of: np.ndarray, row_left: np.ndarray, a_csc: sparse.csc_matrix,
                 order_arcs: np.ndarray, starts: np.ndarray) -> None:
        self.arc_of, self.row_left = arc_of, row_left
        self.arc_u, self.arc_e, self.arc_cost, self.penalty = model.arc_u, model.arc_e, model.cost, model.penalty
        arc_e = self.arc_e
        self.a_csc, self.order_arcs, self.starts = a_csc, order_arcs, starts
        self.land = arc_land(a_csc)
        self.n_estates = int(arc_e.max(initial=-1)) + 1
        self.land_span = float(self.land.max(initial=0.0)) + 1.0
        self.room: list[float] = []
        self.journal: list[tuple[int, float]] = []
        self._cols: dict[int, tuple[tuple[int, float], ...]] = {}

    # --- one move at a time, on Python scalars --------------------------------------------------

    def col(self, a: int) -> tuple[tuple[int, float], ...]:
        """Arc a's rows and its land in each."""
        c = self._cols.get(a)
        if c is None:
            ip = self.a_csc.indptr
            lo, hi = ip[a], ip[a + 1]
            c = self._cols[a] = tuple(zip(self.a_csc.indices[lo:hi].tolist(), self.a_csc.data[lo:hi].tolist()))
        return c

    def fits(self, a: int) -> bool:
        """Whether arc a fits in the room left now (each of its rows keeps at least −FIT_SLACK_M2)."""
        c = self._cols.get(a) or self.col(a)
        room = self.room
        for r, v in c:  # the innermost loop of the search: a plain loop is faster than all() over a generator
            if room[r] - v < -FIT_SLACK_M2:
                break
        else:
            return True
        return False

    def do(self, a: int, sign: float) -> None:
        """Add (sign 1) or remove (sign -1) arc a's land in its rows, logged."""
        c = self._cols.get(a) or self.col(a)
        room = self.room
        for r, v in c:
            room[r] -= sign * v
        self.journal.append((a, sign))

    def undo_to(self, n: int) -> None:
        """Undo the logged changes after the first n."""
        journal, room, cols = self.journal, self.room, self._cols
        while len(journal) > n:
            a, sign = journal.pop()
            for r, v in cols[a]:
                room[r] += sign * v

    def cost_of(self, x: int) -> float:
        a = self.arc_of[x]
        return float(self.arc_cost[a]) if a >= 0 else float(self.penalty[x])

    def best_option(self, v: int, skip_e: int) -> tuple[int, float]:
        """V's cheapest arc with room now (not at skip_e), or out (-1)."""
        arc_cost, arc_e, pv = self.arc_cost, self.arc_e, self.penalty[v]
        fits = self.fits
        for a in self.order_arcs[self.starts[v]:self.starts[v + 1]]:
            if arc_cost[a] >= pv:
                break
            if arc_e[a] != skip_e and fits(int(a)):
                return int(a), float(arc_cost[a])
        return -1, float(pv)

    def lift(self, u: int, e2: int) -> float | None:
        """Start a move: take u off its arc (logged); its current cost, or None if it is at e2."""
        self.journal.clear()
        old_u = int(self.arc_of[u])
        if old_u >= 0:
            if self.arc_e[old_u] == e2:
                return None
            self.do(old_u, -1.0)
        return self.cost_of(u)

    def _shift(self, u: int, b: int, cu: float) -> float:
        """Finish a plain shift of u (lifted, costing ``cu``) to arc b: the saving, or 0 undone."""
        if self.fits(b) and self.arc_cost[b] < cu - GAIN_EPS:
            self.do(b, 1.0)
            self.arc_of[u] = b
            return cu - float(self.arc_cost[b])
        self.undo_to(0)
        return 0.0

    def _deeper(self, u: int, b: int, v: int, va: int, w: int, base: float) -> float:
        """With u on b and v lifted (saving ``base`` so far): v to va, displacing w to its best option.
        The saving, or 0 with the changes since the call undone."""
        arc_of, arc_e, arc_cost = self.arc_of, self.arc_e, self.arc_cost
        mark = len(self.journal)
        old_w = int(arc_of[w])
        self.do(old_w, -1.0)
        if self.fits(va):
            self.do(va, 1.0)
            nw, cw = self.best_option(w, int(arc_e[va]))
            if nw >= 0:
                self.do(nw, 1.0)
            gain = base - float(arc_cost[va]) + float(arc_cost[old_w]) - cw
            if gain > GAIN_EPS:
                arc_of[u], arc_of[v], arc_of[w] = b, va, nw
                return gain
        self.undo_to(mark)
        return 0.0

    def _can_go_deeper(self, u: int, v: int, va: int, w: int, e2: int) -> bool:
        """The deeper plan (v to va, displacing w) still refers to the current assignment."""
        arc_of, arc_e = self.arc_of, self.arc_e
        return bool(va >= 0 and w >= 0 and w not in (u, v) and arc_of[w] >= 0 and arc_e[arc_of[w]] == arc_e[va]
                    and arc_e[va] != e2)

    def try_move(self, u: int, b: int, v: int, va: int, w: int) -> float:
        """Apply u→b (evicting v, which goes to va evicting w, or to its best option); the saving, or
        0 with the state unchanged."""
        e2 = int(self.arc_e[b])
        cu = self.lift(u, e2)
        if cu is None:
            return 0.0
        if v < 0:
            return self._shift(u, b, cu)
        return self._eject(u, b, v, (va, w), cu)

    def _eject(self, u: int, b: int, v: int, deeper: tuple[int, int], cu: float) -> float:
        """Finish u→b (u lifted, costing ``cu``) by evicting v, which goes to ``deeper`` (its planned arc
        and the member it displaces there) or to its best option; the saving, or 0 with all undone."""
        arc_of, arc_e, arc_cost = self.arc_of, self.arc_e, self.arc_cost
        do, undo_to = self.do, self.undo_to
        va, w = deeper
        e2 = int(arc_e[b])
        old_v = int(arc_of[v])
        if old_v < 0 or arc_e[old_v] != e2 or v == u:
            undo_to(0)
            return 0.0
        do(old_v, -1.0)
        if not self.fits(b):
            undo_to(0)
            return 0.0
        do(b, 1.0)
        base = cu - float(arc_cost[b]) + float(arc_cost[old_v])
        if self._can_go_deeper(u, v, va, w, e2):
            gain = self._deeper(u, b, v, va, w, base)
            if gain:
                return gain
        nv, cv = self.best_option(v, e2)
        gain = base - cv
        if gain > GAIN_EPS:
            if nv >= 0:
                do(nv, 1.0)
            arc_of[u], arc_of[v] = b, nv
            return gain
        undo_to(0)
        return 0.0

    def try_bulk(self, u: int, b: int, group: np.ndarray) -> float:
        """Apply u→b after the members ``group`` of b's estate leave, each to its best option."""
        arc_of, arc_e, arc_cost = self.arc_of, self.arc_e, self.arc_cost
        fits, do, undo_to = self.fits, self.do, self.undo_to
        e2 = int(arc_e[b])
        cu = self.lift(u, e2)
        if cu is None:
            return 0.0
        gain = cu - float(arc_cost[b])
        olds = []
        for v in group.tolist():
            ov = int(arc_of[v])
            if v == u or ov < 0 or arc_e[ov] != e2:
                undo_to(0)
                return 0.0
            do(ov, -1.0)
            olds.append(ov)
            gain += float(arc_cost[ov])
            if fits(b):
                break
        if not fits(b):
            undo_to(0)
            return 0.0
        do(b, 1.0)
        moved = group[:len(olds)].tolist()
        news = []
        for v in moved:
            nv, cv = self.best_option(v, e2)
            if nv >= 0:
                do(nv, 1.0)
            news.append(nv)
            gain -= cv
        if gain > GAIN_EPS:
            arc_of[u] = b
            for v, nv in zip(moved, news):
                arc_of[v] = nv
            return gain
        undo_to(0)
        return 0.0

    # --- passes --------------------------------------------------------------------------------

    def run(self, lim: _Limits) -> tuple[int, int, float]:
        """Passes of candidate generation and best-first application until one saves too little."""
        deadline = time.perf_counter() + lim.time_budget
        passes = moves = 0
        saving = 0.0
        while passes < lim.max_passes:
            self.check_clock(deadline, lim)
            passes += 1
            t_pass = time.perf_counter()
            arc_of = self.arc_of
            current = np.where(arc_of >= 0, self.arc_cost[np.maximum(arc_of, 0)], self.penalty)
            tiny = max(GAIN_EPS, lim.min_move * abs(float(current.sum())))  # moves worth less are not tried
            cands = candidates(self, current, tiny, lim.max_group)
            if not len(cands.gains):
                break
            log.debug("local search pass %d: candidates in %.2f s", passes, time.perf_counter() - t_pass)
            pass_saving, pass_moves = self.apply(cands, deadline, lim)
            moves += pass_moves
            saving += pass_saving
            log.debug("local search pass %d: %d candidates, saving %.6g, %.2f s", passes, len(cands.gains),
                      pass_saving, time.perf_counter() - t_pass)
            if pass_saving <= lim.min_gain * max(1.0, abs(float(current.sum()))):
                break
        return passes, moves, saving

    @staticmethod
    def check_clock(deadline: float, lim: _Limits) -> None:
        """Raise :class:`~siteplan.errors.SafetyNetError` when the wall clock has run past ``deadline``."""
        if time.perf_counter() > deadline:
            from .milp import safety_net_error

            raise safety_net_error("relocation: the local search", lim.time_budget,
                                   f"{lim.max_passes} passes (allocation.search_passes) of at most {lim.max_tries} "
                                   "candidate moves")

    def apply(self, cands: Candidates, deadline: float, lim: _Limits) -> tuple[float, int]:
        """Try the candidates best first, each against the current state; returns (saving, moves).
        The wall clock past ``deadline`` raises :class:`~siteplan.errors.SafetyNetError`."""
        arc_u, arc_e = self.arc_u, self.arc_e
        try_move, try_bulk = self.try_move, self.try_bulk
        arcs, evictee, bulk_end = cands.arcs, cands.evictee, cands.bulk_end
        deep_arc, deep_evictee, bulk_members, seg = cands.deep_arc, cands.deep_evictee, cands.bulk_members, cands.seg
        order = np.argsort(-cands.gains, kind="stable")[:lim.max_tries]
        touched = np.zeros(len(self.arc_of), bool)
        pass_saving = 0.0
        moves = 0
        self.room[:] = self.row_left.tolist()
        for k in order.tolist():
            b = int(arcs[k])
            u = int(arc_u[b])
            v = int(evictee[k])
            if touched[u] or (v >= 0 and touched[v]):
                continue
            if v == BULK:
                e2 = int(arc_e[b])
                group = bulk_members[seg[e2]:int(bulk_end[k]) + 1]
                if touched[group].any():
                    continue
                g = try_bulk(u, b, group)
                if g > 0:
                    touched[u] = True
                    touched[group] = True
                    pass_saving += g
                    moves += 1
                continue
            va = int(deep_arc[v]) if v >= 0 else -1
            w = int(deep_evictee[v]) if v >= 0 else -1
            if w >= 0 and touched[w]:
                va = w = -1
            g = try_move(u, b, v, va, w)
            if g > 0:
                touched[u] = True
                if v >= 0:
                    touched[v] = True
                if w >= 0:
                    touched[w] = True
                pass_saving += g
                moves += 1
            self.check_clock(deadline, lim)
        self.row_left[:] = self.room
        return pass_saving, moves
