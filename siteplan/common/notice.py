"""A run's warnings as records: :class:`Notice` (a stable short code, the message, the counts it names).

A warning is made where it arises, with a code that names its kind (``rows-excluded``,
``crs-assumed`` ...) and the counts its message states; it travels in the run's results as a record,
and the command line, the manifest and the report render its message (``str(notice)`` is the
message, exactly as it was written).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import Notice as Notice  # the record lives beside the errors (it imports nothing of siteplan)

__all__ = ["Notice", "messages", "notices"]


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
