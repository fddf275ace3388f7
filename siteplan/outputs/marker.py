"""Which siteplan command wrote a folder, and the files it wrote: the marker every folder siteplan writes
holds (:data:`siteplan.outputs.files.MARKER`), or from versions without it the manifest or the header of an
``ingest-osm`` scenario. Read by the output-folder rules (:mod:`siteplan.outputs.outdir`) and the
single-output-file rules (:mod:`siteplan.outputs.outfile`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .files import MARKER

__all__ = ["COMMANDS", "INGEST_HEADER", "JUNK", "read_marker", "written_by", "require_run_folder", "folder_files",
           "foreign_files", "is_junk", "made_by_siteplan"]

#: the commands that write folders, as messages name them
COMMANDS = {"run": "`siteplan run`", "ingest-osm": "`siteplan ingest-osm`", "national": "`siteplan run` (national)",
            "compare": "`siteplan compare`", "export": "`siteplan export` (its rasters folder)"}
#: operating-system litter in a folder, never the user's work
JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: the first line of a scenario ``siteplan ingest-osm`` wrote
INGEST_HEADER = "# siteplan scenario written by `siteplan ingest-osm`"


def read_marker(folder: str | Path) -> dict[str, Any] | None:
    """The marker of a folder siteplan wrote, or None."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "siteplan" in data else None


def written_by(folder: str | Path) -> tuple[str | None, set[str] | None]:
    """Which siteplan command wrote ``folder``, and the files it wrote.

    Parameters
    ----------
    folder
        An existing folder.

    Returns
    -------
    tuple
        ``(kind, files)`` when siteplan wrote it (``kind`` one of :data:`COMMANDS`; ``files`` the
        relative POSIX paths it wrote, None when no list was recorded, which owns nothing);
        ``(None, None)`` otherwise. Recognises the marker, and from versions without it a
        ``manifest.json`` with a ``"siteplan"`` key or an ``ingest-osm`` scenario.
    """
    folder = Path(folder)
    m = read_marker(folder)
    if m is not None:
        files = m.get("files")
        return str(m.get("kind", "run")), set(map(str, files)) if isinstance(files, list) else None
    try:
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        man = None
    if isinstance(man, dict) and "siteplan" in man:
        out = man.get("outputs_sha256")
        return "run", ({k.replace("\\", "/") for k in out} | {"manifest.json"}) if isinstance(out, dict) else None
    try:
        with (folder / "scenario.yaml").open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, ValueError):
        first = ""
    if first.startswith(INGEST_HEADER) and (folder / "region.gpkg").is_file():
        return "ingest-osm", {"region.gpkg", "scenario.yaml"}
    return None, None


def require_run_folder(run_dir: Path) -> None:
    """Refuse, for an export, a folder that no ``siteplan run`` (or national run) wrote.

    Parameters
    ----------
    run_dir
        The folder given to the export.

    Raises
    ------
    InputError
        When ``run_dir`` is not a folder a run wrote: it says which command wrote it, if any, and to give
        the folder ``siteplan run ... --out FOLDER`` wrote.
    """
    from ..errors import InputError

    kind = written_by(run_dir)[0] if run_dir.is_dir() else None
    if kind not in ("run", "national"):
        what = f"a folder {COMMANDS[kind]} wrote" if kind in COMMANDS else "not a folder siteplan run wrote"
        raise InputError(f"{run_dir}: {what} (no siteplan run marker or manifest); export takes the folder "
                         "`siteplan run ... --out FOLDER` wrote: give that folder")


def folder_files(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative POSIX paths; symbolic links not followed)."""
    return sorted(rel for rel, kind in _entries(folder) if kind != "dir")


def _entries(folder: Path) -> list[tuple[str, str]]:
    """Everything under ``folder``: ``(relative POSIX path, "file" | "dir" | "link")``, symbolic links
    (to files or folders) as links, never followed."""
    out: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for d in list(dirs):
            full = base / d
            rel = full.relative_to(folder).as_posix()
            if full.is_symlink():
                out.append((rel, "link"))
                dirs.remove(d)
            else:
                out.append((rel, "dir"))
        for f in files:
            full = base / f
            out.append((full.relative_to(folder).as_posix(), "link" if full.is_symlink() else "file"))
    return sorted(out)


def foreign_files(folder: str | Path, known: set[str] | None) -> list[str]:
    """What in ``folder`` siteplan did not write, so that replacing or pruning it would delete it.

    Parameters
    ----------
    folder
        An existing folder siteplan wrote.
    known
        The files it wrote, by relative POSIX path (the marker's ``files``); None when no list was
        recorded: then every file counts as foreign.

    Returns
    -------
    list of str
        Relative paths, sorted: every file not in ``known`` (exact names: ``report.html.bak`` and
        ``x.tif.aux.xml`` are not siteplan's), every symbolic link (siteplan writes none), and every
        folder holding no file of ``known`` (an empty folder the user made); the marker and operating
        system litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``) excepted.
    """
    known = set() if known is None else known
    parents = {str(Path(k).parent.as_posix()) for k in known}
    for k in list(parents):
        parents.update(p.as_posix() for p in Path(k).parents)
    bad = []
    for rel, kind in _entries(Path(folder)):
        name = rel.rsplit("/", 1)[-1]
        if kind == "link":
            bad.append(rel + " (a symbolic link)")
        elif kind == "dir":
            if rel not in parents:
                bad.append(rel + "/")
        elif rel != MARKER and name not in JUNK and rel not in known:
            bad.append(rel)
    return bad


def is_junk(p: Path) -> bool:
    """Operating-system litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``): a regular file of that name,
    never a folder or a link (a folder named ``Thumbs.db`` holds the user's files)."""
    return p.name in JUNK and p.is_file() and not p.is_symlink()


def made_by_siteplan(folder: Path) -> bool:
    """True for a staging or old folder siteplan made: its marker or manifest says so, or it is empty.

    File names never decide: a user's folder holding ``notes.csv`` is not siteplan's because the name
    looks like an output (a staging folder of a version before the marker is left alone, with a warning).
    """
    if written_by(folder)[0] is not None:
        return True
    return not folder_files(folder)
