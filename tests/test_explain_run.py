"""`siteplan explain RUN_DIR`: explain answered from what a finished run saved (its explain/ folder),
the same answer as explain on the scenario."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main
from siteplan.outputs.explain import explain, explain_run
from siteplan.pipeline import demo_scenario_path, prepare
from siteplan.scenario import load_scenario


def _same(a: object, b: object) -> bool:
    """Equal JSON-ready values (NaN equal to NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exr")
    sc = small_scenario(tmp, n_biz=40)
    out = tmp / "run"
    r = CliRunner().invoke(main, ["--quiet", "run", str(sc), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return sc, out


def test_run_saves_explain_data_in_its_outputs(small_run):
    sc, out = small_run
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for f in ("explain/explain.json", "explain/geometry.npz", "explain/rasters.npz"):
        assert f in m["outputs_sha256"], f
    # the marker lists them: --overwrite replaces the folder (its explain/ is siteplan's own)
    r = CliRunner().invoke(main, ["--quiet", "run", str(sc), "--out", str(out), "--overwrite"])
    assert r.exit_code == 0, r.output
    m2 = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # byte-identical explain data from run to run
    assert {k: v for k, v in m2["outputs_sha256"].items() if k.startswith("explain/")} == \
        {k: v for k, v in m["outputs_sha256"].items() if k.startswith("explain/")}


@pytest.mark.parametrize("args", [["--estate", "E01", "--category", "scrap"],
                                  ["--at", "51.6776,32.6572", "--category", "metalwork"],
                                  ["--at", "51.40,32.55", "--category", "car_repair"],
                                  ["--at", "10,10", "--category", "scrap"]])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_run_dir_answers_as_scenario(small_run, args, fmt):
    sc, out = small_run
    a = CliRunner().invoke(main, ["explain", str(sc), *args, "--format", fmt])
    b = CliRunner().invoke(main, ["explain", str(out), *args, "--format", fmt])
    assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
    assert a.stdout == b.stdout


def test_cli_run_dir_errors(small_run, tmp_path):
    sc, out = small_run
    r = CliRunner().invoke(main, ["explain", str(out), "--category", "scrap", "--estate", "NOPE"])
    assert r.exit_code == 1 and "no estate with estate_id 'NOPE'" in r.output
    r = CliRunner().invoke(main, ["explain", str(out), "--category", "nope", "--estate", "E01"])
    assert r.exit_code == 1 and "'nope' is not in scope" in r.output
    r = CliRunner().invoke(main, ["explain", str(tmp_path), "--category", "scrap", "--estate", "E01"])
    assert r.exit_code == 1 and "no explain/explain.json" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad"
    (bad / "explain").mkdir(parents=True)
    (bad / "explain" / "explain.json").write_text('{"format": 1}', encoding="utf-8")
    r = CliRunner().invoke(main, ["explain", str(bad), "--category", "scrap", "--estate", "E01"])
    assert r.exit_code == 1 and "damaged or incomplete" in r.output and "Traceback" not in r.output
    cut = tmp_path / "cut"  # a run whose criterion rasters were cut short: read only at a point's criteria
    shutil.copytree(out, cut)
    ras = cut / "explain" / "rasters.npz"
    ras.write_bytes(ras.read_bytes()[: ras.stat().st_size // 2])
    lon, lat = _a_point(cut)
    r = CliRunner().invoke(main, ["explain", str(cut), "--category", "scrap", "--at", f"{lon},{lat}"])
    assert r.exit_code == 1 and "damaged or incomplete" in r.output and "internal error" not in r.output
    for name, content in (("geometry.npz", b""), ("rasters.npz", b"not an archive")):  # empty, or not an npz
        (cut / "explain" / name).write_bytes(content)
        r = CliRunner().invoke(main, ["explain", str(cut), "--category", "scrap", "--at", f"{lon},{lat}"])
        assert r.exit_code == 1 and "damaged or incomplete" in r.output and "allow_pickle" not in r.output, r.output


def _a_point(run: Path) -> tuple[float, float]:
    """A point inside the run's first estate (lon, lat)."""
    import geopandas as gpd

    p = gpd.read_file(run / "estates.geojson").geometry.iloc[0].representative_point()
    return round(p.x, 6), round(p.y, 6)


def test_demo_every_estate_and_category_agrees(demo_run_dir):
    """On the demo: explain from what `siteplan demo` saved (the shared run) equals explain on the scenario
    for every (estate, category), and at points inside, outside and off the grid."""
    prep = prepare(load_scenario(demo_scenario_path()))
    eids = [str(e) for e in prep.region.layers["estates"]["estate_id"]]
    n = 0
    for code in prep.codes:
        for eid in eids:
            a = explain(prep, code, estate=eid)
            b = explain_run(demo_run_dir, code, estate=eid)
            assert _same(a.as_dict(), b.as_dict()) and a.lines() == b.lines() and a.usable == b.usable, (code, eid)
            rows = a.lines()[a.lines().index("criteria (raw value → transformed × weight = contribution):") + 1:]
            assert len({r.index("→") for r in rows if "→" in r}) == 1, rows  # one column, long names too
            n += 1
        for at in ((51.6776, 32.6572), (51.45, 32.75), (52.3, 33.4), (0.0, 0.0)):
            a, b = explain(prep, code, at=at), explain_run(demo_run_dir, code, at=at)
            assert _same(a.as_dict(), b.as_dict()) and a.lines() == b.lines(), (code, at)
    assert n == len(prep.codes) * len(eids) > 100


def test_point_routes_from_stored_costs_equal_routing(small_run, tmp_path):
    """explain/roads.npz stores each estate's cost from every node: a point's routes from them are the
    very table routing on the network gives (many points, both reach measures), and a run without
    them (an older run) is answered by routing, the same answer."""
    import dataclasses
    import shutil

    import numpy as np
    import pandas as pd
    import shapely

    from siteplan.outputs.explain_data import _road_arrays
    from siteplan.outputs.explain_source import ExplainSource
    from siteplan.outputs.formats import write_npz as _write_npz
    from siteplan.outputs.explain_routes import has_routes, routes_at
    from siteplan.relocation.roads import routes_from
    from siteplan.scenario import AllocationSpec

    sc, out = small_run
    with np.load(out / "explain" / "roads.npz", allow_pickle=False) as z:
        assert has_routes(dict(z))
    src = ExplainSource.load(out)
    src = dataclasses.replace(src, network=src.network.get())
    ids = list(src.estates)
    geoms = np.array([src.estates[e][1] for e in ids], dtype=object)
    minx, miny, maxx, maxy = src.study_area.bounds
    rng = np.random.default_rng(7)
    pts = list(shapely.points(rng.uniform(minx - 2e4, maxx + 2e4, 150), rng.uniform(miny - 2e4, maxy + 2e4, 150)))
    pts += list(shapely.line_interpolate_point(src.network.seg_geom[:60], 0.5, normalized=True))  # on the roads
    found = 0
    for spec in (src.allocation.get(), AllocationSpec(max_distance_km=15), AllocationSpec(reach_min=25)):
        arrays = _road_arrays(src, ids, spec)
        for p in pts:
            want = routes_from(src.network, p, geoms, ids, spec)
            pd.testing.assert_frame_equal(routes_at(arrays, p, geoms, ids, spec), want, check_exact=True)
            found += len(want)
        assert routes_at(arrays, pts[0], geoms, ids, AllocationSpec(max_distance_km=99)) is None  # another reach
    assert found > 50  # routes were found (the test can fail)
    # an older run: roads.npz without the stored costs
    old = tmp_path / "old"
    shutil.copytree(out, old)
    with np.load(old / "explain" / "roads.npz", allow_pickle=False) as z:
        net_only = {k: z[k] for k in z.files if not k.startswith("route_")}
    _write_npz(net_only, old / "explain" / "roads.npz")
    args = ["--at", "51.6776,32.6572", "--category", "metalwork", "--format", "json"]
    a = CliRunner().invoke(main, ["explain", str(out), *args])
    b = CliRunner().invoke(main, ["explain", str(old), *args])
    assert a.exit_code == 0 and a.stdout == b.stdout and '"road"' in a.stdout


def test_cli_usage_and_hints(small_run):
    """Neither or both of --at and --estate is a usage error (exit 2); a misspelt category gets the nearest
    code; an estate id with spaces around it and Persian separators in --at are read."""
    sc, out = small_run
    for args in ([], ["--at", "51.6,32.6", "--estate", "E01"]):
        r = CliRunner().invoke(main, ["explain", str(out), "--category", "scrap", *args])
        assert r.exit_code == 2 and "exactly one of --at" in r.output, r.output
    r = CliRunner().invoke(main, ["explain", str(out), "--category", "scarp", "--estate", "E01"])
    assert r.exit_code == 1 and "did you mean 'scrap'" in r.output
    a = CliRunner().invoke(main, ["explain", str(out), "--category", "scrap", "--estate", " E01 "])
    b = CliRunner().invoke(main, ["explain", str(out), "--category", "scrap", "--estate", "E01"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    from siteplan.outputs.explain import parse_point

    assert parse_point("۵۱٫۶۷،۳۲٫۶۵") == (51.67, 32.65)
    lon, lat = _a_point(out)
    r = CliRunner().invoke(main, ["explain", str(out), "--category", "scrap", "--at", f"{lat},{lon}"])
    assert r.exit_code == 1 and "--at takes LON,LAT" in r.output, r.output
