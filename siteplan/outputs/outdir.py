"""The output folder of a run or an ingest: siteplan's alone, locked, and replaced atomically.

``--out`` is a plain folder. :class:`OutputFolder` wraps a command from just after its input is
validated until its last file is in place:

1. **Refusals** (:func:`check_target`): an ``--out`` that holds an input (the scenario, a layer, the
   catalogue, an OSM extract or boundary) or is a parent of one, the current folder or one of its
   parents, the home folder or a parent of it, or the root of a file system. ``--out .`` and
   ``--out ..`` are resolved to real paths first, so the message names the folder.
2. **Lock**: ``.NAME.lock`` beside ``--out`` (``fcntl.flock``, non-blocking), held for the whole
   command; a second run into the same folder fails at once with the holder's pid.
3. **Marker**: every folder siteplan writes holds ``.siteplan-run`` (JSON: version, command, pid, the
   files written). That file list is the ownership record: ``--overwrite`` replaces only a folder with
   that marker (or, from older versions, a ``manifest.json`` with a ``"siteplan"`` key and its
   ``outputs_sha256``, or an ``ingest-osm`` region), written by the same command, and holding nothing
   but the files on its list: exact names, so ``report.html.bak`` or ``x.tif.aux.xml`` is the user's;
   a symbolic link or a folder siteplan did not make is the user's; a record without a file list owns
   nothing. An ``--out`` that is a mount point (which cannot be renamed) is refused up front.
4. **Swap**: outputs are written into ``.NAME.partial-ID`` beside ``--out``, flushed to disk (fsync),
   the checks of 3 are redone under the lock, and the staging folder is exchanged with ``--out`` in
   one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux) or ``renamex_np(RENAME_SWAP)`` (macOS); the old
   output, now in the staging folder, is then removed. Where no atomic exchange exists (Windows, some
   network file systems) the old folder is renamed to ``.NAME.old-ID`` and the new one into place;
   a crash between those two renames leaves the old output complete in ``.NAME.old-ID``, which the
   next run restores.
5. **Leftovers**: under the lock (so their writer is gone), the next run removes the
   ``.NAME.partial-ID`` and ``.NAME.old-ID`` folders that siteplan made (marker, a siteplan manifest,
   or only file names siteplan writes); others are reported and left alone.

A write that fails on a full disk becomes one message: nothing under ``--out`` changed.

Single-file outputs (``suitability --out``, ``export --gpkg``) have their own rules:
:mod:`siteplan.outputs.outfile`.

Test-only hook: with the environment variable ``SITEPLAN_FAULT_AT`` set to a step name, the process
dies at that step as if killed (``os._exit(137)``), so tests can check what a crash at each instant
leaves. Steps: ``staged`` (staging folder made and marked, nothing written), ``written`` (outputs
written and flushed, before the swap), ``moved-old`` (only without an atomic exchange: old output moved
aside, new not yet in place), ``swapped`` (new output in place, old not yet removed). Nothing else
reads the variable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .._version import __version__
from ..common import interrupts
from ..common.fs import Lock, disk_full, exchange, fsync_dir, fsync_tree, signals_deferred
from ..errors import InputError
from .files import MARKER  # the marker file in every folder siteplan writes
from .marker import COMMANDS as COMMANDS
from .marker import folder_files, is_junk, made_by_siteplan
from .marker import foreign_files as foreign_files
from .marker import read_marker as read_marker
from .marker import written_by as written_by
from .outtarget import check_target as check_target
from .outtarget import input_bytes as input_bytes

log = logging.getLogger(__name__)

__all__ = ["MARKER", "OutputFolder", "check_target", "foreign_files", "input_bytes", "read_marker", "written_by"]


_FAULT_ENV = "SITEPLAN_FAULT_AT"


def _fault(step: str) -> None:
    """Test-only: die as if killed (exit 137) when ``SITEPLAN_FAULT_AT`` names ``step``."""
    if os.environ.get(_FAULT_ENV) == step:
        os._exit(137)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class OutputFolder:
    """The output folder of one command: checked, locked, staged and swapped in atomically.

    Use as a context manager around the command's work, entered right after its input is read::

        with OutputFolder(out, kind="run", overwrite=False, inputs={"the scenario file": path}) as f:
            ...  # heavy work
            write_everything(f.stage)
        # here --out holds the new output; on an exception it is untouched

    Entering resolves and checks ``out`` (:func:`check_target`), creates its missing parents, takes
    the lock, removes leftovers of killed runs, checks the existing folder (see ``overwrite``), that
    the old output can be removed, and the free disk space, then makes the staging folder. Leaving
    without an exception redoes the folder checks under the lock and swaps; leaving with one removes
    the staging folder (and the parents it created) and maps a full disk to an :class:`InputError`.

    Parameters
    ----------
    out
        The output folder.
    kind
        The command: ``"run"``, ``"ingest-osm"`` or ``"compare"`` (recorded in the marker; ``--overwrite`` replaces
        only an output of the same kind).
    overwrite
        Replace an existing output that siteplan wrote.
    inputs
        The command's input files by description, refused inside ``out``.
    estimate_bytes
        A rough size of the output; the command is refused when the disk has less free space.
    option
        What named the folder, for the messages (``--out``).

    Attributes
    ----------
    path : Path
        The resolved output folder.
    stage : Path
        The staging folder to write into (set on entering).
    """

    def __init__(self, out: str | Path, *, kind: str, overwrite: bool = False,
                 inputs: Mapping[str, str | Path] | None = None, estimate_bytes: int = 0,
                 option: str = "--out") -> None:
        if kind not in COMMANDS:
            raise ValueError(f"kind: {kind!r} is not one of {sorted(COMMANDS)}")
        self.given = Path(out)
        self.kind = kind
        self.overwrite = overwrite
        self.inputs = dict(inputs or {})
        self.estimate_bytes = int(estimate_bytes)
        self.option = option
        self.path = Path()
        self.stage = Path()
        self._lock: Lock | None = None
        self._made: list[Path] = []
        self._discard: Path | None = None
        self._swapped = False
        self._id = ""

    # -- entering --------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        """Check ``--out``, take its lock, clean leftovers and make the staging folder (:attr:`stage`)."""
        self.path = check_target(self.given, self.inputs, option=self.option)
        self._made = self._make_parents(self.path.parent)
        self._lock = Lock(self.path.parent / f".{self.path.name}.lock", self.path)
        try:
            self._lock.acquire()
            self._clean_leftovers()
            self._check_existing()
            self._check_removable()
            self._check_space()
            try:
                stage = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.partial-", dir=self.path.parent))
            except OSError as exc:
                raise InputError(f"{self.path.parent}: cannot write in this folder ({exc.strerror}); choose an "
                                 "--out in a folder you can write to") from None
            self.stage, self._discard = stage, stage
            self._id = stage.name.rsplit("-", 1)[1]
            stage.chmod(0o755)
            self._write_marker(stage)
            _fault("staged")
        except BaseException:
            self._finish_failed()
            raise
        return self

    def _make_parents(self, parent: Path) -> list[Path]:
        missing = []
        p = parent
        while not os.path.lexists(p):
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                pass
            except OSError as exc:
                self._made = missing[missing.index(d) + 1:]
                self._remove_made()
                raise InputError(f"{d}: cannot create this folder ({exc.strerror}); choose an --out in a folder "
                                 "you can write to") from None
        if not parent.is_dir():
            raise InputError(f"{parent}: is not a folder; choose an --out in a folder")
        return missing

    def _remove_made(self) -> None:
        for d in self._made:  # deepest first; stop at the first one not empty
            try:
                d.rmdir()
            except OSError:
                break
        self._made = []

    def _check_existing(self) -> None:
        """Refuse an existing ``--out`` that is not empty unless it is siteplan's to replace."""
        p = self.path
        if not os.path.lexists(p):
            return
        if not p.is_dir():
            raise InputError(f"{p}: exists and is not a folder; give a new folder")
        if not [e for e in p.iterdir() if not is_junk(e)]:
            return
        kind, files = written_by(p)
        if kind is None:
            names = sorted(e.name for e in p.iterdir() if not is_junk(e))
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            raise InputError(f"{p}: the folder exists, is not empty ({', '.join(names[:5])}{more}) and was not "
                             f"written by siteplan (it has no {MARKER} marker or siteplan manifest.json); siteplan "
                             f"replaces its output folder as a whole, so it will not use this one{self._even()}: "
                             f"{self._elsewhere()}")
        if kind != self.kind:
            raise InputError(f"{p}: was written by {COMMANDS.get(kind, f'siteplan ({kind})')}, not {COMMANDS[self.kind]}; "
                             "--overwrite replaces only an output of the same command: choose another folder")
        if files is None:
            raise InputError(f"{p}: was written by an older siteplan that recorded no list of the files it wrote, "
                             "so siteplan cannot tell its files from yours and will not replace the folder"
                             f"{self._even()}: move what you keep out of it "
                             "and delete it, or choose a new folder")
        foreign = foreign_files(p, files)
        if foreign:
            more = f" and {len(foreign) - 8} more" if len(foreign) > 8 else ""
            raise InputError(f"{p}: holds files siteplan did not write ({', '.join(foreign[:8])}{more}); "
                             "replacing the folder would delete them: move them out (viewer sidecars such as "
                             f"x.tif.aux.xml too: siteplan deletes only the files its marker lists); or "
                             f"{self._elsewhere()}")
        if not self.overwrite:
            raise InputError(f"{p}: the output folder exists and is not empty; pass --overwrite to replace it")

    def _elsewhere(self) -> str:
        if self.kind == "export":
            return "move them out, or choose another --gpkg name (the rasters go into NAME_suitability/) or --no-rasters"
        return "choose a new or empty folder"

    def _even(self) -> str:
        return " even with --overwrite" if self.overwrite and self.kind != "export" else ""

    def _check_removable(self) -> None:
        """The old output is removed after the swap: refuse early if it cannot be."""
        if not os.path.lexists(self.path):
            return
        for folder, _dirs, _files in os.walk(self.path):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise InputError(f"{folder}: is read-only, so the old output in {self.path} could not be removed "
                                 "once replaced: make it writable or choose another --out")

    def _check_space(self) -> None:
        if self.estimate_bytes <= 0:
            return
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            return
        if free < self.estimate_bytes:
            raise InputError(f"{self.path.parent}: only {_mb(free)} free on its disk, and this command writes "
                             f"about {_mb(self.estimate_bytes)}; free some space or choose an --out on another disk")

    def _clean_leftovers(self) -> None:
        """Remove staging and old folders of killed runs (the lock is held, so their writers are gone)."""
        parent, name = self.path.parent, self.path.name
        pat = re.compile(re.escape(f".{name}.") + r"(partial|old)-([A-Za-z0-9_]+)")
        olds: list[Path] = []
        for e in sorted(os.scandir(parent), key=lambda e: e.name):
            m = pat.fullmatch(e.name)
            if m is None or not e.is_dir(follow_symlinks=False):
                continue
            p = Path(e.path)
            if not made_by_siteplan(p):
                log.warning("%s: left alone, it does not look like a folder siteplan made; remove it by hand if "
                            "nothing uses it", p)
            elif m.group(1) == "old":
                olds.append(p)
            else:
                log.info("removing %s, left by a run that was killed", p)
                shutil.rmtree(p, ignore_errors=True)
        if olds and not os.path.lexists(self.path):
            def created(p: Path) -> str:
                return str((read_marker(p) or {}).get("created_utc", "")) + f"{p.stat().st_mtime:020.6f}"

            newest = max(olds, key=created)
            newest.rename(self.path)
            fsync_dir(parent)
            olds.remove(newest)
            log.warning("%s: restored the previous output from %s (a run was killed while replacing it)",
                        self.path, newest.name)
        for p in olds:
            log.info("removing %s, left by a run that was killed", p)
            shutil.rmtree(p, ignore_errors=True)

    def _write_marker(self, folder: Path, files: list[str] | None = None) -> None:
        data: dict[str, Any] = {"siteplan": __version__, "kind": self.kind, "name": self.path.name,
                                "pid": os.getpid(), "host": socket.gethostname(), "created_utc": _utc_now()}
        if files is not None:
            data["files"] = files
        tmp = folder / (MARKER + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(folder / MARKER)

    # -- leaving ---------------------------------------------------------------------------------

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Put the staging folder in place when the block succeeded, else remove it; release the lock."""
        if exc is None:
            try:
                self._commit()
            except BaseException as err:
                self._finish_failed()
                if disk_full(err) and not self._swapped:
                    raise self._disk_full_error() from err
                raise
            self._finish(failed=False)
            return
        self._finish_failed()
        if disk_full(exc):
            raise self._disk_full_error() from exc

    def _disk_full_error(self) -> InputError:
        try:
            free = f" ({_mb(shutil.disk_usage(self.path.parent).free)} free)"
        except OSError:
            free = ""
        return InputError(f"disk full while writing {self.path}{free}; nothing was changed under --out: free some "
                          "space or choose an --out on another disk")

    def _commit(self) -> None:
        stage, out, parent = self.stage, self.path, self.path.parent
        self._write_marker(stage, [f for f in folder_files(stage) if f != MARKER])
        fsync_tree(stage)
        _fault("written")
        self._check_existing()  # again, under the lock: something may have appeared meanwhile
        if not os.path.lexists(out):
            with signals_deferred():
                try:
                    stage.rename(out)
                except OSError as exc:
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    raise InputError(f"{out}: a folder appeared there during the run; nothing was changed under "
                                     "--out: run again") from None
                self._discard, self._swapped = None, True
                interrupts.settle()  # the output is in place: a later signal must not call the run interrupted
            fsync_dir(parent)
            _fault("swapped")
            return
        with signals_deferred():
            if exchange(stage, out):
                self._discard, self._swapped = stage, True  # the staging folder now holds the old output
            else:
                old = parent / f".{out.name}.old-{self._id}"
                out.rename(old)
                try:
                    _fault("moved-old")
                    stage.rename(out)
                except BaseException:
                    with contextlib.suppress(OSError):
                        old.rename(out)
                    raise
                self._discard, self._swapped = old, True
            interrupts.settle()  # the output is in place: a later signal must not call the run interrupted
        fsync_dir(parent)
        _fault("swapped")

    def _finish_failed(self) -> None:
        """:meth:`_finish` of a failed or interrupted run, with Ctrl-C and SIGTERM held until it is done (a
        second one would stop the removal half-way and leave part of the staging folder behind)."""
        with signals_deferred():
            self._finish(failed=True)

    def _finish(self, *, failed: bool) -> None:
        """Remove the staging (or old) folder, release the lock and, on failure, the parents we made."""
        try:
            if self._discard is not None and os.path.lexists(self._discard):
                shutil.rmtree(self._discard, ignore_errors=True)
                if os.path.lexists(self._discard):
                    log.warning("%s: could not be removed; the next run into %s removes it", self._discard, self.path)
            self._discard = None
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if failed:
                self._remove_made()
