"""``siteplan qgis-plugin``: build siteplan's QGIS plugin zip (a Processing provider).

The zip follows QGIS's plugin conventions: one top-level folder :data:`PLUGIN` holding ``__init__.py``
with ``classFactory``, ``metadata.txt`` (``hasProcessingProvider=yes``, so that ``qgis_process`` loads
it too) and the provider's modules (the sources in :mod:`siteplan.outputs.qgis_plugin`), plus ``siteplan.json``:
the command the plugin runs siteplan with — the Python that built the zip, ``-m siteplan``, and the
folder this siteplan is imported from — so the plugin runs the siteplan that built it, in its own
Python (QGIS's Python need not have siteplan's dependencies). Install it with QGIS's *Plugins › Install
from ZIP*, or unzip it into a profile's ``python/plugins`` folder. The same siteplan, Python and folder
give the same bytes (entries sorted, dated :data:`siteplan.outputs.gisstyle.ZIP_DATE`).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

from .._version import __version__
from ..common.atomic import atomic_path
from .gisstyle import ZIP_DATE

__all__ = ["PLUGIN", "build_plugin", "metadata"]

#: the plugin's folder (its Python package name in QGIS)
PLUGIN = "siteplan_qgis"
_SOURCES = ("__init__.py", "plugin.py", "provider.py", "algorithms.py", "runner.py")


def metadata() -> str:
    """The plugin's ``metadata.txt`` (QGIS's plugin manager and ``qgis_process`` read it)."""
    return "\n".join([
        "[general]",
        "name=siteplan",
        "qgisMinimumVersion=3.22",
        ("description=Siting and relocation of nuisance guilds into industrial estates (siteplan), from the "
         "Processing toolbox"),
        f"version={__version__}",
        "author=siteplan contributors",
        "email=siteplan@users.noreply.github.com",
        ("about=Runs siteplan (installed separately) in a subprocess: Run plan, Validate scenario, Explain "
         "place and Compare runs, with progress and cancel; Run plan loads the styled GeoPackage and its "
         "layers grouped as in the report."),
        "tracker=https://github.com/siteplan/siteplan/issues",
        "repository=https://github.com/siteplan/siteplan",
        "homepage=https://github.com/siteplan/siteplan",
        "tags=processing,planning,site selection,industrial estates,iran",
        "category=Analysis",
        "hasProcessingProvider=yes",
        "experimental=False",
        "deprecated=False",
        "",
    ])


def build_plugin(out_dir: str | Path, *, python: str | None = None) -> Path:
    """Write ``<out_dir>/siteplan_qgis.zip``, atomically.

    Parameters
    ----------
    out_dir
        The folder to write the zip into (made when missing).
    python
        The Python the plugin runs siteplan with (default: this one, :data:`sys.executable`).

    Returns
    -------
    pathlib.Path
        The zip written.
    """
    src = Path(__file__).with_name("qgis_plugin")
    package = Path(__file__).resolve().parent.parent  # siteplan/ (this module is siteplan/outputs/qgisplugin.py)
    files = {f"{PLUGIN}/{name}": (src / name).read_bytes() for name in _SOURCES}
    files[f"{PLUGIN}/metadata.txt"] = metadata().encode("utf-8")
    cfg = {"command": [python or sys.executable, "-m", "siteplan"],
           "pythonpath": str(package.parent), "siteplan": __version__}
    files[f"{PLUGIN}/siteplan.json"] = (json.dumps(cfg, indent=1) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in [f"{PLUGIN}/", *sorted(files)]:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o40755 << 16) | 0x10 if name.endswith("/") else 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
            z.writestr(info, b"" if name.endswith("/") else files[name])
    target = Path(out_dir) / f"{PLUGIN}.zip"
    with atomic_path(target) as tmp:
        tmp.write_bytes(buf.getvalue())
    return target
