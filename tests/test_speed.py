"""Issue #31 (speed): CPU seconds per stage in the manifest, the report's font subsets cached, and the
vectorized hot paths giving the figures the table-based code gave."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    small = small_scenario(tmp_path_factory.mktemp("speed"))
    out = tmp_path_factory.mktemp("speed-run") / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def test_manifest_has_cpu_seconds_per_stage(small_run):
    m = json.loads((small_run / "manifest.json").read_text(encoding="utf-8"))
    wall, cpu = m["timings_s"], m["timings_cpu_s"]
    assert list(cpu) == list(wall)  # the same stages, in the same order, write included
    assert all(isinstance(v, float) and v >= 0 for v in cpu.values())
    assert sum(cpu.values()) > 0


def test_font_subset_cached_with_identical_bytes(tmp_path, monkeypatch):
    from siteplan.report import fontface

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "c"))
    fontface._subset.cache_clear()
    chars = "شهرک صنعتی اصفهان ۱۲۳"
    first = fontface.subset_woff(400, chars)
    files = list((tmp_path / "c" / "font-subset").glob("*.bin"))
    assert len(files) == 1 and files[0].read_bytes() == first
    fontface._subset.cache_clear()

    def no_cut(*a, **k):
        raise AssertionError("cut again despite the cache")

    monkeypatch.setattr(fontface, "_cut", no_cut)
    assert fontface.subset_woff(400, chars) == first
    fontface._subset.cache_clear()
    # other characters: another key (and a cut)
    monkeypatch.undo()
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "c"))
    fontface.subset_woff(400, chars + "ژ")
    assert len(list((tmp_path / "c" / "font-subset").glob("*.bin"))) == 2
    fontface._subset.cache_clear()


def test_font_subset_cache_off_still_answers(tmp_path, monkeypatch):
    from siteplan.report import fontface

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    fontface._subset.cache_clear()
    a = fontface.subset_woff(700, "abc")
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "c"))
    fontface._subset.cache_clear()
    assert fontface.subset_woff(700, "abc") == a
    fontface._subset.cache_clear()


def _exposed_by_table(res, geoms, quiet_m, mixed_m, groups):
    """The exposure as the table-based code (pandas sort, drop_duplicates, shift) computed it."""
    from siteplan.programme.impact import QUAD_SEGS

    codes, uniq = pd.factorize(pd.Series(groups, dtype=object), sort=True)
    total = np.zeros(len(uniq))
    for is_mixed, dist in ((False, quiet_m), (True, mixed_m)):
        sel = np.flatnonzero(dist > 0)
        buf = shapely.buffer(geoms[sel], dist[sel], quad_segs=QUAD_SEGS)
        bi, uj = res.tree.query(buf, predicate="intersects")
        keep = res.mixed[uj] == is_mixed
        bi, uj = bi[keep], uj[keep]
        if not len(bi):
            continue
        pairs = pd.DataFrame({"g": codes[sel][bi], "u": uj, "b": bi}).sort_values(["g", "u", "b"])
        keys = pairs[["g", "u"]].drop_duplicates()
        starts = np.flatnonzero(pairs[["g", "u"]].ne(pairs[["g", "u"]].shift()).any(axis=1).to_numpy())
        bounds = np.append(starts, len(pairs))
        b = pairs["b"].to_numpy()
        unions = [shapely.union_all(buf[b[s:e]]) for s, e in zip(bounds[:-1], bounds[1:])]
        u, g = keys["u"].to_numpy(), keys["g"].to_numpy()
        inter = shapely.area(shapely.intersection(np.array(unions, dtype=object), res.geoms[u]))
        np.add.at(total, g, np.clip(inter / shapely.area(res.geoms[u]), 0, 1) * res.population[u])
    return pd.Series(total, index=pd.Index(uniq, dtype=object))


def test_exposed_equals_the_table_based_figures():
    from siteplan.programme.impact import Residents

    rng = np.random.default_rng(3)
    urban = np.array([shapely.box(x, y, x + 800, y + 600) for x, y in rng.uniform(0, 5000, (25, 2))], dtype=object)
    res = Residents(urban, rng.uniform(100, 5000, 25), rng.random(25) < 0.3)
    pts = shapely.points(rng.uniform(-500, 5500, (300, 2)))
    quiet = rng.choice([0.0, 100.0, 500.0, 1000.0], 300)
    mixed = rng.choice([0.0, 50.0, 300.0], 300)
    groups = rng.choice(["a", "b", "c", "d"], 300).astype(object)
    got = res.exposed(pts, quiet, mixed, groups)
    want = _exposed_by_table(res, pts, quiet, mixed, groups)
    assert got.index.tolist() == want.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-9)
    assert got.sum() > 0


def test_zone_rule_problems_equal_the_rule_engine_table(tmp_path):
    """zoning's per-zone rule check (arrays) names the breaches RuleSet.check's table names."""
    from siteplan.common.geom import WRITTEN_SNAP_M
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario
    from siteplan.zoning.estate import _rule_problems

    prep = prepare(load_scenario(small_scenario(tmp_path)), with_surfaces=False)
    urban = prep.region.layers["urban"].geometry.values
    estates = prep.region.layers["estates"].geometry.values
    got: list[str] = []
    want: list[str] = []
    # zones on estates (mostly clean) and zones at the edge of towns (breaking the separations)
    for i, code in enumerate(prep.codes):
        for g in (estates[i % len(estates)], shapely.buffer(urban[i % len(urban)].exterior, 50.0)):
            zones = {code: g}
            got += _rule_problems(zones, prep.rules)
            chk = prep.rules[code].check(np.array([g], dtype=object))
            dist = chk["group"].isin(["separation", "doe", "constraint"]) & (chk["required_m"] > 0)
            near = dist & (chk["actual_m"] >= chk["required_m"] - WRITTEN_SNAP_M)
            near |= (chk["group"] == "study_area") & (chk["actual_m"] <= WRITTEN_SNAP_M)
            fail = chk[~chk["passed"] & ~near]
            want += [f"{code} breaks {r.rule_id} ({r.actual_m:.1f} of {r.required_m:g})" for r in fail.itertuples()]
    assert got == want
    assert len(got) > len(prep.codes)  # the town-edge zones break rules: the comparison is not empty


def test_solve_cache_hit_gives_identical_outputs_and_no_solve(tmp_path, monkeypatch):
    """A rerun reads the plan's solves from the cache: byte-identical outputs, solve_model not called;
    a changed model is solved again."""
    import siteplan.relocation.solve as solve

    monkeypatch.setenv("SITEPLAN_SOLVE_CACHE", "on")
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "c"))
    sc = small_scenario(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert CliRunner().invoke(main, ["run", str(sc), "--out", str(a), "--quiet"]).exit_code == 0
    stored = list((tmp_path / "c" / "solve").glob("*.pkl"))
    assert stored

    def no_solve(*args, **kw):
        raise AssertionError("solved again despite the cache")

    monkeypatch.setattr(solve, "solve_model", no_solve)
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(b), "--quiet"])
    assert r.exit_code == 0, r.output
    ha = json.loads((a / "manifest.json").read_text(encoding="utf-8"))["outputs_sha256"]
    hb = json.loads((b / "manifest.json").read_text(encoding="utf-8"))["outputs_sha256"]
    assert ha == hb


def test_solve_cache_key_changes_with_the_model_and_options():
    from siteplan.relocation.model import AssignmentModel
    from siteplan.relocation.solve import SolverOptions, model_key, solve_model, solve_model_cached

    def model(cost2: float) -> AssignmentModel:
        return AssignmentModel(3, 2, np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), np.array([1.0, 2.0, 1.0, cost2]),
                               np.array([10.0, 10.0, 10.0]), [(0, 5.0, np.array([0, 3]), np.array([3.0, 3.0]))])

    k = model_key(model(1.0), SolverOptions())
    assert k == model_key(model(1.0), SolverOptions())
    assert k != model_key(model(1.5), SolverOptions())
    assert k != model_key(model(1.0), SolverOptions(node_limit=7))
    # off: solves (and answers as solve_model does)
    assert (solve_model_cached(model(1.0)).assign == solve_model(model(1.0)).assign).all()
