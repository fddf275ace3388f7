"""Run by Debian's system python with QGIS's bindings (tests/test_qgis.py): open a siteplan project
headless, report each layer (valid, renderer, the style QGIS loads from the GeoPackage on its own),
and render the project's initial view to a PNG with QGIS's map renderer. Prints one JSON object.

    python3 qgis_check.py PLAN.qgz [PNG [WIDTH [XMIN YMIN XMAX YMAX]]]
    python3 qgis_check.py estates PLAN.qgz [WIDTH]    # each estate's rendered colour
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsCoordinateTransform, QgsLayerTreeLayer,  # noqa: E402
                       QgsMapRendererParallelJob, QgsMapSettings, QgsProject, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def render(layers: list, crs, ext: QgsRectangle, width: int, png: str = "", labels: bool = True):
    """Render ``layers`` over ``ext`` with QGIS's parallel map renderer; returns (image, map settings)."""
    ms = QgsMapSettings()
    ms.setFlag(QgsMapSettings.DrawLabeling, labels)
    ms.setLayers(layers)
    ms.setDestinationCrs(crs)
    ms.setBackgroundColor(QColor(255, 255, 255))
    h = max(1, int(width * ext.height() / ext.width())) if ext.width() > 0 else width
    ms.setOutputSize(QSize(width, h))
    ms.setExtent(ext)
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    if png:
        img.save(png, "PNG")
    return img, ms


def estates(qgz: str, width: int) -> dict:
    """Each estate rendered alone (the project's estates layer, zoomed to it): the colour of the pixel
    at a point inside it, with its share of capacity used."""
    proj = QgsProject.instance()
    proj.read(qgz)
    lay = proj.mapLayer("siteplan_estates")
    tr = QgsCoordinateTransform(lay.crs(), proj.crs(), proj)
    out = []
    for f in lay.getFeatures():
        g = f.geometry()
        g.transform(tr)
        p = g.pointOnSurface().asPoint()
        box = g.boundingBox()
        box.grow(0.2 * max(box.width(), box.height()))
        img, ms = render([lay], proj.crs(), box, width, labels=False)
        px = ms.mapToPixel().transform(p)
        c = img.pixelColor(int(px.x()), int(px.y()))
        out.append({"estate_id": f["estate_id"], "share_used": f["share_used"], "rgb": [c.red(), c.green(), c.blue()]})
    return {"read": True, "estates": out}


def main(qgz: str, png: str, width: int) -> dict:
    proj = QgsProject.instance()
    ok = proj.read(qgz)
    out = {"read": ok, "crs": proj.crs().authid(), "layers": [], "groups": []}
    root = proj.layerTreeRoot()
    for g in root.children():
        out["groups"].append({"name": g.name(), "layers": [c.layer().id() for c in g.children()
                                                          if isinstance(c, QgsLayerTreeLayer) and c.layer()]})
    for lid, lay in sorted(proj.mapLayers().items()):
        item = {"id": lid, "name": lay.name(), "valid": lay.isValid(), "type": int(lay.type()),
                "source": lay.source(), "visible": bool(root.findLayer(lid) and root.findLayer(lid).isVisible())}
        if isinstance(lay, QgsVectorLayer):
            r = lay.renderer()
            item["renderer"] = r.type() if r else None
            item["features"] = lay.featureCount()
            item["legend"] = [s.label() for s in r.legendSymbolItems()] if r else []
            item["fields"] = {f.name(): f.typeName() for f in lay.fields()}
            # the layer on its own, straight from the GeoPackage: QGIS loads its default style from layer_styles
            alone = QgsVectorLayer(lay.source(), "alone", "ogr")
            item["alone_renderer"] = alone.renderer().type() if alone.renderer() else None
            item["alone_legend"] = [s.label() for s in alone.renderer().legendSymbolItems()] if alone.renderer() else []
            if r is not None and r.type() == "RuleRenderer":
                item["rules"] = [[ru.label(), ru.filterExpression(), ru.symbol().color().name() if ru.symbol() else None,
                                  ru.active()] for ru in r.rootRule().children()]
        else:
            item["renderer"] = lay.renderer().type() if lay.renderer() else None
        out["layers"].append(item)
    view = proj.viewSettings().defaultViewExtent()
    ext = QgsRectangle(view) if not view.isEmpty() else QgsRectangle()
    out["extent"] = [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]
    if png:
        layers = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer()]
        if len(sys.argv) > 7:  # a view of its own: XMIN YMIN XMAX YMAX in the project's CRS
            ext = QgsRectangle(*(float(v) for v in sys.argv[4:8]))
        img, ms = render(layers, proj.crs(), ext, width, png)
        out["png"] = True
        out["size"] = [img.width(), img.height()]
    return out


if __name__ == "__main__":
    APP = QgsApplication([], False)  # module-level: it must outlive every layer
    APP.initQgis()
    if sys.argv[1] == "estates":
        res = estates(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        res = main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "", int(sys.argv[3]) if len(sys.argv) > 3 else 800)
    print(json.dumps(res), flush=True)
    QgsProject.instance().clear()
    os._exit(0)  # skip the bindings' teardown (it may crash on exit; the result is already printed)
