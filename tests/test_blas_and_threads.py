"""One OpenBLAS kernel per kind of machine (siteplan.common.blas) and independent work on threads with the
answers of running it in order (siteplan.common.parallel)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from siteplan.common import blas
from siteplan.common.parallel import ordered_map

FIT = """
import hashlib
{first}
from siteplan.guilds.ngram_model import _fit_pinned
from siteplan.guilds.name_model import load_corpus
import numpy as np
c = load_corpus()  # thousands of names: enough for another kernel's sums to change the coefficients' bits
m, _ = _fit_pinned(list(c["name"].astype(str)), list(c["category"].astype(str)), np.ones(len(c)))
print(hashlib.sha256(m.to_npz()).hexdigest())
"""


def _fit_digest(first: str) -> str:
    r = subprocess.run([sys.executable, "-c", FIT.format(first=first)], capture_output=True, text=True, check=True,
                       env={k: v for k, v in os.environ.items() if k != blas.ENV})
    return r.stdout.strip()


@pytest.mark.skipif(blas.pinned_kernel() is None, reason="no OpenBLAS kernel is pinned on this kind of machine")
def test_name_model_bits_do_not_depend_on_who_loaded_numpy_first():
    # siteplan first: its import pins the kernel before numpy loads OpenBLAS; numpy first: the machine's
    # own kernel is loaded, so the training runs in a child process that loads the pinned one
    assert _fit_digest("import siteplan") == _fit_digest("import numpy")


def test_pin_keeps_the_users_own_kernel(monkeypatch):
    monkeypatch.setenv(blas.ENV, "Sandybridge")
    assert blas.pinned_kernel() == "Sandybridge"


def test_ordered_map_keeps_the_order_and_raises_the_first_error():
    def slow_square(x: int) -> int:
        time.sleep(0.02 * (5 - x))  # the later items finish first
        return x * x

    assert ordered_map(slow_square, range(6), workers=3) == [x * x for x in range(6)]
    assert ordered_map(slow_square, [], workers=3) == []

    def fail_on(x: int) -> int:
        if x in (2, 4):
            raise ValueError(f"item {x}")
        return x

    with pytest.raises(ValueError, match="item 2"):
        ordered_map(fail_on, range(6), workers=2)


def test_no_child_python_trains_here_with_a_warning(monkeypatch, caplog):
    # inside an embedding program (QGIS: sys.executable is the program, not Python) no child is started
    import numpy as np

    from siteplan.guilds import ngram_model

    monkeypatch.setattr(blas, "kernel_in_use", lambda: False)
    monkeypatch.setattr(sys, "executable", "/opt/qgis/bin/qgis")
    with caplog.at_level("WARNING", logger="siteplan.guilds.ngram_model"):
        m, pinned = ngram_model._fit_pinned(["jooshkari", "najjari", "sangbori", "jooshkar"], ["a", "b", "c", "a"],
                                             np.ones(4))
    assert list(m.classes) == ["a", "b", "c"] and not pinned  # trained with this kernel: said so
    assert "not a Python to train in" in caplog.text


def test_a_model_trained_with_another_kernel_is_not_cached(monkeypatch, tmp_path):
    import numpy as np

    from siteplan.guilds import ngram_model

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(blas, "kernel_in_use", lambda: False)
    monkeypatch.setattr(sys, "executable", "/opt/qgis/bin/qgis")  # no child: trained here, with this kernel
    ngram_model._MEMORY.clear()
    ngram_model.fitted_model(["jooshkari x", "najjari y", "sangbori z"], ["a", "b", "c"], np.ones(3))
    assert not list(tmp_path.rglob("*.npz"))  # the key names the pinned kernel: this model is not kept


def test_the_child_imports_this_siteplan_not_one_in_the_working_folder(monkeypatch, tmp_path):
    import numpy as np

    from siteplan.guilds import ngram_model

    fake = tmp_path / "siteplan"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('a stranger siteplan')\n")
    monkeypatch.chdir(tmp_path)
    got = ngram_model._fit_in_child(["jooshkari x", "najjari y", "sangbori z"], ["a", "b", "c"], np.ones(3))
    assert got is not None and list(got.classes) == ["a", "b", "c"]


def test_threads_setting(monkeypatch):
    from siteplan.common.parallel import limited, threads

    monkeypatch.setenv("SITEPLAN_THREADS", "3")
    assert threads() == 3
    with limited(1):
        assert threads() == 1
    for junk in ("²", "two", "-2", ""):
        monkeypatch.setenv("SITEPLAN_THREADS", junk)
        assert 1 <= threads() <= 4
def test_side_by_side_stops_the_other_when_the_first_fails(monkeypatch):
    from siteplan.common.parallel import side_by_side

    monkeypatch.setenv("SITEPLAN_THREADS", "2")
    started: list[int] = []
    release = threading.Event()

    def first() -> None:
        release.wait(5)  # the second has started its first item
        raise RuntimeError("sites failed")

    def item(i: int) -> int:
        started.append(i)
        release.set()
        time.sleep(0.2)
        return i

    def second() -> list[int]:
        return ordered_map(item, range(6), workers=1)

    with pytest.raises(RuntimeError, match="sites failed"):
        side_by_side(first, second)
    time.sleep(0.5)  # whatever was running has finished; nothing more starts
    assert started == [0]
    assert side_by_side(lambda: 1, lambda: ordered_map(lambda x: x * 2, range(3))) == (1, [0, 2, 4])


class _Quiet(UserWarning):
    """The warning one thread silences in the serialization test."""


def _interleave(serialized: bool) -> list[str]:
    """Thread B enters catch_warnings first; thread A enters its own, silences _Quiet, and warns after B has
    left. Unserialized, B's exit restores the filters B saved (without A's), and A's warning escapes."""
    import warnings

    from siteplan.common.warnturns import warnings_serialized

    b_in, a_in, b_out = threading.Event(), threading.Event(), threading.Event()
    escaped: list[str] = []

    def thread_b() -> None:
        with warnings.catch_warnings():
            b_in.set()
            a_in.wait(0.5)  # serialized, A cannot enter before B leaves: the wait times out
        b_out.set()

    def thread_a() -> None:
        b_in.wait(5)
        with warnings.catch_warnings():
            a_in.set()
            warnings.simplefilter("ignore", _Quiet)
            b_out.wait(5)
            with warnings.catch_warnings(record=True) as seen:  # nested in one thread: never waits
                try:
                    warnings.warn("silenced by A", _Quiet, stacklevel=1)
                except _Quiet as e:  # escaped into an "error" filter (the tests' own)
                    escaped.append(str(e))
            escaped.extend(str(w.message) for w in seen if issubclass(w.category, _Quiet))

    def go() -> None:
        ts = [threading.Thread(target=thread_b), threading.Thread(target=thread_a)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(10)

    if serialized:
        with warnings_serialized():
            go()
    else:
        go()
    return escaped


def test_catch_warnings_of_threads_take_turns_inside_warnings_serialized():
    # the race this guards against, reproduced: without the serialization A's silenced warning escapes
    assert _interleave(serialized=False) == ["silenced by A"]
    assert _interleave(serialized=True) == []
    # outside a serialized block catch_warnings is as it was (and the block left no filter behind)
    assert _interleave(serialized=False) == ["silenced by A"]


def test_work_handed_to_threads_from_inside_a_held_catch_warnings_runs_here():
    import warnings

    from siteplan.common.parallel import side_by_side
    from siteplan.common.warnturns import in_held_catch_warnings, warnings_serialized

    def item(x: int) -> tuple[int, str]:
        with warnings.catch_warnings():  # would wait for the caller's forever if it were on another thread
            return x, threading.current_thread().name

    with warnings_serialized(), warnings.catch_warnings():
        assert in_held_catch_warnings()
        got = ordered_map(item, range(3), workers=2)
        both = side_by_side(lambda: item(9), lambda: item(8))
    here = threading.current_thread().name
    assert got == [(0, here), (1, here), (2, here)] and both == ((9, here), (8, here))
    assert not in_held_catch_warnings()


def test_turns_in_the_edge_cases_a_review_found(monkeypatch):
    """A block entered before the serialization and left inside it takes a turn to leave; a block left on
    another thread gives its turn back; a wait for a turn that would never come (a thread importing what
    the turn's holder imports) goes ahead after TURN_WAIT_S."""
    import warnings

    from siteplan.common import warnturns
    from siteplan.common.warnturns import warnings_serialized

    # (b) entered outside, left inside: its exit must not drop a filter set inside another's turn
    outer_in, inner_set, outer_out = threading.Event(), threading.Event(), threading.Event()
    escaped: list[str] = []

    def outside() -> None:
        with warnings.catch_warnings():
            outer_in.set()
            inner_set.wait(5)
        outer_out.set()

    def inside() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _Quiet)
            inner_set.set()
            outer_out.wait(0.5)  # with turns the outsider's exit waits for this block: times out
            try:
                with warnings.catch_warnings(record=True) as seen:
                    warnings.warn("silenced inside", _Quiet, stacklevel=1)
            except _Quiet as e:
                escaped.append(str(e))
            else:
                escaped.extend(str(w.message) for w in seen if issubclass(w.category, _Quiet))

    t_out = threading.Thread(target=outside)
    t_out.start()
    outer_in.wait(5)
    with warnings_serialized():
        t_in = threading.Thread(target=inside)
        t_in.start()
        t_in.join(10)
        t_out.join(10)
    assert escaped == []

    # (c) a block left on another thread gives the turn back
    with warnings_serialized():
        cw = warnings.catch_warnings()
        cw.__enter__()
        assert warnturns.in_held_catch_warnings()
        t = threading.Thread(target=cw.__exit__, args=(None, None, None))
        t.start()
        t.join(5)
        got: list[bool] = []
        t2 = threading.Thread(target=lambda: got.append(warnturns._turn.take(1.0)))
        t2.start()
        t2.join(5)
        assert got == [True]
        warnturns._turn.give(t2.ident)  # type: ignore[arg-type]
        assert not warnturns.in_held_catch_warnings()

    # (1) a wait that would never end goes ahead after TURN_WAIT_S
    monkeypatch.setattr(warnturns, "TURN_WAIT_S", 0.3)
    b_in = threading.Event()

    def waiter() -> None:
        with warnings.catch_warnings():
            b_in.set()

    with warnings_serialized(), warnings.catch_warnings():  # the holder waits for the other's block
        t = threading.Thread(target=waiter)
        t0 = time.perf_counter()
        t.start()
        assert b_in.wait(5) and time.perf_counter() - t0 < 4
        t.join(5)


def test_side_by_side_keeps_the_turns_until_the_second_has_ended(monkeypatch):
    import warnings

    from siteplan.common import warnturns
    from siteplan.common.parallel import side_by_side

    monkeypatch.setenv("SITEPLAN_THREADS", "2")
    started, release = threading.Event(), threading.Event()

    def second() -> None:
        started.set()
        release.wait(5)

    def first() -> None:
        started.wait(5)
        raise RuntimeError("sites failed")

    with pytest.raises(RuntimeError, match="sites failed"):
        side_by_side(first, second)
    assert warnturns._turn.depth == 1  # the second still runs: its blocks still take turns
    release.set()
    for _ in range(100):
        if warnturns._turn.depth == 0:
            break
        time.sleep(0.05)
    assert warnturns._turn.depth == 0
    with warnings.catch_warnings():
        assert not warnturns.in_held_catch_warnings()
