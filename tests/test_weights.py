"""AHP against Saaty's published example and an independent implementation; rank weights; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siteplan.errors import InputError
from siteplan.scoring.weights import (
    RI_TABLES,
    ahp,
    combine_experts,
    direct_weights,
    rank_weights,
)

# Saaty, T.L. (1980) The Analytic Hierarchy Process, "relative wealth of nations" example:
# US, USSR, China, France, UK, Japan, West Germany. Published eigenvector .427 .230 .021 .052 .052
# .123 .094 and lambda_max 7.61 (CI 0.10, CR 0.08 with RI 1.32).
WEALTH = [[1, 4, 9, 6, 6, 5, 5], [1 / 4, 1, 7, 5, 5, 3, 4], [1 / 9, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 7, 1 / 5],
          [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3], [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
          [1 / 5, 1 / 3, 7, 3, 3, 1, 2], [1 / 5, 1 / 4, 5, 3, 3, 1 / 2, 1]]


def test_saaty_wealth_of_nations():
    r = ahp(WEALTH)
    assert np.allclose(r.weights, [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094], atol=6e-4)
    assert abs(r.lambda_max - 7.61) < 0.005
    assert abs(r.ci - 0.10) < 0.005 and abs(r.cr - 0.08) < 0.005 and r.consistent


def _power_iteration(a: np.ndarray) -> tuple[np.ndarray, float]:
    w = np.ones(len(a)) / len(a)
    for _ in range(10000):
        v = a @ w
        v = v / v.sum()
        if np.max(np.abs(v - w)) < 1e-15:
            break
        w = v
    lam = float(np.mean((a @ w) / w))
    return w, lam


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 9).flatmap(lambda n: st.lists(st.sampled_from(
    [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9, 2, 1 / 2]), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2
).map(lambda vals: (n, vals))))
def test_ahp_matches_independent_power_iteration(nv):
    n, vals = nv
    a = np.ones((n, n))
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            a[i, j], a[j, i] = vals[k], 1 / vals[k]
            k += 1
    r = ahp(a.tolist(), threshold=1e9)
    w, lam = _power_iteration(a)
    assert np.max(np.abs(r.weights - w)) < 1e-6
    assert abs(r.lambda_max - lam) < 1e-6
    assert abs(r.cr - (lam - n) / (n - 1) / RI_TABLES["saaty"][n - 1]) < 1e-6


def test_geometric_mean_and_consistent_matrix():
    w = np.array([0.5, 0.3, 0.2])
    a = np.outer(w, 1 / w)
    for m in ("eigenvector", "geometric_mean"):
        r = ahp(a.tolist(), method=m)
        assert np.allclose(r.weights, w) and abs(r.cr) < 1e-9 and r.consistent


def test_incomplete_matrix_harker():
    w = np.array([0.5, 0.3, 0.2])
    a = np.outer(w, 1 / w).tolist()
    a[0][1] = a[1][0] = None
    r = ahp(a)
    assert np.allclose(r.weights, w, atol=1e-9)


def test_inconsistent_matrix_names_the_judgement():
    a = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    r = ahp(a)
    assert not r.consistent and r.worst is not None and r.suggested is not None
    assert r.as_dict()["most_inconsistent"]["row"] >= 1


def test_alonso_lamata_table_is_selectable():
    r1, r2 = ahp(WEALTH, ri_table="saaty"), ahp(WEALTH, ri_table="alonso_lamata")
    assert r2.ri_table == "alonso_lamata" and abs(r2.cr - r1.ci / 1.3417) < 1e-9


@pytest.mark.parametrize("bad,msg", [
    ([[1, 2], [0.5]], "must be square"),
    ([[1, -2], [-0.5, 1]], "must be positive"),
    ([[1, 2], [2, 1]], "not reciprocal"),
    ([[1, "x"], [1, 1]], "is not a number"),
    ([[2, 1], [1, 1]], "diagonal cell"),
])
def test_bad_matrices_name_the_cell(bad, msg):
    with pytest.raises(InputError, match=msg):
        ahp(bad)


def test_experts_geometric_mean():
    a = [[1, 3], [1 / 3, 1]]
    b = [[1, 1 / 3], [3, 1]]
    assert np.allclose(combine_experts([a, b]), np.ones((2, 2)))


def test_rank_weights():
    # Barron & Barrett (1996): ROC weights for n = 3 are 0.6111, 0.2778, 0.1111
    assert np.allclose(rank_weights([1, 2, 3], "roc"), [0.6111, 0.2778, 0.1111], atol=1e-4)
    assert np.allclose(rank_weights([1, 2, 3], "rank_sum"), [3 / 6, 2 / 6, 1 / 6])
    assert np.allclose(rank_weights([1, 2], "reciprocal"), [2 / 3, 1 / 3])
    assert np.allclose(direct_weights([2, 2, 4]), [0.25, 0.25, 0.5])
    with pytest.raises(InputError):
        direct_weights([0, 0])
