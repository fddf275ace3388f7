"""Issue #31, the write stage on two threads (:class:`siteplan.outputs.background.Background`): the same bytes as
one thread, and an error on either thread surfaces as the one error the files written one after the other
would raise, with nothing half-written and nothing written after it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from siteplan.outputs import writer
from siteplan.locate.deviations import score_deviations
from siteplan.outputs.background import Background


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.mark.parametrize("threaded", [True, False])
def test_jobs_run_in_order_and_the_first_error_of_the_sequence_is_raised(threaded):
    done: list[str] = []

    def job(name: str, fail: bool = False, pause: float = 0.0):
        def run() -> None:
            time.sleep(pause)
            if fail:
                raise OSError(f"{name} failed")
            done.append(name)
        return run

    # a queued (earlier) job's error comes before the calling thread's later job's, unchained
    with pytest.raises(OSError, match="^b failed$") as e, Background(threaded=threaded) as bg:
        for name, fail in (("a", False), ("b", True), ("c", False)):
            bg.submit(job(name, fail, pause=0.05))
        bg.then(job("report", fail=True))
    assert e.value.__context__ is None and e.value.__cause__ is None
    assert "c" not in done  # nothing after the failed job
    assert done == ["a"]

    # the calling thread's later job fails alone: its error, after every queued job ran
    done.clear()
    with pytest.raises(OSError, match="^report failed$"), Background(threaded=threaded) as bg:
        for name in "abc":
            bg.submit(job(name, pause=0.01))
        bg.then(job("report", fail=True))
    assert done == ["a", "b", "c"]


def test_an_error_before_the_queued_jobs_stops_them_and_waits_for_the_running_one():
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    ran: list[int] = []
    with pytest.raises(ValueError, match="tables"), Background(threaded=True) as bg:
        bg.submit(slow)
        for i in range(3):
            bg.submit(lambda i=i: ran.append(i))
        started.wait(5)
        raise ValueError("tables")
    # the running job finished before the error reached the caller; the queued ones never started
    assert finished.is_set() and ran == []


@pytest.fixture
def restored(demo_result):
    """The shared demo result, its timings put back afterwards (write_run records its own)."""
    t, c = dict(demo_result.timings), dict(demo_result.timings_cpu)
    yield demo_result
    demo_result.timings.clear()
    demo_result.timings.update(t)
    demo_result.timings_cpu.clear()
    demo_result.timings_cpu.update(c)


def test_two_threads_write_the_bytes_one_thread_writes(restored, tmp_path, monkeypatch):
    res = restored
    monkeypatch.setattr(writer, "WRITE_THREADS", 1)
    one = writer.write_run(res, tmp_path / "one", score_sd=score_deviations(res.prep, res.seed))
    monkeypatch.setattr(writer, "WRITE_THREADS", 2)
    two = writer.write_run(res, tmp_path / "two", score_sd=score_deviations(res.prep, res.seed))
    assert one == two
    a, b = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sorted(a) == sorted(b) and any(k.startswith("suitability/") for k in a) and "report.html" in a
    assert [k for k in a if a[k] != b[k]] == []


def test_an_error_on_the_worker_leaves_nothing_half_written_and_is_the_error_raised(restored, tmp_path,
                                                                                    monkeypatch):
    """A GeoTIFF's encoding fails half way (on the worker thread) while the report is written (on the calling
    thread): the caller gets that error, after which nothing more is written; no temporary or partial file is
    left, and the failed file is absent."""
    res = restored
    code = sorted(res.prep.surfaces)[1]
    real = writer.write_geotiff

    def failing(array, grid, path, **kw):
        if Path(path).name == f"{code}.tif":
            with writer.atomic_path(path) as tmp:
                tmp.write_bytes(b"II*\x00 half a GeoTIFF")
                raise OSError(28, "No space left on device")
        real(array, grid, path, **kw)

    monkeypatch.setattr(writer, "write_geotiff", failing)
    out = tmp_path / "run"
    with pytest.raises(OSError, match="No space left on device") as e:
        writer.write_run(res, out, score_sd=score_deviations(res.prep, res.seed))
    assert e.value.__context__ is None
    after = _files(out)
    time.sleep(0.5)
    assert _files(out) == after  # nothing written once the error reached the caller
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or p.name.endswith(".part")]
    assert f"suitability/{code}.tif" not in after and "manifest.json" not in after
    assert not any(k.startswith("explain/") for k in after)  # the jobs after the failed one did not run


@pytest.mark.parametrize("lat, lon", [(33.123456, 51.654321), (-12.5, -7.25), (0.0, 180.0), (35.0, 50.1)])
def test_the_skeleton_is_what_folium_renders_for_the_map(lat, lon):
    folium = pytest.importorskip("folium")
    from siteplan.report.page import MAP_NAME, skeleton

    m = folium.Map(location=[lat, lon], zoom_start=8, tiles=None, control_scale=True, prefer_canvas=True)
    m._id = "report"
    m.default_js, m.default_css = [], []
    assert skeleton(lat, lon) == m.get_root().render()
    assert m.get_name() == MAP_NAME
    with pytest.raises(ValueError, match="not a number"):
        skeleton(float("nan"), lon)


def test_the_overlay_png_is_the_one_folium_encodes():
    pytest.importorskip("folium")
    import numpy as np
    from folium.utilities import image_to_url

    from siteplan.report.overlays import png_data_url

    rng = np.random.default_rng(3)
    for shape in ((1, 1, 4), (7, 13, 4), (120, 90, 4)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        img[: shape[0] // 2, :, 3] = 0  # a transparent part
        assert png_data_url(img) == image_to_url(img)


def test_a_report_imports_folium_only_to_render_its_skeleton_once(restored, tmp_path):
    """Folium renders the page's skeleton; a later run with the same Folium takes it from the user cache and
    imports no template engine (folium, branca, jinja2); the two pages are the same bytes."""
    import os
    import pickle
    import subprocess
    import sys

    pkl = tmp_path / "res.pickle"
    pkl.write_bytes(pickle.dumps(restored))
    env = {**os.environ, "SITEPLAN_CACHE_DIR": str(tmp_path / "cache")}

    def build(name: str) -> str:
        code = ("import pickle, sys; from siteplan.report import build_report; "
                f"build_report(pickle.loads(open({str(pkl)!r}, 'rb').read()), {str(tmp_path / name)!r}); "
                "print(sorted(m for m in sys.modules if m.split('.')[0] in ('folium', 'branca', 'jinja2')))")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                              cwd=Path(__file__).resolve().parents[1]).stdout.strip()

    assert "'folium'" in build("a.html")  # rendered by Folium
    assert build("b.html") == "[]"  # from the cache
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def _has_cr_as_it_was(df):
    """safe_csv's test for a carriage return before #31: every text cell of every non-numeric column."""
    import pandas as pd

    if any(isinstance(c, str) and "\r" in c for c in df.columns):
        return True
    return any(isinstance(v, str) and "\r" in v
               for i in range(df.shape[1]) if not pd.api.types.is_numeric_dtype(df.iloc[:, i].dtype)
               for v in df.iloc[:, i].tolist())


@pytest.mark.parametrize("case", ["none", "cell", "repeated", "name", "categorical", "str_subclass", "string_dtype",
                                  "list"])
def test_csv_line_ends_follow_a_carriage_return_anywhere(case, tmp_path):
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"id": ["a", "b", "c"], "n": [1.5, -2.0, 3.0], "t": ["x", "=1+1", "y"]})
    if case == "cell":
        df.loc[1, "t"] = "two\rlines"
    elif case == "repeated":
        df["t"] = ["a\rb"] * 3
    elif case == "name":
        df = df.rename(columns={"t": "t\rx"})
    elif case == "categorical":
        df["t"] = pd.Categorical(["x", "-y\r", "x"])
    elif case == "str_subclass":
        df["t"] = pd.Series([np.str_("a\r"), "b", "c"], dtype=object)
    elif case == "string_dtype":
        df["t"] = pd.Series(["a", None, "@c\r"], dtype="string")
    elif case == "list":
        df["t"] = pd.Series([["a\r"], "b", "c"], dtype=object)  # not text: no CR of a text cell
    text = writer.safe_csv(df)
    want = _has_cr_as_it_was(writer.neutralise_formulas(df))
    assert want == (case not in ("none", "list"))
    assert text.endswith("\r\n") == want  # CRLF line ends exactly when a text holds a CR


def test_the_font_keeps_every_character_of_the_page_but_printable_ascii():
    from siteplan.report.fontface import _distinct_non_ascii

    page = "abc سلام \u200c\u200f\ud800 x\U0001F600 ۱۲ \t\n" * 3
    assert _distinct_non_ascii(page) == "".join(sorted(set(page) - {chr(c) for c in range(0x20, 0x7F)}))
    assert _distinct_non_ascii("") == "" and _distinct_non_ascii("plain ASCII ~") == ""
