"""The local search's candidate moves, generated vectorized for every arc at once.

Each pass of :func:`siteplan.relocation.local_search.local_search` starts from :func:`candidates`: every
shift (a unit to an arc with room), every ejection (a member of the arc's estate whose land covers the
deficit leaves, with its planned deeper move) and every bulk ejection (several members leave, cheapest
per m² first), with its predicted saving. Each estate's members are sorted by land, with running minima
of their cost to leave, so that one ``searchsorted`` finds the member that covers a deficit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import sparse

from .model import min_by_unit

__all__ = ["BULK", "GAIN_EPS", "SHIFT", "Candidates", "Members", "SearchState", "candidates", "members"]

# a move must save more than this to be kept (absolute; float noise in the objective)
GAIN_EPS = 1e-9
# a deeper move wins over its unit's best plain escape only if not worse by more than this
TIE_EPS = 1e-12
# m²: a group of leaving members covers a deficit when its land falls short by at most this; also the
# floor of a member's land when its cost to leave is taken per m²
COVER_SLACK_M2 = 1e-9
# evictee codes in the candidate list: a plain shift (nobody leaves), a bulk ejection (a group leaves)
SHIFT = -1
BULK = -2


class SearchState(Protocol):
    """What candidate generation reads of a local search: the model's arcs, the assignment, the room
    left in each capacity row, each arc's land and each unit's arcs cheapest first."""

    arc_u: np.ndarray
    arc_e: np.ndarray
    arc_cost: np.ndarray
    penalty: np.ndarray
    arc_of: np.ndarray
    row_left: np.ndarray
    a_csc: sparse.csc_matrix
    order_arcs: np.ndarray
    starts: np.ndarray
    land: np.ndarray
    land_span: float
    n_estates: int



@dataclass(frozen=True, eq=False)
class Members:
    """The assigned units grouped by estate, by land descending within each estate.

    ``units``, ``arcs``, ``estate``, ``land``: per member; ``seg[e]:seg[e + 1]``: estate e's members;
    ``key``: estate and land packed into one ascending number, ``estate × 2 span + (span − land)``
    (``span`` exceeds every land), for :meth:`last_covering`.
    """

    units: np.ndarray
    arcs: np.ndarray
    estate: np.ndarray
    land: np.ndarray
    seg: np.ndarray
    key: np.ndarray
    span: float

    def last_covering(self, estate: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Position of the last (smallest) member of ``estate`` with land ≥ ``need``, or -1."""
        span = self.span
        count = np.searchsorted(self.key, estate * (2 * span) + (span - need), side="right") - self.seg[estate]
        return np.where(count > 0, self.seg[estate] + count - 1, -1)


@dataclass(frozen=True, eq=False)
class Candidates:
    """One pass's candidate moves, and the plans they refer to.

    Per candidate k: ``arcs[k]`` the arc its unit takes; ``evictee[k]`` the member that leaves
    (``SHIFT``: none, ``BULK``: the group ``bulk_members[seg[e]:bulk_end[k] + 1]`` of the arc's
    estate e); ``gains[k]`` its predicted saving. Per unit v: ``deep_arc[v]``, ``deep_evictee[v]``
    its planned deeper move when evicted (-1: none).
    """

    arcs: np.ndarray
    evictee: np.ndarray
    bulk_end: np.ndarray
    gains: np.ndarray
    deep_arc: np.ndarray
    deep_evictee: np.ndarray
    bulk_members: np.ndarray
    seg: np.ndarray


def members(s: SearchState) -> Members:
    """The assigned units by estate, by land descending."""
    arc_of, land = s.arc_of, s.land
    units = np.flatnonzero(arc_of >= 0)
    arcs = arc_of[units]
    estate = s.arc_e[arcs]
    o = np.lexsort((-land[arcs], estate))
    units, arcs, estate = units[o], arcs[o], estate[o]
    m_land = land[arcs]
    span = s.land_span
    seg = np.searchsorted(estate, np.arange(s.n_estates + 1))
    return Members(units, arcs, estate, m_land, seg, estate * (2 * span) + (span - m_land), span)

def candidates(s: SearchState, current: np.ndarray, tiny: float, max_group: int) -> Candidates:
    """Every move worth trying this pass: shifts, ejections of one member (with its planned
    deeper move) and bulk ejections, with their predicted savings."""
    arc_u, arc_e, arc_cost = s.arc_u, s.arc_e, s.arc_cost
    room_after = _fit(s.a_csc, s.row_left)
    cur_e = np.where(s.arc_of >= 0, arc_e[np.maximum(s.arc_of, 0)], -1)
    own = arc_e == cur_e[arc_u]
    mem = members(s)
    # level 1: a member's cost to leave = its cheapest other arc with room, or out
    escape = min_by_unit(np.where((~own) & (room_after >= 0), arc_cost, np.inf), s.order_arcs, s.starts,
                         s.penalty.astype(float))
    leave1 = escape[mem.units] - arc_cost[mem.arcs]
    deep_arc, deep_evictee, escape2 = _deep_plans(s, own, room_after, escape, leave1, mem)
    leave2 = escape2[mem.units] - arc_cost[mem.arcs]
    run2, arg2 = _seg_cummin(leave2, mem.estate), _seg_cumargmin(leave2, mem.estate)
    # candidates for every unit: shifts, and ejections at estates where it does not fit
    cand = np.flatnonzero((~own) & (arc_cost < current[arc_u] - tiny))
    shift = cand[room_after[cand] >= 0]
    eject = cand[room_after[cand] < 0]
    pos = mem.last_covering(arc_e[eject], -room_after[eject])
    eject, pos = eject[pos >= 0], pos[pos >= 0]
    evictee = mem.units[arg2[pos]]
    gain_eject = current[arc_u[eject]] - arc_cost[eject] - run2[pos]
    keep = (gain_eject > tiny) & (evictee != arc_u[eject])
    eject, evictee, gain_eject = eject[keep], evictee[keep], gain_eject[keep]
    bulk, bulk_end, gain_bulk, bulk_members = _bulk(s, cand[room_after[cand] < 0], room_after, current, tiny,
                                                         leave1, mem, max_group)
    return Candidates(
        arcs=np.concatenate([shift, eject, bulk]),
        evictee=np.concatenate([np.full(len(shift), SHIFT, np.int64), evictee,
                                np.full(len(bulk), BULK, np.int64)]),
        bulk_end=np.concatenate([np.full(len(shift) + len(eject), -1, np.int64), bulk_end]),
        gains=np.concatenate([current[arc_u[shift]] - arc_cost[shift], gain_eject, gain_bulk]),
        deep_arc=deep_arc, deep_evictee=deep_evictee, bulk_members=bulk_members, seg=mem.seg)

def _deep_plans(s: SearchState, own: np.ndarray, room_after: np.ndarray, escape: np.ndarray, leave1: np.ndarray,
                mem: Members) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level 2: a member may also leave to an estate where it does not fit, displacing a member
    there that leaves at level 1. Returns each unit's planned deeper arc and its evictee (-1: none)
    and each unit's cost to leave at either level."""
    arc_u, arc_cost, n_units = s.arc_u, s.arc_cost, len(s.arc_of)
    run1, arg1 = _seg_cummin(leave1, mem.estate), _seg_cumargmin(leave1, mem.estate)
    deep = np.flatnonzero((~own) & (s.arc_of[arc_u] >= 0) & (room_after < 0))
    # only where going could beat the simple escape (a displaced member costs at least min(run1))
    floor1 = min(0.0, float(run1.min(initial=0.0)))
    deep = deep[arc_cost[deep] + floor1 < escape[arc_u[deep]]]
    pos = mem.last_covering(s.arc_e[deep], -room_after[deep])
    deep, pos = deep[pos >= 0], pos[pos >= 0]
    displaced = mem.units[arg1[pos]]
    deep_cost = arc_cost[deep] + run1[pos]
    ok = displaced != arc_u[deep]
    deep, displaced, deep_cost = deep[ok], displaced[ok], deep_cost[ok]
    by_arc = np.full(len(arc_u), np.inf)
    by_arc[deep] = deep_cost
    escape2 = min_by_unit(by_arc, s.order_arcs, s.starts, escape)
    deep_arc = np.full(n_units, -1, np.int64)
    deep_evictee = np.full(n_units, -1, np.int64)
    win = deep_cost <= escape2[arc_u[deep]] + TIE_EPS
    win &= deep_cost < escape[arc_u[deep]] - GAIN_EPS
    deep_arc[arc_u[deep[win]]] = deep[win]
    deep_evictee[arc_u[deep[win]]] = displaced[win]
    return deep_arc, deep_evictee, escape2

def _bulk(s: SearchState, blocked: np.ndarray, room_after: np.ndarray, current: np.ndarray, tiny: float,
          leave1: np.ndarray, mem: Members, max_group: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bulk ejections onto the ``blocked`` arcs (no room): several members leave, cheapest per m²
    first, until their land covers the deficit. Returns the arcs, the last leaving member's
    position in the returned member order, the gains, and that order."""
    arc_u, arc_e, arc_cost, seg = s.arc_u, s.arc_e, s.arc_cost, mem.seg
    density = leave1 / np.maximum(mem.land, COVER_SLACK_M2)
    o = np.lexsort((density, mem.estate))
    b_units, b_est, b_land, b_cost = mem.units[o], mem.estate[o], mem.land[o], leave1[o]
    span = float(b_land.sum()) + 1.0
    cum_land = np.cumsum(b_land)
    cum_cost = np.cumsum(b_cost)
    base_land = np.repeat(np.r_[0.0, cum_land][seg[:-1]], np.diff(seg))
    base_cost = np.repeat(np.r_[0.0, cum_cost][seg[:-1]], np.diff(seg))
    key = b_est * span + (cum_land - base_land)
    need = -room_after[blocked]
    pos = np.searchsorted(key, arc_e[blocked] * span + need - COVER_SLACK_M2, side="left")
    ok = (pos < len(b_est)) & (pos - seg[arc_e[blocked]] < max_group)
    ok[ok] &= b_est[pos[ok]] == arc_e[blocked[ok]]
    blocked, pos = blocked[ok], pos[ok]
    gain = current[arc_u[blocked]] - arc_cost[blocked] - (cum_cost[pos] - base_cost[pos])
    keep = gain > tiny
    return blocked[keep], pos[keep], gain[keep], b_units


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


def _seg_cummin(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running minimum of ``x`` within runs of equal (sorted) ``groups``."""
    answer: np.ndarray = pd.Series(x).groupby(groups, sort=False).cummin().to_numpy()
    return answer


def _seg_cumargmin(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Position (in ``x``) of the running minimum within runs of equal (sorted) ``groups``."""
    run = _seg_cummin(x, groups)
    idx = np.where(x == run, np.arange(len(x)), -1)
    answer: np.ndarray = pd.Series(idx).groupby(groups, sort=False).cummax().to_numpy()
    return answer
