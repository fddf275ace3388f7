"""The ``siteplan`` Processing provider: Run plan, Validate scenario, Explain place, Compare runs."""

from typing import Any

from qgis.core import QgsProcessingProvider


class SiteplanProvider(QgsProcessingProvider):
    """siteplan's algorithms (ids ``siteplan:runplan``, ``siteplan:validate``, ``siteplan:explain``,
    ``siteplan:compare``)."""

    def id(self) -> str:
        """The provider's id (QGIS's hook)."""
        return "siteplan"

    def name(self) -> str:
        """The provider's name (QGIS's hook)."""
        return "siteplan"

    def longName(self) -> str:  # noqa: N802  (QGIS's name)
        """The provider's long name (QGIS's hook)."""
        return "siteplan: relocating nuisance guilds into industrial estates"

    def icon(self) -> Any:
        """QGIS's default provider icon."""
        return QgsProcessingProvider.icon(self)

    def loadAlgorithms(self) -> None:  # noqa: N802  (QGIS's name)
        """QGIS's hook: add siteplan's four algorithms."""
        from .algorithms import CompareRuns, ExplainPlace, RunPlan, ValidateScenario

        for alg in (RunPlan(), ValidateScenario(), ExplainPlace(), CompareRuns()):
            self.addAlgorithm(alg)
