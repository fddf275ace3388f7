"""The Dask ``LocalCluster`` of a national run (``--workers N``) and of a blockwise raster (one place, two
users: :mod:`siteplan.national.runner` and :mod:`siteplan.national.raster`).

Its worker processes are started with SIGINT ignored, so Ctrl-C (which the terminal sends to the whole
process group) reaches only siteplan's own process: it says "interrupted", closes the cluster and exits 130.
Without that, each worker process died of its own KeyboardInterrupt and printed its traceback (and the
nanny's ``CancelledError``) before siteplan's message. A child started with a signal ignored keeps it
ignored (Python installs its KeyboardInterrupt handler only when SIGINT is not ignored), so the
disposition is set just while the processes start. SIGTERM is left alone: the cluster stops its workers with
it. Limits: a Ctrl-C in the second or two the cluster takes to start is not heard (siteplan hears the next);
a worker the nanny restarts later starts with the default disposition again. (Blocking SIGINT in this thread's
signal mask instead, which children would inherit, did not reach the workers: tried.)
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

__all__ = ["local_cluster"]


def local_cluster(workers: int, *, processes: bool) -> Any:
    """A new ``distributed.LocalCluster`` of ``workers`` single-threaded workers (processes or threads), no
    dashboard, its logs silenced below ERROR, its worker processes deaf to SIGINT (module docstring)."""
    from distributed import LocalCluster

    def make() -> Any:
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None,
                            silence_logs=logging.ERROR)

    if not processes or threading.current_thread() is not threading.main_thread():
        return make()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return make()
    finally:
        signal.signal(signal.SIGINT, before)
