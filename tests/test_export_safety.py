"""``siteplan export --gpkg``: an existing GeoPackage, QGIS project or rasters folder is refused before
anything is written, and replaced with ``--overwrite`` only when an earlier siteplan export wrote it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.cli import main


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_scenario(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def small_run(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def _export(run: Path, gpkg: Path, *extra: str):
    return CliRunner().invoke(main, ["export", str(run), "--gpkg", str(gpkg), *extra])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _user_gpkg(path: Path) -> None:
    gpd.GeoDataFrame({"parcel": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(
        path, layer="parcels", driver="GPKG", engine="pyogrio")


@pytest.mark.parametrize("overwrite", [False, True])
def test_user_geopackage_is_never_replaced(small_run: Path, tmp_path: Path, overwrite: bool) -> None:
    gis = tmp_path / "gis"
    gis.mkdir()
    _user_gpkg(gis / "real.gpkg")
    before = _snapshot(gis)
    r = _export(small_run, gis / "real.gpkg", *(["--overwrite"] if overwrite else []))
    assert r.exit_code == 1, r.output
    assert "real.gpkg" in r.output and "choose another name" in r.output
    assert "Traceback" not in r.output
    assert _snapshot(gis) == before  # nothing written: no .qgz, no rasters folder


@pytest.mark.parametrize("overwrite", [False, True])
def test_text_file_named_gpkg_is_never_replaced(small_run: Path, tmp_path: Path, overwrite: bool) -> None:
    (tmp_path / "mine.gpkg").write_text("my notes\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    r = _export(small_run, tmp_path / "mine.gpkg", *(["--overwrite"] if overwrite else []))
    assert r.exit_code == 1 and "mine.gpkg" in r.output, r.output
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("overwrite", [False, True])
def test_unrelated_qgz_beside_a_new_gpkg_is_never_replaced(small_run: Path, tmp_path: Path, overwrite: bool) -> None:
    (tmp_path / "new.qgz").write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip: someone's project
    before = _snapshot(tmp_path)
    r = _export(small_run, tmp_path / "new.gpkg", *(["--overwrite"] if overwrite else []))
    assert r.exit_code == 1 and "new.qgz" in r.output, r.output
    assert _snapshot(tmp_path) == before  # new.gpkg not written either


def test_own_export_needs_overwrite_then_is_replaced(small_run: Path, tmp_path: Path) -> None:
    gpkg = tmp_path / "plan.gpkg"
    r = _export(small_run, gpkg)
    assert r.exit_code == 0, r.output
    assert gpkg.is_file() and gpkg.with_suffix(".qgz").is_file()
    first = _snapshot(tmp_path)
    r = _export(small_run, gpkg)
    assert r.exit_code == 1 and "--overwrite" in r.output and "plan.gpkg" in r.output, r.output
    assert _snapshot(tmp_path) == first
    r = _export(small_run, gpkg, "--overwrite")
    assert r.exit_code == 0, r.output
    again = _snapshot(tmp_path)
    marker = "plan_suitability/.siteplan-run"  # records the writing process
    assert {k: v for k, v in again.items() if k != marker} == {k: v for k, v in first.items() if k != marker}


def test_own_gpkg_with_foreign_qgz_is_refused(small_run: Path, tmp_path: Path) -> None:
    gpkg = tmp_path / "plan.gpkg"
    assert _export(small_run, gpkg).exit_code == 0
    gpkg.with_suffix(".qgz").write_bytes(b"someone's project")
    before = _snapshot(tmp_path)
    r = _export(small_run, gpkg, "--overwrite")
    assert r.exit_code == 1 and "plan.qgz" in r.output, r.output
    assert _snapshot(tmp_path) == before


def test_own_rasters_folder_needs_overwrite(small_run: Path, tmp_path: Path) -> None:
    gpkg = tmp_path / "plan.gpkg"
    assert _export(small_run, gpkg).exit_code == 0
    if not (tmp_path / "plan_suitability").is_dir():
        pytest.skip("the small run writes no suitability rasters")
    gpkg.unlink()
    gpkg.with_suffix(".qgz").unlink()
    before = _snapshot(tmp_path)
    r = _export(small_run, gpkg)
    assert r.exit_code == 1 and "plan_suitability" in r.output, r.output
    assert _snapshot(tmp_path) == before


def test_no_rasters_export_over_an_earlier_one_leaves_no_stale_rasters(small_run: Path, tmp_path: Path) -> None:
    """An export with rasters, then --overwrite --no-rasters: the earlier rasters folder goes (the package must
    not hold rasters beside a GeoPackage they were not exported with); without --overwrite it is refused, and
    a folder of the user's under that name is left alone."""
    gpkg = tmp_path / "plan.gpkg"
    assert _export(small_run, gpkg).exit_code == 0
    folder = tmp_path / "plan_suitability"
    if not folder.is_dir():
        pytest.skip("the small run writes no suitability rasters")
    before = _snapshot(tmp_path)
    r = _export(small_run, gpkg, "--no-rasters")
    assert r.exit_code == 1 and _snapshot(tmp_path) == before
    r = _export(small_run, gpkg, "--no-rasters", "--overwrite")
    assert r.exit_code == 0, r.output
    assert not folder.exists() and gpkg.is_file()
    folder.mkdir()
    (folder / "mine.txt").write_text("x", encoding="utf-8")
    r = _export(small_run, gpkg, "--no-rasters", "--overwrite")
    assert r.exit_code == 0, r.output  # the user's own folder of that name is not the package's: left alone
    assert (folder / "mine.txt").read_text(encoding="utf-8") == "x"


def test_baseline_refusal_suggests_a_folder_outside_it(small: Path, small_run: Path) -> None:
    """``run --baseline RUN --out RUN`` is refused and the suggested --out is not inside RUN (read only)."""
    before = _snapshot(small_run)
    r = CliRunner().invoke(main, ["run", str(small), "--baseline", str(small_run), "--out", str(small_run),
                                  "--overwrite", "--quiet"])
    assert r.exit_code == 1 and "--baseline" in r.output, r.output
    hint = Path(r.output.split("e.g. --out ")[1].split()[0])
    assert hint.parent == small_run.resolve().parent and not hint.exists(), r.output
    assert _snapshot(small_run) == before


def test_out_inside_baseline_folder_is_refused(small: Path, small_run: Path) -> None:
    before = _snapshot(small_run)
    r = CliRunner().invoke(main, ["run", str(small), "--baseline", str(small_run), "--out", str(small_run / "out"),
                                  "--quiet"])
    assert r.exit_code == 1 and "is inside the --baseline run folder" in r.output, r.output
    assert "Traceback" not in r.output
    assert not (small_run / "out").exists() and _snapshot(small_run) == before


@pytest.mark.parametrize("explicit", [True, False])
def test_max_distance_km_with_reach_min_warns(demo_copy: Path, explicit: bool) -> None:
    """max_distance_km (the demo sets it) is not the reach under reach_min: validate and run say so;
    without max_distance_km no warning."""
    from siteplan.checks import scenario_warnings
    from siteplan.scenario import load_scenario

    def edit(d: dict) -> None:
        d["allocation"]["reach_min"] = 45
        if not explicit:
            d["allocation"].pop("max_distance_km", None)

    edit_yaml(demo_copy, edit)
    warns = [w.message for w in scenario_warnings(load_scenario(demo_copy)) if "reach_min" in w.message]
    if not explicit:
        assert warns == []
        return
    assert len(warns) == 1 and "max_distance_km (30 km)" in warns[0] and "reach_min (45 minutes)" in warns[0]
    r = CliRunner().invoke(main, ["validate", str(demo_copy)])
    assert "max_distance_km (30 km)" in r.output, r.output
