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
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..common.atomic import atomic_path
from ..report.layers import plain_value

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
    """A cell value openpyxl writes as the right type: None for missing, Python numbers, text as ``str``."""
    if isinstance(v, (list, tuple, set)):
        return "; ".join(str(x) for x in v)
    return plain_value(v)


def _text(v: str) -> str:
    """Text an Excel cell can hold: characters XML 1.0 forbids (most C0 controls) shown as U+FFFD, and
    at most :data:`MAX_CELL_CHARS` characters (cut with an ellipsis)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    v = ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
    return v if len(v) <= MAX_CELL_CHARS else v[:MAX_CELL_CHARS - 1] + "…"


def _add_sheet(wb: Any, title: str, df: pd.DataFrame, *, rtl: bool, freeze: str = "A2") -> None:
    """One sheet of ``df``: header row bold and frozen, auto filter, number formats, widths."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from .writer import _defuse

    ws = wb.create_sheet(title)
    ws.sheet_view.rightToLeft = rtl
    bold = Font(bold=True)
    widths: list[int] = []
    for j, name in enumerate(df.columns, start=1):
        head = _text(str(name))
        c = ws.cell(row=1, column=j)
        c.value = head
        c.data_type = "s"
        c.font = bold
        c.quotePrefix = _defuse(head) != head
        widths.append(len(head))
    # a summary's value column mixes numbers and text: each number formatted by its item
    items = df["item"].tolist() if "item" in df.columns and "value" in df.columns else None
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        fmt = _number_format(str(df.columns[j]), col)
        by_item = items is not None and str(df.columns[j]) == "value"
        for i, raw in enumerate(col.tolist(), start=2):
            v = _cell_value(raw)
            if v is None:
                continue
            c = ws.cell(row=i, column=j + 1)
            if isinstance(v, str):
                v = _text(v)
                c.value = v
                c.data_type = "s"  # text, never a formula, whatever it starts with
                if _defuse(v) != v:
                    c.quotePrefix = True
                widths[j] = max(widths[j], min(len(v), 60))
            else:
                c.value = v
                if by_item and not isinstance(v, bool):
                    c.number_format = _item_format(items[i - 2], v)  # type: ignore[index]
                elif fmt is not None:
                    c.number_format = fmt
                widths[j] = max(widths[j], min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(w + 2, 62))
    ws.freeze_panes = freeze
    if df.shape[1]:
        ws.auto_filter.ref = f"A1:{get_column_letter(df.shape[1])}{max(len(df), 0) + 1}"


def workbook_bytes(sheets: Sequence[tuple[str, pd.DataFrame]], *, rtl: bool = False) -> bytes:
    """The bytes of an ``.xlsx`` holding ``sheets`` (name, table) in order, deterministic.

    Parameters
    ----------
    sheets
        Sheet names (at most 31 characters, as Excel allows) and their tables.
    rtl
        Sheets right to left (Persian).

    Returns
    -------
    bytes
        The workbook; the same sheets give the same bytes.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    when = _doc_date()
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "siteplan"
    wb.properties.lastModifiedBy = "siteplan"
    for name, df in sheets:
        _add_sheet(wb, name[:31], df, rtl=rtl)
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    # ExcelWriter, not wb.save(): save() stamps the document's modified date with the time of writing
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    # openpyxl stamps each zip entry with the time of writing: copy them with one fixed date
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    return out.getvalue()


def _summary(res: "RunResult") -> pd.DataFrame:
    """The summary sheet: the plan's headline figures, English and Persian labels."""
    sc = res.prep.scenario
    rows = res.plan.rows
    assigned = rows.status == "assigned"
    land = pd.to_numeric(rows.get("land_m2", pd.Series(dtype=float)), errors="coerce")
    solver = res.plan.solver or {}
    items: list[tuple[str, str, Any]] = [
        ("scenario", "سناریو", sc.name),
        ("businesses", "واحدها", int(len(rows))),
        ("assigned", "جابه‌جا شده", int(assigned.sum())),
        ("unassigned", "بی‌جا", int((rows.status == "unassigned").sum())),
        ("unclassified", "دسته‌بندی نشده", int(rows["category"].isna().sum())),
        ("land placed (ha)", "زمین واگذار شده (هکتار)", round(float(land[assigned].sum()) / 10_000, 2)),
        ("estates", "شهرک‌ها", int(len(res.prep.region.layers["estates"]))),
        ("zones", "پهنه‌ها", int(len(res.zones))),
        ("new sites", "سایت‌های پیشنهادی", int(len(res.sites))),
        ("clusters", "خوشه‌ها", int(len(res.clusters))),
        ("upgrades", "ارتقاها", int(len(res.upgrades)) if res.upgrades is not None else 0),
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


def plan_sheets(res: "RunResult") -> list[tuple[str, pd.DataFrame]]:
    """The sheets of ``plan.xlsx`` for a run, in order (name, table); a table with more rows than a sheet
    holds is left out and the summary says so (the CSV holds it whole)."""
    from ..programme.summaries import estate_totals, relocation_table

    sheets: list[tuple[str, pd.DataFrame]] = [("relocation", relocation_table(res)), ("estates", estate_totals(res))]
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
    from .writer import undo_defuse

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


def write_workbook(res: "RunResult", path: str | Path) -> None:
    """Write ``plan.xlsx`` for a run (:func:`plan_sheets`), atomically and deterministically; right to left
    when the report is Persian (``report.language`` ``fa`` or ``both``)."""
    data = workbook_bytes(plan_sheets(res), rtl=res.prep.scenario.report.language in ("fa", "both"))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
