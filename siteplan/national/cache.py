"""The national cache kept in bounds: what a run did not use is removed once it is old enough.

The cache (``.NAME.cache`` beside ``--out``, or ``--cache``) holds each run's outputs under its key
(``units/<key>/``), the runs' inputs after the split (``inputs/<folder>/``) and, while a run is being
computed, ``units/.<key>.partial-*`` folders. Keys change whenever an input or setting changes, so
without pruning every edit would leave a province's outputs behind for good.

After a national run, :func:`prune_cache`:

* marks the runs this run used (computed or reused) as used now;
* removes the runs not used for ``keep_days`` days (``0``: everything this run did not use), so a
  setting switched back within that time is still found, and a cache shared by several national
  scenarios (``--cache``) keeps the others' recent runs;
* removes partial folders left by a run that was killed (older than a day: a younger one may belong
  to a run still going on the same cache) and the ``inputs/`` folders of partitions that no longer exist.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["prune_cache", "folder_bytes"]

#: a partial folder younger than this may belong to a run still going on the same cache
PARTIAL_GRACE_S = 86_400.0


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def prune_cache(cache_dir: Path, used_keys: list[str], input_folders: list[str], *, keep_days: float = 7.0,
                now: float | None = None) -> dict[str, float]:
    """Mark ``used_keys`` as used now and remove what no run used for ``keep_days`` days.

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
    units = cache_dir / "units"
    used = set(used_keys)
    kept = removed = 0
    freed = 0
    if units.is_dir():
        for entry in sorted(units.iterdir()):
            if not entry.is_dir() or entry.is_symlink():
                continue
            if entry.name.startswith("."):  # a partial folder
                if now - entry.stat().st_mtime > PARTIAL_GRACE_S:
                    freed += _remove(entry)
                continue
            if entry.name in used:
                os.utime(entry, (now, now))
                kept += 1
            elif now - entry.stat().st_mtime > keep_days * 86_400.0:
                freed += _remove(entry)
                removed += 1
            else:
                kept += 1
    inputs = cache_dir / "inputs"
    if inputs.is_dir():
        keep = set(input_folders)
        for entry in sorted(inputs.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and entry.name not in keep:
                freed += _remove(entry)
    stats = {"kept": kept, "removed": removed, "freed_mb": round(freed / 1e6, 1),
             "size_mb": round(folder_bytes(cache_dir) / 1e6, 1)}
    if removed or freed:
        log.info("cache %s: removed %d runs not used for %g days (%.1f MB freed); %d kept, %.1f MB",
                 cache_dir, removed, keep_days, stats["freed_mb"], kept, stats["size_mb"])
    return stats


def _remove(path: Path) -> int:
    size = folder_bytes(path)
    shutil.rmtree(path, ignore_errors=True)
    return size
