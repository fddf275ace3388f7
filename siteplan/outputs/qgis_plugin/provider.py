"""The ``siteplan`` Processing provider: Run plan, Validate scenario, Explain place, Compare runs."""

from typing import Any

from qgis.core import QgsProcessingProvider


class SiteplanProvider(QgsProcessingProvider):
    """siteplan's algorithms (ids ``siteplan:runplan``, ``siteplan:validate``, ``siteplan:explain``,
    ``siteplan:compare``)."""

    def id(self) -> str:
        return "siteplan"

    def name(self) -> str:
        return "siteplan"

    def longName(self) -> str:  # noqa: N802  (QGIS's name)
        return "siteplan: relocating nuisance guilds into industrial estates"

    def icon(self) -> Any:
        return QgsProcessingProvider.icon(self)

    def loadAlgorithms(self) -> None:  # noqa: N802  (QGIS's name)
        from .algorithms import CompareRuns, ExplainPlace, RunPlan, ValidateScenario

        for alg in (RunPlan(), ValidateScenario(), ExplainPlace(), CompareRuns()):
            self.addAlgorithm(alg)
