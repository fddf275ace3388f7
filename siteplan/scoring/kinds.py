"""Criterion kinds: the one registry of how each kind of criterion turns its features into raw values.

The whole grid (:func:`siteplan.scoring.suitability.criterion_layers`), block by block
(:class:`siteplan.scoring.blockwise.BlockPlan`) and on Dask (:mod:`siteplan.national.raster`, which runs
the same plan chunk by chunk) all ask :data:`KINDS`, so a kind is written once and every path gives
the same values. A kind

* selects and checks its features once (:func:`criterion_features`: the layer, the filter, the fields
  it reads), with an error naming the criterion;
* says how far a feature can change a cell's value (its halo: a distance criterion's saturation
  distance, a catchment's radius), so a block padded by the halo is exact;
* computes its raw values on any grid: the analysis grid, or a block padded by its halo
  (:func:`criterion_window`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from ..grid import FieldCache, Grid, catchment_field, distance_field, rasterize_mask, shape_of
from ..scenario import CriterionSpec
from .criteria import saturation_distance

log = logging.getLogger(__name__)

__all__ = ["KINDS", "CriterionKind", "Features", "criterion_features", "criterion_raw", "criterion_window",
           "halo_cells", "filter_features"]

#: the raw value of a distance criterion with no feature in reach (its transform's far limit)
FAR_M = np.float32(1e12)


def filter_features(gdf: gpd.GeoDataFrame, flt: dict[str, list[str]] | None, where: str) -> gpd.GeoDataFrame:
    """Features whose fields take one of the listed values (every field of ``flt``); ``where`` names the
    criterion in the error raised for a field the layer lacks."""
    if not flt:
        return gdf
    m = np.ones(len(gdf), dtype=bool)
    for col, values in flt.items():
        if col not in gdf.columns:
            raise InputError(f"{where}: filter field '{col}' is not in the layer (fields: "
                             f"{', '.join(c for c in gdf.columns if c != 'geometry')})")
        vals = {str(v) for v in values}
        m &= gdf[col].astype(str).isin(vals).to_numpy()
    return gdf.loc[m]


@dataclass(frozen=True)
class Features:
    """The features one criterion reads, selected and checked once and shared by every grid and block.

    Attributes
    ----------
    where
        The criterion, for error messages (``criteria[2] ('roads')``).
    key
        What the criterion reads (kind, layer, filter, field, radius): criteria with equal keys have
        equal raw values, computed once per grid.
    geoms
        The selected geometries, in the working CRS.
    values
        One number per feature (an attribute's values, a catchment's weights), or None.
    points
        (n, 2) representative points of the features (catchments), or None.
    """

    where: str
    key: tuple[object, ...]
    geoms: np.ndarray
    values: np.ndarray | None = None
    points: np.ndarray | None = None

    @cached_property
    def tree(self) -> shapely.STRtree | None:
        """Spatial index of the geometries (None when there are none)."""
        return shapely.STRtree(self.geoms) if len(self.geoms) else None

    def within(self, bbox: shapely.Polygon) -> Features:
        """The features whose geometry meets ``bbox``, in their original order."""
        tree = self.tree
        idx = np.sort(tree.query(bbox)) if tree is not None else np.zeros(0, dtype=np.int64)
        return Features(self.where, self.key, self.geoms[idx],
                        None if self.values is None else self.values[idx],
                        None if self.points is None else self.points[idx])


@dataclass(frozen=True)
class CriterionKind:
    """One kind of criterion.

    Attributes
    ----------
    name
        The kind's name in the scenario (``distance``, ``inside``, ...).
    select
        ``select(spec, layer, where)``: the criterion's :class:`Features` from its layer (None for
        kinds that read no vector layer); raises :class:`~siteplan.errors.InputError` naming ``where``.
    raw
        ``raw(spec, features, grid, fields)``: float32 raw values on ``grid``; ``fields`` is the run's
        :class:`~siteplan.grid.FieldCache` (shared distance fields, slope) or None.
    halo_m
        ``halo_m(spec)``: the distance (m) beyond which a feature cannot change a cell's value.
    """

    name: str
    select: Callable[[CriterionSpec, gpd.GeoDataFrame | None, str], Features]
    raw: Callable[[CriterionSpec, Features, Grid, FieldCache | None], np.ndarray]
    halo_m: Callable[[CriterionSpec], float]


def _on_run_grid(grid: Grid, fields: FieldCache | None) -> bool:
    """Whether ``grid`` is the run's grid (whose fields ``fields`` caches), not a block."""
    return fields is not None and grid is fields.grid


def _layer(spec: CriterionSpec, gdf: gpd.GeoDataFrame | None, where: str) -> gpd.GeoDataFrame:
    if gdf is None:
        raise InputError(f"{where}: layer '{spec.layer}' is not loaded")
    return filter_features(gdf, spec.filter, where)


def _filter_key(spec: CriterionSpec) -> tuple[object, ...]:
    return tuple(sorted((k, tuple(map(str, v))) for k, v in (spec.filter or {}).items()))


def _numbers(sel: gpd.GeoDataFrame, name: str) -> np.ndarray:
    return np.asarray(pd.to_numeric(sel[name], errors="coerce").fillna(0.0).to_numpy(), dtype=np.float64)


def _burn(geoms: np.ndarray, values: np.ndarray | None, grid: Grid, fill: float) -> np.ndarray:
    """Cells whose centre a geometry covers take its value (1 without values; the last feature wins)."""
    from rasterio import features

    if values is None:
        if not len(geoms):
            return np.zeros(grid.shape, dtype=np.float32)
        burnt = features.rasterize(((shape_of(g), 1) for g in geoms), out_shape=grid.shape, transform=grid.transform,
                                   fill=0, dtype="uint8")
        return cast("np.ndarray", burnt.astype(np.float32))
    if not len(geoms):
        return np.full(grid.shape, fill, dtype=np.float32)
    return cast("np.ndarray", features.rasterize(((shape_of(g), float(v)) for g, v in zip(geoms, values)),
                                                out_shape=grid.shape, transform=grid.transform, fill=fill,
                                                dtype="float32"))


# -- distance: metres to the nearest feature -------------------------------------------------------
def _distance_select(spec: CriterionSpec, gdf: gpd.GeoDataFrame | None, where: str) -> Features:
    sel = _layer(spec, gdf, where)
    return Features(where, ("distance", spec.layer, _filter_key(spec), saturation_distance(spec.transform)),
                    sel.geometry.values)


def _distance_raw(spec: CriterionSpec, f: Features, grid: Grid, fields: FieldCache | None) -> np.ndarray:
    if _on_run_grid(grid, fields):
        assert fields is not None
        # the run's grid: padded by the saturation distance so features beyond it count (as a block's
        # halo does), and shared through the field cache
        key = f"crit:{spec.layer}:{sorted((spec.filter or {}).items())}"
        d = fields.distance(key, f.geoms, pad_m=saturation_distance(spec.transform))
    else:  # a block already padded by the halo
        d = distance_field(rasterize_mask(f.geoms, grid), grid.res)
    finite = np.isfinite(d)
    if not finite.all():  # no feature in reach: the transform's far limit
        if _on_run_grid(grid, fields) and not finite.any():
            log.warning("%s: no '%s' feature matches the filter; criterion scores 0 everywhere", f.where, spec.layer)
        d = np.where(finite, d, FAR_M)
    return d


# -- inside: 1 in the features, 0 elsewhere ---------------------------------------------------------
def _inside_select(spec: CriterionSpec, gdf: gpd.GeoDataFrame | None, where: str) -> Features:
    sel = _layer(spec, gdf, where)
    return Features(where, ("inside", spec.layer, _filter_key(spec)), sel.geometry.values)


def _inside_raw(_spec: CriterionSpec, f: Features, grid: Grid, _fields: FieldCache | None) -> np.ndarray:
    return _burn(f.geoms, None, grid, 0.0)


# -- attribute: a numeric field of the features (NaN elsewhere) -------------------------------------
def _attribute_select(spec: CriterionSpec, gdf: gpd.GeoDataFrame | None, where: str) -> Features:
    sel = _layer(spec, gdf, where)
    if not spec.field or spec.field not in sel.columns:
        raise InputError(f"{where}: 'field' must name a field of layer '{spec.layer}'")
    return Features(where, ("attribute", spec.layer, _filter_key(spec), spec.field), sel.geometry.values,
                    _numbers(sel, spec.field))


def _attribute_raw(_spec: CriterionSpec, f: Features, grid: Grid, _fields: FieldCache | None) -> np.ndarray:
    return _burn(f.geoms, f.values, grid, np.nan)


# -- catchment: the sum of a field (or a count) within a radius -------------------------------------
def _catchment_select(spec: CriterionSpec, gdf: gpd.GeoDataFrame | None, where: str) -> Features:
    sel = _layer(spec, gdf, where)
    if (spec.field and spec.field not in sel.columns) or not spec.radius_m:
        raise InputError(f"{where}: catchment needs 'radius_m' and, when given, 'field' must name a field "
                         f"of layer '{spec.layer}'")
    geoms = sel.geometry.values
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    xy = np.c_[shapely.get_x(pts), shapely.get_y(pts)] if len(geoms) else np.zeros((0, 2))
    wts = _numbers(sel, spec.field) if spec.field else np.ones(len(sel))  # no field: each feature counts 1
    return Features(where, ("catchment", spec.layer, _filter_key(spec), spec.field, float(spec.radius_m)),
                    geoms, wts, xy)


def _catchment_raw(spec: CriterionSpec, f: Features, grid: Grid, fields: FieldCache | None) -> np.ndarray:
    assert f.points is not None and f.values is not None
    spectra = fields.spectra if fields is not None and _on_run_grid(grid, fields) else None
    return catchment_field(f.points, f.values, grid, float(spec.radius_m or 0.0), spectra=spectra)


def _catchment_halo(spec: CriterionSpec) -> float:
    return float(spec.radius_m or 0.0)


# -- raster: the slope of the DEM ------------------------------------------------------------------
def _raster_select(spec: CriterionSpec, _gdf: gpd.GeoDataFrame | None, where: str) -> Features:
    return Features(where, ("raster", spec.layer), np.zeros(0, dtype=object))


def _raster_raw(spec: CriterionSpec, f: Features, grid: Grid, fields: FieldCache | None) -> np.ndarray:
    if spec.layer != "dem" or fields is None or fields.slope is None:
        raise InputError(f"{f.where}: kind 'raster' reads the 'dem' layer (field: slope); "
                         "add a dem layer to the scenario")
    return fields.slope if _on_run_grid(grid, fields) else fields.window(fields.slope, grid)


def _no_halo(_spec: CriterionSpec) -> float:
    return 0.0


def _distance_halo(spec: CriterionSpec) -> float:
    return saturation_distance(spec.transform)


#: criterion kind name -> how it is computed (the scenario's ``criteria[].kind``)
KINDS: dict[str, CriterionKind] = {k.name: k for k in (
    CriterionKind("distance", _distance_select, _distance_raw, _distance_halo),
    CriterionKind("inside", _inside_select, _inside_raw, _no_halo),
    CriterionKind("attribute", _attribute_select, _attribute_raw, _no_halo),
    CriterionKind("catchment", _catchment_select, _catchment_raw, _catchment_halo),
    CriterionKind("raster", _raster_select, _raster_raw, _no_halo),
)}


def _kind(spec: CriterionSpec, where: str) -> CriterionKind:
    kind = KINDS.get(spec.kind)
    if kind is None:  # pragma: no cover - guarded by the scenario schema
        raise InputError(f"{where}: unknown criterion kind '{spec.kind}' (known: {', '.join(KINDS)})")
    return kind


def criterion_features(spec: CriterionSpec, layers: dict[str, gpd.GeoDataFrame], where: str) -> Features:
    """The features a criterion reads, selected and checked (errors name ``where``)."""
    return _kind(spec, where).select(spec, layers.get(spec.layer), where)


def criterion_raw(spec: CriterionSpec, feats: Features, grid: Grid, fields: FieldCache | None = None
                  ) -> np.ndarray:
    """A criterion's raw values on a whole grid; with ``fields`` on its grid, criteria reading the same
    features are computed once and distance fields are shared with the rules."""
    if fields is not None and _on_run_grid(grid, fields):
        got = fields.criteria.get(feats.key)
        if got is None:
            got = fields.criteria[feats.key] = _kind(spec, feats.where).raw(spec, feats, grid, fields)
        return got
    return _kind(spec, feats.where).raw(spec, feats, grid, fields)


def halo_cells(spec: CriterionSpec, res: float) -> int:
    """The halo of a criterion in cells: its halo distance, rounded up, plus one cell."""
    return int(np.ceil(_kind(spec, spec.name).halo_m(spec) / res)) + 1


def criterion_window(spec: CriterionSpec, feats: Features, grid: Grid, window: tuple[int, int, int, int],
                     halo: int, fields: FieldCache | None = None) -> np.ndarray:
    """A criterion's raw values on one block ``(row, col, height, width)`` of ``grid``, computed on the
    block padded by ``halo`` cells (:func:`halo_cells`) from the features that meet the padded block, and
    cropped: the same values as on the whole grid (the module docstring says why)."""
    r0, c0, h, w = window
    pr0, pc0, ph, pw = r0 - halo, c0 - halo, h + 2 * halo, w + 2 * halo
    ptrans = grid.transform @ grid.transform.translation(pc0, pr0)
    sub = Grid(ptrans, pw, ph, grid.res, grid.crs)
    bbox = shapely.box(ptrans.c, ptrans.f - ph * grid.res, ptrans.c + pw * grid.res, ptrans.f)
    raw = _kind(spec, feats.where).raw(spec, feats.within(bbox), sub, fields)
    return np.ascontiguousarray(raw[halo:halo + h, halo:halo + w])
