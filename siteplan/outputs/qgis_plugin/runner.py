"""Running siteplan in a subprocess from QGIS: its log lines become Processing feedback, its stages
the progress bar, and Cancel stops it.

The command is in ``siteplan.json`` beside this module (written when the plugin was built: the Python
that built it, ``-m siteplan``, and where that siteplan lives); the environment variable
``SITEPLAN_COMMAND`` (a command line, e.g. ``/opt/siteplan/bin/siteplan``) replaces it. QGIS's own
Python settings (``PYTHONPATH``, ``PYTHONHOME``) are not passed on: siteplan runs in its own Python.
"""

import json
import os
import queue
import shlex
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

#: siteplan's stages in order (as its log lines name them): the progress bar follows them
STAGES = ("load", "classify", "rules", "suitability", "estates", "clusters", "allocate", "zoning", "locate",
          "programme", "write")


class SiteplanFailed(Exception):
    """siteplan exited with an error (its message is the exception's)."""


class Cancelled(Exception):
    """The user cancelled; siteplan was stopped."""


def command() -> Tuple[List[str], Dict[str, str]]:
    """The command that runs siteplan and the environment to run it in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUTF8"] = "1"
    override = os.environ.get("SITEPLAN_COMMAND", "").strip()
    if override:
        return shlex.split(override), env
    cfg_file = Path(__file__).with_name("siteplan.json")
    cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
    cmd = [str(c) for c in cfg.get("command", ["siteplan"])]
    if cfg.get("pythonpath"):
        env["PYTHONPATH"] = str(cfg["pythonpath"])
    return cmd, env


def _progress(line: str, feedback: Any, progress: Optional[Tuple[float, float]]) -> None:
    """Move the progress bar when ``line`` says a stage started or ended (``stage NAME …``)."""
    words = line.split()
    if progress is None or "stage" not in words or words.index("stage") + 1 >= len(words):
        return
    st = words[words.index("stage") + 1]
    if st in STAGES:
        k = STAGES.index(st) + (1 if "done" in words else 0)
        feedback.setProgress(progress[0] + (progress[1] - progress[0]) * k / len(STAGES))


def _close(proc: "subprocess.Popen[str]") -> None:
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _stop(proc: "subprocess.Popen[str]") -> None:
    """Terminate siteplan (kill it when it has not stopped after 5 s)."""
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _pumps(proc: "subprocess.Popen[str]", lines: "queue.Queue[Tuple[str, Optional[str]]]") -> List[threading.Thread]:
    """Threads that put each line of siteplan's output and error streams on ``lines`` (None at the end)."""
    def pump(stream: Any, name: str) -> None:
        for line in stream:
            lines.put((name, line.rstrip("\n")))
        lines.put((name, None))

    threads = [threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True)]
    for t in threads:
        t.start()
    return threads


def _cancel(proc: "subprocess.Popen[str]", threads: List[threading.Thread]) -> None:
    """Stop siteplan and raise :class:`Cancelled`."""
    _stop(proc)
    for t in threads:
        t.join(2)  # the pipes reach their end once siteplan has stopped
    _close(proc)
    raise Cancelled("cancelled: siteplan was stopped")


def _show(name: str, line: str, feedback: Any, progress: Optional[Tuple[float, float]],
          on_line: Optional[Callable[[str], None]]) -> None:
    """A line of siteplan's: a logged one shown in ``feedback`` (and the bar moved), every one to ``on_line``."""
    if name == "err" and feedback is not None:
        feedback.pushInfo(line)
        _progress(line, feedback, progress)
    if on_line is not None:
        on_line(line)


def run(args: List[str], feedback: Any, progress: Optional[Tuple[float, float]] = None,
        on_line: Optional[Callable[[str], None]] = None) -> str:
    """Run ``siteplan ARGS``; return its standard output.

    Each line it logs is shown in ``feedback`` (``pushInfo``; errors with ``reportError``). When
    ``progress`` is ``(start, end)`` (percent), the bar moves from ``start`` to ``end`` over the run's
    stages. Cancel (``feedback.isCanceled()``) terminates siteplan (then kills it after 5 s) and raises
    :class:`Cancelled`; a non-zero exit raises :class:`SiteplanFailed` with siteplan's message.
    """
    cmd, env = command()
    lines: queue.Queue[Tuple[str, Optional[str]]] = queue.Queue()
    try:
        proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace")
    except OSError as e:
        raise SiteplanFailed(f"cannot start siteplan ({' '.join(cmd)}): {e}; set SITEPLAN_COMMAND to the siteplan "
                             "command, or rebuild the plugin with `siteplan qgis-plugin` from the siteplan to use") from None
    threads = _pumps(proc, lines)
    out: List[str] = []
    err: List[str] = []
    open_streams = 2
    while open_streams:
        if feedback is not None and feedback.isCanceled():
            _cancel(proc, threads)
        try:
            name, line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if line is None:
            open_streams -= 1
            continue
        (out if name == "out" else err).append(line)
        _show(name, line, feedback, progress, on_line)
    while proc.poll() is None:
        time.sleep(0.05)
    _close(proc)
    if proc.returncode != 0:
        msg = "\n".join(x for x in err if x.strip()) or f"siteplan exited with status {proc.returncode}"
        raise SiteplanFailed(msg)
    return "\n".join(out)
