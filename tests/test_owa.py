"""OWA uses the criterion weights (Torra's weighted OWA), and every robustness figure describes the
OWA model that was run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import edit_yaml, small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from siteplan.scoring.suitability import owa, wowa


def _wstar(w: np.ndarray):
    n = len(w)
    xs = np.arange(n + 1) / n
    ys = np.r_[0.0, np.cumsum(w)]
    return lambda t: float(np.interp(t, xs, ys))


def choquet_wowa(a: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """WOWA as the Choquet integral of the distorted probability μ(A) = w*(Σ_{i∈A} p_i) (Torra 1997,
    Proposition: WOWA is a Choquet integral), computed over explicit subsets in ascending order — an
    independent formulation of the same operator."""
    p, w = p / p.sum(), w / w.sum()
    ws = _wstar(w)
    n = len(a)
    order = np.argsort(a, kind="stable")  # ascending
    total, prev = 0.0, 0.0
    for k in range(n):
        upper = set(order[k:].tolist())  # the indices whose value is at least a_(k)
        mu = ws(sum(p[i] for i in upper))
        total += (a[order[k]] - prev) * mu
        prev = a[order[k]]
    return total


def test_yager_example_and_special_cases():
    a = np.array([0.7, 1.0, 0.3, 0.6])
    w = np.array([0.4, 0.3, 0.2, 0.1])
    assert float(wowa(a, np.full(4, 0.25), w)) == pytest.approx(0.76, abs=1e-12)  # Yager (1988)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert float(wowa(a, p, np.full(4, 0.25))) == pytest.approx(float(a @ p), abs=1e-12)  # weighted mean
    # p = (1, 0, ...) with any order weights gives the first value (a dictator)
    assert float(wowa(a, np.array([1.0, 0, 0, 0]), w)) == pytest.approx(0.7, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_wowa_is_the_choquet_integral_of_its_distorted_probability(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.random(n).round(3)
    p = rng.random(n) + 0.01
    w = rng.random(n) + 0.01
    assert float(wowa(a, p, w)) == pytest.approx(choquet_wowa(a, p, w), abs=1e-9)
    # bounded by min and max, and equal to OWA when p is uniform
    assert a.min() - 1e-12 <= float(wowa(a, p, w)) <= a.max() + 1e-12
    assert float(wowa(a, np.ones(n), w)) == pytest.approx(float(owa(a, w / w.sum())), abs=1e-9)


def test_wowa_vectorized_over_cells_and_weight_draws():
    rng = np.random.default_rng(3)
    v = rng.random((7, 3))
    p = rng.dirichlet(np.ones(3), size=5)
    w = np.array([0.5, 0.3, 0.2])
    got = wowa(v[None, :, :], p[:, None, :], w)
    assert got.shape == (5, 7)
    for d, c in itertools.product(range(5), range(7)):
        assert got[d, c] == pytest.approx(choquet_wowa(v[c], p[d], w), abs=1e-9)


@pytest.fixture(scope="module")
def owa_scenario(tmp_path_factory):
    sc = small_scenario(tmp_path_factory.mktemp("owa"), n_biz=60)
    edit_yaml(sc, lambda d: d.update(categories=["car_repair", "scrap"],
                                     aggregation={"method": "owa", "order_weights": [0.5, 0.3, 0.15, 0.05]},
                                     sensitivity={"draws": 300, "concentration": 20}))
    return sc


def _criteria_weights(sc, weights):
    def upd(d):
        crit = d.get("criteria")
        for c, wv in zip(crit, weights):
            c["weight"] = wv
    edit_yaml(sc, upd)


def test_owa_criterion_weights_change_the_surface(owa_scenario, tmp_path):
    import yaml

    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    d = yaml.safe_load(owa_scenario.read_text(encoding="utf-8"))
    if not d.get("criteria"):
        pytest.skip("the small scenario has no explicit criteria")
    n = len(d["criteria"])
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    for f, ws in ((a, np.linspace(0.7, 0.1, n)), (b, np.linspace(0.1, 0.7, n))):
        f.write_text(owa_scenario.read_text(encoding="utf-8"), encoding="utf-8")
        edit_yaml(f, lambda dd: [v.update(path=str(owa_scenario.parent / v["path"])) for v in dd["layers"].values()])
        _criteria_weights(f, [float(x) for x in ws])
    sa = prepare(load_scenario(a)).surfaces["car_repair"].score
    sb = prepare(load_scenario(b)).surfaces["car_repair"].score
    assert np.nanmax(np.abs(sa - sb)) > 0.01


def test_owa_robustness_matches_a_monte_carlo_of_the_owa_model(owa_scenario):
    """p_rank from the run against a brute-force Monte Carlo: for each weight draw, whole OWA
    surfaces, zonal means per estate and the estate ranking, exactly as the run ranks estates."""
    from siteplan.locate.ranking import estate_closeness
    from siteplan.pipeline import run
    from siteplan.scenario import load_scenario
    from siteplan.scoring.suitability import zonal_mean

    sc = load_scenario(owa_scenario)
    res = run(sc)
    prep = res.prep
    ow = np.asarray(sc.aggregation.order_weights, dtype=float)
    checked = 0
    for code, s in prep.surfaces.items():
        sel = res.ranks[(res.ranks.category == code) & res.ranks["rank"].notna()]
        if len(sel) < 2:
            continue
        names = list(s.weights)
        by = {c.spec.name: c for c in prep.crit}
        stack = np.stack([by[n].score for n in names], axis=-1)
        geoms = prep.region.layers["estates"].set_index("estate_id").loc[sel.estate_id].geometry.values
        cap = sel["usable_cap_ha"].to_numpy(float)
        w = np.array(list(s.weights.values()))
        rng = np.random.default_rng(res.seed)
        draws = rng.dirichlet(np.maximum(w * sc.sensitivity.concentration, 1e-3), size=sc.sensitivity.draws)
        keep = np.zeros(len(sel))
        want_rank = sel["rank"].to_numpy(int)
        for wd in draws:
            surf = wowa(stack, wd, ow)
            score = zonal_mean(surf, geoms, prep.grid)
            c = estate_closeness(np.nan_to_num(score)[None, :], cap)[0]
            order = np.argsort(-c, kind="stable")
            r = np.empty(len(c), dtype=int)
            r[order] = np.arange(1, len(c) + 1)
            keep += r == want_rank
        assert np.allclose(sel["p_rank"].to_numpy(float), keep / len(draws), atol=1e-4), code
        checked += 1
    assert checked >= 1
