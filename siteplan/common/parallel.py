"""Independent computations on the machine's cores, with the answers of running them one after another.

:func:`ordered_map` runs a function over items on a pool of threads and returns the results in the
items' order; the first item's error (in that order) is raised. :func:`side_by_side` runs two
computations at once. Threads pay only where the work releases the GIL: the relocation solves (HiGHS),
GEOS and numpy. Each item runs in a copy of the caller's context (:mod:`contextvars`: the run's progress
listener, report language), so it sees what the caller sees.

The results do not depend on the number of threads or on which finishes first, so long as each call of the
function depends only on its item and on state nobody writes while they run (callers keep to that; a shared
memo is filled under a lock, as :class:`siteplan.locate.upgrades.TravelMemo` is). The number of threads is
``SITEPLAN_THREADS`` when set (``1``: one after another, on the calling thread), else the cores this process
may use (at most :data:`MAX_THREADS`); :func:`limited` lowers it for a block (a national unit on a Dask worker
runs on one thread: the worker's own). When :func:`side_by_side`'s first computation fails or is interrupted,
the items of the second not yet started are skipped (:class:`Stopped`); a solve already running finishes.

Threads share the process's warning filters, which ``warnings.catch_warnings`` (inside pandas, rasterio and
others) saves and restores as a whole before Python 3.14: :func:`ordered_map`, :func:`side_by_side` and the
writer's worker (:class:`siteplan.outputs.background.Background`) run inside
:func:`~siteplan.common.warnturns.warnings_serialized`, where those blocks take turns.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from .warnturns import in_held_catch_warnings, warnings_serialized

__all__ = ["MAX_THREADS", "Stopped", "limited", "ordered_map", "side_by_side", "threads"]

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

#: the most threads :func:`threads` gives by default
MAX_THREADS = 4

_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("siteplan_threads_limit", default=None)
_STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("siteplan_threads_stop", default=None)


class Stopped(Exception):
    """An item skipped because the work it belonged to was stopped (:func:`side_by_side`)."""


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says it), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on this system (macOS, Windows)
        return os.cpu_count() or 1


def threads() -> int:
    """The number of threads :func:`ordered_map` uses (module docstring)."""
    limit = _LIMIT.get()
    raw = os.environ.get("SITEPLAN_THREADS", "").strip()
    try:
        n = int(raw) if raw else 0
    except ValueError:
        n = 0
    n = n if n > 0 else max(1, min(MAX_THREADS, _cores()))
    return n if limit is None else max(1, min(n, limit))


@contextmanager
def limited(n: int) -> Iterator[None]:
    """At most ``n`` threads for :func:`ordered_map` and :func:`side_by_side` in the block (this context)."""
    token = _LIMIT.set(n)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def _stopped() -> bool:
    stop = _STOP.get()
    return stop is not None and stop.is_set()


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, computed on up to ``workers`` threads.

    Parameters
    ----------
    fn
        The computation; each call must depend only on its item and on state no call writes.
    items
        The items.
    workers
        Threads (default :func:`threads`); 1 or a single item runs on the calling thread.

    Returns
    -------
    list
        The results, in the items' order.

    Raises
    ------
    Exception
        The error of the first item (in the items' order) whose call raised; the calls not yet started
        are cancelled, those running are waited for.
    Stopped
        When the work this belongs to was stopped (:func:`side_by_side`) before every item started.
    """
    todo = list(items)

    def call(x: T) -> R:
        if _stopped():
            raise Stopped("stopped before this item started")
        return fn(x)

    n = min(workers or threads(), len(todo))
    if n <= 1 or in_held_catch_warnings():
        return [call(x) for x in todo]
    with warnings_serialized(), ThreadPoolExecutor(max_workers=n, thread_name_prefix="siteplan") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call, x) for x in todo]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def side_by_side(first: Callable[[], R], second: Callable[[], S]) -> tuple[R, S]:
    """``(first(), second())`` with ``second`` on another thread while ``first`` runs on this one.

    Parameters
    ----------
    first
        Run on the calling thread.
    second
        Run on a worker thread (in a copy of the caller's context), or after ``first`` where
        :func:`threads` is 1.

    Returns
    -------
    tuple
        Both results.

    Raises
    ------
    BaseException
        ``first``'s error (an interruption included): ``second`` is then told to stop (its
        :func:`ordered_map` items not started are skipped) and not waited for; else ``second``'s error.
    """
    if threads() <= 1 or in_held_catch_warnings():
        return first(), second()
    stop = threading.Event()
    token = _STOP.set(stop)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="siteplan-beside")
    serial = warnings_serialized()
    serial.__enter__()  # left when ``second`` has ended, also when it outlives a failed ``first``
    try:
        try:
            later = pool.submit(contextvars.copy_context().run, second)
        except BaseException:
            serial.__exit__(None, None, None)
            raise
        later.add_done_callback(lambda _: serial.__exit__(None, None, None))
        try:
            a = first()
            b = later.result()
        except BaseException:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return a, b
    finally:
        _STOP.reset(token)
