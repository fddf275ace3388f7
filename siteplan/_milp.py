"""``scipy.optimize.milp`` without HiGHS's stray terminal line.

The HiGHS bundled with SciPy prints ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();`` with C ``printf`` on some MIPs, whatever its output options say (a debug line,
ERGO-Code/HiGHS#2783, jump-dev/HiGHS.jl#312). It lands on the terminal between siteplan's log lines and
progress bars. :func:`milp` runs the solve with the process's standard output (file descriptor 1)
pointed at the null device and restored afterwards. siteplan writes nothing to standard output while
it solves (its logs go to stderr); concurrent solves in threads share one redirection (counted).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["milp", "native_stdout_silenced"]

_lock = threading.Lock()
_depth = 0
_saved: int | None = None


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
    global _depth, _saved
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, ValueError, OSError):
        fd = 1
    with _lock:
        if _depth == 0:
            try:
                if sys.stdout is not None:
                    sys.stdout.flush()
                _saved = os.dup(fd)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
            except OSError:
                _saved = None
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                _flush_c_stdout()
                os.dup2(_saved, fd)
                os.close(_saved)
                _saved = None


def milp(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.optimize.milp` with HiGHS's stray line silenced (same arguments, same result)."""
    from scipy.optimize import milp as _milp

    with native_stdout_silenced():
        return _milp(*args, **kwargs)
