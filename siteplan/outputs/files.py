"""The one list of the files a run writes: what each is, and whether a national run gathers it.

The writer checks every file it wrote against this list before it writes the manifest (a file not on it
is a bug, never written silently), the manifest hashes them, and the national gather concatenates the
tables and layers marked ``gather`` (:mod:`siteplan.national.gather`). A new output file is added here
once and every reader follows.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["OutputFile", "RUN_FILES", "MARKER", "MANIFEST", "gathered", "registered", "unregistered"]

#: the marker that says a folder is a siteplan run (:mod:`siteplan.outputs.outdir`)
MARKER = ".siteplan-run"
#: the manifest (hashes every other file)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class OutputFile:
    """One file (or one family of files, a glob pattern) of a run folder.

    Attributes
    ----------
    pattern
        The path inside the run folder, ``/``-separated; ``*`` stands for a category code.
    kind
        ``csv``, ``geojson``, ``tif``, ``html``, ``json``, ``npz``, ``xlsx`` or ``marker``.
    gather
        Whether a national run concatenates every unit's rows (CSV) or features (GeoJSON) into one
        national file with a first ``partition`` column.
    """

    pattern: str
    kind: str
    gather: bool = False


RUN_FILES: tuple[OutputFile, ...] = (
    OutputFile("report.html", "html"),
    OutputFile("relocation.csv", "csv", gather=True),
    OutputFile("estate_summary.csv", "csv", gather=True),
    OutputFile("estates.csv", "csv", gather=True),
    OutputFile("upgrades.csv", "csv", gather=True),
    OutputFile("options.csv", "csv", gather=True),
    OutputFile("towns.csv", "csv", gather=True),
    OutputFile("counties.csv", "csv", gather=True),
    OutputFile("flows.csv", "csv", gather=True),
    OutputFile("review.csv", "csv", gather=True),
    OutputFile("reletting.csv", "csv", gather=True),
    OutputFile("impact.csv", "csv", gather=True),
    OutputFile("feasibility.csv", "csv", gather=True),
    OutputFile("chains.csv", "csv", gather=True),
    OutputFile("phases.csv", "csv", gather=True),
    OutputFile("estates.geojson", "geojson", gather=True),
    OutputFile("zones.geojson", "geojson", gather=True),
    OutputFile("sites.geojson", "geojson", gather=True),
    OutputFile("clusters.geojson", "geojson", gather=True),
    OutputFile("plots.geojson", "geojson", gather=True),
    OutputFile("flows.geojson", "geojson", gather=True),
    OutputFile("suitability/*.tif", "tif"),
    OutputFile("explain/explain.json", "json"),
    OutputFile("explain/*.npz", "npz"),
    OutputFile("stages/stages.json", "json"),
    OutputFile("stages/*.npz", "npz"),
    OutputFile("plan.xlsx", "xlsx"),
    OutputFile(MANIFEST, "json"),
    OutputFile(MARKER, "marker"),
)


def gathered(kind: str) -> tuple[str, ...]:
    """The names of the files of ``kind`` (``csv`` or ``geojson``) a national run gathers, in list order.

    Parameters
    ----------
    kind
        ``csv`` or ``geojson``.

    Returns
    -------
    tuple of str
        File names.
    """
    return tuple(f.pattern for f in RUN_FILES if f.gather and f.kind == kind)


def registered(name: str) -> OutputFile | None:
    """The entry of :data:`RUN_FILES` a run-folder path belongs to, or None.

    Parameters
    ----------
    name
        A path inside the run folder, ``/``-separated.

    Returns
    -------
    OutputFile or None
        The first entry whose pattern matches (``*`` does not cross a ``/``).
    """
    for f in RUN_FILES:
        if name == f.pattern or ("*" in f.pattern and fnmatch.fnmatchcase(name, f.pattern)
                                 and name.count("/") == f.pattern.count("/")):
            return f
    return None


def unregistered(names: list[str]) -> list[str]:
    """The paths among ``names`` that :data:`RUN_FILES` does not list (sorted).

    Parameters
    ----------
    names
        Paths inside a run folder, ``/``-separated.

    Returns
    -------
    list of str
        The paths no entry matches.
    """
    return sorted(n for n in names if registered(n) is None)
