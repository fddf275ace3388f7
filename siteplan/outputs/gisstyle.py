"""GIS styles of a run's GeoPackage: QML (QGIS) and SLD (other clients) per layer in the standard
``layer_styles`` table, and a QGIS project ``plan.qgz`` beside the GeoPackage.

Both are made from :mod:`siteplan.report.styles`, the definition the HTML report reads, so an estate, a zone
or an unassigned business has the same colour, class and legend label in the report and in QGIS. Pure
Python (ElementTree): no QGIS is needed to write them, and the same run gives the same bytes (no
timestamps, fixed ids, zip entries dated :data:`ZIP_DATE`).

A style here is a list of :class:`Rule` (a legend label, a filter, a symbol); :func:`to_qml` writes it as
QGIS's rule-based renderer, :func:`to_sld` as SLD 1.1 rules. Values from the data (an environmental
category) reach the XML through ElementTree, which escapes them, and a QGIS expression only as a quoted
string literal (:func:`_qstr`). The QGIS project that holds these styles: :mod:`siteplan.outputs.qgsproject`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..report import styles as S  # noqa: N812 - S: the style definitions, read on every line

__all__ = ["Symbol", "Rule", "LayerStyle", "layer_rules", "qml_elements", "to_qml", "to_sld", "styles_table", "label",
           "hex_colour", "xml_text", "QGIS_VERSION", "ZIP_DATE", "STYLE_DATE"]

#: the QGIS version written into QML and project files (the oldest QGIS the files were tested with)
QGIS_VERSION = "3.22.16-Białowieża"
#: the date of every entry of ``plan.qgz`` (a zip): the same run gives the same bytes
ZIP_DATE = (2000, 1, 1, 0, 0, 0)
#: ``layer_styles.update_time`` of every style siteplan writes (fixed: the same run gives the same bytes)
STYLE_DATE = "2000-01-01T00:00:00.000Z"
#: the GeoPackage's geometry column (pyogrio's name)
GEOM_COLUMN = "geom"
_MARKER_OUTLINE = "#222"


@dataclass(frozen=True)
class Symbol:
    """How one class is drawn. ``kind``: ``fill``, ``line`` or ``marker``; widths and sizes in pixels;
    ``width_expr`` a data-defined line width (a QGIS expression and its SLD twin)."""

    kind: str
    colour: str
    opacity: float = 1.0
    stroke: str | None = None
    stroke_width: float = 1.0
    dash: bool = False
    size: float = 0.0
    width_expr: tuple[str, Any] | None = None


@dataclass(frozen=True)
class Rule:
    """One legend entry: ``label`` ``(Persian, English)``; ``where`` a filter (``None``: every feature;
    ``("else",)``; ``("eq", field, text)``; ``("range", field, lower or None, upper or None)`` for
    ``lower < field <= upper``); ``shown`` whether the class is drawn when the project opens."""

    label: tuple[str, str]
    where: tuple[Any, ...] | None
    symbol: Symbol
    shown: bool = True


@dataclass
class LayerStyle:
    """A layer's rules, the field its features are labelled with, and whether it shows when the project opens."""

    name: str
    rules: list[Rule]
    label_field: str | None = None
    shown: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def label(pair: tuple[str, str], lang: str) -> str:
    """A legend label in the report's language: ``fa``, ``en``, or both (``Persian · English``)."""
    fa, en = pair
    return fa if lang == "fa" else en if lang == "en" else f"{fa} · {en}"


def hex_colour(c: str) -> str:
    """``#abc`` or ``#aabbcc`` as ``#aabbcc``."""
    c = c.lstrip("#")
    return "#" + ("".join(ch * 2 for ch in c) if len(c) == 3 else c).lower()


def _rgba(c: str, alpha: float = 1.0) -> str:
    h = hex_colour(c)
    return f"{int(h[1:3], 16)},{int(h[3:5], 16)},{int(h[5:7], 16)},{round(255 * alpha)}"


def _leaflet(style: dict[str, Any], fill: str | None = None, kind: str = "fill") -> Symbol:
    """A :class:`Symbol` from a Leaflet path style of :mod:`siteplan.report.styles`."""
    return Symbol(kind, fill or str(style.get("fillColor", style["color"])), float(style.get("fillOpacity", 0.2)),
                  str(style["color"]), float(style["weight"]), "dashArray" in style)


def layer_rules(name: str, gdf: pd.DataFrame) -> LayerStyle | None:
    """The style of GeoPackage layer ``name`` (``None`` for a layer siteplan does not style).

    Parameters
    ----------
    name
        The layer's name (``estates``, ``zones``, ``sites``, ``clusters``, ``flows``, ``plots``,
        ``relocation``, ``study_area``).
    gdf
        Its features: the classes present (environmental categories, reasons) come from them.
    """
    if name == "estates":
        return _estate_style()
    if name in ("zones", "plots"):
        return _zone_style(name, gdf)
    if name == "relocation":
        return _relocation_style(gdf)
    make = _ONE_RULE.get(name)
    return make() if make is not None else None


def _estate_style() -> LayerStyle:
    """Estates by the share of their capacity used."""
    rules, lo = [], None
    for c in S.ESTATE_SHARE_CLASSES:
        up = None if math.isinf(c.upper) else c.upper
        rules.append(Rule((c.fa, c.en), ("range", "share_used", lo, up), _leaflet(S.ESTATE_STYLE, c.colour)))
        lo = up
    return LayerStyle("estates", rules, label_field="name")


def _zone_style(name: str, gdf: pd.DataFrame) -> LayerStyle:
    """Zones or plots by the environmental categories present."""
    base = S.ZONE_STYLE if name == "zones" else S.PLOT_STYLE
    present = sorted({str(v) for v in gdf["env_cat"].dropna()}, key=S.env_order) if "env_cat" in gdf else []
    rules = []
    for k, v in enumerate(present):
        extra = (("(کم‌مزاحمت‌ترین)", " (least nuisance)") if k == 0 else
                 ("(پرمزاحمت‌ترین)", " (most nuisance)") if k == len(present) - 1 and len(present) > 1 else ("", ""))
        rules.append(Rule((f"رده {v} {extra[0]}".strip(), f"env. category {v}{extra[1]}"), ("eq", "env_cat", v),
                          _leaflet(base, S.ENV_COLOURS.get(v, S.ENV_DEFAULT))))
    rules.append(Rule(("بدون رده", "no env. category"), ("else",), _leaflet(base, S.ENV_DEFAULT)))
    return LayerStyle(name, rules, shown=name == "zones")


def _relocation_style(gdf: pd.DataFrame) -> LayerStyle:
    """Businesses: the unassigned by the reasons present, the assigned (hidden when the project opens)."""
    from ..relocation.reasons import REASON_CODES

    found = set(gdf["reason_code"].dropna().astype(str)) if "reason_code" in gdf else set()
    rules = [Rule((REASON_CODES[c][1], REASON_CODES[c][0]), ("eq", "reason_code", c),
                  Symbol("marker", col, 1.0, _MARKER_OUTLINE, 1.0, size=8.0))
             for c, col in S.REASON_COLOURS.items() if c in found and c in REASON_CODES]
    rules.append(Rule(("تخصیص‌یافته", "assigned"), ("else",), Symbol("marker", S.ASSIGNED_COLOUR, 1.0, None, 0.0,
                                                                    size=4.0), shown=False))
    return LayerStyle("relocation", rules)


def _flow_style() -> LayerStyle:
    """Flows, their width by the businesses moved."""
    sym = Symbol("line", S.FLOW_COLOUR, S.FLOW_OPACITY, stroke_width=1.0,
                 width_expr=('1 + 1.5 * ln(1 + coalesce("units", 0))',
                             ("Add", 1, ("Mul", 1.5, ("Function", "log", ("Add", 1, ("Property", "units")))))))
    return LayerStyle("flows", [Rule(("جریان جابجایی", "businesses moved (width)"), None, sym)])


#: the layers drawn with one rule, by name
_ONE_RULE: dict[str, Callable[[], LayerStyle]] = {
    "sites": lambda: LayerStyle("sites", [Rule(("سایت پیشنهادی", "proposed estate site"), None,
                                               _leaflet(S.SITE_STYLE))], label_field="site_id"),
    "clusters": lambda: LayerStyle("clusters", [Rule(("خوشه یک زنجیره ارزش", "cluster of one value chain"), None,
                                                     _leaflet(S.CLUSTER_STYLE))], shown=False),
    "study_area": lambda: LayerStyle("study_area", [Rule(("مرز محدوده", "boundary of the study"), None,
                                                         _leaflet(S.STUDY_AREA_STYLE))]),
    "flows": _flow_style,
}


# ---- QGIS expressions and OGC filters ------------------------------------------------------------


def _qstr(v: str) -> str:
    """A QGIS expression string literal."""
    return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'"


def _qfilter(where: tuple[Any, ...] | None) -> str | None:
    if where is None:
        return None
    if where[0] == "else":
        return "ELSE"
    if where[0] == "eq":
        return f'"{where[1]}" = {_qstr(str(where[2]))}'
    _, f, lo, up = where
    parts = ([f'"{f}" > {lo:g}'] if lo is not None else []) + ([f'"{f}" <= {up:g}'] if up is not None else [])
    return " AND ".join(parts)


OGC = "http://www.opengis.net/ogc"
SE = "http://www.opengis.net/se"
SLD = "http://www.opengis.net/sld"
ET.register_namespace("", SLD)
ET.register_namespace("se", SE)
ET.register_namespace("ogc", OGC)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")


def _ogc_expr(parent: ET.Element, e: Any) -> None:
    if isinstance(e, tuple) and e[0] == "Property":
        ET.SubElement(parent, f"{{{OGC}}}PropertyName").text = e[1]
    elif isinstance(e, tuple) and e[0] == "Function":
        fn = ET.SubElement(parent, f"{{{OGC}}}Function", name=e[1])
        for a in e[2:]:
            _ogc_expr(fn, a)
    elif isinstance(e, tuple):
        op = ET.SubElement(parent, f"{{{OGC}}}{e[0]}")
        for a in e[1:]:
            _ogc_expr(op, a)
    else:
        ET.SubElement(parent, f"{{{OGC}}}Literal").text = f"{e:g}" if isinstance(e, float) else str(e)


def _ogc_filter(parent: ET.Element, where: tuple[Any, ...]) -> None:
    if where[0] == "else":  # SLD's ElseFilter
        ET.SubElement(parent, f"{{{SE}}}ElseFilter")
        return
    flt = ET.SubElement(parent, f"{{{OGC}}}Filter")
    if where[0] == "eq":
        cmp = ET.SubElement(flt, f"{{{OGC}}}PropertyIsEqualTo")
        ET.SubElement(cmp, f"{{{OGC}}}PropertyName").text = where[1]
        ET.SubElement(cmp, f"{{{OGC}}}Literal").text = str(where[2])
        return
    _, f, lo, up = where
    conds = ([("PropertyIsGreaterThan", lo)] if lo is not None else []) + \
        ([("PropertyIsLessThanOrEqualTo", up)] if up is not None else [])
    host = ET.SubElement(flt, f"{{{OGC}}}And") if len(conds) > 1 else flt
    for op, v in conds:
        cmp = ET.SubElement(host, f"{{{OGC}}}{op}")
        ET.SubElement(cmp, f"{{{OGC}}}PropertyName").text = f
        ET.SubElement(cmp, f"{{{OGC}}}Literal").text = f"{v:g}"


# ---- QML -----------------------------------------------------------------------------------------


def _opts(parent: ET.Element, props: dict[str, str]) -> None:
    """A symbol layer's properties, written both ways QGIS reads them (``Option`` map and ``prop``)."""
    m = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(m, "Option", name=k, type="QString", value=v)
    for k, v in props.items():
        ET.SubElement(parent, "prop", k=k, v=v)


def _dd(parent: ET.Element, props: dict[str, str]) -> None:
    """Data-defined properties (``{property key: expression}``)."""
    d = ET.SubElement(parent, "data_defined_properties")
    m = ET.SubElement(d, "Option", type="Map")
    ET.SubElement(m, "Option", name="name", type="QString", value="")
    if props:
        p = ET.SubElement(m, "Option", name="properties", type="Map")
        for k, expr in props.items():
            q = ET.SubElement(p, "Option", name=k, type="Map")
            ET.SubElement(q, "Option", name="active", type="bool", value="true")
            ET.SubElement(q, "Option", name="expression", type="QString", value=expr)
            ET.SubElement(q, "Option", name="type", type="int", value="3")
    else:
        ET.SubElement(m, "Option", name="properties")
    ET.SubElement(m, "Option", name="type", type="QString", value="collection")


def _qml_symbol(parent: ET.Element, name: str, s: Symbol) -> None:
    sym = ET.SubElement(parent, "symbol", name=name, type=s.kind, alpha="1", clip_to_extent="1", force_rhr="0")
    _dd(sym, {})
    if s.kind == "fill":
        lay = ET.SubElement(sym, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
        _opts(lay, {"color": _rgba(s.colour, s.opacity), "joinstyle": "round",
                    "outline_color": _rgba(s.stroke or s.colour), "outline_style": "dash" if s.dash else "solid",
                    "outline_width": f"{s.stroke_width:g}", "outline_width_unit": "Pixel", "style": "solid"})
        _dd(lay, {})
    elif s.kind == "line":
        lay = ET.SubElement(sym, "layer", {"class": "SimpleLine", "enabled": "1", "locked": "0", "pass": "0"})
        _opts(lay, {"capstyle": "round", "joinstyle": "round", "line_color": _rgba(s.colour, s.opacity),
                    "line_style": "dash" if s.dash else "solid", "line_width": f"{s.stroke_width:g}",
                    "line_width_unit": "Pixel"})
        _dd(lay, {"outlineWidth": s.width_expr[0]} if s.width_expr else {})
    else:
        lay = ET.SubElement(sym, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"})
        _opts(lay, {"color": _rgba(s.colour, s.opacity), "name": "circle",
                    "outline_color": _rgba(s.stroke or s.colour), "outline_style": "solid" if s.stroke else "no",
                    "outline_width": f"{s.stroke_width:g}", "outline_width_unit": "Pixel", "size": f"{s.size:g}",
                    "size_unit": "Pixel"})
        _dd(lay, {})


def _geom_type(kind: str) -> str:
    return {"marker": "0", "line": "1", "fill": "2"}[kind]


def qml_elements(style: LayerStyle, lang: str) -> list[ET.Element]:
    """The elements of a layer's QML that a project's ``maplayer`` holds too: the renderer, the labels,
    opacity and blending."""
    r = ET.Element("renderer-v2", type="RuleRenderer", symbollevels="0", enableorderby="0", forceraster="0",
                   referencescale="-1")
    rules = ET.SubElement(r, "rules", key="{siteplan-root}")
    for i, rule in enumerate(style.rules):
        attrs = {"key": f"{{siteplan-{style.name}-{i}}}", "symbol": str(i), "label": label(rule.label, lang)}
        flt = _qfilter(rule.where)
        if flt is not None:
            attrs["filter"] = flt
        if not rule.shown:
            attrs["checkstate"] = "0"
        ET.SubElement(rules, "rule", attrs)
    syms = ET.SubElement(r, "symbols")
    for i, rule in enumerate(style.rules):
        _qml_symbol(syms, str(i), rule.symbol)
    out = [r]
    if style.label_field:
        lab = ET.Element("labeling", type="simple")
        st = ET.SubElement(lab, "settings", calloutType="simple")
        ET.SubElement(st, "text-style", fieldName=style.label_field, isExpression="0", fontSize="9",
                      fontSizeUnit="Point", textColor="0,0,0,255", fontWeight="75", textOpacity="1",
                      namedStyle="Bold", fontFamily="Vazirmatn, DejaVu Sans")
        ET.SubElement(st, "text-buffer", bufferDraw="1", bufferSize="1", bufferSizeUnits="MM",
                      bufferColor="255,255,255,255", bufferOpacity="0.8")
        ET.SubElement(st, "placement", placement="0" if style.rules[0].symbol.kind == "fill" else "1",
                      centroidInside="1", centroidWhole="0")
        ET.SubElement(st, "rendering", obstacle="1", scaleVisibility="0", drawLabels="1", displayAll="0")
        out.append(lab)
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerOpacity", "1")):
        e = ET.Element(tag)
        e.text = text
        out.append(e)
    lg = ET.Element("layerGeometryType")
    lg.text = _geom_type(style.rules[0].symbol.kind)
    out.append(lg)
    return out


def xml_text(root: ET.Element, doctype: str = "") -> str:
    """``root`` as indented XML text after ``doctype``, ending with a line feed."""
    ET.indent(root, " ")
    return doctype + ET.tostring(root, encoding="unicode") + "\n"


def to_qml(style: LayerStyle, lang: str) -> str:
    """A layer's QML (QGIS style file) in the report's language ``lang``."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling|Rendering",
                      labelsEnabled="1" if style.label_field else "0")
    root.extend(qml_elements(style, lang))
    return xml_text(root, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")


# ---- SLD -----------------------------------------------------------------------------------------


def _param(parent: ET.Element, name: str, value: Any) -> ET.Element:
    p = ET.SubElement(parent, f"{{{SE}}}SvgParameter", name=name)
    if isinstance(value, tuple):
        _ogc_expr(p, value)
    else:
        p.text = str(value)
    return p


def _sld_symbol(rule_el: ET.Element, s: Symbol) -> None:
    def stroke(parent: ET.Element, colour: str, width: Any, opacity: float = 1.0) -> None:
        st = ET.SubElement(parent, f"{{{SE}}}Stroke")
        _param(st, "stroke", hex_colour(colour))
        if opacity < 1:
            _param(st, "stroke-opacity", f"{opacity:g}")
        _param(st, "stroke-width", width if isinstance(width, tuple) else f"{width:g}")
        _param(st, "stroke-linejoin", "round")
        if s.dash:
            _param(st, "stroke-dasharray", "4 4")

    if s.kind == "fill":
        ps = ET.SubElement(rule_el, f"{{{SE}}}PolygonSymbolizer", uom="http://www.opengeospatial.org/se/units/pixel")
        fill = ET.SubElement(ps, f"{{{SE}}}Fill")
        _param(fill, "fill", hex_colour(s.colour))
        _param(fill, "fill-opacity", f"{s.opacity:g}")
        stroke(ps, s.stroke or s.colour, s.stroke_width)
    elif s.kind == "line":
        ls = ET.SubElement(rule_el, f"{{{SE}}}LineSymbolizer", uom="http://www.opengeospatial.org/se/units/pixel")
        stroke(ls, s.colour, s.width_expr[1] if s.width_expr else s.stroke_width, s.opacity)
    else:
        pt = ET.SubElement(rule_el, f"{{{SE}}}PointSymbolizer", uom="http://www.opengeospatial.org/se/units/pixel")
        g = ET.SubElement(pt, f"{{{SE}}}Graphic")
        mk = ET.SubElement(g, f"{{{SE}}}Mark")
        ET.SubElement(mk, f"{{{SE}}}WellKnownName").text = "circle"
        fill = ET.SubElement(mk, f"{{{SE}}}Fill")
        _param(fill, "fill", hex_colour(s.colour))
        if s.stroke:
            st = ET.SubElement(mk, f"{{{SE}}}Stroke")
            _param(st, "stroke", hex_colour(s.stroke))
            _param(st, "stroke-width", f"{s.stroke_width:g}")
        ET.SubElement(g, f"{{{SE}}}Size").text = f"{s.size:g}"


def to_sld(style: LayerStyle, lang: str) -> str:
    """A layer's SLD 1.1 (Symbology Encoding) style in the report's language ``lang``; a class hidden
    when the project opens (assigned businesses) is left out."""
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor", {
        "version": "1.1.0",
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
            "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"})
    nl = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    ET.SubElement(nl, f"{{{SE}}}Name").text = style.name
    us = ET.SubElement(nl, f"{{{SLD}}}UserStyle")
    ET.SubElement(us, f"{{{SE}}}Name").text = style.name
    fts = ET.SubElement(us, f"{{{SE}}}FeatureTypeStyle")
    shown = [r for r in style.rules if r.shown]
    for rule in shown:
        r = ET.SubElement(fts, f"{{{SE}}}Rule")
        ET.SubElement(r, f"{{{SE}}}Name").text = label(rule.label, lang)
        d = ET.SubElement(r, f"{{{SE}}}Description")
        ET.SubElement(d, f"{{{SE}}}Title").text = label(rule.label, lang)
        if rule.where is not None:
            _ogc_filter(r, rule.where)
        _sld_symbol(r, rule.symbol)
    return xml_text(root, '<?xml version="1.0" encoding="UTF-8"?>\n')


def styles_table(layers: Iterable[tuple[str, pd.DataFrame]], lang: str) -> pd.DataFrame:
    """The ``layer_styles`` table (QGIS's schema) for the layers siteplan styles: one default style per
    layer, QML and SLD, fixed ``update_time`` (:data:`STYLE_DATE`)."""
    rows = []
    for name, gdf in layers:
        st = layer_rules(name, gdf)
        if st is None:
            continue
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": GEOM_COLUMN, "styleName": name, "styleQML": to_qml(st, lang),
                     "styleSLD": to_sld(st, lang), "useAsDefault": True,
                     "description": label(S.TITLES.get(name, (name, name)), lang) + " (siteplan)",
                     "owner": "", "ui": None, "update_time": STYLE_DATE})
    return pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                                       "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
                                       "ui", "update_time"])
