"""``warnings.catch_warnings`` blocks of several threads taking turns, for siteplan's threaded work.

Before Python 3.14, ``warnings.catch_warnings`` saves the process's whole list of warning filters on entry and
puts it back on exit. pandas, geopandas, shapely and rasterio use it around many calls to silence a warning
for a while (rasterio silences every warning around each rasterize). Two threads inside it at once can lose
a filter: thread B enters, thread A enters and silences a warning, B leaves and puts back the list it saved
(without A's filter), and A's warning escapes (seen as a ``NotGeoreferencedWarning`` under the tests'
warnings-as-errors when the new sites ran beside the upgrades).

:func:`warnings_serialized` makes the blocks take turns while it is open: ``catch_warnings``' entry and exit
are wrapped when this module is imported (the ``with`` statement looks both up on entry, so a block entered
before could not be covered; the wrap does nothing while no serialized block is open) so that each instance
holds one process-wide turn from its entry to its exit, and an instance entered before the serialized block
opened (which holds no turn) takes one for its exit. What this does not change: while one thread is inside
its block, that block's filters apply to every thread's warnings (another thread's warning may be silenced by
them, never one silenced let through), and pandas' ``record=True`` blocks may catch another thread's warning.

Safety valves: a turn is waited for at most :data:`TURN_WAIT_S` seconds (a thread importing a module whose
top-level code uses ``catch_warnings`` while the turn's holder imports the same module would otherwise wait
for each other for ever); after that the block goes ahead without its turn, as every block did before, and a
debug line says so. A turn is released by whichever thread exits the block (a generator closed elsewhere).
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["TURN_WAIT_S", "in_held_catch_warnings", "warnings_serialized"]

log = logging.getLogger(__name__)

#: the longest a ``catch_warnings`` waits for its turn before going ahead without it
TURN_WAIT_S = 5.0


class _Turn:
    """One turn at a time, re-entrant for its holder, releasable by any thread on the holder's behalf."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.owner: int | None = None
        self.count = 0
        self.depth = 0  # blocks open inside warnings_serialized (any thread)

    def take(self, timeout: float) -> bool:
        """Take the turn for this thread (again, if it holds it); False when ``timeout`` passed first."""
        me = threading.get_ident()
        with self.cond:
            if not self.cond.wait_for(lambda: self.owner in (None, me), timeout):
                return False
            self.owner, self.count = me, self.count + 1
            return True

    def give(self, owner: int) -> None:
        """Give back one take of ``owner``'s (from any thread)."""
        with self.cond:
            if self.owner != owner or self.count <= 0:
                return
            self.count -= 1
            if self.count == 0:
                self.owner = None
                self.cond.notify_all()

    def held_here(self) -> bool:
        """Whether this thread holds the turn."""
        with self.cond:
            return self.owner == threading.get_ident()


_turn = _Turn()


def _take_or_go_ahead(what: str) -> int | None:
    """The turn for this thread (its ident), or None after :data:`TURN_WAIT_S` without it."""
    if _turn.take(TURN_WAIT_S):
        return threading.get_ident()
    log.debug("warnings.catch_warnings %s went ahead without its turn after %.0f s", what, TURN_WAIT_S)
    return None


def _patch() -> None:
    """Wrap ``warnings.catch_warnings``' entry and exit (module docstring)."""
    cls = warnings.catch_warnings
    enter, leave = cls.__enter__, cls.__exit__
    # this module imported again (a reload): wrap the originals, with this module's turn
    enter = getattr(enter, "siteplan_original", enter)
    leave = getattr(leave, "siteplan_original", leave)

    def __enter__(self: warnings.catch_warnings) -> object:
        held = _take_or_go_ahead("entry") if _turn.depth > 0 else None
        self.__dict__["_siteplan_turn"] = held  # before the entry: an interruption after it still gives it back
        try:
            return enter(self)
        except BaseException:
            self.__dict__.pop("_siteplan_turn", None)
            if held is not None:
                _turn.give(held)
            raise

    def __exit__(self: warnings.catch_warnings, *exc: Any) -> None:
        held = self.__dict__.pop("_siteplan_turn", None)
        extra = _take_or_go_ahead("exit") if held is None and _turn.depth > 0 else None
        try:
            leave(self, *exc)
        finally:
            for owner in (extra, held):
                if owner is not None:
                    _turn.give(owner)

    __enter__.siteplan_original = enter  # type: ignore[attr-defined]
    __exit__.siteplan_original = leave  # type: ignore[attr-defined]
    cls.__enter__ = __enter__  # type: ignore[method-assign,assignment]
    cls.__exit__ = __exit__  # type: ignore[method-assign]


@contextmanager
def warnings_serialized() -> Iterator[None]:
    """While the block is open, every thread's ``warnings.catch_warnings`` blocks take turns (module docstring).
    Outside such blocks ``catch_warnings`` behaves as always; blocks may nest and overlap, and may be left on
    another thread than the one that opened them."""
    with _turn.cond:
        _turn.depth += 1
    try:
        yield
    finally:
        with _turn.cond:
            _turn.depth -= 1


_patch()


def in_held_catch_warnings() -> bool:
    """Whether this thread is inside a ``catch_warnings`` holding the turn: work it hands to other threads and
    waits for could wait for it (:func:`siteplan.common.parallel.ordered_map` then runs it on this thread)."""
    return _turn.owner is not None and _turn.held_here()
