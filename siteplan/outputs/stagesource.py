"""The stage results a finished run saved (``--reuse RUN_A``), found by key and checked against its manifest
(:class:`RunStages`; only read)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .stagecodec import decode_classified
from .stagekeys import FORMAT, STAGES_DIR, source_key

log = logging.getLogger(__name__)

__all__ = ["RunStages", "memo_entries"]


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
        if not (p / "manifest.json").is_file():
            src.warn("it has no manifest.json: not a folder `siteplan run` wrote; nothing reused")
            return src
        try:
            hashes, keys = _manifest_parts(p / "manifest.json")
        except (OSError, ValueError, TypeError) as exc:
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
        """Log and keep (:attr:`notes`, the manifest's ``reused.notes``) a note about what is not reused."""
        text = f"--reuse {self.run_dir}: {msg}"
        log.warning("%s", text)
        self.notes.append(text)

    def checked(self, rel: str) -> bytes | None:
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
            data = self.checked(rel)
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
            data = self.checked(rel)
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
            _check("not the stored number of rows", ok=isinstance(cols, list) and cm.get("rows") == len(loaded))
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
            return memo_entries(arrays)
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
            _check(f"rasters of shape {raw.shape}, {score.shape}; the grid is {shape}",
                   ok=raw.shape == shape and score.shape == shape and raw.dtype.kind == "f" and score.dtype.kind == "f")
        except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile, OSError) as exc:
            self.bad.add("explain/rasters.npz")
            self.warn(f"criterion '{name}': the stored raster is damaged ({type(exc).__name__}: {exc}); computed")
            return None
        return raw, score

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
            _check(f"a mask of {bits.shape} bytes for a {shape[0]}×{shape[1]} grid",
                   ok=bits.dtype == np.uint8 and bits.shape == ((shape[0] * shape[1] + 7) // 8,))
            allowed = np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool)
        except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile, OSError) as exc:
            self.bad.add(f"{STAGES_DIR}/surfaces.npz")
            self.warn(f"suitability {code}: the stored mask is damaged ({type(exc).__name__}: {exc}); computed")
            return None
        return allowed, counts


def _check(why: str, *, ok: bool) -> None:
    """Raise ``ValueError(why)`` unless ``ok``: stored data that is not what was written."""
    if not ok:
        raise ValueError(why)


def _manifest_parts(path: Path) -> tuple[dict[str, Any], Any]:
    """A run's ``manifest.json``: its ``outputs_sha256`` and its ``stages`` (the stage keys, or whatever is there).

    Raises
    ------
    OSError, ValueError
        The file cannot be read or is not JSON.
    TypeError
        It lists no outputs.
    """
    m = json.loads(path.read_text(encoding="utf-8"))
    hashes = m.get("outputs_sha256") if isinstance(m, dict) else None
    if not isinstance(hashes, dict):
        raise TypeError("it lists no outputs")
    return hashes, m.get("stages")


def memo_entries(arrays: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, Any]]:
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
