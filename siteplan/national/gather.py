"""Gathering the units' outputs into national ones: each unit's folder under ``provinces/``, and the
tables and layers of every unit concatenated with a ``partition`` column (first), in unit order.

The rows keep their bytes: CSV cells are read as text and written back as they were (they were
neutralised against formulas when the unit wrote them), only the new ``partition`` cell is neutralised
(:func:`siteplan.outputs.writer.neutralise_formulas`). A row's partition is the partition that owns its
business (``biz_id``) or estate (``estate_id``); rows of a unit of several partitions that name
neither (towns, flows' origins, proposed sites) carry the unit's label (``A + B``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..outputs.files import gathered
from ..outputs.writer import neutralise_formulas
from .collate import persian_key
from .partition import Unit, owners
from .runner import SUMMARY, Outcome, unit_dir

__all__ = ["copy_units", "gather_tables", "national_figures", "NationalFigures", "write_figures", "CSV_FILES",
           "GEOJSON_FILES"]

#: the tables and layers every unit's rows / features are gathered from (:data:`siteplan.outputs.files.RUN_FILES`)
CSV_FILES = gathered("csv")
GEOJSON_FILES = gathered("geojson")


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


def _gather_csv(name: str, parts: list[tuple[Unit, Path]], out: Path, *, bom: bool) -> bool:
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


def _holders(u: Unit, feats: list[dict[str, Any]], polygons: gpd.GeoDataFrame | None) -> list[str | None]:
    """For a unit of several provinces: the member province whose polygon holds each feature (a point on
    its surface; the nearest member for one outside them all); None without polygons."""
    if polygons is None or len(u.keys) < 2 or not feats:
        return [None] * len(feats)
    members = polygons[polygons["partition"].isin(u.keys)].reset_index(drop=True)
    geoms = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) if f.get("geometry") else shapely.Point()
                           for f in feats], crs=4326).to_crs(polygons.crs)
    pts = shapely.point_on_surface(geoms.values)
    own, _ = owners(pts, members)
    return [str(members["partition"].iloc[i]) for i in own]


def _gather_geojson(name: str, parts: list[tuple[Unit, Path]], out: Path,
                    polygons: gpd.GeoDataFrame | None = None) -> bool:
    feats: list[dict[str, Any]] = []
    found = False
    for u, folder in parts:
        f = folder / name
        if not f.is_file():
            continue
        found = True
        doc = json.loads(f.read_text(encoding="utf-8"))
        held = _holders(u, doc["features"], polygons if name == "sites.geojson" else None)
        for feat, holder in zip(doc["features"], held):
            props = feat.get("properties") or {}
            key = u.keys[0] if len(u.keys) == 1 else (
                u.biz_owner.get(str(props.get("biz_id"))) or u.estate_owner.get(str(props.get("estate_id")))
                or holder or u.label)
            feat["properties"] = {"partition": key, **props}
            feats.append(feat)
    if not found:
        return False
    text = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, separators=(",", ":"))
    (out / name).write_text(text + "\n", encoding="utf-8")
    return True


def gather_tables(units: list[Unit], outcomes: list[Outcome], stage: Path, *, bom: bool = False,
                  polygons: gpd.GeoDataFrame | None = None) -> list[str]:
    """Write the national CSV and GeoJSON files into ``stage`` from the units copied under
    ``stage/provinces``; returns the names written. With ``polygons`` (the provinces), a proposed site
    of a joint run (open borders) carries the province that holds it."""
    parts = [(u, stage / "provinces" / u.folder) for u, o in zip(units, outcomes) if o.status != "failed"]
    written = [n for n in CSV_FILES if _gather_csv(n, parts, stage, bom=bom)]
    written += [n for n in GEOJSON_FILES if _gather_geojson(n, parts, stage, polygons)]
    return written


#: the figures of a province (and of the totals), in the order of the tables
FIGURES = ("businesses", "assigned", "unassigned", "share_placed", "land_ha", "mean_km", "estates", "zones", "sites")


@dataclass
class NationalFigures:
    """The national figures, from the gathered tables (so that a joint run's rows count for their own
    provinces).

    Attributes
    ----------
    provinces
        One row per province (Persian alphabetical order): ``province``, ``status`` (``ok``, computed
        now or taken from the cache: the same bytes; or ``failed``), ``error``, ``folder`` and
        :data:`FIGURES` (empty for a failed province, whose ``businesses_listed`` says how many
        businesses its files hold).
    categories
        One row per category (``category``, ``category_fa`` and the figures) over the provinces that ran.
    flows
        ``origin_province``, ``destination_province``, ``businesses``, ``land_ha``: where the businesses
        of each province are relocated (the estate's province), within a province included.
    estate_flows
        Lines (EPSG:4326) from the mean place of a province's businesses relocated to an estate, by
        category, to that estate: ``origin_province``, ``destination_province``, ``estate_id``,
        ``estate_name``, ``category``, ``businesses``, ``land_ha``.
    """

    provinces: pd.DataFrame
    categories: pd.DataFrame
    flows: pd.DataFrame
    estate_flows: gpd.GeoDataFrame


def _read(stage: Path, name: str) -> pd.DataFrame:
    f = stage / name
    if not f.is_file():
        return pd.DataFrame()
    return pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_stage_layer(stage: Path, name: str) -> gpd.GeoDataFrame:
    """A gathered GeoJSON layer of the national folder (an empty one with a ``partition`` column when absent)."""
    f = stage / name
    if not f.is_file():
        return gpd.GeoDataFrame({"partition": []}, geometry=[], crs=4326)
    g = gpd.read_file(f)
    if "partition" not in g.columns:  # no feature: no property either
        g["partition"] = pd.Series([], dtype=object)
    return g if g.crs is not None else g.set_crs(4326)


def _sums(rel: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Businesses, assigned, unassigned, land (ha) and mean distance (km) of relocation rows by ``by``."""
    d = rel.assign(_n=1, _a=(rel["status"] == "assigned").astype(int),
                   _land=pd.to_numeric(rel["land_m2"], errors="coerce").where(rel["status"] == "assigned", 0.0),
                   _km=pd.to_numeric(rel["distance_km"], errors="coerce").where(rel["status"] == "assigned"))
    g = d.groupby(by, sort=True, dropna=False)
    out = pd.DataFrame({"businesses": g["_n"].sum(), "assigned": g["_a"].sum(),
                        "land_ha": (g["_land"].sum() / 1e4).round(2), "mean_km": g["_km"].mean().round(3)})
    out["unassigned"] = out["businesses"] - out["assigned"]
    out["share_placed"] = (out["assigned"] / out["businesses"].where(out["businesses"] > 0)).round(4)
    return out.reset_index()


def _estate_owner(units: list[Unit]) -> tuple[dict[str, Unit], dict[tuple[str, str], str]]:
    by_key = {k: u for u in units for k in u.keys}
    owner = {(u.label, e): k for u in units for e, k in u.estate_owner.items()}
    return by_key, owner


def national_figures(units: list[Unit], outcomes: list[Outcome], polygons: gpd.GeoDataFrame,
                     stage: Path) -> NationalFigures:
    """The national figures from the gathered files in ``stage`` (see :class:`NationalFigures`).

    Parameters
    ----------
    units, outcomes
        The units and their outcomes, in the same order.
    polygons
        The provinces (``partition``, geometry).
    stage
        The national folder being written (its ``relocation.csv``, ``estates.geojson``, ``zones.geojson``
        and ``sites.geojson`` are read when present).

    Returns
    -------
    NationalFigures
    """
    rel = _read(stage, "relocation.csv")
    if rel.empty:
        rel = pd.DataFrame(columns=["partition", "biz_id", "category", "category_fa", "lon", "lat", "estate_id",
                                    "estate_name", "distance_km", "land_m2", "status"])
    by_key, est_owner = _estate_owner(units)
    # the estate's province: the business's own, or in a joint run the estate's owner
    unit_label = rel["partition"].map(lambda k: by_key[k].label if k in by_key else k)
    dest = pd.Series([est_owner.get((lab, e), p) for lab, e, p in zip(unit_label, rel["estate_id"], rel["partition"])],
                     index=rel.index, dtype=object)
    rel = rel.assign(origin_province=rel["partition"], destination_province=dest.where(rel["status"] == "assigned", ""))
    # provinces
    per = _sums(rel, ["partition"]).set_index("partition") if len(rel) else pd.DataFrame()
    counts = {name: read_stage_layer(stage, f"{name}.geojson")["partition"].value_counts()
              for name in ("estates", "zones", "sites")}
    status = {k: (o, u) for u, o in zip(units, outcomes) for k in u.keys}
    rows = []
    for k in sorted(polygons["partition"].astype(str), key=persian_key):
        o, u = status[k]
        row: dict[str, Any] = {"province": k, "status": "failed" if o.status == "failed" else "ok",
                               "error": o.error, "folder": "" if o.status == "failed" else u.folder}
        if o.status == "failed":
            row.update(dict.fromkeys(FIGURES))
            row["businesses_listed"] = int(u.businesses) if len(u.keys) == 1 else None
        else:
            f = per.loc[k] if k in per.index else None
            for c in ("businesses", "assigned", "unassigned"):
                row[c] = int(f[c]) if f is not None else 0
            for c in ("share_placed", "land_ha", "mean_km"):
                row[c] = float(f[c]) if f is not None and pd.notna(f[c]) else (0.0 if c == "land_ha" else None)
            for name in ("estates", "zones", "sites"):
                row[name] = int(counts[name].get(k, 0))
            row["businesses_listed"] = row["businesses"]
        rows.append(row)
    provinces = pd.DataFrame(rows, columns=["province", "status", "error", "folder", *FIGURES, "businesses_listed"])
    for c in ("businesses", "assigned", "unassigned", "estates", "zones", "sites", "businesses_listed"):
        provinces[c] = provinces[c].astype("Int64")  # counts stay integers beside a failed province's blanks
    # categories
    cats = _sums(rel, ["category", "category_fa"]) if len(rel) else pd.DataFrame(
        columns=["category", "category_fa", "businesses", "assigned", "unassigned", "share_placed", "land_ha",
                 "mean_km"])
    cats = cats.iloc[sorted(range(len(cats)), key=lambda i: (cats["category"].iloc[i] == "",
                                                             persian_key(cats["category_fa"].iloc[i]),
                                                             cats["category"].iloc[i]))].reset_index(drop=True)
    cats = cats[["category", "category_fa", "businesses", "assigned", "unassigned", "share_placed", "land_ha",
                 "mean_km"]]
    # flows
    placed = rel[rel["status"] == "assigned"]
    flows = _sums(placed, ["origin_province", "destination_province"])[
        ["origin_province", "destination_province", "businesses", "land_ha"]] if len(placed) else pd.DataFrame(
        columns=["origin_province", "destination_province", "businesses", "land_ha"])
    flows = flows.iloc[sorted(range(len(flows)), key=lambda i: (persian_key(flows["origin_province"].iloc[i]),
                                                                persian_key(flows["destination_province"].iloc[i])))]
    return NationalFigures(provinces, cats, flows.reset_index(drop=True), _estate_flows(placed, stage))


def _estate_flows(placed: pd.DataFrame, stage: Path) -> gpd.GeoDataFrame:
    """Lines from the mean place of a province's businesses relocated to an estate (by category) to it."""
    cols = ["origin_province", "destination_province", "estate_id", "estate_name", "category", "businesses",
            "land_ha"]
    est = read_stage_layer(stage, "estates.geojson")
    if placed.empty or est.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    at = dict(zip(zip(est["partition"].astype(str), est["estate_id"].astype(str)),
                  shapely.point_on_surface(est.geometry.values)))
    d = placed.assign(_x=pd.to_numeric(placed["lon"], errors="coerce"), _y=pd.to_numeric(placed["lat"], errors="coerce"),
                      _land=pd.to_numeric(placed["land_m2"], errors="coerce"), _n=1)
    g = d.groupby(["origin_province", "destination_province", "estate_id", "estate_name", "category"], sort=True)
    agg = pd.DataFrame({"businesses": g["_n"].sum(), "land_ha": (g["_land"].sum() / 1e4).round(2),
                        "x": g["_x"].mean(), "y": g["_y"].mean()}).reset_index()
    ends = [at.get((dp, e)) for dp, e in zip(agg["destination_province"], agg["estate_id"])]
    keep = np.array([p is not None for p in ends]) & agg[["x", "y"]].notna().all(axis=1).to_numpy()
    agg = agg[keep].reset_index(drop=True)
    kept = [p for p, k in zip(ends, keep) if k and p is not None]
    lines = [shapely.LineString([(round(x, 7), round(y, 7)), (round(p.x, 7), round(p.y, 7))])
             for x, y, p in zip(agg["x"], agg["y"], kept)]
    out = gpd.GeoDataFrame(agg[cols], geometry=lines, crs=4326)
    order = sorted(range(len(out)), key=lambda i: (persian_key(out["origin_province"].iloc[i]),
                                                   persian_key(out["destination_province"].iloc[i]),
                                                   out["estate_id"].iloc[i], out["category"].iloc[i]))
    return out.iloc[order].reset_index(drop=True)


def write_figures(figs: NationalFigures, polygons: gpd.GeoDataFrame, stage: Path, *, bom: bool = False
                  ) -> list[tuple[str, gpd.GeoDataFrame]]:
    """Write ``provinces.csv`` and ``province_flows.csv`` into ``stage``; return the GeoPackage layers
    ``provinces`` (polygons with their figures) and ``flows`` (:attr:`NationalFigures.estate_flows`)."""
    from ..outputs.writer import write_csv

    write_csv(figs.provinces, stage / "provinces.csv", bom=bom)
    write_csv(figs.flows, stage / "province_flows.csv", bom=bom)
    geom = dict(zip(polygons["partition"].astype(str), polygons.geometry.values))
    prov = gpd.GeoDataFrame(figs.provinces.copy(), geometry=[geom[k] for k in figs.provinces["province"]],
                            crs=polygons.crs).to_crs(4326)
    return [("provinces", prov), ("flows", figs.estate_flows)]
