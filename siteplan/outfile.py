"""A single output file (``suitability --out FILE.tif``, ``export --gpkg FILE``) never replaces an
input.

Such a file is written to a temporary name beside it and renamed onto it once complete
(:func:`siteplan._io.atomic_path`), so the rename would replace whatever is there. Before any work,
:func:`check_output_file` refuses a target that is one of the command's inputs (the scenario, a layer
file or one of a shapefile's sidecars, the catalogue, the DEM) under any name (``..``, a symbolic link,
a hard link), or that lies inside a folder siteplan owns (a run folder: its files are the inputs of
``export``, and ``run --overwrite`` replaces it as a whole). :func:`run_inputs` reads a run folder's
inputs back from its manifest. Output *folders* have the rules of :mod:`siteplan.outdir`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import InputError

__all__ = ["check_output_file", "input_files", "run_inputs"]


def _stat(p: Path) -> os.stat_result | None:
    try:
        return os.stat(p)
    except OSError:
        return None


def input_files(path: str | Path) -> list[Path]:
    """An input file and, for a shapefile, its sidecar files.

    Parameters
    ----------
    path
        An input file (it need not exist).

    Returns
    -------
    list of Path
        ``[path]``; for ``x.shp`` also every ``x.*`` beside it (``x.dbf``, ``x.shx``, ``x.prj``,
        ``x.cpg``, ``x.qix``, ...) and ``x.shp.*`` (``x.shp.xml``).
    """
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return [p]
    try:
        names = os.listdir(p.parent)
    except OSError:
        return [p]
    return [p] + sorted(p.parent / n for n in names
                        if n != p.name and (Path(n).stem == p.stem or n.startswith(p.name + ".")))


def check_output_file(out: str | Path, inputs: Mapping[str, str | Path] | None = None, *,
                      option: str = "--out", folders: Mapping[str, str | Path] | None = None) -> Path:
    """Refuse a single-file output that would replace an input, or land in a folder siteplan owns.

    A file is written to a temporary name and renamed onto ``out`` (:func:`siteplan._io.atomic_path`),
    so an ``out`` that is an input would replace it.

    Parameters
    ----------
    out
        The output file as given.
    inputs
        What the command reads, by description (e.g. ``{"the scenario file": path, "layer 'roads'":
        path}``); a shapefile counts with its sidecar files (:func:`input_files`).
    option
        The option that named ``out``, for the message (``--out``, ``--gpkg``).
    folders
        Folders ``out`` must not be in, by description (e.g. ``{"the run folder": run_dir}``): every
        file in them is an input too, and a run folder is replaced as a whole.

    Returns
    -------
    Path
        The absolute, resolved output file.

    Raises
    ------
    InputError
        ``out`` is an input file or one of its sidecars (the same path after resolving symbolic links
        and ``..``, or the same file through a hard link), or is inside one of ``folders``.
    """
    given = str(out)
    path = Path(out).expanduser()
    real = path.resolve()
    shown = f"{option} {given}" + (f" ({real})" if given != str(real) else "")
    st = _stat(path)

    def same(f: Path) -> bool:
        if f.resolve() == real:
            return True
        if st is None:
            return False
        fst = _stat(f)
        return fst is not None and os.path.samestat(st, fst)

    for label, folder in (folders or {}).items():
        top = Path(folder).expanduser().resolve()
        inside = top in real.parents or real == top
        if not inside and st is not None:
            inside = any(same(Path(root) / f) for root, _dirs, files in os.walk(top) for f in files)
        if inside:
            raise InputError(f"{shown}: is inside {label} ({top}); siteplan replaces that folder as a whole and "
                             f"--overwrite refuses it once it holds files siteplan did not write: write the file "
                             f"elsewhere, e.g. {option} {top.parent / (top.name + real.suffix)}")
    for label, p in (inputs or {}).items():
        for i, f in enumerate(input_files(Path(p).expanduser())):
            if same(f):
                what = f"is {label}" if i == 0 else f"is a file of {label}"
                raise InputError(f"{shown}: {what} ({f.resolve()}); writing there would replace an input of "
                                 f"this command: choose another file")
    return real


def run_inputs(run_dir: str | Path) -> dict[str, Path]:
    """The input files of a run, as its ``manifest.json`` records them.

    Parameters
    ----------
    run_dir
        A folder ``siteplan run`` wrote.

    Returns
    -------
    dict
        By description (``"the scenario file"``, ``"layer 'roads'"``, ``"the catalogue"``): the scenario
        file and the layer and catalogue paths of the scenario it recorded, relative ones resolved
        against the scenario's folder. A scenario file recorded relative to the folder the run was
        started in is taken relative to the current folder. Empty when there is no siteplan manifest.
    """
    try:
        man = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    scenario_file = man.get("scenario_file") if isinstance(man, dict) and "siteplan" in man else None
    if not isinstance(scenario_file, str) or not scenario_file:
        return {}
    scenario = Path(scenario_file).expanduser()
    inputs = {"the scenario file": scenario}
    recorded = man.get("scenario")
    recorded = recorded if isinstance(recorded, dict) else {}
    base = scenario.resolve().parent
    layers = recorded.get("layers")
    for name, spec in (layers.items() if isinstance(layers, dict) else ()):
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            inputs[f"layer '{name}'"] = base / spec["path"]
    catalogue = recorded.get("catalogue")
    if isinstance(catalogue, dict) and isinstance(catalogue.get("path"), str) and catalogue["path"]:
        inputs["the catalogue"] = base / catalogue["path"]
    return inputs
