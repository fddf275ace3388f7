"""Where an output folder may be (:func:`check_target`): never an input, a parent of one or inside an input
folder, never the current or home folder, a parent of either, a file system root or a mount point."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..errors import InputError
from .outfile import input_files, stat_or_none

__all__ = ["check_target", "input_bytes", "sibling"]


def _chain(p: Path) -> Iterator[Path]:
    """``p`` and every parent of it (resolved)."""
    p = p.resolve()
    yield p
    yield from p.parents


def _is_at_or_above(folder_st: os.stat_result, p: Path) -> bool:
    """True when the folder with stat ``folder_st`` is ``p`` or one of its parents."""
    for anc in _chain(p):
        st = stat_or_none(anc)
        if st is not None and os.path.samestat(st, folder_st):
            return True
    return False


def check_target(out: str | Path, inputs: Mapping[str, str | Path] | None = None, *, option: str = "--out") -> Path:
    """Resolve an output folder and refuse one siteplan must not replace.

    Parameters
    ----------
    out
        The ``--out`` folder as given (``.`` and ``..`` allowed).
    inputs
        What the command reads, by description (e.g. ``{"the scenario file": path, "layer 'roads'":
        path}``).
    option
        What named the folder, for the messages.

    Returns
    -------
    Path
        The absolute, resolved folder.

    Raises
    ------
    InputError
        ``out`` is or is a parent of an input, lies inside an input folder (a ``--baseline`` run, a
        FileGDB), the current folder or a parent of it, the home folder
        or a parent of it, a file system root, an existing file, or a mount point.
    """
    given = str(out)
    out = Path(out).expanduser().resolve()
    shown = f"{option} {given}" + (f" ({out})" if given != str(out) else "")
    if out.parent == out:
        raise InputError(f"{shown}: is the root of the file system; {_OWN_FOLDER}: give a new folder")
    for label, p in (inputs or {}).items():  # an input folder (a --baseline run, a FileGDB) is only read
        real = Path(p).expanduser().resolve()
        if real in out.parents and real.is_dir():
            raise InputError(f"{shown}: is inside {label} ({real}), which this command only reads: choose a "
                             f"folder outside it, e.g. --out {sibling(real)}")
    st = stat_or_none(out)
    if st is None:
        return out
    if not out.is_dir():
        raise InputError(f"{shown}: exists and is not a folder; siteplan writes a folder there and will not "
                         "replace a file: give a new folder")
    parent_st = stat_or_none(out.parent)
    if os.path.ismount(out) or (parent_st is not None and parent_st.st_dev != st.st_dev):
        raise InputError(f"{shown}: is a mount point; siteplan puts its output folder in place by renaming it, "
                         f"which cannot replace a mount point: give a folder inside it, e.g. --out {out / 'out'}")
    _refuse_inputs_below(out, st, inputs or {}, shown)
    _refuse_working_folders(st, shown)
    return out


#: why an output folder must be a folder of its own
_OWN_FOLDER = "siteplan replaces its output folder as a whole, so it must be a folder of its own"


def _refuse_inputs_below(out: Path, st: os.stat_result, inputs: Mapping[str, str | Path], shown: str) -> None:
    """Refuse an existing output folder that is or holds an input."""
    for label, p in inputs.items():
        if _is_at_or_above(st, Path(p)):
            real = Path(p).resolve()
            what = f"is {label}" if real == out else f"holds {label} ({real})"
            hint = sibling(out) if real == out else out / "out"  # never inside an input folder
            raise InputError(f"{shown}: {what}; {_OWN_FOLDER}, apart from the inputs: choose a new folder, "
                             f"e.g. --out {hint}")


def _refuse_working_folders(st: os.stat_result, shown: str) -> None:
    """Refuse an existing output folder that is the current folder, the home folder or a parent of either."""
    try:
        cwd: Path | None = Path.cwd()
    except OSError:  # the current folder was removed
        cwd = None
    if cwd is not None and _is_at_or_above(st, cwd):
        what = "is the current folder" if os.path.samestat(st, cwd.stat()) else "is a parent of the current folder"
        raise InputError(f"{shown}: {what}; {_OWN_FOLDER}: give a new folder, e.g. --out {cwd / 'out'}")
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no home folder known
        home = None
    if home is not None and _is_at_or_above(st, home):
        raise InputError(f"{shown}: is your home folder or a parent of it; {_OWN_FOLDER}: give a new folder, "
                         f"e.g. --out {home / 'siteplan-out'}")


def sibling(folder: Path) -> Path:
    """A new folder beside ``folder`` to suggest (``RUN_2``, or ``RUN_3``, ... when that exists)."""
    k = 2
    while os.path.lexists(folder.parent / f"{folder.name}_{k}") and k < 100:
        k += 1
    return folder.parent / f"{folder.name}_{k}"


def input_bytes(paths: Iterable[str | Path]) -> int:
    """Total size of input files (a shapefile counts with its sidecar files; missing files count 0)."""
    total = 0
    for p in map(Path, paths):
        for f in input_files(p):
            st = stat_or_none(f)
            total += st.st_size if st is not None and not f.is_dir() else 0
    return total
