"""The report's suitability overlays: each category's suitability warped to Web Mercator (the map's
projection) and encoded as a PNG image layer.

Made here and nowhere else: :mod:`.overlaymemo` takes the images of unchanged rasters from the run's
memo and asks this module for the others; :mod:`.layers` lists the layers it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject

from . import styles as _styles
from .words import fe, text

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["OVERLAY_PX", "VIRIDIS", "png_data_url", "overlay_images", "suitability"]

VIRIDIS = np.array(_styles.VIRIDIS, float)


#: longest side of a suitability overlay image, in pixels
OVERLAY_PX = 320


def _colour_ramp(a: np.ndarray) -> np.ndarray:
    """RGBA image of values in [0, 1] (viridis), NaN transparent."""
    t = np.clip(np.nan_to_num(a, nan=0.0), 0, 1) * (len(VIRIDIS) - 1)
    i = np.floor(t).astype(int).clip(0, len(VIRIDIS) - 2)
    f = (t - i)[..., None]
    rgb = VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f
    alpha = np.where(np.isnan(a), 0, 40 + 180 * np.clip(np.nan_to_num(a), 0, 1))[..., None]
    return np.concatenate([rgb, alpha], axis=-1).astype(np.uint8)


def png_data_url(rgba: np.ndarray) -> str:
    """An RGBA image (``uint8``, rows top down) as a ``data:image/png`` URL: the bytes Folium's ``image_to_url``
    (branca's ``write_png``: one PNG, DEFLATE level 9, no filter) gives, without importing Folium.

    Parameters
    ----------
    rgba
        Height × width × 4, ``uint8``.

    Returns
    -------
    str
        ``data:image/png;base64,...``.
    """
    import base64
    import struct
    import zlib

    h, w, _ = rgba.shape
    raw = np.zeros((h, 1 + 4 * w), dtype=np.uint8)  # each row: filter type 0, then its pixels
    raw[:, 1:] = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(h, 4 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + tag + data + struct.pack("!I", 0xFFFFFFFF & zlib.crc32(tag + data))

    png = b"".join([b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack("!2I5B", w, h, 8, 6, 0, 0, 0)),
                    chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)), chunk(b"IEND", b"")])
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def overlay_images(res: RunResult, codes: list[str]) -> tuple[np.ndarray, list[list[float]]]:
    """The suitability of ``codes`` in Web Mercator (the map's projection) at most :data:`OVERLAY_PX` on a
    side (one array per code, cell averages, NaN where excluded) and the overlay's bounds ([[lat, lon] south
    west, north east]). One warp for every code (the grid and its transform are shared); each band's NaN
    are its own (``UNIFIED_SRC_NODATA=NO``), so every code's overlay is the one a warp of it alone gives.

    Parameters
    ----------
    res
        The run (its grid and masked suitability surfaces).
    codes
        The categories to warp (none: only the bounds).

    Returns
    -------
    tuple of numpy.ndarray and list
        ``(len(codes), height, width)`` float32 images and ``[[lat, lon], [lat, lon]]`` bounds.
    """
    grid = res.prep.grid
    left, top = grid.transform.c, grid.transform.f
    right, bottom = left + grid.width * grid.res, top - grid.height * grid.res
    scale = max(max(grid.width, grid.height) / OVERLAY_PX, 1.0)
    w, h = max(int(grid.width / scale), 1), max(int(grid.height / scale), 1)
    tr, w2, h2 = calculate_default_transform(grid.crs, "EPSG:3857", grid.width, grid.height, left, bottom, right,
                                             top, dst_width=w, dst_height=h)
    out = np.full((len(codes), h2, w2), np.nan, dtype=np.float32)
    if codes:
        src = np.stack([res.prep.surfaces[code].masked for code in codes])
        reproject(src, out, src_transform=grid.transform, src_crs=grid.crs, dst_transform=tr, dst_crs="EPSG:3857",
                  resampling=Resampling.average, src_nodata=np.nan, dst_nodata=np.nan, UNIFIED_SRC_NODATA="NO")
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(tr.c, tr.f + h2 * tr.e)
    lon1, lat1 = to_ll.transform(tr.c + w2 * tr.a, tr.f)
    return out, [[round(lat0, 6), round(lon0, 6)], [round(lat1, 6), round(lon1, 6)]]


def suitability(res: RunResult, code: str, overlay: tuple[np.ndarray, list[list[float]]] | None = None) -> dict[str, Any]:
    """One category's suitability as a PNG overlay in Web Mercator (the map's projection); ``overlay`` is
    its image and bounds from :func:`overlay_images` (worked out here when not given)."""
    if overlay is None:
        images, bounds = overlay_images(res, [code])
        overlay = images[0], bounds
    image, bounds = overlay
    cat = res.prep.catalogue.table.set_index("code")
    name = fe(text(cat.loc[code, "name_fa"]), text(cat.loc[code, "name_en"]))
    ramp = ["#{:02x}{:02x}{:02x}".format(*tuple(int(v) for v in c)) for c in VIRIDIS]
    return {"kind": "image", "name": name, "group": "suitability", "show": False, "opacity": _styles.SUITABILITY_OPACITY,
            "legend": {"type": "ramp", "colours": ramp, "labels": [fe("۰ کم", "0 low"), fe("۱ زیاد", "1 high")],
                       "note": fe("شفاف: ممنوع طبق ضوابط مکان‌یابی", "transparent: excluded by the siting rules")},
            "url": png_data_url(_colour_ramp(image)), "bounds": bounds}

