"""Reusing the stage results of a finished run: ``siteplan run B.yaml --reuse RUN_A``.

A what-if ("what if E14 gets wastewater?") changes a few inputs; most stage results do not depend
on them. Every run records, in its manifest's ``stages``, a **key** for each expensive stage result:
the SHA-256 of exactly the inputs that result is computed from, plus the package's source and the
versions of the libraries (:func:`source_key`), and saves the results that are not already among its
outputs in ``stages/`` (a few hundred kB on the demo). A run given ``--reuse RUN_A`` computes its own
keys and takes a result from RUN_A only where the keys are equal:

========================  =================================================================================
result                    key: what it is computed from
========================  =================================================================================
classification            the businesses layer as loaded (every column and geometry), the catalogue's
                          table and keyword changes, ``classification`` and the labels file's content
criterion raster (each)   the criterion's spec, the grid, and only what the criterion reads: the
                          filtered features' geometries (and the ``field`` it reads), or the slope
suitability (each         its criterion weights and those criteria's keys, the aggregation, its siting
category)                 rules, each rule target's geometries and reach, the study area, the slope
========================  =================================================================================

So a one-estate attribute change reuses all of them (estates enter the suitability only by their
geometry, through the ``estate_synergy`` criterion); moving an estate recomputes that criterion and the
categories that weigh it; a changed criteria layer recomputes what reads it. Everything after
suitability (allocation, zoning, locate, programme, writing) depends on the estates and is computed.

Finer figures go through the run's memo (:mod:`siteplan.common.memo`, saved in ``stages/memo.npz`` after
every other output): each under the SHA-256 of exactly what it is computed from (the residents near a
set of businesses, :mod:`siteplan.programme.setmemo`; a suitability image of the report,
:mod:`siteplan.report.overlaymemo`), so the programme and the report compute only what the change touches.

Where the results come from: the criterion rasters from RUN_A's ``explain/rasters.npz`` (already an
output), the rule masks and the classification from RUN_A's ``stages/`` files. Each file is checked
against RUN_A's ``outputs_sha256`` and read without pickle (``numpy.load(allow_pickle=False)``, JSON);
a file that is missing, changed, damaged or of another format is not reused (a warning says why) and
the stage is computed — a run with ``--reuse`` writes the same bytes as one without. RUN_A is only
read. The manifest's ``reused`` says what was taken from where.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ..common.memo import Memo

if TYPE_CHECKING:
    import geopandas as gpd

    from ..grid import FieldCache, Grid
    from ..guilds.catalogue import Catalogue
    from ..rules.ruleset import RuleSet
    from ..scenario import Scenario
    from ..scoring.suitability import CriterionLayer, Surface

log = logging.getLogger(__name__)

__all__ = ["STAGES_DIR", "FORMAT", "StageReuse", "RunStages", "source_key"]

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


class _Key:
    """A SHA-256 under construction, fed with tagged parts (so that parts cannot run into each other)."""

    def __init__(self, kind: str) -> None:
        self.h = hashlib.sha256(f"{source_key()}\n{kind}\n".encode())

    def text(self, tag: str, value: object) -> _Key:
        b = (value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)).encode()
        self.h.update(f"{tag} {len(b)}\n".encode() + b)
        return self

    def array(self, tag: str, a: np.ndarray | None) -> _Key:
        if a is None:
            return self.text(tag, "none")
        a = np.ascontiguousarray(a)
        self.h.update(f"{tag} {a.dtype.str} {a.shape}\n".encode())
        self.h.update(a.tobytes())
        return self

    def geoms(self, tag: str, g: np.ndarray) -> _Key:
        wkb = shapely.to_wkb(np.asarray(g, dtype=object), hex=False) if len(g) else []
        self.h.update(f"{tag} {len(wkb)}\n".encode())
        for b in wkb:
            self.h.update(len(b).to_bytes(8, "little") + b)
        return self

    def frame(self, tag: str, df: pd.DataFrame) -> _Key:
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
        return self.h.hexdigest()


def _grid_part(grid: Grid) -> list[object]:
    return [list(grid.transform)[:6], grid.width, grid.height, grid.res, grid.crs.to_wkt() if grid.crs else None]


# ------------------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------------------

def classify_key(businesses: pd.DataFrame, catalogue: Catalogue, scenario: Scenario) -> str:
    """The classification's key: the businesses as loaded, the catalogue, ``classification`` and the
    labels file (:func:`siteplan.guilds.decide.classify_registry` reads nothing else)."""
    k = _Key("classify").frame("businesses", businesses).frame("catalogue", catalogue.table)
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

    k = _Key("criterion").text("spec", spec.model_dump(mode="json")).text("grid", _grid_part(grid))
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


class _Targets:
    """Digests of rule targets' geometries, each computed once."""

    def __init__(self, rs: RuleSet) -> None:
        self.ctx = rs.ctx
        self.done: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        if key not in self.done:
            tg, _tree = self.ctx.target(key)
            self.done[key] = _Key("target").geoms("g", tg).hexdigest()
        return self.done[key]


def surface_key(code: str, weights: dict[str, float], crit_keys: dict[str, str], rs: RuleSet,
                scenario: Scenario, grid: Grid, slope: np.ndarray | None, targets: _Targets) -> str:
    """A category's suitability key: its weights and those criteria's keys, the aggregation, its rules and
    what they read (targets' geometries and reach, the study area, the slope)."""
    k = _Key("surface").text("code", code).text("grid", _grid_part(grid))
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


# ------------------------------------------------------------------------------------------------
# the classification as plain arrays (no pickle)
# ------------------------------------------------------------------------------------------------

def _encode_text(values: list[object]) -> dict[str, np.ndarray]:
    null = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    blobs = [b"" if n else str(v).encode("utf-8") for v, n in zip(values, null)]
    off = np.zeros(len(blobs) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(b) for b in blobs]) if blobs else []
    return {"data": np.frombuffer(b"".join(blobs), dtype=np.uint8), "off": off, "null": null}


def _decode_text(data: np.ndarray, off: np.ndarray, null: np.ndarray) -> list[str | None]:
    raw = data.tobytes()
    return [None if null[i] else raw[off[i]:off[i + 1]].decode("utf-8") for i in range(len(null))]


def encode_classified(loaded: pd.DataFrame, classified: pd.DataFrame
                      ) -> tuple[dict[str, np.ndarray], list[dict[str, str]]] | None:
    """The columns classification added to ``loaded`` as plain arrays and their descriptions, or None
    when they cannot be stored so that :func:`decode_classified` gives back the very same frame."""
    cols = list(loaded.columns)
    if list(classified.columns[:len(cols)]) != cols or not classified.index.equals(loaded.index):
        return None
    arrays: dict[str, np.ndarray] = {}
    meta: list[dict[str, str]] = []
    for i, c in enumerate(classified.columns[len(cols):]):
        s = classified[c]
        dt = s.dtype
        if isinstance(dt, np.dtype) and dt.kind in "biuf":
            arrays[f"c{i}"] = s.to_numpy()
            meta.append({"name": str(c), "kind": "num", "dtype": dt.str})
        elif str(dt) in ("str", "object"):
            vals = s.tolist()
            if not all(v is None or isinstance(v, str) or (isinstance(v, float) and np.isnan(v)) for v in vals):
                return None
            for part, a in _encode_text(vals).items():
                arrays[f"c{i}_{part}"] = a
            meta.append({"name": str(c), "kind": "text", "dtype": "str" if str(dt) == "str" else "object"})
        else:
            return None
    try:
        back = decode_classified(loaded, arrays, meta)
        pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns=cols)),
                                      pd.DataFrame(classified.drop(columns=cols)), check_exact=True)
        if not pd.DataFrame(classified[cols]).equals(pd.DataFrame(loaded)):
            return None
    except (AssertionError, ValueError, TypeError, KeyError):
        return None
    return arrays, meta


def decode_classified(loaded: pd.DataFrame, arrays: dict[str, np.ndarray], meta: list[dict[str, str]]) -> pd.DataFrame:
    """``loaded`` with the columns :func:`encode_classified` stored."""
    out = loaded.copy()
    n = len(loaded)
    for i, m in enumerate(meta):
        if m["kind"] == "num":
            a = np.asarray(arrays[f"c{i}"])
            if a.shape != (n,) or a.dtype.str != m["dtype"]:
                raise ValueError(f"column {m['name']}: stored {a.dtype.str} {a.shape}")
            out[m["name"]] = a
        else:
            vals = _decode_text(arrays[f"c{i}_data"], arrays[f"c{i}_off"], arrays[f"c{i}_null"])
            if len(vals) != n:
                raise ValueError(f"column {m['name']}: {len(vals)} values for {n} businesses")
            out[m["name"]] = (pd.Series(vals, index=loaded.index, dtype="str") if m["dtype"] == "str"
                              else pd.Series(np.array(vals, dtype=object), index=loaded.index, dtype=object))
    return out


# ------------------------------------------------------------------------------------------------
# reading a finished run's stage results
# ------------------------------------------------------------------------------------------------

class RunStages:
    """The stage results a finished run saved, found by key (only read; :meth:`open`)."""

    def __init__(self, run_dir: Path, keys: dict[str, Any], hashes: dict[str, str]) -> None:
        self.run_dir = run_dir
        self.keys = keys
        self.hashes = hashes
        self._npz: dict[str, Any] = {}
        self._json: dict[str, Any] = {}
        self.notes: list[str] = []
        #: files of the run found missing, changed, damaged or unusable (never copied: :meth:`StageReuse.output`)
        self.bad: set[str] = set()

    @classmethod
    def open(cls, run_dir: str | Path) -> RunStages:
        """The stage results of ``run_dir`` (a folder ``siteplan run`` wrote). A folder that is missing
        or holds no readable manifest gives nothing to reuse (with a warning): the run computes every
        stage, as it does when a run folder named both ``--reuse`` and ``--out`` does not exist yet."""
        p = Path(run_dir)
        src = cls(p, {}, {})
        if not p.is_dir():
            src.warn("no such run folder; nothing reused")
            return src
        try:
            m = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
            hashes = m.get("outputs_sha256") if isinstance(m, dict) else None
            keys = m.get("stages") if isinstance(m, dict) else None
            if not isinstance(hashes, dict):
                raise ValueError("it lists no outputs")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            src.warn(f"no readable manifest.json ({type(exc).__name__}: {exc}), not a folder `siteplan run` wrote; "
                     "nothing reused")
            return src
        src.hashes = {str(k): str(v) for k, v in hashes.items()}
        if not isinstance(keys, dict) or keys.get("format") != FORMAT or keys.get("source") != source_key():
            why = ("it records no stage keys (an older siteplan)" if not isinstance(keys, dict) else
                   "it was made by another siteplan (source or library versions differ)"
                   if keys.get("format") == FORMAT else f"stage format {keys.get('format')!r}, this siteplan's is {FORMAT}")
            src.warn(f"nothing reused: {why}; every stage is computed")
            return src
        src.keys = keys
        return src

    def warn(self, msg: str) -> None:
        text = f"--reuse {self.run_dir}: {msg}"
        log.warning("%s", text)
        self.notes.append(text)

    def _checked(self, rel: str) -> bytes | None:
        """The bytes of ``rel`` under the run folder if they are those the run's manifest lists (read
        once: what is checked is what is used)."""
        p = self.run_dir / rel
        want = self.hashes.get(rel)
        if rel in self.bad:
            return None
        if want is None or not p.is_file() or p.is_symlink():
            self.bad.add(rel)
            self.warn(f"{rel} is missing or not listed in its manifest; not reused")
            return None
        try:
            data = p.read_bytes()
        except OSError as exc:
            self.bad.add(rel)
            self.warn(f"{rel} cannot be read ({exc}); not reused")
            return None
        if hashlib.sha256(data).hexdigest() != want:
            self.bad.add(rel)
            self.warn(f"{rel} changed since the run wrote it (SHA-256 differs from its manifest); not reused")
            return None
        return data

    def npz(self, rel: str) -> Any | None:
        """The arrays of a ``.npz`` of the run (never unpickled), or None."""
        if rel not in self._npz:
            data = self._checked(rel)
            got = None
            if data is not None:
                try:
                    with np.load(io.BytesIO(data), allow_pickle=False) as z:
                        got = {k: z[k] for k in z.files}
                except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                    self.bad.add(rel)
                    self.warn(f"{rel} is damaged ({type(exc).__name__}: {exc}); not reused")
            self._npz[rel] = got
        return self._npz[rel]

    def json(self, rel: str) -> Any | None:
        """The JSON of a file of the run, or None."""
        if rel not in self._json:
            data = self._checked(rel)
            got = None
            if data is not None:
                try:
                    got = json.loads(data.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    self.bad.add(rel)
                    self.warn(f"{rel} is damaged ({type(exc).__name__}: {exc}); not reused")
            self._json[rel] = got
        return self._json[rel]

    def classified(self, key: str, loaded: pd.DataFrame) -> tuple[pd.DataFrame, list[str]] | None:
        """The classification stored under ``key`` applied to ``loaded``, with its notes; None if none."""
        if self.keys.get("classify") != key:
            return None
        meta, arrays = self.json(f"{STAGES_DIR}/stages.json"), self.npz(f"{STAGES_DIR}/classify.npz")
        if meta is None or arrays is None:
            return None
        try:
            cm = meta["classify"]
            cols, notes = cm["columns"], [str(n) for n in cm["notes"]]
            if not isinstance(cols, list) or cm.get("rows") != len(loaded):
                raise ValueError("not the stored number of rows")
            names = {f"c{i}" for i in range(len(cols))} | {f"c{i}_{p}" for i in range(len(cols))
                                                            for p in ("data", "off", "null")}
            got = {k: v for k, v in arrays.items() if k in names}
            return decode_classified(loaded, got, [{str(k): str(v) for k, v in c.items()} for c in cols]), notes
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, UnicodeDecodeError,
                zipfile.BadZipFile, OSError) as exc:
            self.bad.add(f"{STAGES_DIR}/classify.npz")
            self.warn(f"the stored classification is damaged ({type(exc).__name__}: {exc}); classifying again")
            return None

    def memo(self) -> dict[str, tuple[np.ndarray, Any]]:
        """The figures the run stored in ``stages/memo.npz`` (:mod:`siteplan.common.memo`), by kind; none when
        the run stored none or the file is damaged (a warning says so)."""
        rel = f"{STAGES_DIR}/memo.npz"
        if not self.keys or rel not in self.hashes:
            return {}
        arrays = self.npz(rel)
        if arrays is None:
            return {}
        try:
            return _memo_entries(arrays)
        except ValueError as exc:
            self.bad.add(rel)
            self.warn(f"{rel} is damaged ({exc}); its figures are computed")
            return {}

    def criterion(self, name: str, key: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        """A criterion's raw and transformed rasters stored under ``key`` (in ``explain/rasters.npz``)."""
        if (self.keys.get("criteria") or {}).get(name) != key:
            return None
        meta, ras = self.json("explain/explain.json"), self.npz("explain/rasters.npz")
        if meta is None or ras is None:
            return None
        try:
            names = [str(n) for n in meta["criteria"]]
            if name not in names:
                return None
            i = names.index(name)
            raw, score = ras[f"raw{i}"], ras[f"score{i}"]
            if raw.shape != shape or score.shape != shape or raw.dtype.kind != "f" or score.dtype.kind != "f":
                raise ValueError(f"rasters of shape {raw.shape}, {score.shape}; the grid is {shape}")
            return raw, score
        except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile, OSError) as exc:
            self.bad.add("explain/rasters.npz")
            self.warn(f"criterion '{name}': the stored raster is damaged ({type(exc).__name__}: {exc}); computed")
            return None

    def mask(self, code: str, key: str, shape: tuple[int, int]) -> tuple[np.ndarray, dict[str, int]] | None:
        """A category's rule mask and cells excluded by each rule stored under ``key``."""
        if (self.keys.get("surfaces") or {}).get(code) != key:
            return None
        meta, arr = self.json(f"{STAGES_DIR}/stages.json"), self.npz(f"{STAGES_DIR}/surfaces.npz")
        if meta is None or arr is None:
            return None
        try:
            i = [str(c) for c in meta["surfaces"]["codes"]].index(code)
            counts = {str(r): int(n) for r, n in meta["surfaces"]["rule_cells"][i]}
            bits = arr[f"allowed{i}"]
            if bits.dtype != np.uint8 or bits.shape != ((shape[0] * shape[1] + 7) // 8,):
                raise ValueError(f"a mask of {bits.shape} bytes for a {shape[0]}×{shape[1]} grid")
            allowed = np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool)
            return allowed, counts
        except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile, OSError) as exc:
            self.bad.add(f"{STAGES_DIR}/surfaces.npz")
            self.warn(f"suitability {code}: the stored mask is damaged ({type(exc).__name__}: {exc}); computed")
            return None


def _memo_entries(arrays: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, Any]]:
    """``stages/memo.npz``'s arrays as kind → (keys, values), checked for their types and shapes.

    Raises
    ------
    ValueError
        An array of another type or shape, or keys without values.
    """
    out: dict[str, tuple[np.ndarray, Any]] = {}
    for name, keys in arrays.items():
        if not name.endswith("_keys"):
            continue
        kind = name.removesuffix("_keys")
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != 32:
            raise ValueError(f"memo '{kind}': keys {keys.dtype} {keys.shape}")
        out[kind] = (keys, _memo_values(arrays, kind, len(keys)))
    return out


def _memo_values(arrays: dict[str, np.ndarray], kind: str, n: int) -> Any:
    """The ``n`` values of one kind of ``stages/memo.npz``: float64 rows, or byte strings (blob and offsets).

    Raises
    ------
    ValueError
        Values missing, of another type, shape or number.
    """
    values, blob, off = arrays.get(f"{kind}_values"), arrays.get(f"{kind}_blob"), arrays.get(f"{kind}_off")
    if values is not None and values.dtype == np.float64 and values.ndim == 2 and len(values) == n:
        return values
    if blob is not None and off is not None and blob.dtype == np.uint8 and blob.ndim == 1 \
            and off.dtype == np.int64 and off.shape == (n + 1,) and off[0] == 0 and off[-1] == len(blob) \
            and bool(np.all(np.diff(off) >= 0)):
        return [blob[off[i]:off[i + 1]] for i in range(n)]
    raise ValueError(f"memo '{kind}': no {n} values of a known type")


# ------------------------------------------------------------------------------------------------
# a run's use of the stage results
# ------------------------------------------------------------------------------------------------

@dataclass
class _CachedMask:
    """Stands for a category's :class:`siteplan.rules.ruleset.RuleSet` in
    :func:`siteplan.scoring.suitability.surfaces`: its mask as a run computed it."""

    allowed: np.ndarray
    counts: dict[str, int]

    def mask(self, fields: Any = None) -> tuple[np.ndarray, dict[str, int]]:  # noqa: ARG002 - RuleSet.mask's signature
        return self.allowed, dict(self.counts)


@dataclass
class StageReuse:
    """A run's stage keys, the results it may save for later runs, and what it took from ``source``.

    Attributes
    ----------
    source
        The run whose results this run may reuse (``--reuse``), or None.
    keys
        This run's keys (the manifest's ``stages``).
    classified
        The classification as plain arrays and its description (for ``stages/``), or None.
    masks
        Each category's rule mask (bit-packed) and cells excluded per rule (for ``stages/``).
    memo
        Figures keyed by what they are computed from (:mod:`siteplan.common.memo`): those ``source`` stored,
        and those this run uses (for ``stages/memo.npz``).
    reused
        What was reused (the manifest's ``reused``).
    """

    source: RunStages | None = None
    keys: dict[str, Any] = field(default_factory=lambda: {"format": FORMAT, "source": source_key(), "classify": None,
                                                          "criteria": {}, "surfaces": {}})
    classified: tuple[dict[str, np.ndarray], list[dict[str, str]], list[str], int] | None = None
    masks: dict[str, tuple[np.ndarray, dict[str, int]]] = field(default_factory=dict)
    reused: dict[str, Any] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo)

    def __post_init__(self) -> None:
        if self.source is not None:
            self.memo = Memo(self.source.memo())

    @classmethod
    def from_run(cls, run_dir: str | Path | None) -> StageReuse:
        """The reuse of ``run_dir``'s results (None: keys only)."""
        return cls(RunStages.open(run_dir) if run_dir is not None else None)

    def _mark(self, what: str, reused: int, of: int) -> None:
        if self.source is None:
            return
        self.reused.setdefault("run", str(self.source.run_dir))
        self.reused[what] = {"reused": reused, "of": of}

    @property
    def notes(self) -> list[str]:
        """Why something was not reused (for the run's warnings)."""
        return list(self.source.notes) if self.source is not None else []

    def classify(self, businesses: pd.DataFrame, catalogue: Catalogue, scenario: Scenario
                 ) -> tuple[pd.DataFrame, list[str]]:
        """:func:`siteplan.guilds.decide.classify_registry`, or its result from the source run."""
        from ..guilds.decide import classify_registry

        try:
            key: str | None = classify_key(businesses, catalogue, scenario)
        except Exception as exc:  # a key that cannot be made: compute (and store nothing)
            log.debug("classification key not made: %s", exc)
            key = None
        self.keys["classify"] = key
        got = self.source.classified(key, businesses) if (self.source is not None and key) else None
        if got is not None:
            biz, notes = got
            self._mark("classify", 1, 1)
        else:
            biz, notes = classify_registry(businesses, catalogue, scenario)
            self._mark("classify", 0, 1)
        enc = encode_classified(businesses, biz) if key else None
        if enc is None:
            self.keys["classify"] = None
        else:
            self.classified = (enc[0], enc[1], list(notes), len(businesses))
        return biz, notes

    def criteria(self, specs: list[Any], layers: dict[str, gpd.GeoDataFrame], grid: Grid, cache: FieldCache
                 ) -> list[CriterionLayer]:
        """:func:`siteplan.scoring.suitability.criterion_layers`, each raster taken from the source run
        when its key is the same."""
        from ..scoring.suitability import CriterionLayer, criterion_layers

        out: list[CriterionLayer | None] = []
        todo: list[int] = []
        reused = 0
        for i, s in enumerate(specs):
            try:
                key: str | None = criterion_key(s, layers, grid, cache.slope)
            except Exception as exc:  # e.g. a filter naming a missing field: criterion_layers says so
                log.debug("criterion %s: key not made: %s", s.name, exc)
                key = None
            if key is not None:
                self.keys["criteria"][s.name] = key
            got = self.source.criterion(s.name, key, grid.shape) if (self.source is not None and key) else None
            if got is not None:
                out.append(CriterionLayer(s, got[0], got[1]))
                reused += 1
            else:
                out.append(None)
                todo.append(i)
        if todo:
            computed = criterion_layers([specs[i] for i in todo], layers, grid, cache)
            for i, c in zip(todo, computed):
                out[i] = c
        self._mark("criteria", reused, len(specs))
        return [c for c in out if c is not None]

    def surfaces(self, codes: list[str], crit: list[CriterionLayer], rules: dict[str, RuleSet],
                 scenario: Scenario, layers: dict[str, gpd.GeoDataFrame], cache: FieldCache
                 ) -> dict[str, Surface]:
        """:func:`siteplan.scoring.suitability.surfaces`, each category's rule mask taken from the source
        run when its key is the same (the score, a weighted sum of the criteria, is computed)."""
        from ..scoring.suitability import category_weights, surfaces

        specs = [c.spec for c in crit]
        use: dict[str, Any] = dict(rules)
        targets = _Targets(next(iter(rules.values()))) if rules else None
        reused = 0
        for code in codes:
            try:
                w = category_weights(specs, scenario, code)
                assert targets is not None
                key: str | None = surface_key(code, w, self.keys["criteria"], rules[code], scenario, cache.grid,
                                              cache.slope, targets)
            except Exception as exc:  # surfaces() raises the proper error
                log.debug("suitability %s: key not made: %s", code, exc)
                key = None
            if key is not None:
                self.keys["surfaces"][code] = key
            got = self.source.mask(code, key, cache.grid.shape) if (self.source is not None and key) else None
            if got is not None:
                use[code] = _CachedMask(*got)
                reused += 1
        out = surfaces(codes, crit, use, scenario, layers, cache)
        for code, s in out.items():
            self.masks[code] = (np.packbits(s.allowed.ravel()), dict(s.rule_cells))
        self._mark("surfaces", reused, len(codes))
        return out

    def surface_file_key(self, code: str, *parts: object) -> str | None:
        """The key of an output file written from category ``code``'s suitability alone (its GeoTIFF;
        with ``parts``, e.g. the sensitivity settings and seed, its SD raster): None when the category
        has no suitability key."""
        sk = (self.keys.get("surfaces") or {}).get(code)
        if not sk:
            return None
        return _Key("file surface").text("surface", sk).text("parts", list(parts)).hexdigest()

    def rasters_file_key(self, names: list[str], slope: np.ndarray | None) -> str | None:
        """The key of ``explain/rasters.npz``: each criterion's key in the file's order and the slope;
        None when a criterion has no key."""
        ck = self.keys.get("criteria") or {}
        if not all(ck.get(n) for n in names):
            return None
        return _Key("file rasters").text("criteria", [[n, ck[n]] for n in names]).array("slope", slope).hexdigest()

    def output(self, rel: str, key: str | None, dest: Path) -> bool:
        """Record output file ``rel``'s key (the manifest's ``stages.files``) and, when the source run
        recorded the same key for it, copy the source run's bytes of ``rel`` to ``dest`` (checked against
        its manifest's ``outputs_sha256``, written atomically).

        Parameters
        ----------
        rel
            The file's path in the run folder (``suitability/A1.tif``).
        key
            What the file's bytes are made from (:meth:`surface_file_key`, :meth:`rasters_file_key`), or
            None: not recorded, not copied.
        dest
            Where this run writes it.

        Returns
        -------
        bool
            True when copied (the caller writes nothing); False: the caller encodes the file.
        """
        if key is None:
            return False
        self.keys.setdefault("files", {})[rel] = key
        if self.source is None:
            return False
        done = self.reused.setdefault("outputs", {"reused": 0, "of": 0})
        done["of"] += 1
        self.reused.setdefault("run", str(self.source.run_dir))
        if (self.source.keys.get("files") or {}).get(rel) != key:
            return False
        data = self.source._checked(rel)
        if data is None:
            return False
        from ..common.atomic import atomic_path

        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
        done["reused"] += 1
        return True

    def stage_names(self) -> list[str]:
        """The stages wholly reused."""
        out = []
        r = self.reused
        if r.get("classify", {}).get("reused"):
            out.append("classify")
        c, s = r.get("criteria", {}), r.get("surfaces", {})
        if c and s and c["reused"] == c["of"] and s["reused"] == s["of"]:
            out.append("suitability")
        return out

    def manifest(self) -> dict[str, Any]:
        """The manifest's ``reused`` (empty without ``--reuse``)."""
        if self.source is None:
            return {}
        memo = {f"memo {k}": {"reused": c[0], "of": c[1]} for k, c in sorted(self.memo.counts.items())}
        return {"run": str(self.source.run_dir), "stages": self.stage_names(),
                **{k: v for k, v in self.reused.items() if k != "run"}, **memo, "notes": self.notes}

    def write(self, folder: Path) -> list[Path]:
        """Write ``stages/`` (the classification's columns, the rule masks) into the run folder ``folder``."""
        from .formats import write_json, write_npz

        d = folder / STAGES_DIR
        d.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {"format": FORMAT}
        written = []
        if self.classified is not None:
            arrays, cols, notes, rows = self.classified
            meta["classify"] = {"rows": rows, "columns": cols, "notes": notes}
            write_npz(arrays, d / "classify.npz")
            written.append(d / "classify.npz")
        codes = list(self.masks)
        meta["surfaces"] = {"codes": codes, "rule_cells": [list(self.masks[c][1].items()) for c in codes]}
        write_npz({f"allowed{i}": self.masks[c][0] for i, c in enumerate(codes)}, d / "surfaces.npz")
        write_json(meta, d / "stages.json")
        return [*written, d / "surfaces.npz", d / "stages.json"]

    def write_memo(self, folder: Path) -> Path:
        """Write ``stages/memo.npz``: every figure of the memo this run used (:mod:`siteplan.common.memo`), in
        key order (the same bytes whichever run computed them)."""
        from .formats import write_npz

        path = folder / STAGES_DIR / "memo.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_npz(self.memo.arrays(), path)
        return path
