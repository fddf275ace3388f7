r"""Assembling the report page: the map skeleton (:func:`skeleton`, Folium's rendering of an empty map), the
embedded Leaflet, the panel, the data block, the static script and a Content-Security-Policy.

How data reaches the page (the only ways):

* map data: one ``<script type="application/json" id="sp-data">`` block written by :func:`json_block`
  (``<``, ``>``, ``&`` and the line separators are ``\u`` escapes, so no string can close the block)
  and read by ``app.js`` with ``JSON.parse``; the script puts strings on the page with ``textContent``;
* the panel: HTML built with :mod:`markupsafe`, every value escaped (see :mod:`.panel`).

No data string is ever given to a template engine: the map skeleton is made *before* any data is added
(it holds only the map's centre), and the data parts are spliced into its text. The CSP allows only the page's own
scripts and styles (by SHA-256 hash), images from the page itself and the OpenStreetMap tile server
(only once the reviewer turns that base map on: nothing is fetched on load); nothing else may load or
connect, so an escaping mistake cannot run injected script.

The page is Persian first and right to left (``<html lang="fa-IR" dir="rtl">``, the panel on the
right); the map's own box stays left to right (Leaflet's geometry), its popups, legend and layer list
are right to left. ``report.language`` ``fa`` gives ``<html lang="fa" dir="rtl">``, ``en`` gives
``<html lang="en" dir="ltr">`` (popups, legend and layer list left to right too).

The Persian font (Vazirmatn, :mod:`.fontface`) is embedded, cut to the characters of the page, in a
stylesheet trusted by hash like the page's own (it holds no data string, only the font's bytes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from markupsafe import Markup

__all__ = ["json_block", "assemble", "csp", "offline_assets", "skeleton", "MAP_NAME", "TILE_ORIGINS", "BASEMAPS"]

#: the base maps the report offers (names ``[Persian, English]``); the first is on when the page opens,
#: the online one only when the reviewer chooses it (nothing is fetched before)
BASEMAPS = [
    {"name": ["لایه‌های خود منطقه (آفلاین)", "The region's own layers (offline)"], "url": "", "attribution": "",
     "show": True},
    {"name": ["اوپن‌استریت‌مپ (آنلاین)", "OpenStreetMap (online)"], "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
     "attribution": "© OpenStreetMap contributors (ODbL)", "show": False},
]
#: origins the CSP lets images load from (the tile servers of :data:`BASEMAPS`)
TILE_ORIGINS = ["https://tile.openstreetmap.org"]

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


#: the name of the page's Leaflet map (``var map_report = L.map(...)``, read by ``app.js``)
MAP_NAME = "map_report"
#: where the skeleton is cut for the map's centre: Folium renders an empty map centred here once
_PROBE = (12.5, 47.25)


def _render_skeleton() -> bytes:
    """Folium's rendering of the report's empty map (named ``report``, centred on :data:`_PROBE`)."""
    import folium

    m = folium.Map(location=list(_PROBE), zoom_start=8, tiles=None, control_scale=True, prefer_canvas=True)
    m.default_js, m.default_css = [], []  # no CDN: Leaflet is embedded
    # a fixed name for Folium's random one (map_report, read by app.js): the page is byte-identical between runs
    return m.get_root().render().replace(m.get_name(), MAP_NAME).encode("utf-8")


@lru_cache(maxsize=1)
def _skeleton_parts() -> tuple[str, str]:
    """Folium's rendered skeleton cut at its centre: rendered by the installed Folium and kept in the user's
    cache folder keyed by Folium's version (:func:`siteplan.common.usercache.cached_bytes`), so a run does
    not import Folium and its templates when an earlier run rendered the same skeleton."""
    from importlib import metadata

    from ..common.usercache import cached_bytes

    raw = cached_bytes("report-skeleton", [metadata.version("folium"), MAP_NAME], b"", _render_skeleton).decode()
    head, sep, tail = raw.partition(json.dumps(list(_PROBE)))
    if not sep or json.dumps(list(_PROBE)) in tail:  # a cache file that is not the skeleton: render it now
        raw = _render_skeleton().decode()
        head, _, tail = raw.partition(json.dumps(list(_PROBE)))
    return head, tail


def skeleton(lat: float, lon: float) -> str:
    """The page's skeleton, before any data: the map's element and its Leaflet map centred on ``lat``,
    ``lon`` (written as JSON numbers), nothing else.

    Parameters
    ----------
    lat, lon
        The map's centre (degrees).

    Returns
    -------
    str
        The HTML Folium renders for the report's map (:func:`_skeleton_parts`).

    Raises
    ------
    ValueError
        The centre is not a finite number.
    """
    centre = [float(lat), float(lon)]
    if not all(math.isfinite(v) for v in centre):
        raise ValueError(f"the map's centre {centre}: not a number (Folium refused it too)")
    head, tail = _skeleton_parts()
    return head + json.dumps(centre) + tail


@lru_cache(maxsize=1)
def offline_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (images inlined as data URIs), from the ``django-js-lib-leaflet``
    package installed with siteplan, so the report needs no network at view time."""
    root = resources.files("js_lib_leaflet").joinpath("static/js_lib_leaflet")
    js = root.joinpath("leaflet.js").read_text(encoding="utf-8")
    css = root.joinpath("leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match[str]) -> str:
        data = root.joinpath(m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\((images/[\w\-.]+\.png)\)", inline, css)
    js = js.replace("</script", "<\\/script")  # cannot close the inline script early
    return js, css


def app_script() -> str:
    """The report's static script (``app.js``)."""
    return resources.files("siteplan.report").joinpath("app.js").read_text(encoding="utf-8")


def app_css() -> str:
    """The report's stylesheet (``report.css``)."""
    return resources.files("siteplan.report").joinpath("report.css").read_text(encoding="utf-8")


def json_block(obj: Any, element_id: str) -> str:
    """``obj`` as a ``<script type="application/json">`` block that no string in it can break out of.

    Parameters
    ----------
    obj
        JSON-serialisable data (NaN and infinity are refused).
    element_id
        The block's ``id`` (a fixed name, never data).
    """
    return _json_block_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False), element_id)


def _json_block_text(text: str, element_id: str) -> str:
    """:func:`json_block` of ``text``, the compact JSON of the data."""
    for ch, rep in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _sha(s: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(trusted: str) -> str:
    """The Content-Security-Policy of a page: the inline scripts and styles of ``trusted`` (the page's
    own code, with no data in it) by hash, images from data URIs and the tile servers, nothing else.

    The hashes are taken before any data is added, so a script that data smuggled in never matches."""
    scripts = " ".join(sorted({_sha(s) for s in _SCRIPT.findall(trusted)}))
    styles = " ".join(sorted({_sha(s) for s in _STYLE.findall(trusted)}))
    return ("default-src 'none'; "
            f"script-src {scripts}; style-src {styles}; "
            f"img-src data: {' '.join(TILE_ORIGINS)}; font-src data:; connect-src 'none'; "
            "base-uri 'none'; form-action 'none'; frame-src 'none'; object-src 'none'")


def _splice(page: str, marker: str, insert: str, *, before: bool = True) -> str:
    """Insert ``insert`` at the first ``marker`` of Folium's rendered skeleton (which holds no data)."""
    i = page.index(marker)
    return page[:i] + insert + page[i:] if before else page[:i + len(marker)] + insert + page[i + len(marker):]


def assemble(skeleton: str, *, title: str, panel: Markup, data: dict[str, Any], lang: str = "both") -> str:
    """The finished page from Folium's rendered skeleton, the panel and the map data.

    Parameters
    ----------
    skeleton
        ``folium.Map(...).get_root().render()`` of a map with no data in it.
    title
        The page title (escaped here).
    panel
        The side panel (already safe markup).
    data
        The map data read by ``app.js``.
    lang
        ``both``, ``fa`` or ``en`` (``report.language``): the page's ``lang`` and ``dir``.
    """
    from markupsafe import escape

    from .fontface import font_css

    js, css = offline_assets()
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)  # serialised once
    data_text = _json_block_text(raw, "sp-data")
    app_text = app_script()
    font = font_css(title + str(panel) + raw + app_text)  # the characters the page shows (the font keeps spaces)
    # pinch-zoom stays possible on phones
    page = re.sub(r'<meta name="viewport"[^>]*>',
                  '<meta name="viewport" content="width=device-width, initial-scale=1.0">', skeleton, count=1)
    code = f"\n<style>{font}</style>\n<style>{css}</style>\n<style>{app_css()}</style>\n<script>{js}</script>\n"
    app = f"<script>{app_text}</script>"
    policy = csp(page + code + app)  # before any data: only the page's own code is trusted
    page = _splice(page, "</head>", f"\n<title>{escape(title)}</title>" + code)
    html = {"fa": '<html lang="fa" dir="rtl">', "en": '<html lang="en" dir="ltr">'}.get(lang, '<html lang="fa-IR" dir="rtl">')
    page = page.replace("<html>", html, 1)
    tail = f"\n{panel}\n{data_text}\n{app}\n"
    i = page.rindex("</html>")
    page = page[:i] + tail + page[i:]
    return _splice(page, "<head>", f'\n<meta http-equiv="Content-Security-Policy" content="{policy}">',
                   before=False)
