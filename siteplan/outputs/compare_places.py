"""Proposed sites and zones of two runs matched by where they are (:mod:`siteplan.outputs.compare`): a site
is kept, moved, added or removed (ids are each run's labels, so sites are matched by overlap and distance,
never by id); a zone (one per estate and category) is added, removed, resized or redrawn.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["compare_sites", "site_map", "compare_zones", "SITE_MATCH_OVERLAP", "SITE_CHANGES", "ZONE_SAME_OVERLAP"]

#: Two proposed sites are the same site ("kept") when their intersection is at least this share of
#: their union.
SITE_MATCH_OVERLAP = 0.5
#: The kinds of change of a proposed site, in the order tables list them.
SITE_CHANGES = ("kept", "moved", "added", "removed")
#: A zone is "redrawn" when the same estate and category keep a zone whose overlap (intersection over
#: union) with the old one is below this.
ZONE_SAME_OVERLAP = 0.9


def _overlap(ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """Intersection over union of paired geometries (0 where either is empty)."""
    inter = shapely.area(shapely.intersection(ga, gb))
    union = shapely.area(shapely.union(ga, gb))
    out = np.zeros(len(inter))
    np.divide(inter, union, out=out, where=union > 0)
    return out


def _col(g: gpd.GeoDataFrame, c: str, default: Any = "") -> list[Any]:
    return list(g[c]) if c in g else [default] * len(g)


def _match_sites(iou: np.ndarray, shift: np.ndarray, radius: np.ndarray) -> tuple[list[tuple[int, int]],
                                                                                  list[tuple[int, int]]]:
    """Pairs of A and B sites: ``kept`` (largest overlap first, at least :data:`SITE_MATCH_OVERLAP`),
    then ``moved`` among the rest (nearest first: polygons that overlap, or centres closer than the
    larger of the two sites' equivalent radii ``radius``)."""
    kept: list[tuple[int, int]] = []
    moved: list[tuple[int, int]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    nb = max(iou.shape[1], 1)
    for k in np.argsort(-iou, axis=None, kind="stable"):
        i, j = divmod(int(k), nb)
        if iou[i, j] < SITE_MATCH_OVERLAP:
            break
        if i not in used_a and j not in used_b:
            kept.append((i, j))
            used_a.add(i)
            used_b.add(j)
    near = (iou > 0) | (shift < radius)
    for k in np.argsort(shift, axis=None, kind="stable"):
        i, j = divmod(int(k), nb)
        if near[i, j] and i not in used_a and j not in used_b:
            moved.append((i, j))
            used_a.add(i)
            used_b.add(j)
    return kept, moved


def compare_sites(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Proposed sites of A and B, matched by where they are (site ids are labels of each run: S01 in A
    may be another place than S01 in B).

    A pair is ``kept`` when the two overlap by at least :data:`SITE_MATCH_OVERLAP` of their union
    (largest overlap first); of the rest, a pair is ``moved`` when the site is found again within its
    own size: the polygons overlap, or the centres are closer than the equivalent radius
    (``sqrt(area / pi)``) of the larger of the two (nearest first). Sites left are ``removed`` (in A
    only) or ``added`` (in B only). A site shifted by less than its own size is thus one site moved,
    not one removed and one added.

    Returns
    -------
    pandas.DataFrame
        ``change`` (:data:`SITE_CHANGES`), per side ``site_id``, ``categories``, ``area_ha``, ``units``
        (``_a``, ``_b``), ``overlap`` (intersection over union), ``shift_m`` (distance between the
        centres of a matched pair), ``lon``, ``lat`` (B's centre, else A's) and ``lon_a``, ``lat_a``
        (A's centre).
    """
    cols = ["change", "site_id_a", "site_id_b", "categories_a", "categories_b", "area_ha_a", "area_ha_b",
            "units_a", "units_b", "overlap", "shift_m", "lon", "lat", "lon_a", "lat_a"]
    ga = a if a is not None else gpd.GeoDataFrame(geometry=[], crs=4326)
    gb = b if b is not None else gpd.GeoDataFrame(geometry=[], crs=4326)
    if not len(ga) and not len(gb):
        return pd.DataFrame(columns=cols)
    both = pd.concat([ga.geometry, gb.geometry], ignore_index=True)
    crs = gpd.GeoSeries(both, crs=ga.crs or gb.crs or 4326).estimate_utm_crs()
    ma = ga.to_crs(crs).geometry.values if len(ga) else np.array([])
    mb = gb.to_crs(crs).geometry.values if len(gb) else np.array([])
    ia, ib = np.meshgrid(np.arange(len(ma)), np.arange(len(mb)), indexing="ij")
    shape = (len(ma), len(mb))
    ca, cb = (shapely.centroid(m) if len(m) else np.array([]) for m in (ma, mb))
    if len(ma) and len(mb):
        iou = _overlap(ma[ia.ravel()], mb[ib.ravel()]).reshape(shape)
        shift = shapely.distance(ca[ia.ravel()], cb[ib.ravel()]).reshape(shape)
        rad = np.maximum(np.sqrt(shapely.area(ma) / np.pi)[:, None], np.sqrt(shapely.area(mb) / np.pi)[None, :])
    else:
        iou, shift, rad = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    # a site without geometry matches nothing
    iou, shift = np.nan_to_num(iou, nan=0.0), np.nan_to_num(shift, nan=np.inf)
    kept, moved = _match_sites(iou, shift, rad)
    used_a = {i for i, _ in kept + moved}
    used_b = {j for _, j in kept + moved}
    cen = [gpd.GeoSeries(c, crs=crs).to_crs(4326).values if len(c) else np.array([]) for c in (ca, cb)]
    attrs = [{n: _col(g, n, np.nan if n in ("area_ha", "units") else "") for n in ("site_id", "categories", "area_ha",
                                                                                  "units")} for g in (ga, gb)]

    def xy(c: Any) -> tuple[float, float]:
        return round(float(shapely.get_x(c)), 6), round(float(shapely.get_y(c)), 6)

    def row(change: str, i: int | None, j: int | None) -> dict[str, Any]:
        lon, lat = xy(cen[1][j] if j is not None else cen[0][i])
        lon_a, lat_a = xy(cen[0][i]) if i is not None else (np.nan, np.nan)
        pair = i is not None and j is not None
        r: dict[str, Any] = {"change": change, "lon": lon, "lat": lat, "lon_a": lon_a, "lat_a": lat_a,
                             "overlap": round(float(iou[i, j]), 4) if pair else np.nan,
                             "shift_m": round(float(shift[i, j]), 1) if pair else np.nan}
        for s, k, at in (("a", i, attrs[0]), ("b", j, attrs[1])):
            for n, vals in at.items():
                r[f"{n}_{s}"] = vals[k] if k is not None else (np.nan if n in ("area_ha", "units") else "")
        return r

    rows = [row("kept", i, j) for i, j in kept] + [row("moved", i, j) for i, j in moved]
    rows += [row("removed", i, None) for i in range(len(ma)) if i not in used_a]
    rows += [row("added", None, j) for j in range(len(mb)) if j not in used_b]
    t = pd.DataFrame(rows, columns=cols)
    for c in ("site_id_a", "site_id_b", "categories_a", "categories_b"):
        t[c] = t[c].fillna("").astype(str)
    return t


def site_map(sites: pd.DataFrame) -> dict[str, str]:
    """A's site id -> B's, for the sites :func:`compare_sites` matched (kept or moved)."""
    m = sites[sites["change"].isin(("kept", "moved")) & (sites["site_id_a"] != "") & (sites["site_id_b"] != "")]
    return dict(zip(m["site_id_a"].astype(str), m["site_id_b"].astype(str)))


def compare_zones(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Zones (one per estate and category) that differ: ``added``, ``removed``, ``resized`` (area or
    units changed) or ``redrawn`` (same size, overlap below :data:`ZONE_SAME_OVERLAP`)."""
    cols = ["estate_id", "category", "change", "zone_id_a", "zone_id_b", "area_ha_a", "area_ha_b", "units_a",
            "units_b", "overlap"]
    keep = ["estate_id", "category", "zone_id", "area_ha", "units"]

    def prep(g: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
        if g is None or not {"estate_id", "category"} <= set(g.columns):
            return gpd.GeoDataFrame({c: [] for c in keep}, geometry=[], crs=4326)
        g = g.copy()
        for c in ("zone_id", "area_ha", "units"):
            if c not in g:
                g[c] = np.nan if c != "zone_id" else ""
        g["estate_id"] = g["estate_id"].astype(str)
        g["category"] = g["category"].astype(str)
        g = g[[*keep, g.geometry.name]]
        return g if g.geometry.name == "geometry" else g.rename_geometry("geometry")

    za, zb = prep(a), prep(b)
    m = za.merge(zb, on=["estate_id", "category"], how="outer", suffixes=("_a", "_b"), indicator=True, sort=True)
    if not len(m):
        return pd.DataFrame(columns=cols)
    both = m["_merge"] == "both"
    ov = np.full(len(m), np.nan)
    if both.any():
        crs = gpd.GeoSeries(pd.concat([za.geometry, zb.geometry]), crs=4326).estimate_utm_crs()
        ga = gpd.GeoSeries(m.loc[both, "geometry_a"], crs=za.crs or 4326).to_crs(crs).values
        gb = gpd.GeoSeries(m.loc[both, "geometry_b"], crs=zb.crs or 4326).to_crs(crs).values
        ov[both.to_numpy()] = np.round(_overlap(np.asarray(ga), np.asarray(gb)), 4)
    aa, ab = pd.to_numeric(m["area_ha_a"], errors="coerce"), pd.to_numeric(m["area_ha_b"], errors="coerce")
    na, nb = pd.to_numeric(m["units_a"], errors="coerce"), pd.to_numeric(m["units_b"], errors="coerce")
    resized = both & (((aa - ab).abs() > 1e-3) | (na != nb))
    redrawn = both & ~resized & (ov < ZONE_SAME_OVERLAP)
    m["change"] = np.select([m["_merge"] == "left_only", m["_merge"] == "right_only", resized, redrawn],
                            ["removed", "added", "resized", "redrawn"], default="")
    m["overlap"] = ov
    out = m[m["change"] != ""][cols].copy()
    for c in ("zone_id_a", "zone_id_b"):
        out[c] = out[c].fillna("").astype(str)
    return out.reset_index(drop=True)
