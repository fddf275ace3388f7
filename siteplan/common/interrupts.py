"""Ctrl-C and SIGTERM that a library swallowed, raised again at the next stage boundary.

Python runs a signal handler in the main thread at the next bytecode, wherever that is; when it is inside
a library's compiled code that catches exceptions (seen: pyogrio reading a layer, a SIGTERM's exception
caught in its Cython buffer code), the interrupt is lost and the run goes on to the end as if nothing had
been asked. The command line's handlers (:func:`handler`) therefore also note the signal, and every stage
boundary (:func:`siteplan.progress.announce`) calls :func:`raise_pending`, which raises it again.

Once the outcome is settled (:func:`settle`: the command's output folder is in place, or the command is
reporting that it was interrupted), a signal is noted and nothing more: a late Ctrl-C must not say
"interrupted" over an output already written, nor break the clean-up of one that was not.
"""

from __future__ import annotations

import signal
from typing import Any

__all__ = ["Terminated", "handler", "raise_pending", "reset", "settle"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up (``finally``) runs."""


class _State:
    """The signal received and not yet seen to stop the run (None: none); whether the outcome is settled."""

    pending: int | None = None
    settled: bool = False


_state = _State()


def reset() -> None:
    """Forget a signal noted earlier and unsettle (a new command starts)."""
    _state.pending = None
    _state.settled = False


def settle() -> None:
    """From now on a signal is noted, not raised (module docstring)."""
    _state.settled = True


def _raise(signum: int) -> None:
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


def handler(signum: int, frame: Any) -> None:  # noqa: ARG001 - a signal handler's signature
    """Note ``signum`` and raise it (:class:`Terminated` for SIGTERM, :class:`KeyboardInterrupt` else); once
    settled, only note it."""
    if _state.settled:
        return
    _state.pending = signum
    _raise(signum)


def raise_pending() -> None:
    """Raise the signal :func:`handler` noted, if any: its exception may have been swallowed on its way."""
    if _state.pending is not None and not _state.settled:
        _raise(_state.pending)
