"""Shared fixtures: the demo scenario, broken copies of it, and small synthetic layers."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO_YAML = ROOT / "data" / "demo.yaml"
DEMO_DIR = ROOT / "data" / "shapefiles" / "isfahan_demo"
SHARED = ROOT.parent / "shared" / "data"
# The solve cache (keyed by the model's arrays, the options and the solver's source; its answers are
# checked byte for byte against solving in tests/test_speed.py) is on for the suite, in a folder of this
# session only: the many demo-sized runs share their identical relocation solves instead of repeating
# them. Tests whose point is that solving twice gives the same bytes (names with "determin",
# "identical", "same_seed", "load_independent", "reproduc") solve without it (fixture below).
if "SITEPLAN_SOLVE_CACHE" not in os.environ:
    import tempfile

    os.environ["SITEPLAN_SOLVE_CACHE"] = "on"
    os.environ.setdefault("SITEPLAN_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"siteplan-test-cache-{os.getppid()}"))

_SOLVE_TWICE = ("determin", "identical", "same_seed", "load_independent", "reproduc")


@pytest.fixture(autouse=True)
def _solve_for_real_in_determinism_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Determinism tests solve every model themselves: a cached answer would make them unable to fail."""
    if any(w in request.node.nodeid.lower() for w in _SOLVE_TWICE):
        monkeypatch.setenv("SITEPLAN_SOLVE_CACHE", "off")


def _shared_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shared demo run's folder and the pickle of its :class:`~siteplan.results.RunResult`,
    made once per session (and per package and demo bytes) under an exclusive lock."""
    import pickle

    from click.testing import CliRunner

    import siteplan.pipeline
    from siteplan.cli import main

    base = tmp_path_factory.getbasetemp()
    if base.name.startswith("popen-gw"):  # pytest-xdist: the workers' common parent
        base = base.parent
    h = hashlib.sha256()
    for f in sorted([*(ROOT / "siteplan").rglob("*.py"), *(ROOT / "siteplan" / "data").glob("*"),
                     DEMO_YAML, *DEMO_DIR.glob("*")]):
        if f.is_file():
            h.update(f.as_posix().encode() + f.read_bytes())
    out = base / f"shared-demo-{h.hexdigest()[:16]}"
    pkl = base / f"shared-demo-{h.hexdigest()[:16]}.pickle"
    failed = base / f"shared-demo-{h.hexdigest()[:16]}.failed"
    with open(base / "shared-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if failed.is_file():  # made once and failed: the other tests that need it fail at once, not run it again
                pytest.fail(f"the shared demo run failed earlier in this session:\n{failed.read_text(encoding='utf-8')}")
            if not ((out / "manifest.json").is_file() and pkl.is_file()):
                # `siteplan demo` itself; its result is kept (pickled) for the tests that read it in memory
                real, got = siteplan.pipeline.run_scenario_file, []

                def keep(*a, **k):  # type: ignore[no-untyped-def]
                    got.append(real(*a, **k))
                    return got[-1]

                siteplan.pipeline.run_scenario_file = keep
                try:
                    r = CliRunner().invoke(main, ["demo", "--out", str(out), "--quiet", "--overwrite"])
                    assert r.exit_code == 0, r.output
                    assert len(got) == 1
                    tmp = pkl.with_suffix(".part")
                    tmp.write_bytes(pickle.dumps(got[0], protocol=pickle.HIGHEST_PROTOCOL))
                    tmp.replace(pkl)
                except BaseException as e:
                    failed.write_text(f"{type(e).__name__}: {e}"[:4000], encoding="utf-8")
                    raise
                finally:
                    siteplan.pipeline.run_scenario_file = real
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out, pkl


@pytest.fixture(scope="session")
def demo_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``siteplan demo`` run shared by every test of the session (and every xdist worker), READ ONLY.

    The demo is the slowest fixture of the suite; tests that only read its default outputs share one
    run instead of each running it again. The folder is keyed by the package's and the demo's bytes,
    and made under an exclusive lock, so concurrent workers wait for the first instead of racing.
    Tests that change the demo or write into its folder must run their own.
    """
    return _shared_demo(tmp_path_factory)[0]


@pytest.fixture(scope="session")
def demo_result(tmp_path_factory: pytest.TempPathFactory):
    """The shared demo run's :class:`~siteplan.results.RunResult` (the one that wrote
    :func:`demo_run_dir`), unpickled once per worker. Treat it as READ ONLY: a test that changes it
    must put back what it changed (as ``test_browser.fa_report`` does) or run its own."""
    import pickle

    return pickle.loads(_shared_demo(tmp_path_factory)[1].read_bytes())


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo scenario and region; returns the scenario path."""
    dst = tmp_path / "shapefiles" / "isfahan_demo"
    shutil.copytree(DEMO_DIR, dst)
    sc = tmp_path / "demo.yaml"
    shutil.copy(DEMO_YAML, sc)
    return sc


def edit_yaml(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


#: explicit criteria of the small scenario (the demo itself uses the catalogue's default criteria by
#: profile): the tests of explicit criteria, weights, AHP and OWA edit these
EXPLICIT_CRITERIA = [
    {"name": "road_access", "kind": "distance", "layer": "roads",
     "filter": {"road_class": ["motorway", "trunk", "primary"]},
     "transform": {"type": "linear", "points": [500, 20000], "increasing": False}, "weight": 0.35},
    {"name": "workforce", "kind": "distance", "layer": "urban", "filter": {"kind": ["city", "town"]},
     "transform": {"type": "linear", "points": [2000, 5000, 15000, 40000]}, "weight": 0.25,
     "categories": ["car_repair", "car_body_paint", "car_parts", "car_wash_oil", "metalwork", "carpentry",
                    "stone_cutting", "scrap", "textile_dyeing", "wholesale_food", "wholesale_building", "tech_firm"]},
    {"name": "customers", "kind": "catchment", "layer": "urban", "field": "population", "radius_m": 15000,
     "transform": {"type": "linear", "points": [0, 400000]}, "weight": 0.35,
     "categories": ["car_showroom", "furniture_sales", "chain_store", "large_store"]},
    {"name": "estate_synergy", "kind": "distance", "layer": "estates",
     "transform": {"type": "linear", "points": [0, 25000], "increasing": False}, "weight": 0.20},
    {"name": "power_access", "kind": "distance", "layer": "utilities", "filter": {"kind": ["power_line"]},
     "transform": {"type": "linear", "points": [0, 15000], "increasing": False}, "weight": 0.20},
]


def small_scenario(tmp_path: Path, *, n_biz: int = 60) -> Path:
    """A fast scenario: the demo region cut to the Isfahan area and ``n_biz`` businesses, with the
    explicit criteria :data:`EXPLICIT_CRITERIA`."""
    out = tmp_path / "small"
    out.mkdir()
    from siteplan.common.atomic import write_shapefile

    bbox = (51.2, 32.4, 52.1, 32.95)
    for f in sorted(DEMO_DIR.glob("*.shp")):
        g = gpd.read_file(f)
        g = g.cx[bbox[0]:bbox[2], bbox[1]:bbox[3]]
        if f.stem == "businesses":
            g = g.iloc[:: max(1, len(g) // n_biz)].head(n_biz)
        if len(g):
            write_shapefile(g, out / f.name)
    data = yaml.safe_load(DEMO_YAML.read_text(encoding="utf-8"))
    data.setdefault("criteria", EXPLICIT_CRITERIA)
    data["grid"]["resolution_m"] = 1000
    data["sensitivity"] = {"draws": 20}
    layers = {}
    for name, spec in data["layers"].items():
        p = out / Path(spec["path"]).name
        if p.exists():
            layers[name] = {"path": p.name}
    data["layers"] = layers
    sc = out / "small.yaml"
    sc.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return sc


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromedriver are not installed")


def start_browser(width: int = 1400, height: int = 900):
    """Headless Chromium with no network at all (a proxy on a closed port), browser logs captured."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--window-size={width},{height}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.set_capability("unhandledPromptBehavior", "ignore")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


# ---------------------------------------------------------------- speed marks and the order of the files

#: fixtures that make every test using them slow: whole demo-sized runs (shared ones included: a test
#: run alone, or the first on its worker, pays for them)
SLOW_FIXTURES = {"demo_run_dir", "demo_result"}
#: per module: "*" (every test), or the names of its fixtures and tests that are slow (a test is slow
#: when it uses one of the fixtures, or is named). Measured CPU time, two cores: see README, Development.
SLOW: dict[str, set[str]] = {
    "test_threads_same_answers.py": {"*"},
    "test_blas_and_threads.py": {"test_name_model_bits_do_not_depend_on_who_loaded_numpy_first"},
    "test_results_immutable.py": {"*"},  # a whole small run
    "test_browser.py": {"*"},
    "test_guilds.py": {"test_classification_does_not_depend_on_the_hash_seed"},  # trains the name model twice
    "test_rules.py": {"test_no_allowed_cell_has_a_point_inside_the_rule_distance"},
    "test_notebook.py": {"test_walkthrough_executes"},
    "test_packaging.py": {"test_wheel_installs_and_runs_the_demo_outside_the_checkout"},
    "test_phasing.py": {"phased"},
    "test_compare.py": {"demo_pair"},
    "test_qgis.py": {"test_qgis_process_runplan"},
    "test_national.py": {"nation", "test_suitability_cog_on_dask"},
    "test_national_provinces.py": {"*"},
    "test_national_cluster.py": {"*"},
    "test_classify_ml.py": {"test_filled_demo_review_csv_is_learnt", "test_run_writes_review_csv_and_labels_feed_back",
                            "test_twenty_thousand_names_in_seconds",
                            # each trains a name model on a registry (5-13 CPU s)
                            "test_registry_right_wrong_review", "test_model_is_deterministic_and_gives_probabilities",
                            "test_registry_rows_classified_by_rules_teach_the_model",
                            "test_review_table_lists_what_is_not_guessed", "test_review_reasons_have_a_persian_text",
                            "test_a_name_like_a_labelled_one_follows_the_label",
                            "test_name_model_vetoes_a_rule_it_strongly_disagrees_with"},
    "test_pmedian.py": {"test_lp_gap_is_closed_beyond_the_lp_bound"},
    "test_outdir.py": {"test_kill_during_a_real_run", "test_sigterm_leaves_no_staging_folder", "base_run"},
    "test_cli.py": {"test_ahp_weights_in_scenario_and_report", "test_plots_output",
                    # the first two to classify the 150 businesses of `small` (one name model trained)
                    "test_whole_area_excluded_is_explained", "test_owa_aggregation",
                    "test_same_seed_gives_byte_identical_outputs",
                    "test_zero_capacity_everywhere_runs_to_the_end_with_reasons_and_new_sites",
                    "test_cli_process_exit_codes_and_quiet", "small_run", "test_suitability_command"},
    "test_redteam.py": {"test_gpkg_relocation_layer_holds_the_runs_ids_not_the_csv_quotes"},
    "test_vocab.py": {"test_persian_kinds_work_without_a_mapping"},
    "test_zone_blocks.py": {"test_occupied_layer_through_the_cli"},
    "test_validation.py": {"test_demo_is_valid"},
    "test_true_figures.py": {"test_explain_an_estate_when_another_is_reserved"},
    "test_load_independent.py": {"test_nation_same_bytes_idle_and_under_load_with_1_and_2_workers",
                                 "test_hard_instance_same_answer_idle_and_under_load"},
    "test_explain_run.py": {"test_demo_every_estate_and_category_agrees", "small_run"},
    "test_owa.py": {"test_owa_robustness_matches_a_monte_carlo_of_the_owa_model"},
    "test_relocation_limits.py": {"test_exact_milp_node_limit_falls_back_with_a_valid_bound"},
    "test_name_model_cache.py": {"test_unsafe_or_damaged_cache_files_are_ignored", "test_other_training_data_is_another_key",
                                 "test_second_training_is_a_cache_hit_with_identical_predictions"},
    "test_osm.py": {"test_ingest_validate_run"},
    "test_profiles.py": {"test_default_criteria_blockwise_equal_whole_grid", "demo_prep",
                         # a name model trained on their scenario's businesses (9 CPU s)
                         "test_explicit_criteria_still_win", "test_explicit_criterion_on_classified_businesses"},
    "test_hostile_report.py": {"hostile_run", "hostile_osm_run", "browser"},
    "test_input_safety.py": {"national_run", "base_run"},
    "test_blockwise.py": {"test_blockwise_equals_whole_grid", "test_dask_chunks_equal_blockwise_and_whole_grid",
                          "test_every_criterion_kind_is_the_same_whole_grid_and_block_by_block"},
    "test_demo_region.py": {"test_build_script_regenerates_committed_files_byte_for_byte"},
    "test_gis_io.py": {"pg_server", "shp_run"},
    "test_reuse.py": {"*"},
    # whole small-scenario runs (one or more each), kept out of `make test-fast` (issue 25: under 2 minutes)
    "test_hostile_errors.py": {"test_names_are_written_as_the_user_wrote_them",
                               "test_fifo_device_and_socket_inputs_are_refused_before_opening"},
    "test_roads.py": {"test_small_run_road_and_straight"},
    "test_reservations.py": {"base"},
    # whole small runs or a name model trained on their businesses (9-20 CPU s each): named by the
    # CPU summary at the end of a run (FAST_BUDGET_S). Mark a module's shared fixture, not its first
    # test, or the next test pays for the fixture in `make test-fast`.
    "test_upgrades.py": {"*"},
    "test_cli_safety.py": {"test_explain_estate_name_is_printed_escaped"},
    "test_csv_safety.py": {"test_relocation_csv_of_a_run_is_neutralised"},
    "test_report_summary.py": {"run"},
    "test_speed.py": {"test_solve_cache_hit_gives_identical_outputs_and_no_solve"},
    "test_summaries.py": {"test_origin_and_flow_tables_add_up_to_the_plan"},
    "test_outputs.py": {"xss_run", "test_csv_bom_can_be_turned_off"},
    "test_newsites.py": {"test_sites_take_unassigned_businesses_within_reach", "test_no_demand_no_site",
                         "test_search_shares_work_and_finds_what_a_search_from_scratch_finds",
                         "test_window_rule_distances_give_the_rules_own_masks"},
    "test_newsites_fl.py": {"demo_model"},  # the demo's plan and site model
    "test_export_safety.py": {"small_run"},
    "test_report_lang.py": {"small_run"},
    "test_locate_speed.py": {"test_demand_search_with_cache_finds_the_cold_sites_and_recomputes_a_changed_chain"},
}
#: the heaviest files first (CPU seconds of each file's tests, cold caches, measured one file after another in
#: one process on the 2-core machine: tests/conftest.py's figures), so the two xdist workers, which take whole
#: files (`--dist loadfile --no-loadscope-reorder`) and ask for the next when theirs is almost done, end close
#: together: what is left after this list are files of a few CPU seconds each, so neither worker ends with a
#: 20-second file while the other is idle. The shared demo run is made by test_browser.py's first test (one
#: worker), while the other works on test_classify_ml.py, whose one demo test comes late in the file.
HEAVY_FIRST = [
    "test_browser.py",  # 72 s, and Chromium's own CPU: builds the shared demo run, then the browsers
    "test_classify_ml.py",  # 124 s: eleven registries, each measured by a name model trained without it
    "test_load_independent.py",  # 80 s with its spinning load, which slows the other worker too
    "test_national_provinces.py",  # 77 s
    "test_national.py",  # 70 s
    "test_explain_run.py",  # 53 s
    "test_national_cluster.py",  # 43 s, and its Dask processes' start-up
    "test_cli.py",  # 41 s
    "test_outdir.py",  # 41 s
    "test_blockwise.py",  # 27 s
    "test_reuse.py",  # 27 s
    "test_compare.py",  # 23 s
    "test_profiles.py",  # 21 s
    "test_gis_io.py",  # 20 s, and the PostgreSQL server's start
    "test_name_model_cache.py",  # 20 s
    "test_write_speed_safety.py",  # 20 s
    "test_notebook.py",  # 20 s, and the kernel's start
    "test_qgis.py",  # 19 s, and QGIS's start
    "test_packaging.py",  # 19 s
    "test_programme.py",  # 17 s
    "test_name_model_numpy.py",  # 17 s
    "test_phasing.py",  # 16 s
    "test_baseline.py",  # 15 s
    "test_reservations.py",  # 15 s
    "test_relocation_limits.py",  # 14 s
]


# ---------------------------------------------------------------- CPU seconds per test (issue 25: the inner loop)

#: a test not marked slow that takes more CPU seconds than this (setup, call and teardown, its child
#: processes included) is named at the end of the run, to be marked slow in :data:`SLOW` or made faster
FAST_BUDGET_S = float(os.environ.get("SITEPLAN_FAST_TEST_BUDGET_S", "3"))
_CPU = pytest.StashKey[dict]()


def _cpu_now() -> float:
    """CPU seconds of this process and of its children that ended (a test's subprocesses)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    t = _cpu_now()
    yield
    item.stash.setdefault(_CPU, {})["setup"] = _cpu_now() - t


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    t = _cpu_now()
    yield
    item.stash.setdefault(_CPU, {})["call"] = _cpu_now() - t


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item):  # type: ignore[no-untyped-def]
    t = _cpu_now()
    yield
    item.stash.setdefault(_CPU, {})["teardown"] = _cpu_now() - t


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    rep = (yield).get_result()
    cpu = item.stash.get(_CPU, {}).get(call.when)
    if cpu is not None:  # carried to the controller by pytest-xdist with the report
        rep.user_properties.append(("cpu_s", round(cpu, 3)))


_cpu_by_test: dict[str, list] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cpu = sum(v for k, v in report.user_properties if k == "cpu_s")
    row = _cpu_by_test.setdefault(report.nodeid, [0.0, "slow" in report.keywords])
    row[0] += cpu


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """The tests' CPU seconds (all, and those not marked slow), and the unmarked tests over the budget."""
    if not _cpu_by_test:
        return
    fast = {k: v[0] for k, v in _cpu_by_test.items() if not v[1]}
    total = sum(v[0] for v in _cpu_by_test.values())
    tr = terminalreporter
    tr.write_line(f"CPU seconds in the tests: {total:.0f} ({len(_cpu_by_test)} tests); not marked slow: "
                  f"{sum(fast.values()):.0f} ({len(fast)} tests)")
    over = sorted(((v, k) for k, v in fast.items() if v > FAST_BUDGET_S), reverse=True)
    if over:
        tr.write_line(f"{len(over)} test(s) not marked slow took more than {FAST_BUDGET_S:g} CPU s each; mark them "
                      f"slow in tests/conftest.py (SLOW) or make them faster (`make test-fast` must stay under 2 "
                      f"minutes on 2 cores):", yellow=True)
        for v, k in over:
            tr.write_line(f"  {v:6.1f} s  {k}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (``-m "not slow"`` leaves them out) and put the heaviest files first."""
    for item in items:
        mod = item.path.name
        names = set(getattr(item, "fixturenames", ())) | {getattr(item, "originalname", item.name)}
        slow = SLOW.get(mod, set())
        if "*" in slow or names & (slow | SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)
    rank = {m: i for i, m in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda it: rank.get(it.path.name, len(rank)))  # stable: the rest keep their order
