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
awkward tables): about ten times faster than building openpyxl's cell objects, and without loading openpyxl
(the writer: :mod:`siteplan.outputs.xlsx`, its cells: :mod:`siteplan.outputs.xlsx_cells`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..common.atomic import atomic_path
from .xlsx import FIXED_DATE, workbook_bytes

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["write_workbook", "write_folder_workbook", "plan_sheets", "workbook_bytes", "read_output_csv", "MAX_ROWS",
           "FIXED_DATE", "NATIONAL_SHEETS"]

#: rows of an Excel sheet, the header included
MAX_ROWS = 1_048_576


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
