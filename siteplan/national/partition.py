"""Splitting a national scenario with a partition layer into run units: one per partition, or one per
group of partitions whose businesses can reach each other's estates when the borders are open (a list
of provincial scenarios is split by :mod:`siteplan.national.provinces`).

Ownership. Every business and every estate belongs to exactly one partition: the one whose polygon
holds the point (an estate's representative point); a point on a shared border goes to the partition
listed first (partitions are ordered by their key), a point outside every partition to the nearest one
(with a warning that names how many and a few ids). So no business is planned twice and no estate's
capacity is offered twice.

Borders. With ``national.cross_border: false`` (the default) each partition is one unit: its
businesses may go only to its own estates, exactly as if the province were run alone with its own
data. With ``cross_border: true`` a business may go to any estate within ``allocation.max_distance_km``,
across borders: partitions P and Q are put in one unit (planned together, in one allocation) when a
business of P lies within that reach of an estate of Q, transitively (connected components). A unit
then holds every business and estate that could interact, so the union of the units' plans is the plan
of one national allocation restricted by nothing but the reach, and each estate's capacity is shared
by the businesses of both sides inside one model, never counted twice.

Context. Towns, roads, receptors, constraints, utilities and rail are kept where they lie within
``national.context_km`` of the unit (they decide suitability, separation rules and origin towns);
features farther away cannot change a unit's results as long as ``context_km`` exceeds the longest
distance a criterion or rule looks (the demo's longest is 40 km; the default is 100 km).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._version import __version__
from ..checks import load_checked
from ..common.hashing import sha256_file
from ..common.notice import Notice
from ..common.textnorm import normalize
from ..errors import InputError
from ..inputs.plausibility import checked_encoding
from ..inputs.region import Region, read_layer_file
from ..scenario import Scenario, read_scenario_file

log = logging.getLogger(__name__)

__all__ = ["Unit", "Partitioning", "read_partitions", "owners", "reach_groups", "partition_scenario", "content_hash",
           "per_province_counts"]

#: layers that are owned (each feature in exactly one partition); the others are context
OWNED = ("businesses", "estates", "plots")


@dataclass
class Unit:
    """One run of the pipeline: a partition, or partitions planned together (open borders).

    Attributes
    ----------
    label
        The partition keys joined with `` + ``.
    keys
        The partition keys.
    folder
        Sub-folder name of the unit's outputs (``provinces/<folder>``): ``p01``, ``p02``, ... in key
        order, never text from the data.
    scenario_path
        The unit's scenario file (in the cache's ``inputs`` folder; a province of a list of provincial
        scenarios run alone: its own file).
    key
        SHA-256 of everything the unit's results depend on (its inputs' content, settings, seed,
        siteplan's version): the cache key.
    businesses, estates
        How many the unit owns.
    biz_owner, estate_owner
        Partition of each business and estate id, for units of several partitions (else empty).
    seed
        The seed the unit runs with when it overrides its scenario's (a national list's ``seed``); None:
        the scenario's own (``--seed`` overrides both).
    """

    label: str
    keys: list[str]
    folder: str
    scenario_path: Path
    key: str
    businesses: int
    estates: int
    biz_owner: dict[str, str] = field(default_factory=dict)
    estate_owner: dict[str, str] = field(default_factory=dict)
    seed: int | None = None


@dataclass
class Partitioning:
    """A national scenario split into units; what the manifest records about the split."""

    units: list[Unit]
    keys: list[str]
    polygons: gpd.GeoDataFrame
    crs: str
    inputs: dict[str, Path]
    warnings: list[Notice]


def content_hash(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a layer's content (columns, values, geometries as WKB), independent of file format
    details (a FlatGeobuf file's bytes differ from write to write; its content does not)."""
    h = hashlib.sha256()
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    h.update(repr([(c, str(attrs[c].dtype)) for c in attrs.columns]).encode())
    if len(attrs.columns):
        h.update(pd.util.hash_pandas_object(attrs.astype(str), index=False).to_numpy().tobytes())
    h.update(b"".join(shapely.to_wkb(gdf.geometry.values, hex=False)) if len(gdf) else b"")
    return h.hexdigest()


def read_partitions(scenario: Scenario, crs: Any) -> gpd.GeoDataFrame:
    """The partition layer in the working CRS: columns ``partition`` (text) and ``geometry``, ordered by key.

    Raises
    ------
    InputError
        The file cannot be read, has no CRS, lacks the field, or a key is empty or repeated, or a
        geometry is not a polygon.
    """
    nat = scenario.national
    assert nat is not None and nat.partitions is not None and nat.field is not None
    spec = nat.partitions
    path = scenario.resolve(spec.path)
    where = f"national.partitions ({spec.path})"
    # as a layer is read: a DBF's encoding detected without a .cpg, or corrected when the .cpg is wrong
    # (read as Latin-1, cp1256 Persian keys became mojibake that named the provinces in every output)
    spec, warns = checked_encoding("national.partitions", spec, path)
    gdf = read_layer_file(path, spec, where, warns)
    for w in warns:
        log.warning("%s", w.message)
    if nat.field not in gdf.columns:
        raise InputError(f"{where}: no field '{nat.field}' (fields: {', '.join(map(str, gdf.columns.drop('geometry')))}); "
                         "set national.field to the field that names each partition")
    if gdf.crs is None:
        if not (spec.crs or scenario.crs):
            raise InputError(f"{where}: the file declares no CRS; give national.partitions.crs")
        gdf = gdf.set_crs(spec.crs or scenario.crs)
    _check_degrees(gdf, where)
    keys = gdf[nat.field]
    problems = [f"{where}: row {i + 1}: the partition key ('{nat.field}') is empty" for i in np.flatnonzero(
        keys.isna().to_numpy() | (keys.astype(str).str.strip() == "").to_numpy())]
    dup = keys[keys.notna()].astype(str).str.strip()
    problems += [f"{where}: partition '{k}' appears {n} times; merge its polygons into one feature or give "
                 "them different keys" for k, n in dup.value_counts().items() if n > 1]
    # keys that differ only in writing (Arabic ي/ك, ZWNJ, spaces, digits, case) read as one name to a user
    same = dup.drop_duplicates().groupby(dup.drop_duplicates().map(normalize)).agg(list)
    problems += [f"{where}: partitions {' and '.join(repr(k) for k in ks)} differ only in writing (Arabic or Persian "
                 "letters, spaces, ZWNJ, digits or case); give each partition one key" for ks in same if len(ks) > 1]
    geom_ok = gdf.geometry.notna().to_numpy() & np.isin(gdf.geom_type.to_numpy(), ["Polygon", "MultiPolygon"])
    problems += [f"{where}: row {i + 1}: geometry is not a polygon" for i in np.flatnonzero(~geom_ok)]
    if len(gdf) == 0:
        problems.append(f"{where}: the layer has no feature")
    if problems:
        raise InputError(problems)
    out = gpd.GeoDataFrame({"partition": keys.astype(str).str.strip().to_numpy()},
                           geometry=shapely.make_valid(gdf.geometry.to_crs(crs).values), crs=crs)
    return out.sort_values("partition", kind="stable").reset_index(drop=True)


def _check_degrees(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Refuse partitions whose coordinates cannot be in their CRS: degrees under a projected CRS (a file
    without a .prj read in the scenario's metric ``crs``), metres under a geographic one. Read wrongly,
    every business would lie "outside every partition" and every partition's run would fail."""
    b = gdf.geometry.bounds.to_numpy(dtype=float)
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return
    crs = gdf.crs
    degrees = bool((np.abs(b[:, [0, 2]]) <= 180).all() and (np.abs(b[:, [1, 3]]) <= 90).all())
    if crs.is_projected and degrees and (np.abs(b) > 1).any():
        raise InputError(f"{where}: read in the projected CRS {crs.name} (metres), but its coordinates are all within "
                         "±180/±90: they look like longitude/latitude degrees; give national.partitions.crs: "
                         "'EPSG:4326' (or a .prj beside the file)")
    if crs.is_geographic and not degrees:
        raise InputError(f"{where}: declared in {crs.name} (degrees), but its coordinates go beyond ±180/±90: they "
                         "look like projected metres; declare the file's real CRS with national.partitions.crs")


def owners(points: np.ndarray, parts: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Index of the partition that holds each point (the first in key order on a shared border; the
    nearest one for a point outside every partition), and a mask of the points outside every one."""
    tree = shapely.STRtree(parts.geometry.values)
    owner = np.full(len(points), -1, dtype=np.int64)
    if len(points):
        pi, gi = tree.query(points, predicate="intersects")
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.ones(len(pi), dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        owner[pi[first]] = gi[first]
    outside = owner < 0
    if outside.any():
        _, near = tree.query_nearest(points[outside], return_distance=False, all_matches=False)
        owner[np.flatnonzero(outside)] = near
    return owner, outside


def reach_groups(biz_owner: np.ndarray, biz_pts: np.ndarray, est_owner: np.ndarray, est_geoms: np.ndarray,
                 n_parts: int, reach_m: float | np.ndarray) -> np.ndarray:
    """Group label of each partition: partitions linked when a business of one lies within ``reach_m``
    of an estate of the other (connected components, so the link is transitive). ``reach_m`` is one
    distance, or one per business (provinces with their own ``allocation.max_distance_km``)."""
    rows = [np.arange(n_parts)]
    cols = [np.arange(n_parts)]
    if len(biz_pts) and len(est_geoms):
        bi, ei = shapely.STRtree(est_geoms).query(biz_pts, predicate="dwithin", distance=reach_m)
        a, b = biz_owner[bi], est_owner[ei]
        cross = a != b
        rows.append(a[cross])
        cols.append(b[cross])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(n_parts, n_parts))
    _, labels = connected_components(graph, directed=False)
    # label groups by their first partition (key order), so the numbering does not depend on scipy
    first: dict[int, int] = {}
    for i, lab in enumerate(labels):
        first.setdefault(int(lab), i)
    return np.array([first[int(lab)] for lab in labels])


def _write_layer(gdf: gpd.GeoDataFrame, path: Path) -> str:
    gdf = gdf.drop(columns=[c for c in ("_row",) if c in gdf.columns]).reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # no spatial index: FlatGeobuf would reorder the features (Hilbert sort), and order matters
    gdf.to_file(path, driver="FlatGeobuf", engine="pyogrio", layer_options={"SPATIAL_INDEX": "NO"})
    return content_hash(gdf)


def write_unit_layers(unit_dir: Path, layers: dict[str, gpd.GeoDataFrame]) -> tuple[dict[str, Path], dict[str, str]]:
    """Write a unit's layers (``unit_dir/<name>.fgb``); returns the files and each layer's content hash.

    ``unit_dir`` is a cache entry (:func:`siteplan.national.cache.claim_entry`): its marker lists the
    layers and ``scenario.yaml`` (:func:`write_unit_scenario`) before they are written, and a folder
    holding anything siteplan did not write is refused."""
    from .cache import claim_entry

    claim_entry(unit_dir, "cache-inputs", [f"{name}.fgb" for name in layers] + ["scenario.yaml"])
    files, hashes = {}, {}
    for name in sorted(layers):
        files[name] = unit_dir / f"{name}.fgb"
        hashes[name] = _write_layer(layers[name], files[name])
    return files, hashes


def write_unit_scenario(unit_dir: Path, data: dict[str, Any], hashes: dict[str, str], seed: int | None
                        ) -> tuple[Path, str]:
    """Write a unit's scenario (``unit_dir/scenario.yaml``); returns it and the unit's cache key: SHA-256
    of siteplan's version, the seed, the scenario's text, its layers' content and the DEM and catalogue files."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    sc_path = unit_dir / "scenario.yaml"
    sc_path.write_text(text, encoding="utf-8")
    h = hashlib.sha256()
    h.update(f"siteplan {__version__}\nseed {seed}\n".encode())
    h.update(text.encode())
    for name in sorted(hashes):
        h.update(f"{name} {hashes[name]}\n".encode())
    for extra in (data["layers"].get("dem", {}).get("path"), (data.get("catalogue") or {}).get("path")):
        if extra:
            h.update(sha256_file(Path(extra)).encode())
    return sc_path, h.hexdigest()


def _unit_layers(region: Region, members: np.ndarray, parts: gpd.GeoDataFrame, own: dict[str, np.ndarray],
                 context_m: float) -> tuple[dict[str, gpd.GeoDataFrame], Any]:
    """The unit's layers: owned features of its partitions, context features near it, its boundary."""
    area = shapely.union_all(parts.geometry.values[members])
    near = shapely.buffer(area, context_m) if context_m > 0 else area
    layers: dict[str, gpd.GeoDataFrame] = {}
    est_ids: set[str] = set()
    for name, gdf in region.layers.items():
        if name in ("businesses", "estates"):
            sub = gdf[np.isin(own[name], members)]
            if name == "estates":
                est_ids = set(sub["estate_id"].astype(str))
        elif name in ("plots", "boundary"):
            continue
        else:
            sub = gdf[shapely.intersects(gdf.geometry.values, near)] if len(gdf) else gdf
        layers[name] = sub
    if "plots" in region.layers:
        plots = region.layers["plots"]
        layers["plots"] = plots[plots["estate_id"].astype(str).isin(est_ids)]
    layers["boundary"] = gpd.GeoDataFrame({"name": [" + ".join(parts["partition"].iloc[members])]},
                                          geometry=[area], crs=parts.crs)
    return layers, area


def unit_scenario(raw: dict[str, Any], scenario: Scenario, label: str, crs: str, files: dict[str, Path],
                   est_ids: set[str]) -> dict[str, Any]:
    """The unit's scenario mapping: the national one, its layers replaced by the unit's files."""
    data = {k: v for k, v in raw.items() if k not in ("national", "layers", "base_dir")}
    data["name"] = f"{scenario.name} — {label}"
    data["crs"] = crs
    # relative to the unit's scenario file, so that messages (and reports) do not depend on the cache's place
    layers: dict[str, Any] = {name: {"path": p.name, "allow_empty": True} for name, p in files.items()}
    if "dem" in scenario.layers:
        layers["dem"] = {"path": str(scenario.resolve(scenario.layers["dem"].path).resolve())}
    data["layers"] = layers
    if scenario.catalogue.path:
        cat = dict(raw.get("catalogue") or {})
        cat["path"] = str(scenario.resolve(scenario.catalogue.path).resolve())
        data["catalogue"] = cat
    if scenario.criteria is not None:  # as parsed: filter synonyms read through the layers' values: mappings
        data["criteria"] = [c.model_dump(mode="json", exclude_defaults=True) for c in scenario.criteria]
    if raw.get("reservations"):
        data["reservations"] = [r for r in raw["reservations"] if str(r.get("estate")) in est_ids]
    return data


#: the most a scenario allows (siteplan.scenario.SitesSpec, UpgradesSpec)
_MAX_COUNT = {"sites": 100, "upgrades": 50}


def per_province_counts(data: dict[str, Any], scenario: Scenario, n: int, label: str) -> list[Notice]:
    """A joint run of ``n`` provinces proposes ``n`` times the sites and upgrades one province's run does
    (``sites.count`` and ``upgrades.count`` are per province), up to what a scenario allows; returns a
    warning when that cap applies. ``data`` (the joint run's scenario mapping) is changed in place."""
    warns = []
    for name in ("sites", "upgrades"):
        count = int(getattr(scenario, name).count)
        want = count * n
        have = min(want, _MAX_COUNT[name])
        data[name] = {**(data.get(name) or {}), "count": have}
        if have < want:
            warns.append(Notice("joint-count-capped", f"national: the joint run of {label} may propose {have} {name}, "
                                f"not {count} per province ({want}): {name}.count is at most {_MAX_COUNT[name]} in "
                                "one run", {name: have}))
    return warns


def ownership(region: Region, parts: gpd.GeoDataFrame) -> tuple[dict[str, np.ndarray], list[Notice]]:
    """Owner partition (index) of every business and estate, and warnings for those outside every
    partition and for plots of no estate."""
    warns: list[Notice] = []
    own: dict[str, np.ndarray] = {}
    for name, idf in (("businesses", "biz_id"), ("estates", "estate_id")):
        gdf = region.layers[name]
        pts = gdf.geometry.values if name == "businesses" else shapely.point_on_surface(gdf.geometry.values)
        own[name], outside = owners(pts, parts)
        if outside.any():
            ids = ", ".join(gdf[idf].astype(str).to_numpy()[outside][:10])
            warns.append(Notice("outside-partition", f"national: {int(outside.sum())} {name} lie outside every "
                                "partition; each was given to the nearest partition "
                                f"(ids: {ids}{' …' if outside.sum() > 10 else ''})", {name: int(outside.sum())}))
    if "plots" in region.layers:
        plots = region.layers["plots"]
        orphan = ~plots["estate_id"].astype(str).isin(set(region.layers["estates"]["estate_id"].astype(str)))
        if orphan.any():
            warns.append(Notice("orphan-plots", f"national: {int(orphan.sum())} plots name an estate_id that no "
                                "estate has; they belong to no partition and are left out (ids: "
                                + ", ".join(plots.loc[orphan, "plot_id"].astype(str).head(10)) + ")",
                                {"plots": int(orphan.sum())}))
    return own, warns


def partition_scenario(path: str | Path, work: Path, *, seed: int | None = None) -> Partitioning:
    """Split a national scenario into units and write each unit's inputs and scenario under ``work``.

    Parameters
    ----------
    path
        The national scenario file (with a ``national:`` section).
    work
        Folder for the units' inputs (``work/<folder>/*.fgb`` and ``scenario.yaml``), rewritten.
    seed
        The seed the units run with, when it overrides the scenario's (part of the cache key).

    Returns
    -------
    Partitioning

    Raises
    ------
    InputError
        The scenario has no ``national:`` section; any problem of its layers or partitions.
    """
    from ..scenario import load_scenario

    path = Path(path)
    scenario = load_scenario(path)
    nat = scenario.national
    if nat is None:
        raise InputError(f"{path}: not a national scenario (no 'national:' section)")
    if nat.partitions is None:
        raise InputError(f"{path}: national.scenarios: a list of provincial scenarios is split by "
                         "siteplan.national.provinces.partition_provinces")
    raw = read_scenario_file(path)
    region, _cat = load_checked(scenario.model_copy(update={"national": None}), whole_grid=False)
    crs = region.crs.to_string()
    parts = read_partitions(scenario, region.crs)
    warns = list(region.warnings)
    own, own_warns = ownership(region, parts)
    warns.extend(own_warns)
    n = len(parts)
    if nat.cross_border:
        est = region.layers["estates"]
        group = reach_groups(own["businesses"], region.layers["businesses"].geometry.values, own["estates"],
                             est.geometry.values, n, scenario.allocation.max_distance_km * 1000.0)
    else:
        group = np.arange(n)
    keys = parts["partition"].tolist()
    units: list[Unit] = []
    seed = scenario.seed if seed is None else seed
    for gi, g in enumerate(sorted(set(group.tolist()))):
        members = np.flatnonzero(group == g)
        label = " + ".join(keys[i] for i in members)
        folder = f"p{gi + 1:02d}"
        layers, _ = _unit_layers(region, members, parts, own, nat.context_km * 1000.0)
        unit_dir = work / folder
        files, hashes = write_unit_layers(unit_dir, layers)
        est_ids = set(layers["estates"]["estate_id"].astype(str))
        data = unit_scenario(raw, scenario, label, crs, files, est_ids)
        if len(members) > 1:  # sites.count and upgrades.count are per partition
            warns += per_province_counts(data, scenario, len(members), label)
        sc_path, key = write_unit_scenario(unit_dir, data, hashes, seed)
        biz_owner: dict[str, str] = {}
        est_owner: dict[str, str] = {}
        if len(members) > 1:
            b = layers["businesses"]
            biz_owner = dict(zip(b["biz_id"].astype(str), [keys[i] for i in own["businesses"][np.isin(
                own["businesses"], members)]]))
            e = layers["estates"]
            est_owner = dict(zip(e["estate_id"].astype(str), [keys[i] for i in own["estates"][np.isin(
                own["estates"], members)]]))
        units.append(Unit(label, [keys[i] for i in members], folder, sc_path, key,
                          len(layers["businesses"]), len(layers["estates"]), biz_owner, est_owner))
        log.info("partition %s: %d businesses, %d estates", label, units[-1].businesses, units[-1].estates)
    inputs = {"the scenario file": path, "national.partitions": scenario.resolve(nat.partitions.path)}
    for name, spec in scenario.layers.items():
        inputs[f"layer '{name}'"] = scenario.resolve(spec.path)
    if scenario.catalogue.path:
        inputs["the catalogue"] = scenario.resolve(scenario.catalogue.path)
    return Partitioning(units, keys, parts, crs, inputs, warns)
