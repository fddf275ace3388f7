"""The allocate and locate stages' vectorised steps give exactly what the loops they replaced gave
(issue 31: CPU of the stages, with byte-identical answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _candidates_by_sort(dist, bound, by_node, n_p, direct_r, direct_c):
    """The sort-based reference: every (row, point) key, then np.unique."""
    ptr, points = by_node
    r, node = np.nonzero(dist <= bound)
    cnt = ptr[node + 1] - ptr[node]
    at = np.repeat(ptr[node] - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))
    key = np.unique(np.concatenate([np.repeat(r, cnt) * n_p + points[at], direct_r * n_p + direct_c]))
    return key // n_p, key % n_p


@pytest.mark.parametrize("mask_cells", [1, 7, 64, 1000, 10**7])
def test_candidate_pairs_by_mask_equal_the_sorted_keys(monkeypatch, mask_cells):
    from siteplan.relocation import routing

    monkeypatch.setattr(routing, "MASK_CELLS", mask_cells)
    rng = np.random.default_rng(mask_cells)
    for _ in range(25):
        n, n_p, rows = int(rng.integers(1, 200)), int(rng.integers(1, 300)), int(rng.integers(1, 40))
        node = rng.integers(0, n, 2 * n_p)
        order = np.argsort(node, kind="stable")
        by_node = (np.searchsorted(node[order], np.arange(n + 1)), order % n_p)
        dist = rng.random((rows, n))
        k = int(rng.integers(0, 15))
        dr, dc = rng.integers(0, rows, k), rng.integers(0, n_p, k)
        want = _candidates_by_sort(dist, 0.3, by_node, n_p, dr, dc)
        got = routing._candidates(dist, 0.3, by_node, n_p, dr, dc)
        for w, g in zip(want, got):
            assert g.dtype == np.int64
            np.testing.assert_array_equal(g, w)


def _oat_by_tuples(x, w0, names, deltas):
    rows = []
    for k, name in enumerate(names):
        for d in deltas:
            w = w0.copy()
            w[k] = max(w[k] * (1 + d), 0.0)
            w = w / w.sum() if w.sum() > 0 else w0
            s = x @ w
            order = np.argsort(-s, kind="stable")
            ranks = np.empty(len(s), dtype=int)
            ranks[order] = np.arange(1, len(s) + 1)
            rows += [(name, d, i, int(r)) for i, r in enumerate(ranks)]
    return pd.DataFrame(rows, columns=["criterion", "delta", "candidate", "rank"])


@pytest.mark.parametrize("deltas", [(-0.5, -0.25, 0.25, 0.5), (1, 2)])
def test_oat_sweep_frame_equals_the_tuple_built_one(deltas):
    from siteplan.locate.sensitivity import oat_sweep

    x = np.random.default_rng(3).random((40, 3))
    w = np.array([0.5, 0.3, 0.2])
    pd.testing.assert_frame_equal(oat_sweep(x, w, ["a", "b", "c"], deltas), _oat_by_tuples(x, w, ["a", "b", "c"], deltas),
                                  check_exact=True)


def test_swap_texts_equal_one_per_pair():
    from siteplan.locate.sensitivity import _changes, _changes_of

    sweeps = [("a", -0.5), ("a", 0.5), ("b", -0.25), ("c", 0.25)]
    beats = np.random.default_rng(0).random((len(sweeps), 60)) < 0.2
    assert _changes_of(beats, sweeps) == [_changes([k for k, b in zip(sweeps, col) if b]) for col in beats.T]
