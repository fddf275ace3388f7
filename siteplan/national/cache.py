"""The national cache: siteplan's own folder, kept in bounds, never touching what it did not write.

The cache (``.NAME.cache`` beside ``--out``, or ``--cache``) holds each run's outputs under its key
(``units/<key>/``), the runs' inputs after the split (``inputs/<folder>/``) and, while a run is being
computed, ``units/.<key>.partial-*`` folders. Keys change whenever an input or setting changes, so
without pruning every edit would leave a province's outputs behind for good.

**Ownership.** :func:`open_cache` refuses, before any work, a cache folder that is, holds or lies inside
an input of the scenario (a layer, the partitions, a provincial scenario, a sidecar), that is or lies
inside ``--out`` or holds it, or that exists, is not empty and has no cache marker; it creates the cache
with the marker ``.siteplan-run`` (``kind: cache``). Every entry siteplan writes carries the same
marker with the list of its files (``kind: cache-unit`` or ``cache-inputs``). Nothing else in the cache
is siteplan's: an entry without a marker, or holding a file, folder or link its marker does not list,
is never rewritten or removed (a rewrite is refused, pruning leaves it and says so).

After a national run, :func:`prune_cache`:

* marks the runs this run used (computed or reused) as used now;
* removes the runs not used for ``keep_days`` days (``0``: everything this run did not use), so a
  setting switched back within that time is still found, and a cache shared by several national
  scenarios (``--cache``) keeps the others' recent runs;
* removes partial folders left by a run that was killed (older than a day: a younger one may belong
  to a run still going on the same cache) and the ``inputs/`` folders of partitions that no longer exist;
* removes only entries siteplan wrote, as above.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import InputError
from ..outputs.outdir import MARKER, foreign_files, read_marker
from ..outputs.outfile import input_files

log = logging.getLogger(__name__)

__all__ = ["prune_cache", "folder_bytes", "open_cache", "claim_entry", "seal_entry", "owned_entry"]

#: a partial folder younger than this may belong to a run still going on the same cache
PARTIAL_GRACE_S = 86_400.0
#: litter of the operating system, not counted when deciding whether a folder is empty
_JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_PARTIAL = re.compile(r"\.[0-9a-f]{64}\.partial-[0-9a-f]{12}")


def _is_junk(p: Path) -> bool:
    """Operating-system litter: a regular file named ``.DS_Store``, ``Thumbs.db`` or ``desktop.ini`` (a folder
    or link of that name is the user's)."""
    return p.name in _JUNK and p.is_file() and not p.is_symlink()


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _write_marker(folder: Path, kind: str, files: Iterable[str] | None) -> None:
    data: dict[str, Any] = {"siteplan": __version__, "kind": kind}
    if files is not None:
        data["files"] = sorted(files)
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(folder / MARKER)


def _kind(folder: Path) -> str | None:
    m = read_marker(folder) if not folder.is_symlink() else None
    return str(m.get("kind")) if m is not None else None


def _stat(p: Path) -> os.stat_result | None:
    try:
        return p.stat()
    except OSError:
        return None


def _inside(inner: Path, outer: Path) -> bool:
    """``inner`` is ``outer`` or lies inside it (both resolved; by path and by identity of the folders)."""
    if inner == outer or outer in inner.parents:
        return True
    st = _stat(outer)
    if st is None or not outer.is_dir():
        return False
    return any((s := _stat(a)) is not None and os.path.samestat(s, st) for a in (inner, *inner.parents))


def open_cache(cache: str | Path, inputs: Mapping[str, str | Path], out: str | Path) -> Path:
    """Check the cache folder and make it siteplan's (before any work).

    Parameters
    ----------
    cache
        The cache folder as given (``--cache``, or the default beside ``--out``).
    inputs
        What the national scenario reads, by description (:func:`siteplan.outputs.outfile.scenario_inputs`).
    out
        The national output folder.

    Returns
    -------
    Path
        The resolved cache folder, holding the cache marker and ``inputs/`` and ``units/``.

    Raises
    ------
    InputError
        The cache is, holds or lies inside an input or ``--out``; it exists, is not empty and has no
        cache marker; it cannot be written.
    """
    given = str(cache)
    cache_dir = Path(cache).expanduser().resolve()
    shown = f"--cache {given}" + (f" ({cache_dir})" if given != str(cache_dir) else "")
    out_dir = Path(out).expanduser().resolve()
    _check_apart(cache_dir, shown, inputs, out_dir)
    if os.path.lexists(cache_dir) and not cache_dir.is_dir():
        raise InputError(f"{shown}: cannot write there (it exists and is not a folder); give a folder of its own "
                         "with --cache (the partitions' inputs and results are kept there)")
    if cache_dir.is_dir() and _kind(cache_dir) != "cache":
        _check_empty(cache_dir, shown)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if _kind(cache_dir) != "cache":
            _write_marker(cache_dir, "cache", None)
        for sub in ("inputs", "units"):
            (cache_dir / sub).mkdir(exist_ok=True)
            with tempfile.TemporaryFile(dir=cache_dir / sub):
                pass
    except OSError as exc:
        raise InputError(f"{shown}: cannot write there ({exc.strerror or exc}); give a writable folder "
                         "with --cache (the partitions' inputs and results are kept there)") from None
    return cache_dir


#: why the cache must be a folder of its own
_OWN = "the cache deletes the results it no longer needs, so it must be a folder of siteplan's own"


def _check_apart(cache_dir: Path, shown: str, inputs: Mapping[str, str | Path], out_dir: Path) -> None:
    """Refuse a cache that is, holds or lies inside ``--out`` or an input."""
    if _inside(cache_dir, out_dir):
        raise InputError(f"{shown}: is inside --out, which a run replaces as a whole; put the cache beside it")
    if _inside(out_dir, cache_dir):
        raise InputError(f"{shown}: holds --out ({out_dir}); {_OWN}: put the cache beside --out")
    for label, p in inputs.items():
        for f in input_files(Path(p).expanduser()):
            real = f.resolve()
            if _inside(real, cache_dir):
                what = f"is {label}" if real == cache_dir else f"holds {label} ({real})"
                raise InputError(f"{shown}: {what}; {_OWN}, apart from the inputs: choose a new folder, e.g. "
                                 f"--cache {out_dir.parent / ('.' + out_dir.name + '.cache')}")
            if real in cache_dir.parents:
                raise InputError(f"{shown}: lies inside {label} ({real}); {_OWN}, apart from the inputs: choose a "
                                 "new folder elsewhere")


def _check_empty(cache_dir: Path, shown: str) -> None:
    """Refuse an existing folder that is not a siteplan cache and holds anything but junk."""
    names = sorted(e.name for e in cache_dir.iterdir() if not _is_junk(e))
    if names:
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        raise InputError(f"{shown}: the folder exists, is not empty ({', '.join(names[:5])}{more}) and is "
                         f"not a siteplan cache (it has no {MARKER} marker of kind 'cache'); {_OWN}: give a "
                         "new or empty folder (a cache made by an older siteplan holds only results it "
                         "can recompute: delete it)")


def owned_entry(folder: Path, kind: str) -> tuple[bool, list[str]]:
    """Whether siteplan wrote a cache entry, and what in it it did not write.

    Parameters
    ----------
    folder
        An entry of the cache (``units/<key>`` or ``inputs/<folder>``).
    kind
        Its marker's kind (``cache-unit``, ``cache-inputs``).

    Returns
    -------
    tuple
        ``(True, [])`` when its marker is of ``kind``, lists its files and nothing else is there;
        otherwise False and what is not siteplan's (every file when there is no marker or file list).
    """
    if folder.is_symlink():
        return False, [folder.name + " (a symbolic link)"]
    m = read_marker(folder)
    files = m.get("files") if m is not None and m.get("kind") == kind else None
    known = set(map(str, files)) if isinstance(files, list) else None
    foreign = foreign_files(folder, known)
    return known is not None and not foreign, foreign


def claim_entry(folder: Path, kind: str, files: Iterable[str]) -> None:
    """Make ``folder`` a cache entry about to hold ``files``: remove the files its marker lists, refuse
    one holding anything siteplan did not write, and record the new list first (a run killed while
    writing leaves an entry that is still siteplan's).

    Raises
    ------
    InputError
        ``folder`` holds files, folders or links its marker does not list, or has no marker.
    """
    if os.path.lexists(folder):
        if folder.is_symlink() or not folder.is_dir():
            raise InputError(f"{folder}: is not a folder siteplan wrote in its cache; remove it or choose another "
                             "--cache")
        entries = [e.name for e in folder.iterdir() if not _is_junk(e)]
        if entries:
            ok, foreign = owned_entry(folder, kind)
            if not ok:
                more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
                raise InputError(f"{folder}: holds files siteplan did not write ({', '.join(foreign[:5])}{more}); "
                                 "the cache rewrites this folder: move them out or choose another --cache")
            old = (read_marker(folder) or {}).get("files") or []
            for rel in old:
                p = folder / str(rel)
                if p.is_file() and not p.is_symlink():
                    p.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    _write_marker(folder, kind, files)


def seal_entry(folder: Path, kind: str) -> None:
    """Record every file now in ``folder`` (a finished entry, written by siteplan alone) in its marker."""
    files = []
    for root, _dirs, names in os.walk(folder):
        for n in names:
            rel = (Path(root) / n).relative_to(folder).as_posix()
            if rel not in (MARKER, MARKER + ".tmp"):
                files.append(rel)
    _write_marker(folder, kind, files)


def prune_cache(cache_dir: Path, used_keys: list[str], input_folders: list[str], *, keep_days: float = 7.0,
                now: float | None = None) -> dict[str, float]:
    """Mark ``used_keys`` as used now and remove what no run used for ``keep_days`` days.

    Only entries siteplan wrote are removed (:func:`owned_entry`), and only in a folder with the cache
    marker (:func:`open_cache`); others are left, with a warning.

    Parameters
    ----------
    cache_dir
        The cache folder.
    used_keys
        The keys of the runs this national run used (failed ones included: they have no entry).
    input_folders
        The ``inputs/`` sub-folders of this run's partitions (the others are removed).
    keep_days
        How long a run's outputs not used by this run are kept (days since their last use).
    now
        The current time (seconds since the epoch; tests).

    Returns
    -------
    dict
        ``kept`` and ``removed`` runs, ``freed_mb`` and ``size_mb`` (the cache after pruning).
    """
    now = time.time() if now is None else now
    if _kind(cache_dir) != "cache":  # not a cache siteplan made (open_cache makes one): remove nothing
        log.warning("cache %s: not pruned, it has no %s marker of kind 'cache'", cache_dir, MARKER)
        return {"kept": 0, "removed": 0, "freed_mb": 0.0, "size_mb": round(folder_bytes(cache_dir) / 1e6, 1)}
    left: list[str] = []
    kept, removed, freed = _prune_units(cache_dir / "units", set(used_keys), keep_days, now, left)
    inputs = cache_dir / "inputs"
    if inputs.is_dir() and not inputs.is_symlink():
        keep = set(input_folders)
        for entry in sorted(inputs.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and entry.name not in keep:
                freed += _remove_owned(entry, "cache-inputs", left)
    for p in left:
        log.warning("cache: left alone %s: siteplan did not write it (or it holds files siteplan did not write); "
                    "remove it by hand if nothing uses it", p)
    stats = {"kept": kept, "removed": removed, "freed_mb": round(freed / 1e6, 1),
             "size_mb": round(folder_bytes(cache_dir) / 1e6, 1)}
    if removed or freed:
        log.info("cache %s: removed %d runs not used for %g days (%.1f MB freed); %d kept, %.1f MB",
                 cache_dir, removed, keep_days, stats["freed_mb"], kept, stats["size_mb"])
    return stats


def _prune_units(units: Path, used: set[str], keep_days: float, now: float, left: list[str]) -> tuple[int, int, int]:
    """Prune ``units/``: returns the runs kept and removed and the bytes freed; appends what is left alone."""
    kept = removed = freed = 0
    if not units.is_dir() or units.is_symlink():
        return kept, removed, freed
    for entry in sorted(units.iterdir()):
        if not entry.is_dir() or entry.is_symlink():
            continue
        if entry.name.startswith("."):  # a partial folder
            if now - entry.stat().st_mtime > PARTIAL_GRACE_S:
                if _PARTIAL.fullmatch(entry.name) and _kind(entry) == "cache-unit":
                    freed += _remove(entry)
                else:
                    left.append(str(entry))
            continue
        if entry.name in used:
            os.utime(entry, (now, now))
            kept += 1
        elif now - entry.stat().st_mtime > keep_days * 86_400.0:
            before = len(left)
            freed += _remove_owned(entry, "cache-unit", left)
            if len(left) == before:
                removed += 1
            else:
                kept += 1
        else:
            kept += 1
    return kept, removed, freed


def _remove_owned(entry: Path, kind: str, left: list[str]) -> int:
    """Remove a cache entry siteplan wrote (:func:`owned_entry`); otherwise note it in ``left``."""
    ok, foreign = owned_entry(entry, kind)
    if ok:
        return _remove(entry)
    left.append(f"{entry} ({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''})")
    return 0


def _remove(path: Path) -> int:
    size = folder_bytes(path)
    shutil.rmtree(path, ignore_errors=True)
    return size
