"""The cells of the workbooks siteplan writes (:mod:`siteplan.outputs.xlsx`): number formats by column,
values as a sheet holds them, text an Excel cell can hold, XML escapes, and each column's cells worked out
in one pass (inline strings; a text a spreadsheet could read as a formula carries Excel's quote prefix).
The cell formats and ``xl/styles.xml`` (:class:`Styles`) are numbered as openpyxl 3.1.5 numbered them.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..report.features import plain_value
from .formats import _defuse

__all__ = ["MAX_CELL_CHARS", "MAIN_NS", "Xf", "Styles", "number_format", "item_format", "cell_value", "cell_text",
           "esc", "esc_attr", "column_letter", "text_cell", "column_cells"]

#: characters an Excel cell holds
MAX_CELL_CHARS = 32_767

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_FILLS_BORDERS = ('<fills count="2"><fill><patternFill /></fill><fill><patternFill patternType="gray125" /></fill></fills>'
                  '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border></borders>'
                  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs>')
#: Excel's 64 indexed colours (the legacy palette), as openpyxl writes them
_INDEXED = ("00000000 00FFFFFF 00FF0000 0000FF00 000000FF 00FFFF00 00FF00FF 0000FFFF 00000000 00FFFFFF 00FF0000 "
            "0000FF00 000000FF 00FFFF00 00FF00FF 0000FFFF 00800000 00008000 00000080 00808000 00800080 00008080 "
            "00C0C0C0 00808080 009999FF 00993366 00FFFFCC 00CCFFFF 00660066 00FF8080 000066CC 00CCCCFF 00000080 "
            "00FF00FF 00FFFF00 0000FFFF 00800080 00800000 00008080 000000FF 0000CCFF 00CCFFFF 00CCFFCC 00FFFF99 "
            "0099CCFF 00FF99CC 00CC99FF 00FFCC99 003366FF 0033CCCC 0099CC00 00FFCC00 00FF9900 00FF6600 00666699 "
            "00969696 00003366 00339966 00003300 00333300 00993300 00993366 00333399 00333333").split()
_STYLES_TAIL = ('<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" hidden="0" /></cellStyles>'
                '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16" />'
                "<colors><indexedColors>" + "".join(f'<rgbColor rgb="{c}" />' for c in _INDEXED)
                + "</indexedColors></colors>")


def number_format(name: str, values: pd.Series) -> str | None:
    """The Excel number format of a numeric column (None for text and booleans)."""
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        return None
    low = name.lower()
    if low in ("lon", "lat"):
        return "0.0000000"
    if "share" in low:
        return "0.0%"
    if pd.api.types.is_integer_dtype(values.dtype) or low in ("rank", "units", "businesses", "seed"):
        return "#,##0"
    if low.endswith(("_km", "_ha")) or low in ("land_ha", "mean_km", "distance_km"):
        return "#,##0.00"
    return "#,##0.####"


def item_format(item: object, v: float) -> str:
    """The Excel number format of a number in a summary's ``value`` column, by its ``item``: a gap, share
    or fraction as a percent, land to 0.01 ha, a seed as digits, other whole numbers with thousands."""
    low = str(item).lower()
    if any(w in low for w in ("gap", "share", "fraction")):
        return "0.00##%"
    if "(ha)" in low or low.endswith("_ha"):
        return "#,##0.00"
    if low == "seed":
        return "0"
    return "#,##0" if float(v).is_integer() else "#,##0.####"


def cell_value(v: Any) -> Any:
    """A cell's value as the sheet holds it: None for missing, Python numbers and booleans, text as ``str``."""
    if isinstance(v, (list, tuple, set)):
        return "; ".join(str(x) for x in v)
    return plain_value(v)


#: characters XML 1.0 forbids in text: the C0 controls but tab, line feed and carriage return (openpyxl's
#: ``ILLEGAL_CHARACTERS_RE``)
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def cell_text(v: str) -> str:
    """Text an Excel cell can hold: characters XML 1.0 forbids (most C0 controls) shown as U+FFFD, and
    at most :data:`MAX_CELL_CHARS` characters (cut with an ellipsis)."""
    v = _ILLEGAL.sub("\ufffd", v)
    return v if len(v) <= MAX_CELL_CHARS else v[:MAX_CELL_CHARS - 1] + "…"


def esc(v: str) -> str:
    """``v`` as XML character data (``&``, ``<`` and ``>`` escaped)."""
    if "&" in v:
        v = v.replace("&", "&amp;")
    if "<" in v:
        v = v.replace("<", "&lt;")
    if ">" in v:
        v = v.replace(">", "&gt;")
    return v


def esc_attr(v: str) -> str:
    """``v`` as an XML attribute value (also ``"``, CR, LF and tab escaped)."""
    v = esc(v).replace('"', "&quot;")
    return v.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def column_letter(j: int) -> str:
    """Excel's name of the ``j``-th column (1-based): A ... Z, AA ..."""
    out = ""
    while j > 0:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


#: Excel's built-in number formats that siteplan uses, by their ids; any other format gets an id from 164
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
#: a cell format (``xf``): (number format id, font id, quote prefix); font 1 is the header's bold
Xf = tuple[int, int, int]


class Styles:
    """The workbook's number formats and cell formats, each numbered in the order first used (as openpyxl
    numbers them: formats as assigned, sheet by sheet and column by column; cell formats as written, row by row)."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}
        self.xfs: dict[Xf, int] = {(0, 0, 0): 0}
        self.bold = False

    def format_id(self, fmt: str) -> int:
        """The id of number format ``fmt`` (registered when new)."""
        if fmt in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[fmt]
        return self.formats.setdefault(fmt, 164 + len(self.formats))

    def xf_id(self, key: Xf) -> int:
        """The index of cell format ``key`` (registered when new)."""
        i = self.xfs.get(key)
        if i is None:
            i = self.xfs[key] = len(self.xfs)
        return i

    def xml(self) -> str:
        """``xl/styles.xml``."""
        fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{esc_attr(f)}" />' for f, i in self.formats.items())
        fonts = '<font><name val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" /><scheme val="minor" /></font>'
        if self.bold:
            fonts += '<font><b val="1" /></font>'
        xfs = "".join(f'<xf numFmtId="{n}" fontId="{f}" fillId="0" borderId="0" pivotButton="0" quotePrefix="{q}" xfId="0" />'
                      for n, f, q in self.xfs)
        return (f'<styleSheet xmlns="{MAIN_NS}">'
                + (f'<numFmts count="{len(self.formats)}">{fmts}</numFmts>' if self.formats else '<numFmts count="0" />')
                + f'<fonts count="{1 + self.bold}">{fonts}</fonts>{_FILLS_BORDERS}'
                + f'<cellXfs count="{len(self.xfs)}">{xfs}</cellXfs>{_STYLES_TAIL}</styleSheet>')


def text_cell(v: str) -> tuple[str, Xf | None, int]:
    """A text cell's XML after its reference and style, its cell format (the quote prefix when a spreadsheet
    could read the text as a formula, :func:`siteplan.outputs.formats._defuse`) and its width."""
    t = cell_text(v)
    if t == "":
        xml = ' t="inlineStr" />'
    else:
        stripped = t.strip()
        space = ' xml:space="preserve"' if stripped and t != stripped else ""
        xml = f' t="inlineStr"><is><t{space}>{esc(t)}</t></is></c>'
    return xml, ((0, 0, 1) if _defuse(t) != t else None), min(len(t), 60)


def _uniform_cells(vals: list[Any], fmt: str | None,
                   styles: Styles) -> tuple[list[str | None], list[Xf | None], int]:
    """:func:`column_cells` of a column of numbers and missing values (none a signed zero, which would
    share a key with zero) all in number format ``fmt``, or of text and missing values (``fmt`` None): each
    distinct value worked out once."""
    distinct = [v for v in dict.fromkeys(vals) if v is not None]
    if distinct and type(distinct[0]) is not str:
        # numbers: the widest is the largest or the most negative (the text's length grows with the size)
        key = (styles.format_id(fmt), 0, 0) if fmt is not None else None
        xml = {v: f' t="n"><v>{f"{v:.16g}"}</v></c>' for v in distinct}
        width = max(min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60) for v in (min(distinct), max(distinct)))
        return [None if v is None else xml[v] for v in vals], [None if v is None else key for v in vals], width
    memo = {v: text_cell(v) for v in distinct}
    hits = [None if v is None else memo[v] for v in vals]
    return ([None if h is None else h[0] for h in hits], [None if h is None else h[1] for h in hits],
            max((w for _, _, w in memo.values()), default=0))


def column_cells(col: pd.Series, fmt: str | None, items: list[Any] | None,
                  styles: Styles) -> tuple[list[str | None], list[Xf | None], int]:
    """One column's data cells: each cell's XML after its reference and style (None: no cell, the value is
    missing), its cell format (None: none) and the widest value's width (at most 60 characters).

    A text cell is an inline string (never a formula, whatever it starts with); one a spreadsheet could read
    as a formula carries Excel's quote prefix (:func:`text_cell`). Numbers are written as openpyxl writes
    them (``%.16g``), each with the column's number format, or with its item's in a summary's ``value``
    column (``items``). Repeated values are worked out once.
    """
    kind, vals, signed_zero = _column_values(col)
    if items is None and ((kind in "iuf" and not signed_zero) or (kind == "O" and set(map(type, vals)) <= {str, type(None)})):
        return _uniform_cells(vals, fmt if kind != "O" else None, styles)
    return _mixed_cells(vals, kind, fmt, items, styles)


def _column_values(col: pd.Series) -> tuple[str, list[Any], bool]:
    """A column's values as Python objects, for :func:`column_cells`.

    Parameters
    ----------
    col
        The column.

    Returns
    -------
    tuple
        The dtype kind (``O`` for an extension dtype), the values (None for a missing or non-finite
        float; other objects through :func:`cell_value`, text kept) and whether a float is ``-0.0``.
    """
    kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else "O"
    signed_zero = False
    if kind == "f":
        arr = col.to_numpy()
        vals: list[Any] = [None if m else v for v, m in zip(arr.tolist(), ~np.isfinite(arr))]
        signed_zero = bool(np.any((arr == 0) & np.signbit(arr)))
    elif kind in "iub":
        vals = col.to_numpy().tolist()
    else:
        vals = [v if type(v) is str else cell_value(v) for v in col.tolist()]
    return kind, vals, signed_zero


def _number_cell(v: Any, numbers: dict[Any, tuple[str, int]]) -> tuple[str, int]:
    """One number's (or boolean's) cell XML and width, remembered in ``numbers`` unless it is 0 or a bool.

    Parameters
    ----------
    v
        The number.
    numbers
        The memo of the column's numbers (0 is left out: 0.0 and -0.0 are one key, two texts).

    Returns
    -------
    tuple
        The XML after the cell's reference and style, and the width (at most 60 characters).
    """
    num = ((f' t="b"><v>{int(v)}</v></c>' if isinstance(v, bool) else f' t="n"><v>{f"{v:.16g}"}</v></c>'),
           min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60))
    if v and type(v) is not bool:
        numbers[v] = num
    return num


def _mixed_cells(vals: list[Any], kind: str, fmt: str | None, items: list[Any] | None,
                 styles: Styles) -> tuple[list[str | None], list[Xf | None], int]:
    """:func:`column_cells` of a column mixing text, numbers and booleans, or of a summary's ``value`` column.

    Parameters
    ----------
    vals
        The values (:func:`_column_values`).
    kind
        The column's dtype kind (objects of an ``O`` column go through :func:`cell_value`).
    fmt
        The column's number format (None: none).
    items
        A summary's items, one per value, whose formats the numbers take (None: the column's).
    styles
        The workbook's styles (a number format is registered at its first number).

    Returns
    -------
    tuple
        As :func:`column_cells`.
    """
    fmt_key: Xf | None = None  # registered at its first number, as openpyxl numbers the formats
    cells: list[str | None] = []
    keys: list[Xf | None] = []
    width = 0
    texts: dict[str, tuple[str, Xf | None, int]] = {}
    numbers: dict[Any, tuple[str, int]] = {}
    for i, raw in enumerate(vals):
        v = cell_value(raw) if type(raw) is not str and raw is not None and kind == "O" else raw
        if v is None:
            cells.append(None)
            keys.append(None)
        elif type(v) is str:
            hit = texts.get(v)
            if hit is None:
                hit = texts[v] = text_cell(v)
            cells.append(hit[0])
            keys.append(hit[1])
            width = max(width, hit[2])
        else:
            num = (numbers.get(v) if v and type(v) is not bool else None) or _number_cell(v, numbers)
            cells.append(num[0])
            width = max(width, num[1])
            if items is not None and not isinstance(v, bool):
                keys.append((styles.format_id(item_format(items[i], v)), 0, 0))
            elif fmt is not None:
                if fmt_key is None:
                    fmt_key = (styles.format_id(fmt), 0, 0)
                keys.append(fmt_key)
            else:
                keys.append(None)
    return cells, keys, width
