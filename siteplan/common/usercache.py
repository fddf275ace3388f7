"""The user's cache folder: results a run may reuse, keyed by the hash of everything they depend on.

The name model's fitted arrays (:mod:`siteplan.guilds.ngram_model`), relocation solves
(:mod:`siteplan.relocation.solve`), new sites' candidate cells (:mod:`siteplan.locate.newsites`) and the
report's font subsets live in ``$SITEPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/siteplan``, else
``~/.cache/siteplan`` — never in an input or output folder. ``SITEPLAN_CACHE_DIR=off`` (or empty) turns
it off. A cached file is one the user's own runs wrote: files not owned by the user, or writable by
others, are ignored (and computed again), as is any file that does not load; every key holds the
versions of Python and the libraries, so an upgrade recomputes.
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
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["cache_dir", "cached_bytes", "load_object", "store_object", "store_file", "safe_file", "versions_key",
           "package_files_digest"]

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


def versions_key() -> list[str]:
    """Python's and the libraries' versions and the cache format: part of every cache key."""
    out = [platform.python_version(), f"format {_CACHE_FORMAT}"]
    for pkg in ("siteplan", "scikit-learn", "numpy", "scipy"):
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            out.append(f"{pkg} ?")
    return out


def safe_file(p: Path) -> bool:
    """A cache file this user wrote and nobody else may change."""
    try:
        st = p.stat()
    except OSError:
        return False
    own = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISREG(st.st_mode) and own and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _write_pickle(p: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``p`` atomically, readable by the user only (raises OSError)."""
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=f".{p.stem[:16]}.", suffix=".part", dir=p.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.chmod(0o600)
        tmp.replace(p)
    finally:
        tmp.unlink(missing_ok=True)


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
    h.update(json.dumps([versions_key(), kind, list(map(str, key_parts))], ensure_ascii=False).encode("utf-8"))
    h.update(hashlib.sha256(data).digest())
    key = h.hexdigest()
    folder = cache_dir()
    path = folder / kind / f"{key}.bin" if folder is not None else None
    if path is not None and path.is_file() and safe_file(path):
        try:
            return path.read_bytes()
        except OSError as exc:
            log.debug("%s cache %s not used: %s", kind, path, exc)
    out: bytes = compute()
    if path is not None:
        store_file(path, out)
    return out


def store_file(path: Path, data: bytes) -> None:
    """Write ``data`` to the cache file ``path`` atomically, readable by the user only; a cache folder that
    cannot be written (read-only, full) is ignored: the run goes on without it.

    Parameters
    ----------
    path
        The file, inside the cache folder.
    data
        Its bytes.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem[:16]}.", suffix=".part", dir=path.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            tmp.chmod(0o600)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("cache file %s not written: %s", path, exc)


def _object_path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return folder / kind / f"{key}.pkl" if folder is not None else None


def load_object(kind: str, key: str) -> Any | None:
    """The object :func:`store_object` stored under ``kind``/``key``, or None (no cache folder, no such
    file, a file another user could have written, or one that does not load)."""
    p = _object_path(kind, key)
    if p is None or not p.is_file() or not safe_file(p):
        return None
    try:
        with p.open("rb") as fh:
            got = pickle.load(fh)  # noqa: S301 - the user's own cache file (owner and mode checked)
        if isinstance(got, dict) and got.get("key") == key:
            return got.get("value")
    except Exception as exc:  # noqa: BLE001 - unpickling a damaged file raises anything; the cache is skipped
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


def package_files_digest(rels: tuple[str, ...] | list[str], *, prefix: bytes = b"") -> bytes:
    """SHA-256 of ``prefix`` and the named files of the siteplan package: a cache key's part that makes a
    changed piece of code never read an answer an older one stored.

    Parameters
    ----------
    rels
        Paths relative to the package folder (``relocation/solve.py``); one that cannot be read counts as
        ``?``.
    prefix
        Bytes hashed first (e.g. the versions).

    Returns
    -------
    bytes
        The digest.
    """
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(prefix)
    for rel in rels:
        try:
            h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
        except OSError:
            h.update(rel.encode() + b"\0?")
    return h.digest()
