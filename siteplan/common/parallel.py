"""Independent computations on the machine's cores, with the answers of running them one after another.

:func:`ordered_map` runs a function over items on a pool of threads and returns the results in the items' order;
the first item's error (in that order) is raised. Threads pay only where the work releases the GIL: the
relocation solves (HiGHS), GEOS and numpy. Each item runs in a copy of the caller's context (:mod:`contextvars`:
the run's progress listener, report language), so it sees what the caller sees.

The results do not depend on the number of threads or on which finishes first, so long as each call of the
function depends only on its item and on state nobody writes while they run (callers keep to that; a shared memo
is filled under a lock, as :class:`siteplan.locate.upgrades.TravelMemo` is). The number of threads is
``SITEPLAN_THREADS`` when set (``1``: one after another, on the calling thread), else the cores this process may
use (at most :data:`MAX_THREADS`); :func:`limited` lowers it for a block (a national unit on a Dask worker runs on
one thread: the worker's own).

Threads share the process's warning filters, which ``warnings.catch_warnings`` (inside pandas and rasterio) saves
and restores as a whole before Python 3.14, so a warning one thread silences for a while can escape while another
thread restores the filters. rasterio silences one on every raster call (``NotGeoreferencedWarning``, seen
escaping when the new sites ran beside the upgrades): raster work stays off these threads. pandas silences
warnings only around rare cases; the upgrades' threads run pandas and the solves.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["MAX_THREADS", "limited", "ordered_map", "threads"]

T = TypeVar("T")
R = TypeVar("R")

#: the most threads :func:`threads` gives by default
MAX_THREADS = 4

_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("siteplan_threads_limit", default=None)


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
    """At most ``n`` threads for :func:`ordered_map` in the block (this context)."""
    token = _LIMIT.set(n)
    try:
        yield
    finally:
        _LIMIT.reset(token)


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
