"""A unit's log lines while it runs: labelled with the partition (``Qom: grid 812 × 640 cells``), and on a
worker its warnings kept for the command to log (:mod:`siteplan.national.runner`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["captured_warnings", "labelled_logs"]


class _Labelled(logging.Filter):
    """Prefix each log line with the partition being run (once, whatever the number of handlers)."""

    def __init__(self, label: str) -> None:
        """Label the records with ``label``."""
        super().__init__()
        self.label = label

    def filter(self, record: logging.LogRecord) -> bool:
        """Prefix the record's message with the label (once); every record passes."""
        if getattr(record, "_siteplan_unit", None) is None:
            record._siteplan_unit = self.label  # noqa: SLF001 - our own mark on the record: labelled once
            # a key from the data is text, never a format: escape '%' where the message will be formatted
            label = self.label.replace("%", "%%") if record.args else self.label
            record.msg = f"{label}: {record.msg}"
        return True


@contextmanager
def labelled_logs(label: str) -> Iterator[None]:
    """While a partition runs in this process, its log lines say which partition they come from
    (``Qom: grid 812 × 640 cells of 250 m``): the filter sits on the handlers of the ``siteplan`` logger."""
    handlers = list(logging.getLogger("siteplan").handlers)
    filt = _Labelled(label)
    for h in handlers:
        h.addFilter(filt)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(filt)


class _Capture(logging.Handler):
    """The ``siteplan`` log records of one thread: labelled with the unit (as every handler after it
    sees them: the worker's own log), warnings and errors kept."""

    def __init__(self, label: str) -> None:
        """Capture this thread's records, labelled with ``label``."""
        super().__init__(logging.NOTSET)
        self.thread = threading.get_ident()
        self.lines: list[str] = []
        self.addFilter(self._mine)
        self.addFilter(_Labelled(label))

    def _mine(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the text of a warning or an error."""
        if record.levelno >= logging.WARNING:
            try:
                self.lines.append(record.getMessage())
            except Exception:  # noqa: BLE001 - a malformed record (any error formatting it): keep its text
                self.lines.append(str(record.msg))


@contextmanager
def captured_warnings(label: str) -> Iterator[list[str]]:
    """While a unit runs on a worker, its ``siteplan`` log records labelled with the unit (in the worker's
    own log too) and the text of its warnings and errors kept (the list yielded), for the command to log."""
    logger = logging.getLogger("siteplan")
    handler = _Capture(label)
    logger.handlers.insert(0, handler)  # first: the handlers after it see the labelled records
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
