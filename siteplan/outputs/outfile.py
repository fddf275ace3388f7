"""A single output file (``suitability --out FILE.tif``, ``export --gpkg FILE``) never replaces an
input.

Such a file is written to a temporary name beside it and renamed onto it once complete
(:func:`siteplan.common.atomic.atomic_path`), so the rename would replace whatever is there. Before any work,
:func:`check_output_file` refuses a target that is one of the command's inputs (the scenario, a layer
file, the catalogue, the DEM, a national scenario's partitions and provincial scenarios) under any name
(``..``, a symbolic link, a hard link), a sidecar of one (existing or not: ``X.dbf`` when ``X.shp`` is an
input, ``dem.tif.aux.xml``, ``roads.qmd``), a file inside an input that is a folder, or a file inside a
folder siteplan owns (a run, national, compare or export-rasters folder, at any depth: its files are
the inputs of ``export``, and ``run --overwrite`` replaces it). :func:`scenario_inputs` is the one list
of what a scenario reads (every command's refusals use it); :func:`run_inputs` reads a run folder's
inputs back from its manifest. Output
*folders* have the rules of :mod:`siteplan.outputs.outdir`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, SiteplanError
from ..scenario import is_db_url

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["check_output_file", "input_files", "is_sidecar", "run_inputs", "scenario_inputs", "stat_or_none"]

#: extensions GIS software reads beside a data file of the same stem (``dem.tfw`` beside ``dem.tif``,
#: ``roads.qmd`` beside ``roads.geojson``)
SIDECAR_EXTS = frozenset({".aux", ".aux.xml", ".cpg", ".prj", ".qmd", ".qml", ".sld", ".tfw", ".tifw", ".wld",
                          ".jgw", ".pgw", ".ovr", ".msk", ".lyr", ".lyrx"})
#: and beside a shapefile ``X.shp``: its parts and indexes (``X.dbf``, ``X.shx``, ``X.qix``, ...)
SHAPEFILE_EXTS = SIDECAR_EXTS | {".shp", ".shx", ".dbf", ".sbn", ".sbx", ".fbn", ".fbx", ".ain", ".aih", ".ixs",
                                 ".mxs", ".atx", ".qix", ".idx", ".xml"}


def stat_or_none(p: Path) -> os.stat_result | None:
    """``p``'s status (symbolic links followed), or None when it cannot be read."""
    try:
        return p.stat()
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
        names = [e.name for e in p.parent.iterdir()]
    except OSError:
        return [p]
    return [p, *sorted(p.parent / n for n in names
                       if n != p.name and (Path(n).stem == p.stem or n.startswith(p.name + ".")))]


def is_sidecar(name: str, input_name: str) -> bool:
    """True when a file named ``name`` beside the input file ``input_name`` would be read with it.

    Parameters
    ----------
    name
        A file name (no folder).
    input_name
        The input's file name (no folder).

    Returns
    -------
    bool
        ``name`` is ``input_name`` followed by ``.`` or ``-`` (``dem.tif.aux.xml``, ``x.shp.xml``,
        ``x.gpkg-wal``); or ``STEM`` plus a GIS sidecar extension (:data:`SIDECAR_EXTS`: ``dem.tfw``,
        ``roads.qmd``; for a shapefile also its parts, :data:`SHAPEFILE_EXTS`: ``x.dbf``, ``x.shx``).
        Compared without regard to case, as GIS software and some file systems do.
    """
    n, i = name.casefold(), input_name.casefold()
    if n == i:
        return True
    if n.startswith((i + ".", i + "-")):
        return True
    stem = i.rsplit(".", 1)[0] if "." in i else i
    if not n.startswith(stem + "."):
        return False
    rest = n[len(stem):]
    return rest in (SHAPEFILE_EXTS if i.endswith(".shp") else SIDECAR_EXTS)


def scenario_inputs(scenario: Scenario, path: str | Path) -> dict[str, Path]:
    """Every file a scenario reads, by description: the one list all refusals use.

    Parameters
    ----------
    scenario
        The scenario, parsed.
    path
        Its file.

    Returns
    -------
    dict
        ``"the scenario file"``, ``"layer 'NAME'"`` (the DEM among them), ``"the catalogue"`` and, for a
        national scenario, ``"national.partitions"`` or, for a list of provincial scenarios, each
        province's inputs prefixed with its file as listed (``"ost/a.yaml: layer 'roads'"``; a provincial
        file that cannot be parsed counts alone).
    """
    path = Path(path)
    inputs: dict[str, Path] = {"the scenario file": path}
    nat = scenario.national
    if nat is not None and nat.scenarios is not None:
        from ..scenario import load_scenario

        for f in nat.scenarios:
            p = scenario.resolve(f)
            try:
                sc = load_scenario(p)
            except SiteplanError:  # partitioning says what is wrong with it
                inputs[f"{f}"] = p
                continue
            inputs.update({f"{f}: {k}": v for k, v in scenario_inputs(sc, p).items()})
        return inputs
    if nat is not None and nat.partitions is not None:
        inputs["national.partitions"] = scenario.resolve(nat.partitions.path)
    # a PostGIS layer is no file: nothing an output could overwrite
    inputs.update({f"layer '{n}'": scenario.resolve(s.path) for n, s in scenario.layers.items() if not is_db_url(s.path)})
    if scenario.catalogue.path:
        inputs["the catalogue"] = scenario.resolve(scenario.catalogue.path)
    return inputs


def check_output_file(out: str | Path, inputs: Mapping[str, str | Path] | None = None, *,
                      option: str = "--out", folders: Mapping[str, str | Path] | None = None) -> Path:
    """Refuse a single-file output that would replace an input, or land in a folder siteplan owns.

    A file is written to a temporary name and renamed onto ``out`` (:func:`siteplan.common.atomic.atomic_path`),
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
        and ``..``, or the same file through a hard link; a sidecar also by name, :func:`is_sidecar`, as
        writing ``X.cpg`` or ``X.dbf`` beside an input ``X.shp`` changes what is read), lies inside an
        input that is a folder, or is inside one of ``folders``.
    """
    given = str(out)
    path = Path(out).expanduser()
    real = path.resolve()
    t = _Target(real, stat_or_none(path), f"{option} {given}" + (f" ({real})" if given != str(real) else ""), option)
    for label, folder in (folders or {}).items():
        _refuse_folder(t, label, folder)
    _refuse_run_folders(t)
    for label, p in (inputs or {}).items():
        _refuse_input(t, label, Path(p).expanduser())
    return real


@dataclass(frozen=True)
class _Target:
    """An output file being checked: its resolved path, its status (None when it does not exist), how
    the messages show it, and the option that named it."""

    real: Path
    st: os.stat_result | None
    shown: str
    option: str

    def same(self, f: Path) -> bool:
        """``f`` is the output file: the same path once resolved, or the same file through a hard link."""
        if f.resolve() == self.real:
            return True
        if self.st is None:
            return False
        fst = stat_or_none(f)
        return fst is not None and os.path.samestat(self.st, fst)


def _refuse_folder(t: _Target, label: str, folder: str | Path) -> None:
    """Refuse an output file inside a folder it must not be in (every file there is an input too)."""
    real, option = t.real, t.option
    top = Path(folder).expanduser().resolve()
    inside = top in real.parents or real == top
    if not inside and t.st is not None:
        inside = any(t.same(Path(root) / f) for root, _dirs, files in os.walk(top) for f in files)
    if inside:
        raise InputError(f"{t.shown}: is inside {label} ({top}); siteplan replaces that folder as a whole and "
                         f"--overwrite refuses it once it holds files siteplan did not write: write the file "
                         f"elsewhere, e.g. {option} {top.parent / (top.name + real.suffix)}")


def _refuse_run_folders(t: _Target) -> None:
    """Refuse an output file inside a folder siteplan wrote and replaces as a whole: its files are its own."""
    from .marker import COMMANDS, written_by

    real = t.real
    for top in real.parents:
        kind = written_by(top)[0] if (top / ".siteplan-run").exists() or (top / "manifest.json").exists() else None
        if kind is not None and kind != "ingest-osm":  # an ingest's folder holds the scenario the user edits
            raise InputError(f"{t.shown}: is inside {top}, a folder {COMMANDS.get(kind, 'siteplan')} wrote; siteplan "
                             "replaces that folder as a whole, and writing there would change its outputs or make "
                             f"--overwrite refuse it: write the file elsewhere, e.g. {t.option} "
                             f"{top.parent / (top.name + '_' + real.name)}")


def _refuse_input(t: _Target, label: str, p: Path) -> None:
    """Refuse an output file that is an input, one of its files (a shapefile's sidecars, also by name),
    or lies inside an input folder."""
    real, shown = t.real, t.shown
    for i, f in enumerate(input_files(p)):
        if t.same(f):
            what = f"is {label}" if i == 0 else f"is a file of {label}"
            raise InputError(f"{shown}: {what} ({f.resolve()}); writing there would replace an input of "
                             f"this command: choose another file")
    top = p.resolve()
    if top in real.parents and top.is_dir():  # a folder input (a FileGDB, ...)
        raise InputError(f"{shown}: is inside {label} ({top}); writing there would change an input of this "
                         "command: choose a file outside it")
    parent_st, pst = stat_or_none(real.parent), stat_or_none(top.parent)
    if parent_st is not None and pst is not None and os.path.samestat(parent_st, pst) \
            and is_sidecar(real.name, top.name):
        raise InputError(f"{shown}: is a file of {label} ({top}): GIS software reads {real.name} with "
                         f"{top.name}, so writing it would change an input of this command: choose another "
                         "file name")


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
        if isinstance(spec, dict) and isinstance(spec.get("path"), str) and not is_db_url(spec["path"]):
            inputs[f"layer '{name}'"] = base / spec["path"]
    catalogue = recorded.get("catalogue")
    if isinstance(catalogue, dict) and isinstance(catalogue.get("path"), str) and catalogue["path"]:
        inputs["the catalogue"] = base / catalogue["path"]
    inputs.update(_national_run_inputs(recorded.get("national"), base))
    return inputs


def _national_run_inputs(nat: Any, base: Path) -> dict[str, Path]:
    """The national inputs a run's recorded scenario names: the partitions layer, or each provincial
    scenario with what it reads now (a file that cannot be read counts alone)."""
    from ..scenario import load_scenario

    inputs: dict[str, Path] = {}
    if not isinstance(nat, dict):
        return inputs
    parts = nat.get("partitions")
    if isinstance(parts, dict) and isinstance(parts.get("path"), str) and parts["path"]:
        inputs["national.partitions"] = base / parts["path"]
    scenarios = nat.get("scenarios")
    for f in scenarios if isinstance(scenarios, list) else ():
        if not isinstance(f, str) or not f:
            continue
        p = base / f
        try:
            sc = load_scenario(p)
        except (SiteplanError, OSError, ValueError):
            inputs[f] = p
            continue
        inputs.update({f"{f}: {k}": v for k, v in scenario_inputs(sc, p).items()})
    return inputs
