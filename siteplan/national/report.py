"""The national summary page (``report.html`` of a national run): a map of the partitions shaded by
the share of businesses placed, and a table of the partitions with their headline figures, each
linking its own report (``provinces/<folder>/report.html``).

Security follows the provincial report's design: every value from the data (partition keys, the
scenario's name, error messages) goes through :mod:`markupsafe`; the page has no script at all, and
its Content-Security-Policy allows only its own stylesheet (by SHA-256 hash) and nothing from the
network, so it works offline and an escaping mistake could not run anything. Text direction is
``auto`` per cell, so Persian names read right to left. No timing or date is written: the same run
gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from markupsafe import Markup

from .partition import Unit
from .runner import Outcome

__all__ = ["national_report"]

_CSS = """
body{font-family:system-ui,"Vazirmatn",Tahoma,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}table{border-collapse:collapse;margin-top:1rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:start}td.n{text-align:end;font-variant-numeric:tabular-nums}
tr.failed td{background:#fde8e8}.err{color:#a00;white-space:pre-wrap;max-width:40rem}
svg{border:1px solid #ddd;background:#f8f8f8;max-width:100%;height:auto}.wide{overflow-x:auto;max-width:100%}
.legend{font-size:.9rem;color:#444}.sw{display:inline-block;width:.9em;height:.9em;border:1px solid #555;vertical-align:middle}
.s0{background:hsl(0,60%,65%)}.s1{background:hsl(120,60%,65%)}.se{background:#ffffff}.sf{background:#cccccc}
svg path{stroke:#555;stroke-width:1;vector-effect:non-scaling-stroke}
"""


#: map fill of a partition whose run failed, and of one with no business to place (no share to shade)
FAILED_FILL, EMPTY_FILL = "#cccccc", "#ffffff"


def _svg_map(polygons: gpd.GeoDataFrame, share: dict[str, float | None], size: int = 520,
             links: dict[str, str] | None = None, failed: frozenset[str] = frozenset()) -> Markup:
    """The partitions as SVG paths (coordinates only numbers), shaded by the share placed (``None``: no
    business; in ``failed``: the run failed), each a link to its report (``links``: key to folder)."""
    minx, miny, maxx, maxy = polygons.total_bounds
    span = max(maxx - minx, maxy - miny, 1.0)
    scale = size / span
    w, h = int(np.ceil((maxx - minx) * scale)) + 2, int(np.ceil((maxy - miny) * scale)) + 2
    geoms = shapely.simplify(polygons.geometry.values, span / 400)
    paths = []
    for key, g in zip(polygons["partition"], geoms):
        d = []
        for poly in getattr(g, "geoms", [g]):
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px = np.round((xy[:, 0] - minx) * scale + 1, 1)
                py = np.round((maxy - xy[:, 1]) * scale + 1, 1)
                d.append("M" + "L".join(f"{x:g} {y:g}" for x, y in zip(px, py)) + "Z")
        s = share.get(key)
        fill = (FAILED_FILL if key in failed else EMPTY_FILL if s is None
                else f"hsl({int(round(120 * s))},60%,65%)")
        label = f"{key}: " + ("failed" if key in failed else "no business" if s is None else f"{100 * s:.0f} % placed")
        path = Markup('<path d="{}" fill="{}"><title>{}</title></path>').format(" ".join(d), fill, label)
        folder = (links or {}).get(key)
        paths.append(Markup('<a href="provinces/{}/report.html">{}</a>').format(folder, path) if folder else path)
    return Markup('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img">'
                  ).format(w, h, w, h) + Markup("").join(paths) + Markup("</svg>")


#: the table's column heads in Persian, under the English ones (reviewers often read Persian)
_FA = {"partition": "استان", "report": "گزارش", "businesses": "واحدها", "assigned": "تخصیص‌یافته",
       "unassigned": "بدون تخصیص", "land_ha": "زمین (هکتار)", "mean_km": "میانگین فاصله (کیلومتر)",
       "estates": "شهرک‌ها", "zones": "پهنه‌ها", "sites": "سایت‌های پیشنهادی"}


def _num(v: Any) -> str:
    if v is None:
        return ""
    return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}" if isinstance(v, float) else str(v)


def national_report(name: str, units: list[Unit], outcomes: list[Outcome], polygons: gpd.GeoDataFrame,
                    path: Path) -> None:
    """Write the national summary page.

    Parameters
    ----------
    name
        The national scenario's name.
    units, outcomes
        The units and their outcomes, in the same order.
    polygons
        The partitions (``partition``, geometry) in the working CRS.
    path
        The page to write.
    """
    share: dict[str, float | None] = {}
    links: dict[str, str] = {}
    rows = []
    cols = ("businesses", "assigned", "unassigned", "land_ha", "mean_km", "estates", "zones", "sites")
    totals = dict.fromkeys(cols[:4] + cols[5:], 0)
    for u, o in zip(units, outcomes):
        f = o.figures
        for k in u.keys:
            share[k] = f["assigned"] / f["businesses"] if o.status != "failed" and f.get("businesses") else None
            if o.status != "failed":
                links[k] = u.folder
        if o.status == "failed":
            rows.append(Markup('<tr class="failed"><td dir="auto">{}</td><td>failed</td><td colspan="{}" class="err" '
                               'dir="auto">{}</td></tr>').format(u.label, len(cols), o.error))
            continue
        for k in totals:
            totals[k] += f.get(k) or 0
        link = Markup('<a href="provinces/{}/report.html">report</a>').format(u.folder)
        cells = Markup("").join(Markup('<td class="n">{}</td>').format(_num(f.get(c))) for c in cols)
        rows.append(Markup('<tr><td dir="auto">{}</td><td>{}</td>{}</tr>').format(u.label, link, cells))
    failed = [u.label for u, o in zip(units, outcomes) if o.status == "failed"]
    failed_keys = frozenset(k for u, o in zip(units, outcomes) if o.status == "failed" for k in u.keys)
    legend = Markup('<p class="legend">Shading: share of the businesses placed, <span class="sw s0"></span> 0 % to '
                    '<span class="sw s1"></span> 100 %; <span class="sw se"></span> no business; '
                    '<span class="sw sf"></span> failed. Each province links its report.</p>')
    css_hash = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{css_hash}'; img-src 'self'; base-uri 'none'; form-action 'none'"
    head = Markup("").join(Markup("<th>{}<br><span lang=\"fa\" dir=\"rtl\">{}</span></th>").format(c, _FA[c])
                           for c in ("partition", "report", *cols))
    summary = Markup("<p>{} partitions in {} runs; {} businesses, {} placed ({} ha), {} unassigned.</p>").format(
        len(share), len(units), _num(totals["businesses"]), _num(totals["assigned"]), _num(round(totals["land_ha"], 2)),
        _num(totals["unassigned"]))
    if failed:
        summary += Markup('<p class="err">{} failed: {}</p>').format(len(failed), "; ".join(failed))
    page = Markup(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="{}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{}</title><style>{}</style></head>\n<body><h1 dir="auto">{}</h1>{}{}'
        '{}<div class="wide"><table><thead><tr>{}</tr></thead><tbody>\n{}\n</tbody></table></div></body></html>\n'
    ).format(csp, name, Markup(_CSS), name, summary, _svg_map(polygons, share, links=links, failed=failed_keys),
             legend, head, Markup("\n").join(rows))
    path.write_text(str(page), encoding="utf-8")
