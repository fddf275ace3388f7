"""The raster grid (light: no GDAL or geopandas, so ``siteplan explain RUN_DIR`` starts fast)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

__all__ = ["Grid"]


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
    def covering(cls, geom: BaseGeometry, res: float, crs: CRS) -> "Grid":
        """The grid of cell size ``res`` whose extent covers ``geom`` (snapped to multiples of res)."""
        minx, miny, maxx, maxy = geom.bounds
        x0 = np.floor(minx / res) * res
        y1 = np.ceil(maxy / res) * res
        w = int(np.ceil((maxx - x0) / res))
        h = int(np.ceil((y1 - miny) / res))
        return cls(Affine(res, 0, x0, 0, -res, y1), max(w, 1), max(h, 1), float(res), crs)

    @property
    def shape(self) -> tuple[int, int]:
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
