"""Aggregation (WLC, OWA, TOPSIS) and Monte Carlo rank acceptability."""

from __future__ import annotations

import numpy as np

from siteplan.locate.sensitivity import rank_acceptability
from siteplan.scoring.suitability import orness, owa, owa_tradeoff, topsis, wlc


def test_wlc_equals_weighted_sum_in_blocks():
    rng = np.random.default_rng(1)
    s = [rng.random((37, 23), dtype=np.float32) for _ in range(4)]
    w = np.array([0.1, 0.2, 0.3, 0.4])
    out = wlc(s, w, block_rows=5)
    assert np.allclose(out, sum(wi * si for wi, si in zip(w, s)), atol=1e-6)


def test_owa_yager_1988_example():
    # Yager, R.R. (1988) IEEE Trans. SMC 18(1):183–190: W = (0.4, 0.3, 0.2, 0.1),
    # F(0.7, 1, 0.3, 0.6) = 0.4·1 + 0.3·0.7 + 0.2·0.6 + 0.1·0.3 = 0.76
    assert abs(float(owa(np.array([0.7, 1, 0.3, 0.6]), np.array([0.4, 0.3, 0.2, 0.1]))) - 0.76) < 1e-12
    assert abs(orness([0.4, 0.3, 0.2, 0.1]) - 2 / 3) < 1e-12
    assert orness([1, 0, 0]) == 1 and orness([0, 0, 1]) == 0 and abs(orness([1 / 3] * 3) - 0.5) < 1e-12
    assert abs(owa_tradeoff([0.25] * 4) - 1) < 1e-12 and abs(owa_tradeoff([1, 0, 0, 0])) < 1e-12


def test_topsis_hand_computed():
    # two criteria, both benefit, equal weights; C* computed by hand from the definitions
    x = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    c = topsis(x, np.array([0.5, 0.5]), np.array([True, True]))
    assert np.allclose(c, [1.0, 0.0, 0.5, 0.5])
    c2 = topsis(x, np.array([0.5, 0.5]), np.array([False, False]))
    assert np.allclose(c2, [0.0, 1.0, 0.5, 0.5])
    # unequal weights: row 3 is (w1/sqrt2, 0) from the ideal (w1/sqrt2, w2/sqrt2)
    c3 = topsis(x, np.array([0.8, 0.2]), np.array([True, True]))
    assert np.isclose(c3[2], 0.8 / (0.8 + 0.2)) and np.isclose(c3[3], 0.2 / (0.8 + 0.2))


def test_rank_acceptability_rows_sum_to_one_and_dominance():
    x = np.array([[0.9, 0.9], [0.1, 0.1], [0.5, 0.5]])
    acc, sd = rank_acceptability(x, np.array([0.5, 0.5]), draws=300, seed=3)
    assert np.allclose(acc.sum(axis=1), 1) and np.allclose(acc.sum(axis=0), 1)
    assert acc[0, 0] == 1 and acc[1, 2] == 1  # a dominating candidate is first in every draw
    acc2, _ = rank_acceptability(x, np.array([0.5, 0.5]), draws=300, seed=3)
    assert np.array_equal(acc, acc2)


def test_score_sd_closed_form_matches_monte_carlo():
    from siteplan.locate.sensitivity import score_sd

    rng = np.random.default_rng(5)
    s = [rng.random((4, 5)).astype(np.float32) for _ in range(3)]
    w = np.array([0.5, 0.3, 0.2])
    sd = score_sd(s, w, concentration=50.0)
    draws = rng.dirichlet(w * 50.0, size=200_000)
    x = np.stack([a.ravel() for a in s], axis=1)  # cells × k
    mc = (draws @ x.T).std(axis=0).reshape(4, 5)
    assert np.allclose(sd, mc, rtol=0.02, atol=1e-4)


def test_oat_sweep_ranks():
    from siteplan.locate.sensitivity import oat_sweep

    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    df = oat_sweep(x, np.array([0.5, 0.5]), ["a", "b"], deltas=(-0.5, 0.5))
    assert set(df.columns) == {"criterion", "delta", "candidate", "rank"}
    # the balanced candidate stays first; the other two swap when a weight moves
    assert (df[df.candidate == 2]["rank"] == 1).all()
    r = df[(df.criterion == "a") & (df.delta == 0.5)].set_index("candidate")["rank"]
    assert r[0] < r[1]


def test_topsis_roszkowska_2011_example():
    # Roszkowska, E. (2011) "Multi-criteria decision making models by applying the TOPSIS method to crisp
    # and interval data", Multiple Criteria Decision Making (Univ. of Economics in Katowice) 6:200–230,
    # crisp example, decision maker 1: C2 is a cost criterion; published relative closeness below.
    x = np.array([[7, 21, 4, 7], [7, 24, 6, 4], [14, 25, 3, 8], [14, 26, 9, 3], [21, 35, 4, 4]], float)
    c = topsis(x, np.array([0.175, 0.425, 0.175, 0.225]), np.array([True, False, True, True]))
    assert np.allclose(c, [0.535497, 0.434945, 0.557491, 0.516961, 0.370633], atol=1e-6)
    assert list(np.argsort(-c) + 1) == [3, 1, 4, 2, 5]
