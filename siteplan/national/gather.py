"""Gathering the units' outputs into national ones: each unit's folder under ``provinces/``, and the
tables and layers of every unit concatenated with a ``partition`` column (first), in unit order.

The rows keep their bytes: CSV cells are read as text and written back as they were (they were
neutralised against formulas when the unit wrote them), only the new ``partition`` cell is neutralised
(:func:`siteplan.export.neutralise_formulas`). A row's partition is the partition that owns its
business (``biz_id``) or estate (``estate_id``); rows of a unit of several partitions that name
neither (towns, flows' origins, proposed sites) carry the unit's label (``A + B``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from ..export import neutralise_formulas
from .partition import Unit
from .runner import SUMMARY, Outcome, unit_dir

__all__ = ["copy_units", "gather_tables", "CSV_FILES", "GEOJSON_FILES"]

CSV_FILES = ("relocation.csv", "estate_summary.csv", "upgrades.csv", "options.csv", "towns.csv", "counties.csv",
             "flows.csv", "review.csv")
GEOJSON_FILES = ("estates.geojson", "zones.geojson", "sites.geojson", "clusters.geojson", "plots.geojson")


def copy_units(units: list[Unit], outcomes: list[Outcome], cache_dir: Path, stage: Path) -> None:
    """Copy each finished unit's outputs from the cache into ``stage/provinces/<folder>/``."""
    for u, o in zip(units, outcomes):
        if o.status == "failed":
            continue
        src = unit_dir(cache_dir, o.key)
        shutil.copytree(src, stage / "provinces" / u.folder, ignore=shutil.ignore_patterns(SUMMARY, ".siteplan-run"))


def _partition_of(u: Unit, df: pd.DataFrame) -> pd.Series:
    if len(u.keys) == 1:
        return pd.Series([u.keys[0]] * len(df), index=df.index, dtype=object)
    out = pd.Series([u.label] * len(df), index=df.index, dtype=object)
    if "estate_id" in df.columns:
        out = df["estate_id"].astype(str).map(u.estate_owner).fillna(out)
    if "biz_id" in df.columns:
        out = df["biz_id"].astype(str).map(u.biz_owner).fillna(out)
    return out


def _gather_csv(name: str, parts: list[tuple[Unit, Path]], out: Path, bom: bool) -> bool:
    frames = []
    for u, folder in parts:
        f = folder / name
        if not f.is_file():
            continue
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        part = _partition_of(u, df)
        df.insert(0, "partition", neutralise_formulas(part.to_frame("p"))["p"].to_numpy())
        frames.append(df)
    if not frames:
        return False
    df = pd.concat(frames, ignore_index=True)
    has_cr = any(df[c].str.contains("\r", regex=False).any() for c in df.columns)
    df.to_csv(out / name, index=False, encoding="utf-8-sig" if bom else "utf-8",
              lineterminator="\r\n" if has_cr else "\n")
    return True


def _gather_geojson(name: str, parts: list[tuple[Unit, Path]], out: Path) -> bool:
    feats: list[dict[str, Any]] = []
    found = False
    for u, folder in parts:
        f = folder / name
        if not f.is_file():
            continue
        found = True
        doc = json.loads(f.read_text(encoding="utf-8"))
        for feat in doc["features"]:
            props = feat.get("properties") or {}
            key = u.keys[0] if len(u.keys) == 1 else (
                u.biz_owner.get(str(props.get("biz_id"))) or u.estate_owner.get(str(props.get("estate_id"))) or u.label)
            feat["properties"] = {"partition": key, **props}
            feats.append(feat)
    if not found:
        return False
    text = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, separators=(",", ":"))
    (out / name).write_text(text + "\n", encoding="utf-8")
    return True


def gather_tables(units: list[Unit], outcomes: list[Outcome], stage: Path, *, bom: bool = False) -> list[str]:
    """Write the national CSV and GeoJSON files into ``stage`` from the units copied under
    ``stage/provinces``; returns the names written."""
    parts = [(u, stage / "provinces" / u.folder) for u, o in zip(units, outcomes) if o.status != "failed"]
    written = [n for n in CSV_FILES if _gather_csv(n, parts, stage, bom)]
    written += [n for n in GEOJSON_FILES if _gather_geojson(n, parts, stage)]
    return written
