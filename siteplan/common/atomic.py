"""Atomic, deterministic file writing shared by the exporters and the demo builder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd

__all__ = ["atomic_path", "atomic_dir_files", "write_shapefile", "fix_dbf_date"]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only when the block succeeds.

    A failure leaves neither a half-written file nor the temporary one behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
        tmp_path.replace(path)
    finally:
        if tmp_path.exists():
            if tmp_path.is_dir():
                shutil.rmtree(tmp_path, ignore_errors=True)
            else:
                tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir_files(folder: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on success move each file in it into ``folder`` (replacing), on failure
    remove the staging folder. Used for multi-file outputs such as shapefiles."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging.", dir=folder))
    try:
        yield stage
        for f in sorted(stage.iterdir()):
            f.replace(folder / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def fix_dbf_date(dbf: Path, yymmdd: tuple[int, int, int] = (126, 1, 1)) -> None:
    """Set the 'last update' date in a DBF header to a fixed value so rewrites are byte-identical."""
    with Path(dbf).open("r+b") as fh:
        fh.seek(1)
        fh.write(bytes(yymmdd))


def write_shapefile(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write a UTF-8 shapefile (with ``.cpg``) atomically and deterministically.

    Parameters
    ----------
    gdf
        Features with a CRS, all of one geometry type (points, lines or polygons); field names of at
        most 10 characters.
    path
        Target ``.shp`` path; its sidecar files are written beside it.
    """
    path = Path(path)
    dims = set(gdf.geometry.dropna()[~gdf.geometry.dropna().is_empty].geom_type.map(
        lambda t: t.removeprefix("Multi").replace("LinearRing", "LineString")))
    if len(dims) > 1:
        # a shapefile holds one geometry type: GDAL would write polygons as their outlines into a line file
        raise ValueError(f"{path.name}: a shapefile holds one geometry type, got {', '.join(sorted(dims))}")
    with atomic_dir_files(path.parent) as stage:
        target = stage / path.name
        gdf.to_file(target, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        fix_dbf_date(target.with_suffix(".dbf"))
        cpg = target.with_suffix(".cpg")
        cpg.write_text("UTF-8", encoding="ascii")
