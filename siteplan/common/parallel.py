"""Independent computations on the machine's cores, with the answers of running them one after another.

:func:`ordered_map` runs a function over items on a pool of threads and returns the results in the
items' order; the first item's error (in that order) is raised. Threads pay only where the work releases
the GIL: the relocation solves (HiGHS), GEOS and numpy. Each item runs in a copy of the caller's context
(:mod:`contextvars`: the run's progress listener, report language), so it sees what the caller sees.

The results do not depend on the number of threads or on which finishes first, so long as each call of
the function depends only on its item and on state nobody writes while they run (callers keep to that:
a shared memo is filled under a lock, by :class:`Once`). ``SITEPLAN_THREADS`` sets the number of threads
(default: the machine's cores, at most :data:`MAX_THREADS`; ``1``: one after another, on the calling
thread).
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["MAX_THREADS", "Once", "ordered_map", "threads"]

T = TypeVar("T")
R = TypeVar("R")

#: the most threads :func:`threads` gives by default
MAX_THREADS = 4


def threads() -> int:
    """The number of threads :func:`ordered_map` uses: ``SITEPLAN_THREADS`` when it is a positive whole
    number, else the machine's cores (at most :data:`MAX_THREADS`)."""
    raw = os.environ.get("SITEPLAN_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


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
    """
    todo = list(items)
    n = min(workers or threads(), len(todo))
    if n <= 1:
        return [fn(x) for x in todo]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="siteplan") as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, x) for x in todo]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


class Once(Generic[R]):
    """Values computed once per key by whichever thread asks first; the others wait for that answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Hashable, Future[R]] = {}

    def get(self, key: Hashable, compute: Callable[[], R]) -> R:
        """The value of ``key``: ``compute()`` on the first call with it (its error raised to every caller)."""
        with self._lock:
            fut = self._futures.get(key)
            mine = fut is None
            if fut is None:
                fut = self._futures[key] = Future()
        if mine:
            try:
                fut.set_result(compute())
            except BaseException as exc:  # noqa: BLE001 - every caller gets the error, as a call of its own would
                fut.set_exception(exc)
        return fut.result()
