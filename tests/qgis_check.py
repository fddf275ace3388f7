"""Run by Debian's system python with QGIS's bindings (tests/test_qgis.py): open a siteplan project
headless, report each layer (valid, renderer, the style QGIS loads from the GeoPackage on its own),
and render the project's initial view to a PNG with QGIS's map renderer. Prints one JSON object."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsLayerTreeLayer, QgsMapRendererParallelJob, QgsMapSettings,  # noqa: E402
                       QgsProject, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


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
        ms = QgsMapSettings()
        ms.setLayers([n.layer() for n in root.findLayers() if n.isVisible() and n.layer()])
        ms.setDestinationCrs(proj.crs())
        ms.setBackgroundColor(QColor(255, 255, 255))
        h = int(width * ext.height() / ext.width()) if ext.width() > 0 else width
        ms.setOutputSize(QSize(width, h))
        ms.setExtent(ext)
        job = QgsMapRendererParallelJob(ms)
        job.start()
        job.waitForFinished()
        img = job.renderedImage()
        out["png"] = img.save(png, "PNG")
        out["size"] = [img.width(), img.height()]
        # the map pixel of a few points in the project's CRS (for the pixel check)
        out["map_to_pixel"] = {"x0": ms.visibleExtent().xMinimum(), "y1": ms.visibleExtent().yMaximum(),
                               "mupp": ms.mapUnitsPerPixel()}
    return out


if __name__ == "__main__":
    APP = QgsApplication([], False)  # module-level: it must outlive every layer
    APP.initQgis()
    res = main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "", int(sys.argv[3]) if len(sys.argv) > 3 else 800)
    print(json.dumps(res), flush=True)
    QgsProject.instance().clear()
    os._exit(0)  # skip the bindings' teardown (it may crash on exit; the result is already printed)
