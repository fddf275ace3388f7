"""HTML tables of the report's panel, built with :mod:`markupsafe`: every header and cell is escaped
and direction-isolated (``<bdi dir="auto">``) unless it is already :class:`~markupsafe.Markup`.

Shared by the panel (:mod:`.panel`) and its programme sections (:mod:`.programme`); imports only
:mod:`.words`.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from .words import text, tr

__all__ = ["cell", "table", "zoom"]


def cell(v: Any) -> Markup:
    """A data value as escaped, direction-isolated text (Markup passes through unchanged)."""
    if isinstance(v, Markup):
        return v
    return Markup('<bdi dir="auto">{}</bdi>').format(text(v))


def _cell_html(v: Any) -> str:
    """:func:`cell` as a plain string, to join with other markup (escaped by :func:`markupsafe.escape`, as
    ``Markup.format`` escapes it, without the formatter's cost on thousands of cells)."""
    if isinstance(v, Markup):
        return str(v)
    return '<bdi dir="auto">' + str(escape(text(v))) + "</bdi>"


def table(headers: list[Any], rows: list[list[Any]]) -> Markup:
    """An HTML table; every header and cell is escaped unless it is already Markup."""
    th = "".join(["<th>" + _cell_html(h) + "</th>" for h in headers])
    body = "".join(["<tr>" + "".join(["<td>" + _cell_html(c) + "</td>" for c in r]) + "</tr>" for r in rows])
    return Markup('<table class="sp"><thead><tr>' + th + "</tr></thead><tbody>" + body + "</tbody></table>")


def zoom(kind: str, ident: Any, label: Any = None) -> Markup:
    """A button that zooms the map to a site (``kind`` ``site``) or an estate (``estate``) and opens it;
    the id travels in a data attribute (escaped) and the page's script matches it as plain text."""
    return Markup('<button type="button" class="zoom" data-zoom="{}" data-id="{}" title="{}">{}</button>').format(
        kind, text(ident), tr("نمایش روی نقشه", "zoom to it"), cell(label if label is not None else ident))

