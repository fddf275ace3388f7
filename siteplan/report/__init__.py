"""The HTML map report (Folium's map skeleton, embedded Leaflet): layers, popups, summary tables, method
and sources.

Safe by construction: data strings never reach a template engine, a JavaScript string or an HTML
attribute unencoded. Map data travels as JSON in a data block and is put on the page with
``textContent`` by a static script; the panel is built with markupsafe, which escapes every value; a
Content-Security-Policy allows only the page's own scripts (by hash). See :mod:`.page`.

Modules: :mod:`.layers` (map layers, legends and labels as plain data; the context layers in
:mod:`.context`, the GeoJSON helpers in :mod:`.features`), :mod:`.summary` (headline figures and chart
data), :mod:`.panel` (side panel HTML; its headline block in :mod:`.headline`, its method section in
:mod:`.method`), :mod:`.bidi` (direction isolation and
number formatting), :mod:`.page` (assembling the page and its CSP), ``app.js`` (the static script:
layers, layer control, legend, labels, charts, layout), ``report.css`` (screen from 360 px to 4K, and
print).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..common.atomic import atomic_path

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["build_report"]


def _attribution(res: RunResult) -> str:
    """One short line naming the data sources that need attribution (the layers each source feeds are
    listed in the panel's data sources)."""
    from .lang import pick

    licences = {"geonames": "GeoNames (CC-BY 4.0)", "openstreetmap": "© OpenStreetMap contributors (ODbL)",
                "natural earth": "Natural Earth"}
    found: set[str] = set()
    own = False
    for _, gdf in sorted(res.prep.region.layers.items()):
        srcs = {str(s) for s in gdf["source"].dropna()} if "source" in gdf else set()
        for s in srcs:
            known = [lic for key, lic in licences.items() if key in s.lower()]
            found.update(known)
            own = own or (not known and not s.lower().startswith("generated"))
    if "© OpenStreetMap contributors (ODbL)" in found and pick("fa", "en") == "fa":
        found = (found - {"© OpenStreetMap contributors (ODbL)"}) | {"© مشارکت‌کنندگان OpenStreetMap (ODbL)"}
    parts = sorted(found) + ([pick("منابع خود سناریو", "the scenario's own sources")] if own else [])
    return (pick("siteplan · داده‌ها: ", "siteplan · data: ")
            + (" · ".join(parts) if parts else pick("لایه‌های خود سناریو", "the scenario's own layers"))
            + pick(" (منابع داده را ببینید)", " (see Data sources)"))


def build_report(res: RunResult, path: str | Path) -> None:
    """Write the HTML map report of a run.

    Parameters
    ----------
    res
        A finished :class:`~siteplan.results.RunResult`.
    path
        Target ``report.html`` (written atomically; the same run gives the same bytes).
    """
    from .lang import language

    sc = res.prep.scenario
    report = getattr(sc, "report", None)
    lang = getattr(report, "language", "both") if report is not None else "both"
    with language(lang, digits=bool(getattr(sc.outputs, "persian_digits", False))):
        page = _page(res, lang)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def _page(res: RunResult, lang: str) -> str:
    """The report page of a run in ``lang`` (inside :func:`.lang.language`)."""
    import geopandas as gpd

    from .bidi import Fmt
    from .layers import all_layers, category_colours, labels
    from .page import BASEMAPS, MAP_NAME, assemble, skeleton
    from .panel import panel_html
    from .summary import charts
    from .words import fe

    prep = res.prep
    sa = gpd.GeoSeries([prep.region.study_area], crs=prep.region.crs).to_crs(4326).iloc[0]
    c = sa.centroid
    minx, miny, maxx, maxy = (round(v, 6) for v in sa.bounds)
    # the opening view is fitted by app.js once the panel is laid out (data["bounds"]); Leaflet is embedded
    page = skeleton(round(c.y, 6), round(c.x, 6))  # made before any data exists: nothing from data is in it

    colour = category_colours(list(prep.catalogue.table["code"]))
    basemaps = [dict(b, name=fe(str(b["name"][0]), str(b["name"][1]))) for b in BASEMAPS]  # type: ignore[index]
    basemaps[0]["attribution"] = _attribution(res)
    data = {"map": MAP_NAME, "basemaps": basemaps,
            "bounds": [[miny, minx], [maxy, maxx]], "layers": all_layers(res, colour), "labels": labels(res),
            "charts": charts(res), "persianDigits": Fmt().persian, "lang": lang}
    title = {"fa": f"siteplan — {prep.scenario.name}: گزارش جابجایی اصناف و پهنه‌بندی شهرک‌ها",
             "en": f"siteplan — {prep.scenario.name}: relocation and estate plan"}.get(
        lang, f"siteplan — {prep.scenario.name}: گزارش جابجایی اصناف و پهنه‌بندی شهرک‌ها / relocation and estate plan")
    return assemble(page, title=title, panel=panel_html(res, colour), data=data, lang=lang)
