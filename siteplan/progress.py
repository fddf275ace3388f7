"""Progress of long work: the pipeline announces its stages; a terminal shows them as bars.

The pipeline calls :func:`emit` when a stage starts and ends (``load`` … ``locate``, then ``write``).
Whoever wants to follow a run installs a listener with :func:`listen` (a context variable: a listener
belongs to the code that set it, so runs in other threads are not mixed up). Nothing is shown unless
someone listens, so the library is silent when imported.

Displays (on stderr, only when it is a terminal and the log level shows progress, i.e. not
``--quiet``; elsewhere the log lines say the same):

* :func:`stage_bar` — one run: a bar over its stages, the current stage named.
* :class:`UnitBars` — a national run: a bar of the partitions done, and one bar per partition being
  computed, over its stages (on Dask the workers send their stages as events; see
  :mod:`siteplan.national.runner`).
* :func:`count_bar` — work counted in pieces (the chunks of a national raster).

Log lines written while bars are shown go above the bars (``tqdm``'s logging redirect), not through them.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import IO, Any, Self

from .common.interrupts import raise_pending
from .common.textnorm import printable

__all__ = ["STAGES", "Listener", "emit", "announce", "listen", "drawn", "show_bars", "stage_bar", "UnitBars", "count_bar",
           "StageTimer"]

#: a run's stages in order (``write``: the outputs written)
STAGES: tuple[str, ...] = ("load", "classify", "rules", "suitability", "estates", "clusters", "allocate",
                           "zoning", "locate", "programme", "write")

#: called with (stage, state): state ``start`` or ``done``
Listener = Callable[[str, str], None]

_listener: ContextVar[Listener | None] = ContextVar("siteplan_progress_listener", default=None)
_drawn: ContextVar[bool] = ContextVar("siteplan_progress_drawn", default=False)
_log = logging.getLogger("siteplan")


def emit(stage: str, state: str) -> None:
    """Tell the listener (if any) that ``stage`` started (``state="start"``) or ended (``"done"``).
    A listener's failure never stops the run (progress is not a result)."""
    fn = _listener.get()
    if fn is not None:
        try:
            fn(stage, state)
        except Exception:  # noqa: BLE001 - a listener's failure of any kind never stops the run
            _log.debug("progress listener failed", exc_info=True)


@contextmanager
def announce(stage: str) -> Iterator[None]:
    """Emit ``stage`` started, run the block, emit it done (not when the block raised). An interrupt a
    library swallowed is raised again here, before and after (:mod:`siteplan.common.interrupts`)."""
    raise_pending()
    emit(stage, "start")
    yield
    raise_pending()
    emit(stage, "done")


@contextmanager
def listen(fn: Listener | None, *, drawn: bool = False) -> Iterator[None]:
    """Send the stages emitted inside the block (in this thread or task) to ``fn``; ``drawn``: ``fn``
    shows them on the terminal, so the stages' own log lines step down to DEBUG (:func:`drawn`)."""
    token = _listener.set(fn)
    token_d = _drawn.set(drawn)
    try:
        yield
    finally:
        _drawn.reset(token_d)
        _listener.reset(token)


def drawn() -> bool:
    """True while a bar shows the stages (their log lines would repeat it)."""
    return _drawn.get()


def show_bars(stream: IO[str] | None = None) -> bool:
    """True when bars should be drawn: ``stream`` (stderr) is a terminal and progress is logged (not ``--quiet``)."""
    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and _log.isEnabledFor(logging.INFO)


def _redirect() -> Any:
    """Log lines go above the bars while they are drawn."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm(loggers=[_log])


@contextmanager
def stage_bar(label: str = "run", *, file: IO[str] | None = None, force: bool = False) -> Iterator[None]:
    """Show one run's stages as a bar while the block runs (nothing when not on a terminal, unless ``force``)."""
    if not (force or show_bars(file)):
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=len(STAGES), desc=printable(label), unit="stage", file=file or sys.stderr, leave=False,
               bar_format="{desc}: {bar} {n_fmt}/{total_fmt} stages [{elapsed}]{postfix}", dynamic_ncols=True,
               mininterval=0 if force else 0.1)
    lock = threading.Lock()

    def on(stage: str, state: str) -> None:
        with lock:
            if state == "start":
                bar.set_postfix_str(stage)
            elif stage in STAGES:
                bar.update(1)

    try:
        with (nullcontext() if force else _redirect()), listen(on, drawn=True):
            yield
    finally:
        bar.close()


class UnitBars:
    """Bars for a national run: the partitions done (with how many failed), and one bar per partition
    being computed, over its stages.

    Thread-safe: stage events may arrive from another thread (Dask's event handler) while outcomes
    arrive in the main thread.

    Parameters
    ----------
    labels
        Each unit's label (in task order).
    file
        Where to draw (stderr).
    force
        Draw even when ``file`` is not a terminal (tests).
    """

    def __init__(self, labels: list[str], *, file: IO[str] | None = None, force: bool = False) -> None:
        self.labels = [printable(s) for s in labels]
        self.file = file or sys.stderr
        self.enabled = force or show_bars(self.file)
        self._force = force
        self._lock = threading.Lock()
        self._bars: dict[int, Any] = {}
        self._slots: dict[int, int] = {}
        self._failed = 0
        self._ended: set[int] = set()
        self._total: Any = None
        self._redirect: Any = None
        #: every (unit, stage, state) received, in order (what the bars showed)
        self.events: list[tuple[int, str, str]] = []

    def __enter__(self) -> Self:
        """Open the total bar (on a terminal, with the log redirected above the bars)."""
        if self.enabled:
            from tqdm import tqdm

            if not self._force:
                self._redirect = _redirect()
                self._redirect.__enter__()
            self._total = tqdm(total=len(self.labels), desc="partitions", unit="partition", file=self.file,
                               position=0, dynamic_ncols=True, mininterval=0 if self._force else 0.1,
                               bar_format="{desc}: {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}")
        return self

    def __exit__(self, *exc: object) -> None:
        """Close every bar and end the log's redirection."""
        with self._lock:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()
            if self._total is not None:
                self._total.close()
            if self._redirect is not None:
                self._redirect.__exit__(None, None, None)

    def stage(self, unit: int, stage: str, state: str) -> None:
        """A stage of ``unit`` started or ended."""
        with self._lock:
            if unit in self._ended:  # a late event of a unit that ended (events travel apart from results)
                return
            self.events.append((unit, stage, state))
            if not self.enabled:
                return
            bar = self._bars.get(unit)
            if bar is None:
                from tqdm import tqdm

                slot = min(set(range(len(self._slots) + 1)) - set(self._slots.values()))
                self._slots[unit] = slot
                bar = self._bars[unit] = tqdm(total=len(STAGES), desc=self.labels[unit], file=self.file,
                                              position=slot + 1, leave=False, dynamic_ncols=True,
                                              mininterval=0 if self._force else 0.1,
                                              bar_format="  {desc}: {bar} {n_fmt}/{total_fmt} stages{postfix}")
            if state == "start":
                bar.set_postfix_str(stage)
            elif stage in STAGES:
                bar.update(1)

    def done(self, unit: int, status: str) -> None:
        """``unit`` ended (``ok``, ``cached`` or ``failed``)."""
        with self._lock:
            self.events.append((unit, "unit", status))
            self._ended.add(unit)
            self._failed += status == "failed"
            if not self.enabled:
                return
            bar = self._bars.pop(unit, None)
            self._slots.pop(unit, None)
            if bar is not None:
                bar.close()
            self._total.update(1)
            if self._failed:
                self._total.set_postfix_str(f"{self._failed} failed")


@contextmanager
def count_bar(total: int, desc: str, unit: str, *, file: IO[str] | None = None,
              force: bool = False) -> Iterator[Callable[[int], None]]:
    """A bar over ``total`` pieces; yields ``advance(n)``. Without a terminal, ``advance`` does nothing."""
    if not (force or show_bars(file)):
        yield lambda _n: None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=printable(desc), unit=unit, file=file or sys.stderr, leave=False, dynamic_ncols=True,
               mininterval=0 if force else 0.1)
    try:
        with (nullcontext() if force else _redirect()):
            yield bar.update
    finally:
        bar.close()


#: the stages' own log lines keep the pipeline's logger name (what a user filters on)
_stage_log = logging.getLogger("siteplan.pipeline")


class StageTimer:
    """Wall seconds (``times``) and CPU seconds of this process (``cpu``: user + system, all threads) of
    each stage of a run; the manifest's ``timings_s`` and ``timings_cpu_s``."""

    def __init__(self) -> None:
        """No stage timed yet."""
        self.times: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the stage ``name`` (announced to the listeners, logged at its start and end)."""
        level = logging.DEBUG if drawn() else logging.INFO  # a progress bar already shows the stages
        _stage_log.log(level, "stage %s …", name)
        t0, c0 = time.perf_counter(), time.process_time()
        with announce(name):
            yield
        self.times[name] = round(time.perf_counter() - t0, 3)
        self.cpu[name] = round(time.process_time() - c0, 3)
        _stage_log.log(level, "stage %s done in %.2f s", name, self.times[name])
