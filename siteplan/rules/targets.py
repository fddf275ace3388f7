"""What each siting rule measures from: the rules compiled from the catalogue, the DOE table, the scenario
and the constraints layer (:func:`compile_rules`), and their target geometries (:func:`target_geoms`,
:func:`buffer_out`). :mod:`siteplan.rules.ruleset` asks them.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.textnorm import normalize
from ..guilds.catalogue import Catalogue
from ..scenario import Scenario
from .rulecheck import Rule
from .standards import (
    CONSTRAINT_DEFAULT_BUFFER_M,
    DOE_1378,
    DOE_SOURCE,
    MAX_SLOPE_PCT,
    SLOPE_SOURCE,
    VNG_SOURCE,
)

log = logging.getLogger(__name__)

__all__ = ["STUDY_AREA_RULE", "buffer_out", "mixed_mask", "target_geoms", "compile_rules"]

#: id of the rule that keeps everything inside the study area
STUDY_AREA_RULE = "STUDY-AREA"
#: segments per quarter circle of rule buffers
_QUAD_SEGS = 16
#: a buffer of radius r·_OUTER with _QUAD_SEGS segments circumscribes the exact disc of radius r
_OUTER = 1.0 / np.cos(np.pi / (4 * _QUAD_SEGS))
#: float32 distance fields: slack (m) below which two distances count as equal
EPS_M = 1e-3

def buffer_out(geoms: object, dist: float) -> object:
    """Buffer that contains the exact ``dist`` neighbourhood (never inside it).

    Parameters
    ----------
    geoms
        Geometries (one, or an array of them) in a metric CRS.
    dist
        The neighbourhood's radius in the CRS's units (metres), at least 0.

    Returns
    -------
    object
        The buffered geometry or array of them: a polygon with 16 segments per quarter circle whose
        radius is enlarged so that it circumscribes the exact ``dist`` disc.
    """
    return shapely.buffer(geoms, dist * _OUTER, quad_segs=_QUAD_SEGS)


def mixed_mask(urban: gpd.GeoDataFrame, scenario: Scenario) -> np.ndarray:
    """Which urban areas are mixed (named in the scenario's ``rules.mixed_areas``, names normalised).

    Parameters
    ----------
    urban
        The urban areas layer (its ``name_norm`` column when present).
    scenario
        The scenario.

    Returns
    -------
    numpy.ndarray
        One bool per urban area.
    """
    names = {normalize(n) for n in scenario.rules.mixed_areas}
    m = urban["name_norm"].isin(names).to_numpy() if "name_norm" in urban else np.zeros(len(urban), bool)
    if "mixed" in urban:
        m |= urban["mixed"].fillna(0).to_numpy() > 0
    return m


def target_geoms(target: str, layers: dict[str, gpd.GeoDataFrame], scenario: Scenario) -> np.ndarray:
    """Geometries of a rule target, in the working CRS.

    Parameters
    ----------
    target
        ``homes`` (urban areas outside the mixed areas, and housing receptors), ``homes_mixed`` (mixed
        urban areas), ``sensitive`` (schools and clinics), ``roads_major`` (motorways, trunk roads),
        ``roads_main`` (primary roads), ``nature``, ``water``, ``wells`` or ``constraint:<kind>``
        (features of the constraints layer of those kinds).
    layers
        The region's layers by canonical name; a missing layer gives no geometries.
    scenario
        The scenario (its ``rules.mixed_areas`` name the mixed urban areas).

    Returns
    -------
    numpy.ndarray
        The target's geometries (object array; empty when the layers have none).

    Raises
    ------
    ValueError
        An unknown target (only when the constraints layer is present).
    """
    empty = np.array([], dtype=object)
    urban, rec, roads, cons = (layers.get(k) for k in ("urban", "receptors", "roads", "constraints"))
    if target in ("homes", "homes_mixed"):
        parts = []
        if urban is not None:
            mixed = mixed_mask(urban, scenario)
            parts.append(urban.geometry.values[mixed if target == "homes_mixed" else ~mixed])
        if rec is not None and target == "homes":
            parts.append(rec.geometry.values[rec["kind"].isin(["housing"]).to_numpy()])
        return np.concatenate(parts) if parts else empty
    if target == "sensitive":
        return rec.geometry.values[rec["kind"].isin(["school", "clinic"]).to_numpy()] if rec is not None else empty
    if target in ("roads_major", "roads_main"):
        if roads is None:
            return empty
        want = ["motorway", "trunk"] if target == "roads_major" else ["primary"]
        return np.asarray(roads.geometry.values[roads["road_class"].isin(want).to_numpy()])
    if cons is None:
        return empty
    kinds = {"nature": ["protected", "wetland", "national_park"], "water": ["river", "qanat"],
             "wells": ["well"]}.get(target)
    if target.startswith("constraint:"):
        kinds = [target.split(":", 1)[1]]
    if kinds is None:
        raise ValueError(f"unknown rule target {target}")
    return np.asarray(cons.geometry.values[cons["kind"].isin(kinds).to_numpy()])


def compile_rules(catalogue: Catalogue, scenario: Scenario, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, list[Rule]]:
    """Compile the siting rules of every category into :class:`Rule` lists.

    Parameters
    ----------
    catalogue
        Categories with ``sep_m``, ``sep_mixed_m``, ``doe_group``.
    scenario
        For the DOE table version, mixed areas and the slope limit.
    layers
        The region's layers (the constraints layer adds hard exclusions for every category).

    Returns
    -------
    dict
        Category code to its rules; the last rule of each is the study area.
    """
    cons = layers.get("constraints")
    hard: list[tuple[str, float, str]] = []
    if cons is not None:
        for kind in sorted(set(cons["kind"].dropna())):
            sel = cons[cons["kind"] == kind]
            buf = sel["buffer_m"].dropna() if "buffer_m" in sel else pd.Series(dtype=float)
            b = float(buf.max()) if len(buf) else CONSTRAINT_DEFAULT_BUFFER_M.get(kind, 0.0)
            hard.append((kind, b, "layer buffer_m" if len(buf) else "default buffer (assumption, STANDARDS.md §5)"))
    out: dict[str, list[Rule]] = {}
    for r in catalogue.table.itertuples():
        rules = [
            Rule(f"VNG-{r.env_cat}-HOMES", r.code, "homes", float(r.sep_m),
                 f"env. category {r.env_cat}: {r.sep_m:g} m from homes (quiet residential)", VNG_SOURCE,
                 r.sep_status),
            Rule(f"VNG-{r.env_cat}-MIXED", r.code, "homes_mixed", float(r.sep_mixed_m),
                 f"env. category {r.env_cat}: {r.sep_mixed_m:g} m from homes (mixed area)", VNG_SOURCE,
                 r.sep_status),
        ]
        if scenario.rules.doe_table == "1378" and r.doe_group in DOE_1378:
            for key, target, dist in DOE_1378[r.doe_group]:
                rules.append(Rule(f"DOE1378-{r.doe_group}-{key}", r.code, target, dist,
                                  f"DOE 1378 group {r.doe_group}: {dist:g} m from {key.replace('_', ' ')}",
                                  DOE_SOURCE, "confirmed", group="doe"))
        if "dem" in scenario.layers and scenario.rules.max_slope_pct is not None:
            s = float(scenario.rules.max_slope_pct)
            rules.append(Rule("SLOPE-MAX", r.code, "slope", 0.0, f"slope at most {s:g} %", SLOPE_SOURCE,
                              "confirmed" if s == MAX_SLOPE_PCT else "scenario", kind="max_slope", max_pct=s,
                              group="slope"))
        for kind, b, src in hard:
            rules.append(Rule(f"CONSTRAINT-{kind}", r.code, f"constraint:{kind}", b,
                              f"outside {kind} areas and {b:g} m from them", src,
                              "scenario" if src == "layer buffer_m" else "assumption", group="constraint"))
        rules.append(Rule(STUDY_AREA_RULE, r.code, "study_area", 0.0, "inside the study area",
                          "scenario boundary layer (else the region's extent)", "scenario", kind="study_area",
                          group="study_area"))
        out[r.code] = rules
    return out
