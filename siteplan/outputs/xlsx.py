"""The ``.xlsx`` writer of siteplan's workbooks (:mod:`siteplan.outputs.workbook`): each sheet's XML
written directly in one pass over its table (cells: :mod:`siteplan.outputs.xlsx_cells`), the package's
other parts, and the zip, with the parts, their order and their bytes openpyxl 3.1.5 wrote for the same
workbook (tests/test_gis_io.py compares them). The same tables give the same bytes: the document dates
are fixed (``SOURCE_DATE_EPOCH`` when set, else 2000-01-01) and so are the zip entries' dates.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Sequence

import pandas as pd

from .xlsx_cells import MAIN_NS, Styles, Xf, cell_text, column_cells, column_letter, esc, esc_attr, number_format, text_cell

__all__ = ["workbook_bytes", "doc_date", "FIXED_DATE", "ZIP_DATE"]

#: the document date when ``SOURCE_DATE_EPOCH`` is not set (the GeoPackage's date, see writer.GPKG_DATE)
FIXED_DATE = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - a document date, stored without a zone
#: the zip entries' date (the earliest a zip can hold)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def doc_date() -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds convention) as a naive UTC date, else :data:`FIXED_DATE`."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(raw), dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            pass
    return FIXED_DATE


#: a sheet title Excel refuses
_BAD_TITLE = re.compile(r"[\\*?:/\[\]]")


def _number_new_formats(heads: list[tuple[str, Xf | None, int]], column_keys: list[list[Xf | None]],
                        styles: Styles) -> None:
    """Number a sheet's new cell formats in the order first met row by row: the header's, then the data's
    by (row, column) of each one's first cell (openpyxl's numbering).

    Parameters
    ----------
    heads
        The header cells (:func:`text_cell` of each column name).
    column_keys
        Each column's cell formats (:func:`column_cells`).
    styles
        The workbook's styles, given the new formats.
    """
    for _, q, _ in heads:
        styles.xf_id((0, 1, 0 if q is None else 1))
    first: dict[Xf, tuple[int, int]] = {}
    for j, keys in enumerate(column_keys):
        for k in dict.fromkeys(keys):
            if k is not None and k not in styles.xfs:
                at = (keys.index(k), j)
                first[k] = min(first.get(k, at), at)
    for k in sorted(first, key=first.__getitem__):
        styles.xf_id(k)


def _sheet_xml(df: pd.DataFrame, styles: Styles, *, rtl: bool) -> str:
    """``xl/worksheets/sheetN.xml`` of ``df``: header row bold and frozen, auto filter, number formats, widths.

    The cell formats new to this sheet are numbered in the order a row-by-row writer meets them (openpyxl's
    numbering): by the row, then the column, of each one's first cell.
    """
    ncol, nrow = df.shape[1], len(df)
    letters = [column_letter(j) for j in range(1, ncol + 1)]
    if ncol:
        styles.bold = True
    heads = [text_cell(str(name)) for name in df.columns]
    # a summary's value column mixes numbers and text: each number formatted by its item
    items = df["item"].tolist() if "item" in df.columns and "value" in df.columns else None
    columns = []
    widths = []
    for j in range(ncol):
        name = str(df.columns[j])
        col = df.iloc[:, j]
        cells, keys, width = column_cells(col, number_format(name, col), items if name == "value" else None, styles)
        columns.append((cells, keys))
        widths.append(max(len(cell_text(name)), width))
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
    return (f'<worksheet xmlns="{MAIN_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr />'
            f'</sheetPr><dimension ref="{dim}" /><sheetViews><sheetView rightToLeft="{int(rtl)}" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen" />'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15" />{cols}<sheetData>{"".join(rows)}</sheetData>'
            f'{flt}<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')


_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."


def _package_parts(titles: list[str], filters: list[str | None], when: dt.datetime) -> dict[str, str]:
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
    sheets = "".join(f'<sheet name="{esc_attr(t)}" sheetId="{i}" state="visible" r:id="rId{i}" />'
                     for i, t in enumerate(titles, start=1))
    names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                    + esc("'" + t.replace("'", "''") + "'!" + ref) + "</definedName>"
                    for i, (t, ref) in enumerate(zip(titles, filters)) if ref is not None)
    workbook = (f'<workbook xmlns:r="{_DOC_REL}" xmlns="{MAIN_NS}"><workbookPr /><workbookProtection /><bookViews>'
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
    r"""The bytes of an ``.xlsx`` holding ``sheets`` (name, table) in order, deterministic.

    The sheets' XML is written directly (inline strings, one pass over each table): the parts, their
    order and their bytes are those openpyxl 3.1.5 wrote for the same workbook, about twenty times faster.

    Parameters
    ----------
    sheets
        Sheet names (at most 31 characters, as Excel allows; not ``\ * ? : / [ ]``, each once) and their tables.
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
    styles = Styles()
    sheet_xml = [_sheet_xml(df, styles, rtl=rtl) for _, df in sheets]
    filters = [f"$A$1:${column_letter(df.shape[1])}${len(df) + 1}" if df.shape[1] else None for _, df in sheets]
    parts = _package_parts(titles, filters, doc_date())
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
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, text.encode("utf-8"), compresslevel=6)
    return out.getvalue()
