"""The vector answer of the siting rules (:meth:`siteplan.rules.ruleset.RuleSet.check`), light enough for
``siteplan explain RUN_DIR`` (numpy, pandas and shapely only: no GDAL or geopandas).

:class:`Rule` lives here so that a finished run's rules can be rebuilt from its ``explain/`` data and
asked through the very code the run asked (:mod:`siteplan.explain`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..grid import Grid

__all__ = ["Rule", "RuleGroup", "check_rules", "rule_arrays", "slope_at", "CHECK_COLUMNS"]

RuleGroup = Literal["separation", "doe", "slope", "constraint", "study_area"]
#: the columns of :func:`check_rules`
CHECK_COLUMNS = ["id", "rule_id", "group", "required_m", "actual_m", "passed", "description"]


@dataclass(frozen=True)
class Rule:
    """A siting rule: the category must keep ``min_m`` metres from the ``target`` features.

    ``target`` names a feature set resolved by :func:`siteplan.rules.ruleset.target_geoms` (``homes``,
    ``homes_mixed``, ``sensitive``, ``roads_major``, ``roads_main``, ``nature``, ``water``, ``wells``, or
    ``constraint:<kind>``); ``min_m = 0`` excludes the target's interior only. A ``max_slope`` rule
    (target ``slope``) excludes land steeper than ``max_pct`` percent; the ``study_area`` rule keeps
    everything inside the study area. ``group`` says what kind of rule it is (the report and explain
    read it instead of the id).

    Parameters
    ----------
    rule_id
        The rule's id (e.g. ``VNG-3.2-HOMES``, ``DOE1378-ب-settlements``, ``SLOPE-MAX``).
    category
        The category code the rule applies to.
    target
        The feature set the rule keeps away from (see above).
    min_m
        The least distance in metres from the target (0: outside its interior only).
    description
        The rule in words, for the report and ``siteplan explain``.
    source
        Where the rule comes from (the standard or the scenario).
    status
        ``confirmed`` (a published standard), ``assumption`` (a default to review), ``override`` or
        ``scenario`` (set by the scenario or its layers).
    kind
        ``distance``, ``max_slope`` or ``study_area``.
    max_pct
        For a ``max_slope`` rule: the steepest slope allowed, in percent; None otherwise.
    group
        ``separation``, ``doe``, ``slope``, ``constraint`` or ``study_area``.
    """

    rule_id: str
    category: str
    target: str
    min_m: float
    description: str
    source: str
    status: Literal["confirmed", "assumption", "override", "scenario"] = "confirmed"
    kind: Literal["distance", "max_slope", "study_area"] = "distance"
    max_pct: float | None = None
    group: RuleGroup = "separation"


def slope_at(slope: np.ndarray | None, grid: Grid | None, geoms: np.ndarray) -> np.ndarray:
    """Slope (%) of the grid cell under each geometry's representative point (NaN off the grid or
    without a slope raster)."""
    s = np.full(len(geoms), np.nan)
    if slope is not None and grid is not None and len(geoms):
        pts = shapely.point_on_surface(np.asarray(geoms))
        r, c = grid.rowcol(shapely.get_x(pts), shapely.get_y(pts))
        ok = (r >= 0) & (r < grid.height) & (c >= 0) & (c < grid.width)
        s[ok] = slope[r[ok], c[ok]]
    return s


def check_rules(rules: tuple[Rule, ...] | list[Rule], geoms: np.ndarray, ids: list[object] | None,
                target: Callable[[str], tuple[np.ndarray, shapely.STRtree | None]], study_area: BaseGeometry,
                slope: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """Evaluate every rule on geometries (exact edge-to-edge distances).

    Parameters
    ----------
    rules
        The category's rules.
    geoms
        Geometries in the working CRS.
    ids
        One id per geometry (default their positions).
    target
        Target key to its geometries and their STRtree (None when there are none).
    study_area
        The study area.
    slope
        Geometries to the slope (%) under each (NaN where unknown).

    Returns
    -------
    pandas.DataFrame
        One row per (geometry, rule): ``id``, ``rule_id``, ``group``, ``required_m``, ``actual_m``
        (inf when the target set is empty; percent for slope; metres outside for the study area),
        ``passed``, ``description``.
    """
    geoms = np.asarray(geoms, dtype=object)
    ids = list(range(len(geoms))) if ids is None else list(ids)
    frames = []
    for rule in rules:
        actual, req, passed = rule_arrays(rule, geoms, target, study_area, slope)
        frames.append(pd.DataFrame({"id": ids, "rule_id": rule.rule_id, "group": rule.group, "required_m": req,
                                    "actual_m": actual, "passed": passed, "description": rule.description}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHECK_COLUMNS)


def rule_arrays(rule: Rule, geoms: np.ndarray, target: Callable[[str], tuple[np.ndarray, shapely.STRtree | None]],
                study_area: BaseGeometry, slope: Callable[[np.ndarray], np.ndarray]
                ) -> tuple[np.ndarray, float | None, np.ndarray]:
    """One rule of :func:`check_rules` on ``geoms`` (an object array) as arrays: ``actual_m`` per
    geometry, ``required_m`` and ``passed`` per geometry (the same figures, without a table)."""
    if rule.kind == "max_slope":
        s = slope(geoms)
        return s, rule.max_pct, ~(s > (rule.max_pct or np.inf))
    if rule.kind == "study_area":
        actual = shapely.distance(geoms, study_area)
        passed = shapely.intersects(geoms, study_area) & (
            shapely.covered_by(geoms, study_area) | (shapely.get_dimensions(geoms) == 2))
        return actual, 0.0, passed
    _tg, tree = target(rule.target)
    actual = np.full(len(geoms), np.inf)
    if tree is not None and len(geoms):
        idx, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        actual[idx[0]] = dist
    passed = actual >= rule.min_m if rule.min_m > 0 else actual > 0
    return actual, rule.min_m, passed
