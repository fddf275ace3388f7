"""The QGIS project ``plan.qgz`` that ``siteplan export`` writes beside the GeoPackage: its layers styled
as in the report (:mod:`siteplan.outputs.gisstyle`) and grouped as the report groups them (analysis,
suitability, context), the suitability rasters with the report's colour ramp, the study area as the
initial view. Pure Python (ElementTree); the same run gives the same bytes (zip entries dated
:data:`siteplan.outputs.gisstyle.ZIP_DATE`).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from ..common.atomic import atomic_path
from ..report import styles as S  # noqa: N812 - S: the style definitions, read on every line
from .gisstyle import QGIS_VERSION, ZIP_DATE, LayerStyle, hex_colour, label, layer_rules, qml_elements, xml_text

__all__ = ["write_project", "is_siteplan_qgz", "suitability_ramp", "QGZ_MARKER"]

#: a layer-tree item: (layer id, source, title, shown when the project opens)
_Item = tuple[str, str, str, bool]
#: the project's layer groups, top to bottom
_GROUPS = ("analysis", "suitability", "context")


def _srs(parent: ET.Element, crs: Any) -> None:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    s = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(s, "wkt").text = c.to_wkt()
    auth = c.to_authority()
    ET.SubElement(s, "authid").text = f"{auth[0]}:{auth[1]}" if auth else ""
    ET.SubElement(s, "description").text = c.name


def _extent(parent: ET.Element, tag: str, b: tuple[float, float, float, float]) -> None:
    e = ET.SubElement(parent, tag)
    for k, v in zip(("xmin", "ymin", "xmax", "ymax"), b):
        ET.SubElement(e, k).text = repr(round(float(v), 3))


def _raster_layer(lid: str, source: str, title: str, crs: Any, ramp: list[tuple[float, str, int, str]],
                  opacity: float) -> ET.Element:
    ml = ET.Element("maplayer", type="raster", hasScaleBasedVisibilityFlag="0", styleCategories="AllStyleCategories")
    ET.SubElement(ml, "id").text = lid
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "layername").text = title
    _srs(ET.SubElement(ml, "srs"), crs)
    ET.SubElement(ml, "provider").text = "gdal"
    pipe = ET.SubElement(ml, "pipe")
    rr = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity=f"{opacity:g}",
                       alphaBand="-1", classificationMin=f"{ramp[0][0]:g}", classificationMax=f"{ramp[-1][0]:g}",
                       nodataColor="")
    ET.SubElement(rr, "rasterTransparency")
    mm = ET.SubElement(rr, "minMaxOrigin")
    for k, v in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                 ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mm, k).text = v
    sh = ET.SubElement(ET.SubElement(rr, "rastershader"), "colorrampshader", colorRampType="INTERPOLATED",
                       classificationMode="1", clip="0", minimumValue=f"{ramp[0][0]:g}",
                       maximumValue=f"{ramp[-1][0]:g}")
    for value, colour, alpha, text in ramp:
        ET.SubElement(sh, "item", alpha=str(alpha), value=f"{value:g}", label=text, color=hex_colour(colour))
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(ml, "blendMode").text = "0"
    return ml


def _vector_layer(n: str, g: Any, st: LayerStyle | None, gpkg_name: str,
                  lang: str) -> tuple[ET.Element, _Item]:
    """A GeoPackage layer's ``maplayer`` (its style as in ``layer_styles``) and its layer-tree item."""
    lid = f"siteplan_{n}"
    src = f"./{gpkg_name}|layername={n}"
    ttl = label(S.TITLES.get(n, (n, n)), lang)
    shown = st.shown if st is not None else False
    gtype = str(g.geom_type.dropna().iloc[0]) if len(g) and g.geom_type.notna().any() else "Unknown"
    kind = "Polygon" if "Polygon" in gtype else "Line" if "Line" in gtype else "Point"
    ml = ET.Element("maplayer", type="vector", geometry=kind, wkbType=gtype, autoRefreshEnabled="0",
                    labelsEnabled="1" if st is not None and st.label_field else "0", readOnly="0",
                    simplifyDrawingHints="1", simplifyAlgorithm="0", simplifyDrawingTol="1", simplifyLocal="1",
                    styleCategories="AllStyleCategories", hasScaleBasedVisibilityFlag="0")
    ET.SubElement(ml, "id").text = lid
    ET.SubElement(ml, "datasource").text = src
    ET.SubElement(ml, "layername").text = ttl
    _srs(ET.SubElement(ml, "srs"), g.crs)
    ET.SubElement(ml, "provider", encoding="UTF-8").text = "ogr"
    if st is not None:
        ml.extend(qml_elements(st, lang))
    return ml, (lid, src, ttl, shown)


def _layer_tree(root: ET.Element, by_group: dict[str, list[_Item]], lang: str) -> None:
    """The project's layer tree: the report's groups, each layer shown as the report shows it."""
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for gkey in _GROUPS:
        items = by_group[gkey]
        if not items:
            continue
        grp = ET.SubElement(tree, "layer-tree-group", name=label(S.GROUPS[gkey], lang),
                            checked="Qt::Checked", expanded="0" if gkey == "suitability" else "1")
        ET.SubElement(grp, "customproperties")
        for lid, src, ttl, shown in items:
            lt = ET.SubElement(grp, "layer-tree-layer", id=lid, name=ttl, source=src,
                               providerKey="gdal" if src.endswith(".tif") else "ogr",
                               checked="Qt::Checked" if shown else "Qt::Unchecked", expanded="1" if shown else "0")
            ET.SubElement(lt, "customproperties")


def suitability_ramp() -> list[tuple[float, str, int, str]]:
    """The report's suitability ramp as QGIS colour-ramp items ``(value, colour, alpha, label)``: viridis
    from 0 (low) to 1 (high), more opaque where more suitable (as the report's overlay)."""
    n = len(S.VIRIDIS) - 1
    return [(k / n, f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}", int(40 + 180 * k / n),
             "0 low" if k == 0 else "1 high" if k == n else "") for k, rgb in enumerate(S.VIRIDIS)]


#: the project property (``siteplan/export``) that marks a project ``siteplan export`` wrote, as written
QGZ_MARKER = b'<export type="QString">siteplan export</export>'


def is_siteplan_qgz(path: Path) -> bool:
    """True when ``path`` is a QGIS project ``siteplan export`` wrote: a zip whose ``.qgs`` holds the
    project property ``siteplan/export`` (:func:`write_project`). Any other file is not siteplan's."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".qgs")]
            if len(names) != 1 or z.getinfo(names[0]).file_size > 64 * 2**20:
                return False
            text = z.read(names[0])
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return False
    return QGZ_MARKER in text  # not parsed: the file may be anyone's


def write_project(path: Path, gpkg_name: str, layers: list[tuple[str, Any]], rasters: list[tuple[str, str, str, Path]],
                  crs: Any, extent: tuple[float, float, float, float] | None, lang: str, title: str) -> None:
    """Write ``plan.qgz`` (a zip holding ``plan.qgs``): the GeoPackage's layers styled and grouped as in
    the report (analysis, suitability, context), the suitability rasters with the report's colour ramp,
    the study area as the initial extent. Paths are relative: the project, the GeoPackage and its
    rasters folder move together.

    Parameters
    ----------
    path
        The ``.qgz`` to write (atomically).
    gpkg_name
        The GeoPackage's file name, beside ``path``.
    layers
        ``(name, GeoDataFrame)`` of the GeoPackage's layers, in the GeoPackage's CRS.
    rasters
        ``(id, path relative to the project, title, the file to read)`` of each raster: ``<code>.tif``
        suitability, ``<code>_sd.tif`` its uncertainty (a grey ramp from 0 to the raster's maximum).
    crs
        The project's CRS (the run's working CRS).
    extent
        The study area's bounds in ``crs`` (the initial view), or ``None``.
    lang
        The report's language.
    title
        The project's title.
    """
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION, saveUser="", saveUserFull="",
                      saveDateTime="")
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), crs)
    maplayers, by_group = _vector_layers(layers, gpkg_name, lang)
    for rid, rel, ttl, file in rasters:
        maplayers.append(_raster_file_layer(rid, rel, ttl, file, crs))
        by_group["suitability"].append((rid, f"./{rel}", ttl, False))
    _layer_tree(root, by_group, lang)
    _canvas(root, crs, extent)
    pl = ET.SubElement(root, "projectlayers")
    pl.extend(maplayers)
    order_el = ET.SubElement(root, "layerorder")
    for gkey in _GROUPS:
        for lid, *_ in by_group[gkey]:
            ET.SubElement(order_el, "layer", id=lid)
    _properties(root, crs, extent)
    _write_qgz(path, xml_text(root, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"))


def _vector_layers(layers: list[tuple[str, Any]], gpkg_name: str,
                   lang: str) -> tuple[list[ET.Element], dict[str, list[_Item]]]:
    """The GeoPackage layers' ``maplayer`` elements, in the order the project lists them, and the layer
    tree's items by group (``suitability`` still empty)."""
    styled = [(n, g, layer_rules(n, g)) for n, g in layers]
    by_group: dict[str, list[_Item]] = {"analysis": [], "suitability": [], "context": []}
    order = ["sites", "zones", "plots", "estates", "relocation", "flows", "clusters"]
    maplayers: list[ET.Element] = []
    for n in sorted((n for n, _, _ in styled), key=lambda n: order.index(n) if n in order else len(order)):
        g, st = next((g, st) for m, g, st in styled if m == n)
        ml, item = _vector_layer(n, g, st, gpkg_name, lang)
        by_group["context" if n == "study_area" else "analysis"].append(item)
        maplayers.append(ml)
    return maplayers, by_group


def _raster_file_layer(rid: str, rel: str, ttl: str, file: Path, crs: Any) -> ET.Element:
    """A raster's ``maplayer``: suitability with the report's ramp, an uncertainty (``_sd``) grey from 0
    to the raster's maximum."""
    sd = rid.endswith("_sd")
    if sd:
        import rasterio

        with rasterio.open(file) as src_r:
            a = src_r.read(1, masked=True)
        top = float(a.max()) if a.count() else 1.0
        ramp = [(0.0, "#ffffff", 255, "0"), (round(top, 6) or 1.0, "#000000", 255, f"{top:.3g}")]
    else:
        ramp = suitability_ramp()
    return _raster_layer(rid, f"./{rel}", ttl, crs, ramp, 1.0 if sd else S.SUITABILITY_OPACITY)


def _canvas(root: ET.Element, crs: Any, extent: tuple[float, float, float, float] | None) -> None:
    """The map canvas: units, the study area padded by 3 % as the extent, the CRS."""
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    if extent is not None:
        pad = 0.03 * max(extent[2] - extent[0], extent[3] - extent[1])
        _extent(canvas, "extent", (extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad))
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), crs)


def _properties(root: ET.Element, crs: Any, extent: tuple[float, float, float, float] | None) -> None:
    """The project's properties (relative paths, the CRS on, siteplan's marker) and its default view."""
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    # QGIS reads the project's CRS only when this flag is on
    ET.SubElement(ET.SubElement(props, "SpatialRefSys"), "ProjectionsEnabled", type="int").text = "1"
    # a project property QGIS keeps: what export --overwrite checks before replacing the file
    ET.SubElement(ET.SubElement(props, "siteplan"), "export", type="QString").text = "siteplan export"
    if extent is not None:  # the initial view when the project opens; also the project's default view extent
        ve = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
        dv = ET.SubElement(ve, "DefaultViewExtent", xmin=repr(round(float(extent[0]), 3)),
                           ymin=repr(round(float(extent[1]), 3)), xmax=repr(round(float(extent[2]), 3)),
                           ymax=repr(round(float(extent[3]), 3)))
        _srs(dv, crs)


def _write_qgz(path: Path, text: str) -> None:
    """Write ``text`` as the one ``.qgs`` entry of the zip ``path`` (fixed date), atomically."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, text.encode("utf-8"))
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
