"""The comparison page (``compare.html``) of ``siteplan compare``: one self-contained HTML file.

Safe by construction, as the report: the page has **no script at all**; markup is written as
:class:`~markupsafe.Markup` literals and every value from the runs goes in through ``Markup.format``,
which escapes it, inside a ``<bdi dir="auto">`` so that Persian and English mix in the right order.
A Content-Security-Policy allows only the page's own stylesheet (by SHA-256 hash) and nothing else
— no script, image, font, frame or network — so even an escaping mistake could not run anything.
The same comparison gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

__all__ = ["comparison_page", "CSS", "csp"]

#: rows of a table shown on the page; the CSV has them all
MAX_ROWS = 300

CSS = """body{font-family:system-ui,"Vazirmatn",Tahoma,sans-serif;margin:1.5rem;color:#222;max-width:80rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:start;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:end;font-variant-numeric:tabular-nums}
.up{color:#0a6b2e}.down{color:#a3201d}.note{color:#555;font-size:.85rem}"""


def csp(css: str = CSS) -> str:
    """The page's Content-Security-Policy: its one stylesheet by hash, nothing else."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; script-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:,.4f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    return str(v)


def _cell(v: Any) -> Markup:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return Markup('<td class="n">{}</td>').format(_text(float(v)))
    return Markup('<td><bdi dir="auto">{}</bdi></td>').format(_text(v))


def _table(df: pd.DataFrame, *, limit: int = MAX_ROWS, csv: str = "") -> Markup:
    """An escaped HTML table of the first ``limit`` rows, saying where the rest are."""
    if df.empty:
        return Markup('<p class="note">none</p>')
    head = Markup("").join(Markup("<th>{}</th>").format(str(c)) for c in df.columns)
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(_cell(v) for v in row))
        for row in df.head(limit).itertuples(index=False, name=None))
    more = Markup("")
    if len(df) > limit:
        more = Markup('<p class="note">… {} more rows in {}</p>').format(f"{len(df) - limit:,}", csv)
    return Markup("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}").format(head, body, more)


def _by_category(moved: pd.DataFrame) -> pd.DataFrame:
    if moved.empty:
        return moved
    t = pd.crosstab(moved["category"].replace("", "(unclassified)"), moved["change"])
    return t.reset_index().rename(columns={"category": "category"})


def comparison_page(*, names: tuple[str, str], paths: tuple[str, str], counts: dict[str, int],
                    totals: pd.DataFrame, moved: pd.DataFrame, estates: pd.DataFrame, sites: pd.DataFrame,
                    zones: pd.DataFrame, notes: list[str]) -> str:
    """The comparison as one HTML page (see the module's docstring): the runs' names and folders, the
    businesses per kind of change (in the order given) and the tables of :mod:`siteplan.compare`."""
    est = estates[(estates["change_ha"].abs() > 1e-9) | (estates["change_units"] != 0)]
    est = est.reindex(est["change_ha"].abs().sort_values(ascending=False, kind="stable").index)
    all_moved = moved
    moved = moved[["biz_id", "name", "category", "change", "estate_id_a", "estate_id_b", "distance_km_a",
                   "distance_km_b", "reason_a", "reason_b"]]
    summary = Markup("").join(Markup("<li>{}: {}</li>").format(c.replace("_", " "), f"{n:,}")
                              for c, n in counts.items())
    note_items = Markup("").join(Markup("<li><bdi dir=\"auto\">{}</bdi></li>").format(n) for n in notes)
    unchanged = len(estates) - len(est)
    page = Markup("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>siteplan compare</title>
<style>{css}</style>
</head>
<body>
<h1>siteplan compare / مقایسه دو سناریو</h1>
<p>A: <bdi dir="auto">{name_a}</bdi> (<bdi dir="ltr">{path_a}</bdi>)<br>
B: <bdi dir="auto">{name_b}</bdi> (<bdi dir="ltr">{path_b}</bdi>)</p>
<h2>Totals / جمع</h2>
{totals}
<h2>Businesses / کسب‌وکارها</h2>
<ul>{summary}</ul>
{bycat}
<h2>Estates whose land use changes / شهرک‌ها</h2>
<p class="note">{unchanged} estates unchanged (all in estates.csv).</p>
{estates}
<h2>Proposed sites / سایت‌های پیشنهادی</h2>
{sites}
<h2>Zones that change / پهنه‌ها</h2>
{zones}
<h2>Businesses that change / فهرست تغییرات</h2>
{moved}
<h2>Notes</h2>
<ul>{notes}</ul>
</body>
</html>
""").format(
        csp=Markup(csp()), css=Markup(CSS), name_a=names[0], name_b=names[1], path_a=paths[0],
        path_b=paths[1], totals=_table(totals, limit=100, csv="totals.csv"), summary=summary,
        bycat=_table(_by_category(all_moved), csv="moved.csv"), unchanged=unchanged,
        estates=_table(est, csv="estates.csv"), sites=_table(sites, csv="sites.csv"),
        zones=_table(zones, csv="zones.csv"), moved=_table(moved, csv="moved.csv"),
        notes=note_items or Markup("<li>none</li>"))
    return str(page)
