"""A run's warnings as records: :class:`Notice` (a stable short code, the message, the counts it names).

A warning is made where it arises, with a code that names its kind (``rows-excluded``,
``crs-assumed`` ...) and the counts its message states; it travels in the run's results as a record,
and the command line, the manifest and the report render its message (``str(notice)`` is the
message, exactly as it was written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

__all__ = ["Notice", "messages", "notices"]


@dataclass(frozen=True)
class Notice:
    """One warning: what kind it is, what it says, and the counts it names.

    Parameters
    ----------
    code
        A stable short code of the warning's kind (``rows-excluded``, ``value-defaulted`` ...); the same
        site always gives the same code, whatever the data.
    message
        The warning as written for people (English; it names the layer, rows and what to do).
    counts
        The numbers the message states, by name (``{"features": 3}``); empty when it states none.
    """

    code: str
    message: str
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        """Freeze the counts (a read-only copy), so that a notice cannot change after it is made."""
        object.__setattr__(self, "counts", MappingProxyType({k: int(v) for k, v in self.counts.items()}))

    def __reduce__(self) -> tuple[type[Notice], tuple[str, str, dict[str, int]]]:
        """Pickle as the three fields (a read-only mapping does not pickle): results that carry notices
        go between processes (Dask workers, the tests' shared demo run) and come back equal."""
        return (Notice, (self.code, self.message, dict(self.counts)))

    def __str__(self) -> str:
        """The message, as written."""
        return self.message

    def prefixed(self, prefix: str) -> Notice:
        """The same notice said of one part of a larger whole (``"<file>: "`` before the message)."""
        return replace(self, message=prefix + self.message)


def notices(code: str, texts: Iterable[str]) -> list[Notice]:
    """Messages of one kind (from a stage that words its notes as text) as notices with ``code``.

    Parameters
    ----------
    code
        The kind of every message.
    texts
        The messages, in order.

    Returns
    -------
    list of Notice
    """
    return [Notice(code, t) for t in texts]


def messages(items: Iterable[Notice]) -> list[str]:
    """The messages of notices, in order (what the manifest and the report show).

    Parameters
    ----------
    items
        The notices.

    Returns
    -------
    list of str
    """
    return [n.message for n in items]
