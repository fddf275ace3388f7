"""The raster grid: cells, exact distance fields, rasterizing, and the nodata value of every raster.

One home for what the rules, the criteria, the new sites and the writers share. Light: numpy, affine,
pyproj and shapely at import (no GDAL or geopandas; rasterio, SciPy and ``edt`` are imported when a
field is computed), so ``siteplan explain RUN_DIR`` starts fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from affine import Affine
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

__all__ = ["NODATA", "FieldCache", "Grid", "catchment_field", "distance_field", "rasterize_mask"]

#: the nodata value of every raster siteplan writes
NODATA = -9999.0


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in the working CRS.

    Attributes
    ----------
    transform
        Affine transform of the top-left corner.
    width, height
        Columns and rows.
    res
        Cell size in metres.
    crs
        The working CRS.
    """

    transform: Affine
    width: int
    height: int
    res: float
    crs: CRS

    @classmethod
    def covering(cls, geom: BaseGeometry, res: float, crs: CRS) -> Grid:
        """The grid of cell size ``res`` whose extent covers ``geom`` (snapped to multiples of res)."""
        minx, miny, maxx, maxy = geom.bounds
        x0 = np.floor(minx / res) * res
        y1 = np.ceil(maxy / res) * res
        w = int(np.ceil((maxx - x0) / res))
        h = int(np.ceil((y1 - miny) / res))
        return cls(Affine(res, 0, x0, 0, -res, y1), max(w, 1), max(h, 1), float(res), crs)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in cells, as a numpy array of the grid."""
        return (self.height, self.width)

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates of (row, col) indices."""
        x = self.transform.c + (np.asarray(cols) + 0.5) * self.res
        y = self.transform.f - (np.asarray(rows) + 0.5) * self.res
        return x, y

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells holding points (may be outside the grid)."""
        c = np.floor((np.asarray(x) - self.transform.c) / self.res).astype(np.int64)
        r = np.floor((self.transform.f - np.asarray(y)) / self.res).astype(np.int64)
        return r, c


def _rings(poly: BaseGeometry) -> list[list[list[float]]]:
    import shapely

    return [shapely.get_coordinates(poly.exterior).tolist(),
            *(shapely.get_coordinates(r).tolist() for r in poly.interiors)]


def shape_of(geom: BaseGeometry) -> object:
    """A geometry as rasterio reads it: polygons and lines as GeoJSON-like mappings built at C speed
    (the same coordinates as ``__geo_interface__``, which walks them in Python), anything else as is."""
    import shapely

    kind = geom.geom_type
    if geom.has_z:
        return geom
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _rings(geom)}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [_rings(p) for p in geom.geoms]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": shapely.get_coordinates(geom).tolist()}
    if kind == "MultiLineString":
        return {"type": "MultiLineString",
                "coordinates": [shapely.get_coordinates(g).tolist() for g in geom.geoms]}
    return geom


def rasterize_mask(geoms: np.ndarray | list[BaseGeometry], grid: Grid, *, all_touched: bool = True) -> np.ndarray:
    """Boolean mask of cells touched by the geometries.

    Parameters
    ----------
    geoms
        Geometries in the grid's CRS.
    grid
        Target grid.
    all_touched
        Burn every cell a geometry touches (True; right for lines and small polygons).

    Returns
    -------
    numpy.ndarray
        ``bool`` array of ``grid.shape``.
    """
    from rasterio import features

    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(grid.shape, dtype=bool)
    arr = features.rasterize(((shape_of(g), 1) for g in geoms), out_shape=grid.shape, transform=grid.transform,
                             fill=0, all_touched=all_touched, dtype="uint8")
    return np.asarray(arr.astype(bool))


def distance_field(mask: np.ndarray, res: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Exact Euclidean distance (metres) from each cell centre to the nearest masked cell centre.

    Parameters
    ----------
    mask
        ``True`` where the feature is.
    res
        Cell size in metres.
    out
        Optional float32 array to write into.

    Returns
    -------
    numpy.ndarray
        float32 distances; ``inf`` everywhere when the mask is empty.

    Notes
    -----
    Exact Euclidean distances (not a chamfer approximation): the ``edt`` package's linear-time
    algorithm on two threads, else scipy's (Maurer's algorithm). Memory: about 12 bytes per cell
    while it runs.
    """
    if not mask.any():
        if out is None:
            out = np.empty(mask.shape, dtype=np.float32)
        out.fill(np.inf)
        return out
    try:
        import edt as _edt  # exact, multithreaded (seung-lab/euclidean-distance-transform-3d)

        d = _edt.edt((~mask).view(np.uint8), anisotropy=(res, res), black_border=False,
                     parallel=min(2, os.cpu_count() or 1))
    except ImportError:  # scipy's exact EDT: same result, single-threaded and about 3x slower
        from scipy import ndimage

        d = ndimage.distance_transform_edt(~mask, sampling=(res, res))
    if out is None:
        return np.asarray(d.astype(np.float32, copy=False))
    np.copyto(out, d, casting="same_kind")
    return out


def catchment_field(points_xy: np.ndarray, weights: np.ndarray, grid: Grid, radius_m: float, *,
                    spectra: dict[tuple[float, ...], np.ndarray] | None = None) -> np.ndarray:
    """Sum of point weights (e.g. population) within ``radius_m`` of each cell centre.

    Points are binned to cells, then convolved with a disc kernel by FFT: exact for weights at cell
    centres, within half a cell of exact otherwise.

    Parameters
    ----------
    points_xy
        (n, 2) point coordinates in the grid's CRS.
    weights
        One weight per point.
    grid
        The grid the sums are computed on.
    radius_m
        The disc's radius in metres.
    spectra
        Optional cache of the disc's Fourier transform by its radius and transform size, shared by the
        criteria of one grid (the same disc is transformed once).

    Returns
    -------
    numpy.ndarray
        float32 sums of ``grid.shape``.
    """
    r, c = grid.rowcol(points_xy[:, 0], points_xy[:, 1])
    ok = (r >= 0) & (r < grid.height) & (c >= 0) & (c < grid.width)
    acc = np.zeros(grid.shape, dtype=np.float64)
    np.add.at(acc, (r[ok], c[ok]), weights[ok])
    # a kernel wider than the grid adds nothing ("same" output): clamp it, so that a huge radius
    # gives the same answer instead of a kernel of terabytes
    k = int(min(np.ceil(radius_m / grid.res), max(grid.height, grid.width)))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disc = ((xx * grid.res) ** 2 + (yy * grid.res) ** 2 <= radius_m ** 2).astype(np.float64)
    out = _convolve_same(acc, disc, spectra, (float(grid.res), float(radius_m), float(k)))
    del acc
    out[out < 1e-6] = 0.0  # FFT round-off where nothing is in reach
    return out.astype(np.float32)


def _convolve_same(in1: np.ndarray, in2: np.ndarray, spectra: dict[tuple[float, ...], np.ndarray] | None,
                   key: tuple[float, ...]) -> np.ndarray:
    """``scipy.signal.fftconvolve(in1, in2, mode="same")`` of two 2-D float64 arrays, step for step.

    The same transforms of the same sizes in the same order, so the same bits (tested), without
    importing ``scipy.signal`` (about a second of CPU; ``scipy.fft`` is light) and with ``in2``'s
    transform kept in ``spectra`` under ``key`` and its size.
    """
    from scipy import fft as sp_fft

    s1, s2 = in1.shape, in2.shape
    if 1 in s1 or 1 in s2:  # scipy drops axes of length 1: let it decide those
        from scipy.signal import fftconvolve

        return np.asarray(fftconvolve(in1, in2, mode="same"))
    axes = [0, 1]
    shape = [s1[i] + s2[i] - 1 for i in axes]
    fshape = [sp_fft.next_fast_len(n, real=True) for n in shape]
    sp1 = sp_fft.rfftn(in1, fshape, axes=axes)
    skey = (*key, *map(float, fshape))
    sp2 = spectra.get(skey) if spectra is not None else None
    if sp2 is None:
        sp2 = sp_fft.rfftn(in2, fshape, axes=axes)
        if spectra is not None:
            spectra[skey] = sp2
    ret = sp_fft.irfftn(sp1 * sp2, fshape, axes=axes)[: shape[0], : shape[1]]
    r0, c0 = (shape[0] - s1[0]) // 2, (shape[1] - s1[1]) // 2
    return np.asarray(ret[r0:r0 + s1[0], c0:c0 + s1[1]].copy())


@dataclass
class FieldCache:
    """Distance fields of rule targets and criteria on one grid, computed once and shared.

    A field is computed on the grid padded by ``pad_m`` on every side and cropped, so features just
    outside the grid still count: the distance is exact wherever the true distance is below
    ``pad_m``, and never below the true distance elsewhere (the same argument as the blockwise halo).
    """

    grid: Grid
    fields: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    slope: np.ndarray | None = None
    #: raw values of criteria by what they read (identical criteria are computed once)
    criteria: dict[tuple[object, ...], np.ndarray] = field(default_factory=dict)
    #: Fourier transforms of catchment discs (:func:`catchment_field`)
    spectra: dict[tuple[float, ...], np.ndarray] = field(default_factory=dict)

    def distance(self, key: str, geoms: np.ndarray, pad_m: float = 0.0) -> np.ndarray:
        """Centre-to-centre distance (m) to the cells ``geoms`` touch, cached by ``key`` and padding."""
        g = self.grid
        pad = int(np.ceil(pad_m / g.res)) + 1 if pad_m > 0 else 0
        k = (key, pad)
        if k not in self.fields:
            big = g if pad == 0 else Grid(g.transform @ Affine.translation(-pad, -pad), g.width + 2 * pad,
                                          g.height + 2 * pad, g.res, g.crs)
            d = distance_field(rasterize_mask(geoms, big), g.res)
            self.fields[k] = np.ascontiguousarray(d[pad:pad + g.height, pad:pad + g.width]) if pad else d
        return self.fields[k]

    def window(self, values: np.ndarray, grid: Grid) -> np.ndarray:
        """A raster of this cache's grid (e.g. the slope) read on a window grid aligned with it (NaN
        outside)."""
        full = self.grid
        c0 = round((grid.transform.c - full.transform.c) / full.res)
        r0 = round((full.transform.f - grid.transform.f) / full.res)
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        rs, cs = max(r0, 0), max(c0, 0)
        re, ce = min(r0 + grid.height, full.height), min(c0 + grid.width, full.width)
        if re > rs and ce > cs:
            out[rs - r0:re - r0, cs - c0:ce - c0] = values[rs:re, cs:ce]
        return out
