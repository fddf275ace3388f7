"""Solving the relocation assignment model (HiGHS, OR-Tools min-cost flow, local search).

:func:`solve_model` solves an :class:`~siteplan.relocation.model.AssignmentModel` under
:class:`SolverOptions`; :func:`solve_assignment` is the same from plain arrays. See
:func:`solve_model` for the method.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import sparse

from ..errors import SolverError
from ..scenario import AllocationSpec
from .local_search import MAX_TRIES, local_search
from .model import AssignmentModel, CapacityRow
from .relaxation import Relaxation, relax
from .repair import Incumbent, apply_choice, greedy_place, marginal_units, sub_milp

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

__all__ = ["AssignmentResult", "SolverOptions", "model_key", "solve_assignment", "solve_model", "solve_model_cached"]

# m²: a row with less room left than this after the relaxation's whole units is full (repack there)
FULL_ROW_M2 = 1e-6
# the repair MILP may stop within REPAIR_GAP_SHARE of the gap target (the rest is left to the greedy
# placement and local search), and never later than at MAX_REPAIR_REL_GAP relative to its own part
REPAIR_GAP_SHARE = 0.25
MAX_REPAIR_REL_GAP = 0.5
# status 'optimal' when the gap is at most this (the flow bound rounds costs down by about that much)
OPTIMAL_GAP = 1e-6
# floor of |bound| (and of similar divisors) when dividing by it; also the float noise below which a
# negative gap is 0
DIV_FLOOR = 1e-9


def _spec_default(name: str) -> Any:
    """The scenario's default for ``allocation.<name>``: the one place these defaults are set."""
    return AllocationSpec.model_fields[name].default


@dataclass(frozen=True)
class SolverOptions:
    """How the relocation model is solved; one set of defaults, the scenario's (``allocation:``).

    Parameters
    ----------
    time_limit_s
        Wall-clock safety net of each solver step (the exact MILP, the LP relaxation, the repair MILP,
        the local search), in seconds. The work limits below end every step, so the answer depends on
        the inputs only; a step the clock stops first raises
        :class:`~siteplan.errors.SafetyNetError` (its answer would depend on the machine's load).
    node_limit
        Branch-and-bound nodes for the repair MILP (its best solution at that node is used).
    exact_node_limit
        Branch-and-bound nodes for the exact MILP; when it stops there before optimality is proved, the
        large-instance path answers instead, and the result says so (``fallback``).
    gap_target
        Relative gap to the bound at which the repair MILP may stop.
    search_passes, search_tries
        Passes of the local search (0: none), and candidate moves tried per pass at most.
    repack, repack_k
        Let the repair MILP also move the marginal members and outsiders of each capacity-tight
        estate, ``repack_k`` of each kind.
    residual_max_units
        Size limit of the repair MILP (units).
    exact_max_arcs
        Instances with at most this many arcs are solved as one exact MILP.
    prune_k
        LP relaxation only: solve on each unit's ``prune_k`` cheapest arcs and add arcs priced
        negative by the duals until none is left (column generation; exact). None: all arcs at once.
    relaxation
        ``auto`` (flow when the rows allow, else LP), ``flow`` (same; logs when it cannot) or ``lp``.
    """

    time_limit_s: float = _spec_default("time_limit_s")
    node_limit: int = _spec_default("node_limit")
    exact_node_limit: int = _spec_default("exact_node_limit")
    gap_target: float = _spec_default("gap_target")
    search_passes: int = _spec_default("search_passes")
    search_tries: int = MAX_TRIES
    repack: bool = True
    repack_k: int = 3
    residual_max_units: int = 2500
    exact_max_arcs: int = 5000
    prune_k: int | None = None
    relaxation: Literal["auto", "flow", "lp"] = "auto"

    def __post_init__(self) -> None:
        """Refuse an unknown relaxation method."""
        if self.relaxation not in ("auto", "flow", "lp"):
            raise ValueError(f"relaxation must be 'auto', 'flow' or 'lp', not {self.relaxation!r}")

    @classmethod
    def from_spec(cls, spec: AllocationSpec, **overrides: Any) -> SolverOptions:
        """The options a scenario's ``allocation:`` section sets (others at their defaults)."""
        fields: dict[str, Any] = {"time_limit_s": spec.time_limit_s, "node_limit": spec.node_limit,
                                  "exact_node_limit": spec.exact_node_limit, "gap_target": spec.gap_target,
                                  "search_passes": spec.search_passes}
        return cls(**(fields | overrides))


@dataclass(frozen=True)
class AssignmentResult:
    """Solution of the assignment model.

    ``assign[u]`` is the estate index of unit u or -1; ``lp_bound`` a proven lower bound on the optimum
    (the LP relaxation's value, or a relaxation of it); ``gap`` = (objective − bound) / |bound|;
    ``status`` ``optimal`` when the integer objective is within 1e-6 of the bound (the flow bound is
    rounded down by about that much), else ``feasible``; ``fallback`` why the exact MILP's answer was
    not used (it stopped at a limit before proving optimality), empty when it was or was not tried.

    Parameters
    ----------
    assign
        ``assign[u]``: the estate index (row of the estates) of unit u, or -1 when it stays unassigned.
    objective
        The solution's cost: its arcs' costs plus the penalties of the units left out.
    lp_bound
        A proven lower bound on the optimum.
    gap
        The relative gap between the objective and ``lp_bound`` (at least 0 unless the bound's rounding
        puts it a hair below).
    status
        ``optimal`` or ``feasible``.
    lp_status
        The relaxation's (or the exact MILP's) solver message.
    fractional_units
        Units the relaxation split between estates (0 for the exact MILP).
    residual_units
        Units the repair step re-solved (every unit for the exact MILP).
    residual_method
        How they were re-solved (e.g. ``exact milp``); ``none`` when nothing was.
    relaxation
        The relaxation used (``flow`` or ``lp``); ``none (exact MILP)`` when the exact MILP answered.
    relaxed_objective
        The relaxation's objective (NaN when there was none).
    timings
        Wall seconds per solver step (``relaxation_s``, ``repair_s``, ...); None when not measured.
    search_passes
        Passes the local search made.
    search_moves
        Moves the local search made.
    fallback
        Why the exact MILP's answer was not used; empty when it was or was not tried.
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
    fallback: str = ""


def solve_assignment(n_units: int, n_estates: int, arc_u: np.ndarray, arc_e: np.ndarray, arc_cost: np.ndarray,
                     penalty: np.ndarray, cap_rows: Sequence[CapacityRow], priority: np.ndarray | None = None,
                     **overrides: Any) -> AssignmentResult:
    """:func:`solve_model` on the model given as arrays.

    Parameters
    ----------
    n_units, n_estates, arc_u, arc_e, arc_cost, penalty, cap_rows, priority
        The :class:`~siteplan.relocation.model.AssignmentModel` fields (``arc_cost`` is its ``cost``).
    **overrides
        ``options`` (a :class:`SolverOptions`, default None) and the fields replacing its own, as for
        :func:`solve_model`; all keyword-only.

    Returns
    -------
    AssignmentResult
        As :func:`solve_model`.
    """
    options: SolverOptions | None = overrides.pop("options", None)
    model = AssignmentModel(n_units, n_estates, arc_u, arc_e, arc_cost, penalty, cap_rows, priority=priority)
    return solve_model(model, options, **overrides)


def solve_model(model: AssignmentModel, options: SolverOptions | None = None, **overrides: Any
                ) -> AssignmentResult:
    """Solve the relocation assignment: a relaxation, then an integer repair and a local search.

    1. Small instances (at most ``exact_max_arcs`` arcs) are one exact MILP (HiGHS), proved optimal.
       When it stops at ``exact_node_limit`` first, the steps below answer instead (with their bound)
       and ``fallback`` says why.
    2. Otherwise the LP relaxation is solved — as a min-cost flow (OR-Tools) when the capacity rows
       have network shape (each estate's rows nested by category level, each unit's land the
       coefficient of all its arcs: always so without multi-category clusters), else as an LP with
       HiGHS (``scipy.optimize.linprog``). Either gives a proven lower bound
       (:mod:`siteplan.relocation.relaxation`).
    3. Units the relaxation places whole keep their estate. The rest — units it splits, and with
       ``repack`` at each estate whose capacity it uses up the ``repack_k`` members cheapest to leave
       out, the ``repack_k`` cheapest to move elsewhere and the ``repack_k`` outsiders that gain most —
       are solved as one MILP (HiGHS) against the capacity the fixed units leave, to an absolute gap of
       a quarter of ``gap_target`` of the bound. Above ``residual_max_units`` only the split units go
       to the MILP; above that again a greedy placement stands in.
    4. Units still out that fit somewhere are placed greedily (highest priority first, cheapest arc).
    5. A local search of shifts and ejection chains
       (:func:`siteplan.relocation.local_search.local_search`) improves the answer for up to
       ``search_passes`` passes.

    Every step ends at a work limit (nodes, passes, tried moves), never at the clock, so the answer is a
    function of the model and the options only; ``time_limit_s`` is a safety net per step that, if it
    ever stops one first, raises :class:`~siteplan.errors.SafetyNetError` instead of answering.

    Parameters
    ----------
    model
        The model.
    options
        Solver settings; default :class:`SolverOptions` ``()``.
    **overrides
        :class:`SolverOptions` fields replacing those of ``options`` (e.g. ``exact_max_arcs=0``).

    Returns
    -------
    AssignmentResult
        Each unit's estate (-1: unassigned), the objective, the proven lower bound and the gap,
        with what each step did and took.

    Raises
    ------
    siteplan.errors.SolverError
        When HiGHS cannot solve the LP relaxation or the exact MILP.
    siteplan.errors.SafetyNetError
        When a step runs into the wall-clock safety net ``time_limit_s`` before its work limit.
    """
    opts = dataclasses.replace(options or SolverOptions(), **overrides)
    if model.n_units == 0:  # nothing to place (a partition of a nation with estates but no business)
        return AssignmentResult(np.empty(0, dtype=np.int64), 0.0, 0.0, 0.0, "optimal", "no units to place", 0)
    a_ub, b_ub = model.capacity_matrix()
    timings: dict[str, float] = {}
    fallback = ""
    if model.n_arcs <= opts.exact_max_arcs:
        t_ex = time.perf_counter()
        exact, stopped = _solve_exact(model, a_ub, b_ub, time_limit=opts.time_limit_s,
                                      node_limit=opts.exact_node_limit)
        if exact is not None:
            return exact
        timings["exact_milp_s"] = time.perf_counter() - t_ex
        # no elapsed time in the text: it goes into the report, whose bytes depend only on the inputs and
        # the scenario (the time is in the manifest's solver timings and in the log)
        fallback = (f"the exact MILP ({model.n_units} units, {model.n_arcs} arcs) stopped at {stopped} before proving "
                    "optimality; the large-instance path answered, with its bound")
        log.warning("relocation: %s (after %.1f s)", fallback, timings["exact_milp_s"])
    t0 = time.perf_counter()
    rel = relax(model, a_ub, b_ub, opts.relaxation, opts.prune_k, time_limit=opts.time_limit_s)
    timings["relaxation_s"] = time.perf_counter() - t0
    log.info("relocation relaxation (%s): %d units, %d arcs, %d capacity rows: %.2f s, bound %.6g",
             rel.method, model.n_units, model.n_arcs, len(b_ub), timings["relaxation_s"], rel.bound)
    t1 = time.perf_counter()
    inc = Incumbent.from_relaxation(model, rel, a_ub, b_ub)
    residual, method = _repair(model, rel, inc, opts)
    timings["repair_s"] = time.perf_counter() - t1
    # greedy placement of whatever is still out and fits
    t2 = time.perf_counter()
    placed = greedy_place(np.flatnonzero((inc.arc_of < 0) & inc.has_arc), model.greedy_priority, inc)
    timings["greedy_s"] = time.perf_counter() - t2
    # local search: shifts and ejection chains
    t3 = time.perf_counter()
    passes = moves = 0
    if opts.search_passes > 0:
        passes, moves, saved = local_search(model, inc.arc_of, inc.row_left, inc.a_csc, inc.order_arcs, inc.starts,
                                            max_passes=opts.search_passes, time_budget=opts.time_limit_s,
                                            max_tries=opts.search_tries)
        log.info("relocation local search: %d passes, %d moves, saving %.6g", passes, moves, saved)
    timings["search_s"] = time.perf_counter() - t3
    arc_of = inc.arc_of
    assign = np.where(arc_of >= 0, model.arc_e[np.maximum(arc_of, 0)], -1)
    obj = float(model.cost[arc_of[arc_of >= 0]].sum() + model.penalty[arc_of < 0].sum())
    bound = rel.bound
    gap = (obj - bound) / max(abs(bound), DIV_FLOOR)
    gap = max(gap, 0.0) if gap > -DIV_FLOOR else gap
    status = "optimal" if gap <= OPTIMAL_GAP else "feasible"
    log.info("relocation repair (%d units, %s; %d placed greedily; %d local moves): %.2f s, objective %.6g, "
             "gap %.4f %%", len(residual), method, placed, moves, time.perf_counter() - t1, obj, 100 * gap)
    return AssignmentResult(assign, obj, bound, float(gap), status, rel.message, len(inc.split),
                            len(residual), method, rel.method, rel.objective, timings, passes, moves, fallback)


#: modules whose code decides a solve's answer (their source is part of :func:`model_key`)
_SOLVER_SOURCES = ("relocation/solve.py", "relocation/relaxation.py", "relocation/local_search.py",
                   "relocation/model.py", "relocation/milp.py", "relocation/repair.py", "relocation/moves.py")


def _solver_source_hash() -> bytes:
    """SHA-256 of the solver's own source files (a changed solver never reads an older answer)."""
    from ..common.usercache import package_files_digest

    return package_files_digest(_SOLVER_SOURCES)


@functools.cache
def _environment() -> tuple[list[str], list[str], bytes]:
    """The versions of Python and the libraries, and the solver's source hash: read once per process
    (they do not change while it runs; reading the packages' metadata costs milliseconds per solve)."""
    from importlib import metadata

    from ..common.usercache import versions_key

    libs = []
    for pkg in ("highspy", "ortools"):
        try:
            libs.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            libs.append(f"{pkg} -")
    return versions_key(), libs, _solver_source_hash()


def model_key(model: AssignmentModel, options: SolverOptions) -> str:
    """SHA-256 of everything :func:`solve_model` answers from: the model's arrays and capacity rows, the
    options, the solver's source and the versions of Python and the libraries."""
    versions, libs, source = _environment()
    h = hashlib.sha256()
    h.update(repr((versions, libs, dataclasses.asdict(options), model.n_units, model.n_estates)).encode())
    h.update(source)

    def arr(a: np.ndarray | None) -> None:
        if a is None:
            h.update(b"none")
            return
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())

    for a in (model.arc_u, model.arc_e, model.cost, model.penalty, model.priority, model.unit_land, model.in_reach):
        arr(a)
    h.update(f"rows {len(model.cap_rows)}".encode())
    for e, cap, idx, coef in model.cap_rows:
        h.update(repr((int(e), float(cap))).encode())
        arr(np.asarray(idx))
        arr(np.asarray(coef, dtype=float))
    return h.hexdigest()


def solve_model_cached(model: AssignmentModel, options: SolverOptions | None = None) -> AssignmentResult:
    """:func:`solve_model`, or the answer an earlier solve of the same model with the same options,
    solver code and library versions gave (the user's cache folder, :mod:`siteplan.common.usercache`, ``solve/``).

    The solve is deterministic (work limits, never the clock), so a stored answer is the answer solving
    again gives; a rerun that changes only what comes after the plan (report, outputs) or an option
    that leaves some models as they were (the upgrades' and sites' re-allocations) reads them instead
    of solving. ``SITEPLAN_SOLVE_CACHE=off`` (or ``SITEPLAN_CACHE_DIR=off``) turns it off. On a hit
    the result's ``timings`` are ``{"cache_read_s": …}``.
    """
    import os

    from ..common.usercache import load_object, store_object

    opts = options or SolverOptions()
    if os.environ.get("SITEPLAN_SOLVE_CACHE", "").strip().lower() in ("off", "0", "no", "false"):
        return solve_model(model, opts)
    t0 = time.perf_counter()
    key = model_key(model, opts)
    got = load_object("solve", key)
    if isinstance(got, AssignmentResult) and len(got.assign) == model.n_units:
        log.info("relocation: the answer of an earlier identical solve (cache %s…)", key[:12])
        return dataclasses.replace(got, assign=got.assign.copy(),
                                   timings={"cache_read_s": time.perf_counter() - t0})
    res = solve_model(model, opts)
    store_object("solve", key, res)
    return res


def _repair(model: AssignmentModel, rel: Relaxation, inc: Incumbent, opts: SolverOptions) -> tuple[np.ndarray, str]:
    """Re-solve the split and released units (and, with ``repack``, the marginal units of full
    estates) as one MILP in the room the others leave; returns the units it covered and the method."""
    arc_u, n_units = model.arc_u, model.n_units
    base = np.union1d(inc.split, inc.released).astype(np.int64)
    residual = base
    if opts.repack and len(model.cap_rows):
        full_rows = np.flatnonzero(rel.tight | (inc.row_left < FULL_ROW_M2))
        tight_e = np.unique(np.array([model.cap_rows[k][0] for k in full_rows.tolist()], dtype=np.int64))
        if len(tight_e):
            wide = np.unique(np.concatenate([base, *marginal_units(model, tight_e, inc, opts.repack_k)])) \
                .astype(np.int64)
            if len(wide) <= opts.residual_max_units:
                residual = wide
    residual = residual[inc.has_arc[residual]]
    arc_of = inc.arc_of
    fixed = float(model.cost[arc_of[(arc_of >= 0) & ~np.isin(np.arange(n_units), residual)]].sum())
    apply_choice(residual, np.full(len(residual), -1, np.int64), inc)
    method = "none"
    if len(residual):
        method = "greedy"
        if len(residual) <= opts.residual_max_units:
            rest = max(abs(rel.bound - fixed), DIV_FLOOR)
            rel_gap = min(MAX_REPAIR_REL_GAP, REPAIR_GAP_SHARE * opts.gap_target * abs(rel.bound) / rest)
            got = sub_milp(model, residual, np.flatnonzero(np.isin(arc_u, residual)), inc.a_csc, inc.row_left,
                            time_limit=opts.time_limit_s, rel_gap=rel_gap, node_limit=opts.node_limit)
            if got is not None:
                apply_choice(residual, got[0], inc)
                method = "milp" if got[2] else "milp (node limit)"
    return residual, method


def _solve_exact(model: AssignmentModel, a_ub: sparse.csr_matrix, b_ub: np.ndarray, *, time_limit: float,
                 node_limit: int) -> tuple[AssignmentResult | None, str]:
    """The whole model as one MILP (HiGHS), for instances small enough to prove optimality.

    Returns the result when HiGHS proves it optimal, else None and the work limit that stopped it (the
    caller falls back to the large-instance path). Raises :class:`~siteplan.errors.SafetyNetError` when
    the wall-clock safety net ``time_limit`` stops it first.
    """
    from scipy.optimize import Bounds, LinearConstraint

    from .milp import milp, safety_net_error, stopped_by_clock

    n_units, arc_u = model.n_units, model.arc_u
    na = model.n_arcs
    nv = na + n_units
    c = np.concatenate([model.cost, model.penalty])
    a_eq = sparse.csr_matrix((np.ones(nv), (np.concatenate([arc_u, np.arange(n_units)]), np.arange(nv))),
                             shape=(n_units, nv))
    cons = [LinearConstraint(a_eq, 1, 1)]
    if len(b_ub):
        cons.append(LinearConstraint(sparse.hstack([a_ub, sparse.csr_matrix((len(b_ub), n_units))]), -np.inf, b_ub))
    res = milp(c, constraints=cons, integrality=np.ones(nv), bounds=Bounds(0, 1),
               options={"disp": False, "mip_rel_gap": 0.0, "time_limit": time_limit, "node_limit": node_limit})
    message = str(res.message)
    if stopped_by_clock(res):
        raise safety_net_error(f"relocation: the exact MILP ({n_units} units, {na} arcs)", time_limit,
                               f"{node_limit} branch-and-bound nodes, allocation.exact_node_limit")
    if res.status != 0:
        if "limit" in message.lower():  # the node limit (HiGHS 16, scipy's 4)
            return None, f"its node limit ({node_limit} nodes)"
        raise SolverError(f"the relocation MILP could not be solved (HiGHS status {res.status}): {res.message}")
    x = res.x[:na] > 0.5
    assign = np.full(n_units, -1, dtype=np.int64)
    assign[arc_u[x]] = model.arc_e[x]
    obj = float(res.fun)
    bound = float(getattr(res, "mip_dual_bound", obj) or obj)
    gap = max((obj - bound) / max(abs(obj), DIV_FLOOR), 0.0)
    return AssignmentResult(assign, obj, bound, gap, "optimal", message, 0, int(n_units), "exact milp",
                            "none (exact MILP)"), ""
