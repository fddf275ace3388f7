"""File-system primitives of the output folder (:mod:`siteplan.outputs.outdir`): an exclusive lock file that
names its holder, an atomic exchange of two folders, fsync of a tree, interrupts held during a swap, and
recognising a full disk. Platform differences live here."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError


def _stat(p: Path) -> os.stat_result | None:
    try:
        return p.stat()
    except OSError:
        return None


__all__ = ["Lock", "exchange", "fsync_dir", "fsync_tree", "signals_deferred", "disk_full", "input_file_problem",
           "MAX_TABLE_BYTES", "MAX_SHEET_BYTES", "MAX_TEXT_BYTES"]


# ------------------------------------------------------------------------------------------------
# input files
# ------------------------------------------------------------------------------------------------

#: Largest CSV/TSV table siteplan reads (its rows are parsed into memory, about ten times the file).
MAX_TABLE_BYTES = 1024**3
#: Largest spreadsheet (.xlsx, .ods) siteplan reads (compressed XML: its cells take far more memory).
MAX_SHEET_BYTES = 200 * 1024**2
#: Largest small text input read whole (a scenario file, a .cpg, a catalogue).
MAX_TEXT_BYTES = 64 * 1024**2

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_LIMITS = {".csv": MAX_TABLE_BYTES, ".tsv": MAX_TABLE_BYTES, ".txt": MAX_TABLE_BYTES, ".xlsx": MAX_SHEET_BYTES,
           ".xlsm": MAX_SHEET_BYTES, ".ods": MAX_SHEET_BYTES, ".xls": MAX_SHEET_BYTES, ".yaml": MAX_TEXT_BYTES,
           ".yml": MAX_TEXT_BYTES, ".cpg": MAX_TEXT_BYTES}


def input_file_problem(path: str | Path, limit: int | None = None) -> str | None:
    """Why an input path cannot be read as a file, checked without opening it (None when it can).

    A FIFO, a device (``/dev/zero``, ``/dev/random``) or a socket, directly or through a symbolic link,
    would block the reader or feed it without end; a table or small text file larger than siteplan's
    limit for its kind (:data:`MAX_TABLE_BYTES`, :data:`MAX_SHEET_BYTES`, :data:`MAX_TEXT_BYTES`, or
    ``limit``) would exhaust memory. Folders (a File Geodatabase) and missing paths are left to the caller.

    Parameters
    ----------
    path
        The input path (a symbolic link is followed).
    limit
        The size limit in bytes; by default the limit of the file's kind (none for GIS formats).

    Returns
    -------
    str or None
        ``"is a FIFO (named pipe), not a regular file"``, ``"is 3.2 GiB, above ..."``, or None.
    """
    try:
        st = Path(path).stat()
    except OSError:
        return None
    for test, what in _KINDS:
        if test(st.st_mode):
            return f"is {what}, not a regular file; siteplan reads only regular files: give the path of the file itself"
    if not stat.S_ISREG(st.st_mode):
        return None
    cap = limit if limit is not None else _LIMITS.get(Path(path).suffix.lower())
    if cap is not None and st.st_size > cap:
        return (f"is {st.st_size / 1024**2:,.0f} MiB, above siteplan's limit of {cap / 1024**2:,.0f} MiB for a "
                f"{Path(path).suffix.lower() or 'text'} file; save a large layer as a GeoPackage or shapefile "
                "(read without holding the text), or check that this is the right file")
    return None


# ------------------------------------------------------------------------------------------------
# lock
# ------------------------------------------------------------------------------------------------


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)  # lock a byte past the pid, which stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Lock:
    """An exclusive, non-blocking lock file that names its holder's pid."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = path, target
        self.fd: int | None = None

    def _check_ours(self) -> None:
        """Refuse a file at the lock's place that siteplan did not write (a lock holds only a pid)."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            return  # refused below, without following it
        content = b""
        if stat.S_ISREG(st.st_mode) and st.st_size <= 64:
            with contextlib.suppress(OSError), self.path.open("rb") as fh:
                content = fh.read(64)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 64 or re.fullmatch(rb"\d*\n?", content) is None:
            raise InputError(f"{self.path}: siteplan locks {self.target.name} with this file, but it is not a lock "
                             "siteplan wrote (it holds something else); move it away or choose another --out")

    def acquire(self) -> None:
        """Take the lock (never through a symbolic link), writing this process's pid into it.

        Raises
        ------
        InputError
            Another run holds it, the folder cannot be written, or the lock file is not siteplan's.
        """
        self._check_ours()
        for _ in range(20):
            try:  # never through a symbolic link: the file is truncated
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except OSError as exc:
                if self.path.is_symlink():
                    raise InputError(f"{self.path}: the lock file is a symbolic link, which siteplan does not "
                                     "follow; remove it") from None
                raise InputError(f"{self.path.parent}: cannot write in this folder ({exc.strerror}); siteplan "
                                 f"writes {self.target.name} and a staging folder there: choose an --out in a "
                                 "folder you can write to") from None
            if not _try_lock(fd):
                try:
                    os.lseek(fd, 0, os.SEEK_SET)
                    pid = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                finally:
                    os.close(fd)
                raise InputError(f"another siteplan run is writing to {self.target} (pid {pid}); wait for it "
                                 "to finish, or choose another --out")
            # the file may have been removed by its last holder between our open and lock: retry
            st = _stat(self.path)
            if st is None or not os.path.samestat(st, os.fstat(fd)):
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            self.fd = fd
            return
        raise InputError(f"{self.path}: could not take the lock (it keeps being replaced); try again")

    def release(self) -> None:
        """Remove the lock file and let it go (nothing when it is not held)."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it, so no one else holds a removed file
        os.close(self.fd)
        self.fd = None


# ------------------------------------------------------------------------------------------------
# swap
# ------------------------------------------------------------------------------------------------


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths of one folder; False where the platform or file system cannot."""
    args: tuple[Any, ...]
    if sys.platform.startswith("linux"):
        name, args = "renameat2", (-100, os.fsencode(a), -100, os.fsencode(b), 2)  # AT_FDCWD, RENAME_EXCHANGE
    elif sys.platform == "darwin":  # pragma: no cover - macOS
        name, args = "renamex_np", (os.fsencode(a), os.fsencode(b), 2)  # RENAME_SWAP
    else:  # pragma: no cover - Windows and others
        return False
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - an old C library
        return False
    if fn(*args) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries to disk (no-op on Windows), so a rename inside it survives a power cut."""
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot sync a folder
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk."""
    for folder, _dirs, files in os.walk(root):
        for f in files:
            fd = os.open(Path(folder, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM during a few renames, so an interrupt cannot split the swap."""
    got: list[int] = []
    old: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, lambda n, _f: got.append(n))
    except ValueError:  # not the main thread: signals are not ours to handle
        for sig, h in old.items():
            signal.signal(sig, h)
        yield
        return
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h if h is not None else signal.SIG_DFL)
        for n in got[:1]:
            h = old[signal.Signals(n)]
            if callable(h):
                h(n, None)
            elif h != signal.SIG_IGN:
                os.kill(os.getpid(), n)


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it was raised from means the disk or the user's quota is full."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
