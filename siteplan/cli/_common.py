"""What every command shares: logging, the error handler, interrupts, terminal-safe printing and the
options of the commands that write a run."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click

from ..common import interrupts
from ..common.textnorm import printable, printable_json
from ..errors import SiteplanError

log = logging.getLogger("siteplan")


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped (a message may quote names from the data)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _setup_logging(*, quiet: bool, verbose: int) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(message)s" if level > logging.DEBUG else "%(name)s: %(message)s"))
    root = logging.getLogger("siteplan")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(capture=True)
    warnings.filterwarnings("ignore", category=RuntimeWarning)


def echo(text: object = "", *, err: bool = False) -> None:
    """Print a line that may hold text from the data, control characters escaped
    (:func:`siteplan.common.textnorm.printable`)."""
    click.echo(printable(text), err=err)


def echo_json(data: object) -> None:
    """Print data as indented JSON (UTF-8 kept), terminal-safe and still valid JSON
    (:func:`siteplan.common.textnorm.printable_json`)."""
    click.echo(printable_json(json.dumps(data, ensure_ascii=False, indent=1)))


def echo_table(text: str) -> None:
    """Print machine-readable text (CSV) as it is into a file or pipe; on a terminal, with control
    characters escaped (as GNU ``ls`` does with file names)."""
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        click.echo(printable(text), nl=False)
    else:
        click.echo(text, nl=False, color=True)  # color=True: click would strip ANSI sequences from the data


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``siteplan catalogue | head``): end quietly, as a Unix tool
    killed by SIGPIPE would (exit 141, no message). stdout is pointed at /dev/null so that Python's
    final flush does not raise again (the recipe of the Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (e.g. captured in tests)
    sys.exit(141)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn siteplan errors into one clear message and exit 1; unexpected errors too, without a
    traceback unless --debug. Interrupts go on to the root command (exit 130 or 143); a closed
    stdout ends quietly with 141."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = ctx.find_root().params.get("debug", False)
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a closed stdout shows here, not at interpreter exit
        except BrokenPipeError:
            _quiet_broken_pipe()
        except SiteplanError as exc:
            if debug:
                raise
            for w in getattr(exc, "warnings", []):  # what was read before the errors (excluded rows …)
                echo(f"warning: {w!s}", err=True)
            echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # the command line's boundary: a bug, said plainly
            if debug:
                raise
            echo(f"error: internal error ({type(exc).__name__}: {exc}); run with --debug for the "
                 "traceback and report it", err=True)
            sys.exit(1)
        else:
            return result
        return None

    return wrapper


_Terminated = interrupts.Terminated  # SIGTERM, raised like Ctrl-C so that every clean-up (``finally``) runs


class _Group(click.Group):
    """The root command: SIGTERM is handled like SIGINT; both end with "interrupted" on stderr and
    the shell's usual status (130 for Ctrl-C, 143 for SIGTERM) instead of click's "Aborted!"."""

    #: run as the process's command (``siteplan ...``, ``python -m siteplan``), not embedded (``CliRunner``)
    _process = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The process's command line: signals after the command ended are ignored until the process exits."""
        self._process = True
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self._process = False  # a later embedded use (CliRunner) restores the caller's handlers again

    def invoke(self, ctx: click.Context) -> Any:
        interrupts.reset()
        previous: dict[signal.Signals, Any] = {}
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                if signal.getsignal(sig) is signal.SIG_IGN:
                    continue  # ignored by whoever started us (`cmd &` in a script): kept ignored
                previous[sig] = signal.signal(sig, interrupts.handler)  # noted too: raised again if swallowed
        except ValueError:  # not the main thread (embedded use)
            pass
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            interrupts.settle()  # a second Ctrl-C while saying so changes nothing
            click.echo("interrupted", err=True)
            ctx.exit(143 if isinstance(exc, _Terminated) else 130)
        finally:
            for sig, h in previous.items():
                # the process exits next: a late signal would kill it (-2, -15) after its work was done
                signal.signal(sig, signal.SIG_IGN if self._process else (h if h is not None else signal.SIG_DFL))


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--seed, --overwrite and a local --quiet: the options of the commands that write a run."""
    fn = click.option("--seed", type=int, default=None, help="Random seed (overrides the scenario's).")(fn)
    fn = click.option("--overwrite", is_flag=True,
                      help="Replace an output folder that a previous siteplan run wrote.")(fn)
    return click.option("--quiet", "-q", "quiet_local", is_flag=True, help="Silence progress messages.")(fn)
