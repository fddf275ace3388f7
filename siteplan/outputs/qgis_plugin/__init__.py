"""siteplan's QGIS plugin: a Processing provider whose algorithms run siteplan in a subprocess.

Built into a plugin zip by ``siteplan qgis-plugin --out DIR`` (:mod:`siteplan.outputs.qgisplugin`), which adds
``metadata.txt`` and ``siteplan.json`` (the command that runs siteplan). These modules import QGIS's
Python bindings and run inside QGIS (or ``qgis_process``) only; siteplan itself never imports them.
"""

from typing import Any


def classFactory(iface: Any) -> Any:  # noqa: N802  (QGIS's name)
    """QGIS's entry point: the plugin object (``iface`` is ``None`` under ``qgis_process``)."""
    from .plugin import SiteplanPlugin

    return SiteplanPlugin(iface)
