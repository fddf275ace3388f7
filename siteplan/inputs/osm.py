"""Reading an OpenStreetMap extract (``.osm.pbf``) into the layers of a region (``siteplan ingest-osm``).

Reads the extract with pyrosm (chosen over pyogrio's GDAL OSM driver, which returns tags as one
hstore string and fails on degenerate multipolygon rings in real extracts; see
``benchmarks/bench_osm_readers.py`` for the timings) and maps:

* estates: ``landuse=industrial`` polygons (names kept; ``zone`` under 100 ha, else ``estate``);
* urban areas: ``landuse=residential`` and ``place`` polygons, population from the ``population`` tag;
* roads: ``highway`` by class; rail: ``railway=rail``; utilities: ``power=line``, gas pipelines;
* constraints: protected areas and nature reserves, wetlands, rivers;
* businesses: points of interest whose tags the catalogue maps (``shop=car``, ``shop=car_repair``,
  ``craft=carpenter``, branded ``shop=supermarket`` …); the others are counted as skipped.

The command (:mod:`siteplan.cli.ingest_osm`) maps the tags with the catalogue and writes the layers as one
GeoPackage (``region.gpkg``, EPSG:4326, UTF-8) beside a ``scenario.yaml`` that validates as it is.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.geom import polygonal
from ..common.textnorm import parse_number
from ..common.units import M2_PER_HA
from ..errors import InputError

log = logging.getLogger(__name__)

__all__ = ["IngestReport", "ROAD_CLASSES", "check_pbf", "read_osm"]

ROAD_CLASSES = {
    "motorway": "motorway", "motorway_link": "motorway", "trunk": "trunk", "trunk_link": "trunk",
    "primary": "primary", "primary_link": "primary", "secondary": "secondary", "secondary_link": "secondary",
}
_POI_KEYS = ("shop", "craft", "amenity", "office", "industrial")


@dataclass
class IngestReport:
    """What an ingest wrote: features per layer, businesses per category, skipped POIs, notes.

    Parameters
    ----------
    counts
        Features written per layer name.
    categories
        Businesses written per guild category code.
    skipped_pois
        How many points of interest were skipped: no category maps their tags, or they have no geometry.
    skipped_tags
        Skipped points of interest per reason: their unmapped tag, or ``no geometry``.
    notes
        Remarks on the ingest (e.g. no existing estate in the extract), one line each.
    """

    counts: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    skipped_pois: int = 0
    skipped_tags: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printable lines."""
        out = ["layer          features"] + [f"{k:14s} {v:8d}" for k, v in self.counts.items()]
        out += ["", "businesses by category"] + [f"  {k:20s} {v:6d}" for k, v in sorted(self.categories.items())]
        top = ", ".join(f"{k} ({v})" for k, v in sorted(self.skipped_tags.items(), key=lambda t: -t[1])[:8])
        out += ["", f"points of interest skipped as unmapped: {self.skipped_pois}" + (f" — most common: {top}" if top else "")]
        out += [f"note: {n}" for n in self.notes]
        return out


def check_pbf(path: Path) -> None:
    """Refuse a missing file or one that is not an OSM PBF extract (no ``OSMHeader`` block), before any work.

    Raises
    ------
    InputError
        The file is missing or not a PBF extract.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    head = path.read_bytes()[:64]
    if b"OSMHeader" not in head:
        raise InputError(f"{path}: not an OpenStreetMap PBF file (no OSMHeader block at the start); "
                         "give a .osm.pbf extract such as a provincial cut of the Iran extract")


def _tags(row: pd.Series) -> dict[str, str]:
    t = row.get("tags")
    d: dict[str, str] = {}
    if isinstance(t, str) and t.startswith("{"):
        try:
            d = {str(k): str(v) for k, v in json.loads(t).items()}
        except ValueError:
            d = {}
    elif isinstance(t, dict):
        d = {str(k): str(v) for k, v in t.items()}
    for k in (*_POI_KEYS, "brand", "name", "population", "place", "substance"):
        v = row.get(k)
        if isinstance(v, str) and v:
            d[k] = v
    return d


def _poi_category(tags: dict[str, str], osm_map: Mapping[str, str]) -> tuple[str | None, str]:
    """Catalogue category of a POI from its tags, and the tag used (``key=value``)."""
    for k in _POI_KEYS:
        v = tags.get(k)
        if not v:
            continue
        tag = f"{k}={v}"
        if tag == "shop=supermarket":
            if tags.get("brand") or tags.get("brand:wikidata"):
                return "chain_store", tag + "+brand"
            return None, tag + " (no brand)"
        code = osm_map.get(tag.lower())
        if code:
            return code, tag
        return None, tag
    return None, "no shop/craft/amenity/office tag"


def _read(osm: object, what: str, **kw: object) -> gpd.GeoDataFrame | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if what == "landuse":
                return osm.get_landuse(**kw)  # type: ignore[attr-defined]
            if what == "network":
                return osm.get_network(**kw)  # type: ignore[attr-defined]
            if what == "pois":
                return osm.get_pois(**kw)  # type: ignore[attr-defined]
            return osm.get_data_by_custom_criteria(**kw)  # type: ignore[attr-defined]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyrosm raises protobuf and its own errors on corrupt data
        raise InputError(f"cannot read the OpenStreetMap extract ({type(exc).__name__}: {str(exc)[:160]}); "
                         "the file may be truncated or corrupt — download it again") from None


def _frame(data: dict[str, object], geoms: Iterable[Any]) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4326 from columns (scalars broadcast) and geometries."""
    g = list(geoms)
    return gpd.GeoDataFrame(data, geometry=g, crs=4326, index=pd.RangeIndex(len(g)))


def _col(g: pd.DataFrame, name: str) -> list[object]:
    """A column as a list, or Nones when the extract has no such tag."""
    return g[name].tolist() if name in g.columns else [None] * len(g)


def _polys(g: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if g is None or g.empty:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    g["geometry"] = [polygonal(x) for x in g.geometry.make_valid()]
    return g[~g.geometry.is_empty]


def _area_ha(g: gpd.GeoDataFrame) -> np.ndarray:
    if g.empty:
        return np.array([])
    return np.asarray(g.to_crs(g.estimate_utm_crs()).area.to_numpy() / M2_PER_HA)


def read_osm(pbf: Path, osm_map: Mapping[str, str], boundary: str | Path | None = None
             ) -> tuple[dict[str, gpd.GeoDataFrame], IngestReport]:
    """Read an OSM extract's layers (EPSG:4326), its points of interest mapped to guild categories.

    Parameters
    ----------
    pbf
        An ``.osm.pbf`` extract (checked with :func:`check_pbf` first).
    osm_map
        OSM tag (``key=value``, lower case) to the guild category it maps to (the catalogue's
        ``osm_tags``; :func:`siteplan.cli.ingest_osm.ingest_osm` builds it).
    boundary
        Optional polygon file: every layer is clipped to it and it becomes the ``boundary`` layer.

    Returns
    -------
    layers, report
        Layer name to its features, and what was read (features per layer, businesses per category,
        skipped points of interest, notes).

    Raises
    ------
    InputError
        An extract pyrosm cannot open; an unreadable boundary; no point of interest of a category.
    """
    import pyrosm

    bnd = _read_boundary(boundary)
    try:
        osm = pyrosm.OSM(str(pbf), bounding_box=None if bnd is None else bnd.union_all())
    except Exception as exc:  # noqa: BLE001 - pyrosm raises several types for a bad extract; all mean the same
        raise InputError(f"{pbf}: cannot open the extract ({type(exc).__name__}: {str(exc)[:160]})") from None
    rep = IngestReport()
    lu = _polys(_read(osm, "landuse"))
    layers: dict[str, gpd.GeoDataFrame] = {"estates": _estates(lu, rep), "urban": _urban(osm, lu, pbf, rep)}
    layers.update(_infrastructure(osm))
    layers["businesses"] = _businesses(osm, osm_map, rep, pbf)
    rep.categories = layers["businesses"]["category"].value_counts().to_dict()
    if bnd is not None:
        clip = bnd.union_all()
        layers = {k: gpd.clip(v, clip) if len(v) else v for k, v in layers.items()}
        layers["boundary"] = gpd.GeoDataFrame({"name": ["boundary"]}, geometry=[clip], crs=4326)
    rep.counts = {k: len(v) for k, v in layers.items()}
    return layers, rep


def _read_boundary(boundary: str | Path | None) -> gpd.GeoDataFrame | None:
    """The ``--boundary`` polygons in EPSG:4326 (None without one)."""
    if boundary is None:
        return None
    try:
        bnd = gpd.read_file(boundary).to_crs(4326)
    except Exception as exc:  # noqa: BLE001 - GDAL raises several types for an unreadable file; all mean the same
        raise InputError(f"--boundary {boundary}: cannot read it ({exc})") from None
    if bnd.empty or not bnd.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise InputError(f"--boundary {boundary}: needs at least one polygon")
    return bnd


def _estates(lu: gpd.GeoDataFrame, rep: IngestReport) -> gpd.GeoDataFrame:
    """Existing estates: landuse=industrial polygons (zones under 100 ha)."""
    ind = lu[lu.get("landuse", pd.Series(dtype=object)) == "industrial"].copy() if not lu.empty else lu
    if ind.empty:
        rep.notes.append("the extract has no landuse=industrial polygons: there is no existing estate, so every "
                         "business will be unassigned (reason no_estates: 'no existing estate in the scenario') and "
                         "new sites will be proposed")
        return gpd.GeoDataFrame({"estate_id": pd.Series(dtype=str), "name": pd.Series(dtype=str),
                                 "kind": pd.Series(dtype=str), "gross_ha": pd.Series(dtype=float),
                                 "source": pd.Series(dtype=str)}, geometry=[], crs=4326)
    ha = _area_ha(ind)
    return gpd.GeoDataFrame({
        "estate_id": [f"{str(t)[:1]}{i}" for t, i in zip(_col(ind, "osm_type"), ind["id"])],
        "name": [_name(_tags(r)) or f"industrial area {i}" for (_, r), i in zip(ind.iterrows(), ind["id"])],
        "kind": np.where(ha < 100, "zone", "estate"), "gross_ha": np.round(ha, 3),
        "source": "OpenStreetMap landuse=industrial (© OpenStreetMap contributors, ODbL)",
    }, geometry=ind.geometry.values, crs=4326)


def _name(t: dict[str, str]) -> str | None:
    """A feature's name: ``name``, else ``name:fa``, else ``name:en`` (None without any)."""
    for k in ("name", "name:fa", "name:en"):
        v = t.get(k, "").strip()
        if v:
            return v
    return None


#: the radius (m) of the circle standing for a ``place`` node that no mapped area holds, by its kind
PLACE_RADIUS_M = {"city": 3000.0, "town": 1500.0, "suburb": 800.0, "village": 500.0, "neighbourhood": 400.0,
                  "hamlet": 200.0}


def _urban(osm: Any, lu: gpd.GeoDataFrame, pbf: Path, rep: IngestReport) -> gpd.GeoDataFrame:
    """Homes: landuse=residential and place polygons; a ``place`` node (how most Iranian towns are mapped)
    gives its population (and name) to the area that holds it when that area has none, and where no area
    holds it stands as a circle of :data:`PLACE_RADIUS_M` by its kind (a note says how many)."""
    res = lu[lu.get("landuse", pd.Series(dtype=object)) == "residential"] if not lu.empty else lu
    raw = _read(osm, "custom", custom_filter={"place": list(PLACE_RADIUS_M)})
    places = _polys(raw)
    parts = []
    for g, src in ((res, "landuse=residential"), (places, "place")):
        if g.empty:
            continue
        tags = [_tags(r) for _, r in g.iterrows()]
        parts.append(gpd.GeoDataFrame({
            "name": [_name(t) or f"{t.get('place', 'residential')} {i}" for t, i in zip(tags, g["id"])],
            "_named": [_name(t) is not None for t in tags],
            "population": [parse_number(t.get("population")) for t in tags],
            "kind": [t.get("place", "residential") for t in tags],
            "source": f"OpenStreetMap {src} (© OpenStreetMap contributors, ODbL)",
        }, geometry=g.geometry.values, crs=4326))
    areas = pd.concat(parts, ignore_index=True) if parts else None
    nodes = raw[raw.geom_type == "Point"] if raw is not None and not raw.empty else None
    if nodes is not None and not nodes.empty:
        areas, circles = _place_nodes(areas, nodes)
        if circles:
            rep.notes.append(f"{circles} place node(s) with no mapped area around them (towns mapped as a point) "
                             "stand as circles by their kind (city 3 km, town 1.5 km, village 500 m across in "
                             "radius, …) with their population: check them, or draw the towns' areas")
    if areas is not None:
        areas = areas.drop(columns="_named", errors="ignore")
    if areas is None or areas.empty:
        raise InputError(f"{pbf}: the extract has no residential areas, place polygons or place nodes, so there are "
                         "no homes to keep guilds away from; use a larger extract (or check --boundary covers it)")
    return areas


def _place_nodes(areas: gpd.GeoDataFrame | None, nodes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """``areas`` with each place node's population (and name, where the area has only a default one) given to
    the smallest area holding it that has none (one area per node), and circles for the nodes no area holds;
    and how many circles. ``_named`` marks the areas whose name came from their tags."""
    tags = [_tags(r) for _, r in nodes.iterrows()]
    pts = nodes.geometry.to_numpy()
    areas = areas.copy() if areas is not None else gpd.GeoDataFrame(
        {"name": [], "_named": [], "population": [], "kind": [], "source": []}, geometry=[], crs=4326)
    held = np.zeros(len(nodes), dtype=bool)
    if len(areas):
        tree = shapely.STRtree(areas.geometry.to_numpy())
        pi, ai = tree.query(pts, predicate="within")
        pop = areas["population"].to_numpy(dtype=float, na_value=np.nan).copy()
        names = areas["name"].to_numpy(dtype=object).copy()
        named = areas["_named"].to_numpy(dtype=bool).copy()
        size = areas.to_crs(areas.estimate_utm_crs()).area.to_numpy()
        held[pi] = True
        # each node to one area: the smallest holding it that has no population yet (a city's boundary and a
        # residential area inside it would otherwise both count the city's people)
        for p in np.unique(pi).tolist():
            n = parse_number(tags[p].get("population"))
            cand = [a for a in ai[pi == p].tolist() if np.isnan(pop[a])]
            if n is None or not cand:
                continue
            a = min(cand, key=lambda k: (size[k], k))
            pop[a] = n
            own = _name(tags[p])
            if own and not named[a]:  # only a default name ("residential 5001") is replaced
                names[a], named[a] = own, True
        areas["population"], areas["name"], areas["_named"] = pop, names, named
    free = np.flatnonzero(~held)
    if not len(free):
        return areas, 0
    sub = nodes.iloc[free]
    utm = sub.estimate_utm_crs()
    kinds = [tags[i].get("place", "village") for i in free]
    circles = gpd.GeoSeries(sub.geometry.values, crs=4326).to_crs(utm).buffer(
        np.array([PLACE_RADIUS_M.get(k, 500.0) for k in kinds]), resolution=16).to_crs(4326)
    add = gpd.GeoDataFrame({
        "name": [_name(tags[i]) or f"{k} {j}" for i, k, j in zip(free, kinds, sub["id"])],
        "_named": [_name(tags[i]) is not None for i in free],
        "population": [parse_number(tags[i].get("population")) for i in free],
        "kind": kinds,
        "source": "OpenStreetMap place node, drawn as a circle by its kind (© OpenStreetMap contributors, ODbL)",
    }, geometry=circles.values, crs=4326)
    return pd.concat([areas, add], ignore_index=True), len(free)


def _infrastructure(osm: Any) -> dict[str, gpd.GeoDataFrame]:
    """Roads, rail, utility lines and constraints (protected areas, wetlands, rivers), where present."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    net = _read(osm, "network", network_type="driving")
    if net is not None and not net.empty:
        cls = net["highway"].map(ROAD_CLASSES).fillna("other")
        layers["roads"] = gpd.GeoDataFrame({"road_class": cls.to_numpy(), "name": _col(net, "name"),
                                            "highway": _col(net, "highway"), "oneway": _oneway(net),
                                            "source": "OpenStreetMap highway"}, geometry=net.geometry.values, crs=4326)
    rail = _read(osm, "custom", custom_filter={"railway": ["rail"]}, keep_nodes=False)
    if rail is not None and not rail.empty:
        rail = rail[rail.geom_type.isin(["LineString", "MultiLineString"])]
        layers["rail"] = _frame({"kind": "rail", "source": "OpenStreetMap railway=rail"}, rail.geometry.values)
    util = _read(osm, "custom", custom_filter={"power": ["line"], "man_made": ["pipeline"]}, keep_nodes=False)
    if util is not None and not util.empty:
        tags = [_tags(r) for _, r in util.iterrows()]
        kinds = ["power_line" if r.get("power") == "line" else ("gas_pipe" if t.get("substance") == "gas" else "pipeline")
                 for (_, r), t in zip(util.iterrows(), tags)]
        layers["utilities"] = _frame({"kind": kinds, "source": "OpenStreetMap power/man_made"}, util.geometry.values)
    nat = _read(osm, "custom", custom_filter={"boundary": ["protected_area", "national_park"],
                                              "leisure": ["nature_reserve"], "natural": ["wetland"],
                                              "waterway": ["river"]}, keep_nodes=False)
    if nat is not None and not nat.empty:
        kinds = ["river" if r.get("waterway") == "river" else "wetland" if r.get("natural") == "wetland"
                 else "protected" for _, r in nat.iterrows()]
        keep = [(k == "river") or g in ("Polygon", "MultiPolygon") for k, g in zip(kinds, nat.geom_type)]
        layers["constraints"] = _frame({"kind": np.array(kinds)[keep], "name": np.array(_col(nat, "name"), dtype=object)[keep],
                                        "source": "OpenStreetMap protected areas, wetlands, rivers"},
                                       nat.geometry.values[keep])
    return layers


def _oneway(net: pd.DataFrame) -> list[str]:
    """Each way's direction for routing (:mod:`siteplan.relocation.roads`): ``yes`` (along the way), ``-1``
    (against it) or ``no``; a motorway (and its links) without the tag is one-way, as OSM implies."""
    tag = pd.Series(_col(net, "oneway"), index=net.index, dtype=object).astype("string").str.strip().str.lower()
    implied = net["highway"].isin(["motorway", "motorway_link"]) if "highway" in net else False
    out = np.where(tag.isin(["yes", "true", "1"]).fillna(value=False), "yes",
                   np.where(tag.isin(["-1", "reverse"]).fillna(value=False), "-1",
                            np.where(tag.notna() & tag.ne(""), "no", np.where(implied, "yes", "no"))))
    return [str(x) for x in out]


def _businesses(osm: Any, osm_map: Mapping[str, str], rep: IngestReport, pbf: Path) -> gpd.GeoDataFrame:
    """Points of interest that map to a guild category (the rest counted as skipped, by tag)."""
    pois = _read(osm, "pois", custom_filter={"shop": True, "craft": True, "amenity": ["car_wash", "recycling"],
                                             "office": True, "industrial": ["scrap_yard"]})
    rows = []
    if pois is not None and not pois.empty:
        for _, r in pois.iterrows():
            t = _tags(r)
            code, tag = _poi_category(t, osm_map)
            g = r.geometry
            if code is None or g is None or g.is_empty:
                why = tag if code is None else "no geometry"
                rep.skipped_pois += 1
                rep.skipped_tags[why] = rep.skipped_tags.get(why, 0) + 1
                continue
            rows.append({"biz_id": f"{str(r.get('osm_type', 'n'))[:1]}{r['id']}", "name": t.get("name"),
                         "category": code, "osm_tag": tag.split("+")[0], "source": "OpenStreetMap POI",
                         "geometry": g if g.geom_type == "Point" else g.representative_point()})
    biz = gpd.GeoDataFrame(rows, columns=["biz_id", "name", "category", "osm_tag", "source", "geometry"],
                           geometry="geometry", crs=4326).drop_duplicates("biz_id")
    if biz.empty:
        raise InputError(f"{pbf}: no point of interest maps to a guild category ({rep.skipped_pois} skipped); "
                         "nothing to relocate")
    return biz
