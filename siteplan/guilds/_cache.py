"""A cache of the trained name model, keyed by the hash of its training data.

The name model (:mod:`siteplan.guilds.name_model`) is trained on the catalogue's terms and the registry's
rule-classified rows; the same data, settings and library versions give the same model (training is
deterministic), so a run reuses the model an earlier run trained on the same data instead of training
again. The cache lives in memory (this process) and in the user's cache folder —
``$SITEPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/siteplan``, else ``~/.cache/siteplan`` —, never in an
input or output folder. ``SITEPLAN_CACHE_DIR=off`` (or empty) turns the folder cache off.

A cached model is a pickle the user's own runs wrote; files not owned by the user, or writable by
others, are ignored (and trained again), as is any file that does not load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import platform
import stat
import tempfile
from collections import OrderedDict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["cache_dir", "cached_bytes", "fit_name_model", "load_object", "store_object", "training_key"]

#: trained models kept in memory (most recent)
_MEMORY_SLOTS = 4
_memory: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
#: bump when what the cached file holds changes
_CACHE_FORMAT = 1


def cache_dir() -> Path | None:
    """The user's siteplan cache folder, or None when ``SITEPLAN_CACHE_DIR`` turns it off."""
    env = os.environ.get("SITEPLAN_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "siteplan"
    try:
        return Path.home() / ".cache" / "siteplan"
    except (RuntimeError, KeyError):  # no home folder known
        return None


def _versions() -> list[str]:
    out = [platform.python_version(), f"format {_CACHE_FORMAT}"]
    for pkg in ("siteplan", "scikit-learn", "numpy", "scipy"):
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            out.append(f"{pkg} ?")
    return out


def training_key(vec: Any, clf: Any, texts: list[str], labels: list[str], sample_weight: Any = None) -> str:
    """SHA-256 of everything the fitted model depends on: the texts, labels and weights, both
    estimators' settings, and the versions of Python and the libraries."""
    h = hashlib.sha256()
    head = [_versions(), type(vec).__name__, repr(sorted(vec.get_params().items())), type(clf).__name__,
            repr(sorted(clf.get_params().items()))]
    h.update(json.dumps(head, ensure_ascii=False).encode("utf-8"))
    h.update(json.dumps([list(map(str, texts)), list(map(str, labels))], ensure_ascii=False).encode("utf-8"))
    if sample_weight is not None:
        h.update(np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float64)).tobytes())
    return h.hexdigest()


def _safe(p: Path) -> bool:
    """A cache file this user wrote and nobody else may change."""
    try:
        st = p.stat()
    except OSError:
        return False
    own = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISREG(st.st_mode) and own and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _load(p: Path, key: str) -> tuple[Any, Any] | None:
    if not p.is_file() or not _safe(p):
        return None
    try:
        with open(p, "rb") as fh:
            got = pickle.load(fh)  # noqa: S301 - the user's own cache file (owner and mode checked)
        if isinstance(got, dict) and got.get("key") == key and isinstance(got.get("model"), tuple):
            return got["model"]
    except Exception as exc:
        log.debug("name model cache %s not used: %s", p, exc)
    return None


def _write_pickle(p: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``p`` atomically, readable by the user only (raises OSError)."""
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.stem[:16]}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _store(p: Path, key: str, model: tuple[Any, Any]) -> None:
    try:
        _write_pickle(p, {"key": key, "model": model})
    except OSError as exc:  # a read-only or full cache folder: the run goes on without it
        log.debug("name model cache %s not written: %s", p, exc)


def fit_name_model(vec: Any, clf: Any, texts: list[str], labels: list[str],
                   sample_weight: Any = None) -> tuple[Any, Any]:
    """``vec.fit_transform(texts)`` then ``clf.fit(x, labels[, sample_weight])``, or the same fitted
    pair from the cache (module docstring).

    Parameters
    ----------
    vec, clf
        The unfitted vectorizer and classifier (scikit-learn estimators).
    texts, labels, sample_weight
        The training data.

    Returns
    -------
    tuple
        The fitted ``(vec, clf)`` (shared by the runs that hit the cache: use them read-only).
    """
    key = training_key(vec, clf, texts, labels, sample_weight)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    folder = cache_dir()
    path = folder / "name-model" / f"{key}.pkl" if folder is not None else None
    got = _load(path, key) if path is not None else None
    if got is None:
        x = vec.fit_transform(texts)
        if sample_weight is None:
            clf.fit(x, labels)
        else:
            clf.fit(x, labels, sample_weight=sample_weight)
        got = (vec, clf)
        if path is not None:
            _store(path, key, got)
    else:
        log.debug("name model from the cache (%s)", path)
    _memory[key] = got
    while len(_memory) > _MEMORY_SLOTS:
        _memory.popitem(last=False)
    return got


def cached_bytes(kind: str, key_parts: list[str], data: bytes, compute: Any) -> bytes:
    """``compute()`` (bytes), or the bytes an earlier call with the same inputs stored in the cache folder.

    For deterministic derived files (the report's font subsets): the key is the SHA-256 of ``data`` (the
    source), ``key_parts`` (what else the result depends on, e.g. the characters kept) and the versions of
    Python and the libraries; the file lives in ``<cache folder>/<kind>/<key>.bin`` under the same rules as
    the name model's (own file, not writable by others, written atomically). Whatever goes wrong with the
    cache, ``compute()`` answers.

    Parameters
    ----------
    kind
        The cache's sub-folder (a plain name).
    key_parts
        Strings the result depends on besides ``data`` and the versions.
    data
        The source bytes.
    compute
        A callable returning the bytes when the cache has none.
    """
    h = hashlib.sha256()
    h.update(json.dumps([_versions(), kind, list(map(str, key_parts))], ensure_ascii=False).encode("utf-8"))
    h.update(hashlib.sha256(data).digest())
    key = h.hexdigest()
    folder = cache_dir()
    path = folder / kind / f"{key}.bin" if folder is not None else None
    if path is not None and path.is_file() and _safe(path):
        try:
            return path.read_bytes()
        except OSError as exc:
            log.debug("%s cache %s not used: %s", kind, path, exc)
    out: bytes = compute()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".bytes.", suffix=".part", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(out)
                os.chmod(tmp, 0o600)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:  # a read-only or full cache folder: the run goes on without it
            log.debug("%s cache %s not written: %s", kind, path, exc)
    return out


def _object_path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return folder / kind / f"{key}.pkl" if folder is not None else None


def load_object(kind: str, key: str) -> Any | None:
    """The object :func:`store_object` stored under ``kind``/``key``, or None (no cache folder, no such
    file, a file another user could have written, or one that does not load)."""
    p = _object_path(kind, key)
    if p is None or not p.is_file() or not _safe(p):
        return None
    try:
        with open(p, "rb") as fh:
            got = pickle.load(fh)  # noqa: S301 - the user's own cache file (owner and mode checked)
        if isinstance(got, dict) and got.get("key") == key:
            return got.get("value")
    except Exception as exc:
        log.debug("%s cache %s not used: %s", kind, p, exc)
    return None


def store_object(kind: str, key: str, value: Any, *, keep: int = 256) -> None:
    """Store ``value`` under ``kind``/``key`` (atomically, readable by the user only); the ``keep``
    most recent files of ``kind`` are kept. A cache folder that cannot be written is ignored."""
    p = _object_path(kind, key)
    if p is None:
        return
    try:
        _write_pickle(p, {"key": key, "value": value})
        files = sorted(p.parent.glob("*.pkl"), key=lambda f: (f.stat().st_mtime, f.name))
        for old in files[:-keep] if len(files) > keep else []:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only or full cache folder: the run goes on without it
        log.debug("%s cache %s not written: %s", kind, p, exc)
