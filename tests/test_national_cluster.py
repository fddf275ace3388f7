"""National runs that never hide a failure (issue 32): a province failing on a damaged raster is named
in the headline, the totals and the map, with its file; a run that lost its Dask scheduler writes no
national folder and its rerun completes from the cache with the bytes of an uninterrupted run; an
unreachable --scheduler is a clear input error at once; workers' warnings keep the province name.

The cluster test follows the README's recipe: a scheduler and workers started as separate processes
(`dask scheduler`, `dask worker`) on 127.0.0.1, the command run with --scheduler, inputs given by paths
relative to the scenario on a disk every process sees.

A small nation of three provinces (the demo's businesses thinned, a coarse grid) keeps it fast.
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from siteplan.national import PartitionsFailed, run_national_file
from siteplan.national.collate import persian_key, persian_sorted
from siteplan.national.logs import captured_warnings as _captured_warnings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEYS = ["شمال غرب", "NE", "SW"]
FOLDERS = ["nw", "ne", "sw"]
#: compared byte for byte between runs (manifests hold dates and timings)
SAME = ["relocation.csv", "estate_summary.csv", "flows.csv", "estates.geojson", "zones.geojson", "report.html",
        "partitions.json", "provinces.csv", "province_flows.csv", "national.gpkg"]


def _fast_nation(root: Path) -> Path:
    """Three provinces of tests/test_national_provinces.py, every sixth business kept, a 3 km grid."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_national_provinces import _boxes, _write_province

    boxes = _boxes().geometry
    for f, key, box in zip(FOLDERS, KEYS, boxes):
        p = _write_province(root / f, box, key)
        b = gpd.read_file(root / f / "businesses.shp")
        b.iloc[::6].to_file(root / f / "businesses.shp", encoding="utf-8")
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        d["grid"] = {"resolution_m": 3000}
        d["sensitivity"] = {"draws": 8}
        d["sites"] = {"count": 1}
        p.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    d = {"name": "ایران", "national": {"scenarios": [f"{f}/province.yaml" for f in FOLDERS]}}
    (root / "nation.yaml").write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / "nation.yaml"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fast_nation(tmp_path_factory.mktemp("nation32"))


@pytest.fixture(scope="module")
def reference(nation: Path) -> Path:
    """An uninterrupted run, here (no Dask)."""
    out = nation.parent / "ref"
    res = run_national_file(nation, out, cache=nation.parent / "ref_cache")
    assert [o.status for o in res.outcomes] == ["ok"] * 3
    return out


def _same(a: Path, b: Path) -> None:
    for f in SAME:
        assert filecmp.cmp(a / f, b / f, shallow=False), f
    for p in sorted((a / "provinces").rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            assert filecmp.cmp(p, b / p.relative_to(a), shallow=False), p


def _damaged_dem(path: Path, bounds: np.ndarray) -> None:
    """A GeoTIFF whose header reads but whose tiles do not (GDAL: "Chunk and warp failed")."""
    import rasterio
    from rasterio.transform import from_bounds

    a = (np.random.default_rng(0).random((512, 512)) * 100).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=512, height=512, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_bounds(*bounds, 512, 512), tiled=True, blockxsize=256, blockysize=256,
                       compress="deflate") as d:
        d.write(a, 1)
    b = bytearray(path.read_bytes())
    for i in range(len(b) // 2, len(b) - 100):
        b[i] = (b[i] * 7 + 13) % 256
    path.write_bytes(bytes(b))


# --------------------------------------------------------------------------- Persian order


def test_persian_alphabetical_order() -> None:
    """Unicode order puts چهارمحال, کرمان, گیلان and یزد after همدان; the Persian alphabet does not, and
    Arabic kaf and yeh sort as Persian ones."""
    names = ["همدان", "یزد", "گیلان", "کرمان", "چهارمحال و بختیاری", "تهران", "اصفهان", "آذربایجان شرقی",
             "آذربایجان غربی", "پ", "ژ", "قم", "فارس", "Fars"]
    uni = sorted(names)
    assert uni.index("همدان") < uni.index("چهارمحال و بختیاری") < uni.index("گیلان")  # what Python's order does
    assert persian_sorted(names) == ["آذربایجان شرقی", "آذربایجان غربی", "اصفهان", "پ", "تهران",
                                     "چهارمحال و بختیاری", "ژ", "فارس", "قم", "کرمان", "گیلان", "همدان", "یزد", "Fars"]
    assert persian_key("كرمان")[0] == persian_key("کرمان")[0] and persian_key("علي")[0] == persian_key("علی")[0]
    assert persian_sorted(["كرمان", "گیلان", "قم"]) == ["قم", "كرمان", "گیلان"]  # Arabic kaf folded: before گ
    assert persian_sorted(["ب", "ا", "آ"]) == ["آ", "ا", "ب"]


# --------------------------------------------------------------------------- workers' warnings


def test_worker_warnings_keep_the_province_name() -> None:
    """On a worker a unit's warnings are labelled with its province (in the worker's own log too) and
    handed to the command, which logs them; another thread's records are left alone."""
    import threading

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("siteplan")
    keep = Keep()
    logger.addHandler(keep)
    try:
        with _captured_warnings("قم") as lines:
            logging.getLogger("siteplan.pipeline").warning("dem: no elevation for %s of the grid", "3 %")
            logging.getLogger("siteplan.pipeline").info("grid 10 × 10")
            t = threading.Thread(target=lambda: logging.getLogger("siteplan.x").warning("other unit"))
            t.start()
            t.join()
    finally:
        logger.removeHandler(keep)
    assert lines == ["قم: dem: no elevation for 3 % of the grid"]
    assert "قم: dem: no elevation for 3 % of the grid" in seen and "other unit" in seen


# --------------------------------------------------------------------------- one failing province


def test_failing_province_is_named_in_headline_totals_and_map(nation: Path, reference: Path, tmp_path: Path) -> None:
    root = tmp_path / "n"
    shutil.copytree(nation.parent, root, ignore=shutil.ignore_patterns("ref*", "out*", ".out*"))
    ne = root / "ne" / "province.yaml"
    bounds = gpd.read_file(root / "ne" / "boundary.shp").total_bounds + np.array([-0.2, -0.2, 0.2, 0.2])
    _damaged_dem(root / "ne" / "dem.tif", bounds)
    d = yaml.safe_load(ne.read_text(encoding="utf-8"))
    d["layers"]["dem"] = {"path": "dem.tif"}
    ne.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(PartitionsFailed) as err:
        run_national_file(root / "nation.yaml", out, cache=root / "cache")
    msg = str(err.value)
    assert msg.startswith("2 of 3 provinces; NE failed")
    assert "NE: layer 'dem' (" in msg and "dem.tif" in msg and "internal error" not in msg
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<p class="head bad">2 of 3 provinces; NE failed: layer &#39;dem&#39;' in page
    assert "dem.tif" in page and "Totals cover 2 of 3 provinces" in page and "Total: 2 of 3 provinces" in page
    assert 'fill="url(#hatch)"><title>NE: failed</title>' in page and ">NE<tspan" in page and "✕ failed" in page
    prov = pd.read_csv(out / "provinces.csv", dtype=str, keep_default_na=False).set_index("province")
    assert prov.loc["NE", "status"] == "failed" and "dem.tif" in prov.loc["NE", "error"]
    assert prov.loc["NE", "businesses"] == "" and int(prov.loc["NE", "businesses_listed"]) > 0
    # the totals are the two others', and say so
    ref = pd.read_csv(reference / "provinces.csv", dtype=str, keep_default_na=False).set_index("province")
    total = sum(int(ref.loc[k, "businesses"]) for k in KEYS if k != "NE")
    assert f"Totals cover 2 of 3 provinces: {total:,} businesses" in page
    gp = gpd.read_file(out / "national.gpkg", layer="provinces")
    assert sorted(gp["province"]) == sorted(KEYS) and gp.set_index("province").loc["NE", "status"] == "failed"


# --------------------------------------------------------------------------- a cluster of separate processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return env


def _start_scheduler(folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with open(folder / f"scheduler-{port}.log", "w") as logf:  # the child keeps its own handle
        proc = subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                 "--no-dashboard"], env=_env(), cwd=folder, stdout=subprocess.DEVNULL, stderr=logf)
    address = f"tcp://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, address
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the scheduler did not start")


def _start_worker(folder: Path, address: str, name: str) -> subprocess.Popen:
    with open(folder / f"worker-{name}.log", "w") as logf:
        return subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--name", name, "--death-timeout", "30"], env=_env(), cwd=folder,
                                stdout=subprocess.DEVNULL, stderr=logf)


def _wait_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=30) as c:
        c.wait_for_workers(n, timeout=120)


def _siteplan(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "siteplan", *args], env=_env(), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)


def test_unreachable_scheduler_is_an_input_error_at_once(nation: Path, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    t = time.monotonic()
    p = _siteplan("run", str(nation), "--out", str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}",
                  cwd=tmp_path)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert f"--scheduler tcp://127.0.0.1:{port}: no Dask scheduler answers there" in err
    assert "internal error" not in err and "Traceback" not in err
    assert time.monotonic() - t < 120  # (a loaded machine's start and imports; the check itself below)
    assert not (tmp_path / "out").exists()
    # the check itself answers at once (refused), not after Dask's 30 s connection timeout
    from siteplan.errors import InputError
    from siteplan.national.runner import check_scheduler

    t = time.monotonic()
    with pytest.raises(InputError, match="no Dask scheduler answers there"):
        check_scheduler(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - t < 5
    # an address without a port: the same command in this process (the process's exit was checked above)
    from click.testing import CliRunner

    from siteplan.cli import main

    r = CliRunner().invoke(main, ["run", str(nation), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1"])
    assert r.exit_code == 1 and "give the scheduler's address as tcp://HOST:PORT" in r.output, r.output
    assert "Traceback" not in r.output and not (tmp_path / "out").exists()


@pytest.mark.skipif(not (BIN / "dask").exists(), reason="the dask command line (distributed) is not installed")
def test_scheduler_lost_writes_nothing_and_the_rerun_completes_from_the_cache(nation: Path, reference: Path,
                                                                              tmp_path: Path) -> None:
    """The README's cluster recipe on 127.0.0.1: `dask scheduler`, `dask worker`, `siteplan run --scheduler`,
    from the scenario's folder with relative paths. The scheduler is killed once a province is in the cache:
    no national folder, a message naming the cached and missing provinces. The rerun, on a new scheduler
    with two workers of which one is killed mid-run (Dask moves its province to the other), computes only
    the missing provinces and writes the bytes of an uninterrupted run."""
    pytest.importorskip("distributed")
    work = tmp_path / "shared"  # the shared disk: scenario, inputs and cache
    shutil.copytree(nation.parent, work, ignore=shutil.ignore_patterns("ref*", "out*", ".out*"))
    cache = work / "cache"
    units = cache / "units"
    sched, address = _start_scheduler(tmp_path)
    worker = _start_worker(tmp_path, address, "w1")
    try:
        _wait_workers(address, 1)
        run = _siteplan("run", "nation.yaml", "--out", "out", "--cache", "cache", "--scheduler", address, cwd=work)
        end = time.monotonic() + 600
        while time.monotonic() < end and run.poll() is None:
            done = [p for p in units.iterdir() if not p.name.startswith(".")] if units.is_dir() else []
            if done:
                break
            time.sleep(0.1)
        assert run.poll() is None, run.communicate()[1]
        os.kill(sched.pid, signal.SIGKILL)  # the scheduler is lost with one province done
        _, err = run.communicate(timeout=180)
    finally:
        _stop(sched, worker)
    assert run.returncode == 1, err
    assert "the Dask scheduler" in err and "was lost" in err and "nothing was written to" in err
    cached_line = next(line for line in err.splitlines() if line.strip().startswith("in the cache"))
    cached = [k.strip() for k in cached_line.rsplit("): ", 1)[1].split(":", 1)[1].split(",")]
    missing_line = next(line for line in err.splitlines() if line.strip().startswith("missing:"))
    missing = [k.strip() for k in missing_line.split(":", 1)[1].split(",")]
    assert cached and missing and sorted(cached + missing) == sorted(KEYS)
    assert "Traceback" not in err and "FutureCancelledError" not in err.split("missing:")[1]
    assert not (work / "out").exists()  # nothing that looks complete
    # the rerun: a new scheduler, two workers; one is killed while the missing provinces run
    sched, address = _start_scheduler(tmp_path)
    w1, w2 = _start_worker(tmp_path, address, "a"), _start_worker(tmp_path, address, "b")
    try:
        _wait_workers(address, 2)
        run = _siteplan("run", "nation.yaml", "--out", "out", "--cache", "cache", "--scheduler", address, cwd=work)
        time.sleep(4)
        if run.poll() is None:
            os.kill(w1.pid, signal.SIGKILL)
        _, err = run.communicate(timeout=600)
    finally:
        _stop(sched, w1, w2)
    assert run.returncode == 0, err
    man = json.loads((work / "out" / "manifest.json").read_text(encoding="utf-8"))
    status = {u["label"]: u["status"] for u in man["units"]}
    assert {k for k, s in status.items() if s == "cached"} == set(cached)
    assert {k for k, s in status.items() if s == "ok"} == set(missing)
    _same(reference, work / "out")
