"""``plan.xlsx``: the run's main tables in one Excel workbook for managers.

Sheets: ``summary`` (the plan's figures), ``relocation``, ``estates``, ``sites``, ``upgrades`` and
``options`` (when the run has them) and ``impact`` (with programme figures). Each sheet has a bold,
frozen header row, an auto filter, number formats by column and column widths fitted to the text; the
sheets run right to left when the report is Persian (``report.language`` ``fa`` or ``both``).

Every text cell is written as a string cell (never a formula): a name such as ``=HYPERLINK(...)`` stays
text and keeps its value; a cell the CSV writer would neutralise (:func:`siteplan.outputs.writer.neutralise_formulas`)
also carries Excel's *quote prefix* so that editing it in Excel cannot turn it into a formula. The same
tables give the same bytes: the document dates are fixed (``SOURCE_DATE_EPOCH`` when set, else
2000-01-01) and so are the zip entries' dates.

The parts are written directly, each sheet in one pass over its table (inline strings, no shared-string
table), with the bytes openpyxl 3.1.5 wrote for the same workbook (tests/test_gis_io.py compares them on
awkward tables): about ten times faster than building openpyxl's cell objects, and without loading openpyxl.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..common.atomic import atomic_path
from ..report.layers import plain_value
from .formats import _defuse

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["write_workbook", "write_folder_workbook", "plan_sheets", "workbook_bytes", "read_output_csv", "MAX_ROWS",
           "FIXED_DATE", "NATIONAL_SHEETS"]

#: rows of an Excel sheet, the header included
MAX_ROWS = 1_048_576
#: characters an Excel cell holds
MAX_CELL_CHARS = 32_767
#: the document date when ``SOURCE_DATE_EPOCH`` is not set (the GeoPackage's date, see writer.GPKG_DATE)
FIXED_DATE = _dt.datetime(2000, 1, 1)  # noqa: DTZ001 - a document date, stored without a zone
#: the zip entries' date (the earliest a zip can hold)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _doc_date() -> _dt.datetime:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds convention) as a naive UTC date, else :data:`FIXED_DATE`."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw.isdigit():
        try:
            return _dt.datetime.fromtimestamp(int(raw), _dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            pass
    return FIXED_DATE


def _number_format(name: str, values: pd.Series) -> str | None:
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


def _item_format(item: object, v: float) -> str:
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


def _cell_value(v: Any) -> Any:
    """A cell's value as the sheet holds it: None for missing, Python numbers and booleans, text as ``str``."""
    if isinstance(v, (list, tuple, set)):
        return "; ".join(str(x) for x in v)
    return plain_value(v)


#: characters XML 1.0 forbids in text: the C0 controls but tab, line feed and carriage return (openpyxl's
#: ``ILLEGAL_CHARACTERS_RE``)
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _text(v: str) -> str:
    """Text an Excel cell can hold: characters XML 1.0 forbids (most C0 controls) shown as U+FFFD, and
    at most :data:`MAX_CELL_CHARS` characters (cut with an ellipsis)."""
    v = _ILLEGAL.sub("\ufffd", v)
    return v if len(v) <= MAX_CELL_CHARS else v[:MAX_CELL_CHARS - 1] + "…"


def _esc(v: str) -> str:
    """``v`` as XML character data (``&``, ``<`` and ``>`` escaped)."""
    if "&" in v:
        v = v.replace("&", "&amp;")
    if "<" in v:
        v = v.replace("<", "&lt;")
    if ">" in v:
        v = v.replace(">", "&gt;")
    return v


def _esc_attr(v: str) -> str:
    """``v`` as an XML attribute value (also ``"``, CR, LF and tab escaped)."""
    v = _esc(v).replace('"', "&quot;")
    return v.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _column_letter(j: int) -> str:
    """Excel's name of the ``j``-th column (1-based): A ... Z, AA ..."""
    out = ""
    while j > 0:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


#: Excel's built-in number formats that siteplan uses, by their ids; any other format gets an id from 164
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
#: a cell format (``xf``): (number format id, font id, quote prefix); font 1 is the header's bold
_Xf = tuple[int, int, int]
#: a sheet title Excel refuses
_BAD_TITLE = re.compile(r"[\\*?:/\[\]]")


class _Styles:
    """The workbook's number formats and cell formats, each numbered in the order first used (as openpyxl
    numbers them: formats as assigned, sheet by sheet and column by column; cell formats as written, row by row)."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}
        self.xfs: dict[_Xf, int] = {(0, 0, 0): 0}
        self.bold = False

    def format_id(self, fmt: str) -> int:
        """The id of number format ``fmt`` (registered when new)."""
        if fmt in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[fmt]
        return self.formats.setdefault(fmt, 164 + len(self.formats))

    def xf_id(self, key: _Xf) -> int:
        """The index of cell format ``key`` (registered when new)."""
        i = self.xfs.get(key)
        if i is None:
            i = self.xfs[key] = len(self.xfs)
        return i

    def xml(self) -> str:
        """``xl/styles.xml``."""
        fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{_esc_attr(f)}" />' for f, i in self.formats.items())
        fonts = '<font><name val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" /><scheme val="minor" /></font>'
        if self.bold:
            fonts += '<font><b val="1" /></font>'
        xfs = "".join(f'<xf numFmtId="{n}" fontId="{f}" fillId="0" borderId="0" pivotButton="0" quotePrefix="{q}" xfId="0" />'
                      for n, f, q in self.xfs)
        return (f'<styleSheet xmlns="{_MAIN_NS}">'
                + (f'<numFmts count="{len(self.formats)}">{fmts}</numFmts>' if self.formats else '<numFmts count="0" />')
                + f'<fonts count="{1 + self.bold}">{fonts}</fonts>{_FILLS_BORDERS}'
                + f'<cellXfs count="{len(self.xfs)}">{xfs}</cellXfs>{_STYLES_TAIL}</styleSheet>')


def _text_cell(v: str) -> tuple[str, _Xf | None, int]:
    """A text cell's XML after its reference and style, its cell format (the quote prefix when a spreadsheet
    could read the text as a formula, :func:`siteplan.outputs.formats._defuse`) and its width."""
    t = _text(v)
    if t == "":
        xml = ' t="inlineStr" />'
    else:
        stripped = t.strip()
        space = ' xml:space="preserve"' if stripped and t != stripped else ""
        xml = f' t="inlineStr"><is><t{space}>{_esc(t)}</t></is></c>'
    return xml, ((0, 0, 1) if _defuse(t) != t else None), min(len(t), 60)


def _uniform_cells(vals: list[Any], fmt: str | None,
                   styles: _Styles) -> tuple[list[str | None], list[_Xf | None], int]:
    """:func:`_column_cells` of a column of numbers and missing values (none a signed zero, which would
    share a key with zero) all in number format ``fmt``, or of text and missing values (``fmt`` None): each
    distinct value worked out once."""
    distinct = [v for v in dict.fromkeys(vals) if v is not None]
    if distinct and type(distinct[0]) is not str:
        # numbers: the widest is the largest or the most negative (the text's length grows with the size)
        key = (styles.format_id(fmt), 0, 0) if fmt is not None else None
        xml = {v: f' t="n"><v>{"%.16g" % v}</v></c>' for v in distinct}
        width = max(min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60) for v in (min(distinct), max(distinct)))
        return [None if v is None else xml[v] for v in vals], [None if v is None else key for v in vals], width
    memo = {v: _text_cell(v) for v in distinct}
    hits = [None if v is None else memo[v] for v in vals]
    return ([None if h is None else h[0] for h in hits], [None if h is None else h[1] for h in hits],
            max((w for _, _, w in memo.values()), default=0))


def _column_cells(col: pd.Series, fmt: str | None, items: list[Any] | None,
                  styles: _Styles) -> tuple[list[str | None], list[_Xf | None], int]:
    """One column's data cells: each cell's XML after its reference and style (None: no cell, the value is
    missing), its cell format (None: none) and the widest value's width (at most 60 characters).

    A text cell is an inline string (never a formula, whatever it starts with); one a spreadsheet could read
    as a formula carries Excel's quote prefix (:func:`_text_cell`). Numbers are written as openpyxl writes
    them (``%.16g``), each with the column's number format, or with its item's in a summary's ``value``
    column (``items``). Repeated values are worked out once.
    """
    kind, vals, signed_zero = _column_values(col)
    if items is None and ((kind in "iuf" and not signed_zero) or (kind == "O" and set(map(type, vals)) <= {str, type(None)})):
        return _uniform_cells(vals, fmt if kind != "O" else None, styles)
    return _mixed_cells(vals, kind, fmt, items, styles)


def _column_values(col: pd.Series) -> tuple[str, list[Any], bool]:
    """A column's values as Python objects, for :func:`_column_cells`.

    Parameters
    ----------
    col
        The column.

    Returns
    -------
    tuple
        The dtype kind (``O`` for an extension dtype), the values (None for a missing or non-finite
        float; other objects through :func:`_cell_value`, text kept) and whether a float is ``-0.0``.
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
        vals = [v if type(v) is str else _cell_value(v) for v in col.tolist()]
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
    num = ((f' t="b"><v>{int(v)}</v></c>' if isinstance(v, bool) else f' t="n"><v>{"%.16g" % v}</v></c>'),
           min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60))
    if v and type(v) is not bool:
        numbers[v] = num
    return num


def _mixed_cells(vals: list[Any], kind: str, fmt: str | None, items: list[Any] | None,
                 styles: _Styles) -> tuple[list[str | None], list[_Xf | None], int]:
    """:func:`_column_cells` of a column mixing text, numbers and booleans, or of a summary's ``value`` column.

    Parameters
    ----------
    vals
        The values (:func:`_column_values`).
    kind
        The column's dtype kind (objects of an ``O`` column go through :func:`_cell_value`).
    fmt
        The column's number format (None: none).
    items
        A summary's items, one per value, whose formats the numbers take (None: the column's).
    styles
        The workbook's styles (a number format is registered at its first number).

    Returns
    -------
    tuple
        As :func:`_column_cells`.
    """
    fmt_key: _Xf | None = None  # registered at its first number, as openpyxl numbers the formats
    cells: list[str | None] = []
    keys: list[_Xf | None] = []
    width = 0
    texts: dict[str, tuple[str, _Xf | None, int]] = {}
    numbers: dict[Any, tuple[str, int]] = {}
    for i, v in enumerate(vals):
        if type(v) is not str and v is not None and kind == "O":
            v = _cell_value(v)
        if v is None:
            cells.append(None)
            keys.append(None)
        elif type(v) is str:
            hit = texts.get(v)
            if hit is None:
                hit = texts[v] = _text_cell(v)
            cells.append(hit[0])
            keys.append(hit[1])
            width = max(width, hit[2])
        else:
            num = (numbers.get(v) if v and type(v) is not bool else None) or _number_cell(v, numbers)
            cells.append(num[0])
            width = max(width, num[1])
            if items is not None and not isinstance(v, bool):
                keys.append((styles.format_id(_item_format(items[i], v)), 0, 0))
            elif fmt is not None:
                if fmt_key is None:
                    fmt_key = (styles.format_id(fmt), 0, 0)
                keys.append(fmt_key)
            else:
                keys.append(None)
    return cells, keys, width


def _number_new_formats(heads: list[tuple[str, _Xf | None, int]], column_keys: list[list[_Xf | None]],
                        styles: _Styles) -> None:
    """Number a sheet's new cell formats in the order first met row by row: the header's, then the data's
    by (row, column) of each one's first cell (openpyxl's numbering).

    Parameters
    ----------
    heads
        The header cells (:func:`_text_cell` of each column name).
    column_keys
        Each column's cell formats (:func:`_column_cells`).
    styles
        The workbook's styles, given the new formats.
    """
    for _, q, _ in heads:
        styles.xf_id((0, 1, 0 if q is None else 1))
    first: dict[_Xf, tuple[int, int]] = {}
    for j, keys in enumerate(column_keys):
        for k in dict.fromkeys(keys):
            if k is not None and k not in styles.xfs:
                at = (keys.index(k), j)
                first[k] = min(first.get(k, at), at)
    for k in sorted(first, key=first.__getitem__):
        styles.xf_id(k)


def _sheet_xml(df: pd.DataFrame, styles: _Styles, *, rtl: bool) -> str:
    """``xl/worksheets/sheetN.xml`` of ``df``: header row bold and frozen, auto filter, number formats, widths.

    The cell formats new to this sheet are numbered in the order a row-by-row writer meets them (openpyxl's
    numbering): by the row, then the column, of each one's first cell.
    """
    ncol, nrow = df.shape[1], len(df)
    letters = [_column_letter(j) for j in range(1, ncol + 1)]
    if ncol:
        styles.bold = True
    heads = [_text_cell(str(name)) for name in df.columns]
    # a summary's value column mixes numbers and text: each number formatted by its item
    items = df["item"].tolist() if "item" in df.columns and "value" in df.columns else None
    columns = []
    widths = []
    for j in range(ncol):
        name = str(df.columns[j])
        col = df.iloc[:, j]
        cells, keys, width = _column_cells(col, _number_format(name, col), items if name == "value" else None, styles)
        columns.append((cells, keys))
        widths.append(max(len(_text(name)), width))
    _number_new_formats(heads, [keys for _, keys in columns], styles)
    attr = {k: f' s="{i}"' for k, i in styles.xfs.items()}
    attr[None] = ""  # type: ignore[index]
    lines: list[list[str | None]] = []
    last = 1 if ncol else 0
    for (cells, keys), letter in zip(columns, letters):
        lines.append([None if c is None else f'<c r="{letter}{r}"{attr[k]}{c}'  # type: ignore[index]
                      for r, c, k in zip(range(2, nrow + 2), cells, keys)])
        last = max(last, next((r for r, c in zip(range(nrow + 1, 1, -1), reversed(cells)) if c is not None), 0))
    rows: list[str] = []
    if ncol:
        rows.append('<row r="1">' + "".join(f'<c r="{letters[j]}1"{attr[(0, 1, 0 if q is None else 1)]}{x}'
                                            for j, (x, q, _) in enumerate(heads)) + "</row>")
    for r, row in zip(range(2, nrow + 2), zip(*lines)):
        body = "".join(filter(None, row))
        if body:
            rows.append(f'<row r="{r}">{body}</row>')
    dim = f"A1:{letters[-1]}{last}" if ncol else "A1:A1"
    cols = ("<cols>" + "".join(f'<col width="{max(8, min(w + 2, 62))}" customWidth="1" min="{j}" max="{j}" />'
                               for j, w in enumerate(widths, start=1)) + "</cols>") if ncol else ""
    flt = f'<autoFilter ref="A1:{letters[-1]}{nrow + 1}" />' if ncol else ""
    return (f'<worksheet xmlns="{_MAIN_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr />'
            f'</sheetPr><dimension ref="{dim}" /><sheetViews><sheetView rightToLeft="{int(rtl)}" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen" />'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15" />{cols}<sheetData>{"".join(rows)}</sheetData>'
            f'{flt}<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."
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


def _package_parts(titles: list[str], filters: list[str | None], when: _dt.datetime) -> dict[str, str]:
    """The workbook's parts other than its sheets, styles and theme, by name."""
    stamp = when.isoformat(timespec="seconds") + "Z"
    n = len(titles)
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>siteplan</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "<cp:lastModifiedBy>siteplan</cp:lastModifiedBy></cp:coreProperties>")
    app = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Application>Microsoft Excel Compatible / Openpyxl 3.1.5</Application><AppVersion>3.1</AppVersion></Properties>")
    rels = (f'<Relationships xmlns="{_REL_NS}"><Relationship Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml" '
            f'Id="rId1" /><Relationship Type="{_REL_NS}/metadata/core-properties" Target="docProps/core.xml" Id="rId2" />'
            f'<Relationship Type="{_DOC_REL}/extended-properties" Target="docProps/app.xml" Id="rId3" /></Relationships>')
    sheets = "".join(f'<sheet name="{_esc_attr(t)}" sheetId="{i}" state="visible" r:id="rId{i}" />'
                     for i, t in enumerate(titles, start=1))
    names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                    + _esc("'" + t.replace("'", "''") + "'!" + ref) + "</definedName>"
                    for i, (t, ref) in enumerate(zip(titles, filters)) if ref is not None)
    workbook = (f'<workbook xmlns:r="{_DOC_REL}" xmlns="{_MAIN_NS}"><workbookPr /><workbookProtection /><bookViews>'
                '<workbookView visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" '
                'showSheetTabs="1" tabRatio="600" firstSheet="0" activeTab="0" autoFilterDateGrouping="1" /></bookViews>'
                f'<sheets>{sheets}</sheets>' + (f"<definedNames>{names}</definedNames>" if names else "<definedNames />")
                + '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>')
    wb_rels = (f'<Relationships xmlns="{_REL_NS}">'
               + "".join(f'<Relationship Type="{_DOC_REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" Id="rId{i}" />'
                         for i in range(1, n + 1))
               + f'<Relationship Type="{_DOC_REL}/styles" Target="styles.xml" Id="rId{n + 1}" />'
               + f'<Relationship Type="{_DOC_REL}/theme" Target="theme/theme1.xml" Id="rId{n + 2}" /></Relationships>')
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
             '<Default Extension="xml" ContentType="application/xml" />'
             f'<Override PartName="/xl/styles.xml" ContentType="{_CT}spreadsheetml.styles+xml" />'
             f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_CT}theme+xml" />'
             '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
             f'<Override PartName="/docProps/app.xml" ContentType="{_CT}extended-properties+xml" />'
             + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}spreadsheetml.worksheet+xml" />'
                       for i in range(1, n + 1))
             + f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}spreadsheetml.sheet.main+xml" /></Types>')
    return {"docProps/app.xml": app, "docProps/core.xml": core, "_rels/.rels": rels, "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": wb_rels, "[Content_Types].xml": types}


def workbook_bytes(sheets: Sequence[tuple[str, pd.DataFrame]], *, rtl: bool = False) -> bytes:
    """The bytes of an ``.xlsx`` holding ``sheets`` (name, table) in order, deterministic.

    The sheets' XML is written directly (inline strings, one pass over each table): the parts, their
    order and their bytes are those openpyxl 3.1.5 wrote for the same workbook, about twenty times faster.

    Parameters
    ----------
    sheets
        Sheet names (at most 31 characters, as Excel allows; not ``\\ * ? : / [ ]``, each once) and their tables.
    rtl
        Sheets right to left (Persian).

    Returns
    -------
    bytes
        The workbook; the same sheets give the same bytes.

    Raises
    ------
    ValueError
        No sheet, or a sheet name Excel refuses or given twice.
    """
    from ._xlsx_theme import THEME_XML

    titles = [name[:31] for name, _ in sheets]
    if not titles:
        raise ValueError("a workbook needs at least one sheet")
    for t in titles:
        if not t or _BAD_TITLE.search(t) or titles.count(t) > 1:
            raise ValueError(f"sheet name {t!r}: empty, given twice or holds one of \\ * ? : / [ ]")
    styles = _Styles()
    sheet_xml = [_sheet_xml(df, styles, rtl=rtl) for _, df in sheets]
    filters = [f"$A$1:${_column_letter(df.shape[1])}${len(df) + 1}" if df.shape[1] else None for _, df in sheets]
    parts = _package_parts(titles, filters, _doc_date())
    order = [("docProps/app.xml", parts["docProps/app.xml"]), ("docProps/core.xml", parts["docProps/core.xml"]),
             ("xl/theme/theme1.xml", THEME_XML),
             *((f"xl/worksheets/sheet{i}.xml", x) for i, x in enumerate(sheet_xml, start=1)),
             ("xl/styles.xml", styles.xml()),
             *((name, parts[name]) for name in ("_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                                "[Content_Types].xml"))]
    out = io.BytesIO()
    # every entry with one fixed date, so that the same tables give the same bytes
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, text in order:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, text.encode("utf-8"), compresslevel=6)
    return out.getvalue()


def _summary(res: RunResult) -> pd.DataFrame:
    """The summary sheet: the plan's headline figures, English and Persian labels."""
    sc = res.prep.scenario
    rows = res.plan.rows
    assigned = rows.status == "assigned"
    land = pd.to_numeric(rows.get("land_m2", pd.Series(dtype=float)), errors="coerce")
    solver = res.plan.solver or {}
    items: list[tuple[str, str, Any]] = [
        ("scenario", "سناریو", sc.name),
        ("businesses", "واحدها", len(rows)),
        ("assigned", "جابه‌جا شده", int(assigned.sum())),
        ("unassigned", "بی‌جا", int((rows.status == "unassigned").sum())),
        ("unclassified", "دسته‌بندی نشده", int(rows["category"].isna().sum())),
        ("land placed (ha)", "زمین واگذار شده (هکتار)", round(float(land[assigned].sum()) / 10_000, 2)),
        ("estates", "شهرک‌ها", len(res.prep.region.layers["estates"])),
        ("zones", "پهنه‌ها", len(res.zones)),
        ("new sites", "سایت‌های پیشنهادی", len(res.sites)),
        ("clusters", "خوشه‌ها", len(res.clusters)),
        ("upgrades", "ارتقاها", len(res.upgrades) if res.upgrades is not None else 0),
        ("solver status", "وضعیت حل", solver.get("status")),
        ("optimality gap", "شکاف بهینگی", solver.get("gap")),
        ("seed", "بذر تصادفی", res.seed),
        ("CRS", "سامانه مختصات", res.prep.region.crs.to_string()),
        ("siteplan", "نسخه", _version()),
    ]
    return pd.DataFrame(items, columns=["item", "item_fa", "value"]).astype({"value": object})


def _version() -> str:
    from .._version import __version__

    return __version__


def plan_sheets(res: RunResult, *, relocation: pd.DataFrame | None = None,
                estates: pd.DataFrame | None = None) -> list[tuple[str, pd.DataFrame]]:
    """The sheets of ``plan.xlsx`` for a run, in order (name, table); a table with more rows than a sheet
    holds is left out and the summary says so (the CSV holds it whole). ``relocation`` and ``estates``: the
    run's :func:`~siteplan.programme.summaries.relocation_table` and
    :func:`~siteplan.programme.summaries.estate_totals`, when already worked out."""
    from ..programme.summaries import estate_totals, relocation_table

    sheets: list[tuple[str, pd.DataFrame]] = [
        ("relocation", relocation_table(res) if relocation is None else relocation),
        ("estates", estate_totals(res) if estates is None else estates)]
    sites = pd.DataFrame(res.sites.drop(columns=res.sites.geometry.name)) if len(res.sites.columns) else pd.DataFrame()
    sheets.append(("sites", sites))
    if res.upgrades is not None:
        sheets.append(("upgrades", res.upgrades))
    if res.options is not None:
        sheets.append(("options", res.options))
    if res.programme is not None:
        sheets.append(("impact", res.programme.impact))
    summary = _summary(res)
    kept = []
    for name, df in sheets:
        if len(df) + 1 > MAX_ROWS:
            note = pd.DataFrame([(f"{name}: not in this workbook", f"{name}: در این فایل نیست",
                                  f"{len(df):,} rows, more than an Excel sheet holds; see {name}.csv")],
                                columns=summary.columns)
            summary = pd.concat([summary, note], ignore_index=True)
        else:
            kept.append((name, df))
    return [("summary", summary), *kept]


def read_output_csv(path: str | Path) -> pd.DataFrame:
    """A CSV siteplan wrote, with the values the run held: the formula quotes undone
    (:func:`siteplan.outputs.writer.undo_defuse`), empty cells missing, id columns (``id``, ``*_id``) as text and
    other columns as numbers when every filled cell is one (integers when none has a decimal point)."""
    from .formats import undo_defuse

    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    df.columns = [undo_defuse(str(c)) for c in df.columns]
    for c in df.columns:
        col = df[c].map(undo_defuse).replace("", None)
        if not (c == "id" or c.endswith("_id")) and col.notna().any():
            num = pd.to_numeric(col, errors="coerce")
            if num.notna().sum() == col.notna().sum():
                whole = num.notna().all() and not col.str.contains(r"[.eEnN]").any()
                col = num.astype("int64") if whole else num
        df[c] = col
    return df


#: the sheets of a national run's plan.xlsx: (sheet, file of the national folder)
NATIONAL_SHEETS = (("summary", "provinces.csv"), ("relocation", "relocation.csv"), ("estates", "estate_summary.csv"),
                   ("sites", "sites.geojson"), ("upgrades", "upgrades.csv"), ("options", "options.csv"))


def write_folder_workbook(folder: str | Path, path: str | Path, *, rtl: bool) -> list[str]:
    """Write ``plan.xlsx`` from the tables of a national output folder (:data:`NATIONAL_SHEETS`, those
    present), deterministically; returns the sheet names (none written when the folder has none)."""
    import geopandas as gpd

    folder = Path(folder)
    sheets: list[tuple[str, pd.DataFrame]] = []
    for sheet, name in NATIONAL_SHEETS:
        f = folder / name
        if not f.is_file():
            continue
        if f.suffix == ".geojson":
            g = gpd.read_file(f)
            df = pd.DataFrame(g.drop(columns=g.geometry.name))
        else:
            df = read_output_csv(f)
        if len(df) + 1 <= MAX_ROWS:
            sheets.append((sheet, df))
    if sheets:
        data = workbook_bytes(sheets, rtl=rtl)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return [n for n, _ in sheets]


def write_workbook(res: RunResult, path: str | Path, *, relocation: pd.DataFrame | None = None,
                   estates: pd.DataFrame | None = None) -> None:
    """Write ``plan.xlsx`` for a run (:func:`plan_sheets`, given ``relocation`` and ``estates`` when already
    worked out), atomically and deterministically; right to left when the report is Persian
    (``report.language`` ``fa`` or ``both``)."""
    sheets = plan_sheets(res, relocation=relocation, estates=estates)
    data = workbook_bytes(sheets, rtl=res.prep.scenario.report.language in ("fa", "both"))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
