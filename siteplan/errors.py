"""Exceptions and warnings of siteplan.

One root exception, :class:`SiteplanError`; its subclasses also inherit a built-in so callers can catch
them the usual way. A warning is a :class:`Notice` record (a stable code, the message, its counts);
:mod:`siteplan.common.notice` has the helpers that make and render them.
The CLI turns any :class:`SiteplanError` into one clear message and exit status 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType


@dataclass(frozen=True)
class Notice:
    """One warning: what kind it is, what it says, and the counts it names.

    Parameters
    ----------
    code
        A stable short code of the warning's kind (``rows-excluded``, ``value-defaulted`` ...); the same
        site always gives the same code, whatever the data.
    message
        The warning as written for people (English; it names the layer, rows and what to do).
    counts
        The numbers the message states, by name (``{"features": 3}``); empty when it states none.
    """

    code: str
    message: str
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        """Freeze the counts (a read-only copy), so that a notice cannot change after it is made."""
        object.__setattr__(self, "counts", MappingProxyType({k: int(v) for k, v in self.counts.items()}))

    def __str__(self) -> str:
        """The message, as written."""
        return self.message

    def __reduce__(self) -> tuple[type[Notice], tuple[str, str, dict[str, int]]]:
        """Pickle as code, message and a plain dict of the counts (a read-only mapping view cannot be
        pickled; a run's results are pickled to share them between processes)."""
        return (Notice, (self.code, self.message, dict(self.counts)))

    def prefixed(self, prefix: str) -> Notice:
        """The same notice said of one part of a larger whole (``"<file>: "`` before the message)."""
        return replace(self, message=prefix + self.message)


class SiteplanError(Exception):
    """Root of every error siteplan raises on purpose."""


class InputError(SiteplanError, ValueError):
    """A problem with the user's input (scenario, layer, field, row).

    Parameters
    ----------
    problems
        One message per problem; each names the file, layer, row or key and what to do.

    Attributes
    ----------
    warnings
        Warnings of what was read before the problems were found (rows excluded, repairs, notes); the
        CLI prints them before the error, so that fixing the errors reveals nothing that was known.
    """

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.warnings: list[Notice] = []
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        lines = [f"{len(self.problems)} problems:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ScenarioError(InputError):
    """The scenario file is invalid; every problem names its key path.

    Parameters
    ----------
    problems
        One message per problem, each starting with the key path (e.g. ``allocation.reach_km``) and
        saying what is wrong and what to write instead.
    """


class InfeasibleError(SiteplanError, RuntimeError):
    """A model cannot meet its targets; the message says which target failed and by how much."""


class SolverError(SiteplanError, RuntimeError):
    """An optimization solver failed on a model built from valid input (status and message included);
    not the user's input at fault, so not an :class:`InputError`."""


class SafetyNetError(SolverError):
    """A solver step ran into its wall-clock safety net (``allocation.time_limit_s``) before its
    deterministic work limit (nodes, passes, moves) ended it.

    Where it stopped would depend on the machine's speed and load, so siteplan stops with this error
    rather than give an answer that another run of the same inputs might not reproduce.
    """


class SiteplanWarning(UserWarning):
    """Warnings users can filter: repaired geometries, excluded rows, assumptions used."""
