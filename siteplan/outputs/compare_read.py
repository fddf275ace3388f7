"""Reading a run folder for a comparison (:mod:`siteplan.outputs.compare`): ``relocation.csv`` with the
columns compared, the ``estates``, ``sites`` and ``zones`` GeoJSON layers and ``manifest.json``, read
defensively (only ``biz_id`` and ``status`` must be there; a damaged file is one clear error naming it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.errors import ShapelyError

from ..errors import InputError
from ..relocation.reasons import reason_codes
from .formats import undo_defuse

__all__ = ["RunFolder", "read_run", "is_placed", "destination", "TEXT_COLUMNS", "NUM_COLUMNS"]

#: the text columns of relocation.csv a comparison reads (missing ones empty)
TEXT_COLUMNS = ("biz_id", "name", "category", "category_fa", "estate_id", "zone_id", "site_id", "status", "reason",
                "reason_code", "reason_fa")
#: the numeric columns of relocation.csv a comparison reads (missing ones NaN)
NUM_COLUMNS = ("distance_km", "road_km", "minutes", "land_m2", "lon", "lat")
_UNASSIGNED = ("unassigned", "")


@dataclass
class RunFolder:
    """One run folder as read for a comparison.

    Attributes
    ----------
    path
        The folder.
    manifest
        ``manifest.json`` (an empty dict when the folder has none but is otherwise a run).
    relocation
        ``relocation.csv`` with the columns compared (missing optional ones empty), ``biz_id`` unique.
    estates, sites, zones
        The GeoJSON layers in EPSG:4326 (None when the file is absent).
    """

    path: Path
    manifest: dict[str, Any]
    relocation: pd.DataFrame
    estates: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    zones: gpd.GeoDataFrame | None = None

    @property
    def name(self) -> str:
        """The scenario's name (from the manifest), else the folder's."""
        sc = self.manifest.get("scenario")
        n = sc.get("name") if isinstance(sc, dict) else None
        return str(n) if n else self.path.name


def _read_relocation(path: Path, label: str) -> pd.DataFrame:
    f = path / "relocation.csv"
    try:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{label} {path}: has no relocation.csv; give a folder that `siteplan run` wrote") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{label} {f}: cannot be read as a CSV ({exc}); was it edited? run the scenario again") \
            from None
    df.columns = [undo_defuse(str(c)) for c in df.columns]
    missing = [c for c in ("biz_id", "status") if c not in df.columns]
    if missing:
        raise InputError(f"{label} {f}: missing column(s) {', '.join(missing)} (its columns: "
                         f"{', '.join(map(str, df.columns[:15]))}); give the relocation.csv of a siteplan run")
    out = pd.DataFrame({c: (df[c].map(undo_defuse) if c in df.columns else "") for c in TEXT_COLUMNS})
    for c in NUM_COLUMNS:
        out[c] = pd.to_numeric(df[c], errors="coerce") if c in df.columns else np.nan
    # the reason's code: as the run wrote it, else from the sentence (runs written before the column)
    derived = pd.Series(reason_codes(out["reason"]), index=out.index, dtype=object)
    out["reason_code"] = out["reason_code"].where(out["reason_code"].str.strip() != "", derived)
    dup = out["biz_id"][out["biz_id"].duplicated()]
    if len(dup):
        raise InputError(f"{label} {f}: biz_id {', '.join(map(repr, dup.head(5)))} appear(s) more than once; a "
                         "run lists each business once: run the scenario again")
    return out.reset_index(drop=True)


def _read_layer(path: Path, name: str, label: str) -> gpd.GeoDataFrame | None:
    f = path / name
    if not f.is_file():
        return None
    try:
        g = gpd.read_file(f, engine="pyogrio")
    except (RuntimeError, ValueError, OSError, TypeError, ShapelyError) as exc:  # pyogrio's errors are RuntimeErrors
        raise InputError(f"{label} {f}: cannot be read as GeoJSON ({type(exc).__name__}: {exc})") from None
    if g.crs is None:
        g = g.set_crs(4326)
    return g


def read_run(path: str | Path, label: str = "run") -> RunFolder:
    """Read a run folder for a comparison.

    Parameters
    ----------
    path
        A folder ``siteplan run`` (or ``siteplan demo``) wrote.
    label
        How messages name it (``RUN_A``).

    Returns
    -------
    RunFolder

    Raises
    ------
    InputError
        The folder is missing, is not a folder, is not a run (no ``relocation.csv`` and no siteplan
        ``manifest.json``), or a file it needs cannot be read.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{label} {p}: no such folder; give the --out folder of a `siteplan run`")
    if not p.is_dir():
        raise InputError(f"{label} {p}: is a file, not a run folder; give the --out folder of a `siteplan run`")
    manifest: dict[str, Any] = {}
    mf = p / "manifest.json"
    if mf.is_file():
        try:
            m = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{label} {mf}: is not valid JSON ({exc}); run the scenario again") from None
        if isinstance(m, dict) and "siteplan" in m:
            manifest = m
    if not manifest and not (p / "relocation.csv").is_file():
        raise InputError(f"{label} {p}: is not a siteplan run folder (it has neither a siteplan manifest.json nor "
                         "a relocation.csv); give the --out folder of a `siteplan run`")
    rel = _read_relocation(p, label)
    return RunFolder(p, manifest, rel, _read_layer(p, "estates.geojson", label), _read_layer(p, "sites.geojson", label),
                     _read_layer(p, "zones.geojson", label))


def is_placed(status: pd.Series) -> pd.Series:
    """Whether each business is placed (its status is neither ``unassigned`` nor empty)."""
    return ~status.str.strip().str.lower().isin(_UNASSIGNED)


def destination(df: pd.DataFrame) -> pd.Series:
    """Where a placed business goes: its estate, else its proposed site."""
    return df["estate_id"].where(df["estate_id"] != "", df["site_id"])
