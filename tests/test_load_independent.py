"""Results do not depend on the machine's load (issue 24): every solver step ends at a deterministic
work limit (branch-and-bound nodes, passes, tried moves), and the wall-clock limit is only a safety net
that fails loudly (``SafetyNetError``) — never a silent change of answer.

The load tests saturate every CPU with busy processes while solving a hard relocation instance (the
exact MILP and the repair MILP both stop at their node limits) and while running a 4-province nation
with 1 and 2 workers, and compare the bytes with an idle run.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from siteplan.errors import SafetyNetError, SolverError
from siteplan.relocation import SolverOptions, solve_model
from siteplan.relocation.local_search import local_search
from siteplan.relocation.plan import _solver_report
from siteplan.relocation.repair import Incumbent, sub_milp
from siteplan.scenario import AllocationSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_relocation_limits import hard_instance  # noqa: E402

#: the hard instance: 30 units on 7 estates, each about 1/1.15 short of land (a multi-knapsack HiGHS
#: cannot prove in a few nodes); with these limits both MILPs stop at their node limits
HARD = {"seed": 1, "n_units": 30}
LIMITS = {"exact_node_limit": 3, "node_limit": 2}


@contextlib.contextmanager
def saturated_cpus() -> Iterator[None]:
    """Every CPU busy with a spinning process while the block runs; they are ended after."""
    n = os.cpu_count() or 2
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=30)


def _answer_bytes(**overrides: object) -> bytes:
    """The relocation answer and the manifest's solver section (its timings aside) as bytes."""
    model = hard_instance(**HARD)  # type: ignore[arg-type]
    res = solve_model(model, SolverOptions(**LIMITS), **overrides)  # type: ignore[arg-type]
    report = _solver_report(res, model)
    report.pop("timings_s")
    return res.assign.astype(np.int64).tobytes() + json.dumps(report, sort_keys=True).encode()


def test_hard_instance_same_answer_idle_and_under_load() -> None:
    idle = _answer_bytes()
    report = json.loads(idle[8 * HARD["n_units"]:])
    # the hard path: the exact MILP stopped at its node limit, the repair MILP at its own
    assert report["fallback"] == ("the exact MILP (30 units, 129 arcs) stopped at its node limit (3 nodes) before "
                                  "proving optimality; the large-instance path answered, with its bound")
    assert report["residual_method"] == "milp (node limit)"
    assert "time" not in json.dumps(report)  # no load-dependent words
    with saturated_cpus():
        loaded = _answer_bytes()
    assert loaded == idle


def test_exact_milp_safety_net_fails_loudly() -> None:
    """The clock stopping the exact MILP before its node limit is an error, not a silent fallback."""
    with pytest.raises(SafetyNetError) as err:
        solve_model(hard_instance(seed=2, n_units=300), time_limit_s=0.05)
    msg = str(err.value)
    assert msg.startswith("relocation: the exact MILP (300 units, 1319 arcs) was stopped by the wall-clock safety "
                          "net (allocation.time_limit_s = 0.05 s) before its work limit (1000 branch-and-bound nodes")
    assert "Raise allocation.time_limit_s" in msg
    assert isinstance(err.value, SolverError)  # the CLI's one clear message, exit 1


def test_repair_milp_safety_net_fails_loudly() -> None:
    """Old behaviour: the repair MILP's best solution at the clock was kept (load-dependent)."""
    model = hard_instance(seed=2, n_units=300)
    a_ub, b_ub = model.capacity_matrix()
    inc = Incumbent.from_relaxation(model, _flow(model, a_ub, b_ub), a_ub, b_ub)
    units = np.arange(model.n_units)
    with pytest.raises(SafetyNetError, match=r"the repair MILP \(300 units, 1319 arcs\) was stopped by the "
                                             r"wall-clock safety net .* \(300 branch-and-bound nodes"):
        sub_milp(model, units, np.arange(model.n_arcs), inc.a_csc, b_ub.copy(), time_limit=0.01, rel_gap=0.0,
                  node_limit=300)


def _flow(model, a_ub, b_ub):  # type: ignore[no-untyped-def]
    from siteplan.relocation.relaxation import relax

    return relax(model, a_ub, b_ub, "auto", None)


def test_local_search_safety_net_fails_loudly() -> None:
    """Old behaviour: the local search stopped silently at the clock, after however many moves it had made."""
    model = hard_instance(seed=2, n_units=300)
    a_ub, b_ub = model.capacity_matrix()
    inc = Incumbent.from_relaxation(model, _flow(model, a_ub, b_ub), a_ub, b_ub)
    with pytest.raises(SafetyNetError, match=r"the local search was stopped by the wall-clock safety net"):
        local_search(model, inc.arc_of, inc.row_left, inc.a_csc, inc.order_arcs, inc.starts, max_passes=5,
                     time_budget=0.0)


def test_p_median_safety_net_fails_loudly_and_node_limit_falls_back() -> None:
    from siteplan.locate.facility import p_median

    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 100, (60, 2))
    cost = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    with pytest.raises(SafetyNetError, match=r"p_median: the exact MILP \(60 × 60\) was stopped by the wall-clock"):
        p_median(cost, np.ones(60), 5, time_limit=1e-4)
    a = p_median(cost, np.ones(60), 5, node_limit=1)
    b = p_median(cost, np.ones(60), 5, node_limit=1)
    assert a.method == b.method and a.objective == b.objective and (a.open == b.open).all()
    assert a.method.startswith("MILP") or a.method.startswith("exact MILP stopped at its node limit (1 nodes)")


def test_scenario_keys() -> None:
    spec = AllocationSpec()
    assert (spec.time_limit_s, spec.node_limit, spec.exact_node_limit) == (600.0, 300, 1000)
    opts = SolverOptions.from_spec(AllocationSpec(exact_node_limit=7, time_limit_s=60))
    assert (opts.exact_node_limit, opts.time_limit_s) == (7, 60)
    assert SolverOptions().exact_node_limit == 1000


# --- a 4-province nation under load ----------------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[1] / "data"
FAST = {"grid": {"resolution_m": 4000}, "sensitivity": {"draws": 5}, "upgrades": {"count": 0},
        "sites": {"count": 0}, "classification": {"model": False}, "categories": ["car_repair", "metalwork"],
        "outputs": {"suitability_tifs": False}}
#: the nation keeps every THIN-th of the demo's businesses: a run's cost is mostly per business (classify,
#: clusters, the report), and the CPU-saturating load lasts as long as the two loaded runs
THIN = 5
NATIONAL_FILES = ["relocation.csv", "estate_summary.csv", "estates.geojson", "zones.geojson", "clusters.geojson",
                  "flows.csv", "towns.csv", "report.html", "partitions.json", "national.gpkg"]


def _nation(root: Path) -> Path:
    from test_national import _demo_settings, _provinces

    import geopandas as gpd

    _provinces(4326).to_file(root / "provinces.shp", encoding="utf-8")
    d = _demo_settings()
    d.update(FAST)
    b = gpd.read_file(d["layers"]["businesses"]["path"])
    b.iloc[::THIN].to_file(root / "businesses.shp", encoding="utf-8")
    d["layers"]["businesses"]["path"] = str(root / "businesses.shp")
    d["national"] = {"partitions": {"path": "provinces.shp"}, "field": "ostan"}
    (root / "national.yaml").write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / "national.yaml"


def _same_outputs(a: Path, b: Path) -> None:
    for f in NATIONAL_FILES:
        assert filecmp.cmp(a / f, b / f, shallow=False), f
    files_a = sorted(p.relative_to(a) for p in (a / "provinces").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in (b / "provinces").rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    for rel in files_a:
        if rel.name != "manifest.json":
            assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    # the manifests differ only by their dates and timings: the solver sections agree
    for rel in files_a:
        if rel.name == "manifest.json":
            sa, sb = (_solver(json.loads((x / rel).read_text(encoding="utf-8"))) for x in (a, b))
            assert sa == sb, rel


def _solver(manifest: dict) -> object:
    sol = dict(manifest.get("solver") or {})
    sol.pop("timings_s", None)
    return sol


@pytest.mark.filterwarnings("ignore")  # worker threads: see tests/test_national.py
def test_nation_same_bytes_idle_and_under_load_with_1_and_2_workers(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("distributed")
    from siteplan.national import run_national_file

    caplog.set_level(logging.WARNING)
    nation = _nation(tmp_path)
    idle = tmp_path / "idle"
    res = run_national_file(nation, idle, workers=0, cache=tmp_path / "c0")
    assert [o.status for o in res.outcomes] == ["ok"] * 4
    with saturated_cpus():
        for workers in (1, 2):
            out = tmp_path / f"loaded{workers}"
            res = run_national_file(nation, out, workers=workers, cache=tmp_path / f"c{workers}", processes=False)
            assert [o.status for o in res.outcomes] == ["ok"] * 4
            _same_outputs(idle, out)


def test_cli_safety_net_is_one_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    """A run whose solver step the clock stops: exit 1, one message naming the key, no traceback, no output."""
    from click.testing import CliRunner
    from test_national import _demo_settings

    from siteplan.cli import main

    d = _demo_settings()
    d.update(FAST)
    d.setdefault("allocation", {}).update(time_limit_s=1e-6)
    sc = tmp_path / "demo.yaml"
    sc.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "wall-clock safety net (allocation.time_limit_s = 1e-06 s)" in r.output
    assert "Traceback" not in r.output
    assert not out.exists() or not any(out.iterdir())
