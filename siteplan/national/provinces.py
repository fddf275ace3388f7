"""Partitions from a list of provincial scenarios: ``national: {scenarios: [a.yaml, b.yaml, ...]}``.

Each listed file is an ordinary one-province scenario with its own layers and settings (what a
provincial office already runs with ``siteplan run``). Its partition key is its ``name``: names must be
unique after Persian normalisation (:func:`siteplan.common.textnorm.normalize`), so that ``اصفهان`` and
``اصفهان `` or ``اصفهان`` written with an Arabic yeh are one province, and a clash is an error naming
both files.

Ownership. A province owns the businesses, estates and plots its own files list; no polygon decides.
Ids need to be unique only within a province (offices number their own registries): national rows are
told apart by their ``partition`` column. The same feature listed by two provinces is an error, in both
border modes, because its demand or capacity would be planned twice: two estates of different provinces
whose land overlaps (by more than half of the smaller, or at all under the same ``estate_id``), or a
business with the same ``biz_id`` at the same place (the same metre) in two files.

Closed borders (``cross_border: false``). Each province is one unit that runs its own scenario file
unchanged, so its outputs are those of ``siteplan run PROVINCE.yaml`` (the national ``seed``, or
``--seed``, overrides the provinces' own seeds when given, as ``--seed`` would). Its cache key covers
the scenario file's text and the content of every file it reads (layers with their sidecar files, the
catalogue, the DEM), the seed and siteplan's version.

Open borders (``cross_border: true``). A province is linked with another when one of its businesses lies
within its own ``allocation.max_distance_km`` of an estate of the other; linked provinces (transitively)
are planned together in one run on their merged layers, with the union of their study areas (each
province's ``boundary`` layer, or the extent siteplan derives from its data when it has none, as its own
run does) as the boundary. One run has one set of settings, so linked provinces must have the same
settings: every key but ``name``, ``description``, ``crs``, ``layers`` and ``reservations`` (which are
merged), and ``seed`` unless the national file or ``--seed`` sets one; the catalogue is compared by its
content, the DEM by its file. Otherwise an error names the provinces and the keys that differ. Their
ids must be unique across the linked provinces (one run), and context features listed by several of them
(the same town in two files) are kept once. The joint run's CRS is the national ``crs``, else the one
the linked provinces all set, else the UTM zone of their middle.

National settings. The national file sets only ``name``, ``description``, ``seed`` (overrides every
province's), ``crs`` (the national map, open-border groups and reach; by default the provinces' common
CRS, else the UTM zone of the nation's middle) and ``outputs`` (the national CSVs' byte-order mark).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._version import __version__
from ..common.hashing import sha256_file
from ..common.notice import Notice
from ..common.textnorm import normalize
from ..errors import InputError, SiteplanError
from ..inputs.region import Region, utm_crs_for
from ..outputs.outfile import input_files
from ..outputs.outfile import scenario_inputs as all_inputs
from ..scenario import Scenario, read_scenario_file
from .partition import (
    OWNED,
    Partitioning,
    Unit,
    partition_scenario,
    per_province_counts,
    reach_groups,
    unit_scenario,
    write_unit_layers,
    write_unit_scenario,
)

log = logging.getLogger(__name__)

__all__ = ["Province", "load_provinces", "province_groups", "partition_provinces", "split_scenario",
           "national_inputs", "scenario_inputs"]

#: keys that may differ between provinces planned together (merged, or each province's own)
_OWN_KEYS = ("name", "description", "crs", "layers", "reservations", "national", "base_dir")
#: a business of two files in the same cell of this size (m), under one id, is one business
SAME_PLACE_M = 1.0


@dataclass
class Province:
    """One provincial scenario of a national list, loaded and checked.

    Attributes
    ----------
    key
        Its partition key (the scenario's ``name``, stripped).
    file
        The file as the national scenario lists it (for messages).
    path
        The file, resolved.
    scenario
        The parsed provincial scenario.
    region
        Its loaded layers (in its own working CRS).
    """

    key: str
    file: str
    path: Path
    scenario: Scenario
    region: Region


def scenario_inputs(scenario: Scenario, path: Path) -> dict[str, Path]:
    """What a one-province run reads, by description: the scenario file, its layers (the DEM among
    them) and its catalogue (:func:`siteplan.outputs.outfile.scenario_inputs`)."""
    return all_inputs(scenario, path)


def national_inputs(scenario: Scenario, path: Path) -> dict[str, Path]:
    """What a national run reads (for the refusals of its output and cache folders): the national file,
    its layers, partitions and catalogue, or each listed provincial scenario's inputs (as far as each can
    be parsed); :func:`siteplan.outputs.outfile.scenario_inputs`."""
    assert scenario.national is not None
    return all_inputs(scenario, path)


def _rehome(file: str, path: Path, problems: list[str]) -> list[str]:
    """Messages of a provincial file, each starting with the file as the national scenario lists it."""
    return [f"{file}: {m.removeprefix(f'{path}: ')}" for m in problems]


def load_provinces(national: Scenario) -> tuple[list[Province], list[str], list[Notice]]:
    """Read and check every provincial scenario of a national list, as ``siteplan validate`` would
    each, and the rules between them (unique names, single ownership).

    Parameters
    ----------
    national
        A national scenario with ``national.scenarios``.

    Returns
    -------
    provinces, problems, warnings
        The provinces that loaded, in key order; every problem (each starting with its file); the
        provinces' warnings (each starting with its file).
    """
    from ..checks import validate_scenario
    from ..scenario import load_scenario

    nat = national.national
    assert nat is not None and nat.scenarios is not None
    provinces: list[Province] = []
    problems: list[str] = []
    warns: list[Notice] = []
    names: dict[str, tuple[str, str]] = {}
    for f in nat.scenarios:
        path = national.resolve(f).resolve()
        try:
            data = read_scenario_file(path)
        except SiteplanError as err:
            problems += _rehome(f, path, getattr(err, "problems", [str(err)]))
            continue
        if isinstance(data, dict) and "national" in data:
            problems.append(f"{f}: is itself a national scenario; list one-province scenarios (without 'national:')")
            continue
        # the key first, so that a clash is said even when the province has other problems
        name = data.get("name") if isinstance(data, dict) else None
        key = str(name).strip() if name is not None else ""
        norm = normalize(key)
        if not norm:
            problems.append(f"{f}: name: {'missing' if name is None else 'empty'}; each province's name is its "
                            "partition key (as the national outputs' partition column): give it one")
        elif norm in names:
            other, other_name = names[norm]
            same = "" if other_name == key else " after Persian normalisation"
            problems.append(f"{f}: name '{key}' is the name of {other} too ('{other_name}'; the same{same}); each "
                            "province's name is its partition key: give them different names")
            norm = ""
        else:
            names[norm] = (f, key)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = validate_scenario(path)
        except SiteplanError as err:
            problems += _rehome(f, path, getattr(err, "problems", [str(err)]))
            continue
        if not norm:
            continue
        warns += [w.prefixed(f"{f}: ") for w in report.warnings]
        provinces.append(Province(key, f, path, load_scenario(path), report.region))
    provinces.sort(key=lambda p: p.key)
    return provinces, problems, warns


def national_crs(national: Scenario, provinces: list[Province]) -> CRS:
    """The CRS of the national map and of reach between provinces: the national ``crs``, else the one
    every province works in, else the UTM zone of the middle of their study areas."""
    if national.crs:
        return CRS.from_user_input(national.crs)
    crss = {p.region.crs.to_wkt() for p in provinces}
    if len(crss) == 1:
        return provinces[0].region.crs
    return _middle_utm([gpd.GeoSeries([p.region.study_area], crs=p.region.crs) for p in provinces])


def _middle_utm(areas: list[gpd.GeoSeries]) -> CRS:
    bounds = np.array([a.to_crs(4326).total_bounds for a in areas])
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    return utm_crs_for(float(lon), float(lat))


def _layer(p: Province, name: str, crs: CRS) -> gpd.GeoDataFrame:
    g = p.region.layers.get(name)
    if g is None:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    return g.to_crs(crs)


def _ids(g: gpd.GeoDataFrame, field: str) -> np.ndarray:
    return g[field].astype(str).to_numpy() if field in g.columns else np.array([], dtype=str)


def ownership_problems(provinces: list[Province], crs: CRS) -> list[str]:
    """The same estate or business listed by two provinces (see the module's docstring)."""
    problems: list[str] = []
    est = [_layer(p, "estates", crs) for p in provinces]
    prov = np.concatenate([np.full(len(g), i) for i, g in enumerate(est)]) if est else np.array([], dtype=int)
    if len(prov):
        geoms = np.concatenate([g.geometry.values for g in est])
        ids = np.concatenate([_ids(g, "estate_id") for g in est])
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = (prov[a] < prov[b])
        a, b = a[keep], b[keep]
        inter = shapely.area(shapely.intersection(geoms[a], geoms[b]))
        smaller = np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
        same = ((ids[a] == ids[b]) & (inter > 0)) | (inter > 0.5 * smaller)
        for i, j, ha in zip(a[same], b[same], inter[same] / 1e4):
            problems.append(f"{provinces[prov[j]].file}: estate '{ids[j]}' is the land of estate '{ids[i]}' of "
                            f"{provinces[prov[i]].file} too ({ha:,.1f} ha overlap): an estate belongs to one province "
                            "(else its capacity is offered twice); remove it from the file of the province that does "
                            "not own it")
    biz = [_layer(p, "businesses", crs) for p in provinces]
    frames = [pd.DataFrame({"p": i, "id": _ids(g, "biz_id"), "x": np.round(g.geometry.x.to_numpy() / SAME_PLACE_M),
                            "y": np.round(g.geometry.y.to_numpy() / SAME_PLACE_M)})
              for i, g in enumerate(biz) if len(g)]
    if frames:
        df = pd.concat(frames, ignore_index=True).drop_duplicates()
        twice = df[df.duplicated(["id", "x", "y"], keep=False)]
        for _, grp in twice.groupby(["id", "x", "y"], sort=False):
            ps = sorted(set(grp["p"]))
            problems.extend(f"{provinces[pj].file}: business '{grp['id'].iloc[0]}' is listed by "
                            f"{provinces[ps[0]].file} too (same biz_id at the same place): a business belongs to "
                            "one province (else it is planned twice); remove it from the file of the province that "
                            "does not own it" for pj in ps[1:])
            if len(problems) > 50:
                problems.append("… (more businesses listed twice; fix these first)")
                break
    return problems


def province_groups(provinces: list[Province], crs: CRS, *, cross_border: bool) -> np.ndarray:
    """Group label of each province: each alone with closed borders; with open borders, linked when a
    business of one lies within its province's ``allocation.max_distance_km`` of an estate of the other
    (transitively)."""
    n = len(provinces)
    if not cross_border or n < 2:
        return np.arange(n)
    biz = [_layer(p, "businesses", crs) for p in provinces]
    est = [_layer(p, "estates", crs) for p in provinces]
    b_own = np.concatenate([np.full(len(g), i) for i, g in enumerate(biz)])
    e_own = np.concatenate([np.full(len(g), i) for i, g in enumerate(est)])
    reach = np.concatenate([np.full(len(g), p.scenario.allocation.max_distance_km * 1000.0)
                            for p, g in zip(provinces, biz)])
    pts = np.concatenate([g.geometry.values for g in biz])
    geoms = np.concatenate([g.geometry.values for g in est])
    return reach_groups(b_own, pts, e_own, geoms, n, reach)


def _settings(p: Province, *, seed_set: bool) -> dict[str, Any]:
    """A province's settings that one joint run must share, comparable (catalogue by content)."""
    d = p.scenario.model_dump(mode="json", exclude=set(_OWN_KEYS) | ({"seed"} if seed_set else set()))
    if p.scenario.catalogue.path:
        d["catalogue"]["path"] = sha256_file(p.scenario.resolve(p.scenario.catalogue.path))
    dem = p.scenario.layers.get("dem")
    d["layers.dem"] = str(p.scenario.resolve(dem.path).resolve()) if dem else None
    return d


def group_problems(members: list[Province], *, seed_set: bool) -> list[str]:
    """Why provinces linked by open borders cannot be planned in one run: different settings, or ids
    that repeat between them."""
    problems = []
    base = _settings(members[0], seed_set=seed_set)
    for p in members[1:]:
        s = _settings(p, seed_set=seed_set)
        diff = sorted(k for k in set(base) | set(s) if base.get(k) != s.get(k))
        if diff:
            problems.append(
                f"national.cross_border: provinces '{members[0].key}' ({members[0].file}) and '{p.key}' ({p.file}) are "
                f"planned together (businesses of one reach estates of the other) but their scenarios differ in: "
                f"{', '.join(diff)}; give them the same settings, or set cross_border: false")
    for name, field in (("businesses", "biz_id"), ("estates", "estate_id"), ("plots", "plot_id")):
        seen: dict[str, str] = {}
        for p in members:
            g = p.region.layers.get(name)
            if g is None:
                continue
            rep = sorted({i for i in _ids(g, field) if i in seen})
            if rep:
                problems.append(f"{p.file}: layer '{name}': {field} {', '.join(rep[:10])}{' …' if len(rep) > 10 else ''} "
                                f"also in {seen[rep[0]]}; provinces planned together (cross_border) are one run, whose "
                                f"ids must be unique: prefix them with the province")
            for i in _ids(g, field):
                seen.setdefault(i, p.file)
    return problems


def joint_warnings(provinces: list[Province], groups: list[np.ndarray]) -> list[Notice]:
    """What a joint run assumes: provinces planned together without a ``boundary`` layer are represented
    by the extent of their data."""
    out: list[Notice] = []
    for members in groups:
        if len(members) < 2:
            continue
        bare = [provinces[i] for i in members if "boundary" not in provinces[i].region.layers]
        out.extend(Notice("joint-no-boundary", f"national: {p.file} has no boundary layer; in the joint run of "
                          f"{' + '.join(provinces[i].key for i in members)} the extent of its data (plus a margin, "
                          "as its own run uses) stands for it; add its boundary layer to bound it exactly")
                   for p in bare)
    return out


def _province_key(p: Province, seed: int | None) -> str:
    """The cache key of a province run alone: its scenario's text, every file it reads, the seed."""
    h = hashlib.sha256()
    h.update(f"siteplan {__version__}\nprovince\nseed {'own' if seed is None else seed}\n".encode())
    h.update(p.path.read_bytes())
    for label, f in sorted(scenario_inputs(p.scenario, p.path).items()):
        for x in input_files(f):
            if x.is_file():
                h.update(f"{label} {x.name} {sha256_file(x)}\n".encode())
    return h.hexdigest()


def _dedupe(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A context layer merged from several provinces, features listed by more than one kept once (same
    attributes, same geometry to the centimetre)."""
    if len(g) < 2:
        return g
    sig = pd.DataFrame(g.drop(columns=g.geometry.name)).astype(str)
    sig["__geom"] = shapely.to_wkb(shapely.set_precision(g.geometry.values, 0.01), hex=True)
    return g[~pd.util.hash_pandas_object(sig, index=False).duplicated().to_numpy()]


def _joint_unit(national: Scenario, members: list[Province], label: str, folder: str, work: Path,
                seed: int | None) -> tuple[Unit, list[Notice]]:
    """Write the merged layers and the scenario of provinces planned together; their unit."""
    if national.crs:
        crs = CRS.from_user_input(national.crs)
    elif len({m.scenario.crs for m in members}) == 1 and members[0].scenario.crs:
        crs = CRS.from_user_input(members[0].scenario.crs)
    else:
        crs = _middle_utm([gpd.GeoSeries([m.region.study_area], crs=m.region.crs) for m in members])
    names = sorted({n for m in members for n in m.region.layers if n != "boundary"})
    unit_dir = work / folder
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in names:
        parts = [m.region.layers[name].to_crs(crs) for m in members if name in m.region.layers]
        g = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry=parts[0].geometry.name, crs=crs)
        layers[name] = g if name in OWNED else _dedupe(g)
    area = shapely.union_all(np.array([gpd.GeoSeries([m.region.study_area], crs=m.region.crs).to_crs(crs).iloc[0]
                                       for m in members]))
    layers["boundary"] = gpd.GeoDataFrame({"name": [label]}, geometry=[area], crs=crs)
    files, hashes = write_unit_layers(unit_dir, layers)
    first = members[0]
    raw = read_scenario_file(first.path)
    est_ids = set(_ids(layers["estates"], "estate_id")) if "estates" in layers else set()
    data = unit_scenario(raw, first.scenario, label, crs.to_string(), files, est_ids)
    data["name"] = f"{national.name} — {label}"
    data.pop("description", None)
    warns = per_province_counts(data, first.scenario, len(members), label)  # per province, as alone
    res = [r for m in members for r in (read_scenario_file(m.path).get("reservations") or [])]
    data.pop("reservations", None)
    if res:
        data["reservations"] = res
    sc_path, key = write_unit_scenario(unit_dir, data, hashes, seed if seed is not None else data.get("seed", 0))
    biz_owner = {i: m.key for m in members for i in _ids(m.region.layers["businesses"], "biz_id")}
    est_owner = {i: m.key for m in members for i in _ids(m.region.layers["estates"], "estate_id")}
    return Unit(label, [m.key for m in members], folder, sc_path, key, len(layers["businesses"]),
                len(layers.get("estates", [])), biz_owner, est_owner), warns


def partition_provinces(path: Path, national: Scenario, work: Path, *, seed: int | None = None) -> Partitioning:
    """Split a national list of provincial scenarios into units (see the module's docstring).

    Parameters
    ----------
    path
        The national scenario file.
    national
        It, parsed (``national.scenarios`` set).
    work
        Folder for the joint runs' inputs (open borders).
    seed
        ``--seed``: overrides the national file's and the provinces' seeds.

    Returns
    -------
    Partitioning
        Units in key order; a province alone runs its own file (``Unit.scenario_path``).

    Raises
    ------
    InputError
        Every problem of every province and between them, each naming its file.
    """
    nat = national.national
    assert nat is not None
    work = Path(work)
    provinces, problems, warns = load_provinces(national)
    crs = CRS.from_user_input(national.crs) if national.crs else None
    if not problems and provinces:
        crs = national_crs(national, provinces)
        problems += ownership_problems(provinces, crs)
    if problems or crs is None:
        raise InputError(problems or [f"{path}: national.scenarios: no province"])
    seed_set = seed is not None or "seed" in national.model_fields_set
    override = seed if seed is not None else (national.seed if seed_set else None)
    group = province_groups(provinces, crs, cross_border=nat.cross_border)
    groups = [np.flatnonzero(group == g) for g in sorted(set(group.tolist()))]
    for members in groups:
        if len(members) > 1:
            problems += group_problems([provinces[i] for i in members], seed_set=seed_set)
    if problems:
        raise InputError(problems)
    if override is not None:
        own = sorted({p.file for p in provinces if p.scenario.seed != override})
        if own:
            warns.append(Notice("seed-override", f"national: seed {override} (the national "
                                f"{'--seed' if seed is not None else 'file'}) replaces the provinces' own seeds in "
                                f"{', '.join(own)}"))
    warns += joint_warnings(provinces, groups)
    units: list[Unit] = []
    for gi, members in enumerate(groups):
        folder = f"p{gi + 1:02d}"
        if len(members) == 1:
            p = provinces[members[0]]
            units.append(Unit(p.key, [p.key], folder, p.path, _province_key(p, override),
                              len(p.region.layers["businesses"]), len(p.region.layers["estates"]), seed=override))
        else:
            label = " + ".join(provinces[i].key for i in members)
            unit, joint_warns = _joint_unit(national, [provinces[i] for i in members], label, folder, work, override)
            units.append(unit)
            warns += joint_warns
            units[-1].seed = override
        log.info("partition %s: %d businesses, %d estates", units[-1].label, units[-1].businesses, units[-1].estates)
    polygons = gpd.GeoDataFrame({"partition": [p.key for p in provinces]},
                                geometry=[gpd.GeoSeries([p.region.study_area], crs=p.region.crs).to_crs(crs).iloc[0]
                                          for p in provinces], crs=crs)
    inputs = national_inputs(national, path)
    return Partitioning(units, [p.key for p in provinces], polygons, crs.to_string(), inputs, warns)


def split_scenario(path: str | Path, work: Path, *, seed: int | None = None) -> Partitioning:
    """Split a national scenario of either form into units: :func:`partition_provinces` for a list of
    provincial scenarios, :func:`siteplan.national.partition.partition_scenario` for a partition layer."""
    from ..scenario import load_scenario

    path = Path(path)
    scenario = load_scenario(path)
    if scenario.national is None:
        raise InputError(f"{path}: not a national scenario (no 'national:' section)")
    if scenario.provincial_list:
        return partition_provinces(path, scenario, work, seed=seed)
    return partition_scenario(path, work, seed=seed)
