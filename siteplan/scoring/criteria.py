"""Criteria: value transforms, the default criteria and the layers criteria read.

Transforms follow IDRISI's FUZZY and ArcGIS Pro's continuous functions; each maps values to [0, 1].
The grid, its distance fields and rasterizing live in :mod:`siteplan.grid`, shared with the rules.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np

from ..common.textnorm import normalize
from ..errors import InputError
from ..grid import Grid
from ..scenario import TransformSpec

__all__ = [
    "transform",
    "criteria_layers",
    "saturation_distance",
    "CONSTRAINT_DEFAULT_BUFFER_M",
    "DOE_1378",
]

from ..rules.standards import CONSTRAINT_DEFAULT_BUFFER_M, DOE_1378

# ------------------------------------------------------------------------------------------------
# grid
# ------------------------------------------------------------------------------------------------


def slope_percent(dem_path: str, grid: Grid) -> np.ndarray:
    """Slope (percent) of a DEM resampled onto the grid (bilinear), by central differences.

    Parameters
    ----------
    dem_path
        A raster of elevations in metres, any CRS.
    grid
        The analysis grid.

    Returns
    -------
    numpy.ndarray
        float32 slope in percent; NaN where the DEM has no data.

    Notes
    -----
    Slope is computed at the grid's cell size, so a coarse grid smooths steep short slopes; use a
    finer ``grid.resolution_m`` where terrain matters.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    elev = np.full(grid.shape, np.nan, dtype=np.float64)
    try:
        with rasterio.open(dem_path) as src:
            if src.crs is None:
                raise InputError(f"layer 'dem' ({dem_path}): the raster has no CRS")
            reproject(rasterio.band(src, 1), elev, dst_transform=grid.transform, dst_crs=grid.crs,
                      resampling=Resampling.bilinear, dst_nodata=np.nan)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"layer 'dem' ({dem_path}): cannot read it ({exc})") from None
    except rasterio.errors.RasterioError as exc:  # e.g. damaged tiles: "Chunk and warp failed" while warping
        raise InputError(f"layer 'dem' ({dem_path}): cannot read its cells ({type(exc).__name__}: {exc}); the file "
                         "looks damaged: check it with `gdalinfo -checksum`, and replace it") from None
    gy, gx = np.gradient(elev, grid.res)
    return (np.hypot(gx, gy) * 100.0).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# transforms
# ------------------------------------------------------------------------------------------------


def _ramp(x: np.ndarray, a: float, b: float, kind: str) -> np.ndarray:
    """Increasing membership from a (0) to b (1)."""
    if b <= a:
        raise InputError(f"transform control points must increase: got {a}, {b}")
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    if kind == "linear":
        return t
    if kind == "sigmoid":  # IDRISI sigmoidal: cos^2 shape
        return np.sin(t * np.pi / 2) ** 2  # = cos^2((1 - t) pi/2), exact 0 and 1 at a and b
    if kind == "j_shaped":  # IDRISI J-shaped: never reaches 0 below a
        y = 1.0 / (1.0 + ((x - b) / (b - a)) ** 2)
        return np.where(x >= b, 1.0, y)
    raise ValueError(kind)


def _linear(values: np.ndarray, a: float, b: float, *, increasing: bool) -> np.ndarray:
    """The two-point linear transform (the most common one) in place: the same arithmetic as the general
    path of :func:`transform`, so the same bits, with one float64 temporary instead of six."""
    x = np.asarray(values, dtype=np.float64)
    t = np.subtract(x, a)
    t /= b - a
    np.clip(t, 0.0, 1.0, out=t)
    if not increasing:
        np.subtract(1.0, t, out=t)
    np.clip(t, 0.0, 1.0, out=t)
    nan = np.isnan(x)
    if nan.any():
        t = np.where(nan, np.nan, t)
    return t.astype(np.float32)


def _categorical(values: np.ndarray, spec: TransformSpec) -> np.ndarray:
    """The categorical transform: each value's score from ``spec.mapping`` (0 when unlisted)."""
    if not spec.mapping:
        raise InputError("categorical transform needs 'mapping'")
    lut = {normalize(k): float(v) for k, v in spec.mapping.items()}
    flat = [lut.get(normalize(v), 0.0) for v in np.asarray(values, dtype=object).ravel()]
    return np.clip(np.array(flat, dtype=np.float32).reshape(np.shape(values)), 0, 1)


def transform(values: np.ndarray, spec: TransformSpec) -> np.ndarray:
    """Map raw criterion values to suitability in [0, 1].

    Parameters
    ----------
    values
        Raw values (distances in metres, population, attribute values); NaN stays NaN.
    spec
        ``type`` and control ``points`` in map units:

        - ``linear``, ``sigmoid``, ``j_shaped``: ``[a, b]`` (0 at a, 1 at b when increasing; reversed
          when ``increasing`` is false) or ``[a, b, c, d]`` symmetric (rise a→b, 1 on b..c, fall c→d).
        - ``gaussian``: ``[midpoint, spread]``; 1 at the midpoint, exp(-½) one spread away.
        - ``ms_large`` / ``ms_small``: ``[mean, sd]`` or ``[mean, sd, a, b]`` (ArcGIS MSLarge/MSSmall).
        - ``threshold``: ``[t]``: 1 at or above t (below, when decreasing).
        - ``categorical``: ``mapping`` of values to scores.

    Returns
    -------
    numpy.ndarray
        The scores as float32 in [0, 1], in the shape of ``values``: NaN where the value is NaN, but for
        ``categorical``, which scores every unlisted value (NaN too) 0.
    """
    p = list(spec.points)
    kind = spec.type
    if kind == "categorical":
        return _categorical(values, spec)
    if kind == "linear" and len(p) == 2 and p[1] > p[0]:
        return _linear(values, p[0], p[1], increasing=spec.increasing)
    x = np.asarray(values, dtype=np.float64)
    shape = _SHAPES.get(kind)
    if shape is None:  # pragma: no cover - guarded by the scenario schema
        raise InputError(f"unknown transform {kind}")
    y = shape(x, p, spec)
    y = np.where(np.isnan(x), np.nan, np.clip(y, 0.0, 1.0))
    return y.astype(np.float32)


def _ramp_shape(x: np.ndarray, p: list[float], spec: TransformSpec) -> np.ndarray:
    """``linear``, ``sigmoid`` and ``j_shaped``: a ramp on two control points, or a rise and a fall on four."""
    kind = spec.type
    if len(p) == 2:
        y = _ramp(x, p[0], p[1], kind)
        return y if spec.increasing else (1.0 - y if kind != "j_shaped" else _ramp(-x, -p[1], -p[0], kind))
    if len(p) == 4:
        if not (p[0] <= p[1] <= p[2] <= p[3]):
            raise InputError(f"{kind} transform: four control points must be in order, got {p}")
        up = _ramp(x, p[0], p[1], kind) if p[1] > p[0] else (x >= p[0]).astype(float)
        down = _ramp(-x, -p[3], -p[2], kind) if p[3] > p[2] else (x <= p[3]).astype(float)
        return np.where(x <= p[1], up, np.where(x >= p[2], down, 1.0))
    raise InputError(f"{kind} transform needs 2 or 4 control points, got {len(p)}")


def _gaussian_shape(x: np.ndarray, p: list[float], spec: TransformSpec) -> np.ndarray:
    """``gaussian``: 1 at the midpoint, exp(-½) one spread away."""
    if len(p) != 2 or p[1] <= 0:
        raise InputError("gaussian transform needs [midpoint, spread>0]")
    y = np.exp(-0.5 * ((x - p[0]) / p[1]) ** 2)
    return y if spec.increasing else 1.0 - y


def _ms_shape(x: np.ndarray, p: list[float], spec: TransformSpec) -> np.ndarray:
    """``ms_large`` / ``ms_small``: ArcGIS's MSLarge / MSSmall on a mean and a standard deviation."""
    kind = spec.type
    if len(p) not in (2, 4) or p[1] <= 0:
        raise InputError(f"{kind} transform needs [mean, sd>0] or [mean, sd, a, b]")
    m, s = p[0], p[1]
    a, b = (p[2], p[3]) if len(p) == 4 else (1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        core = b * s / (x - a * m + b * s)
    if kind == "ms_large":
        return np.where(x > a * m, 1.0 - core, 0.0)
    return np.where(x > a * m, core, 1.0)


def _threshold_shape(x: np.ndarray, p: list[float], spec: TransformSpec) -> np.ndarray:
    """``threshold``: 1 at or above the point (below it, when decreasing)."""
    if len(p) != 1:
        raise InputError("threshold transform needs one point [t]")
    return (x >= p[0]).astype(float) if spec.increasing else (x < p[0]).astype(float)


#: the shape of each numeric transform: (values, control points, transform) -> scores
_SHAPES: dict[str, Callable[[np.ndarray, list[float], TransformSpec], np.ndarray]] = {
    "linear": _ramp_shape, "sigmoid": _ramp_shape, "j_shaped": _ramp_shape, "gaussian": _gaussian_shape,
    "ms_large": _ms_shape, "ms_small": _ms_shape, "threshold": _threshold_shape,
}


def criteria_layers(layers: dict[str, gpd.GeoDataFrame], businesses: gpd.GeoDataFrame | None
                    ) -> dict[str, gpd.GeoDataFrame]:
    """The layers criteria read: the region's, with the businesses as classified (their ``category``
    from the catalogue, also for categories outside the scenario's scope: ``category_classified``
    where the pipeline kept it), so that a criterion may count a linked trade the scenario does not
    plan.

    Parameters
    ----------
    layers
        The region's layers by canonical name.
    businesses
        The classified businesses (``category``, and ``category_classified`` when the pipeline kept the
        classifier's answer); None: the layers as they are.

    Returns
    -------
    dict[str, geopandas.GeoDataFrame]
        A new mapping of the layers, ``businesses`` replaced by the classified ones (the layers
        themselves are not copied or changed).
    """
    if businesses is None:
        return dict(layers)
    b = businesses.assign(category=businesses["category_classified"]) if "category_classified" in businesses \
        else businesses
    return {**layers, "businesses": b}


def saturation_distance(spec: TransformSpec) -> float:
    """Distance beyond which a distance criterion's transformed value stays within 0.001 of its limit.

    Parameters
    ----------
    spec
        A transform of distances in metres (``linear``, ``sigmoid``, ``threshold``, ``j_shaped``,
        ``gaussian``, ``ms_large`` or ``ms_small``).

    Returns
    -------
    float
        The distance in metres (blockwise evaluation pads each block by it).

    Raises
    ------
    InputError
        A transform without a saturation distance (e.g. ``categorical``), or too few points.
    """
    p = sorted(spec.points)
    if spec.type in ("linear", "sigmoid", "threshold") and p:
        return float(p[-1])
    if spec.type == "j_shaped" and len(p) >= 2:
        a, b = p[-2], p[-1]
        return float(b + (b - a) * np.sqrt(1 / 0.001 - 1))  # 1/(1+((x-b)/(b-a))^2) < 0.001 beyond
    if spec.type == "gaussian" and len(p) == 2:
        return float(p[0] + p[1] * np.sqrt(2 * np.log(1 / 0.001)))
    if spec.type in ("ms_large", "ms_small") and len(p) >= 2:
        m, s = p[0], p[1]
        a, b = (p[2], p[3]) if len(p) == 4 else (1.0, 1.0)
        return float(a * m - b * s + b * s / 0.001)
    raise InputError(f"transform {spec.type} {spec.points}: no saturation distance for blockwise evaluation")
