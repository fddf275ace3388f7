"""The report's suitability overlays, each taken from the run's memo when its raster is unchanged.

Each category's overlay is its suitability warped to Web Mercator and encoded as a PNG
(:func:`siteplan.report.overlays.suitability`): the most expensive layers of the report, and a what-if that
changes no suitability leaves every one of them as it was. Each overlay's image is stored in the run's
memo (:mod:`siteplan.common.memo`) under the SHA-256 of exactly what it is made from: the category's
masked suitability raster, the grid (transform, size, CRS), the overlay's size, the GDAL that warps it and
the folium and zlib that encode it (the package's source and library versions are checked once for the
whole memo: :func:`siteplan.outputs.stagecache.source_key`). A warp of several categories gives each the overlay
a warp of it alone gives (:func:`siteplan.report.overlays.overlay_images`), so those not in the memo are warped
together and the others are not warped at all.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..common.memo import active
from .overlays import OVERLAY_PX, overlay_images, suitability

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["suitability_layers", "KIND"]

#: the memo's kind of these images
KIND = "overlay"
#: what a stored image may be: a PNG as a base64 data URL (anything else is made again)
_PNG_URL = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/]*={0,2}")


def _key(res: RunResult, code: str) -> bytes:
    """What category ``code``'s overlay is made from."""
    import zlib
    from importlib import metadata

    import rasterio

    grid = res.prep.grid
    masked = np.ascontiguousarray(res.prep.surfaces[code].masked)
    h = hashlib.sha256(f"{KIND}\ngdal {rasterio.__gdal_version__}\npx {OVERLAY_PX}\nfolium "
                       f"{metadata.version('folium')}\nzlib {zlib.ZLIB_RUNTIME_VERSION}\n".encode())
    h.update(repr([list(grid.transform)[:6], grid.width, grid.height, grid.crs.to_wkt() if grid.crs else None]).encode())
    h.update(f"{masked.dtype.str} {masked.shape}\n".encode())
    h.update(masked.tobytes())
    return h.digest()


def suitability_layers(res: RunResult, codes: list[str]) -> list[dict[str, Any]]:
    """:func:`siteplan.report.overlays.suitability` of every code, the overlay images of unchanged rasters taken
    from the run's memo (and the others recorded there); without a memo, all computed.

    Parameters
    ----------
    res
        The run.
    codes
        The categories, in the report's order.

    Returns
    -------
    list of dict
        One layer per code.
    """
    memo = active()
    keys = {c: _key(res, c) for c in codes} if memo is not None else {}
    urls: dict[str, str] = {}
    for code, key in keys.items():
        got = memo.get_bytes(KIND, key) if memo is not None else None
        if got is not None and _PNG_URL.fullmatch(got):  # only an image, whatever the stored run holds
            urls[code] = got.decode("ascii")
    todo = [c for c in codes if c not in urls]
    layers: dict[str, dict[str, Any]] = {}
    images, bounds = overlay_images(res, todo)  # no warp when every overlay is in the memo: the bounds only
    for code, image in zip(todo, images):
        layers[code] = suitability(res, code, (image, bounds))
        if memo is not None:
            memo.put_bytes(KIND, keys[code], str(layers[code]["url"]).encode("ascii"))
    for code, url in urls.items():
        # the layer of an empty image, then its stored image: the same dict as made from the raster
        layers[code] = {**suitability(res, code, (np.full((1, 1), np.nan, dtype=np.float32), bounds)), "url": url}
    return [layers[c] for c in codes]
