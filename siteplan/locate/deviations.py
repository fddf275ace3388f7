"""The suitability's uncertainty per cell: for each category, the standard deviation of its score over the
weights' sensitivity draws (the run's ``suitability/<code>_sd.tif``), from the aggregation the scenario runs
(:func:`siteplan.locate.sensitivity.score_sd` in closed form for WLC, :func:`~siteplan.locate.sensitivity.score_sd_mc`
by Monte Carlo otherwise).

Each raster is as large as the grid and, by Monte Carlo, costs tens of seconds a category, while a run
with ``--reuse`` copies the file of most categories from the earlier run: :class:`ScoreDeviations` computes
a category's raster only when it is asked for it (the pipeline makes one and hands it to the writer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .sensitivity import score_sd, score_sd_mc

if TYPE_CHECKING:
    from ..scoring.prepared import Prepared

__all__ = ["ScoreDeviations", "score_deviations"]


@dataclass(frozen=True, eq=False)
class ScoreDeviations:
    """Each category's per-cell score deviation under the scenario's ``sensitivity`` weight model.

    Parameters
    ----------
    prep
        The prepared run (its criteria, surfaces and scenario).
    seed
        The run's seed (the Monte Carlo draws).
    """

    prep: Prepared = field(repr=False)
    seed: int

    @property
    def codes(self) -> list[str]:
        """The categories with a deviation raster: every category with a surface when the scenario has
        sensitivity draws, else none."""
        return list(self.prep.surfaces) if self.prep.scenario.sensitivity.draws > 0 else []

    def settings(self) -> tuple[dict[str, Any], int]:
        """What a raster depends on beside its category's suitability: the ``sensitivity`` settings and
        the seed (a part of the raster file's key, :meth:`siteplan.outputs.stagecache.StageReuse.surface_file_key`)."""
        return self.prep.scenario.sensitivity.model_dump(mode="json"), self.seed

    def __call__(self, code: str) -> np.ndarray:
        """Category ``code``'s score deviation on the grid, excluded cells NaN.

        Parameters
        ----------
        code
            A category of :attr:`codes`.

        Returns
        -------
        numpy.ndarray
            The grid's shape, float64.
        """
        sc = self.prep.scenario
        s = self.prep.surfaces[code]
        by_name = {c.spec.name: c for c in self.prep.crit}
        layers = [by_name[n].score for n in s.weights]
        weights = np.array(list(s.weights.values()))
        if sc.aggregation.method == "wlc":
            sd = score_sd(layers, weights, sc.sensitivity.concentration)
        else:
            sd = score_sd_mc(layers, weights, sc.sensitivity.concentration, sc.aggregation.method,
                             sc.aggregation.order_weights, draws=sc.sensitivity.draws, seed=self.seed)
        return np.where(s.allowed, sd, np.nan)


def score_deviations(prep: Prepared, seed: int) -> ScoreDeviations:
    """The run's score deviations, each computed when asked for (:class:`ScoreDeviations`).

    Parameters
    ----------
    prep
        The prepared run.
    seed
        The run's seed.

    Returns
    -------
    ScoreDeviations
        Called with a category code, it gives that category's per-cell score standard deviation (NaN
        where not allowed); nothing is computed until then. Its ``codes`` are the categories that have one.
    """
    return ScoreDeviations(prep, seed)
