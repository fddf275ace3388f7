"""The p-median heuristic against published optima (Beasley's OR-Library) and brute force (issue 16,
deliver 7)."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from siteplan.locate import _pmedian
from siteplan.locate.facility import p_median

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _orlib():
    spec = importlib.util.spec_from_file_location("_orlib", BENCH / "_orlib.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["pmed1", "pmed5"])
def test_orlib_instance_reaches_the_published_optimum_with_a_valid_bound(name):
    orlib = _orlib()
    n, e, p, opt = orlib.PMED[name]
    d, p_file, e_file = orlib.read(orlib.find(name))
    assert (d.shape, e_file, p_file) == ((n, n), e, p)  # the stored file is the published instance
    res = p_median(d, np.ones(n), p, exact_max_vars=0)
    assert res.method.startswith("greedy + fast interchange")
    assert res.objective == opt and len(res.open) == p
    assert res.lower_bound <= opt
    # the exact MILP agrees (so the data, not only the heuristic, matches the published instance)
    ex = p_median(d, np.ones(n), p)
    assert ex.method == "MILP (HiGHS)" and ex.objective == pytest.approx(opt)


def test_orlib_reader_keeps_the_last_cost_of_a_repeated_edge():
    orlib = _orlib()
    edges = np.array([[1, 2, 50], [2, 3, 1], [2, 1, 7], [1, 3, 100], [3, 1, 20]])
    d = orlib.graph_costs(3, edges)
    assert d[0, 1] == 7 and d[1, 0] == 7  # (1, 2) then (2, 1): the later line wins, in both directions
    assert d[0, 2] == 8  # 1-3 costs 20 (last), but 1-2-3 is 8


@pytest.mark.parametrize("seed", range(6))
def test_heuristic_matches_brute_force_and_bound_holds(seed):
    rng = np.random.default_rng(seed)
    n, m = 40, 12
    p = int(rng.integers(2, 6))
    pts, cand = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    cost = np.hypot(*(pts[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    w = rng.uniform(0.5, 3.0, n)
    wc = w[:, None] * cost
    best = min(wc[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(m), p))
    res = p_median(cost, w, p, exact_max_vars=0)
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.lower_bound <= best * (1 + 1e-9)
    assert res.gap == pytest.approx((res.objective - res.lower_bound) / res.objective)


def test_swap_bookkeeping_matches_recomputation():
    """After a run of swaps, the incremental gain/loss/extra equal a fresh computation, and every
    profit equals the objective change of making that swap."""
    rng = np.random.default_rng(3)
    wc = rng.uniform(0, 10, (60, 25)) * rng.uniform(1, 3, (60, 1))
    sw = _pmedian._Swaps(wc, np.array([0, 5, 9, 14]))
    for out_slot, into in [(0, 3), (2, 20), (1, 7), (3, 0)]:
        sw.swap(out_slot, into)
    fresh = _pmedian._Swaps(wc, sw.fac)
    order = np.argsort(sw.fac)
    assert np.allclose(sw.gain, fresh.gain) and np.allclose(sw.loss[order], fresh.loss)
    assert np.allclose(sw.extra[order], fresh.extra)
    prof = sw.profits()
    for s in range(sw.p):
        for j in np.flatnonzero(sw.slot < 0)[:8]:
            new = sw.fac.copy()
            new[s] = j
            assert prof[s, j] == pytest.approx(sw.objective - wc[:, new].min(axis=1).sum())


def test_bound_rounds_up_only_for_integer_costs_and_the_answer_is_deterministic():
    orlib = _orlib()
    d, p = orlib.like("pmed2")
    a = p_median(d, np.ones(len(d)), p, exact_max_vars=0)
    b = p_median(d, np.ones(len(d)), p, exact_max_vars=0)
    assert np.array_equal(a.open, b.open) and a.objective == b.objective and a.lower_bound == b.lower_bound
    assert a.lower_bound == np.ceil(a.lower_bound)  # integer costs: the bound is an integer
    exact = p_median(d, np.ones(len(d)), p, exact_max_vars=10**6)
    assert exact.status == "optimal"
    assert a.lower_bound <= exact.objective <= a.objective
    frac = p_median(d + 0.5, np.ones(len(d)), p, exact_max_vars=0)
    assert frac.lower_bound <= frac.objective


def test_p_one_and_p_all():
    rng = np.random.default_rng(0)
    cost = rng.uniform(0, 10, (30, 6))
    one = p_median(cost, np.ones(30), 1, exact_max_vars=0)
    assert one.objective == pytest.approx(cost.sum(axis=0).min()) and one.status == "optimal"
    every = p_median(cost, np.ones(30), 6, exact_max_vars=0)
    assert every.objective == pytest.approx(cost.min(axis=1).sum()) and every.status == "optimal"


@pytest.mark.parametrize("seed", range(4))
def test_branch_and_bound_bounds_never_pass_the_optimum_and_close_the_gap(seed):
    """Against brute force: with any work budget the bound stays at or below the optimum; with enough
    it proves the optimum, and from a worse incumbent it finds the optimal set."""
    rng = np.random.default_rng(100 + seed)
    n, m, p = 36, 14, int(rng.integers(2, 5))
    wc = rng.integers(1, 60, (n, m)).astype(float)
    opt = min(wc[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(m), p))
    for ub in (opt, opt + 7):
        dual = _pmedian.lagrangian_bound(wc, p, ub, wc.min(axis=1))
        assert dual.bound <= opt + 1e-9
        for work in (1.0, 5e3, 1e9):
            lb, better = _pmedian.branch_and_bound(wc, p, ub, dual, integral=True, work=work)
            assert lb <= opt + 1e-9
            if better is not None:
                assert wc[:, better].min(axis=1).sum() < ub
        assert lb == opt  # enough work: the optimum is proved
        if ub > opt:
            assert better is not None and wc[:, better].min(axis=1).sum() == opt


def test_lp_gap_is_closed_beyond_the_lp_bound():
    """An instance whose LP bound (= the converged Lagrangian bound) is below the optimum: the branch
    and bound proves HiGHS's optimum."""
    orlib = _orlib()
    d, p = orlib.like("pmed6")
    n = len(d)
    exact = p_median(d, np.ones(n), p, exact_max_vars=10**6, time_limit=600)  # HiGHS, about 10 s
    assert exact.method == "MILP (HiGHS)" and exact.status == "optimal"
    lag = _pmedian.lagrangian_bound(d, p, exact.objective, d.min(axis=1))
    assert lag.bound < exact.objective - 1  # the LP leaves a gap here
    res = p_median(d, np.ones(n), p, exact_max_vars=0)
    assert res.objective == exact.objective
    assert res.lower_bound == res.objective and res.status == "optimal"
