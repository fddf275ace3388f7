"""SHA-256 of files and folders, streamed (the manifest, the stage cache and the national cache keys)."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    r"""SHA-256 of a file, read in 1 MiB chunks; of a folder, of its files' names and SHA-256s.

    Parameters
    ----------
    path
        A file, or a folder such as an Esri file geodatabase.

    Returns
    -------
    str
        The hex digest. A folder's is that of its ``name sha\n`` lines in name order (its files only,
        not the ``*.lock`` files ArcGIS leaves while the database is open).
    """
    h = hashlib.sha256()
    if Path(path).is_dir():
        for f in sorted(Path(path).iterdir()):
            if f.is_file() and not f.name.lower().endswith(".lock"):
                h.update(f"{f.name} {sha256_file(f)}\n".encode())
        return h.hexdigest()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
