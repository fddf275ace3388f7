"""Local search for the relocation assignment: shifts and ejection chains.

Works on an integer assignment (``arc_of[u]``: the arc unit u takes, -1: out) and the room left in
each capacity row, both updated in place; see :func:`local_search`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["arc_land", "local_search", "min_by_unit"]

log = logging.getLogger(__name__)


def _fit(a_csc: sparse.csc_matrix, row_left: np.ndarray) -> np.ndarray:
    """For every arc, the least room its rows would have left if it were added (≥ 0: it fits)."""
    na = a_csc.shape[1]
    out = np.full(na, np.inf)
    if a_csc.nnz == 0:
        return out
    vals = row_left[a_csc.indices] - a_csc.data
    nz = np.flatnonzero(np.diff(a_csc.indptr) > 0)
    out[nz] = np.minimum.reduceat(vals, a_csc.indptr[nz])
    return out


def local_search(arc_of: np.ndarray, row_left: np.ndarray, arc_u: np.ndarray, arc_e: np.ndarray,
                  arc_cost: np.ndarray, penalty: np.ndarray, a_csc: sparse.csc_matrix, order_arcs: np.ndarray,
                  starts: np.ndarray, *, max_passes: int = 5, time_budget: float = float("inf"),
                  max_group: int = 12, min_gain: float = 2e-5, min_move: float = 1e-7,
                  max_tries: int = 40_000) -> tuple[int, int, float]:
    """Improve an integer assignment by shifts and ejection chains until none pays.

    A *shift* moves a unit (or places one that is out) on an arc with room. An *ejection* moves unit
    u to estate e where it does not fit by making room: a member v of e whose land covers the deficit
    leaves — to its cheapest arc with room (u's old estate included), out, or, one level deeper, to
    an estate f where it in turn displaces a member w, which takes its cheapest arc with room or goes
    out. Candidates are generated vectorized for every arc at once (each estate's members sorted by
    land, with running minima of their cost to leave), then applied best first, each checked exactly
    against the current state (every capacity row) and kept only if it lowers the objective.

    Returns (passes, moves, total saving).
    """
    n_units, na = len(arc_of), len(arc_u)
    ip, ix, dv = a_csc.indptr, a_csc.indices, a_csc.data
    land = arc_land(a_csc)
    ne = int(arc_e.max(initial=-1)) + 1
    lmax = float(land.max(initial=0.0)) + 1.0
    deadline = time.perf_counter() + time_budget
    passes = moves = 0
    saving = 0.0
    eps = 1e-9
    log_ops: list[tuple[int, float]] = []

    # the apply loop works on Python scalars: each arc's rows as a cached tuple, rows' room as a list
    cols: dict[int, tuple[tuple[int, float], ...]] = {}
    rl: list[float] = []

    def col(a: int) -> tuple[tuple[int, float], ...]:
        c = cols.get(a)
        if c is None:
            lo, hi = ip[a], ip[a + 1]
            c = cols[a] = tuple(zip(ix[lo:hi].tolist(), dv[lo:hi].tolist()))
        return c

    def fits(a: int) -> bool:
        for r, v in col(a):
            if rl[r] - v < -1e-7:
                return False
        return True

    def do(a: int, sign: float) -> None:
        for r, v in col(a):
            rl[r] -= sign * v
        log_ops.append((a, sign))

    def undo_to(n: int) -> None:
        while len(log_ops) > n:
            a, sign = log_ops.pop()
            for r, v in col(a):
                rl[r] += sign * v

    def cost_of(x: int) -> float:
        return float(arc_cost[arc_of[x]]) if arc_of[x] >= 0 else float(penalty[x])

    def best_option(v: int, skip_e: int) -> tuple[int, float]:
        """v's cheapest arc with room now (not at skip_e), or out (-1)."""
        for a in order_arcs[starts[v]:starts[v + 1]]:
            if arc_cost[a] >= penalty[v]:
                break
            if arc_e[a] != skip_e and fits(int(a)):
                return int(a), float(arc_cost[a])
        return -1, float(penalty[v])

    def lookup(e: np.ndarray, need: np.ndarray, key: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Position (in the members order) of the last member of e with land ≥ need, or -1."""
        cnt = np.searchsorted(key, e * (2 * lmax) + (lmax - need), side="right") - seg[e]
        return np.where(cnt > 0, seg[e] + cnt - 1, -1)

    def lift(u: int, e2: int) -> float | None:
        """Start a move: take u off its arc (logged); its current cost, or None if it is at e2."""
        log_ops.clear()
        old_u = int(arc_of[u])
        if old_u >= 0:
            if arc_e[old_u] == e2:
                return None
            do(old_u, -1.0)
        return cost_of(u)

    def try_move(u: int, b: int, v: int, va: int, w: int) -> float:
        """Apply u→b (evicting v, which goes to va evicting w, or to its best option); the saving, or
        0 with the state unchanged."""
        e2 = int(arc_e[b])
        cu = lift(u, e2)
        if cu is None:
            return 0.0
        if v < 0:
            if fits(b) and arc_cost[b] < cu - eps:
                do(b, 1.0)
                arc_of[u] = b
                return cu - float(arc_cost[b])
            undo_to(0)
            return 0.0
        old_v = int(arc_of[v])
        if old_v < 0 or arc_e[old_v] != e2 or v == u:
            undo_to(0)
            return 0.0
        do(old_v, -1.0)
        if not fits(b):
            undo_to(0)
            return 0.0
        do(b, 1.0)
        base = cu - float(arc_cost[b]) + float(arc_cost[old_v])
        mark = len(log_ops)
        # deeper: v to va, displacing w
        if va >= 0 and w >= 0 and w not in (u, v) and arc_of[w] >= 0 and arc_e[arc_of[w]] == arc_e[va] \
                and arc_e[va] != e2:
            old_w = int(arc_of[w])
            do(old_w, -1.0)
            if fits(va):
                do(va, 1.0)
                nw, cw = best_option(w, int(arc_e[va]))
                if nw >= 0:
                    do(nw, 1.0)
                gain = base - float(arc_cost[va]) + float(arc_cost[old_w]) - cw
                if gain > eps:
                    arc_of[u], arc_of[v], arc_of[w] = b, va, nw
                    return gain
            undo_to(mark)
        nv, cv = best_option(v, e2)
        gain = base - cv
        if gain > eps:
            if nv >= 0:
                do(nv, 1.0)
            arc_of[u], arc_of[v] = b, nv
            return gain
        undo_to(0)
        return 0.0

    def try_bulk(u: int, b: int, group: np.ndarray) -> float:
        """Apply u→b after the members ``group`` of b's estate leave, each to its best option."""
        e2 = int(arc_e[b])
        cu = lift(u, e2)
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
            nv, cv = best_option(v, e2)
            if nv >= 0:
                do(nv, 1.0)
            news.append(nv)
            gain -= cv
        if gain > eps:
            arc_of[u] = b
            for v, nv in zip(moved, news):
                arc_of[v] = nv
            return gain
        undo_to(0)
        return 0.0

    while passes < max_passes and time.perf_counter() < deadline:
        passes += 1
        t_pass = time.perf_counter()
        cur = np.where(arc_of >= 0, arc_cost[np.maximum(arc_of, 0)], penalty)
        tiny = max(eps, min_move * abs(float(cur.sum())))  # moves worth less are not tried
        cur_e = np.where(arc_of >= 0, arc_e[np.maximum(arc_of, 0)], -1)
        fit = _fit(a_csc, row_left)
        own = arc_e == cur_e[arc_u]
        member_arc = arc_of[arc_u] >= 0
        # members of each estate, by land descending
        mem = np.flatnonzero(arc_of >= 0)
        m_arc = arc_of[mem]
        m_e = arc_e[m_arc]
        o = np.lexsort((-land[m_arc], m_e))
        mem, m_arc, m_e = mem[o], m_arc[o], m_e[o]
        m_l = land[m_arc]
        seg = np.searchsorted(m_e, np.arange(ne + 1))
        key = m_e * (2 * lmax) + (lmax - m_l)
        # level 1: a member's cost to leave = its cheapest other arc with room, or out
        ok = (~own) & (fit >= 0)
        esc = min_by_unit(np.where(ok, arc_cost, np.inf), order_arcs, starts, penalty.astype(float))
        esc1 = esc[mem] - arc_cost[m_arc]
        run1 = _seg_cummin(esc1, m_e)
        arg1 = _seg_cumargmin(esc1, m_e)
        # level 2: or move where it does not fit, displacing a member there that leaves (level 1)
        deep = np.flatnonzero((~own) & member_arc & (fit < 0))
        # only where going could beat the simple escape (a displaced member costs at least min(run1))
        floor1 = min(0.0, float(run1.min(initial=0.0)))
        deep = deep[arc_cost[deep] + floor1 < esc[arc_u[deep]]]
        pk = lookup(arc_e[deep], -fit[deep], key, seg)
        deep, pk = deep[pk >= 0], pk[pk >= 0]
        d_w = mem[arg1[pk]]
        d_cost = arc_cost[deep] + run1[pk]
        okd = d_w != arc_u[deep]
        deep, d_w, d_cost = deep[okd], d_w[okd], d_cost[okd]
        full = np.full(na, np.inf)
        full[deep] = d_cost
        esc2 = min_by_unit(full, order_arcs, starts, esc)
        plan_a = np.full(n_units, -1, np.int64)
        plan_w = np.full(n_units, -1, np.int64)
        win = d_cost <= esc2[arc_u[deep]] + 1e-12
        win &= d_cost < esc[arc_u[deep]] - eps
        plan_a[arc_u[deep[win]]] = deep[win]
        plan_w[arc_u[deep[win]]] = d_w[win]
        esc2m = esc2[mem] - arc_cost[m_arc]
        run2 = _seg_cummin(esc2m, m_e)
        arg2 = _seg_cumargmin(esc2m, m_e)
        # candidates for every unit: shifts, and ejections at estates where it does not fit
        cand = np.flatnonzero((~own) & (arc_cost < cur[arc_u] - tiny))
        shift = cand[fit[cand] >= 0]
        ej = cand[fit[cand] < 0]
        pk = lookup(arc_e[ej], -fit[ej], key, seg)
        ej, pk = ej[pk >= 0], pk[pk >= 0]
        vv = mem[arg2[pk]]
        g_ej = cur[arc_u[ej]] - arc_cost[ej] - run2[pk]
        keep = (g_ej > tiny) & (vv != arc_u[ej])
        ej, vv, g_ej = ej[keep], vv[keep], g_ej[keep]
        # several members leave, cheapest per m² first, until their land covers the deficit
        dens = esc1 / np.maximum(m_l, 1e-9)
        o2 = np.lexsort((dens, m_e))
        b_mem, b_e, b_l, b_c = mem[o2], m_e[o2], m_l[o2], esc1[o2]
        tot_l = float(b_l.sum()) + 1.0
        cum_l = np.cumsum(b_l)
        cum_c = np.cumsum(b_c)
        base_l = np.repeat(np.r_[0.0, cum_l][seg[:-1]], np.diff(seg))
        base_c = np.repeat(np.r_[0.0, cum_c][seg[:-1]], np.diff(seg))
        key_b = b_e * tot_l + (cum_l - base_l)
        bk = np.flatnonzero(fit[cand] < 0)
        bk = cand[bk]
        need_b = -fit[bk]
        pos = np.searchsorted(key_b, arc_e[bk] * tot_l + need_b - 1e-9, side="left")
        okb = (pos < len(b_e)) & (pos - seg[arc_e[bk]] < max_group)
        okb[okb] &= b_e[pos[okb]] == arc_e[bk[okb]]
        bk, pos = bk[okb], pos[okb]
        g_bk = cur[arc_u[bk]] - arc_cost[bk] - (cum_c[pos] - base_c[pos])
        keepb = g_bk > tiny
        bk, pos, g_bk = bk[keepb], pos[keepb], g_bk[keepb]
        arcs_all = np.concatenate([shift, ej, bk])
        v_all = np.concatenate([np.full(len(shift), -1, np.int64), vv, np.full(len(bk), -2, np.int64)])
        p_all = np.concatenate([np.full(len(shift) + len(ej), -1, np.int64), pos])
        gains = np.concatenate([cur[arc_u[shift]] - arc_cost[shift], g_ej, g_bk])
        if not len(gains):
            break
        order = np.argsort(-gains, kind="stable")[:max_tries]
        touched = np.zeros(n_units, bool)
        pass_saving = 0.0
        rl[:] = row_left.tolist()
        log.debug("local search pass %d: candidates in %.2f s", passes, time.perf_counter() - t_pass)
        for k in order.tolist():
            b = int(arcs_all[k])
            u = int(arc_u[b])
            v = int(v_all[k])
            if touched[u] or (v >= 0 and touched[v]):
                continue
            if v == -2:
                e2 = int(arc_e[b])
                group = b_mem[seg[e2]:int(p_all[k]) + 1]
                if touched[group].any():
                    continue
                g = try_bulk(u, b, group)
                if g > 0:
                    touched[u] = True
                    touched[group] = True
                    pass_saving += g
                    moves += 1
                continue
            va = int(plan_a[v]) if v >= 0 else -1
            w = int(plan_w[v]) if v >= 0 else -1
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
            if time.perf_counter() > deadline:
                break
        row_left[:] = rl
        saving += pass_saving
        log.debug("local search pass %d: %d candidates, saving %.6g, %.2f s", passes, len(gains), pass_saving,
                  time.perf_counter() - t_pass)
        if pass_saving <= min_gain * max(1.0, abs(float(cur.sum()))):
            break
    return passes, moves, saving


def arc_land(a_csc: sparse.csc_matrix) -> np.ndarray:
    """Each arc's land: its largest coefficient in any capacity row (0 for arcs in none)."""
    land = np.zeros(a_csc.shape[1])
    nz = np.flatnonzero(np.diff(a_csc.indptr) > 0)
    if len(nz):
        land[nz] = np.maximum.reduceat(np.abs(a_csc.data), a_csc.indptr[nz])
    return land


def min_by_unit(v: np.ndarray, order_arcs: np.ndarray, starts: np.ndarray, init: np.ndarray) -> np.ndarray:
    """Per unit, the minimum of ``init`` and of ``v`` over the unit's arcs (arcs grouped by
    ``order_arcs``/``starts``)."""
    out = init.copy()
    has = starts[1:] > starts[:-1]
    if has.any():
        red = np.minimum.reduceat(v[order_arcs], starts[:-1][has])
        out[has] = np.minimum(out[has], red)
    return out


def _seg_cummin(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running minimum of ``x`` within runs of equal (sorted) ``groups``."""
    return pd.Series(x).groupby(groups, sort=False).cummin().to_numpy()


def _seg_cumargmin(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Position (in ``x``) of the running minimum within runs of equal (sorted) ``groups``."""
    run = _seg_cummin(x, groups)
    idx = np.where(x == run, np.arange(len(x)), -1)
    return pd.Series(idx).groupby(groups, sort=False).cummax().to_numpy()
