"""The HTML map report (Folium skeleton, embedded Leaflet): layers, popups, summary tables, method
and sources.

Safe by construction: data strings never reach a template engine, a JavaScript string or an HTML
attribute unencoded. Map data travels as JSON in a data block and is put on the page with
``textContent`` by a static script; the panel is built with markupsafe, which escapes every value; a
Content-Security-Policy allows only the page's own scripts (by hash). See :mod:`.page`.

Modules: :mod:`.layers` (map layers as plain data), :mod:`.panel` (side panel HTML), :mod:`.page`
(assembling the page and its CSP), ``app.js`` (the static script), ``report.css``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._io import atomic_path

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["build_report"]


def _attribution(res: "RunResult") -> str:
    """One line naming the data sources that need attribution and the layers that are generated."""
    licences = {"geonames": "GeoNames (CC-BY 4.0)", "openstreetmap": "© OpenStreetMap contributors (ODbL)",
                "natural earth": "Natural Earth"}
    credits: dict[str, list[str]] = {}
    generated = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        srcs = {str(s) for s in gdf["source"].dropna()} if "source" in gdf else set()
        if srcs and all(s.lower().startswith("generated") for s in srcs):
            generated.append(name)
        for s in srcs:
            known = [lic for key, lic in licences.items() if key in s.lower()]
            if not known and not s.lower().startswith("generated"):
                known = [s.strip()[:120]]  # the officer's own source, named as given (fields.source or source:)
            for lic in known:
                credits.setdefault(lic, []).append(name)
    parts = [f"{lic} ({', '.join(sorted(set(v)))})" for lic, v in sorted(credits.items())]
    if generated:
        parts.append(f"generated, synthetic: {', '.join(generated)}")
    return "siteplan · data: " + (" · ".join(parts) if parts else "the scenario's own layers")


def build_report(res: "RunResult", path: str | Path) -> None:
    """Write the HTML map report of a run.

    Parameters
    ----------
    res
        A finished :class:`~siteplan.results.RunResult`.
    path
        Target ``report.html`` (written atomically; the same run gives the same bytes).
    """
    import folium
    import geopandas as gpd

    from .layers import all_layers, category_colours
    from .page import BASEMAPS, assemble
    from .panel import panel_html

    prep = res.prep
    sa = gpd.GeoSeries([prep.region.study_area], crs=prep.region.crs).to_crs(4326).iloc[0]
    c = sa.centroid
    m = folium.Map(location=[round(c.y, 6), round(c.x, 6)], zoom_start=8, tiles=None, control_scale=True,
                   prefer_canvas=True)
    m._id = "report"  # a fixed name: the page is byte-identical between runs
    m.default_js, m.default_css = [], []  # no CDN: Leaflet is embedded
    minx, miny, maxx, maxy = (round(v, 6) for v in sa.bounds)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    skeleton = m.get_root().render()  # rendered before any data exists: nothing from data is templated

    colour = category_colours(list(prep.catalogue.table["code"]))
    basemaps = [dict(b) for b in BASEMAPS]
    basemaps[0]["attribution"] = _attribution(res)
    data = {"map": m.get_name(), "collapsed": False, "basemaps": basemaps, "layers": all_layers(res, colour)}
    page = assemble(skeleton, title=f"siteplan — {prep.scenario.name}", panel=panel_html(res, colour), data=data)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
