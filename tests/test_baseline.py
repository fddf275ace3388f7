"""Plans that stay put (issue #26, item 4): ``siteplan run S.yaml --baseline RUN_DIR`` keeps every business
where the baseline put it unless moving it serves the change, and ``siteplan compare`` counts who moved
because of the change and who moved for nothing.

"Serves the change" (:func:`siteplan.outputs.compare.moved_because`): a business whose place changes from
estate A to estate B (either may be "unassigned") is served by the change when A or B is a changed
estate, or, chain-wise, when B had room freed by a business served by the change, or A was entered by
one (it was displaced by it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import DEMO_DIR, DEMO_YAML

from siteplan.cli import main
from siteplan.outputs.compare import moved_because

UPGRADED = "E06"


def _tree_hash(d: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(d.rglob("*")):
        h.update(f.relative_to(d).as_posix().encode())
        if f.is_file():
            h.update(f.read_bytes())
            h.update(str(f.stat().st_mtime_ns).encode())
    return h.hexdigest()


def test_moved_because_chains() -> None:
    """The rule on a hand-made table: E2 changed; b1 moves into it, b2 takes the room b1 freed at E1,
    b3 is displaced from E2 by b1 ... and b4 moves between two unchanged estates for nothing."""
    m = pd.DataFrame({
        "biz_id": ["b1", "b2", "b3", "b4", "b5", "b6"],
        "change": ["moved", "newly_assigned", "newly_unassigned", "moved", "moved", "site_changed"],
        "status_a": ["assigned", "unassigned", "assigned", "assigned", "assigned", "unassigned"],
        "status_b": ["assigned", "assigned", "unassigned", "assigned", "assigned", "unassigned"],
        "estate_id_a": ["E1", "", "E2", "E3", "E5", ""],
        "estate_id_b": ["E2", "E1", "", "E4", "E2", ""],
    })
    got = moved_because(m, {"E2"})
    assert got.tolist() == ["change", "change", "change", "nothing", "change", ""]
    assert moved_because(m, set()).tolist() == ["nothing"] * 5 + [""]
    # a change that reaches every business (a weight, the reach): what no estate explains is "scenario"
    assert moved_because(m, {"E2"}, wide=True).tolist() == ["change", "change", "change", "scenario", "change", ""]


def test_wide_change_from_the_manifests() -> None:
    from siteplan.outputs.compare import wide_change

    base = {"scenario": {"name": "a", "layers": {"estates": "x"}, "allocation": {"max_distance_km": 30}}, "seed": 0,
            "inputs": {"estates": {"e.shp": "1"}, "businesses": {"b.shp": "2"}}}
    assert not wide_change(base, base)
    assert not wide_change(base, {**base, "inputs": {"estates": {"e.shp": "9"}, "businesses": {"b.shp": "2"}},
                                  "scenario": {**base["scenario"], "name": "b", "layers": {"estates": "y"}}})
    assert wide_change(base, {**base, "scenario": {**base["scenario"], "allocation": {"max_distance_km": 20}}})
    assert not wide_change(base, {**base, "scenario": {**base["scenario"], "report": {"language": "fa"}}})
    assert wide_change(base, {**base, "seed": 1})
    assert wide_change(base, {**base, "inputs": {"estates": {"e.shp": "1"}, "businesses": {"b.shp": "3"}}})


def test_disruption_weight_on_the_model() -> None:
    """A unit pays the weight × its land on every arc away from its baseline estate and when left out."""
    from siteplan.relocation.model import AssignmentModel
    from siteplan.relocation.plan import with_disruption

    model = AssignmentModel(3, 2, np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 1]),
                            np.zeros(5), np.full(3, 100.0), [], unit_land=np.array([1e4, 2e4, 5e3]))
    b = pd.DataFrame({"biz_id": ["x", "y", "z", "w"]})
    stay = pd.Series({"x": "E1", "y": "", "z": "E2·reserved", "w": "E1"})
    out = with_disruption(model, b, np.array([0, 1, 2, 2]), np.array(["E1", "E2·reserved"]), stay, 10.0)
    # unit 0 (x) at E1: its arc to E2 costs 10 × 1 ha; unit 1 (y) was unassigned: no cost; unit 2 mixed
    assert out.cost.tolist() == [0.0, 10.0, 0.0, 5.0, 5.0]
    assert out.penalty.tolist() == [110.0, 100.0, 105.0]


@pytest.fixture(scope="module")
def baseline_pair(demo_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """The shared demo run (the baseline, read only) and a run of the demo with wastewater at E06 made with
    ``--baseline`` it; the baseline's hash before and after."""
    root = tmp_path_factory.mktemp("baseline")
    region = root / "shapefiles" / "isfahan_demo"
    shutil.copytree(DEMO_DIR, region)
    est = gpd.read_file(region / "estates.shp")
    assert int(est.loc[est.estate_id == UPGRADED, "wastewater"].iloc[0]) == 0
    est.loc[est.estate_id == UPGRADED, "wastewater"] = 1
    est.to_file(region / "estates.shp", encoding="UTF-8")
    data = yaml.safe_load(DEMO_YAML.read_text(encoding="utf-8"))
    data["outputs"] = {"suitability_tifs": False, "report": False}
    sc = root / "demo.yaml"
    sc.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = _tree_hash(demo_run_dir)
    out = root / "run_b"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet", "--baseline", str(demo_run_dir)])
    assert r.exit_code == 0, r.output
    return demo_run_dir, out, before, _tree_hash(demo_run_dir)


def test_baseline_moves_only_for_the_change(baseline_pair, tmp_path: Path) -> None:
    base, run_b, before, after = baseline_pair
    assert before == after  # the baseline folder is never modified
    man = json.loads((run_b / "manifest.json").read_text(encoding="utf-8"))
    bl = man["baseline"]
    assert bl["run"] == str(base) and bl["disruption_km"] == pytest.approx(30 * 1.2 + 1)
    cmp = tmp_path / "cmp"
    r = CliRunner().invoke(main, ["compare", str(base), str(run_b), "--out", str(cmp)])
    assert r.exit_code == 0, r.output
    assert "moved for nothing: 0" in r.output
    moved = pd.read_csv(cmp / "moved.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    placed = moved[moved["change"].isin(["moved", "newly_assigned", "newly_unassigned"])]
    assert len(placed) and (placed["because"] == "change").all(), placed[placed["because"] != "change"]
    # the change is real: businesses that needed wastewater now go to E06
    assert (placed["estate_id_b"] == UPGRADED).any()
    totals = pd.read_csv(cmp / "totals.csv", encoding="utf-8-sig").set_index("metric")
    assert totals.loc["moved for nothing", "change"] == 0
    assert totals.loc["moved because of the change", "change"] == len(placed)
    # and the run's own summary agrees with the comparison
    assert bl["moved"] + bl["displaced"] + bl["newly_placed"] == len(placed)


def test_baseline_folder_is_refused_as_output(demo_run_dir: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["run", str(DEMO_YAML), "--out", str(demo_run_dir), "--overwrite",
                                  "--baseline", str(demo_run_dir)])
    assert r.exit_code == 1 and "is the --baseline run folder" in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(main, ["run", str(DEMO_YAML), "--out", str(tmp_path / "o"),
                                  "--baseline", str(tmp_path)])
    assert r.exit_code == 1 and "--baseline" in r.output and "Traceback" not in r.output, r.output
