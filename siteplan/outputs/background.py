"""Write jobs on a worker thread beside the calling thread's own writing (:class:`Background`), and the
garbage collector kept off the objects that exist before a run is written (:func:`old_objects_frozen`)."""

from __future__ import annotations

import contextlib
import gc
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Self

from ..common.warnturns import in_held_catch_warnings, warnings_serialized

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["Background", "old_objects_frozen"]


class Background:
    """Write jobs run in the order given on one worker thread, beside the calling thread's own writing.

    The files of a run do not depend on the order they are written in, and the jobs given here
    (``plan.xlsx``, the GeoTIFFs and the explain data: mostly zlib's and GDAL's compression, which release
    the GIL) share no state with the calling thread's (the CSVs, the GeoJSON, the report) but what they read;
    the stage keys they record (:meth:`siteplan.outputs.stagecache.StageReuse.output`) are recorded in the
    order given, as before. Every file still goes through :func:`siteplan.common.atomic.atomic_path`.

    Errors are raised as the sequence of jobs would raise them: the calling thread's writing before the
    background jobs (:meth:`then`) raises its own error; the background jobs' first error comes before
    the error of the calling thread's job after them. On any error the jobs not started are cancelled and
    the one running is waited for, so nothing is written after the error reaches the caller.

    Parameters
    ----------
    threaded
        Run the jobs on a worker thread; False: run them on the calling thread, in the order of the
        sequence (:meth:`then`), as one thread wrote before.
    """

    def __init__(self, *, threaded: bool) -> None:
        threaded = threaded and not in_held_catch_warnings()  # its worker could wait for this thread
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="siteplan-write") if threaded else None
        self._queued: list[Callable[[], object]] = []
        self._futures: list[Future[object]] = []
        self._failed = threading.Event()
        self._serial = warnings_serialized()

    def __enter__(self) -> Self:
        """The jobs' context: on leaving it, the jobs not started are cancelled and the running one waited for.
        While it is open, the threads' ``warnings.catch_warnings`` take turns
        (:func:`siteplan.common.warnturns.warnings_serialized`)."""
        if self._pool is not None:
            self._serial.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        """Cancel the jobs not started and wait for the one running."""
        self._failed.set()  # whatever is left is not started
        if self._pool is not None:
            try:
                self._pool.shutdown(wait=True, cancel_futures=True)
            finally:
                self._serial.__exit__(None, None, None)

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job`` (started at once on the worker thread; with ``threaded`` False, by :meth:`then`)."""
        if self._pool is None:
            self._queued.append(job)
        else:
            self._futures.append(self._pool.submit(self._guarded, job))

    def _guarded(self, job: Callable[[], object]) -> object:
        """Run ``job`` unless a job before it (or the calling thread) failed."""
        if self._failed.is_set():
            return None
        try:
            return job()
        except BaseException:
            self._failed.set()
            raise

    def join(self) -> None:
        """Run or wait for every queued job, in order; the first one's error is raised."""
        for job in self._queued:
            job()
        self._queued.clear()
        for f in self._futures:
            f.result()

    def then(self, job: Callable[[], object]) -> None:
        """Run ``job`` on the calling thread after the queued jobs in the sequence (while they run, when
        threaded), then wait for them: their error comes first, then ``job``'s."""
        if self._pool is None:
            self.join()
            job()
            return
        error: Exception | None = None
        try:
            job()
        except Exception as e:  # noqa: BLE001 - any error of the job is raised, after the queued jobs' (unchained)
            error = e
        self.join()
        if error is not None:
            raise error


@contextlib.contextmanager
def old_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's full collections for the block
    (:func:`gc.freeze`; ``gc.unfreeze`` after, unless a caller froze them). Writing allocates many small
    objects; each full collection it triggers would traverse the whole heap of the run (hundreds of
    thousands of objects), about 0.3 s of the demo's report. New garbage is still collected; the bytes
    written are the same."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()

