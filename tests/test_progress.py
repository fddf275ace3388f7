"""Progress (issue 19): stage events, the bars drawn from them, and silence where nobody listens."""

from __future__ import annotations

import io
import logging
import threading

import pytest

from siteplan.progress import STAGES, UnitBars, announce, count_bar, emit, listen, show_bars, stage_bar


def test_emit_reaches_only_the_listener_of_this_context() -> None:
    got: list[tuple[str, str]] = []
    emit("load", "start")  # nobody listens: nothing happens
    with listen(lambda s, st: got.append((s, st))):
        with announce("load"):
            pass
        other: list[tuple[str, str]] = []

        def elsewhere() -> None:  # another thread has its own (empty) context
            with listen(lambda s, st: other.append((s, st))):
                emit("zoning", "start")

        t = threading.Thread(target=elsewhere)
        t.start()
        t.join()
        emit("allocate", "start")
    emit("write", "start")
    assert got == [("load", "start"), ("load", "done"), ("allocate", "start")]
    assert other == [("zoning", "start")]


def test_a_failing_listener_does_not_fail_the_run() -> None:
    def broken(stage: str, state: str) -> None:
        raise RuntimeError("display gone")

    with listen(broken):
        emit("load", "start")  # no exception


def test_announce_does_not_say_done_when_the_stage_failed() -> None:
    got: list[tuple[str, str]] = []
    with listen(lambda s, st: got.append((s, st))), pytest.raises(ValueError):
        with announce("allocate"):
            raise ValueError("solver")
    assert got == [("allocate", "start")]


def test_stage_bar_draws_the_stages() -> None:
    buf = io.StringIO()
    with stage_bar("استان قم", file=buf, force=True):
        for s in STAGES[:4]:
            with announce(s):
                pass
        emit("allocate", "start")
    text = buf.getvalue()
    assert "استان قم" in text and f"4/{len(STAGES)}" in text and "allocate" in text


def test_no_bars_off_a_terminal_or_when_quiet() -> None:
    assert not show_bars(io.StringIO())  # not a terminal

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    log = logging.getLogger("siteplan")
    old = log.level
    try:
        log.setLevel(logging.INFO)
        assert show_bars(Tty())
        log.setLevel(logging.WARNING)  # --quiet
        assert not show_bars(Tty())
    finally:
        log.setLevel(old)
    buf = io.StringIO()
    with stage_bar("x", file=buf):
        emit("load", "start")
    assert buf.getvalue() == ""


def test_unit_bars_slots_failures_and_late_events() -> None:
    buf = io.StringIO()
    with UnitBars(["A", "B\x1b[2J\x07", "<b>C</b>"], file=buf, force=True) as bars:
        bars.stage(0, "load", "start")
        bars.stage(1, "load", "start")
        assert sorted(bars._slots.values()) == [0, 1]  # one line per partition being computed
        bars.stage(0, "load", "done")
        bars.done(0, "ok")
        bars.stage(0, "write", "done")  # arrives after the unit ended: ignored
        bars.stage(2, "load", "start")
        assert bars._slots[2] == 0  # the freed line is reused
        bars.done(1, "failed")
        bars.done(2, "cached")
    assert bars.events == [(0, "load", "start"), (1, "load", "start"), (0, "load", "done"), (0, "unit", "ok"),
                           (2, "load", "start"), (1, "unit", "failed"), (2, "unit", "cached")]
    text = buf.getvalue()
    assert "3/3" in text and "1 failed" in text and "<b>C</b>" in text
    assert "\x1b[2J" not in text and "\x07" not in text  # a key from the data cannot drive the terminal


def test_count_bar() -> None:
    buf = io.StringIO()
    with count_bar(8, "suitability car_repair", "chunk", file=buf, force=True) as advance:
        for _ in range(8):
            advance(1)
    assert "8/8" in buf.getvalue()
    with count_bar(8, "x", "chunk", file=io.StringIO()) as advance:
        advance(1)  # off a terminal: does nothing, does not fail


def test_stage_log_lines_step_down_under_a_bar() -> None:
    """Under a bar the stages' own log lines would repeat it: they go to DEBUG there, INFO elsewhere."""
    from siteplan.progress import StageTimer as _Timer

    got: list[tuple[str, int]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append((record.getMessage(), record.levelno))

    lg = logging.getLogger("siteplan.pipeline")
    h = Keep(level=logging.DEBUG)
    old = lg.level
    lg.addHandler(h)
    lg.setLevel(logging.DEBUG)
    try:
        t = _Timer()
        with t.stage("load"):
            pass
        with stage_bar("x", file=io.StringIO(), force=True), t.stage("classify"):
            pass
    finally:
        lg.removeHandler(h)
        lg.setLevel(old)
    levels = {m.split()[1]: lv for m, lv in got if m.startswith("stage ")}
    assert levels == {"load": logging.INFO, "classify": logging.DEBUG}


def test_partition_log_lines_say_their_partition() -> None:
    """A partition run in this process labels its log lines once, its key taken as text ('%' included)."""
    from siteplan.national.logs import labelled_logs

    lg = logging.getLogger("siteplan")
    buf = io.StringIO()
    handlers = [logging.StreamHandler(buf), logging.StreamHandler(buf)]  # two handlers: one label
    old = (lg.handlers[:], lg.level, lg.propagate)
    lg.handlers[:] = handlers
    lg.setLevel(logging.INFO)
    lg.propagate = False
    try:
        with labelled_logs("استان ۵۰%"):
            logging.getLogger("siteplan.pipeline").info("grid %d × %d cells", 3, 4)
            logging.getLogger("siteplan.zoning.zones").info("no args, 100% literal")
        logging.getLogger("siteplan.pipeline").info("after")
    finally:
        lg.handlers[:], lg.level, lg.propagate = old
    assert buf.getvalue().splitlines() == ["استان ۵۰%: grid 3 × 4 cells"] * 2 + [
        "استان ۵۰%: no args, 100% literal"] * 2 + ["after"] * 2
