"""Which siteplan command wrote a folder, and the files it wrote: the marker every folder siteplan writes
holds (:data:`siteplan.outputs.files.MARKER`), or from versions without it the manifest or the header of an
``ingest-osm`` scenario. Read by the output-folder rules (:mod:`siteplan.outputs.outdir`) and the
single-output-file rules (:mod:`siteplan.outputs.outfile`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .files import MARKER

__all__ = ["COMMANDS", "INGEST_HEADER", "read_marker", "written_by"]

#: the commands that write folders, as messages name them
COMMANDS = {"run": "`siteplan run`", "ingest-osm": "`siteplan ingest-osm`", "national": "`siteplan run` (national)",
            "compare": "`siteplan compare`", "export": "`siteplan export` (its rasters folder)"}
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
        with open(folder / "scenario.yaml", encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, ValueError):
        first = ""
    if first.startswith(INGEST_HEADER) and (folder / "region.gpkg").is_file():
        return "ingest-osm", {"region.gpkg", "scenario.yaml"}
    return None, None
