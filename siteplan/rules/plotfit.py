"""Plot fitting: the plot each business needs and how many of an estate's free plots fit it.

Low in the pipeline because the allocation's capacity rows on a plot estate
(:func:`siteplan.relocation.model.build_model`) and the zoning of plots
(:mod:`siteplan.zoning.plots`, which re-exports these names) both read them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PLOT_FIT_SLACK_M2", "plot_need_m2", "plots_that_fit"]

#: m²: a plot fits a business when its area is at least the business's plot need less this
PLOT_FIT_SLACK_M2 = 1e-6


def plot_need_m2(land_m2: np.ndarray, category: np.ndarray, plot_m2: dict[str, float], land_norm_m2: dict[str, float]
                 ) -> np.ndarray:
    """The plot each business needs: its net land (rounded to 0.1 m², as relocation.csv states it)
    scaled by its category's plot norm over its land norm (``plot_m2 / land_m2`` of the catalogue), so a
    business of the catalogue's typical size needs exactly the category's standard plot; rounded to
    0.01 m². A category without norms keeps its land.

    Parameters
    ----------
    land_m2
        Net land of each business (m²).
    category
        Category code of each business.
    plot_m2, land_norm_m2
        The catalogue's ``plot_m2`` and ``land_m2`` per category.

    Returns
    -------
    numpy.ndarray
        Plot need per business (m²).
    """
    ratio = np.array([plot_m2.get(c, np.nan) / land_norm_m2[c] if land_norm_m2.get(c) else np.nan
                      for c in category], dtype=float)
    land = np.round(np.asarray(land_m2, dtype=float), 1)
    return np.round(land * np.where(np.isfinite(ratio), ratio, 1.0), 2)


def plots_that_fit(need_m2: np.ndarray, plot_areas_m2: np.ndarray) -> np.ndarray:
    """How many of an estate's free plots fit each need (a plot fits when its area is at least the
    need). The plots that fit a business are the largest ones, so the sets are nested, and a set of
    businesses can all have a plot exactly when, for every k, at most k of them fit only k plots or
    fewer (Hall's condition): the allocation's capacity rows on a plot estate
    (:func:`siteplan.relocation.model.build_model`).

    Parameters
    ----------
    need_m2
        The land each business needs, in m².
    plot_areas_m2
        The areas of the estate's free plots, in m² (any order).

    Returns
    -------
    numpy.ndarray
        For each need, the number of plots whose area is at least the need (less a slack of
        :data:`PLOT_FIT_SLACK_M2` for rounding).
    """
    a = np.sort(np.asarray(plot_areas_m2, dtype=float))
    return len(a) - np.searchsorted(a, np.asarray(need_m2, dtype=float) - PLOT_FIT_SLACK_M2, side="left")
