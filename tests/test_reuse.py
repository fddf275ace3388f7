"""``siteplan run B.yaml --reuse RUN_A``: stage results reused by key (siteplan/outputs/stagecache.py), the same
bytes as a cold run, nothing stale or hostile taken."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main

#: what differs between two runs of the same inputs (the manifest's timings, date, and what was reused)
VOLATILE = {"created_utc", "timings_s", "timings_cpu_s", "reused"}


def _run(sc: Path, out: Path, *extra: str) -> dict:
    r = CliRunner().invoke(main, ["--quiet", "run", str(sc), "--out", str(out), "--overwrite", *extra])
    assert r.exit_code == 0, r.output
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _files(run: Path) -> dict[str, str]:
    return {p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.rglob("*")) if p.is_file() and p.name not in ("manifest.json", ".siteplan-run")}


def _manifest_core(m: dict) -> dict:
    out = {k: v for k, v in m.items() if k not in VOLATILE}
    out["solver"] = {k: v for k, v in m["solver"].items() if k != "timings_s"}
    out.pop("scenario_file", None)
    return out


def _copy(sc: Path, dst: Path) -> Path:
    shutil.copytree(sc.parent, dst)
    return dst / sc.name


def _edit_layer(sc: Path, name: str, fn) -> None:  # type: ignore[no-untyped-def]
    shp = sc.parent / f"{name}.shp"
    g = gpd.read_file(shp)
    fn(g)
    g.to_file(shp, encoding="utf-8")


@pytest.fixture(scope="module")
def run_a(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reuse")
    sc = small_scenario(tmp, n_biz=40)
    m = _run(sc, tmp / "a")
    return sc, tmp / "a", m


def test_every_run_records_its_stage_keys_and_saves_stages(run_a):
    sc, a, m = run_a
    st = m["stages"]
    assert st["format"] == 1 and len(st["source"]) == 64 and len(st["classify"]) == 64
    assert set(st["criteria"]) == {"road_access", "workforce", "customers", "estate_synergy", "power_access"}
    assert st["surfaces"] and all(len(k) == 64 for k in st["surfaces"].values())
    assert "reused" not in m  # no --reuse, nothing to say
    for f in ("stages/stages.json", "stages/classify.npz", "stages/surfaces.npz"):
        assert f in m["outputs_sha256"], f
    # its own files, listed by the marker (--overwrite replaces them)
    marker = json.loads((a / ".siteplan-run").read_text(encoding="utf-8"))
    assert "stages/surfaces.npz" in marker["files"]


def test_one_estate_whatif_reuses_and_equals_a_cold_run(run_a, tmp_path):
    """E01 gets wastewater: classification and every suitability surface reused (estates enter them only
    by their geometry), and every output byte equals a cold run of the what-if."""
    sc, a, ma = run_a
    b = _copy(sc, tmp_path / "b")
    _edit_layer(b, "estates", lambda g: g.__setitem__("wastewater", np.where(g["estate_id"] == "E01", 1 - g["wastewater"].fillna(0).astype(int), g["wastewater"])))
    cold = _run(b, tmp_path / "cold")
    warm = _run(b, tmp_path / "warm", "--reuse", str(a))
    assert warm["reused"]["stages"] == ["classify", "suitability"], warm["reused"]
    assert warm["reused"]["criteria"] == {"reused": 5, "of": 5}
    assert warm["reused"]["surfaces"]["reused"] == warm["reused"]["surfaces"]["of"] > 0
    assert warm["reused"]["notes"] == []
    # the programme's figures of the sets of businesses the change leaves alone are reused
    assert 0 < warm["reused"]["memo exposed"]["reused"] <= warm["reused"]["memo exposed"]["of"]
    # every suitability is unchanged: every overlay image of the report is taken from run A's memo
    n = len(cold["stages"]["surfaces"])
    assert warm["reused"]["memo overlay"] == {"reused": n, "of": n}
    # every suitability GeoTIFF (score and SD) and explain/rasters.npz copied from run A, not encoded again
    copied = sorted(f for f in ma["outputs_sha256"] if f.startswith("suitability/")) + ["explain/rasters.npz"]
    assert len(copied) > 2 and sorted(cold["stages"]["files"]) == sorted(copied)
    assert warm["reused"]["outputs"] == {"reused": len(copied), "of": len(copied)}
    assert all(warm["outputs_sha256"][f] == ma["outputs_sha256"][f] for f in copied)
    assert _files(tmp_path / "warm") == _files(tmp_path / "cold")
    assert _manifest_core(warm) == _manifest_core(cold)
    assert cold["stages"] == warm["stages"]
    assert _files(tmp_path / "cold") != _files(a)  # the what-if changed something (the test can fail)
    # the same run folder as --reuse and --out: read, then replaced
    again = _run(b, tmp_path / "warm", "--reuse", str(tmp_path / "warm"))
    assert again["reused"]["stages"] == ["classify", "suitability"]
    assert _files(tmp_path / "warm") == _files(tmp_path / "cold")


def test_changed_criteria_layer_is_not_reused(run_a, tmp_path):
    """A power line less: the criterion that reads it and the categories that weigh it are computed
    (their keys differ); the others are reused; the bytes are a cold run's."""
    sc, a, ma = run_a
    b = _copy(sc, tmp_path / "b")

    # one power line less (the features and so the region's extent, hence the grid, stay as they were)
    _edit_layer(b, "utilities", lambda g: g.__setitem__("kind", np.where(
        np.arange(len(g)) == np.flatnonzero((g["kind"] == "power_line").to_numpy())[0], "gas_pipe", g["kind"])))
    warm = _run(b, tmp_path / "warm", "--reuse", str(a))
    r = warm["reused"]
    assert r["criteria"] == {"reused": 4, "of": 5}
    assert warm["stages"]["criteria"]["power_access"] != ma["stages"]["criteria"]["power_access"]
    assert warm["stages"]["criteria"]["road_access"] == ma["stages"]["criteria"]["road_access"]
    assert r["surfaces"]["reused"] < r["surfaces"]["of"]
    # only the files of categories whose suitability is unchanged are copied; rasters.npz holds the changed one
    same = {c for c, k in warm["stages"]["surfaces"].items() if ma["stages"]["surfaces"].get(c) == k}
    assert r["outputs"]["of"] == len(warm["stages"]["files"]) and r["outputs"]["reused"] < r["outputs"]["of"]
    assert r["outputs"]["reused"] == sum(f.startswith("suitability/") and f.split("/")[1].split(".")[0].removesuffix("_sd")
                                         in same for f in warm["stages"]["files"])
    assert "suitability" not in r["stages"] and "classify" in r["stages"]
    # the report's overlays, keyed by the masked raster itself: those whose GeoTIFF (the same raster) changed
    # are made again, the others taken from run A
    tifs = [c for c in warm["stages"]["surfaces"]]
    changed = [c for c in tifs if warm["outputs_sha256"][f"suitability/{c}.tif"] != ma["outputs_sha256"][f"suitability/{c}.tif"]]
    assert changed and r["memo overlay"] == {"reused": len(tifs) - len(changed), "of": len(tifs)}
    cold = _run(b, tmp_path / "cold")
    assert _files(tmp_path / "warm") == _files(tmp_path / "cold")
    assert _manifest_core(warm) == _manifest_core(cold)


def _npz_bytes(arrays: dict[str, np.ndarray], allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in arrays.items():
            b = io.BytesIO()
            np.lib.format.write_array(b, v, allow_pickle=allow_pickle)
            zf.writestr(f"{k}.npy", b.getvalue())
    return buf.getvalue()


def _forge(run: Path, rel: str, data: bytes) -> None:
    """Replace a run's file and make its manifest list the new bytes (a forged entry, not a damaged one)."""
    (run / rel).write_bytes(data)
    mf = run / "manifest.json"
    m = json.loads(mf.read_text(encoding="utf-8"))
    m["outputs_sha256"][rel] = hashlib.sha256(data).hexdigest()
    mf.write_text(json.dumps(m), encoding="utf-8")


def test_damaged_or_hostile_entries_are_ignored_with_a_warning(run_a, tmp_path, caplog):
    """Each kind of bad entry is refused (with a note saying why) and the stage computed; one of them
    through a whole run, whose bytes are those of the run it copied."""
    from siteplan.outputs.stagecache import StageReuse

    sc, a, ma = run_a
    keys = ma["stages"]
    code = next(iter(keys["surfaces"]))
    cases = {
        # bytes changed after the run: the manifest's SHA-256 says so
        "damaged": lambda r: (r / "stages" / "surfaces.npz").write_bytes(b"\x00garbage"),
        # an array that needs pickle (code execution on load) with a matching hash: refused by numpy
        "pickle": lambda r: _forge(r, "stages/surfaces.npz",
                                   _npz_bytes({"allowed0": np.array([{"x": 1}], dtype=object)}, allow_pickle=True)),
        # well-formed files of the wrong shape
        "shape": lambda r: _forge(r, "stages/surfaces.npz", _npz_bytes({"allowed0": np.zeros(3, np.uint8)})),
        "json": lambda r: _forge(r, "stages/stages.json", b'{"format": 1, "surfaces": {"codes": 7}}'),
        "not a zip": lambda r: _forge(r, "stages/surfaces.npz", b"PK\x03\x04 not really"),
        "link": lambda r: ((r / "stages" / "surfaces.npz").unlink(),
                           (r / "stages" / "surfaces.npz").symlink_to(a / "stages" / "surfaces.npz")),
    }
    shape = None
    for name, spoil in cases.items():
        bad = tmp_path / name.replace(" ", "_")
        shutil.copytree(a, bad, symlinks=True)
        spoil(bad)
        src = StageReuse.from_run(bad).source
        assert src is not None
        if shape is None:
            ok = StageReuse.from_run(a).source
            assert ok is not None
            got = ok.mask(code, keys["surfaces"][code], _grid_shape(ma))
            assert got is not None  # the intact run's entry is taken
            shape = got[0].shape
        assert src.mask(code, keys["surfaces"][code], shape) is None, name
        assert src.notes and all("--reuse" in n for n in src.notes), name
    bad = tmp_path / "classify"
    shutil.copytree(a, bad)
    _forge(bad, "stages/classify.npz", _npz_bytes({"c0": np.zeros(2)}))
    src = StageReuse.from_run(bad).source
    assert src is not None
    import geopandas as gpd

    loaded = gpd.read_file(sc.parent / "businesses.shp")
    assert src.classified(keys["classify"], loaded) is None and src.notes
    # a whole run reusing a damaged folder: warned, computed, the same bytes
    bad = tmp_path / "run"
    shutil.copytree(a, bad)
    _forge(bad, "explain/rasters.npz", _npz_bytes({"raw0": np.zeros((2, 2), np.float32)}))
    (bad / "stages" / "surfaces.npz").write_bytes(b"garbage")
    m = _run(sc, tmp_path / "out", "--reuse", str(bad))
    assert m["reused"]["criteria"]["reused"] == 0 and m["reused"]["surfaces"]["reused"] == 0
    assert m["reused"]["stages"] == ["classify"] and len(m["reused"]["notes"]) >= 2
    assert all("--reuse" in n and "not reused" in n or "computed" in n for n in m["reused"]["notes"])
    assert _files(tmp_path / "out") == _files(a)
    # not a run folder, or a missing one: nothing to reuse, said so
    for where in (tmp_path / "nope", tmp_path):
        src = StageReuse.from_run(where).source
        assert src is not None and src.keys == {} and src.notes


def _grid_shape(m: dict) -> tuple[int, int]:
    return int(m["grid"]["height"]), int(m["grid"]["width"])


def test_another_siteplan_reuses_nothing(run_a, tmp_path, monkeypatch):
    """Keys include the package's source and library versions: a run of a changed siteplan is not reused."""
    from siteplan.outputs import stagecache, stagekeys, stagesource

    sc, a, ma = run_a
    for module in (stagekeys, stagesource, stagecache):  # its home and the modules that call it
        monkeypatch.setattr(module, "source_key", lambda: "0" * 64)
    m = _run(sc, tmp_path / "out", "--reuse", str(a))
    assert m["reused"]["stages"] == [] and "another siteplan" in m["reused"]["notes"][0]
    assert m["reused"]["criteria"] == {"reused": 0, "of": 5}
    assert m["reused"]["memo exposed"]["reused"] == 0 and m["reused"]["memo overlay"]["reused"] == 0
    # the same outputs, the memo's too (its keys hold no source: another siteplan's memo is never read)
    assert _files(tmp_path / "out") == _files(a)


def test_output_copied_only_when_intact(run_a, tmp_path):
    """A GeoTIFF of run A changed after the run (its manifest's SHA-256 differs) is encoded again, not
    copied; another one whose manifest entry is forged is not copied either when the stage cache found
    the file damaged (explain/rasters.npz); the bytes are a cold run's."""
    sc, a, ma = run_a
    bad = tmp_path / "a"
    shutil.copytree(a, bad)
    tif = sorted(f for f in ma["outputs_sha256"] if f.startswith("suitability/"))[0]
    data = bytearray((bad / tif).read_bytes())
    data[-1] ^= 0xFF
    (bad / tif).write_bytes(bytes(data))
    _forge(bad, "explain/rasters.npz", _npz_bytes({"raw0": np.zeros((2, 2), np.float32)}))
    m = _run(sc, tmp_path / "out", "--reuse", str(bad))
    n = len(m["stages"]["files"])
    assert m["reused"]["outputs"] == {"reused": n - 2, "of": n}
    assert any(tif in note and "not reused" in note for note in m["reused"]["notes"])
    assert _files(tmp_path / "out") == _files(a)


# ------------------------------------------------------------------------------------------------
# the memo of figures (siteplan/common/memo.py): the residents near each set of businesses
# ------------------------------------------------------------------------------------------------

def _residents_case():
    import shapely

    from siteplan.programme.impact import Residents

    urban = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(3000, 0, 4000, 800), shapely.Point(6000, 0)],
                     dtype=object)
    res = Residents(urban, np.array([1000.0, 500.0, 70.0]), np.array([False, True, False]))
    rng = np.random.default_rng(3)
    pts = np.array(shapely.points(rng.uniform(-500, 6500, 40), rng.uniform(-800, 1500, 40)), dtype=object)
    q, m = rng.uniform(100, 900, 40), rng.uniform(0, 500, 40)
    sets = [np.arange(40), np.arange(0, 20), np.arange(20, 40), np.array([5, 3, 9]), np.array([30])]
    return res, pts, q, m, sets


def test_memo_reuses_unchanged_sets_and_recomputes_changed_ones():
    """Each set's figure is stored by the SHA-256 of what it is computed from; a second run reuses the
    sets whose businesses (geometry, distances) and residents are unchanged and computes the others; every
    figure equals the one computed without a memo."""
    import shapely

    from siteplan.common.memo import Memo, using
    from siteplan.outputs.stagesource import memo_entries
    from siteplan.programme.setmemo import KIND, exposed_sets

    res, pts, q, m, sets = _residents_case()
    direct = res.exposed_sets(pts, q, m, sets)
    assert direct[0] > 0  # the case counts residents (the test can fail)
    first = Memo()
    with using(first):
        np.testing.assert_array_equal(exposed_sets(res, pts, q, m, sets), direct)
    assert first.counts[KIND] == [0, len(sets)]
    stored = memo_entries(first.arrays())
    # business 30 moves: the sets holding it (0, 2 and 4) are computed, the others (1, 3) reused
    moved = pts.copy()
    moved[30] = shapely.Point(500, 500)
    second = Memo(stored)
    with using(second):
        got = exposed_sets(res, moved, q, m, sets)
    np.testing.assert_array_equal(got, res.exposed_sets(moved, q, m, sets))
    assert second.counts[KIND] == [2, len(sets)] and got[4] != direct[4]
    # a changed distance of business 5 (sets 0, 1, 3) is a changed input as well
    q2 = q.copy()
    q2[5] += 1.0
    third = Memo(stored)
    with using(third):
        np.testing.assert_array_equal(exposed_sets(res, pts, q2, m, sets), res.exposed_sets(pts, q2, m, sets))
    assert third.counts[KIND] == [2, len(sets)]
    # other residents: nothing reused
    from siteplan.programme.impact import Residents

    other = Residents(res.geoms, res.population * 2, res.mixed)
    fourth = Memo(stored)
    with using(fourth):
        np.testing.assert_array_equal(exposed_sets(other, pts, q, m, sets), other.exposed_sets(pts, q, m, sets))
    assert fourth.counts[KIND] == [0, len(sets)]
    # what a run stores is what it used, in key order: the same bytes whichever run computed a figure
    assert {k: v.tobytes() for k, v in second.arrays().items()} == \
        {k: v.tobytes() for k, v in Memo().arrays().items()} | {
            k: v.tobytes() for k, v in _fresh_arrays(res, moved, q, m, sets).items()}


def _fresh_arrays(res, pts, q, m, sets) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    from siteplan.common.memo import Memo, using
    from siteplan.programme.setmemo import exposed_sets

    memo = Memo()
    with using(memo):
        exposed_sets(res, pts, q, m, sets)
    return memo.arrays()


def test_whatif_reuses_programme_figures_of_unchanged_sets(run_a, tmp_path):
    """A run stores its memo in stages/memo.npz; the one-estate what-if reuses the figures of the sets it
    does not change, and a damaged memo is refused with a note and computed (the same bytes)."""
    sc, a, ma = run_a
    assert "stages/memo.npz" in ma["outputs_sha256"]
    with np.load(a / "stages" / "memo.npz", allow_pickle=False) as z:
        assert z["exposed_keys"].shape[1] == 32 and len(z["exposed_values"]) == len(z["exposed_keys"]) > 3
        stored = len(z["exposed_keys"])
    again = _run(sc, tmp_path / "again", "--reuse", str(a))
    n = again["reused"]["memo exposed"]
    assert n["reused"] == n["of"] >= stored  # every set found (a set asked twice counts twice)
    assert _files(tmp_path / "again") == _files(a)
    bad = tmp_path / "bad"
    shutil.copytree(a, bad)
    _forge(bad, "stages/memo.npz", _npz_bytes({"exposed_keys": np.zeros((2, 5), np.uint8),
                                               "exposed_values": np.zeros((2, 1))}))
    m = _run(sc, tmp_path / "out", "--reuse", str(bad))
    assert m["reused"]["memo exposed"]["reused"] == 0
    assert any("stages/memo.npz is damaged" in note for note in m["reused"]["notes"])
    assert _files(tmp_path / "out") == _files(a)
