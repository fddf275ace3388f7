"""Hostile or careless settings end in one clear message (key, value, fix), exit 1, no traceback;
`siteplan validate` refuses every scenario-level one with the same checks as `run` (issue 13, item 6)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, edit_yaml, small_scenario

from siteplan.cli import main


@pytest.fixture(scope="module")
def _small_master(tmp_path_factory) -> Path:
    return small_scenario(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def small(_small_master, tmp_path) -> Path:
    """A private copy of the small scenario (its folder of layers and its YAML)."""
    dst = tmp_path / "small"
    shutil.copytree(_small_master.parent, dst)
    return dst / _small_master.name


def _clear(r, *needles: str) -> None:
    """Exit 1 with every needle in the message, and no internal error or traceback."""
    assert r.exit_code == 1, r.output
    assert "internal error" not in r.output and "Traceback" not in r.output, r.output
    for n in needles:
        assert n in r.output, f"{n!r} not in {r.output!r}"


def _validate(sc: Path):
    return CliRunner().invoke(main, ["validate", str(sc)])


def _run(sc: Path, *extra: str):
    out = sc.parent / "out"
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet", *extra])
    r.seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    assert not out.exists(), "a refused run wrote its output folder"
    return r


def _both(sc: Path, *needles: str) -> None:
    """validate and run refuse the scenario with the same message, and run fails before the heavy work."""
    v = _validate(sc)
    _clear(v, *needles)
    r = _run(sc)
    _clear(r, *needles)
    assert r.seconds < 20  # type: ignore[attr-defined]


# -- grid.resolution_m --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, says", [
    (float("inf"), "must be a finite number (not .inf or .nan), got inf"),
    (float("nan"), "must be a finite number (not .inf or .nan), got nan"),
    (0, "must be greater than 0, got 0"),
    (-250, "must be greater than 0, got -250"),
])
def test_resolution_not_a_positive_finite_number(small, value, says):
    edit_yaml(small, lambda d: d["grid"].update(resolution_m=value))
    _both(small, f"grid.resolution_m: {says}")


@pytest.mark.parametrize("value", [0.5, 1e-300])
def test_resolution_giving_an_absurd_grid(small, value):
    edit_yaml(small, lambda d: d["grid"].update(resolution_m=value))
    _both(small, f"grid.resolution_m: {value:g} m gives a grid of about", "more than siteplan's limit of 100,000,000",
          "use a coarser resolution (at least 28 m)", "--blockwise")


def test_blockwise_also_has_a_cell_limit(small, tmp_path):
    edit_yaml(small, lambda d: d["grid"].update(resolution_m=0.01))
    r = CliRunner().invoke(main, ["suitability", str(small), "--category", "car_repair", "--blockwise",
                                  "--out", str(tmp_path / "s.tif")])
    _clear(r, "grid.resolution_m: 0.01 m gives a grid", "limit of 10,000,000,000", "coarser resolution")
    assert not (tmp_path / "s.tif").exists()


# -- seed -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, 2**32, "abc"])
def test_seed_outside_numpy_range(small, value):
    edit_yaml(small, lambda d: d.update(seed=value))
    _both(small, "seed: must be a whole number from 0 to 4294967295", f"got {value!r}", "e.g. seed: 0")


def test_seed_option_outside_numpy_range_fails_before_work(small):
    r = _run(small, "--seed", "-1")
    _clear(r, "--seed: must be a whole number from 0 to 4294967295", "got -1")
    assert r.seconds < 5  # type: ignore[attr-defined]  # it used to fail after the whole run


# -- categories -----------------------------------------------------------------------------------------


def test_empty_categories(small):
    edit_yaml(small, lambda d: d.update(categories=[]))
    _both(small, "categories: the list is empty", "see `siteplan catalogue`", "`categories: all`")


def test_unknown_category_is_caught_by_validate(small):
    edit_yaml(small, lambda d: d.update(categories=["car_repair", "car_repiar"]))
    _both(small, "categories[1]: 'car_repiar' is not a catalogue category (known: car_repair")


# -- catalogue overrides ---------------------------------------------------------------------------------


def test_override_sep_m_not_a_number(small):
    edit_yaml(small, lambda d: d.setdefault("catalogue", {}).setdefault("overrides", {}).update(
        car_body_paint={"sep_m": "far"}))
    _both(small, "catalogue.overrides.car_body_paint.sep_m: must be a distance from homes in metres, 0 or more "
                 "(e.g. 150), got 'far'")


def test_override_and_add_bad_numbers_all_listed(small):
    def f(d):
        cat = d.setdefault("catalogue", {})
        cat["overrides"] = {"car_repair": {"sep_m": -5, "land_m2": 0}, "metalwork": {"sep_mixed_m": float("inf")}}
        cat["add"] = [{"code": "x", "name_en": "x", "name_fa": "x", "env_cat": "2", "land_m2": "big"}]
    edit_yaml(small, f)
    _both(small, "4 problems", "catalogue.overrides.car_repair.sep_m:", "got -5",
          "catalogue.overrides.car_repair.land_m2: must be land per business in m², above 0", "got 0",
          "catalogue.overrides.metalwork.sep_mixed_m:", "got inf", "catalogue.add[0].land_m2:", "got 'big'")


def test_catalogue_command_with_bad_override(small):
    edit_yaml(small, lambda d: d.setdefault("catalogue", {}).setdefault("overrides", {}).update(
        car_body_paint={"sep_m": "far"}))
    r = CliRunner().invoke(main, ["catalogue", "--scenario", str(small)])
    _clear(r, "catalogue.overrides.car_body_paint.sep_m:", "got 'far'")


# -- crs ------------------------------------------------------------------------------------------------


def test_unknown_crs(small):
    edit_yaml(small, lambda d: d.update(crs="EPSG:999999"))
    _both(small, "crs: 'EPSG:999999' is not a coordinate reference system pyproj knows",
          "'EPSG:32639'", "leave 'crs' out")


def test_unknown_layer_crs(small):
    edit_yaml(small, lambda d: d["layers"]["businesses"].update(crs="EPSG:999999"))
    _both(small, "layers.businesses.crs: 'EPSG:999999' is not a coordinate reference system pyproj knows")


def test_geographic_crs(small):
    edit_yaml(small, lambda d: d.update(crs="EPSG:4326"))
    _both(small, "crs: 'EPSG:4326' is not a projected (metric) CRS")


# -- sensitivity.draws ----------------------------------------------------------------------------------


def test_draws_far_above_the_memory_budget(small):
    edit_yaml(small, lambda d: d["sensitivity"].update(draws=10**9))
    _both(small, "sensitivity.draws: 1,000,000,000 Monte Carlo draws need about 126.7 GiB of memory",
          "budget of 2.0 GiB", "use at most 15,790,320 draws", "or 0 to skip")


def test_draws_above_the_budget_for_this_region(small):
    # passes the scenario-only bound (2 estates), refused once the estates are counted
    edit_yaml(small, lambda d: d["sensitivity"].update(draws=5_000_000))
    from siteplan.scenario import load_scenario

    load_scenario(small)  # the scenario alone is fine
    _both(small, "sensitivity.draws: 5,000,000 Monte Carlo draws need about", "estates ×", "criteria)",
          "budget of 2.0 GiB", "use at most")


def test_draws_written_as_1e9_in_yaml(small):
    text = small.read_text(encoding="utf-8").replace("draws: 20", "draws: 1e9")
    small.write_text(text, encoding="utf-8")
    _both(small, "sensitivity.draws: must be a whole number, got the text '1e9'", "write the digits")


def test_memory_estimate_matches_rank_acceptability():
    """The budget's estimate is an upper bound of what the robustness step really allocates."""
    import tracemalloc

    from siteplan.locate.ranking import estate_closeness
    from siteplan.scenario import sensitivity_bytes
    from siteplan.locate.sensitivity import rank_acceptability

    for n, k, draws in ((13, 6, 20000), (60, 4, 5000), (2, 1, 50000)):
        x = np.random.default_rng(0).random((n, k))
        cap = np.linspace(1, 2, n)
        tracemalloc.start()
        rank_acceptability(x, np.full(k, 1 / k), draws=draws, combine=lambda s: estate_closeness(s, cap))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        est = sensitivity_bytes(draws, n, k)
        assert 0.7 * est < peak < 1.3 * est, (n, k, draws, peak, est)


# -- other numeric traps ---------------------------------------------------------------------------------


def test_many_problems_in_one_message(small):
    def f(d):
        d["allocation"].update(max_distance_km=float("inf"), search_passes=-1)
        d["clusters"] = {"eps_m": float("nan")}
        d["zoning"] = {"strip_m": -12}
        d["rules"] = {"max_slope_pct": float("inf")}
        d["seed"] = -1
    edit_yaml(small, f)
    _both(small, "6 problems", "allocation.max_distance_km: must be a finite number", "got inf",
          "allocation.search_passes: must be greater than or equal to 0, got -1",
          "clusters.eps_m: must be a finite number", "zoning.strip_m: must be greater than 0, got -12",
          "rules.max_slope_pct: must be a finite number", "seed: must be a whole number")


def test_criterion_settings(small):
    def f(d):
        d["criteria"][0]["weight"] = float("inf")
        d["criteria"][1]["transform"] = {"type": "linear", "points": []}
        d["criteria"].append({"name": "people", "kind": "catchment", "layer": "urban"})
    edit_yaml(small, f)
    _both(small, "3 problems", "criteria[0].weight: must be a finite number",
          "criteria[1]: '", "transform linear needs 2 or 4 control points in 'points' (e.g. points: [500, 20000])",
          "criteria[", "a catchment criterion needs 'radius_m' (e.g. 15000)")


def test_all_weights_zero(small):
    edit_yaml(small, lambda d: [c.update(weight=0) for c in d["criteria"]])
    _both(small, "criteria[*].weight: every criterion has weight 0; give at least one a weight above 0")


def test_owa_order_weights_of_the_wrong_length(small):
    edit_yaml(small, lambda d: d.update(aggregation={"method": "owa", "order_weights": [1, 2]}))
    _both(small, "aggregation.order_weights: give", "non-negative order weights, one per criterion of categor",
          "(got [1.0, 2.0])")


def test_site_area_range_reversed(small):
    edit_yaml(small, lambda d: d.update(sites={"min_area_ha": 500, "max_area_ha": 20}))
    _both(small, "sites: min_area_ha (500) is above max_area_ha (20)")


def test_huge_catchment_radius_is_harmless():
    """A radius far beyond the study area gives the sum of every point, not a kernel of terabytes."""
    from affine import Affine

    from siteplan.scoring.criteria import Grid, catchment_field

    g = Grid(Affine(100, 0, 0, 0, -100, 3000), 40, 30, 100.0, None)
    rng = np.random.default_rng(0)
    pts, w = rng.uniform(0, 3000, (50, 2)), rng.uniform(0, 10, 50)
    assert np.allclose(catchment_field(pts, w, g, 1e9), w.sum(), rtol=1e-5)
    assert np.array_equal(catchment_field(pts, w, g, 4500.0), catchment_field(pts, w, g, 4500.0 + 1e-9))


def test_catchment_radius_beyond_the_window_budget(small):
    # a fine grid and a radius that spans it: the convolution would need ~23 GiB
    def f(d):
        d["grid"]["resolution_m"] = 50
        d["criteria"] = [{"name": "people", "kind": "catchment", "layer": "urban", "field": "population",
                          "radius_m": 1e9, "transform": {"type": "linear", "points": [0, 100000]}}]
    edit_yaml(small, f)
    _both(small, "criteria[0] ('people'): radius_m 1e+09 m spans", "the catchment's convolution over the",
          "above the 16.0 GiB allowed; use a radius of at most", "or a coarser grid.resolution_m")


def test_distance_transform_reaching_too_far(small):
    # the distance field is padded by the saturation distance: 5,000 km of padding at 100 m is ~40 GiB
    # (points beyond 10,000 km are refused outright by the schema)
    edit_yaml(small, lambda d: (d["criteria"][0].update(
        transform={"type": "linear", "points": [0, 5e6], "increasing": False}), d["grid"].update(resolution_m=100)))
    _both(small, "criteria[0] ('road_access'): the transform points reach 5,000,000 m (its saturation distance)",
          "the padded distance field would need about", "use points that level off sooner")


def test_separation_override_beyond_any_standard(small):
    edit_yaml(small, lambda d: d.setdefault("catalogue", {}).setdefault("overrides", {}).update(
        car_body_paint={"sep_m": 1e8}))
    _both(small, "catalogue.overrides.car_body_paint.sep_m: a separation of 100,000,000 m pads the distance field",
          "VNG's largest is 1,500 m", "or a coarser grid.resolution_m")


def test_blockwise_halo_beyond_the_window_budget(small, tmp_path):
    # a 10,000 km reach pads every block by 10,001 cells: 122 GiB (it was killed by the OOM killer)
    edit_yaml(small, lambda d: d.update(criteria=[
        {"name": "people", "kind": "catchment", "layer": "urban", "field": "population", "radius_m": 1e7,
         "transform": {"type": "linear", "points": [0, 100000]}}]))
    r = CliRunner().invoke(main, ["suitability", str(small), "--category", "car_repair", "--blockwise",
                                  "--out", str(tmp_path / "s.tif")])
    _clear(r, "criteria[0] ('people'): the radius_m reach 10,000,000 m = 10,001 cells of 1000 m around every block",
           "above siteplan's budget of 16.0 GiB", "use a shorter reach")
    assert not (tmp_path / "s.tif").exists()


# -- a closed stdout ---------------------------------------------------------------------------------------


def _siteplan() -> str:
    exe = Path(sys.executable).with_name("siteplan")
    return str(exe if exe.exists() else ROOT / ".venv" / "bin" / "siteplan")


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_closed_stdout_ends_quietly(reader):
    # `| true` closes the pipe before siteplan writes: the write always meets a closed stdout
    p = subprocess.run(f"'{_siteplan()}' catalogue | {reader}; echo \"rc=${{PIPESTATUS[0]}}\" >&2",
                       shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120)
    rc = p.stderr.strip().splitlines()[-1]
    assert p.stderr.strip() == rc, p.stderr  # nothing but the exit status: no message, no traceback
    assert rc in ("rc=0", "rc=141"), rc
    if reader == "true":
        assert rc == "rc=141"
