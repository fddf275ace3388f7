"""``scipy.optimize.milp`` without HiGHS's stray terminal line.

The HiGHS bundled with SciPy prints ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();`` with C ``printf`` on some MIPs, whatever its output options say (a debug line,
ERGO-Code/HiGHS#2783, jump-dev/HiGHS.jl#312). It lands on the terminal between siteplan's log lines and
progress bars. :func:`milp` runs the solve with the process's standard output (file descriptor 1)
pointed at the null device and restored afterwards. siteplan writes nothing to standard output while
it solves (its logs go to stderr); concurrent solves in threads share one redirection (counted).

Every MILP siteplan solves ends at a deterministic work limit (branch-and-bound nodes, HiGHS's
``mip_max_nodes``), so its answer depends on the inputs only; HiGHS's ``time_limit`` is passed as a
wall-clock safety net only. :func:`stopped_by_clock` tells whether that net stopped a solve and
:func:`safety_net_error` is the error the callers then raise (:class:`~siteplan.errors.SafetyNetError`):
an answer cut off by the clock would change with the machine's load, so none is given.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import SafetyNetError

__all__ = ["milp", "native_stdout_silenced", "safety_net_error", "stopped_by_clock"]

class _Redirect:
    """The process's one redirection of fd 1: how many blocks are inside it and the saved descriptor."""

    depth = 0
    saved: int | None = None


_lock = threading.Lock()
_state = _Redirect()


def _flush_c_stdout() -> None:
    """Flush C's stdio buffers, so that what HiGHS printed goes where fd 1 points now."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle (Windows): nothing buffered to move
        pass


@contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at the null device while the block runs (nested and threaded uses counted)."""
    st = _state
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, ValueError, OSError):
        fd = 1
    with _lock:
        if st.depth == 0:
            try:
                if sys.stdout is not None:
                    sys.stdout.flush()
                st.saved = os.dup(fd)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
            except OSError:
                st.saved = None
        st.depth += 1
    try:
        yield
    finally:
        with _lock:
            st.depth -= 1
            if st.depth == 0 and st.saved is not None:
                _flush_c_stdout()
                os.dup2(st.saved, fd)
                os.close(st.saved)
                st.saved = None


def milp(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.optimize.milp` with HiGHS's stray line silenced (same arguments, same result)."""
    from scipy.optimize import milp as _milp

    with native_stdout_silenced():
        return _milp(*args, **kwargs)


def stopped_by_clock(res: Any) -> bool:
    """Whether a :func:`milp` (or HiGHS ``linprog``) result stopped at HiGHS's time limit."""
    return "time limit" in str(getattr(res, "message", "")).lower()


def safety_net_error(step: str, limit_s: float, work: str, key: str = "allocation.time_limit_s") -> SafetyNetError:
    """The error for a solver step stopped by its wall-clock safety net before its work limit.

    Parameters
    ----------
    step
        What was being solved, e.g. ``"relocation: the exact MILP (959 units, 4238 arcs)"``.
    limit_s
        The safety net, in seconds.
    work
        The deterministic limit that should have ended it, e.g. ``"1000 branch-and-bound nodes
        (allocation.exact_node_limit)"``.
    key
        Where the safety net is set.
    """
    return SafetyNetError(
        f"{step} was stopped by the wall-clock safety net ({key} = {limit_s:g} s) before its work limit "
        f"({work}). Where it stopped would depend on this machine's speed and load, so no answer is given "
        f"rather than one another run might not reproduce. Raise {key}, lower the work limit, or run on a "
        "less loaded machine.")
