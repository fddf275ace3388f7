"""The plugin object QGIS loads: registers the siteplan Processing provider."""

from typing import Any

from qgis.core import QgsApplication


class SiteplanPlugin:
    """Adds the ``siteplan`` provider to the Processing toolbox (and to ``qgis_process``)."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.provider: Any = None

    def initProcessing(self) -> None:  # noqa: N802  (QGIS's name)
        """Register the provider (QGIS calls this for plugins with ``hasProcessingProvider=yes``)."""
        from .provider import SiteplanProvider

        if self.provider is None:
            self.provider = SiteplanProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802  (QGIS's name)
        """Called when QGIS's window opens."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider when the plugin is disabled."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
