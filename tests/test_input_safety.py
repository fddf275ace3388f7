"""No command writes, replaces or deletes an input or a file siteplan did not write (issue 24, "Inputs
deleted or overwritten"): the national cache (``--cache``, ``--cache-days``), single-file outputs
(``suitability --out``, ``export --gpkg``) against every input of a national scenario and its sidecars,
the rasters folder of ``export``, and ``run --overwrite`` with user files of every shape (sidecar-like
names, symbolic links, empty folders, legacy manifests), ``--out`` a file or a mount point."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.outputs import outdir as od
from siteplan.cli import main
from siteplan.errors import InputError
from siteplan.outputs.outfile import check_output_file, is_sidecar, run_inputs, scenario_inputs
from siteplan.scenario import load_scenario

FAST = {"grid": {"resolution_m": 2000}, "sensitivity": {"draws": 10}, "upgrades": {"count": 0},
        "sites": {"count": 0}, "classification": {"model": False}, "categories": ["car_repair", "metalwork"]}


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256 (symbolic links by their target)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(folder))] = "-> " + os.readlink(p)
        elif p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _boxes() -> gpd.GeoDataFrame:
    """Two partitions over the small scenario's area (51.2–52.1 E, 32.4–32.95 N)."""
    return gpd.GeoDataFrame({"ostan": ["West", "East"]},
                            geometry=[shapely.box(51.1, 32.3, 51.65, 33.0), shapely.box(51.65, 32.3, 52.2, 33.0)],
                            crs=4326)


def _national(sc: Path, partitions: str, name: str = "nation.yaml", **extra) -> Path:
    d = yaml.safe_load(sc.read_text(encoding="utf-8"))
    d.update(FAST)
    d.update(extra)
    d["national"] = {"partitions": {"path": partitions}, "field": "ostan"}
    out = sc.parent / name
    out.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The small scenario (shapefile layers), with a national scenario over it beside it: partitions in
    ``provinces.geojson`` (nation.yaml) and ``provinces.shp`` (nation_shp.yaml)."""
    sc = small_scenario(tmp_path_factory.mktemp("safety"), n_biz=30)
    _boxes().to_file(sc.parent / "provinces.geojson")
    _boxes().to_file(sc.parent / "provinces.shp", encoding="utf-8")
    _national(sc, "provinces.geojson")
    _national(sc, "provinces.shp", "nation_shp.yaml")
    return sc


@pytest.fixture(scope="module")
def nation(small) -> Path:
    return small.parent / "nation.yaml"


@pytest.fixture(scope="module")
def national_run(nation, tmp_path_factory) -> tuple[Path, Path]:
    """One national run (2 partitions) and its cache."""
    root = tmp_path_factory.mktemp("natrun")
    r = invoke("run", nation, "--out", root / "out", "--cache", root / "cache", "--quiet")
    assert r.exit_code == 0, r.output
    return root / "out", root / "cache"


@pytest.fixture(scope="module")
def base_run(small, tmp_path_factory) -> Path:
    """One finished provincial run that tests copy as 'the previous output'."""
    out = tmp_path_factory.mktemp("base") / "out"
    r = invoke("run", small, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert list((out / "suitability").glob("*.tif"))
    return out


# ------------------------------------------------------------------------------------------------
# the national cache
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def project(small, tmp_path) -> Path:
    """A project folder whose layers live in ./inputs/nation/, its national scenario at its top."""
    root = tmp_path / "project"
    (root / "inputs").mkdir(parents=True)
    shutil.copytree(small.parent, root / "inputs" / "nation")
    d = yaml.safe_load((small.parent / "nation.yaml").read_text(encoding="utf-8"))
    for spec in d["layers"].values():
        spec["path"] = f"inputs/nation/{spec['path']}"
    d["national"]["partitions"]["path"] = "inputs/nation/provinces.geojson"
    (root / "nation.yaml").write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.mark.parametrize("where", [".", "inputs", "inputs/nation"])
def test_cache_holding_the_inputs_is_refused(project, where):
    """--cache on the project folder (or the folder of the layers) deleted the layers: refused before
    any work, the inputs named, nothing written."""
    before = tree(project)
    r = invoke("run", project / "nation.yaml", "--out", project.parent / "out", "--cache", project / where,
               "--cache-days", "0")
    assert r.exit_code == 1, r.output
    assert "--cache" in r.output and "holds" in r.output and "Traceback" not in r.output, r.output
    assert tree(project) == before
    assert not (project.parent / "out").exists()


def test_cache_inside_an_input_folder_is_refused(project, tmp_path):
    """A cache inside an input that is a folder (a FileGDB-like layer) is refused too."""
    from siteplan.national.cache import open_cache

    gdb = tmp_path / "data.gdb"
    gdb.mkdir()
    with pytest.raises(InputError, match=r"lies inside layer 'x'"):
        open_cache(gdb / "cache", {"layer 'x'": gdb}, tmp_path / "out")
    assert not (gdb / "cache").exists()


def test_cache_on_a_user_folder_without_marker_is_refused(nation, tmp_path):
    """--cache on a user's folder that happens to hold units/ and inputs/ sub-folders: --cache-days 0
    deleted the user's files in them; a non-empty folder without the cache marker is refused."""
    user = tmp_path / "work"
    (user / "units" / "survey_2024").mkdir(parents=True)
    (user / "units" / "survey_2024" / "data.xlsx").write_bytes(b"survey")
    (user / "inputs" / "registry_scans").mkdir(parents=True)
    (user / "inputs" / "registry_scans" / "data.xlsx").write_bytes(b"scans")
    before = tree(user)
    r = invoke("run", nation, "--out", tmp_path / "out", "--cache", user, "--cache-days", "0")
    assert r.exit_code == 1 and "is not a siteplan cache" in r.output, r.output
    assert tree(user) == before
    assert not (user / od.MARKER).exists()


def test_cache_prunes_only_what_it_wrote(national_run, nation, tmp_path):
    """In a cache siteplan made, --cache-days 0 removes its own stale entries and nothing else: user
    folders in units/ and inputs/, a user file inside a cache entry, a symbolic link, entries without a
    marker are left (with a warning), and the run succeeds."""
    out0, cache0 = national_run
    cache = tmp_path / "cache"
    shutil.copytree(cache0, cache, symlinks=True)
    units = cache / "units"
    keys = sorted(p.name for p in units.iterdir())
    # a stale entry siteplan wrote (a copy of a real one under another key): it must go
    shutil.copytree(units / keys[0], units / ("f" * 64))
    shutil.copytree(cache / "inputs" / "p01", cache / "inputs" / "p09")  # a partition that no longer exists
    # the user's things
    (units / "survey_2024").mkdir()
    (units / "survey_2024" / "data.xlsx").write_bytes(b"survey")
    (cache / "inputs" / "registry_scans").mkdir()
    (cache / "inputs" / "registry_scans" / "data.xlsx").write_bytes(b"scans")
    stale_mine = units / ("e" * 64)
    shutil.copytree(units / keys[0], stale_mine)
    (stale_mine / "my_review.xlsx").write_bytes(b"mine")  # a user file inside an entry siteplan wrote
    theirs = tmp_path / "elsewhere"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("keep")
    os.symlink(theirs, units / ("d" * 64))
    old = 1_000_000_000
    for p in units.iterdir():
        os.utime(p, (old, old), follow_symlinks=False)
    r = invoke("run", nation, "--out", tmp_path / "out", "--cache", cache, "--cache-days", "0")
    assert r.exit_code == 0, r.output
    assert not (units / ("f" * 64)).exists() and not (cache / "inputs" / "p09").exists()  # its own: removed
    assert (units / "survey_2024" / "data.xlsx").read_bytes() == b"survey"
    assert (cache / "inputs" / "registry_scans" / "data.xlsx").read_bytes() == b"scans"
    assert (stale_mine / "my_review.xlsx").read_bytes() == b"mine"
    assert (units / ("d" * 64)).is_symlink() and (theirs / "keep.txt").read_text() == "keep"
    assert "left alone" in r.output
    man = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert [u["status"] for u in man["units"]] == ["cached", "cached"]


def test_prune_removes_nothing_outside_a_marked_cache(tmp_path):
    """prune_cache called on a folder without the cache marker removes nothing."""
    from siteplan.national.cache import claim_entry, prune_cache, seal_entry

    entry = tmp_path / "units" / ("a" * 64)
    claim_entry(entry, "cache-unit", [])
    (entry / "relocation.csv").write_text("x")
    seal_entry(entry, "cache-unit")
    os.utime(entry, (1_000_000_000, 1_000_000_000))
    prune_cache(tmp_path, [], [], keep_days=0)
    assert (entry / "relocation.csv").exists()


def test_cache_rewrites_only_its_own_input_folders(tmp_path):
    """The partition split rewrites inputs/pNN: refused when the folder holds a file siteplan did not
    write (it unlinked same-named files before)."""
    from siteplan.national.cache import claim_entry

    entry = tmp_path / "inputs" / "p01"
    entry.mkdir(parents=True)
    (entry / "businesses.fgb").write_bytes(b"user's own")
    with pytest.raises(InputError, match="holds files siteplan did not write"):
        claim_entry(entry, "cache-inputs", ["businesses.fgb", "scenario.yaml"])
    assert (entry / "businesses.fgb").read_bytes() == b"user's own"
    claim_entry(tmp_path / "inputs" / "p02", "cache-inputs", ["a.fgb"])  # new: made and marked
    (tmp_path / "inputs" / "p02" / "a.fgb").write_bytes(b"x")
    claim_entry(tmp_path / "inputs" / "p02", "cache-inputs", ["b.fgb"])  # its own: cleared and reused
    assert sorted(p.name for p in (tmp_path / "inputs" / "p02").iterdir()) == [od.MARKER]


# ------------------------------------------------------------------------------------------------
# single-file outputs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["provinces.shp", "provinces.dbf", "provinces.cpg", "provinces.qix",
                                    "PROVINCES.SHX", "provinces.shp.xml"])
def test_suitability_out_refuses_the_national_partitions(small, target):
    """`suitability NATION.yaml --out provinces.shp` (or its .dbf) replaced the partitions layer; a
    sidecar not there yet (provinces.qix) would be read with it too."""
    folder = small.parent
    before = tree(folder)
    r = invoke("suitability", folder / "nation_shp.yaml", "--category", "car_repair", "--out", folder / target)
    assert r.exit_code == 1 and "national.partitions" in r.output, r.output
    assert tree(folder) == before


def test_suitability_out_refuses_a_sidecar_name_of_a_layer(small):
    """A layer's sidecar that does not exist yet is refused by name (roads.qix, roads.shp.xml)."""
    folder = small.parent
    for target in ("roads.qix", "roads.shp.xml", "estates.aux.xml"):
        r = invoke("suitability", small, "--category", "car_repair", "--out", folder / target)
        assert r.exit_code == 1 and "is a file of layer" in r.output, (target, r.output)
        assert not (folder / target).exists()


def test_sidecar_rule_and_inputs_of_every_form(small, tmp_path):
    """is_sidecar: a raster's .aux.xml, .tfw, .ovr; a vector's .qmd; a GeoPackage's -wal; not an
    unrelated file of the same stem. scenario_inputs: a national list of provincial scenarios counts
    each province's layers."""
    assert is_sidecar("dem.tif.aux.xml", "dem.tif") and is_sidecar("DEM.TFW", "dem.tif")
    assert is_sidecar("dem.tif.ovr", "dem.tif") and is_sidecar("roads.qmd", "roads.geojson")
    assert is_sidecar("x.gpkg-wal", "x.gpkg") and is_sidecar("x.sbn", "x.shp")
    assert not is_sidecar("roads.tif", "roads.geojson") and not is_sidecar("x_suitability.tif", "x.shp")
    assert not is_sidecar("provinces.tif", "provinces.shp")
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"II*\x00")
    for name in ("dem.tif.aux.xml", "dem.tfw", "dem.tif.ovr"):
        with pytest.raises(InputError, match="is a file of the DEM"):
            check_output_file(tmp_path / name, {"the DEM": dem})
    check_output_file(tmp_path / "dem_suitability.tif", {"the DEM": dem})  # another name is fine
    nat = tmp_path / "list.yaml"
    nat.write_text(yaml.safe_dump({"name": "n", "national": {"scenarios": [str(small)]}}), encoding="utf-8")
    inputs = scenario_inputs(load_scenario(nat), nat)
    with pytest.raises(InputError, match=r"is a file of .*small.yaml: layer 'businesses'"):
        check_output_file(small.parent / "businesses.dbf", inputs)


def test_export_refuses_the_national_partitions(national_run, small):
    """`export NATIONAL_RUN --gpkg provinces.geojson` replaced the national partitions file."""
    out, _cache = national_run
    folder = small.parent
    before = tree(folder)
    for target in ("provinces.geojson", "provinces.geojson.aux.xml", "roads.dbf"):
        r = invoke("export", out, "--gpkg", folder / target)
        assert r.exit_code == 1, (target, r.output)
        assert "replace an input" in r.output or "change an input" in r.output, r.output
    assert tree(folder) == before
    assert "national.partitions" in run_inputs(out)


def test_export_rasters_folder_keeps_what_it_did_not_write(base_run, tmp_path):
    """`export --gpkg X.gpkg` replaced X_suitability/ as a whole, deleting a DEM that lived there; now
    the folder is siteplan's only by its marker: a new one is made, a previous export's is replaced,
    one holding anything else is refused with the files named."""
    gpkg = tmp_path / "x.gpkg"
    folder = tmp_path / "x_suitability"
    folder.mkdir()
    (folder / "dem.tif").write_bytes(b"a user's DEM")
    r = invoke("export", base_run, "--gpkg", gpkg)
    assert r.exit_code == 1 and "dem.tif" in r.output and "Traceback" not in r.output, r.output
    assert (folder / "dem.tif").read_bytes() == b"a user's DEM"
    assert not gpkg.exists()  # refused before anything was written
    (folder / "dem.tif").unlink()
    folder.rmdir()
    assert invoke("export", base_run, "--gpkg", gpkg).exit_code == 0
    tifs = sorted(p.name for p in folder.glob("*.tif"))
    assert tifs == sorted(p.name for p in (base_run / "suitability").glob("*.tif"))
    assert invoke("export", base_run, "--gpkg", gpkg).exit_code == 1  # an existing export needs --overwrite
    assert invoke("export", base_run, "--gpkg", gpkg, "--overwrite").exit_code == 0  # its own: replaced
    (folder / f"{tifs[0]}.aux.xml").write_text("<PAMDataset/>")
    r = invoke("export", base_run, "--gpkg", gpkg, "--overwrite")
    assert r.exit_code == 1 and f"{tifs[0]}.aux.xml" in r.output, r.output
    assert (folder / f"{tifs[0]}.aux.xml").exists()


def test_export_rasters_folder_holding_a_scenario_input_is_refused(base_run, small, tmp_path):
    """The run's own scenario and layers in the rasters folder (a scenario kept in y_suitability/):
    refused, the input named, nothing replaced."""
    folder = tmp_path / "y_suitability"
    shutil.copytree(small.parent, folder)
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    man = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    man["scenario_file"] = str(folder / small.name)  # as if the run had read the scenario there
    (run / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    before = tree(folder)
    r = invoke("export", run, "--gpkg", tmp_path / "y.gpkg")
    assert r.exit_code == 1 and "holds the scenario file" in r.output and "Traceback" not in r.output, r.output
    assert tree(folder) == before


# ------------------------------------------------------------------------------------------------
# run --overwrite
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_file", ["relocation.csv.reviewed.xlsx", "report.html.bak",
                                       "suitability/car_repair.tif.my-notes.txt", "manifest.json-old",
                                       "suitability/car_repair.tif.aux.xml"])
def test_overwrite_refuses_files_with_sidecar_like_names(base_run, small, tmp_path, user_file):
    """Files named like a sidecar of an output (prefix + suffix) are the user's: refused, kept."""
    out = tmp_path / "out"
    shutil.copytree(base_run, out)
    (out / user_file).write_bytes(b"the user's review")
    before = tree(out)
    r = invoke("run", small, "--out", out, "--overwrite")
    assert r.exit_code == 1 and f"holds files siteplan did not write ({user_file})" in r.output, r.output
    assert tree(out) == before


@pytest.mark.parametrize("form", ["no-file-list", "marker-without-files"])
def test_overwrite_refuses_a_folder_without_a_file_list(base_run, small, tmp_path, form):
    """A legacy manifest.json without outputs_sha256 (or a marker without files) disabled the
    foreign-file check and thesis.docx was deleted: no file list owns nothing, so it is refused."""
    out = tmp_path / "out"
    shutil.copytree(base_run, out)
    marker = json.loads((out / od.MARKER).read_text(encoding="utf-8"))
    if form == "no-file-list":
        (out / od.MARKER).unlink()
        man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        man.pop("outputs_sha256")
        (out / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    else:
        marker.pop("files")
        (out / od.MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (out / "thesis.docx").write_bytes(b"years of work")
    before = tree(out)
    r = invoke("run", small, "--out", out, "--overwrite")
    assert r.exit_code == 1 and "no list of the files it wrote" in r.output, r.output
    assert tree(out) == before


@pytest.mark.parametrize("kind", ["dir", "file", "dangling", "empty-dir"])
def test_overwrite_refuses_symlinks_and_user_folders(base_run, small, tmp_path, kind):
    """A user's symbolic link inside --out (to a folder, to a file, dangling) was removed without the
    refusal a plain file gets; an empty folder the user made too."""
    out = tmp_path / "out"
    shutil.copytree(base_run, out)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "data.xlsx").write_bytes(b"theirs")
    name = {"dir": "linked", "file": "suitability/linked.tif", "dangling": "gone", "empty-dir": "drafts"}[kind]
    if kind == "dir":
        os.symlink(theirs, out / name)
    elif kind == "file":
        os.symlink(theirs / "data.xlsx", out / name)
    elif kind == "dangling":
        os.symlink(tmp_path / "nowhere", out / name)
    else:
        (out / name).mkdir()
    before = tree(out)
    r = invoke("run", small, "--out", out, "--overwrite")
    assert r.exit_code == 1 and f"holds files siteplan did not write ({name}" in r.output, r.output
    assert tree(out) == before and os.path.lexists(out / name)
    assert (theirs / "data.xlsx").read_bytes() == b"theirs"


def test_overwrite_refuses_a_symlink_named_like_an_output(base_run, small, tmp_path):
    """A link put in place of an output file (report.html -> the user's page) is not siteplan's."""
    out = tmp_path / "out"
    shutil.copytree(base_run, out)
    page = tmp_path / "page.html"
    page.write_text("mine")
    (out / "report.html").unlink()
    os.symlink(page, out / "report.html")
    r = invoke("run", small, "--out", out, "--overwrite")
    assert r.exit_code == 1 and "report.html (a symbolic link)" in r.output, r.output
    assert (out / "report.html").is_symlink() and page.read_text() == "mine"


def test_overwrite_of_siteplan_files_alone_still_works(base_run, small, tmp_path):
    """The control: a previous output holding only its listed files (and OS litter) is replaced."""
    out = tmp_path / "out"
    shutil.copytree(base_run, out)
    (out / ".DS_Store").write_bytes(b"\x00")
    r = invoke("run", small, "--out", out, "--overwrite", "--quiet")
    assert r.exit_code == 0, r.output
    assert json.loads((out / od.MARKER).read_text(encoding="utf-8"))["files"]


def test_run_out_an_existing_file_is_a_clear_refusal(small, tmp_path):
    """`run --out FILE` was a usage error (exit 2); it is an input error naming the file (exit 1)."""
    f = tmp_path / "notes.txt"
    f.write_text("keep")
    r = invoke("run", small, "--out", f)
    assert r.exit_code == 1 and "exists and is not a folder" in r.output and str(f) in r.output, r.output
    assert f.read_text() == "keep"
    r = invoke("run", small.parent / "nation.yaml", "--out", f)
    assert r.exit_code == 1 and "exists and is not a folder" in r.output, r.output


def test_run_out_a_mount_point_is_refused_up_front(small, tmp_path, monkeypatch):
    """`--out` a mount point failed with an internal error after the whole run (it cannot be renamed):
    refused before any work."""
    out = tmp_path / "mnt"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(od.os.path, "ismount", lambda p: Path(p) == out or real(p))
    with pytest.raises(InputError, match="is a mount point"):
        od.check_target(out)
    r = invoke("run", small, "--out", out)
    assert r.exit_code == 1 and "is a mount point" in r.output, r.output


def test_run_out_a_real_mount_point(small, tmp_path):
    """The same on a real tmpfs mount (where the test may mount one)."""
    out = tmp_path / "mnt"
    out.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "none", str(out)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        r = invoke("run", small, "--out", out)
        assert r.exit_code == 1 and "is a mount point" in r.output and "Traceback" not in r.output, r.output
        assert os.listdir(out) == []
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_a_user_file_at_the_lock_place_is_kept(small, tmp_path):
    """The lock `.NAME.lock` beside --out was opened, truncated and deleted whatever it was: a file there
    that is not a lock siteplan wrote (a pid) is refused and kept; a stale siteplan lock is reused."""
    lock = tmp_path / ".out.lock"
    lock.write_text("my shopping list\n")
    r = invoke("run", small, "--out", tmp_path / "out")
    assert r.exit_code == 1 and "not a lock siteplan wrote" in r.output, r.output
    assert lock.read_text() == "my shopping list\n" and not (tmp_path / "out").exists()
    lock.write_text("12345\n")  # left by a killed run
    with od.OutputFolder(tmp_path / "out", kind="run") as f:
        (f.stage / "relocation.csv").write_text("x\n")
    assert not lock.exists() and (tmp_path / "out" / "relocation.csv").exists()
