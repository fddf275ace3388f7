"""The keys of a run's stage results (:mod:`siteplan.outputs.stagecache`): each the SHA-256 of exactly what the
result is computed from, with siteplan's own source and the libraries' versions (:func:`source_key`)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    import geopandas as gpd

    from ..grid import Grid
    from ..guilds.catalogue import Catalogue
    from ..rules.ruleset import RuleSet
    from ..scenario import Scenario

__all__ = ["FORMAT", "STAGES_DIR", "StageKey", "RuleTargets", "source_key", "classify_key", "criterion_key",
           "surface_key"]

#: the run folder's sub-folder of stage results that are not otherwise outputs
STAGES_DIR = "stages"
#: version of the keys and of the ``stages/`` files (another version is never reused)
FORMAT = 1
_LIBRARIES = ("numpy", "scipy", "shapely", "pyproj", "rasterio", "geopandas", "pandas", "scikit-learn", "pyogrio",
              "affine")


@functools.lru_cache(maxsize=1)
def source_key() -> str:
    """SHA-256 of siteplan's own files (every source and data file of the package, by path), the key
    format and the versions of Python and the libraries that compute the stages: a changed siteplan
    never reuses a result an older one computed."""
    import platform
    from importlib import metadata

    root = Path(__file__).resolve().parent.parent  # the siteplan package
    h = hashlib.sha256(f"siteplan stages {FORMAT}\npython {platform.python_version()}\n".encode())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib} {metadata.version(lib)}\n".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib} -\n".encode())
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix not in (".pyc", ".pyo"))
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        try:
            h.update(hashlib.sha256(p.read_bytes()).digest())
        except OSError:
            h.update(b"?")
    return h.hexdigest()


class StageKey:
    """A SHA-256 under construction, fed with tagged parts (so that parts cannot run into each other)."""

    def __init__(self, kind: str) -> None:
        self.h = hashlib.sha256(f"{source_key()}\n{kind}\n".encode())

    def text(self, tag: str, value: object) -> StageKey:
        """Feed ``value``: a string as it is, anything else as sorted JSON."""
        b = (value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)).encode()
        self.h.update(f"{tag} {len(b)}\n".encode() + b)
        return self

    def array(self, tag: str, a: np.ndarray | None) -> StageKey:
        """Feed an array's type, shape and bytes (None as the text ``none``)."""
        if a is None:
            return self.text(tag, "none")
        a = np.ascontiguousarray(a)
        self.h.update(f"{tag} {a.dtype.str} {a.shape}\n".encode())
        self.h.update(a.tobytes())
        return self

    def geoms(self, tag: str, g: np.ndarray) -> StageKey:
        """Feed each geometry's WKB."""
        wkb = shapely.to_wkb(np.asarray(g, dtype=object), hex=False) if len(g) else []
        self.h.update(f"{tag} {len(wkb)}\n".encode())
        for b in wkb:
            self.h.update(len(b).to_bytes(8, "little") + b)
        return self

    def frame(self, tag: str, df: pd.DataFrame) -> StageKey:
        """Every column (names, dtypes, values as text) and the geometry, if any."""
        geo = getattr(df, "_geometry_column_name", None) if hasattr(df, "geometry") else None
        attrs = pd.DataFrame(df.drop(columns=[geo])) if geo in df.columns else pd.DataFrame(df)
        self.text(tag + ".columns", [[str(c), str(attrs[c].dtype)] for c in attrs.columns])
        self.text(tag + ".index", [str(attrs.index.dtype), len(attrs)])
        self.array(tag + ".index_values", pd.util.hash_pandas_object(attrs.index.to_series().astype(str),
                                                                     index=False).to_numpy())
        for c in attrs.columns:
            self.array(f"{tag}.{c}", pd.util.hash_pandas_object(attrs[c].astype(str), index=False).to_numpy())
        if geo in df.columns:
            self.geoms(tag + ".geometry", df[geo].values)
        return self

    def hexdigest(self) -> str:
        """The key: the SHA-256 of everything fed, in hexadecimal."""
        return self.h.hexdigest()


def _grid_part(grid: Grid) -> list[object]:
    return [list(grid.transform)[:6], grid.width, grid.height, grid.res, grid.crs.to_wkt() if grid.crs else None]


# ------------------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------------------

def classify_key(businesses: pd.DataFrame, catalogue: Catalogue, scenario: Scenario) -> str:
    """The classification's key: the businesses as loaded, the catalogue, ``classification`` and the
    labels file (:func:`siteplan.guilds.decide.classify_registry` reads nothing else)."""
    k = StageKey("classify").frame("businesses", businesses).frame("catalogue", catalogue.table)
    k.text("catalogue.changes", list(catalogue.changes))
    spec = scenario.classification
    k.text("classification", spec.model_dump(mode="json"))
    if spec.labels:
        p = scenario.resolve(spec.labels)
        from ..common.hashing import sha256_file as sha256

        k.text("labels", sha256(p) if p.is_file() else "missing")
    return k.hexdigest()


def criterion_key(spec: Any, layers: dict[str, gpd.GeoDataFrame], grid: Grid, slope: np.ndarray | None) -> str:
    """A criterion raster's key: its spec, the grid, and what :func:`siteplan.scoring.suitability.criterion_layers`
    reads for it (the filtered features' geometries and the field it reads, or the slope)."""
    from ..scoring.suitability import filter_features

    k = StageKey("criterion").text("spec", spec.model_dump(mode="json")).text("grid", _grid_part(grid))
    if spec.kind == "raster":
        return k.array("slope", slope).hexdigest()
    gdf = layers.get(spec.layer)
    if gdf is None:
        return k.text("layer", "missing").hexdigest()
    sel = filter_features(gdf, spec.filter, spec.name)
    k.text("n", len(sel)).geoms("geometry", sel.geometry.values)
    if spec.field and spec.field in sel.columns:
        k.array("field", pd.util.hash_pandas_object(sel[spec.field].astype(str), index=False).to_numpy())
        k.text("field.dtype", str(sel[spec.field].dtype))
    return k.hexdigest()


class RuleTargets:
    """Digests of rule targets' geometries, each computed once."""

    def __init__(self, rs: RuleSet) -> None:
        self.ctx = rs.ctx
        self.done: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        """The SHA-256 of rule target ``key``'s geometries (each target hashed once)."""
        if key not in self.done:
            tg, _tree = self.ctx.target(key)
            self.done[key] = StageKey("target").geoms("g", tg).hexdigest()
        return self.done[key]


def surface_key(code: str, weights: dict[str, float], crit_keys: dict[str, str], rs: RuleSet,
                scenario: Scenario, grid: Grid, slope: np.ndarray | None, targets: RuleTargets) -> str:
    """A category's suitability key: its weights and those criteria's keys, the aggregation, its rules and
    what they read (targets' geometries and reach, the study area, the slope)."""
    k = StageKey("surface").text("code", code).text("grid", _grid_part(grid))
    k.text("weights", [[n, repr(float(w)), crit_keys[n]] for n, w in weights.items()])
    k.text("aggregation", scenario.aggregation.model_dump(mode="json")).text("block", scenario.grid.block_size)
    from dataclasses import asdict

    k.text("rules", [asdict(r) for r in rs.rules])
    for r in rs.rules:
        if r.kind == "distance":
            k.text("target " + r.target, [targets(r.target), repr(float(rs.ctx.reach.get(r.target, 0.0)))])
        elif r.kind == "study_area":
            k.geoms("study_area", np.array([rs.ctx.study_area], dtype=object))
        elif r.kind == "max_slope":
            k.array("slope", slope)
    return k.hexdigest()
